// Which plans the GPU backward kernels run (decided without a device) and gpuBackward's choice of
// device; built with and without CUDA.
#include <string>

#include "backends.hpp"
#include "host_layout.hpp"
#include "normviz/gpu.hpp"

namespace normviz {

std::string gpuBackwardUnsupported(const ReductionPlan& plan) {
  if (plan.shape().numel() > gpu::kMaxGpuElements)
    return "input of " + std::to_string(plan.shape().numel()) +
           " elements is too large for the GPU kernels (32-bit indexing)";
  const NormKind kind = plan.kind();
  if (kind == NormKind::Batch) return "";
  const gpu::HostLayout layout = gpu::describeLayout(plan, false);
  if (layout.rows && (kind == NormKind::Layer || kind == NormKind::RMS) &&
      layout.affine_per_element)
    return "";
  if (layout.rows && (kind == NormKind::Instance || kind == NormKind::Group)) return "";
  return std::string("no GPU backward kernel for ") + normKindTitle(kind) + " on " +
         plan.shape().str() + " (its groups are not contiguous rows); the CPU backward computes it";
}

GpuBackwardResult gpuBackward(const Tensor& x, const Tensor& dy, const ReductionPlan& plan,
                              const NormParams& params, const TensorD& mean, const TensorD& rstd,
                              const GpuOptions& options) {
  return options.device == GpuDeviceKind::Emulated
             ? gpu::emulated::backendBackward(x, dy, plan, params, mean, rstd, options)
             : gpu::cuda::backendBackward(x, dy, plan, params, mean, rstd, options);
}

}  // namespace normviz
