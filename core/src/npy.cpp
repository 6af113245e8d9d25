// NumPy .npy reading and writing: a hand-written header parser that checks sizes before allocating.
//
// Format (numpy/lib/format.py, "NEP 1"): magic "\x93NUMPY", major and minor version bytes, the
// header length (uint16 little-endian in 1.0, uint32 in 2.0 and 3.0), then the header: a Python
// dict literal such as {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } padded with
// spaces and ending in '\n' (latin-1 text in 1.0/2.0, UTF-8 in 3.0), then the raw C-order data.
//
// Decisions:
// - Only little-endian float32 ('<f4') and float64 ('<f8') in C order are read; anything else is
//   named in the error, with big-endian and Fortran order called out separately. tensor_file.cpp
//   reads float16 ('<f2') too, through the same header parser (npy_header.hpp).
// - A rank-0 array (shape ()) holds one value and is read as shape (1), because normviz tensors
//   have rank 1 to 4. Rank above 4 is an error.
// - Dims of 0 are accepted here (an empty array is a valid file); layers reject empty shapes.
// - The data must fill the rest of the file exactly: fewer bytes is "truncated", more is "trailing
//   garbage". Sizes are checked against NpyLimits and against the bytes present before any buffer
//   of that size is allocated, so a hostile header cannot make us allocate.
// - float64 values read as float32 are rounded to nearest; values beyond float range become ±inf,
//   as numpy's astype(float32) does.
#include "normviz/npy.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "normviz/error.hpp"
#include "npy_header.hpp"

namespace normviz {
namespace {

constexpr std::array<uint8_t, 6> kMagic = {0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr size_t kPreambleV1 = 10;               // magic, 2 version bytes, uint16 header length
constexpr size_t kPreambleV2 = kNpyPreambleMax;  // magic, 2 version bytes, uint32 header length

size_t itemSize(NpyDtype dtype) {
  return dtype == NpyDtype::Float32 ? 4 : 8;
}

// A recursive-descent reader for the small subset of Python literals a .npy header uses:
// a dict of string keys whose values are strings, True/False, tuples of integers, or (for
// structured dtypes, which we reject) lists.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const NpyLimits& limits, bool accept_float16)
      : s_(text), limits_(limits), accept_float16_(accept_float16) {}

  void parse(NpyHeader& out) {
    std::optional<std::string> descr;
    std::optional<bool> fortran;
    std::optional<std::vector<int64_t>> shape;

    skipSpace();
    expect('{', "the header must be a Python dict starting with '{'");
    skipSpace();
    while (!peekIs('}')) {
      const std::string key = parseString("a dict key");
      skipSpace();
      expect(':', "expected ':' after key '" + key + "'");
      skipSpace();
      if (key == "descr") {
        if (descr) fail("key 'descr' appears twice");
        if (peekIs('['))
          fail(
              "structured dtypes (a list 'descr') are not supported; save a plain "
              "float32 or float64 array");
        descr = parseString("the 'descr' value");
      } else if (key == "fortran_order") {
        if (fortran) fail("key 'fortran_order' appears twice");
        fortran = parseBool();
      } else if (key == "shape") {
        if (shape) fail("key 'shape' appears twice");
        shape = parseShape();
      } else {
        fail("unexpected key '" + key + "' (a .npy header has 'descr', 'fortran_order', 'shape')");
      }
      skipSpace();
      if (peekIs(',')) {
        ++pos_;
        skipSpace();
      } else if (!peekIs('}')) {
        fail("expected ',' or '}' after the value of '" + key + "'");
      }
    }
    ++pos_;  // '}'
    skipSpace();
    if (pos_ != s_.size()) fail("unexpected text after the header dict");

    if (!descr) fail("missing key 'descr'");
    if (!fortran) fail("missing key 'fortran_order'");
    if (!shape) fail("missing key 'shape'");

    out.dtype = dtypeOf(*descr);
    if (*fortran) {
      throw NormError(
          ".npy data in Fortran order is not supported; save a C-order array "
          "(numpy.ascontiguousarray)");
    }
    if (shape->size() > static_cast<size_t>(kMaxRank)) {
      throw NormError(".npy shape has rank " + std::to_string(shape->size()) +
                      "; normviz reads rank 0 to " + std::to_string(kMaxRank));
    }
    out.dims = *shape;
    out.numel = checkedNumel(out.dims);
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw NormError("malformed .npy header: " + why + " (at character " + std::to_string(pos_) +
                    " of \"" + printable() + "\")");
  }

  // The header text with control characters escaped, shortened so a huge header stays readable.
  std::string printable() const {
    constexpr size_t kShown = 120;
    std::string r;
    for (size_t i = 0; i < std::min(s_.size(), kShown); ++i) {
      const auto c = static_cast<unsigned char>(s_[i]);
      if (c == '\n') {
        r += "\\n";
      } else if (c < 0x20 || c >= 0x7f) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        r += buf;
      } else {
        r += static_cast<char>(c);
      }
    }
    if (s_.size() > kShown) r += "...";
    return r;
  }

  bool peekIs(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
  void skipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  void expect(char c, const std::string& why) {
    if (!peekIs(c)) fail(why);
    ++pos_;
  }

  // A quoted string without escapes: the keys and dtype strings numpy writes never contain any.
  std::string parseString(const char* what) {
    if (!peekIs('\'') && !peekIs('"')) fail(std::string("expected a quoted string for ") + what);
    const char quote = s_[pos_++];
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\') fail("escape sequences in strings are not supported");
      if (s_[pos_] == '\n') fail("unterminated string");
      ++pos_;
    }
    if (pos_ >= s_.size()) fail("unterminated string");
    std::string r(s_.substr(start, pos_ - start));
    ++pos_;
    return r;
  }

  bool parseBool() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("'fortran_order' must be True or False");
  }

  // A tuple of non-negative integers: "()", "(5,)", "(3, 4)", "(3, 4,)"; Python 2's "3L" accepted.
  std::vector<int64_t> parseShape() {
    expect('(', "'shape' must be a tuple like (3, 4)");
    std::vector<int64_t> dims;
    bool comma_after_last = false;
    skipSpace();
    while (!peekIs(')')) {
      dims.push_back(parseDim());
      skipSpace();
      comma_after_last = peekIs(',');
      if (comma_after_last) {
        ++pos_;
        skipSpace();
      } else if (!peekIs(')')) {
        fail("expected ',' or ')' in 'shape'");
      }
    }
    ++pos_;
    // Python needs the trailing comma for a one-element tuple: "(5)" is the integer 5.
    if (dims.size() == 1 && !comma_after_last) {
      fail("'shape' (n) is not a tuple; a one-dim shape is written (n,)");
    }
    return dims;
  }

  int64_t parseDim() {
    if (peekIs('-')) fail("negative dimension in 'shape'");
    if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9')
      fail("expected an integer in 'shape'");
    // Anything above this is rejected as absurd; checking while reading avoids int64 overflow.
    const int64_t cap = std::numeric_limits<int64_t>::max() / 10;
    int64_t v = 0;
    bool too_big = false;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (v > cap) too_big = true;
      if (!too_big) v = v * 10 + (s_[pos_] - '0');
      ++pos_;
    }
    if (peekIs('L')) ++pos_;
    if (too_big) {
      throw NormError(".npy shape has an absurd dimension (more than 19 digits); refusing to read");
    }
    return v;
  }

  StoredDtype dtypeOf(const std::string& descr) const {
    if (descr == "<f4") return StoredDtype::Float32;
    if (descr == "<f8") return StoredDtype::Float64;
    if (accept_float16_ && descr == "<f2") return StoredDtype::Float16;
    if (descr == ">f4" || descr == ">f8" || (accept_float16_ && descr == ">f2")) {
      throw NormError(".npy data is big-endian ('" + descr +
                      "'); normviz reads little-endian only: save with "
                      "arr.astype(arr.dtype.newbyteorder('<'))");
    }
    throw NormError(".npy dtype '" + descr + "' is not supported; normviz reads " +
                    (accept_float16_ ? "float16 ('<f2'), " : "") +
                    "float32 ('<f4') and float64 ('<f8'): save with arr.astype(numpy.float32)");
  }

  // The element count, refused when it or the product of the nonzero dims passes the limit: an
  // empty array such as (0, 3) is a valid file, but a zero beside dims whose product is absurd
  // describes a tensor whose strides cannot be represented.
  int64_t checkedNumel(const std::vector<int64_t>& dims) const {
    // Bytes must also fit in int64, whatever limit the caller set.
    const int64_t limit =
        std::min(limits_.max_elements, std::numeric_limits<int64_t>::max() / int64_t{8});
    int64_t nonzero = 1;
    bool empty = false;
    for (int64_t d : dims) {
      if (d == 0) {
        empty = true;
        continue;
      }
      if (d > limit || nonzero > limit / d) {
        throw NormError(".npy shape " + Shape(dims).str() + " has more than " +
                        std::to_string(limit) + " elements" +
                        (std::count(dims.begin(), dims.end(), int64_t{0}) > 0
                             ? " (not counting its zero dims)"
                             : "") +
                        "; refusing to read it");
      }
      nonzero *= d;
    }
    return empty ? 0 : nonzero;
  }

  std::string_view s_;
  const NpyLimits& limits_;
  bool accept_float16_;
  size_t pos_ = 0;
};

uint32_t readLe(const uint8_t* p, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

NpyHeader parseNpyHeader(std::span<const uint8_t> prefix, uint64_t total_size,
                         const NpyLimits& limits, bool accept_float16) {
  if (total_size < kMagic.size() || !std::equal(kMagic.begin(), kMagic.end(), prefix.begin())) {
    throw NormError("not a .npy file: bad magic (a .npy file starts with \\x93NUMPY)");
  }
  if (total_size < kPreambleV1)
    throw NormError("truncated .npy header: the file ends in the preamble");
  const int major = prefix[6], minor = prefix[7];
  if (!((major == 1 || major == 2 || major == 3) && minor == 0)) {
    throw NormError("unsupported .npy format version " + std::to_string(major) + "." +
                    std::to_string(minor) + "; normviz reads 1.0, 2.0 and 3.0");
  }
  const size_t preamble = major == 1 ? kPreambleV1 : kPreambleV2;
  if (total_size < preamble)
    throw NormError("truncated .npy header: the file ends in the preamble");
  const uint64_t header_len = readLe(prefix.data() + 8, major == 1 ? 2 : 4);
  if (header_len > static_cast<uint64_t>(limits.max_header_bytes)) {
    throw NormError(".npy header is too long: " + std::to_string(header_len) + " bytes (limit " +
                    std::to_string(limits.max_header_bytes) + ")");
  }
  if (total_size - preamble < header_len || prefix.size() - preamble < header_len) {
    throw NormError("truncated .npy header: it says " + std::to_string(header_len) +
                    " bytes but the file has " + std::to_string(total_size - preamble) +
                    " after the preamble");
  }
  const std::string_view text(reinterpret_cast<const char*>(prefix.data() + preamble), header_len);
  NpyHeader h;
  HeaderParser(text, limits, accept_float16).parse(h);
  h.data_offset = preamble + header_len;

  const uint64_t present = total_size - h.data_offset;
  if (present != h.dataBytes()) {
    const std::string need = "shape " + Shape(h.dims).str() + " of " + storedDtypeName(h.dtype) +
                             " needs " + std::to_string(h.dataBytes()) + " data bytes";
    if (present < h.dataBytes()) {
      throw NormError("truncated .npy data: " + need + " but the file has " +
                      std::to_string(present) + " after the header");
    }
    throw NormError("trailing garbage in .npy file: " + need + " but " + std::to_string(present) +
                    " follow the header");
  }
  return h;
}

namespace {

Shape tensorShape(const NpyHeader& h) {
  if (h.dims.empty()) return Shape{1};  // rank 0: one value, see the note at the top
  return Shape(h.dims);
}

// Decodes little-endian data into a tensor of T, whatever the host's byte order (straight into the
// tensor's own storage: a large file is not held twice).
template <typename T>
BasicTensor<T> decode(const NpyHeader& h, const uint8_t* data) {
  BasicTensor<T> t(tensorShape(h));
  TensorData<T>& out = t.data;
  if (h.dtype == StoredDtype::Float32) {
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] = static_cast<T>(bitCast<float>(readLe(data + 4 * i, 4)));
    }
  } else {
    for (size_t i = 0; i < out.size(); ++i) {
      const uint64_t bits =
          uint64_t{readLe(data + 8 * i, 4)} | (uint64_t{readLe(data + 8 * i + 4, 4)} << 32);
      out[i] = static_cast<T>(bitCast<double>(bits));
    }
  }
  return t;
}

// Reads a whole file, checking the header and sizes before reading the data.
template <typename T>
BasicTensor<T> readFile(const std::string& path, const NpyLimits& limits) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw NormError(path + ": is a directory, not a .npy file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw NormError(path + ": cannot open: " + std::strerror(errno));
  in.seekg(0, std::ios::end);
  const std::streamoff end = in.tellg();
  if (end < 0) throw NormError(path + ": cannot determine the file size");
  const auto size = static_cast<uint64_t>(end);
  in.seekg(0);
  // The header can be no longer than this; reading it first bounds memory by the limits.
  const uint64_t prefix_len = std::min<uint64_t>(
      size, kPreambleV2 + static_cast<uint64_t>(std::max<int64_t>(limits.max_header_bytes, 0)));
  std::vector<uint8_t> prefix(static_cast<size_t>(prefix_len));
  if (!in.read(reinterpret_cast<char*>(prefix.data()), static_cast<std::streamsize>(prefix_len))) {
    throw NormError(path + ": read error");
  }
  try {
    const NpyHeader h = parseNpyHeader(prefix, size, limits, false);
    std::vector<uint8_t> data(static_cast<size_t>(h.dataBytes()));
    in.seekg(static_cast<std::streamoff>(h.data_offset));
    if (!in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size()))) {
      throw NormError("read error");
    }
    return decode<T>(h, data.data());
  } catch (const NormError& e) {
    throw NormError(path + ": " + e.what());
  }
}

}  // namespace

TensorD parseNpy(std::span<const uint8_t> bytes, const NpyLimits& limits) {
  const NpyHeader h = parseNpyHeader(bytes, bytes.size(), limits, false);
  return decode<double>(h, bytes.data() + h.data_offset);
}

TensorD readNpy(const std::string& path, const NpyLimits& limits) {
  return readFile<double>(path, limits);
}

Tensor readNpyF32(const std::string& path, const NpyLimits& limits) {
  return readFile<float>(path, limits);
}

std::string toNpyBytes(const TensorD& t, NpyDtype dtype) {
  if (t.shape.rank() > kMaxRank) {
    throw NormError("cannot save a tensor of rank " + std::to_string(t.shape.rank()) + " as .npy");
  }
  if (t.numel() != t.shape.numel()) {
    throw NormError("cannot save a tensor whose data (" + std::to_string(t.numel()) +
                    " values) does not match its shape " + t.shape.str());
  }
  // Shape::str() is Python's tuple spelling, as the header needs: "(5,)", "(3, 4)".
  std::string header = std::string("{'descr': '") + (dtype == NpyDtype::Float32 ? "<f4" : "<f8") +
                       "', 'fortran_order': False, 'shape': " + t.shape.str() + ", }";
  // Pad with spaces so the data starts on a 64-byte boundary, as numpy does; '\n' ends the header.
  const size_t unpadded = kPreambleV1 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';

  std::string out;
  out.reserve(kPreambleV1 + header.size() + static_cast<size_t>(t.numel()) * itemSize(dtype));
  out.append(reinterpret_cast<const char*>(kMagic.data()), kMagic.size());
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  auto put = [&out](uint64_t bits, int bytes) {
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((bits >> (8 * i)) & 0xff);
  };
  for (double v : t.data) {
    if (dtype == NpyDtype::Float32) {
      put(bitCast<uint32_t>(static_cast<float>(v)), 4);
    } else {
      put(bitCast<uint64_t>(v), 8);
    }
  }
  return out;
}

void writeNpy(const std::string& path, const TensorD& t, NpyDtype dtype) {
  namespace fs = std::filesystem;
  const std::string bytes = toNpyBytes(t, dtype);
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw NormError("cannot write " + path + ": directory " + dir.string() + " does not exist");
  }
  // A unique temporary name beside the target, so the rename is atomic (same file system) and a
  // reader never sees a half-written file.
  static std::atomic<unsigned> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    throw NormError("cannot write " + path + ": " + std::strerror(errno));
  }
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  const int write_errno = errno;
  const bool closed = std::fclose(f) == 0;
  if (!written || !closed) {
    fs::remove(tmp, ec);
    throw NormError("cannot write " + path + ": " + std::strerror(written ? errno : write_errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    fs::remove(tmp, ec);
    throw NormError("cannot write " + path + ": " + std::strerror(rename_errno));
  }
}

}  // namespace normviz
