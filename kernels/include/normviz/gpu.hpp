// The GPU backend's C++ face: no CUDA type appears here, so core/ and app/ build without nvcc.
#pragma once

#include <string>
#include <vector>

#include "normviz/backward.hpp"
#include "normviz/engine.hpp"
#include "normviz/plan.hpp"
#include "normviz/reduce_recipe.hpp"

namespace normviz {

// Which device runs the kernels: the CUDA GPU, or the emulated device, which executes the same
// kernel sources on the CPU (threads of a block as fibers, real barriers and warp shuffles) on any
// machine. The emulated device's times are CPU times, not GPU times.
enum class GpuDeviceKind { Cuda, Emulated };
const char* gpuDeviceKindName(GpuDeviceKind kind);  // "gpu", "gpu-emulated"

// What the runtime found. usable == false comes with a reason a user can act on
// ("built without CUDA", "no NVIDIA driver", "driver too old for this build", "no CUDA device").
struct GpuDevice {
  bool usable = false;
  std::string reason;
  std::string name;  // "NVIDIA H100 80GB HBM3"
  int sm_major = 0, sm_minor = 0;
  double peak_bandwidth_gbs = 0;  // from memory clock and bus width
  size_t memory_bytes = 0;
  int sm_count = 0;       // streaming multiprocessors
  size_t l2_bytes = 0;    // L2 cache size (flushed between timed repeats)
  bool emulated = false;  // the kernels run on the CPU (GpuDeviceKind::Emulated)
};

// Probes once and caches; cheap to call every frame. The emulated device is always usable.
const GpuDevice& gpuDevice(GpuDeviceKind kind = GpuDeviceKind::Cuda);

// Forward kernel designs a learner can compare. Not every variant runs every layer:
// gpuVariantsFor(plan) lists the ones that do. Each design's facts (name, description, which plans
// it runs, its launch) are one row of the table in kernels/src/designs.hpp.
enum class GpuVariant {
  Auto,             // the fastest correct kernel for the plan
  ThreadPerRow,     // naive: one thread walks a whole group
  BlockTree,        // one block per group, shared-memory tree (two-pass)
  WarpShuffle,      // one warp per group, __shfl_down_sync tree (two-pass)
  WarpWelford,      // one warp per group, Welford + Chan merges over shuffles
  VectorRegisters,  // 16-byte loads, the row held in registers
  SplitReduce,      // several blocks per group, Chan-merged partials (BatchNorm's few big groups)
};
const char* gpuVariantName(GpuVariant v);  // "auto", "thread-per-row", "block-tree", ...
// What the design does, in one line for a learner choosing one ("one thread walks a whole group
// three times: the naive design").
const char* gpuVariantDescription(GpuVariant v);
// Throws NormError listing the valid names for one that is not.
GpuVariant parseGpuVariant(std::string_view name);
// Every design, auto first, in the enum's order.
std::vector<GpuVariant> allGpuVariants();
std::vector<GpuVariant> gpuVariantsFor(const ReductionPlan& plan);
// "" when the design runs the plan (it is in gpuVariantsFor(plan)), otherwise why not: the reason
// gpuCompute refuses it with.
std::string gpuVariantUnsupported(const ReductionPlan& plan, GpuVariant v);

struct GpuOptions {
  GpuVariant variant = GpuVariant::Auto;
  int block_size = 256;          // where the variant takes one
  int warmup = 3, repeats = 20;  // timing: median of repeats after warm-up, L2 flushed between
  GpuDeviceKind device = GpuDeviceKind::Cuda;
};

struct GpuTimings {
  double kernel_ms = 0;  // median kernel time, CUDA events
  double h2d_ms = 0, d2h_ms = 0;
  double bytes_moved = 0;  // bytes read + written by the kernel(s)
  double gbs = 0;          // bytes_moved / kernel time
  double fraction_of_peak = 0;
};

struct GpuResult {
  NormResult result;  // same fields and meaning as the CPU engine's
  GpuTimings timings;
  GpuVariant variant = GpuVariant::Auto;  // the one that ran
};

// Runs the plan on options.device. Throws NormError with a clear reason when no usable device, out
// of memory, or a CUDA error (or, emulated, a kernel fault naming kernel, block and thread).
GpuResult gpuCompute(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                     const GpuOptions& options = {});

// The device-to-device copy bandwidth in GB/s (bytes read + written / time, median of repeats of a
// cudaMemcpy of 256 MiB): what a memory-bound kernel can hope for. Measured once; 0 without a GPU.
double gpuCopyBandwidthGbs();

// How a recipe variant (block-tree, warp-shuffle, warp-welford) launches for this plan: B threads
// reduce each group, loading V elements at a time (reduce_recipe.hpp's geometry). The trace
// emulator needs these to reproduce the kernel's statistics bit for bit. Throws NormError for a
// block size the variant cannot use.
struct GpuRecipeGeometry {
  int block_size = 32;
  int vector_width = 1;
};
GpuRecipeGeometry gpuRecipeGeometry(const ReductionPlan& plan, GpuVariant variant,
                                    const GpuOptions& options = {});

// Reduces m contiguous values as one group on the GPU with the recipe (one block of block_size
// threads, vector_width loads) and the given strategy; writes the float32 mean and variance.
// With subtract_mean false (RMSNorm) the mean is 0 and every strategy but pairwise sums x*x in
// the two-pass order; pairwise sums x*x/M. `shuffle` picks the warp step's intrinsic. Returns
// false with *error set when there is no usable device or a CUDA call fails. For checking the
// trace emulator against the device bit for bit.
bool gpuReduceOneGroup(const float* values, int64_t m, int block_size, int vector_width,
                       VarianceStrategy strategy, bool subtract_mean, float* mean_out,
                       float* var_out, std::string* error,
                       GpuDeviceKind device = GpuDeviceKind::Cuda,
                       ShuffleKind shuffle = ShuffleKind::Down);

// ---- backward (backward_kernels.cu, gpu_backward.cpp) -------------------------------------------

// Whether a GPU backward kernel runs this plan: BatchNorm (training and evaluation; split
// partials), and layers whose groups are contiguous rows: LayerNorm, RMSNorm, InstanceNorm,
// GroupNorm (one reduction pass for both sums). "" when it does, else why not.
std::string gpuBackwardUnsupported(const ReductionPlan& plan);

struct GpuBackwardResult {
  BackwardResult result;  // same fields and meaning as computeNormBackward's
  GpuTimings timings;     // kernel_ms covers every backward kernel of one run
};

// The backward on options.device from the forward's saved mean/rstd (float32). Throws NormError
// when no usable device, the plan has no backward kernel (gpuBackwardUnsupported), out of memory,
// or a CUDA error (on the emulated device: a kernel fault); callers fall back to
// computeNormBackward.
GpuBackwardResult gpuBackward(const Tensor& x, const Tensor& dy, const ReductionPlan& plan,
                              const NormParams& params, const TensorD& mean, const TensorD& rstd,
                              const GpuOptions& options = {});

}  // namespace normviz
