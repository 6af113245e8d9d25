// What the host hands the CUDA backward kernels: one plain struct and the launch functions.
//
// backward_kernels.cu implements them; gpu_backward.cpp (built by the C++ compiler) fills the
// struct with device pointers. Every launch is asynchronous on the default stream and returns an
// error text ("" on success), as the forward's launches do (launch.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "launch.hpp"

namespace normviz::gpu {
inline namespace NORMVIZ_KERNELS_NAMESPACE {

struct BackwardArgs {
  const float* x = nullptr;
  const float* dy = nullptr;
  const float* mean = nullptr;  // the forward's saved statistics, one per group
  const float* rstd = nullptr;
  const float* weight = nullptr;  // null: 1
  float* dx = nullptr;
  float* sum_dy_w = nullptr;       // Σ dy·w per group
  float* sum_dy_w_xhat = nullptr;  // Σ dy·w·x̂ per group
  float* dweight = nullptr;        // null: not wanted (no weight and no bias)
  float* dbias = nullptr;
  AffineMap affine;
  GroupAddress layout;
  bool subtract_mean = true;  // false: RMSNorm (no mean(g) term)
  bool coupled = true;        // false: BatchNorm evaluation, dx = dy·w·rstd
};

// Rows (every group one contiguous block: LayerNorm, RMSNorm, InstanceNorm, GroupNorm): one block
// per group forms both sums in one pass over x and dy, then writes dx. dweight/dbias follow in a
// second kernel over the affine slots. scratch: backwardRowsScratch(a) floats.
int64_t backwardRowsScratch(const BackwardArgs& a);
std::string launchBackwardRows(const BackwardArgs& a, float* scratch);

// InstanceNorm and GroupNorm (every group whole channels of one sample): one block per (sample,
// channel) run forms that run's Σ dy·x̂ and Σ dy; a second kernel merges each group's runs in a
// fixed order into the group's two sums and writes dx for its run; dweight/dbias add the runs'
// partials over the samples. partials: backwardChannelsScratch(a) floats.
bool backwardChannelsApplies(const BackwardArgs& a);
int64_t backwardChannelsScratch(const BackwardArgs& a);
std::string launchBackwardChannels(const BackwardArgs& a, float* partials);

// BatchNorm (few large strided groups; weight slot = group): each block sums a chunk of its group
// to (Σ dy, Σ dy·(x - mean)) partials; a second kernel merges its group's partials in a fixed
// order, writes the sums, dweight/dbias (first chunk) and dx for its chunk. partials: 2 * groups *
// backwardSplitChunks(group_size) floats.
int64_t backwardSplitChunks(int64_t group_size);
std::string launchBackwardSplit(const BackwardArgs& a, float* partials);

}  // namespace NORMVIZ_KERNELS_NAMESPACE
}  // namespace normviz::gpu
