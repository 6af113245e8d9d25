// Reading one tensor from a .npy, .npz or .safetensors file as float32, with a note on the
// conversion. Sections: element types, byte sources, .npy, .npz, .safetensors, entry points.
//
// Formats:
// - .npy: npy.cpp's header parser (npy_header.hpp), here with float16 ('<f2') accepted too.
// - .npz (numpy.savez, numpy.savez_compressed): a zip archive with one NAME.npy per array, stored
//   (method 0) or deflated (method 8). PKWARE's APPNOTE.TXT: local file header (4.3.7), central
//   directory header (4.3.12), zip64 end of central directory record and locator (4.3.14,
//   4.3.15), end of central directory record (4.3.16), zip64 extended information (4.5.3). numpy
//   writes every entry with force_zip64=True, so a local header may give 0xFFFFFFFF for its sizes:
//   sizes and offsets come from the central directory (from its zip64 field where a 32-bit field
//   is 0xFFFFFFFF), and the local header only says where the data begins.
// - .safetensors (huggingface/safetensors, "Format"): an 8-byte little-endian header length N, N
//   bytes of JSON {NAME: {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
//   "__metadata__": {...}}, then the data; offsets count from the end of the header.
//
// Decisions:
// - Sizes are checked against the limits and the bytes present before a buffer of that size is
//   allocated: an .npz entry's uncompressed size against the largest .npy the limits allow, its
//   compressed size against what deflate can need for that. Deflate data is decoded into a buffer
//   of exactly the uncompressed size (stb's decoder stops at its end); the decoded length and the
//   CRC-32 must then match the central directory.
// - Every tensor of a .safetensors header is checked (offsets in range and not overlapping, size
//   matching shape × dtype size where the dtype is known), not only the one asked for: a header
//   that contradicts itself describes a damaged file. Gaps between tensors are tolerated.
// - float16 and bfloat16 widen to float32 exactly; float64 rounds to nearest (beyond float32's
//   range to infinity, as numpy's astype does), and the note counts the values that changed.
#include "normviz/tensor_file.hpp"

#include <stb_image.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "normviz/error.hpp"
#include "npy_header.hpp"

namespace normviz {

// ---- element types ------------------------------------------------------------------------------

const char* storedDtypeName(StoredDtype dtype) {
  switch (dtype) {
    case StoredDtype::Float16:
      return "float16";
    case StoredDtype::BFloat16:
      return "bfloat16";
    case StoredDtype::Float32:
      return "float32";
    case StoredDtype::Float64:
      return "float64";
  }
  return "?";
}

size_t storedDtypeSize(StoredDtype dtype) {
  switch (dtype) {
    case StoredDtype::Float16:
    case StoredDtype::BFloat16:
      return 2;
    case StoredDtype::Float32:
      return 4;
    case StoredDtype::Float64:
      return 8;
  }
  return 0;
}

namespace {

uint64_t readLe(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// IEEE 754 binary16 to binary32; every half is a float, so this is exact.
float halfToFloat(uint16_t h) {
  const uint32_t sign = uint32_t{h & 0x8000u} << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return bitCast<float>(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN
  if (exponent != 0) return bitCast<float>(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
  const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;  // zero and subnormals
  return sign != 0 ? -magnitude : magnitude;
}

Shape shapeOf(const std::vector<int64_t>& dims) {
  if (dims.empty()) return Shape{1};  // rank 0 holds one value, read as shape (1) as in npy.cpp
  return Shape(dims);
}

// Decodes little-endian `data` (exactly shape.numel() values of `dtype`) into float32, with the
// note on what that did to the values.
TensorFromFile convert(StoredDtype dtype, const Shape& shape, std::span<const uint8_t> data) {
  TensorFromFile r;
  r.stored = dtype;
  r.tensor = Tensor(shape);
  TensorData<float>& out = r.tensor.data;
  const uint8_t* p = data.data();
  int64_t changed = 0, overflowed = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    switch (dtype) {
      case StoredDtype::Float16:
        out[i] = halfToFloat(static_cast<uint16_t>(readLe(p + 2 * i, 2)));
        break;
      case StoredDtype::BFloat16:  // the top half of a float32
        out[i] = bitCast<float>(static_cast<uint32_t>(readLe(p + 2 * i, 2) << 16));
        break;
      case StoredDtype::Float32:
        out[i] = bitCast<float>(static_cast<uint32_t>(readLe(p + 4 * i, 4)));
        break;
      case StoredDtype::Float64: {
        const double d = bitCast<double>(readLe(p + 8 * i, 8));
        out[i] = static_cast<float>(d);
        if (!std::isnan(d) && static_cast<double>(out[i]) != d) ++changed;
        if (std::isinf(out[i]) && std::isfinite(d)) ++overflowed;
        break;
      }
    }
  }
  if (dtype == StoredDtype::Float16 || dtype == StoredDtype::BFloat16) {
    r.conversion = std::string(storedDtypeName(dtype)) + ", widened to float32 exactly";
  } else if (dtype == StoredDtype::Float64) {
    r.conversion = "float64, rounded to float32 (";
    r.conversion += changed == 0 ? "every value exact"
                                 : std::to_string(changed) + " of " + std::to_string(out.size()) +
                                       " values changed";
    if (overflowed > 0)
      r.conversion += ", " + std::to_string(overflowed) + " beyond float32's range became infinite";
    r.conversion += ")";
  }
  return r;
}

// The names of a file's arrays for a message: the first 20, then how many more.
std::string nameList(const std::vector<std::string>& names) {
  constexpr size_t kShown = 20;
  std::string s;
  for (size_t i = 0; i < std::min(names.size(), kShown); ++i)
    s += (i == 0 ? "'" : ", '") + names[i] + "'";
  if (names.size() > kShown) s += " and " + std::to_string(names.size() - kShown) + " more";
  return s;
}

// The index of the array the user asked for among `names` (as the user writes them): `name`, or
// with an empty name the only one. `label` is the file as the user named it.
size_t pickName(const std::vector<std::string>& names, const std::string& name,
                const std::string& label) {
  const std::string file = label.empty() ? "FILE" : label;
  if (names.empty()) throw NormError("the file holds no arrays");
  if (name.empty()) {
    if (names.size() == 1) return 0;
    throw NormError("the file holds " + std::to_string(names.size()) + " arrays (" +
                    nameList(names) + "); pick one as " + file + ":NAME, e.g. " + file + ":" +
                    names[0]);
  }
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    throw NormError("no array named '" + name + "'; the file holds " + nameList(names));
  return static_cast<size_t>(it - names.begin());
}

// ---- byte sources -------------------------------------------------------------------------------

// The bytes of a file, in memory or on disk: the readers ask for the parts they need, after
// checking each part's size against the limits and the file's size.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Bytes [offset, offset + n). Callers check the range first, with a message that says what was
  // cut short; this is the last line of defence.
  std::vector<uint8_t> read(uint64_t offset, uint64_t n) const {
    if (offset > size() || n > size() - offset || n > std::numeric_limits<size_t>::max())
      throw NormError("truncated file: " + std::to_string(n) + " bytes at offset " +
                      std::to_string(offset) + " lie past its end (" + std::to_string(size()) +
                      " bytes)");
    std::vector<uint8_t> out(static_cast<size_t>(n));
    if (n > 0) readInto(offset, out);
    return out;
  }

 private:
  virtual void readInto(uint64_t offset, std::span<uint8_t> out) const = 0;
};

class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  uint64_t size() const override { return bytes_.size(); }

 private:
  void readInto(uint64_t offset, std::span<uint8_t> out) const override {
    std::memcpy(out.data(), bytes_.data() + offset, out.size());
  }
  std::span<const uint8_t> bytes_;
};

class FileSource final : public ByteSource {
 public:
  explicit FileSource(std::ifstream& in) : in_(in) {
    in_.seekg(0, std::ios::end);
    const std::streamoff end = in_.tellg();
    if (end < 0) throw NormError("cannot determine the file size");
    size_ = static_cast<uint64_t>(end);
  }
  uint64_t size() const override { return size_; }

 private:
  void readInto(uint64_t offset, std::span<uint8_t> out) const override {
    in_.seekg(static_cast<std::streamoff>(offset));
    if (!in_.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size())))
      throw NormError("read error");
  }
  std::ifstream& in_;
  uint64_t size_ = 0;
};

// ---- .npy ---------------------------------------------------------------------------------------

NpyLimits npyLimits(const TensorFileLimits& limits) {
  NpyLimits npy;
  npy.max_elements = limits.max_elements;
  npy.max_header_bytes = limits.max_header_bytes;
  return npy;
}

// Header first (its length bounded by the limits), then exactly the data it describes.
TensorFromFile readNpyFrom(const ByteSource& src, const TensorFileLimits& limits) {
  const uint64_t prefix_len = std::min<uint64_t>(
      src.size(),
      kNpyPreambleMax + static_cast<uint64_t>(std::max<int64_t>(limits.max_header_bytes, 0)));
  const NpyHeader h = parseNpyHeader(src.read(0, prefix_len), src.size(), npyLimits(limits), true);
  return convert(h.dtype, shapeOf(h.dims), src.read(h.data_offset, h.dataBytes()));
}

// ---- .npz ---------------------------------------------------------------------------------------

constexpr uint32_t kLocalSignature = 0x04034b50;
constexpr uint32_t kCentralSignature = 0x02014b50;
constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kZip64EndSignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr uint64_t kLocalSize = 30, kCentralSize = 46, kEndSize = 22;
constexpr uint64_t kZip64LocatorSize = 20, kZip64EndSize = 56;
constexpr uint64_t kMaxComment = 0xffff;
constexpr uint64_t kAll32 = 0xffffffff;  // "see the zip64 field"

// The CRC-32 a zip entry carries (ISO 3309, reflected polynomial 0xEDB88320), from a table.
constexpr std::array<uint32_t, 256> kCrcTable = [] {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}();

uint32_t crc32(std::span<const uint8_t> bytes) {
  uint32_t c = 0xffffffffu;
  for (uint8_t b : bytes) c = kCrcTable[(c ^ b) & 0xffu] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

struct ZipEntry {
  std::string name;  // as stored: "x.npy"
  uint32_t flags = 0, method = 0, crc = 0;
  uint64_t compressed = 0, uncompressed = 0, local_offset = 0;
};

struct ZipDirectory {
  std::vector<ZipEntry> entries;
  uint64_t offset = 0;  // where the central directory starts: the entries' data lies before it
};

// Where the central directory is, from the end of central directory record (and its zip64
// counterpart when a locator precedes the record).
struct DirectoryPlace {
  uint64_t entries = 0, size = 0, offset = 0, end = 0;  // end: where the directory must end by
};

DirectoryPlace findDirectory(const ByteSource& src) {
  const uint64_t size = src.size();
  if (size < kEndSize)
    throw NormError("not an .npz file: " + std::to_string(size) +
                    " bytes is too short for a zip archive (numpy.savez writes one)");
  // The record is the last 22 bytes before a comment of at most 65535: the last signature whose
  // comment length reaches the end of the file exactly.
  const uint64_t tail_len = std::min(size, kEndSize + kMaxComment);
  const std::vector<uint8_t> tail = src.read(size - tail_len, tail_len);
  std::optional<size_t> at;
  for (size_t i = tail.size() - kEndSize + 1; i-- > 0;) {
    if (readLe(&tail[i], 4) == kEndSignature &&
        i + kEndSize + readLe(&tail[i + 20], 2) == tail.size()) {
      at = i;
      break;
    }
  }
  if (!at)
    throw NormError(
        "not an .npz file, or a truncated one: no zip end of central directory record at its end");
  const uint8_t* e = &tail[*at];
  const uint64_t record = size - tail_len + *at;
  uint64_t disk = readLe(e + 4, 2), directory_disk = readLe(e + 6, 2);
  DirectoryPlace place{readLe(e + 10, 2), readLe(e + 12, 4), readLe(e + 16, 4), record};
  if (record >= kZip64LocatorSize) {
    const std::vector<uint8_t> locator = src.read(record - kZip64LocatorSize, kZip64LocatorSize);
    if (readLe(locator.data(), 4) == kZip64LocatorSignature) {
      const uint64_t at64 = readLe(locator.data() + 8, 8);
      const uint64_t limit = record - kZip64LocatorSize;
      if (at64 > limit || limit - at64 < kZip64EndSize)
        throw NormError("malformed .npz: the zip64 locator points outside the file");
      const std::vector<uint8_t> r = src.read(at64, kZip64EndSize);
      if (readLe(r.data(), 4) != kZip64EndSignature)
        throw NormError(
            "malformed .npz: no zip64 end of central directory record where its "
            "locator points");
      disk = readLe(r.data() + 16, 4);
      directory_disk = readLe(r.data() + 20, 4);
      place = {readLe(r.data() + 32, 8), readLe(r.data() + 40, 8), readLe(r.data() + 48, 8), at64};
    }
  }
  if (disk != 0 || directory_disk != 0)
    throw NormError("split (multi-part) zip archives are not supported");
  return place;
}

// Replaces the 32-bit sizes and offset that read 0xFFFFFFFF by the entry's zip64 field, whose
// 8-byte values come in this order for the fields that need them.
void applyZip64(std::span<const uint8_t> extra, ZipEntry& z) {
  uint64_t* wanted[] = {&z.uncompressed, &z.compressed, &z.local_offset};
  size_t needed = 0;
  for (uint64_t* v : wanted) needed += *v == kAll32 ? 1 : 0;
  if (needed == 0) return;
  while (extra.size() >= 4) {
    const uint64_t id = readLe(extra.data(), 2), len = readLe(extra.data() + 2, 2);
    if (len > extra.size() - 4) break;
    if (id == 0x0001) {
      if (len < 8 * needed)
        throw NormError("malformed .npz: entry '" + z.name + "' has a short zip64 field");
      const uint8_t* p = extra.data() + 4;
      for (uint64_t* v : wanted) {
        if (*v != kAll32) continue;
        *v = readLe(p, 8);
        p += 8;
      }
      return;
    }
    extra = extra.subspan(4 + len);
  }
  throw NormError("malformed .npz: entry '" + z.name +
                  "' gives 0xFFFFFFFF for a size or offset but has no zip64 field with it");
}

ZipDirectory readDirectory(const ByteSource& src, const TensorFileLimits& limits) {
  const DirectoryPlace place = findDirectory(src);
  if (place.size > static_cast<uint64_t>(std::max<int64_t>(limits.max_index_bytes, 0)))
    throw NormError(".npz central directory is " + std::to_string(place.size) + " bytes (limit " +
                    std::to_string(limits.max_index_bytes) + ")");
  if (place.offset > place.end || place.size > place.end - place.offset)
    throw NormError("malformed or truncated .npz: the central directory (" +
                    std::to_string(place.size) + " bytes at offset " +
                    std::to_string(place.offset) + ") does not fit before its end record");
  const std::vector<uint8_t> d = src.read(place.offset, place.size);
  ZipDirectory dir;
  dir.offset = place.offset;
  size_t pos = 0;
  for (uint64_t i = 0; i < place.entries; ++i) {
    const std::string which =
        "central directory entry " + std::to_string(i + 1) + " of " + std::to_string(place.entries);
    if (d.size() - pos < kCentralSize || readLe(&d[pos], 4) != kCentralSignature)
      throw NormError("malformed .npz: " + which + " is missing or cut short");
    const uint8_t* c = &d[pos];
    const size_t name_len = readLe(c + 28, 2), extra_len = readLe(c + 30, 2);
    const size_t comment_len = readLe(c + 32, 2);
    if (d.size() - pos - kCentralSize < name_len + extra_len + comment_len)
      throw NormError("malformed .npz: " + which + " runs past the directory's end");
    ZipEntry z;
    z.name.assign(reinterpret_cast<const char*>(c + kCentralSize), name_len);
    z.flags = static_cast<uint32_t>(readLe(c + 8, 2));
    z.method = static_cast<uint32_t>(readLe(c + 10, 2));
    z.crc = static_cast<uint32_t>(readLe(c + 16, 4));
    z.compressed = readLe(c + 20, 4);
    z.uncompressed = readLe(c + 24, 4);
    z.local_offset = readLe(c + 42, 4);
    applyZip64({c + kCentralSize + name_len, extra_len}, z);
    dir.entries.push_back(std::move(z));
    pos += kCentralSize + name_len + extra_len + comment_len;
  }
  return dir;
}

// The most bytes an .npy within the limits can have: the largest header and float64 data.
uint64_t largestNpy(const TensorFileLimits& limits) {
  const auto elements = static_cast<uint64_t>(
      std::clamp<int64_t>(limits.max_elements, 0, std::numeric_limits<int64_t>::max() / 16));
  return kNpyPreambleMax + static_cast<uint64_t>(std::max<int64_t>(limits.max_header_bytes, 0)) +
         8 * elements;
}

// Raw deflate data of `compressed` bytes decoded into exactly `size` bytes. stb's decoder reports
// the end of its input as an error when the last code ends within 16 bits of it, as a raw stream
// may; zero padding past the end keeps a whole stream whole (a cut one still fails the checks).
std::vector<uint8_t> inflate(std::vector<uint8_t> compressed, uint64_t size, const ZipEntry& z) {
  constexpr size_t kPadding = 8;
  if (compressed.size() > static_cast<size_t>(INT_MAX) - kPadding || size > INT_MAX)
    throw NormError("entry '" + z.name + "' is too large to decompress (limit 2 GiB)");
  compressed.resize(compressed.size() + kPadding, 0);
  std::vector<uint8_t> out(static_cast<size_t>(size));
  const int got = stbi_zlib_decode_noheader_buffer(
      reinterpret_cast<char*>(out.data()), static_cast<int>(out.size()),
      reinterpret_cast<const char*>(compressed.data()), static_cast<int>(compressed.size()));
  if (got < 0)
    throw NormError("the deflate data of entry '" + z.name + "' is corrupt, or decompresses to " +
                    "more than the " + std::to_string(size) + " bytes the directory gives");
  if (static_cast<uint64_t>(got) != size)
    throw NormError("entry '" + z.name + "' decompresses to " + std::to_string(got) +
                    " bytes, not the " + std::to_string(size) + " the directory gives");
  return out;
}

// The entry's uncompressed bytes, every size checked before it is allocated.
std::vector<uint8_t> readEntry(const ByteSource& src, const ZipDirectory& dir, const ZipEntry& z,
                               const TensorFileLimits& limits) {
  const std::string entry = "entry '" + z.name + "'";
  if ((z.flags & 1) != 0) throw NormError(entry + " is encrypted");
  if (z.method != 0 && z.method != 8)
    throw NormError(entry + " uses compression method " + std::to_string(z.method) +
                    "; normviz reads stored (0, numpy.savez) and deflate (8, "
                    "numpy.savez_compressed)");
  if (z.uncompressed > largestNpy(limits))
    throw NormError(entry + " is " + std::to_string(z.uncompressed) +
                    " bytes uncompressed, more than an array within the limit of " +
                    std::to_string(limits.max_elements) + " elements can be; refusing to read it");
  if (z.uncompressed == 0) throw NormError(entry + " is empty, not a .npy file");
  if (z.method == 0 && z.compressed != z.uncompressed)
    throw NormError(entry + " is stored uncompressed but its sizes differ (" +
                    std::to_string(z.compressed) + " and " + std::to_string(z.uncompressed) +
                    " bytes)");
  // Deflate's bounds both ways, generously: no stream of u bytes needs more than zlib's
  // deflateBound, and none expands more than 1032 to 1 (a 258-byte match in 2 bits), so a small
  // file cannot make us allocate a large buffer whatever size it claims.
  if (z.method == 8 && z.compressed > z.uncompressed + (z.uncompressed >> 10) + 64)
    throw NormError(entry + " claims " + std::to_string(z.compressed) +
                    " compressed bytes, more than deflate needs for its " +
                    std::to_string(z.uncompressed));
  if (z.method == 8 && z.uncompressed > 1040 * z.compressed + 1024)
    throw NormError(entry + " claims " + std::to_string(z.uncompressed) + " bytes from " +
                    std::to_string(z.compressed) +
                    " compressed ones, more than deflate expands to");
  if (z.local_offset > dir.offset || dir.offset - z.local_offset < kLocalSize)
    throw NormError("malformed .npz: " + entry + " starts at offset " +
                    std::to_string(z.local_offset) + ", outside the archive's entries");
  const std::vector<uint8_t> local = src.read(z.local_offset, kLocalSize);
  if (readLe(local.data(), 4) != kLocalSignature)
    throw NormError("malformed .npz: no local header where the directory puts " + entry);
  const uint64_t name_len = readLe(local.data() + 26, 2), extra_len = readLe(local.data() + 28, 2);
  const uint64_t start = z.local_offset + kLocalSize + name_len + extra_len;
  if (start > dir.offset || z.compressed > dir.offset - start)
    throw NormError("truncated or malformed .npz: the data of " + entry + " (" +
                    std::to_string(z.compressed) + " bytes) runs past the archive's entries");
  const std::vector<uint8_t> local_name = src.read(z.local_offset + kLocalSize, name_len);
  if (std::string(local_name.begin(), local_name.end()) != z.name)
    throw NormError("malformed .npz: the local header of " + entry + " names another file");
  std::vector<uint8_t> bytes = src.read(start, z.compressed);
  if (z.method == 8) bytes = inflate(std::move(bytes), z.uncompressed, z);
  if (crc32(bytes) != z.crc)
    throw NormError(entry + " fails its CRC-32 check: the archive is damaged");
  return bytes;
}

TensorFromFile readNpz(const ByteSource& src, const std::string& name,
                       const TensorFileLimits& limits, const std::string& label) {
  const ZipDirectory dir = readDirectory(src, limits);
  // The names as numpy.load gives them: without the .npy suffix numpy.savez adds.
  std::vector<std::string> names;
  for (const ZipEntry& z : dir.entries) {
    const bool npy = z.name.size() > 4 && z.name.ends_with(".npy");
    names.push_back(npy ? z.name.substr(0, z.name.size() - 4) : z.name);
  }
  const auto full = std::find_if(dir.entries.begin(), dir.entries.end(),
                                 [&](const ZipEntry& z) { return z.name == name; });
  const size_t index = !name.empty() && full != dir.entries.end()
                           ? static_cast<size_t>(full - dir.entries.begin())
                           : pickName(names, name, label);
  const ZipEntry& z = dir.entries[index];
  const std::vector<uint8_t> bytes = readEntry(src, dir, z, limits);
  TensorFromFile r;
  try {
    r = readNpyFrom(MemorySource(bytes), limits);
  } catch (const NormError& e) {
    throw NormError("entry '" + z.name + "': " + e.what());
  }
  r.label = label.empty() ? names[index] : label + ":" + names[index];
  return r;
}

// ---- .safetensors -------------------------------------------------------------------------------

struct SafetensorsEntry {
  std::string name, dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // within the data, after the header
};

// Bytes per element of the safetensors dtypes of fixed size; 0 for one this table does not know.
size_t safetensorsItemSize(const std::string& dtype) {
  if (dtype == "BOOL" || dtype == "U8" || dtype == "I8" || dtype == "F8_E5M2" || dtype == "F8_E4M3")
    return 1;
  if (dtype == "I16" || dtype == "U16" || dtype == "F16" || dtype == "BF16") return 2;
  if (dtype == "I32" || dtype == "U32" || dtype == "F32") return 4;
  if (dtype == "I64" || dtype == "U64" || dtype == "F64") return 8;
  return 0;
}

std::vector<uint64_t> unsignedList(const nlohmann::json& v, const std::string& what) {
  if (!v.is_array()) throw NormError(what + " must be a list of non-negative integers");
  std::vector<uint64_t> out;
  for (const nlohmann::json& x : v) {
    if (!x.is_number_unsigned()) throw NormError(what + " must be a list of non-negative integers");
    out.push_back(x.get<uint64_t>());
  }
  return out;
}

SafetensorsEntry parseEntry(const std::string& name, const nlohmann::json& v) {
  const std::string what = "malformed .safetensors header: tensor '" + name + "': ";
  if (!v.is_object())
    throw NormError(what + "expected an object with 'dtype', 'shape' and 'data_offsets'");
  for (const char* key : {"dtype", "shape", "data_offsets"})
    if (!v.contains(key)) throw NormError(what + "'" + key + "' is missing");
  if (!v["dtype"].is_string()) throw NormError(what + "'dtype' must be a string");
  SafetensorsEntry e;
  e.name = name;
  e.dtype = v["dtype"].get<std::string>();
  for (uint64_t d : unsignedList(v["shape"], what + "'shape'")) {
    if (d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw NormError(what + "'shape' has an absurd dimension");
    e.shape.push_back(static_cast<int64_t>(d));
  }
  const std::vector<uint64_t> offsets = unsignedList(v["data_offsets"], what + "'data_offsets'");
  if (offsets.size() != 2) throw NormError(what + "'data_offsets' must be [begin, end]");
  e.begin = offsets[0];
  e.end = offsets[1];
  return e;
}

// The header's tensors, each checked against the data's size and the others.
std::vector<SafetensorsEntry> checkedEntries(const nlohmann::json& header, uint64_t data_size) {
  if (!header.is_object())
    throw NormError("malformed .safetensors header: expected a JSON object of tensors");
  std::vector<SafetensorsEntry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object())
        throw NormError("malformed .safetensors header: '__metadata__' must be an object");
      continue;
    }
    SafetensorsEntry e = parseEntry(key, value);
    const std::string what = "malformed .safetensors file: tensor '" + key + "' ";
    if (e.begin > e.end || e.end > data_size)
      throw NormError(what + "has data_offsets [" + std::to_string(e.begin) + ", " +
                      std::to_string(e.end) + "], outside the " + std::to_string(data_size) +
                      " data bytes after the header");
    const std::optional<int64_t> numel = checkedProduct(e.shape);
    if (!numel) throw NormError(what + "has an absurd shape " + Shape(e.shape).str());
    const uint64_t span = e.end - e.begin;
    const size_t item = safetensorsItemSize(e.dtype);
    if (item != 0 && (span % item != 0 || span / item != static_cast<uint64_t>(*numel)))
      throw NormError(what + "has shape " + Shape(e.shape).str() + " of " + e.dtype + " (" +
                      std::to_string(*numel) + " values of " + std::to_string(item) +
                      " bytes) but its data_offsets span " + std::to_string(span) + " bytes");
    entries.push_back(std::move(e));
  }
  std::vector<const SafetensorsEntry*> by_offset;
  for (const SafetensorsEntry& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const auto* a, const auto* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i]->begin < by_offset[i - 1]->end)
      throw NormError("malformed .safetensors file: the data of tensors '" +
                      by_offset[i - 1]->name + "' and '" + by_offset[i]->name + "' overlap");
  return entries;
}

StoredDtype safetensorsDtype(const SafetensorsEntry& e) {
  if (e.dtype == "F32") return StoredDtype::Float32;
  if (e.dtype == "F64") return StoredDtype::Float64;
  if (e.dtype == "F16") return StoredDtype::Float16;
  if (e.dtype == "BF16") return StoredDtype::BFloat16;
  throw NormError("tensor '" + e.name + "' has dtype " + e.dtype +
                  ", which is not supported; normviz reads F32, F64, F16 and BF16: save it "
                  "with tensor.float()");
}

TensorFromFile readSafetensors(const ByteSource& src, const std::string& name,
                               const TensorFileLimits& limits, const std::string& label) {
  const uint64_t size = src.size();
  if (size < 8)
    throw NormError("truncated .safetensors file: " + std::to_string(size) +
                    " bytes, fewer than the 8-byte header length it starts with");
  const uint64_t header_len = readLe(src.read(0, 8).data(), 8);
  if (header_len > static_cast<uint64_t>(std::max<int64_t>(limits.max_index_bytes, 0)))
    throw NormError(".safetensors header is " + std::to_string(header_len) + " bytes (limit " +
                    std::to_string(limits.max_index_bytes) + "); is this a .safetensors file?");
  if (header_len > size - 8)
    throw NormError("truncated .safetensors file: the header is " + std::to_string(header_len) +
                    " bytes but " + std::to_string(size - 8) + " follow its length");
  const std::vector<uint8_t> text = src.read(8, header_len);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw NormError("malformed .safetensors header: not valid JSON (" + std::string(e.what()) +
                    ")");
  }
  const uint64_t data_start = 8 + header_len;
  const std::vector<SafetensorsEntry> entries = checkedEntries(header, size - data_start);
  std::vector<std::string> names;
  for (const SafetensorsEntry& e : entries) names.push_back(e.name);
  const SafetensorsEntry& e = entries[pickName(names, name, label)];
  const StoredDtype dtype = safetensorsDtype(e);
  if (e.shape.size() > static_cast<size_t>(kMaxRank))
    throw NormError("tensor '" + e.name + "' has rank " + std::to_string(e.shape.size()) +
                    "; normviz reads rank 0 to " + std::to_string(kMaxRank));
  const int64_t numel = *checkedProduct(e.shape);
  if (numel > limits.max_elements)
    throw NormError("tensor '" + e.name + "' of shape " + Shape(e.shape).str() + " has more than " +
                    std::to_string(limits.max_elements) + " elements; refusing to read it");
  TensorFromFile r =
      convert(dtype, shapeOf(e.shape), src.read(data_start + e.begin, e.end - e.begin));
  r.label = label.empty() ? e.name : label + ":" + e.name;
  return r;
}

// ---- entry points -------------------------------------------------------------------------------

bool endsWithIgnoringCase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), s.end() - static_cast<ptrdiff_t>(suffix.size()),
                    [](char a, char b) {
                      return std::tolower(static_cast<unsigned char>(a)) ==
                             std::tolower(static_cast<unsigned char>(b));
                    });
}

const char* formatName(TensorFileFormat format) {
  switch (format) {
    case TensorFileFormat::Npz:
      return ".npz";
    case TensorFileFormat::Safetensors:
      return ".safetensors";
    case TensorFileFormat::Npy:
      break;
  }
  return ".npy";
}

TensorFromFile readFrom(const ByteSource& src, TensorFileFormat format, const std::string& name,
                        const TensorFileLimits& limits, const std::string& label) {
  switch (format) {
    case TensorFileFormat::Npz:
      return readNpz(src, name, limits, label);
    case TensorFileFormat::Safetensors:
      return readSafetensors(src, name, limits, label);
    case TensorFileFormat::Npy:
      break;
  }
  if (!name.empty())
    throw NormError("a .npy file holds one array: there is no array '" + name + "' to pick");
  TensorFromFile r = readNpyFrom(src, limits);
  r.label = label;
  return r;
}

}  // namespace

TensorFileFormat tensorFileFormat(std::string_view path) {
  if (endsWithIgnoringCase(path, ".npz")) return TensorFileFormat::Npz;
  if (endsWithIgnoringCase(path, ".safetensors")) return TensorFileFormat::Safetensors;
  return TensorFileFormat::Npy;
}

TensorFileSpec splitTensorSpec(const std::string& spec) {
  for (size_t colon = spec.find(':'); colon != std::string::npos;
       colon = spec.find(':', colon + 1)) {
    if (tensorFileFormat(std::string_view(spec).substr(0, colon)) != TensorFileFormat::Npy)
      return {spec.substr(0, colon), spec.substr(colon + 1)};
  }
  return {spec, ""};
}

std::string npyPathBeside(const std::string& spec) {
  const TensorFileSpec s = splitTensorSpec(spec);
  if (tensorFileFormat(s.path) == TensorFileFormat::Npy) return spec;
  std::string out = s.path.substr(0, s.path.rfind('.'));  // the path ends in .npz or .safetensors
  const std::string_view name = std::string_view(s.name).substr(
      0, s.name.ends_with(".npy") ? s.name.size() - 4 : s.name.size());
  if (!name.empty()) out += '_';
  for (char c : name) {
    const bool plain = c != '/' && c != '\\' && c != ':' && static_cast<unsigned char>(c) >= 0x20;
    out += plain ? c : '_';
  }
  return out + ".npy";
}

TensorFromFile parseTensorFile(std::span<const uint8_t> bytes, TensorFileFormat format,
                               const std::string& name, const TensorFileLimits& limits,
                               const std::string& label) {
  return readFrom(MemorySource(bytes), format, name, limits, label);
}

TensorFromFile readTensorFile(const std::string& spec, const TensorFileLimits& limits) {
  const TensorFileSpec s = splitTensorSpec(spec);
  const TensorFileFormat format = tensorFileFormat(s.path);
  std::error_code ec;
  if (std::filesystem::is_directory(s.path, ec))
    throw NormError(s.path + ": is a directory, not a " + formatName(format) + " file");
  std::ifstream in(s.path, std::ios::binary);
  if (!in) throw NormError(s.path + ": cannot open: " + std::strerror(errno));
  try {
    return readFrom(FileSource(in), format, s.name, limits, s.path);
  } catch (const NormError& e) {
    throw NormError(s.path + ": " + e.what());
  }
}

}  // namespace normviz
