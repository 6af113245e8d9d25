// libFuzzer target for the tensor file parsers: any bytes either parse or throw NormError, never
// crash, as .npy, as .npz and as .safetensors (one target for all three keeps CI's time; the
// corpus holds seeds of each).
//
// A successful .npy parse must also survive a float64 round trip bit for bit (serialize, parse
// again), so the fuzzer checks the writer and the reader against each other too; a tensor read
// from any format must have as many values as its shape says.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "normviz/error.hpp"
#include "normviz/npy.hpp"
#include "normviz/tensor_file.hpp"

namespace {

// The same bytes as each container format, with the only array or a named one; the limits as
// small as the .npy check's.
void parseContainers(std::span<const uint8_t> bytes) {
  normviz::TensorFileLimits limits;
  limits.max_elements = int64_t{1} << 20;
  limits.max_header_bytes = 1 << 12;
  limits.max_index_bytes = 1 << 16;
  for (auto format : {normviz::TensorFileFormat::Npz, normviz::TensorFileFormat::Safetensors,
                      normviz::TensorFileFormat::Npy}) {
    for (const char* name : {"", "x"}) {
      if (format == normviz::TensorFileFormat::Npy && *name != '\0') continue;
      try {
        const normviz::TensorFromFile t = normviz::parseTensorFile(bytes, format, name, limits);
        if (t.tensor.numel() != t.tensor.shape.numel()) std::abort();
      } catch (const normviz::NormError&) {
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parseContainers(std::span<const uint8_t>(data, size));
  normviz::NpyLimits limits;
  limits.max_elements = int64_t{1} << 20;  // keep each run small; the checks are the same
  limits.max_header_bytes = 1 << 12;
  normviz::TensorD t;
  try {
    t = normviz::parseNpy(std::span<const uint8_t>(data, size), limits);
  } catch (const normviz::NormError&) {
    return 0;  // rejected with a message: the expected outcome for most inputs
  }
  // Rank 0 reads as (1); everything else keeps its dims.
  if (t.numel() != t.shape.numel()) std::abort();
  const std::string bytes = normviz::toNpyBytes(t, normviz::NpyDtype::Float64);
  const normviz::TensorD back = normviz::parseNpy(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  if (!(back.shape == t.shape) || back.data.size() != t.data.size() ||
      (!t.data.empty() &&
       std::memcmp(back.data.data(), t.data.data(), t.data.size() * sizeof(double)) != 0)) {
    std::abort();
  }
  return 0;
}
