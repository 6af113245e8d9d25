// The parts of the GPU interface that need no device: the plan's memory layout and the choice
// between the CUDA and the emulated device. Built with and without CUDA alike. The variant names,
// which variants run a plan and the launch geometry come from the design table (designs.hpp), in
// emulated/designs.cpp.
#include <string>

#include "backends.hpp"
#include "host_layout.hpp"
#include "launch.hpp"
#include "normviz/error.hpp"
#include "normviz/gpu.hpp"

namespace normviz {

const char* gpuDeviceKindName(GpuDeviceKind kind) {
  return kind == GpuDeviceKind::Emulated ? "gpu-emulated" : "gpu";
}

const GpuDevice& gpuDevice(GpuDeviceKind kind) {
  return kind == GpuDeviceKind::Emulated ? gpu::emulated::backendDevice()
                                         : gpu::cuda::backendDevice();
}

GpuResult gpuCompute(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                     const GpuOptions& options) {
  return options.device == GpuDeviceKind::Emulated
             ? gpu::emulated::backendCompute(x, plan, params, options)
             : gpu::cuda::backendCompute(x, plan, params, options);
}

double gpuCopyBandwidthGbs() {
  return gpu::cuda::backendCopyBandwidthGbs();
}

bool gpuReduceOneGroup(const float* values, int64_t m, int block_size, int vector_width,
                       VarianceStrategy strategy, bool subtract_mean, float* mean_out,
                       float* var_out, std::string* error, GpuDeviceKind device,
                       ShuffleKind shuffle) {
  return device == GpuDeviceKind::Emulated
             ? gpu::emulated::backendReduceOneGroup(values, m, block_size, vector_width, strategy,
                                                    subtract_mean, shuffle, mean_out, var_out,
                                                    error)
             : gpu::cuda::backendReduceOneGroup(values, m, block_size, vector_width, strategy,
                                                subtract_mean, shuffle, mean_out, var_out, error);
}

namespace gpu {

void checkGpuRequest(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                     const GpuOptions& options) {
  const GpuDevice& device = gpuDevice(options.device);
  if (!device.usable) throw NormError("GPU backend unavailable: " + device.reason);
  if (!(x.shape == plan.shape()) || x.numel() != plan.shape().numel())
    throw NormError("input has shape " + x.shape.str() + " but the plan was made for " +
                    plan.shape().str());
  validateParams(plan, params);
  if (options.warmup < 0 || options.repeats < 0)
    throw NormError("GPU warm-up and repeat counts must not be negative");
}

HostLayout describeLayout(const ReductionPlan& plan, bool with_tables) {
  HostLayout l;
  l.numel = plan.shape().numel();
  if (l.numel > kMaxGpuElements)
    throw NormError("input of " + std::to_string(l.numel) +
                    " elements is too large for the GPU kernels (at most " +
                    std::to_string(kMaxGpuElements) + ", 32-bit indexing)");
  l.groups = plan.groupCount();
  l.group_size = plan.groupSize();
  l.run_length = plan.runLength();
  l.runs = l.group_size / l.run_length;
  l.eval_running = plan.kind() == NormKind::Batch && !plan.config().training;
  // One run per group means the reduced axes are the innermost ones (kept axes of size > 1 all
  // lie outside them), so group g is the block starting at g * group_size.
  l.rows = l.runs == 1;
  bool aligned = l.run_length % 4 == 0;
  if (!l.rows && with_tables) {
    l.group_base.resize(static_cast<size_t>(l.groups));
    for (int64_t g = 0; g < l.groups; ++g) {
      const int64_t base = plan.groupBase(g);
      l.group_base[static_cast<size_t>(g)] = static_cast<int32_t>(base);
      aligned = aligned && base % 4 == 0;
    }
    const int64_t base0 = plan.groupBase(0);
    l.run_offset.resize(static_cast<size_t>(l.runs));
    for (int64_t r = 0; r < l.runs; ++r) {
      const int64_t offset = plan.elementOf(0, r * l.run_length) - base0;
      l.run_offset[static_cast<size_t>(r)] = static_cast<int32_t>(offset);
      aligned = aligned && offset % 4 == 0;
    }
  }
  l.vec4 = aligned && (l.rows || with_tables);
  const std::vector<int>& axes = plan.affineAxes();
  l.affine_count = plan.affineShape().numel();
  for (int a = axes.back() + 1; a < plan.shape().rank(); ++a) l.affine_inner *= plan.shape()[a];
  l.affine_per_element = l.rows && l.affine_inner == 1 && l.affine_count == l.group_size;
  return l;
}

GroupAddress kernelLayout(const HostLayout& layout, const int32_t* group_base,
                          const int32_t* run_offset) {
  GroupAddress k;
  k.groups = static_cast<int32_t>(layout.groups);
  k.group_size = static_cast<int32_t>(layout.group_size);
  k.run_length = static_cast<int32_t>(layout.run_length);
  k.runs = static_cast<int32_t>(layout.runs);
  k.group_base = group_base;
  k.run_offset = run_offset;
  k.rows = layout.rows;
  k.vec4 = layout.vec4;
  return k;
}

AffineMap kernelAffine(const HostLayout& layout) {
  return {static_cast<int32_t>(layout.affine_inner), static_cast<int32_t>(layout.affine_count),
          layout.affine_per_element};
}

int recipeVectorWidth(const HostLayout& layout) {
  if (!layout.rows) return 1;
  if (layout.group_size % 4 == 0) return 4;
  if (layout.group_size % 2 == 0) return 2;
  return 1;
}

}  // namespace gpu

}  // namespace normviz
