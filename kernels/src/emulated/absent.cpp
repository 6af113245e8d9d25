// The emulated device where the build has none: the browser, whose WebAssembly has no Boost.Context
// to run a block's threads as fibers. Every call says so, the way gpu_unavailable.cpp does for a
// build without CUDA; the design table (designs.cpp) still links against these launches, which are
// never reached, since gpuCompute refuses an unusable device first.
#include "../backends.hpp"
#include "../launch.hpp"
#include "normviz/error.hpp"

namespace normviz::gpu {
inline namespace emulated {

namespace {
const char* const kAbsent =
    "the emulated GPU device is not part of this build (in the browser a block's threads need "
    "fibers, which WebAssembly runs only with Asyncify)";
}  // namespace

const GpuDevice& backendDevice() {
  static const GpuDevice device = [] {
    GpuDevice d;
    d.reason = kAbsent;
    d.emulated = true;
    return d;
  }();
  return device;
}

GpuResult backendCompute(const Tensor&, const ReductionPlan&, const NormParams&,
                         const GpuOptions&) {
  throw NormError(std::string("GPU backend unavailable: ") + kAbsent);
}

double backendCopyBandwidthGbs() {
  return 0;
}

bool backendReduceOneGroup(const float*, int64_t, int, int, VarianceStrategy, bool, ShuffleKind,
                           float*, float*, std::string* error) {
  if (error) *error = kAbsent;
  return false;
}

GpuBackwardResult backendBackward(const Tensor&, const Tensor&, const ReductionPlan&,
                                  const NormParams&, const TensorD&, const TensorD&,
                                  const GpuOptions&) {
  throw NormError(std::string("GPU backend unavailable: ") + kAbsent);
}

std::string launchThreadPerRow(const KernelArgs&) {
  return kAbsent;
}
std::string launchBlockTree(const KernelArgs&, int, int) {
  return kAbsent;
}
std::string launchWarp(const KernelArgs&, bool, int) {
  return kAbsent;
}
std::string launchVectorRegisters(const KernelArgs&) {
  return kAbsent;
}
int64_t splitChunks(int64_t) {
  return 1;
}
std::string launchSplitReduce(const KernelArgs&, float*) {
  return kAbsent;
}
std::string launchEvalRunning(const KernelArgs&, const float*, const float*) {
  return kAbsent;
}

}  // namespace emulated
}  // namespace normviz::gpu
