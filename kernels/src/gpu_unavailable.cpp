// The GPU interface when the build has no CUDA: every call that needs a device says why there is
// none.
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

GpuResult gpuCompute(const Tensor&, const ReductionPlan&, const NormParams&, const GpuOptions&) {
  throw NormError(std::string("GPU backend unavailable: ") + kNoCuda);
}

double gpuCopyBandwidthGbs() {
  return 0;
}

GpuBackwardResult gpuBackward(const Tensor&, const Tensor&, const ReductionPlan&,
                              const NormParams&, const TensorD&, const TensorD&,
                              const GpuOptions&) {
  throw NormError(std::string("GPU backend unavailable: ") + kNoCuda);
}

bool gpuReduceOneGroup(const float*, int64_t, int, int, VarianceStrategy, bool, float*, float*,
                       std::string* error) {
  if (error) *error = kNoCuda;
  return false;
}

}  // namespace normviz
