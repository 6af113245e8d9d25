// Mean and variance of one contiguous group, four ways: the numerics a learner compares.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace normviz {

enum class VarianceStrategy {
  TwoPass,   // mean first, then sum of squared deviations
  Welford,   // one pass, online update (Welford 1962)
  Naive,     // E[x^2] - E[x]^2 in one pass: cancels catastrophically when |mean| >> std
  Pairwise,  // binary accumulation: x/M, 2^k main block + tail, halving (docs/NORMS.md)
};
const char* varianceName(VarianceStrategy s);  // "two-pass", "welford", "naive", "pairwise"
VarianceStrategy parseVariance(std::string_view name);
inline constexpr VarianceStrategy kAllStrategies[] = {
    VarianceStrategy::TwoPass, VarianceStrategy::Welford, VarianceStrategy::Naive,
    VarianceStrategy::Pairwise};

template <typename T>
struct GroupStats {
  T mean = 0;  // 0 when the mean is not subtracted (RMSNorm)
  T var = 0;   // biased variance; for RMSNorm the mean square
};

// float32 statistics of n contiguous values, accumulated in float32 in the strategy's scalar order
// (pairwise: the exact halving tree of docs/NORMS.md that the GPU kernels and the trace emulator
// follow, checked bit for bit). The engine's fast path (engine_simd.cpp) accumulates the same
// strategies across SIMD lanes and cache-sized pieces instead, within the same error bounds.
// With subtract_mean false (RMSNorm) mean is 0 and var is the mean of x^2.
// `scratch` is reused by Pairwise to avoid allocating per group.
GroupStats<float> groupStatsF32(const float* x, int64_t n, VarianceStrategy strategy,
                                bool subtract_mean, std::vector<float>& scratch);

// The float64 reference: two passes in double, plainly.
GroupStats<double> groupStatsF64(const float* x, int64_t n, bool subtract_mean);

}  // namespace normviz
