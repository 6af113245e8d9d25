// Group statistics four ways in float32, and the plain float64 reference.
#include "normviz/stats.hpp"

#include <algorithm>
#include <string>

#include "normviz/error.hpp"

namespace normviz {

const char* varianceName(VarianceStrategy s) {
  switch (s) {
    case VarianceStrategy::TwoPass:
      return "two-pass";
    case VarianceStrategy::Welford:
      return "welford";
    case VarianceStrategy::Naive:
      return "naive";
    case VarianceStrategy::Pairwise:
      return "pairwise";
  }
  return "?";
}

VarianceStrategy parseVariance(std::string_view name) {
  for (VarianceStrategy s : kAllStrategies)
    if (name == varianceName(s)) return s;
  throw NormError("unknown variance strategy '" + std::string(name) +
                  "'; expected two-pass, welford, naive or pairwise");
}

namespace {

// Binary accumulation (docs/NORMS.md): the largest power-of-two main block, the tail added onto its
// start, then the upper half added onto the lower half until one value is left. `v` is consumed.
float pairwiseSum(float* v, int64_t n) {
  int64_t main = 1;
  while (main * 2 <= n) main *= 2;
  for (int64_t i = main; i < n; ++i) v[i - main] += v[i];
  for (int64_t half = main / 2; half >= 1; half /= 2)
    for (int64_t i = 0; i < half; ++i) v[i] += v[i + half];
  return v[0];
}

// Sums in kLanes interleaved float32 accumulators, then adds the lanes: the compiler can keep the
// lanes in one SIMD register (no reassociation needed), and the error grows like n/kLanes, not n.
constexpr int kLanes = 8;

template <typename F>
float laneSum(const float* x, int64_t n, F term) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) acc[k] += term(x[i + k]);
  for (int k = 0; i < n; ++i, ++k) acc[k] += term(x[i]);
  float total = 0;
  for (float a : acc) total += a;
  return total;
}

GroupStats<float> twoPass(const float* x, int64_t n, bool subtract_mean) {
  const float count = static_cast<float>(n);
  const float mean = subtract_mean ? laneSum(x, n, [](float v) { return v; }) / count : 0.0f;
  const float ss = laneSum(x, n, [mean](float v) {
    float d = v - mean;
    return d * d;
  });
  return {mean, ss / count};
}

GroupStats<float> welford(const float* x, int64_t n, bool subtract_mean) {
  float mean = 0, m2 = 0;
  for (int64_t i = 0; i < n; ++i) {
    // For RMSNorm the running "mean" is of x^2 and nothing is subtracted.
    float v = subtract_mean ? x[i] : x[i] * x[i];
    float delta = v - mean;
    mean += delta / static_cast<float>(i + 1);
    m2 += delta * (v - mean);
  }
  if (!subtract_mean) return {0.0f, mean};
  return {mean, m2 / static_cast<float>(n)};
}

GroupStats<float> naive(const float* x, int64_t n, bool subtract_mean) {
  // One read of x: sum and sum of squares together, in kLanes accumulators each.
  float sum[kLanes] = {}, sumsq[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) {
      sum[k] += x[i + k];
      sumsq[k] += x[i + k] * x[i + k];
    }
  for (int k = 0; i < n; ++i, ++k) {
    sum[k] += x[i];
    sumsq[k] += x[i] * x[i];
  }
  float s = 0, ss = 0;
  for (int k = 0; k < kLanes; ++k) {
    s += sum[k];
    ss += sumsq[k];
  }
  const float count = static_cast<float>(n);
  if (!subtract_mean) return {0.0f, ss / count};
  const float mean = s / count;
  // E[x^2] - E[x]^2 can come out negative after cancellation; clamp as kernels must.
  return {mean, std::max(ss / count - mean * mean, 0.0f)};
}

GroupStats<float> pairwise(const float* x, int64_t n, bool subtract_mean,
                           std::vector<float>& scratch) {
  scratch.resize(static_cast<size_t>(n));
  const float inv = 1.0f / static_cast<float>(n);  // scale first so partial sums cannot overflow
  float mean = 0;
  if (subtract_mean) {
    for (int64_t i = 0; i < n; ++i) scratch[i] = x[i] * inv;
    mean = pairwiseSum(scratch.data(), n);
  }
  for (int64_t i = 0; i < n; ++i) {
    float d = x[i] - mean;
    scratch[i] = d * d * inv;
  }
  return {mean, pairwiseSum(scratch.data(), n)};
}

}  // namespace

GroupStats<float> groupStatsF32(const float* x, int64_t n, VarianceStrategy strategy,
                                bool subtract_mean, std::vector<float>& scratch) {
  switch (strategy) {
    case VarianceStrategy::TwoPass:
      return twoPass(x, n, subtract_mean);
    case VarianceStrategy::Welford:
      return welford(x, n, subtract_mean);
    case VarianceStrategy::Naive:
      return naive(x, n, subtract_mean);
    case VarianceStrategy::Pairwise:
      return pairwise(x, n, subtract_mean, scratch);
  }
  return {};
}

GroupStats<double> groupStatsF64(const float* x, int64_t n, bool subtract_mean) {
  double mean = 0;
  if (subtract_mean) {
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += x[i];
    mean = sum / static_cast<double>(n);
  }
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) {
    double d = x[i] - mean;
    ss += d * d;
  }
  return {mean, ss / static_cast<double>(n)};
}

}  // namespace normviz
