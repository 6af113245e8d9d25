// The parts of the GPU interface that need no device: variant names, which variants run a plan,
// the launch geometry, the plan's memory layout, and the choice between the CUDA and the emulated
// device. Built with and without CUDA alike.
#include <algorithm>
#include <string>

#include "backends.hpp"
#include "host_layout.hpp"
#include "launch.hpp"
#include "normviz/error.hpp"
#include "normviz/gpu.hpp"
#include "normviz/reduce_recipe.hpp"

namespace normviz {

namespace {

// The most values a Welford lane counts exactly in float32.
constexpr int64_t kWelfordMaxPerLane = int64_t{1} << 24;

constexpr GpuVariant kAllVariants[] = {GpuVariant::Auto,        GpuVariant::ThreadPerRow,
                                       GpuVariant::BlockTree,   GpuVariant::WarpShuffle,
                                       GpuVariant::WarpWelford, GpuVariant::VectorRegisters,
                                       GpuVariant::SplitReduce};

}  // namespace

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
    case GpuVariant::SplitReduce:
      return "split-reduce";
  }
  return "?";
}

GpuVariant parseGpuVariant(std::string_view name) {
  std::string valid;
  for (GpuVariant v : kAllVariants) {
    if (name == gpuVariantName(v)) return v;
    valid += (valid.empty() ? "" : ", ") + std::string(gpuVariantName(v));
  }
  throw NormError("unknown GPU variant '" + std::string(name) + "'; expected one of " + valid);
}

std::vector<GpuVariant> gpuVariantsFor(const ReductionPlan& plan) {
  if (plan.shape().numel() > gpu::kMaxGpuElements) return {};  // none indexes that far
  const gpu::HostLayout layout = gpu::describeLayout(plan, false);
  // Evaluation-mode BatchNorm reduces nothing: one elementwise kernel, whatever the choice.
  if (layout.eval_running) return {GpuVariant::Auto};
  std::vector<GpuVariant> variants = {GpuVariant::Auto, GpuVariant::ThreadPerRow,
                                      GpuVariant::BlockTree, GpuVariant::WarpShuffle};
  // Welford counts in float32, exact up to 2^24: past 2^24 values per lane the count stops
  // growing and the mean drifts.
  if (layout.group_size <= kWarpSize * kWelfordMaxPerLane)
    variants.push_back(GpuVariant::WarpWelford);
  if (gpu::vectorRegistersFit(layout)) variants.push_back(GpuVariant::VectorRegisters);
  variants.push_back(GpuVariant::SplitReduce);
  return variants;
}

GpuRecipeGeometry gpuRecipeGeometry(const ReductionPlan& plan, GpuVariant variant,
                                    const GpuOptions& options) {
  const gpu::HostLayout layout = gpu::describeLayout(plan, false);
  GpuRecipeGeometry g;
  g.vector_width = gpu::recipeVectorWidth(layout);
  switch (variant) {
    case GpuVariant::BlockTree:
      if (!validBlockSize(options.block_size))
        throw NormError("block size " + std::to_string(options.block_size) +
                        " is not a multiple of 32 between 32 and 1024");
      g.block_size = options.block_size;
      return g;
    case GpuVariant::WarpShuffle:
    case GpuVariant::WarpWelford:
      g.block_size = kWarpSize;
      return g;
    default:
      throw NormError(std::string("the ") + gpuVariantName(variant) +
                      " kernel does not follow the reduction recipe; only block-tree, "
                      "warp-shuffle and warp-welford do");
  }
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

bool vectorRegistersFit(const HostLayout& layout) {
  return layout.rows && layout.group_size % 4 == 0 && layout.group_size <= kVectorMaxRow;
}

int recipeVectorWidth(const HostLayout& layout) {
  if (!layout.rows) return 1;
  if (layout.group_size % 4 == 0) return 4;
  if (layout.group_size % 2 == 0) return 2;
  return 1;
}

GpuVariant resolveAuto(const HostLayout& layout, int sm_count) {
  const int64_t sms = std::max(sm_count, 1);
  if (layout.rows) {
    // Enough rows to fill the device: one pass over registers moves the fewest bytes.
    if (vectorRegistersFit(layout) && layout.groups >= sms) return GpuVariant::VectorRegisters;
    // Few long rows: one block (or warp) per row would leave multiprocessors idle.
    if (layout.groups < 2 * sms && layout.group_size >= 8192) return GpuVariant::SplitReduce;
    return layout.group_size <= 2048 ? GpuVariant::WarpShuffle : GpuVariant::BlockTree;
  }
  // Strided groups. One element per run (channels-last LayerNorm: a group per pixel) with many
  // groups: a thread per group reads neighbouring addresses across a warp, which coalesces.
  if (layout.run_length == 1 && layout.groups >= 32 * sms) return GpuVariant::ThreadPerRow;
  return GpuVariant::SplitReduce;
}

}  // namespace gpu

}  // namespace normviz
