// The device-free public face of the design table (../designs.hpp): names, descriptions, which
// designs run a plan, the recipe geometry. Built here, against the emulated device's copy of the
// table, because that copy exists in every configuration (the CUDA copy only when nvcc is found);
// the facts other than the launches are the same in both copies.
#include "../designs.hpp"

#include <string>
#include <vector>

#include "../host_layout.hpp"
#include "normviz/error.hpp"
#include "normviz/gpu.hpp"

namespace normviz {

const char* gpuVariantName(GpuVariant v) {
  const gpu::Design* d = gpu::findDesign(v);
  return d ? d->name : "?";
}

const char* gpuVariantDescription(GpuVariant v) {
  const gpu::Design* d = gpu::findDesign(v);
  return d ? d->description : "";
}

GpuVariant parseGpuVariant(std::string_view name) {
  std::string valid;
  for (const gpu::Design& d : gpu::kDesigns) {
    if (name == d.name) return d.variant;
    if (!valid.empty()) valid += ", ";
    valid += d.name;
  }
  throw NormError("unknown GPU variant '" + std::string(name) + "'; expected one of " + valid);
}

std::vector<GpuVariant> allGpuVariants() {
  std::vector<GpuVariant> all;
  for (const gpu::Design& d : gpu::kDesigns) all.push_back(d.variant);
  return all;
}

std::string gpuVariantUnsupported(const ReductionPlan& plan, GpuVariant v) {
  const gpu::Design& design = gpu::designOf(v);
  // Too large an input runs on no design: describeLayout says why.
  try {
    return design.fit(gpu::describeLayout(plan, false));
  } catch (const NormError& e) {
    return e.what();
  }
}

std::vector<GpuVariant> gpuVariantsFor(const ReductionPlan& plan) {
  if (plan.shape().numel() > gpu::kMaxGpuElements) return {};  // none indexes that far
  const gpu::HostLayout layout = gpu::describeLayout(plan, false);
  std::vector<GpuVariant> variants;
  for (const gpu::Design& d : gpu::kDesigns)
    if (d.fit(layout).empty()) variants.push_back(d.variant);
  return variants;
}

GpuRecipeGeometry gpuRecipeGeometry(const ReductionPlan& plan, GpuVariant variant,
                                    const GpuOptions& options) {
  return gpu::recipeGeometry(gpu::designOf(variant), gpu::describeLayout(plan, false), options);
}

}  // namespace normviz
