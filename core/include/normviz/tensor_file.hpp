// Reading one tensor from a .npy, .npz or .safetensors file as float32, saying how its values were
// converted (float16 and bfloat16 widened exactly, float64 rounded).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "normviz/tensor.hpp"

namespace normviz {

// The element types normviz reads; every one arrives as float32.
enum class StoredDtype { Float16, BFloat16, Float32, Float64 };
// "float16", "bfloat16", "float32", "float64": numpy's and PyTorch's spelling.
const char* storedDtypeName(StoredDtype dtype);
size_t storedDtypeSize(StoredDtype dtype);

enum class TensorFileFormat { Npy, Npz, Safetensors };
// The format a path's extension names (.npz, .safetensors, either case); anything else is .npy.
TensorFileFormat tensorFileFormat(std::string_view path);

struct TensorFileLimits {
  int64_t max_elements = int64_t{1} << 28;  // refuse absurd sizes before allocating
  int64_t max_header_bytes = 1 << 16;       // a .npy header (also inside an .npz)
  int64_t max_index_bytes = 1 << 24;        // an .npz's central directory, a .safetensors header
};

// "PATH[:NAME]" as a user writes it for --input and the other file flags. The name is split off
// only where the text before the colon ends in .npz or .safetensors (the first such colon), so
// any other path, colons and all, is a path.
struct TensorFileSpec {
  std::string path;
  std::string name;  // "" = the file's only array
};
TensorFileSpec splitTensorSpec(const std::string& spec);
// Where the tensor `spec` names is saved as .npy beside its file: a .npy path as it is,
// "d.npz:x" as "d_x.npy", "m.safetensors" as "m.npy"; never the .npz or .safetensors itself.
std::string npyPathBeside(const std::string& spec);

// A tensor read from a file, with what reading it did to the values.
struct TensorFromFile {
  Tensor tensor;
  StoredDtype stored = StoredDtype::Float32;
  std::string label;       // "x.npz:act": the path, and for .npz/.safetensors the array's name
  std::string conversion;  // "" for float32, else "bfloat16, widened to float32 exactly", ...
  // "x.npz:act is bfloat16, widened to float32 exactly", or "" when nothing was converted.
  std::string note() const { return conversion.empty() ? "" : label + " is " + conversion; }
};

// Parses a whole file's bytes and returns array `name` ("" = the only one; in an .npz with or
// without the .npy suffix numpy.savez adds). `label` is the file's name in the result's label.
// Throws NormError with a specific reason (truncated, corrupt deflate data, sizes that disagree,
// bad JSON, offsets out of range, an unsupported dtype naming it, ...); never allocates beyond
// the limits, whatever sizes the file claims.
TensorFromFile parseTensorFile(std::span<const uint8_t> bytes, TensorFileFormat format,
                               const std::string& name, const TensorFileLimits& limits = {},
                               const std::string& label = "");
// Reads "PATH[:NAME]" (splitTensorSpec), reading only the parts of the file it needs; the error
// names the file.
TensorFromFile readTensorFile(const std::string& spec, const TensorFileLimits& limits = {});

}  // namespace normviz
