// The CUDA side of the GPU interface when the build has no CUDA: every call that needs a device
// says why there is none. The emulated device is built either way.
#include "backends.hpp"
#include "normviz/error.hpp"

namespace normviz::gpu {
inline namespace cuda {

#if defined(__EMSCRIPTEN__)
static const char* kNoCuda = "a browser cannot run CUDA (the emulated device runs its kernels)";
#else
static const char* kNoCuda = "built without CUDA (nvcc was not found at configure time)";
#endif

const GpuDevice& backendDevice() {
  static const GpuDevice device = [] {
    GpuDevice d;
    d.reason = kNoCuda;
    return d;
  }();
  return device;
}

GpuResult backendCompute(const Tensor&, const ReductionPlan&, const NormParams&,
                         const GpuOptions&) {
  throw NormError(std::string("GPU backend unavailable: ") + kNoCuda);
}

double backendCopyBandwidthGbs() {
  return 0;
}

bool backendReduceOneGroup(const float*, int64_t, int, int, VarianceStrategy, bool, ShuffleKind,
                           float*, float*, std::string* error) {
  if (error) *error = kNoCuda;
  return false;
}

GpuBackwardResult backendBackward(const Tensor&, const Tensor&, const ReductionPlan&,
                                  const NormParams&, const TensorD&, const TensorD&,
                                  const GpuOptions&) {
  throw NormError(std::string("GPU backend unavailable: ") + kNoCuda);
}

}  // namespace cuda
}  // namespace normviz::gpu
