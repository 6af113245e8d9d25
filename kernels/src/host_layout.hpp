// How a ReductionPlan lands in GPU memory: the host-side facts every launch and every design's fit
// check (designs.hpp) use.
#pragma once

#include <cstdint>
#include <vector>

#include "launch.hpp"
#include "normviz/gpu.hpp"
#include "normviz/plan.hpp"

namespace normviz::gpu {

struct HostLayout {
  int64_t numel = 0, groups = 0, group_size = 0, run_length = 0, runs = 0;
  bool rows = false;          // each group one contiguous block, group g at g * group_size
  bool vec4 = false;          // aligned quadruples of a group are adjacent, 16-byte aligned floats
  bool eval_running = false;  // BatchNorm evaluation: normalize with the running statistics
  std::vector<int32_t> group_base, run_offset;  // the plan's element mapping (empty for rows)
  int64_t affine_inner = 1, affine_count = 1;   // weight slot of flat f: (f / inner) % count
  bool affine_per_element = false;              // the slot is j within a row (LayerNorm)
};

// What every GPU entry point checks before touching the device: a usable device, x of the plan's
// shape, parameters of the plan's shapes, non-negative repeat counts. Throws NormError.
void checkGpuRequest(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                     const GpuOptions& options);

// Largest input the kernels index with 32-bit integers.
inline constexpr int64_t kMaxGpuElements = INT32_MAX;

// Throws NormError when the input is too large for the kernels' 32-bit indexing. with_tables false
// skips building group_base/run_offset (enough to decide which variants run).
HostLayout describeLayout(const ReductionPlan& plan, bool with_tables = true);

// The kernels' view of a layout: the sizes narrowed to 32 bits, the tables as device pointers
// (unused for rows), and the weight map.
GroupAddress kernelLayout(const HostLayout& layout, const int32_t* group_base,
                          const int32_t* run_offset);
AffineMap kernelAffine(const HostLayout& layout);

// The recipe variants' vector width: 4, 2 or 1 as the row length allows (gathers use 1).
int recipeVectorWidth(const HostLayout& layout);

}  // namespace normviz::gpu
