// Stepping through a kernel's reduction: a CPU emulator of one block reducing one group, recording
// what every thread holds and which input elements that value covers, stage by stage.
//
// The emulator runs the arithmetic of reduce_recipe.hpp, the header the CUDA kernels are built
// from, with the kernel's launch geometry (block size, warps of 32 lanes, vector width), so its
// final mean/var equal the GPU's bit for bit. A stage lists every thread of the block ("lane" is
// the thread index in the block; its warp is lane / 32). A lane is idle at a stage when the value
// it holds cannot reach the result (it holds nothing of the group, or a shuffle left it behind);
// idle lanes have no coverage.
//
// traceBackwardGroup does the same for the backward's block (backward_kernels.cu's
// backwardRowsKernel): two partials per lane (Σ g in `value`, Σ g·x̂ in `value2`), then dx.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "normviz/engine.hpp"
#include "normviz/plan.hpp"
#include "normviz/reduce_recipe.hpp"
#include "normviz/stats.hpp"
#include "normviz/tensor.hpp"

namespace normviz {

struct TraceOptions {
  VarianceStrategy strategy = VarianceStrategy::TwoPass;
  int block_size = 32;   // threads in the block, a multiple of 32, at most 1024
  int vector_width = 1;  // elements per load: 1, 2 or 4 (pairwise takes 1)
  ShuffleKind shuffle = ShuffleKind::Down;
  // Every lane's coverage is listed, so block_size x group size is bounded (a broadcast stage
  // lists the whole group for every thread).
  int64_t max_coverage = int64_t{1} << 21;
};

// "down" / "xor"
const char* shuffleName(ShuffleKind kind);
ShuffleKind parseShuffle(std::string_view name);

enum class StageKind {
  Load,           // thread-local loop: each thread accumulates its own elements
  Shuffle,        // one warp shuffle step (offset)
  SharedWrite,    // lane 0 of each warp writes the warp's total to shared memory
  CrossWarpLoad,  // warp 0 loads the warp totals
  Halve,          // pairwise: threads t < offset add the value of thread t + offset
  Mean,           // thread 0 holds the group's mean
  Broadcast,      // every thread reads the mean from shared memory
  Variance,       // thread 0 holds the group's variance
  Rstd,           // every thread has rstd = 1/sqrt(var + eps)
  Normalize,      // every thread writes y for its elements
  // The backward (traceBackwardGroup): blockSum2's last step and the elementwise dx.
  CrossWarpSum,   // every thread adds the warp totals from shared memory in warp order
  InputGradient,  // every thread writes dx for its elements
};
const char* stageKindName(StageKind kind);  // "load", "shuffle", "shared-write", ...

struct TraceLane {
  bool idle = true;
  float value = 0;              // the partial (sum, scaled sum, Welford mean, mean, var, rstd, y)
  WelfordState welford{};       // Welford: the partial's count, mean and M2
  float sumsq = 0;              // naive: the partial sum of squares beside the sum in `value`
  float value2 = 0;             // backward: the partial of Σ g·x̂ beside Σ g in `value`
  int source = -1;              // thread whose partial this lane combined at this stage, -1: none
  std::vector<int32_t> covers;  // positions j in ReductionTrace::elements, ascending; empty if idle
};

struct TraceStage {
  StageKind kind = StageKind::Load;
  std::string name;         // "load", "shuffle 16", "cross-warp shuffle 2", "halve 64", "mean", ...
  std::string explanation;  // one sentence for a learner
  int pass = 1;             // 1: the mean (or the single pass), 2: the variance
  int offset = 0;           // Shuffle/Halve: the distance between partners
  std::vector<TraceLane> lanes;  // one per thread of the block
};

struct ReductionTrace {
  int64_t group = 0;
  VarianceStrategy strategy = VarianceStrategy::TwoPass;
  int block_size = 32, vector_width = 1;
  ShuffleKind shuffle = ShuffleKind::Down;
  bool subtracts_mean = true;     // false for RMSNorm: one pass of x^2, mean reported as 0
  std::vector<int64_t> elements;  // flat input indices of the group, j order (row-major)
  std::vector<int> thread_of;     // per position j: the thread that loads it
  std::vector<TraceStage> stages;
  float mean = 0, var = 0, rstd = 0;  // the emulated kernel's results (backward: the saved ones)
  // Backward traces (traceBackwardGroup) only.
  bool backward = false;
  bool rows = true;  // the group is one contiguous row, as backwardRowsKernel reads it
  float sum_g = 0, sum_g_xhat = 0;  // Σ dy·w and Σ dy·w·x̂, as thread 0 stores them
  std::vector<float> dx;            // per position j

  int warps() const { return block_size / kWarpSize; }
};

// Emulates and records the reduction of `group` of plan over x. Throws NormError for a group out
// of range, an invalid block size or vector width, or a group too large to list (max_coverage).
ReductionTrace traceReduction(const Tensor& x, const ReductionPlan& plan, int64_t group,
                              const TraceOptions& options = {});
// The same from the group's values already gathered in j order (groupValues), so a caller that
// keeps only one group need not keep the whole input.
ReductionTrace traceGroupValues(const std::vector<float>& values, const ReductionPlan& plan,
                                int64_t group, const TraceOptions& options = {});

// ---- The backward: backward_kernels.cu's backwardRowsKernel ------------------------------------

// The threads of the backward's block (kBackwardBlock in backward_kernels.cu).
inline constexpr int kBackwardBlockSize = 256;

// One group's backward inputs, gathered in j order.
struct BackwardGroupInput {
  std::vector<float> x, dy;
  std::vector<float> weight;  // each element's weight; empty: no weight (1)
  float mean = 0, rstd = 1;   // the forward's saved statistics (float32)
};
// Gathers group `group` of x, dy and the weight (params.weight, if any) with its saved mean/rstd.
// Throws NormError for a group out of range or shapes that do not match the plan.
BackwardGroupInput backwardGroupInput(const Tensor& x, const Tensor& dy, const ReductionPlan& plan,
                                      const NormParams& params, const TensorD& mean,
                                      const TensorD& rstd, int64_t group);
// Emulates and records backwardRowsKernel's block on the group: each thread's Σ g and Σ g·x̂
// (g = dy·w, x̂ = (x - mean)·rstd) over its strided elements, blockSum2's xor shuffles and
// cross-warp sum of both, and dx for every element, in the kernel's float order: for a group that
// is one contiguous row (LayerNorm, RMSNorm, InstanceNorm, GroupNorm) the sums and dx equal the
// executed kernel's bit for bit. Other layouts (BatchNorm's channels) are traced on the gathered
// elements, and the explanations say how the real kernel differs. Throws NormError as
// traceGroupValues does.
ReductionTrace traceBackwardGroup(const BackwardGroupInput& input, const ReductionPlan& plan,
                                  int64_t group, int64_t max_coverage = int64_t{1} << 21);

// The same emulation without recording: the kernel's mean, var and rstd for M values given in
// group order. Any group size; throws NormError on invalid geometry.
struct KernelStats {
  float mean = 0, var = 0, rstd = 0;
};
KernelStats emulateGroupStats(const float* values, int64_t group_size, bool subtract_mean,
                              float eps, const TraceOptions& options);

// Every strategy's emulated result for one group against the float64 reference.
struct StrategyResult {
  VarianceStrategy strategy = VarianceStrategy::TwoPass;
  float mean = 0, var = 0;
  double mean_rel_error = 0, var_rel_error = 0;  // |x - ref| / |ref| (absolute when ref is 0)
};
struct StrategyComparison {
  double ref_mean = 0, ref_var = 0;     // float64 two-pass
  std::vector<StrategyResult> results;  // in kAllStrategies order
};
StrategyComparison compareStrategies(const float* values, int64_t group_size, bool subtract_mean,
                                     float eps, int block_size, int vector_width);
// The group's values in j order.
std::vector<float> groupValues(const Tensor& x, const ReductionPlan& plan, int64_t group);

}  // namespace normviz
