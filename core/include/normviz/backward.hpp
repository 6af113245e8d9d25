// The backward pass of every plan: dx, dweight and dbias from dy and the forward's saved mean/rstd.
//
// With x̂ = (x - mean)·rstd and g = dy·weight over the M elements of one group (docs/NORMS.md):
//   dx      = rstd · (g - mean(g) - x̂ · mean(g·x̂))        (RMSNorm: no mean(g) term)
//   dweight = Σ dy·x̂ over the axes the weight is shared across
//   dbias   = Σ dy   over the same axes
// BatchNorm in evaluation mode uses its running statistics, which do not depend on x, so its
// dx = dy·weight·rstd elementwise: no group coupling.
#pragma once

#include <optional>
#include <string>

#include "normviz/engine.hpp"
#include "normviz/plan.hpp"
#include "normviz/tensor.hpp"

namespace normviz {

// A backward's floor in copies of x: it reads x and dy and writes dx, where a copy reads one tensor
// and writes one (`normviz bench`'s "x floor", the app's backward floor).
inline constexpr double kBackwardFloorCopies = 1.5;

struct BackwardResult {
  TensorD dx;                             // input shape
  std::optional<TensorD> dweight, dbias;  // affine shape; present when params has weight / bias
  // The two reductions per group that couple its elements, in plan.statShape():
  // Σ dy·weight and Σ dy·weight·x̂ (dx subtracts their means over the group).
  TensorD sum_dy_w, sum_dy_w_xhat;
  // false for BatchNorm evaluation: dx of an element depends on that element's dy alone.
  bool group_coupled = true;
  std::string backend;  // "cpu-fp32 backward", "cpu-fp64 backward reference", "gpu ..."
  double seconds = 0;   // compute time of this path alone
};

// The float32 fast path's own result: dx and the sums in float32 as computed (no widening per
// call); dweight/dbias are added up in float64 from per-chunk partials.
struct BackwardResultF32 {
  Tensor dx;
  std::optional<TensorD> dweight, dbias;
  Tensor sum_dy_w, sum_dy_w_xhat;
  bool group_coupled = true;
  std::string backend;  // "cpu-fp32 backward"
  double seconds = 0;   // compute time alone (the result is allocated before the clock starts)
};

// Checks dy and the saved statistics against the plan; throws NormError naming the mismatch.
void validateBackward(const ReductionPlan& plan, const Tensor& dy, const TensorD& mean,
                      const TensorD& rstd);

// Runs the backward on the CPU from the forward's saved statistics (mean and rstd in
// plan.statShape(), as NormResult holds them). Fp64 is the reference (plain loops); Fp32 is the
// SIMD fast path. Throws NormError on any shape mismatch, before any work.
BackwardResult computeNormBackward(const Tensor& x, const Tensor& dy, const ReductionPlan& plan,
                                   const NormParams& params, const TensorD& mean,
                                   const TensorD& rstd, const ComputeOptions& options = {});

// The same into `out`, reusing its buffers where they already have the right shape (as
// computeNormInto does): repeated calls, a benchmark's repeats, touch no fresh memory and free
// none. Anything else in `out` is replaced.
void computeNormBackwardInto(const Tensor& x, const Tensor& dy, const ReductionPlan& plan,
                             const NormParams& params, const TensorD& mean, const TensorD& rstd,
                             const ComputeOptions& options, BackwardResult& out);

// The float32 fast path into `out` (options.precision is ignored), from float32 saved statistics,
// reusing out's buffers where they already have the right shape, as computeNormF32Into does:
// repeated calls touch no fresh memory. computeNormBackward's fp32 path is this result widened.
void computeNormBackwardF32Into(const Tensor& x, const Tensor& dy, const ReductionPlan& plan,
                                const NormParams& params, const Tensor& mean, const Tensor& rstd,
                                const ComputeOptions& options, BackwardResultF32& out);

// A float32 result widened exactly to float64.
BackwardResult widen(const BackwardResultF32& b);

// The same, with the statistics taken from a forward result.
inline BackwardResult computeNormBackward(const Tensor& x, const Tensor& dy,
                                          const ReductionPlan& plan, const NormParams& params,
                                          const NormResult& forward,
                                          const ComputeOptions& options = {}) {
  return computeNormBackward(x, dy, plan, params, forward.mean, forward.rstd, options);
}
inline void computeNormBackwardInto(const Tensor& x, const Tensor& dy, const ReductionPlan& plan,
                                    const NormParams& params, const NormResult& forward,
                                    const ComputeOptions& options, BackwardResult& out) {
  computeNormBackwardInto(x, dy, plan, params, forward.mean, forward.rstd, options, out);
}

}  // namespace normviz
