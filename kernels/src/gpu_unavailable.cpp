// The GPU interface when the build has no CUDA: every call says why there is no GPU backend.
#include "normviz/error.hpp"
#include "normviz/gpu.hpp"

namespace normviz {

static const char* kNoCuda = "built without CUDA (nvcc was not found at configure time)";

const GpuDevice& gpuDevice() {
  static const GpuDevice device = [] {
    GpuDevice d;
    d.reason = kNoCuda;
    return d;
  }();
  return device;
}

const char* gpuVariantName(GpuVariant v) {
  switch (v) {
    case GpuVariant::Auto:
      return "auto";
    case GpuVariant::ThreadPerRow:
      return "thread-per-row";
    case GpuVariant::BlockTree:
      return "block-tree";
    case GpuVariant::WarpShuffle:
      return "warp-shuffle";
    case GpuVariant::WarpWelford:
      return "warp-welford";
    case GpuVariant::VectorRegisters:
      return "vector-registers";
  }
  return "?";
}

GpuVariant parseGpuVariant(std::string_view name) {
  for (GpuVariant v :
       {GpuVariant::Auto, GpuVariant::ThreadPerRow, GpuVariant::BlockTree, GpuVariant::WarpShuffle,
        GpuVariant::WarpWelford, GpuVariant::VectorRegisters})
    if (name == gpuVariantName(v)) return v;
  throw NormError("unknown GPU variant '" + std::string(name) +
                  "'; expected auto, thread-per-row, block-tree, warp-shuffle, warp-welford or "
                  "vector-registers");
}

std::vector<GpuVariant> gpuVariantsFor(const ReductionPlan&) {
  return {};
}

GpuResult gpuCompute(const Tensor&, const ReductionPlan&, const NormParams&, const GpuOptions&) {
  throw NormError(std::string("GPU backend unavailable: ") + kNoCuda);
}

}  // namespace normviz
