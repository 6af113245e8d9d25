// Private to normviz_core: a checked .npy header, shared by npy.cpp and tensor_file.cpp (which
// reads .npy files inside .npz archives, and float16 data too).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "normviz/npy.hpp"
#include "normviz/tensor_file.hpp"

namespace normviz {

// std::bit_cast, which the browser build's C++ library (Emscripten 3.1.6) does not have yet.
template <typename To, typename From>
To bitCast(const From& from) {
  static_assert(sizeof(To) == sizeof(From));
  To to;
  std::memcpy(&to, &from, sizeof(To));
  return to;
}

// What the header says, validated against the limits; data_offset is where the data starts.
struct NpyHeader {
  StoredDtype dtype = StoredDtype::Float32;
  std::vector<int64_t> dims;  // as written (rank 0 allowed)
  int64_t numel = 1;
  size_t data_offset = 0;
  uint64_t dataBytes() const { return static_cast<uint64_t>(numel) * storedDtypeSize(dtype); }
};

// The largest .npy preamble (format 2.0 and 3.0): magic, 2 version bytes, uint32 header length.
inline constexpr size_t kNpyPreambleMax = 12;

// Reads the preamble and header from the start of a file and checks that the data fills the rest
// exactly. `prefix` may hold only the first part of the file (at least the preamble and header);
// total_size is the whole file's size. '<f2' is accepted only with accept_float16.
NpyHeader parseNpyHeader(std::span<const uint8_t> prefix, uint64_t total_size,
                         const NpyLimits& limits, bool accept_float16);

}  // namespace normviz
