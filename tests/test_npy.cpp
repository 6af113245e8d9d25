// Tests of the .npy reader and writer: round trips, numpy-written files, and every malformed case.
#include <doctest/doctest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "normviz/error.hpp"
#include "normviz/npy.hpp"

namespace fs = std::filesystem;
using normviz::NormError;
using normviz::NpyDtype;
using normviz::NpyLimits;
using normviz::Shape;
using normviz::TensorD;

// This test binary refuses any single allocation above 64 MiB (allocation_cap.hpp).
#include "allocation_cap.hpp"

namespace {

const std::string kNpyDir = std::string(NORMVIZ_TEST_DATA) + "/npy/";

// A .npy file from parts: version, header dict text (padded to 64 with spaces + '\n' unless raw),
// and data bytes.
std::vector<uint8_t> npyFile(const std::string& dict, const std::string& data = "", int major = 1,
                             int minor = 0, bool pad = true) {
  std::string header = dict;
  const size_t preamble = major == 1 ? 10 : 12;
  if (pad) {
    header.append((64 - (preamble + header.size() + 1) % 64) % 64, ' ');
    header += '\n';
  }
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += static_cast<char>(minor);
  const size_t n = header.size();
  for (size_t i = 0; i < preamble - 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  out += header;
  out += data;
  return {out.begin(), out.end()};
}

std::string f32Bytes(std::initializer_list<float> values) {
  std::string s;
  for (float v : values) {
    const auto bits = std::bit_cast<uint32_t>(v);
    for (int i = 0; i < 4; ++i) s += static_cast<char>((bits >> (8 * i)) & 0xff);
  }
  return s;
}

std::string dict(const std::string& descr, const std::string& shape,
                 const std::string& fortran = "False") {
  return "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
}

std::vector<uint8_t> asBytes(const std::string& s) {
  return {s.begin(), s.end()};
}

// The NormError message parseNpy throws, or "" if it does not throw.
std::string parseError(const std::vector<uint8_t>& bytes, const NpyLimits& limits = {}) {
  try {
    normviz::parseNpy(bytes, limits);
  } catch (const NormError& e) {
    return e.what();
  }
  return "";
}

std::string readError(const std::string& path) {
  try {
    normviz::readNpy(path);
  } catch (const NormError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A fresh directory under the system temp dir, removed at scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("normviz-test-npy-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

TensorD ramp(Shape shape, double scale, double offset) {
  TensorD t(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<double>(i) * scale + offset;
  return t;
}

bool sameBits(const TensorD& a, const TensorD& b) {
  return a.shape == b.shape && a.data.size() == b.data.size() &&
         (a.data.empty() ||
          std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(double)) == 0);
}

}  // namespace

TEST_CASE(
    "toNpyBytes writes numpy's 1.0 layout: header padded to a multiple of 64 bytes, then the "
    "data") {
  const TensorD t(Shape{5}, {1, 2, 3, 4, 5});
  const std::string b = normviz::toNpyBytes(t, NpyDtype::Float32);
  REQUIRE(b.size() == 128 + 5 * 4);
  CHECK(b.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  CHECK(static_cast<uint8_t>(b[8]) == 128 - 10);
  CHECK(b[9] == 0);
  const std::string header = b.substr(10, 118);
  CHECK(header.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", 0) == 0);
  CHECK(header.back() == '\n');
  CHECK(b.substr(128) == f32Bytes({1, 2, 3, 4, 5}));

  const std::string b4 = normviz::toNpyBytes(TensorD(Shape{2, 1, 3, 1}, 0.0), NpyDtype::Float64);
  CHECK(contains(b4, "'descr': '<f8'"));
  CHECK(contains(b4, "'shape': (2, 1, 3, 1), }"));
  CHECK(b4.size() == 128 + 6 * 8);
}

TEST_CASE("round trips through bytes keep every value and shape, ranks 1 to 4") {
  for (const Shape& shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 4}, Shape{3, 4, 2, 2}}) {
    CAPTURE(shape.dims.size());
    // Quarters are exact in float32, so both dtypes must round-trip bit for bit.
    const TensorD t = ramp(shape, 0.25, -3.0);
    for (NpyDtype dtype : {NpyDtype::Float32, NpyDtype::Float64}) {
      const std::string bytes = normviz::toNpyBytes(t, dtype);
      const TensorD back = normviz::parseNpy(asBytes(bytes));
      CHECK(sameBits(back, t));
    }
  }
  SUBCASE("float64 keeps NaN, infinities, signed zero and denormals bit for bit") {
    const double values[] = {
        std::numeric_limits<double>::quiet_NaN(),  std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity(),  -0.0,
        std::numeric_limits<double>::denorm_min(), 0.1};
    const TensorD t(Shape{6}, std::vector<double>(std::begin(values), std::end(values)));
    CHECK(sameBits(normviz::parseNpy(asBytes(normviz::toNpyBytes(t, NpyDtype::Float64))), t));
  }
  SUBCASE("float32 rounds each value to nearest") {
    const TensorD t(Shape{3}, {0.1, 1.0 / 3.0, 1e-50});
    const TensorD back = normviz::parseNpy(asBytes(normviz::toNpyBytes(t, NpyDtype::Float32)));
    CHECK(back[0] == static_cast<double>(0.1f));
    CHECK(back[1] == static_cast<double>(1.0f / 3.0f));
    CHECK(back[2] == 0.0);
  }
}

TEST_CASE("writeNpy writes atomically and readNpy/readNpyF32 read it back") {
  TempDir dir;
  const std::string path = dir / "t.npy";
  const TensorD t = ramp(Shape{2, 3}, 0.5, 1.0);
  normviz::writeNpy(path, t, NpyDtype::Float64);
  CHECK(sameBits(normviz::readNpy(path), t));
  const normviz::Tensor f = normviz::readNpyF32(path);
  CHECK(f.shape == t.shape);
  CHECK(f.data == normviz::TensorData<float>{1.0f, 1.5f, 2.0f, 2.5f, 3.0f, 3.5f});

  // Overwriting replaces the file; no temporary file is left beside it.
  const TensorD u = ramp(Shape{4}, -1.0, 0.0);
  normviz::writeNpy(path, u, NpyDtype::Float32);
  CHECK(sameBits(normviz::readNpy(path), u));
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);
}

TEST_CASE("writeNpy names the path when it cannot write") {
  TempDir dir;
  const TensorD t(Shape{2}, {1, 2});
  SUBCASE("missing directory") {
    const std::string path = dir / "no-such-dir/y.npy";
    try {
      normviz::writeNpy(path, t, NpyDtype::Float32);
      FAIL("writeNpy into a missing directory did not throw");
    } catch (const NormError& e) {
      CHECK(contains(e.what(), path));
      CHECK(contains(e.what(), "does not exist"));
    }
    CHECK(!fs::exists(dir.path / "no-such-dir"));
  }
  SUBCASE("the target is a directory") {
    fs::create_directory(dir.path / "sub");
    const std::string path = dir / "sub";
    try {
      normviz::writeNpy(path, t, NpyDtype::Float32);
      FAIL("writeNpy over a directory did not throw");
    } catch (const NormError& e) {
      CHECK(contains(e.what(), path));
    }
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir.path)) {
      (void)e;
      ++files;
    }
    CHECK(files == 1);  // only "sub": the temporary file was removed
  }
  SUBCASE("read-only directory") {
    if (::geteuid() == 0) return;  // root writes anywhere; the permission check cannot fail
    fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
    const std::string path = dir / "y.npy";
    try {
      normviz::writeNpy(path, t, NpyDtype::Float32);
      FAIL("writeNpy into a read-only directory did not throw");
    } catch (const NormError& e) {
      CHECK(contains(e.what(), path));
      CHECK(contains(e.what(), "ermission denied"));
    }
  }
}

TEST_CASE("readNpy names the path of a missing or malformed file") {
  TempDir dir;
  CHECK(contains(readError(dir / "missing.npy"), dir / "missing.npy"));
  CHECK(contains(readError(dir / "missing.npy"), "cannot open"));
  CHECK(contains(readError(dir.path.string()), "is a directory"));
  const std::string garbage = dir / "garbage.npy";
  std::ofstream(garbage) << "not numpy at all";
  const std::string err = readError(garbage);
  CHECK(contains(err, garbage));
  CHECK(contains(err, "bad magic"));
}

TEST_CASE("files written by numpy: versions 1.0, 2.0, 3.0, ranks 0 to 4") {
  SUBCASE("1.0 float32 (2, 3, 4)") {
    const TensorD t = normviz::readNpy(kNpyDir + "v1_f4_2x3x4.npy");
    CHECK(sameBits(t, ramp(Shape{2, 3, 4}, 0.25, 0.0)));
  }
  SUBCASE("2.0 float64 (3, 4)") {
    const TensorD t = normviz::readNpy(kNpyDir + "v2_f8_3x4.npy");
    REQUIRE(t.shape == Shape{3, 4});
    for (int i = 0; i < 12; ++i) CHECK(t[i] == static_cast<double>(i) * 0.1);
  }
  SUBCASE("3.0 (UTF-8 header) float32 (5,)") {
    const TensorD t = normviz::readNpy(kNpyDir + "v3_f4_5.npy");
    CHECK(sameBits(t, ramp(Shape{5}, 1.0, -2.0)));
  }
  SUBCASE("rank 4") {
    CHECK(sameBits(normviz::readNpy(kNpyDir + "f4_rank4_2x3x2x2.npy"),
                   ramp(Shape{2, 3, 2, 2}, 1.0, -12.0)));
  }
  SUBCASE("rank 0 (a scalar) reads as shape (1)") {
    const TensorD t = normviz::readNpy(kNpyDir + "f8_scalar.npy");
    CHECK(t.shape == Shape{1});
    CHECK(t.data == normviz::TensorData<double>{2.5});
  }
  SUBCASE("empty (0, 3)") {
    const TensorD t = normviz::readNpy(kNpyDir + "f4_empty_0x3.npy");
    CHECK(t.shape == Shape{0, 3});
    CHECK(t.numel() == 0);
  }
  SUBCASE("float32 specials pass through") {
    const TensorD t = normviz::readNpy(kNpyDir + "f4_special.npy");
    REQUIRE(t.numel() == 5);
    CHECK(std::isnan(t[0]));
    CHECK(t[1] == std::numeric_limits<double>::infinity());
    CHECK(t[2] == -std::numeric_limits<double>::infinity());
    CHECK((t[3] == 0.0 && std::signbit(t[3])));
    CHECK(t[4] == static_cast<double>(std::numeric_limits<float>::denorm_min()));
  }
  SUBCASE("readNpyF32 rounds float64 to nearest float32; overflow becomes inf") {
    const normviz::Tensor f = normviz::readNpyF32(kNpyDir + "f8_rounding.npy");
    REQUIRE(f.numel() == 5);
    CHECK(f[0] == 0.1f);
    CHECK(f[1] == 1.0f / 3.0f);
    CHECK(f[2] == -2.5f);
    CHECK(f[3] == 0.0f);
    CHECK(f[4] == std::numeric_limits<float>::infinity());
    const TensorD d = normviz::readNpy(kNpyDir + "f8_rounding.npy");
    CHECK(d[0] == 0.1);
    CHECK(d[3] == 1e-50);
  }
}

TEST_CASE("files written by numpy that normviz rejects, each with its reason") {
  struct Case {
    const char* file;
    const char* reason;
  };
  const Case cases[] = {
      {"big_endian_f4.npy", "big-endian ('>f4')"},
      {"big_endian_f8.npy", "big-endian ('>f8')"},
      {"fortran_f4_2x3.npy", "Fortran order"},
      {"int32.npy", "dtype '<i4' is not supported"},
      {"float16.npy", "dtype '<f2' is not supported"},
      {"complex64.npy", "dtype '<c8' is not supported"},
      {"rank5_f4.npy", "rank 5"},
      {"structured.npy", "structured dtypes"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.file);
    const std::string err = readError(kNpyDir + c.file);
    CHECK(contains(err, c.reason));
    CHECK(contains(err, kNpyDir + c.file));
  }
}

TEST_CASE("header dicts: any key order, trailing commas, quotes, Python 2 longs") {
  const std::string data = f32Bytes({1, 2, 3, 4, 5, 6});
  const char* dicts[] = {
      "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}",
      "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,3,)}",
      "{'fortran_order':False,'descr':'<f4','shape':(2L, 3L),}",
      "{ 'descr' : '<f4' , 'fortran_order' : False , 'shape' : ( 2 , 3 ) , }",
  };
  for (const char* d : dicts) {
    CAPTURE(d);
    const TensorD t = normviz::parseNpy(npyFile(d, data));
    CHECK(t.shape == Shape{2, 3});
    CHECK(t.data == normviz::TensorData<double>{1, 2, 3, 4, 5, 6});
  }
  // No padding and no newline is still a well-formed header.
  CHECK(normviz::parseNpy(npyFile(dict("<f4", "(6,)"), data, 1, 0, false)).shape == Shape{6});
  CHECK(normviz::parseNpy(npyFile(dict("<f4", "(1, 6)"), data, 2, 0)).shape == Shape{1, 6});
}

TEST_CASE("malformed bytes: each gets a specific message") {
  const std::string six = f32Bytes({1, 2, 3, 4, 5, 6});
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"empty", {}, "bad magic"},
      {"wrong magic", asBytes("\x93NUMPX\x01\x00\x00\x00"), "bad magic"},
      {"a text file", asBytes("descr,shape\n1,2\n"), "bad magic"},
      {"ends in the preamble", asBytes(std::string("\x93NUMPY\x01\x00\x10", 9)),
       "truncated .npy header"},
      {"version 4.0", npyFile(dict("<f4", "(6,)"), six, 4, 0),
       "unsupported .npy format version 4.0"},
      {"version 1.1", npyFile(dict("<f4", "(6,)"), six, 1, 1),
       "unsupported .npy format version 1.1"},
      {"header longer than the file", asBytes(std::string("\x93NUMPY\x01\x00\x40\x00{'descr'", 17)),
       "truncated .npy header"},
      {"header over the limit", asBytes(std::string("\x93NUMPY\x02\x00\x00\x00\x10\x00{", 13)),
       "header is too long"},
      {"not a dict", npyFile("['<f4', False, (6,)]", six), "must be a Python dict"},
      {"missing shape", npyFile("{'descr': '<f4', 'fortran_order': False}", six),
       "missing key 'shape'"},
      {"missing descr", npyFile("{'fortran_order': False, 'shape': (6,)}", six),
       "missing key 'descr'"},
      {"missing fortran_order", npyFile("{'descr': '<f4', 'shape': (6,)}", six),
       "missing key 'fortran_order'"},
      {"duplicate key",
       npyFile("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", six),
       "'descr' appears twice"},
      {"unknown key",
       npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", six),
       "unexpected key 'x'"},
      {"unterminated string", npyFile("{'descr: <f4}", six), "unterminated string"},
      {"unquoted key", npyFile("{descr: '<f4'}", six), "expected a quoted string"},
      {"missing colon", npyFile("{'descr' '<f4'}", six), "expected ':'"},
      {"missing comma", npyFile("{'descr': '<f4' 'fortran_order': False}", six),
       "expected ',' or '}'"},
      {"unterminated dict",
       npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (6,),", six, 1, 0, false),
       "expected a quoted string"},
      {"text after the dict", npyFile(dict("<f4", "(6,)") + " extra", six),
       "unexpected text after"},
      {"fortran_order not a bool", npyFile(dict("<f4", "(6,)", "false"), six),
       "must be True or False"},
      {"shape not a tuple", npyFile(dict("<f4", "[6]"), six), "must be a tuple"},
      {"one-dim shape without comma",
       npyFile("{'descr': '<f4', 'fortran_order': False, 'shape': (6)}", six), "written (n,)"},
      {"negative dim", npyFile(dict("<f4", "(-6,)"), six), "negative dimension"},
      {"float dim", npyFile(dict("<f4", "(2.0, 3)"), six), "expected ',' or ')'"},
      {"empty dim", npyFile(dict("<f4", "(2,,3)"), six), "expected an integer"},
      {"twenty-digit dim", npyFile(dict("<f4", "(99999999999999999999,)"), six),
       "absurd dimension"},
      {"product overflows", npyFile(dict("<f4", "(4294967296, 4294967296, 4294967296)"), six),
       "elements; refusing"},
      {"just over max_elements", npyFile(dict("<f4", "(16384, 16385)"), six), "elements; refusing"},
      // A zero dim makes no element, but dims beside it whose product overflows are still absurd.
      {"zero beside dims that overflow",
       npyFile(dict("<f4", "(2000000400000000000, 744073709551615, 0)"), ""),
       "(not counting its zero dims); refusing"},
      {"zero beside one dim over the limit", npyFile(dict("<f4", "(0, 268435457)"), ""),
       "(not counting its zero dims); refusing"},
      {"product overflows without a zero", npyFile(dict("<f4", "(3037000500, 3037000500, 2)"), six),
       "elements; refusing"},
      {"rank 5", npyFile(dict("<f4", "(1, 1, 1, 2, 3)"), six), "rank 5"},
      {"big-endian", npyFile(dict(">f4", "(6,)"), six), "big-endian"},
      {"native order", npyFile(dict("=f4", "(6,)"), six), "dtype '=f4' is not supported"},
      {"no byte order", npyFile(dict("|f4", "(6,)"), six), "dtype '|f4' is not supported"},
      {"Fortran order", npyFile(dict("<f4", "(2, 3)", "True"), six), "Fortran order"},
      {"int64", npyFile(dict("<i8", "(3,)"), six), "dtype '<i8' is not supported"},
      {"truncated data", npyFile(dict("<f4", "(7,)"), six),
       "truncated .npy data: shape (7,) of float32 needs 28"},
      {"truncated float64 data", npyFile(dict("<f8", "(2, 2)"), six), "truncated .npy data"},
      {"huge shape, no data", npyFile(dict("<f8", "(268435455,)"), ""), "truncated .npy data"},
      {"trailing garbage", npyFile(dict("<f4", "(5,)"), six), "trailing garbage"},
      {"data of the wrong size", npyFile(dict("<f8", "(2,)"), six), "needs 16 data bytes"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const std::string err = parseError(c.bytes);
    CHECK(contains(err, c.reason));
    CAPTURE(err);
  }
}

TEST_CASE("the fuzzer's reproducer: a zero dim beside dims whose product overflows int64") {
  // libFuzzer found this header (tests/fuzz/corpus/npy/zero_beside_overflow.npy): the element count
  // is 0, but the shape's other dims multiplied past int64 when the tensor was built.
  const std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': "
      "(2000000400000000000,00000000744073709551615,0000000000), }         ";
  const std::vector<uint8_t> bytes = asBytes(std::string("\x93NUMPY\x01\x00\x76\x00", 10) + header);
  REQUIRE(bytes.size() == 10 + 0x76);
  CHECK(contains(parseError(bytes), "(not counting its zero dims); refusing to read it"));
  // Empty arrays of ordinary dims still read.
  CHECK(normviz::parseNpy(npyFile(dict("<f4", "(0, 3)"), "")).shape == Shape{0, 3});
}

TEST_CASE("Shape refuses what it cannot count: negative dims, products past int64") {
  CHECK(Shape{2, 0, 3}.numel() == 0);
  CHECK(Shape{2, 0, 3}.strides() == std::vector<int64_t>{0, 3, 1});
  CHECK(Shape{}.numel() == 1);
  CHECK(normviz::checkedProduct(std::vector<int64_t>{3037000499, 3037000499}) ==
        int64_t{3037000499} * 3037000499);
  CHECK_FALSE(normviz::checkedProduct(std::vector<int64_t>{3037000500, 3037000500}));
  CHECK_FALSE(
      normviz::checkedProduct(std::vector<int64_t>{2000000400000000000, 744073709551615, 0}));
  CHECK_FALSE(normviz::checkedProduct(std::vector<int64_t>{4, -1}));
  auto error = [](const Shape& s) {
    try {
      (void)s.numel();
    } catch (const NormError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(contains(error(Shape{2000000400000000000, 744073709551615, 0}), "cannot be represented"));
  CHECK(contains(error(Shape{3, -2}), "negative dim (-2)"));
  CHECK_THROWS_AS((void)Shape({int64_t{1} << 40, int64_t{1} << 40}).strides(), NormError);
}

TEST_CASE("parseShape: one message for every shape that cannot be a tensor") {
  auto error = [](const char* text) {
    try {
      (void)normviz::parseShape(text);
    } catch (const NormError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(contains(error("2000000400000000000,744073709551615,0"), "every dim must be at least 1"));
  CHECK(contains(error("3037000500,3037000500,2"), "cannot be represented"));
  CHECK(contains(error("99999999999999999999,2"), "'99999999999999999999' is out of range"));
  CHECK(contains(error("4,-1"), "has a dim of -1"));
  CHECK(contains(error("4,x"), "'x' is not an integer"));
  CHECK(contains(error("4,,2"), "'' is not an integer"));
  CHECK(contains(error(""), "shape is empty"));
  CHECK(normviz::parseShape(" 3, 4,2 ,2") == Shape{3, 4, 2, 2});
}

TEST_CASE("limits are the caller's: elements and header bytes") {
  const std::string six = f32Bytes({1, 2, 3, 4, 5, 6});
  NpyLimits tight;
  tight.max_elements = 5;
  CHECK(contains(parseError(npyFile(dict("<f4", "(2, 3)"), six), tight), "more than 5 elements"));
  tight.max_elements = 6;
  CHECK(parseError(npyFile(dict("<f4", "(2, 3)"), six), tight).empty());
  NpyLimits short_header;
  short_header.max_header_bytes = 32;
  CHECK(contains(parseError(npyFile(dict("<f4", "(6,)"), six), short_header),
                 "header is too long: 118 bytes (limit 32)"));
}

TEST_CASE("a header claiming a huge array with a file that holds little never allocates it") {
  // 2^28 - 1 float64 is 2 GiB, under the element limit; this binary's operator new refuses
  // anything over 64 MiB, so reaching the NormError proves the bytes were counted first.
  TempDir dir;
  const std::string path = dir / "huge.npy";
  const auto bytes = npyFile(dict("<f8", "(268435455,)"), std::string(64, '\0'));
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  CHECK(contains(readError(path), "truncated .npy data"));
  try {
    normviz::readNpyF32(path);
    FAIL("readNpyF32 accepted a truncated file");
  } catch (const NormError& e) {
    CHECK(contains(e.what(), "truncated .npy data"));
  }
  CHECK_THROWS_AS((void)::operator new(normviz_test::kAllocationCap + 1), std::bad_alloc);
}
