// Which plans the GPU backward kernels run: decided without a device, built with and without CUDA.
#include <string>

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

}  // namespace normviz
