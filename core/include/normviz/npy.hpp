// Reading and writing NumPy .npy files (format 1.0/2.0, little-endian float32/float64, C order).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "normviz/tensor.hpp"

namespace normviz {

enum class NpyDtype { Float32, Float64 };

struct NpyLimits {
  int64_t max_elements = int64_t{1} << 28;  // refuse absurd sizes before allocating
  int64_t max_header_bytes = 1 << 16;
};

// Parses .npy bytes into float64 storage (float32 data widened exactly). Throws NormError with a
// specific reason: bad magic, unsupported version, truncated header or data, big-endian, Fortran
// order, unsupported dtype, header/shape mismatch, absurd sizes. Never allocates beyond the limits.
TensorD parseNpy(std::span<const uint8_t> bytes, const NpyLimits& limits = {});
// Reads a file; the error names the path.
TensorD readNpy(const std::string& path, const NpyLimits& limits = {});
// Reads a file as float32 (float64 data rounded to nearest), as inputs and weights are.
Tensor readNpyF32(const std::string& path, const NpyLimits& limits = {});

// Serializes as format 1.0, C order, little-endian.
std::string toNpyBytes(const TensorD& t, NpyDtype dtype);
// Writes atomically (temporary file, then rename); throws NormError naming the path on failure.
void writeNpy(const std::string& path, const TensorD& t, NpyDtype dtype);

}  // namespace normviz
