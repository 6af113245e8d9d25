// What the host side hands the CUDA kernels: plain structs and launch functions, no CUDA types.
//
// The host (gpu_runtime.cpp, built by the C++ compiler) turns a ReductionPlan into a KernelArgs
// with device pointers, and calls one launch function per design; norm_kernels.cu implements them.
// Every launch is asynchronous on the default stream and returns an error text ("" on success).
#pragma once

#include <cstdint>
#include <string>

// The emulated device compiles these same sources with the host compiler into the same program
// as the CUDA build: its symbols live in their own inline namespace, so the two never collide.
#if defined(NORMVIZ_DEVICE_EMULATION)
#define NORMVIZ_KERNELS_NAMESPACE emulated
#else
#define NORMVIZ_KERNELS_NAMESPACE cuda
#endif

namespace normviz::gpu {
inline namespace NORMVIZ_KERNELS_NAMESPACE {

// Where element j of group g lives: group_base[g] + run_offset[j / run_length] + j % run_length.
// A group is `runs` contiguous runs of `run_length` elements (ReductionPlan::forEachRun). The two
// small tables come from the plan's own mapping, so any layer, custom axes included, is addressed
// exactly as the CPU engine addresses it. `rows`: every group is one contiguous block and group g
// starts at g * group_size (LayerNorm, RMSNorm, InstanceNorm, GroupNorm), so no table is read.
struct GroupAddress {
  int32_t groups = 0, group_size = 0, run_length = 0, runs = 0;
  const int32_t* group_base = nullptr;  // device, `groups` entries
  const int32_t* run_offset = nullptr;  // device, `runs` entries
  bool rows = false;
  // Every aligned quadruple j..j+3 (j % 4 == 0) is 4 adjacent floats at a 16-byte boundary.
  bool vec4 = false;
};

// Weight/bias index of flat element f: (f / inner) % count. Every layer's affine axes are a
// contiguous block of the input's axes (the channel axis, or LayerNorm's trailing axes), so one
// division and one modulo find it. `per_element`: the index equals j within a row (LayerNorm).
struct AffineMap {
  int32_t inner = 1, count = 1;
  bool per_element = false;
};

// Statistics a launch writes, one entry per group (row-major over the plan's statShape).
struct KernelArgs {
  const float* x = nullptr;
  float* y = nullptr;
  float* mean = nullptr;
  float* var = nullptr;
  float* rstd = nullptr;
  const float* weight = nullptr;  // null: 1
  const float* bias = nullptr;    // null: 0
  AffineMap affine;
  GroupAddress layout;
  float eps = 1e-5f;
  bool subtract_mean = true;  // false: RMSNorm (mean reported as 0, var is the mean square)
  // BatchNorm training: running statistics updated in place when non-null.
  // new = (1 - factor) * old + factor * batch, with the unbiased variance for running_var.
  float* running_mean = nullptr;
  float* running_var = nullptr;
  float running_factor = 0.1f;
};

// One thread walks a whole group three times (mean, variance, output). The naive design.
std::string launchThreadPerRow(const KernelArgs& a);

// One block of `block_size` threads per group; shared-memory tree; two-pass. vector_width 1, 2, 4.
std::string launchBlockTree(const KernelArgs& a, int block_size, int vector_width);

// One warp per group, shuffle tree. welford: Welford + Chan merges; otherwise two-pass.
std::string launchWarp(const KernelArgs& a, bool welford, int vector_width);

// Rows only, group_size % 4 == 0 and <= kVectorMaxRow: 16-byte loads, the row kept in registers
// (K float4 per thread in a team of threads per row), two passes over registers, one read of x.
inline constexpr int32_t kVectorMaxRow = 1024 * 8 * 4;
std::string launchVectorRegisters(const KernelArgs& a);

// Several blocks per group (BatchNorm's few large groups): each block reduces a chunk to a
// (count, mean, M2) partial; a second kernel Chan-merges the partials of its group and writes y.
// partials: device scratch of 3 * groups * splitChunks(group_size) floats.
int64_t splitChunks(int64_t group_size);
std::string launchSplitReduce(const KernelArgs& a, float* partials);

// BatchNorm evaluation: elementwise with the running statistics; group of f is (f / inner) % C,
// the same map as the affine one. Writes mean = running_mean, var = running_var and their rstd.
std::string launchEvalRunning(const KernelArgs& a, const float* running_mean,
                              const float* running_var);

// "" when the kernels were built for this device; otherwise the CUDA error (no kernel image).
std::string probeKernelImage();

// One group of m values through the reduction recipe, exactly as the block-tree / warp kernels
// reduce (block_size threads, vector_width loads). out[0] = mean, out[1] = var (device pointers).
// strategy: 0 two-pass, 1 Welford, 2 naive, 3 pairwise (the order of VarianceStrategy).
// shuffle: 0 __shfl_down_sync, 1 __shfl_xor_sync (the order of ShuffleKind).
std::string launchReduceOneGroup(const float* values, int32_t m, int block_size, int vector_width,
                                 int strategy, bool subtract_mean, int shuffle, float* out);

}  // namespace NORMVIZ_KERNELS_NAMESPACE
}  // namespace normviz::gpu
