// libFuzzer target for the .npy parser: any bytes either parse or throw NormError, never crash.
//
// A successful parse must also survive a float64 round trip bit for bit (serialize, parse again),
// so the fuzzer checks the writer and the reader against each other too.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "normviz/error.hpp"
#include "normviz/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
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
