// Tests of reading tensors from .npz and .safetensors files (and .npy through the same reader):
// numpy- and torch-written fixtures checked bit for bit, every damaged file refused with its
// reason, and each file flag of `normviz compute`.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <new>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "normviz/error.hpp"
#include "normviz/npy.hpp"
#include "normviz/tensor_file.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using normviz::NormError;
using normviz::Shape;
using normviz::StoredDtype;
using normviz::TensorFileFormat;
using normviz::TensorFileLimits;
using normviz::TensorFromFile;

// This test binary refuses any single allocation above 64 MiB (allocation_cap.hpp).
#include "allocation_cap.hpp"

namespace {

const std::string kDir = std::string(NORMVIZ_TEST_DATA) + "/tensor_files/";

using Bytes = std::vector<uint8_t>;

Bytes slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

const json& expected() {
  static const json j = [] {
    std::ifstream in(kDir + "expected.json");
    REQUIRE(in.good());
    return json::parse(in);
  }();
  return j;
}

TensorFromFile parse(const Bytes& bytes, TensorFileFormat format, const std::string& name = "",
                     const TensorFileLimits& limits = {}) {
  return normviz::parseTensorFile(bytes, format, name, limits);
}

// The message parsing throws, or "" when it succeeds.
std::string parseError(const Bytes& bytes, TensorFileFormat format, const std::string& name = "",
                       const TensorFileLimits& limits = {}) {
  try {
    parse(bytes, format, name, limits);
  } catch (const NormError& e) {
    return e.what();
  }
  return "";
}

std::string readError(const std::string& spec, const TensorFileLimits& limits = {}) {
  try {
    normviz::readTensorFile(spec, limits);
  } catch (const NormError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::vector<uint32_t> bitsOf(const normviz::Tensor& t) {
  std::vector<uint32_t> bits(t.data.size());
  std::memcpy(bits.data(), t.data.data(), bits.size() * sizeof(float));
  return bits;
}

// What make.py says numpy or torch makes of the array `label` ("stored.npz:x").
void checkAgainstExpected(const TensorFromFile& got, const std::string& label) {
  CAPTURE(label);
  const json& want = expected().at(label);
  auto dims = want["shape"].get<std::vector<int64_t>>();
  if (dims.empty()) dims = {1};  // rank 0 reads as (1)
  CHECK(got.tensor.shape == Shape(dims));
  CHECK(bitsOf(got.tensor) == want["bits"].get<std::vector<uint32_t>>());
  CHECK(normviz::storedDtypeName(got.stored) == want["dtype"].get<std::string>());
  const std::string dtype = want["dtype"];
  if (dtype == "float32") {
    CHECK(got.conversion.empty());
    CHECK(got.note().empty());
  } else if (dtype == "float64") {
    const int changed = want["changed"], overflowed = want["overflowed"];
    CHECK(contains(got.conversion, "float64, rounded to float32"));
    CHECK(contains(got.conversion, changed == 0 ? "every value exact"
                                                : std::to_string(changed) + " of " +
                                                      std::to_string(got.tensor.numel()) +
                                                      " values changed"));
    CHECK(contains(got.conversion, std::to_string(overflowed) + " beyond float32's range") ==
          (overflowed > 0));
  } else {
    CHECK(got.conversion == dtype + ", widened to float32 exactly");
  }
}

TensorFileFormat formatOf(const std::string& file) {
  return normviz::tensorFileFormat(file);
}

}  // namespace

// ---- files written by numpy and torch -----------------------------------------------------------

TEST_CASE("every fixture array reads as numpy and torch convert it, from a path and from bytes") {
  REQUIRE(expected().size() >= 20);
  for (const auto& [label, want] : expected().items()) {
    CAPTURE(label);
    const TensorFromFile from_path = normviz::readTensorFile(kDir + label);
    checkAgainstExpected(from_path, label);
    CHECK(from_path.label == kDir + label);
    if (!from_path.conversion.empty())
      CHECK(from_path.note() == kDir + label + " is " + from_path.conversion);

    const normviz::TensorFileSpec spec = normviz::splitTensorSpec(label);
    const TensorFromFile from_bytes =
        parse(slurp(kDir + spec.path), formatOf(spec.path), spec.name);
    checkAgainstExpected(from_bytes, label);
  }
}

TEST_CASE("the fixtures are what their names say: stored, deflated, zip64 local headers") {
  const Bytes stored = slurp(kDir + "stored.npz"), compressed = slurp(kDir + "compressed.npz");
  // Local header: signature, version, flags, method at offset 8.
  REQUIRE(stored.size() > 30);
  CHECK(stored[8] == 0);
  CHECK(compressed[8] == 8);
  // numpy writes force_zip64=True: a zip64 extra field (id 0x0001) in every local header.
  const size_t name_len = stored[26] | (stored[27] << 8);
  CHECK(name_len == 5);  // "h.npy", "w.npy" or "x.npy"
  CHECK((stored[28] | (stored[29] << 8)) >= 20);
  CHECK(stored[30 + name_len] == 0x01);
  CHECK(stored[30 + name_len + 1] == 0x00);
}

TEST_CASE("names: with or without .npy, the only array unnamed, a missing name lists the rest") {
  const Bytes npz = slurp(kDir + "compressed.npz");
  checkAgainstExpected(parse(npz, TensorFileFormat::Npz, "w.npy"), "compressed.npz:w");
  checkAgainstExpected(parse(npz, TensorFileFormat::Npz, "w"), "compressed.npz:w");
  checkAgainstExpected(normviz::readTensorFile(kDir + "single.npz"), "single.npz:arr_0");
  CHECK(normviz::readTensorFile(kDir + "single.npz").label == kDir + "single.npz:arr_0");
  checkAgainstExpected(normviz::readTensorFile(kDir + "single.safetensors"),
                       "single.safetensors:only");

  const std::string several = readError(kDir + "compressed.npz");
  CHECK(contains(several, kDir + "compressed.npz: "));
  CHECK(contains(several, "holds 3 arrays ('x', 'w', 'h')"));
  CHECK(contains(several, "pick one as " + kDir + "compressed.npz:NAME"));
  const std::string missing = readError(kDir + "stored.npz:y");
  CHECK(contains(missing, "no array named 'y'"));
  CHECK(contains(missing, "'x', 'w', 'h'"));
  const std::string tensors = readError(kDir + "tensors.safetensors:nope");
  CHECK(contains(tensors, "no array named 'nope'"));
  CHECK(contains(tensors, "'act', 'b', 'h', 'idx', 'scalar', 'w'"));
  CHECK(contains(readError(kDir + "tensors.safetensors"), "holds 6 arrays"));
  CHECK(contains(readError(kDir + "tensors.safetensors:idx"),
                 "tensor 'idx' has dtype I64, which is not supported"));
  CHECK(contains(parseError(slurp(kDir + "half.npy"), TensorFileFormat::Npy, "x"),
                 "a .npy file holds one array"));
}

TEST_CASE("PATH:NAME splits only after .npz or .safetensors") {
  struct Case {
    const char* spec;
    const char* path;
    const char* name;
  };
  const Case cases[] = {
      {"x.npy", "x.npy", ""},
      {"dir:with:colons/x.npy", "dir:with:colons/x.npy", ""},
      {"a.npz:x", "a.npz", "x"},
      {"a.NPZ:x.npy", "a.NPZ", "x.npy"},
      {"m.safetensors:layer.0:weight", "m.safetensors", "layer.0:weight"},
      {"c:/data/a.npz:x", "c:/data/a.npz", "x"},
      {"a.npz", "a.npz", ""},
      {"a.npz:", "a.npz", ""},
      {"x.npy:a", "x.npy:a", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.spec);
    const normviz::TensorFileSpec s = normviz::splitTensorSpec(c.spec);
    CHECK(s.path == c.path);
    CHECK(s.name == c.name);
  }
  // Where the app's Save x puts such a tensor: never over the archive.
  CHECK(normviz::npyPathBeside("dir/x.npy") == "dir/x.npy");
  CHECK(normviz::npyPathBeside("dir/d.npz:x") == "dir/d_x.npy");
  CHECK(normviz::npyPathBeside("dir/d.npz:x.npy") == "dir/d_x.npy");
  CHECK(normviz::npyPathBeside("m.safetensors") == "m.npy");
  CHECK(normviz::npyPathBeside("m.safetensors:layer/0:w") == "m_layer_0_w.npy");
  CHECK(formatOf("a.safetensors") == TensorFileFormat::Safetensors);
  CHECK(formatOf("a.npz") == TensorFileFormat::Npz);
  CHECK(formatOf("a.npy") == TensorFileFormat::Npy);
  CHECK(formatOf("weights") == TensorFileFormat::Npy);
}

TEST_CASE(".npy keeps its reader's behaviour, float16 aside") {
  // readNpy still refuses float16 (test_npy); the tensor-file reader converts it.
  checkAgainstExpected(normviz::readTensorFile(kDir + "half.npy"), "half.npy");
  const std::string npy_dir = std::string(NORMVIZ_TEST_DATA) + "/npy/";
  const TensorFromFile f = normviz::readTensorFile(npy_dir + "v1_f4_2x3x4.npy");
  CHECK(f.tensor.data == normviz::readNpyF32(npy_dir + "v1_f4_2x3x4.npy").data);
  CHECK(f.note().empty());
  const TensorFromFile d = normviz::readTensorFile(npy_dir + "f8_rounding.npy");
  CHECK(d.tensor.data == normviz::readNpyF32(npy_dir + "f8_rounding.npy").data);
  CHECK(d.note() == npy_dir +
                        "f8_rounding.npy is float64, rounded to float32 (4 of 5 values changed, 1 "
                        "beyond float32's range became infinite)");
  for (const char* file : {"big_endian_f4.npy", "big_endian_f8.npy", "fortran_f4_2x3.npy",
                           "rank5_f4.npy", "structured.npy"}) {
    CAPTURE(file);
    CHECK(readError(npy_dir + file) == [&] {
      try {
        normviz::readNpy(npy_dir + file);
      } catch (const NormError& e) {
        return std::string(e.what());
      }
      return std::string();
    }());
  }
  CHECK(contains(readError(npy_dir + "int32.npy"),
                 "dtype '<i4' is not supported; normviz reads float16 ('<f2'), float32"));
  CHECK(normviz::readTensorFile(npy_dir + "float16.npy").tensor.data ==
        normviz::TensorData<float>{0, 1, 2, 3});
  CHECK(contains(readError(kDir + "missing.npz"), "missing.npz: cannot open"));
  CHECK(contains(readError(kDir), "is a directory"));
}

// ---- damaged files ------------------------------------------------------------------------------

TEST_CASE("a file cut short anywhere is refused with a reason") {
  const std::map<std::string, std::string> files = {{"stored.npz", "x"},
                                                    {"compressed.npz", "w"},
                                                    {"big.npz", ""},
                                                    {"single.npz", ""},
                                                    {"tensors.safetensors", "b"},
                                                    {"single.safetensors", ""},
                                                    {"half.npy", ""},
                                                    {"layer.safetensors", "running_var"}};
  for (const auto& [file, name] : files) {
    const Bytes whole = slurp(kDir + file);
    REQUIRE(parseError(whole, formatOf(file), name).empty());
    for (size_t cut = 0; cut < whole.size(); ++cut) {
      CAPTURE(file);
      CAPTURE(cut);
      const Bytes part(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(cut));
      CHECK(!parseError(part, formatOf(file), name).empty());
    }
  }
  CHECK(contains(parseError(Bytes(10, 0), TensorFileFormat::Npz), "too short for a zip"));
  CHECK(contains(parseError(Bytes(100, 0), TensorFileFormat::Npz),
                 "no zip end of central directory record"));
  CHECK(contains(parseError(Bytes(5, 0), TensorFileFormat::Safetensors),
                 "fewer than the 8-byte header length"));
}

TEST_CASE("every one-byte change to an .npz is refused or changes no value") {
  // Deflate data, sizes, offsets, names, signatures: each byte flipped in turn. The CRC-32 check
  // and the size checks catch what changes the array; bytes nobody reads (time stamps, the other
  // arrays) may change freely.
  for (const char* file : {"stored.npz", "compressed.npz", "big.npz"}) {
    const std::string name = std::string(file) == "big.npz" ? "big" : "x";
    const Bytes whole = slurp(kDir + file);
    const std::string label = std::string(file) + ":" + name;
    const auto want = expected().at(label)["bits"].get<std::vector<uint32_t>>();
    int refused = 0;
    for (size_t at = 0; at < whole.size(); ++at) {
      for (uint8_t flip : {uint8_t{0xff}, uint8_t{0x01}}) {
        Bytes damaged = whole;
        damaged[at] ^= flip;
        try {
          const TensorFromFile t = parse(damaged, TensorFileFormat::Npz, name);
          CAPTURE(file);
          CAPTURE(at);
          CHECK(bitsOf(t.tensor) == want);
        } catch (const NormError&) {
          ++refused;
        }
      }
    }
    CAPTURE(file);
    CHECK(refused > 200);  // the array's own bytes, its directory entry, the end record
  }
}

namespace {

uint32_t le32(const Bytes& b, size_t at) {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (uint32_t{b[at + 3]} << 24);
}
void put32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}
void put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v);
  b[at + 1] = static_cast<uint8_t>(v >> 8);
}
// The offset of the central directory entry for `name`.
size_t centralEntry(const Bytes& zip, const std::string& name) {
  for (size_t at = 0; at + 46 <= zip.size(); ++at) {
    if (le32(zip, at) != 0x02014b50) continue;
    const size_t n = zip[at + 28] | (zip[at + 29] << 8);
    if (std::string(zip.begin() + at + 46, zip.begin() + at + 46 + n) == name) return at;
  }
  FAIL("no central directory entry " << name);
  return 0;
}
size_t endRecord(const Bytes& zip) {
  return zip.size() - 22;  // numpy writes no archive comment
}

}  // namespace

TEST_CASE("sizes and offsets that lie are refused before anything that large is allocated") {
  const Bytes compressed = slurp(kDir + "compressed.npz"), stored = slurp(kDir + "stored.npz");
  const size_t c = centralEntry(compressed, "x.npy"), s = centralEntry(stored, "x.npy");
  const size_t last = centralEntry(compressed, "h.npy");  // the entry just before the directory
  const uint32_t csize = le32(compressed, c + 20), usize = le32(compressed, c + 24);
  struct Case {
    const char* what;
    const Bytes& base;
    size_t at;
    uint32_t value;
    const char* reason;
    const char* name = "x";
  };
  const Case cases[] = {
      {"uncompressed size one more", compressed, c + 24, usize + 1, "decompresses to"},
      {"uncompressed size one less", compressed, c + 24, usize - 1, "is corrupt, or decompresses"},
      {"uncompressed size 2 GiB", compressed, c + 24, 0x7ffffff0u, "more than deflate expands to"},
      {"uncompressed size 4 GiB, no zip64 field", compressed, c + 24, 0xffffffffu,
       "has no zip64 field"},
      {"compressed size far too large", compressed, c + 20, 0x10000000u, "more than deflate needs"},
      {"compressed size past the directory", compressed, last + 20,
       le32(compressed, last + 20) + 40, "runs past the archive's entries", "h"},
      {"compressed size short", compressed, c + 20, csize - 8, "entry 'x.npy'"},
      {"stored sizes differ", stored, s + 20, le32(stored, s + 20) - 1, "sizes differ"},
      {"stored size beyond the file", stored, s + 20, 0x7ffffff0u, "sizes differ"},
      {"local header offset outside", stored, s + 42, 0x40000000u, "outside the archive's entries"},
      {"local header offset off by one", stored, s + 42, le32(stored, s + 42) + 1,
       "no local header"},
      {"CRC-32", compressed, c + 16, le32(compressed, c + 16) ^ 1u, "fails its CRC-32 check"},
      {"central directory offset", stored, endRecord(stored) + 16, 0x00100000u,
       "does not fit before its end record"},
      {"central directory size", stored, endRecord(stored) + 12, 0x7fffffffu,
       "central directory is 2147483647 bytes (limit"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.what);
    Bytes damaged = k.base;
    put32(damaged, k.at, k.value);
    const std::string err = parseError(damaged, TensorFileFormat::Npz, k.name);
    CAPTURE(err);
    CHECK(contains(err, k.reason));
  }
  Bytes more_entries = stored;
  put16(more_entries, endRecord(stored) + 10, 4);  // 4 entries where there are 3
  CHECK(contains(parseError(more_entries, TensorFileFormat::Npz, "x"), "missing or cut short"));
  Bytes both_sizes = stored;  // stored sizes that agree, and lie
  put32(both_sizes, s + 20, 0x7ffffff0u);
  put32(both_sizes, s + 24, 0x7ffffff0u);
  CHECK(contains(parseError(both_sizes, TensorFileFormat::Npz, "x"),
                 "runs past the archive's entries"));
  // Method and encryption.
  Bytes bzip2 = stored;
  bzip2[s + 10] = 12;
  CHECK(contains(parseError(bzip2, TensorFileFormat::Npz, "x"), "compression method 12"));
  Bytes encrypted = stored;
  encrypted[s + 8] |= 1;
  CHECK(contains(parseError(encrypted, TensorFileFormat::Npz, "x"), "is encrypted"));
  // A deflate stream whose blocks are damaged: corrupt codes, never a crash or a wrong value.
  Bytes corrupt = compressed;
  const size_t local = le32(compressed, c + 42);
  const size_t data = local + 30 + (compressed[local + 26] | (compressed[local + 27] << 8)) +
                      (compressed[local + 28] | (compressed[local + 29] << 8));
  for (size_t i = data; i < data + csize; ++i) corrupt[i] = static_cast<uint8_t>(0xa5 ^ i);
  CHECK(contains(parseError(corrupt, TensorFileFormat::Npz, "x"), "entry 'x.npy'"));
  // The limits apply to what an entry holds.
  TensorFileLimits tiny;
  tiny.max_elements = 2;
  tiny.max_header_bytes = 64;
  CHECK(contains(parseError(compressed, TensorFileFormat::Npz, "x", tiny),
                 "more than an array within the limit of 2 elements can be"));
  tiny.max_index_bytes = 16;
  CHECK(contains(parseError(compressed, TensorFileFormat::Npz, "x", tiny), "central directory is"));
}

namespace {

// A .safetensors file from its header text and data.
Bytes safetensors(const std::string& header, const Bytes& data = Bytes(16, 0)) {
  Bytes out;
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
  for (char c : header) out.push_back(static_cast<uint8_t>(c));
  for (uint8_t b : data) out.push_back(b);
  return out;
}

}  // namespace

TEST_CASE("malformed .safetensors files, each with its reason") {
  struct Case {
    const char* header;
    const char* reason;
  };
  const Case cases[] = {
      {"", "not valid JSON"},
      {"{\"x\": {\"dtype\": \"F32\"", "not valid JSON"},
      {"not json", "not valid JSON"},
      {"[1, 2]", "expected a JSON object of tensors"},
      {"{\"x\": 3}", "expected an object with 'dtype', 'shape' and 'data_offsets'"},
      {"{\"x\": {\"shape\": [2], \"data_offsets\": [0, 8]}}", "'dtype' is missing"},
      {"{\"x\": {\"dtype\": 4, \"shape\": [2], \"data_offsets\": [0, 8]}}", "must be a string"},
      {"{\"x\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}",
       "'shape' must be a list of non-negative integers"},
      {"{\"x\": {\"dtype\": \"F32\", \"shape\": [2.0], \"data_offsets\": [0, 8]}}",
       "'shape' must be a list of non-negative integers"},
      {"{\"x\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8, 9]}}",
       "must be [begin, end]"},
      {"{\"x\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}",
       "outside the 16 data bytes"},
      {"{\"x\": {\"dtype\": \"F32\", \"shape\": [6], \"data_offsets\": [0, 24]}}",
       "outside the 16 data bytes"},
      {"{\"x\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}",
       "(3 values of 4 bytes) but its data_offsets span 8 bytes"},
      {"{\"x\": {\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0, "
       "16]}}",
       "absurd shape"},
      {"{\"x\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"y\": {\"dtype\": "
       "\"F16\", \"shape\": [4], \"data_offsets\": [4, 12]}}",
       "tensors 'x' and 'y' overlap"},
      {"{\"__metadata__\": [1]}", "'__metadata__' must be an object"},
      {"{\"__metadata__\": {\"format\": \"pt\"}}", "the file holds no arrays"},
      {"{\"x\": {\"dtype\": \"I32\", \"shape\": [2], \"data_offsets\": [0, 8]}}",
       "dtype I32, which is not supported"},
      {"{\"x\": {\"dtype\": \"F32\", \"shape\": [1, 1, 1, 1, 2], \"data_offsets\": [0, 8]}}",
       "rank 5"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.header);
    const std::string err = parseError(safetensors(c.header), TensorFileFormat::Safetensors);
    CAPTURE(err);
    CHECK(contains(err, c.reason));
  }
  // A gap between tensors is tolerated; an unknown dtype of another tensor is not checked.
  const Bytes gap = safetensors(
      "{\"x\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}, \"q\": {\"dtype\": "
      "\"F4\", \"shape\": [3], \"data_offsets\": [8, 10]}}");
  CHECK(parse(gap, TensorFileFormat::Safetensors, "x").tensor.shape == Shape{1});

  Bytes huge = safetensors("{}");
  huge[3] = 0x40;  // a header of 1 GiB
  CHECK(contains(parseError(huge, TensorFileFormat::Safetensors), "header is 1073741826 bytes"));
  Bytes longer = safetensors("{}");
  longer[0] = 200;
  CHECK(contains(parseError(longer, TensorFileFormat::Safetensors),
                 "the header is 200 bytes but 18 follow"));
  TensorFileLimits few;
  few.max_elements = 3;
  CHECK(contains(
      parseError(safetensors("{\"x\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, "
                             "16]}}"),
                 TensorFileFormat::Safetensors, "", few),
      "more than 3 elements"));
}

// ---- normviz compute ----------------------------------------------------------------------------

namespace {

std::string shellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct Run {
  int status = -1;
  std::string out, err;
};

// A scratch directory for one `normviz compute` run, its outputs and its captured stdout/stderr.
struct Scratch {
  fs::path root;
  explicit Scratch(const std::string& tag) {
    root = fs::temp_directory_path() /
           ("normviz-test-tensor-file-" + std::to_string(::getpid()) + "-" + tag);
    fs::remove_all(root);
    fs::create_directories(root);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  std::string path(const std::string& name) const { return (root / name).string(); }
  Run compute(const std::string& args) const {
    const std::string cmd = shellQuote(NORMVIZ_BINARY) + " compute " + args + " --out " +
                            shellQuote(path("out")) + " >" + shellQuote(path("stdout.txt")) +
                            " 2>" + shellQuote(path("stderr.txt"));
    Run r;
    const int raw = std::system(cmd.c_str());
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    const Bytes out = slurp(path("stdout.txt")), err = slurp(path("stderr.txt"));
    r.out.assign(out.begin(), out.end());
    r.err.assign(err.begin(), err.end());
    return r;
  }
  Bytes output(const std::string& name) const { return slurp(path("out/" + name)); }
};

// A float32 .npy holding the values make.py recorded for `label`.
std::string npyOf(const Scratch& s, const std::string& label, const std::string& file) {
  const json& want = expected().at(label);
  const auto bits = want["bits"].get<std::vector<uint32_t>>();
  std::vector<double> values;
  for (uint32_t b : bits) {
    float f;
    std::memcpy(&f, &b, sizeof f);
    values.push_back(f);
  }
  normviz::writeNpy(s.path(file),
                    normviz::TensorD(Shape(want["shape"].get<std::vector<int64_t>>()), values),
                    normviz::NpyDtype::Float32);
  return shellQuote(s.path(file));
}

}  // namespace

TEST_CASE("normviz compute takes every file flag from .npz and .safetensors") {
  const std::string npz = kDir + "layer.npz", st = kDir + "layer.safetensors";
  const std::string layer = "--norm batch --eval --backward --json";
  Scratch from_archives("archives"), from_npy("npy");
  const Run a = from_archives.compute(
      layer + " --input " + shellQuote(npz + ":x") + " --grad-output " +
      shellQuote(npz + ":dy.npy") + " --weight " + shellQuote(st + ":weight") + " --bias " +
      shellQuote(st + ":bias") + " --running-mean " + shellQuote(st + ":running_mean") +
      " --running-var " + shellQuote(st + ":running_var"));
  CAPTURE(a.err);
  REQUIRE(a.status == 0);
  const Run b = from_npy.compute(
      layer + " --input " + npyOf(from_npy, "layer.npz:x", "x.npy") + " --grad-output " +
      npyOf(from_npy, "layer.npz:dy", "dy.npy") + " --weight " +
      npyOf(from_npy, "layer.safetensors:weight", "w.npy") + " --bias " +
      npyOf(from_npy, "layer.safetensors:bias", "b.npy") + " --running-mean " +
      npyOf(from_npy, "layer.safetensors:running_mean", "rm.npy") + " --running-var " +
      npyOf(from_npy, "layer.safetensors:running_var", "rv.npy"));
  CAPTURE(b.err);
  REQUIRE(b.status == 0);
  // The same float32 values, however they were stored: the same results, bit for bit.
  for (const char* out :
       {"y.npy", "mean.npy", "var.npy", "rstd.npy", "dx.npy", "dweight.npy", "dbias.npy"}) {
    CAPTURE(out);
    CHECK(from_archives.output(out) == from_npy.output(out));
  }
  // Each conversion is stated once, on stderr and in the JSON; float32 needs none.
  const std::vector<std::string> notes = {
      "--grad-output: " + npz + ":dy is float16, widened to float32 exactly",
      "--weight: " + st + ":weight is bfloat16, widened to float32 exactly",
      "--bias: " + st + ":bias is float64, rounded to float32 (4 of 4 values changed)",
      "--running-var: " + st + ":running_var is float16, widened to float32 exactly",
  };
  const json j = json::parse(a.out);
  std::vector<std::string> listed = j["conversions"];
  std::sort(listed.begin(), listed.end());
  std::vector<std::string> sorted = notes;
  std::sort(sorted.begin(), sorted.end());
  CHECK(listed == sorted);
  for (const std::string& note : notes) {
    CAPTURE(note);
    CHECK(contains(a.err, note));
  }
  CHECK(json::parse(b.out)["conversions"].empty());
  CHECK(b.err.empty());

  // A file with several arrays and no name: the error lists them, on one line.
  Scratch bad("bad");
  const Run e = bad.compute("--norm batch --input " + shellQuote(npz));
  CHECK(e.status == 1);
  CHECK(contains(e.err, "--input: " + npz + ": the file holds 2 arrays ('x', 'dy')"));
  CHECK(std::count(e.err.begin(), e.err.end(), '\n') == 1);
  const Run w = bad.compute("--norm batch --input " + shellQuote(npz + ":x") + " --weight " +
                            shellQuote(st + ":gamma"));
  CHECK(w.status == 1);
  CHECK(contains(w.err, "--weight: " + st + ": no array named 'gamma'"));
}
