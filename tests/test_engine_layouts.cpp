// The engine's loop per memory layout (fused groups, two-phase partials, strided, gathered runs)
// against a plain float64 oracle that walks each group through the plan's element iterator.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "normviz/engine.hpp"
#include "normviz/error.hpp"
#include "test_util.hpp"

using namespace normviz;

namespace {

using test::randomTensor;

struct Oracle {
  std::vector<double> y, mean, var;
};

// Statistics and y straight from the definition, one group at a time, in long double sums.
Oracle oracle(const Tensor& x, const ReductionPlan& plan, const NormParams& p) {
  Oracle o;
  o.y.resize(static_cast<size_t>(x.numel()));
  const bool eval = plan.kind() == NormKind::Batch && !plan.config().training;
  for (int64_t g = 0; g < plan.groupCount(); ++g) {
    long double sum = 0, ss = 0;
    for (int64_t f : plan.elementsOf(g)) sum += x[f];
    const long double m = static_cast<long double>(plan.groupSize());
    long double mean = plan.subtractsMean() ? sum / m : 0;
    for (int64_t f : plan.elementsOf(g)) ss += (x[f] - mean) * (x[f] - mean);
    long double var = ss / m;
    if (eval) {
      mean = p.running_mean ? p.running_mean->data[g] : 0.0;
      var = p.running_var ? p.running_var->data[g] : 1.0;
    }
    const long double rstd = 1 / std::sqrt(var + plan.config().eps);
    for (int64_t f : plan.elementsOf(g)) {
      const int64_t k = plan.affineIndexOf(f);
      long double v = (x[f] - mean) * rstd;
      if (p.weight) v *= p.weight->data[k];
      if (p.bias) v += p.bias->data[k];
      o.y[f] = static_cast<double>(v);
    }
    o.mean.push_back(static_cast<double>(mean));
    o.var.push_back(static_cast<double>(var));
  }
  return o;
}

NormParams affineFor(const ReductionPlan& plan, uint64_t seed) {
  NormParams p;
  p.weight = randomTensor(plan.affineShape(), seed, 1.0f, 0.5f);
  p.bias = randomTensor(plan.affineShape(), seed + 1, 0.0f, 0.5f);
  return p;
}

struct Case {
  const char* name;
  Shape shape;
  NormConfig config;
};

NormConfig kindOf(NormKind kind) {
  NormConfig c;
  c.kind = kind;
  return c;
}

NormConfig customAxes(std::vector<int> axes) {
  NormConfig c = kindOf(NormKind::Custom);
  c.axes = std::move(axes);
  return c;
}

NormConfig layerOver(std::vector<int64_t> normalized_shape) {
  NormConfig c = kindOf(NormKind::Layer);
  c.normalized_shape = std::move(normalized_shape);
  return c;
}

NormConfig groupNorm(int64_t groups) {
  NormConfig c = kindOf(NormKind::Group);
  c.groups = groups;
  return c;
}

std::vector<Case> layoutCases() {
  NormConfig eval = kindOf(NormKind::Batch);
  eval.training = false;
  return {
      // strided: (outer, reduced, inner) with inner not a multiple of any vector width, and
      // large enough to run on several threads
      {"channels-last LayerNorm, tail positions", {3, 37, 5, 7}, kindOf(NormKind::Layer2d)},
      {"channels-last LayerNorm, threaded", {2, 24, 40, 41}, kindOf(NormKind::Layer2d)},
      {"custom axes (1, 2)", {3, 4, 5, 17}, customAxes({1, 2})},
      {"custom axes (0): BatchNorm-like over N only", {40, 3, 4, 5}, customAxes({0})},
      {"BatchNorm1d on (N, C)", {50, 37}, kindOf(NormKind::Batch)},
      {"BatchNorm eval on (N, C)", {50, 37}, eval},
      // fused groups of many runs (BatchNorm's channels), runs longer than a piece
      {"BatchNorm2d, runs longer than a piece", {4, 3, 70, 70}, kindOf(NormKind::Batch)},
      {"BatchNorm eval 4D", {4, 3, 70, 70}, eval},
      // two-phase: groups larger than half of L2, contiguous or of many runs
      {"LayerNorm over a group larger than L2", {2, 3, 200000}, layerOver({3, 200000})},
      {"BatchNorm2d, channels larger than L2", {40, 2, 120, 121}, kindOf(NormKind::Batch)},
      // fused contiguous groups
      {"GroupNorm, threaded", {4, 12, 40, 40}, groupNorm(3)},
      {"InstanceNorm, odd sizes", {3, 5, 9, 11}, kindOf(NormKind::Instance)},
      {"LayerNorm rows, threaded", {4, 300, 100}, kindOf(NormKind::Layer)},
      {"LayerNorm rows, y past 16 MiB (streaming stores)", {600, 7001}, kindOf(NormKind::Layer)},
      {"BatchNorm, y past 16 MiB (streaming stores)", {60, 3, 160, 161}, kindOf(NormKind::Batch)},
      {"RMSNorm rows", {6, 333}, kindOf(NormKind::RMS)},
      // gathered through the run iterator: runs of 1
      {"custom axes (0, 2)", {5, 6, 7, 8}, customAxes({0, 2})},
      {"custom axes (1, 3)", {3, 5, 4, 9}, customAxes({1, 3})},
  };
}

}  // namespace

TEST_CASE("every memory layout matches the float64 oracle, with and without affine") {
  for (const Case& c : layoutCases())
    for (bool affine : {false, true}) {
      CAPTURE(c.name);
      CAPTURE(c.shape.str());
      CAPTURE(affine);
      const ReductionPlan plan = ReductionPlan::make(c.shape, c.config);
      const Tensor x = randomTensor(c.shape, 77, 0.5f, 2.0f);
      NormParams p = affine ? affineFor(plan, 5) : NormParams{};
      if (plan.kind() == NormKind::Batch && !plan.config().training) {
        p.running_mean = randomTensor(plan.statShape(), 11, 0.0f, 1.0f);
        p.running_var = randomTensor(plan.statShape(), 12, 2.0f, 0.5f);
      }
      const Oracle want = oracle(x, plan, p);

      ComputeOptions fp64;
      fp64.precision = Precision::Fp64;
      const NormResult ref = computeNorm(x, plan, p, fp64);
      double ref_worst = 0;
      for (size_t i = 0; i < want.y.size(); ++i)
        ref_worst = std::max(ref_worst, std::abs(ref.y[static_cast<int64_t>(i)] - want.y[i]));
      CHECK(ref_worst < 1e-9);
      for (size_t g = 0; g < want.var.size(); ++g) {
        CHECK(std::abs(ref.mean[static_cast<int64_t>(g)] - want.mean[g]) < 1e-9);
        CHECK(std::abs(ref.var[static_cast<int64_t>(g)] - want.var[g]) < 1e-9 * want.var[g]);
      }

      // The bounds of the fp32-vs-fp64 test, with the affine scale (weights up to about 3).
      const double y_bound = 6e-5 * std::sqrt(plan.groupSize() / 1000.0 + 1);
      for (VarianceStrategy v : kAllStrategies) {
        CAPTURE(varianceName(v));
        ComputeOptions o;
        o.variance = v;
        const NormResultF32 r = computeNormF32(x, plan, p, o);
        double worst = 0;
        for (size_t i = 0; i < want.y.size(); ++i)
          worst = std::max(worst, std::abs(r.y[static_cast<int64_t>(i)] - want.y[i]));
        CHECK(worst < y_bound);
        for (size_t g = 0; g < want.var.size(); ++g) {
          const int64_t gi = static_cast<int64_t>(g);
          CHECK(std::abs(r.var[gi] - want.var[g]) <= 1e-4 * want.var[g]);
          CHECK(std::abs(r.mean[gi] - want.mean[g]) <= 1e-5 * (std::abs(want.mean[g]) + 1));
        }
      }
    }
}

TEST_CASE("the thread count does not change a single bit of the result") {
  for (const Case& c : layoutCases()) {
    CAPTURE(c.name);
    const ReductionPlan plan = ReductionPlan::make(c.shape, c.config);
    const Tensor x = randomTensor(c.shape, 3);
    for (VarianceStrategy v : kAllStrategies) {
      CAPTURE(varianceName(v));
      ComputeOptions one;
      one.variance = v;
      one.threads = 1;
      const NormResultF32 a = computeNormF32(x, plan, {}, one);
      for (int threads : {2, 3}) {
        ComputeOptions many = one;
        many.threads = threads;
        const NormResultF32 b = computeNormF32(x, plan, {}, many);
        CHECK(a.y.data == b.y.data);
        CHECK(a.var.data == b.var.data);
      }
    }
    // The float64 reference as well.
    ComputeOptions fp64;
    fp64.precision = Precision::Fp64;
    fp64.threads = 1;
    const NormResult a = computeNorm(x, plan, {}, fp64);
    for (int threads : {2, 3}) {
      fp64.threads = threads;
      const NormResult b = computeNorm(x, plan, {}, fp64);
      CHECK(a.y.data == b.y.data);
      CHECK(a.var.data == b.var.data);
    }
  }
}

TEST_CASE("fp32 results widen exactly into computeNorm's float64 result") {
  const Tensor x = randomTensor(Shape{3, 8, 6, 5}, 21);
  const ReductionPlan plan = ReductionPlan::make(x.shape, groupNorm(4));
  const NormResultF32 f = computeNormF32(x, plan, {});
  const NormResult d = computeNorm(x, plan, {});
  CHECK(d.y.data == widen(f.y).data);
  CHECK(d.rstd.data == widen(f.rstd).data);
  CHECK(f.backend == "cpu-fp32 (two-pass)");
}

TEST_CASE("results computed into a kept output reuse its buffers and match fresh ones") {
  const Tensor x = randomTensor(Shape{4, 6, 9, 7}, 31);
  const ReductionPlan batch = ReductionPlan::make(x.shape, kindOf(NormKind::Batch));
  const ReductionPlan group = ReductionPlan::make(x.shape, groupNorm(3));
  NormResultF32 out;
  computeNormF32Into(x, batch, {}, {}, out);
  const float* kept = out.y.data.data();
  CHECK(out.running_mean.has_value());
  // Same shape again, another layer: the buffer stays, every field is this call's.
  computeNormF32Into(x, group, {}, {}, out);
  CHECK(out.y.data.data() == kept);
  const NormResultF32 fresh = computeNormF32(x, group, {});
  CHECK(out.y.data == fresh.y.data);
  CHECK(out.mean.shape == fresh.mean.shape);
  CHECK(out.mean.data == fresh.mean.data);
  CHECK(out.rstd.data == fresh.rstd.data);
  CHECK_FALSE(out.running_mean.has_value());  // GroupNorm tracks no running statistics
  // Another shape: resized to it.
  const Tensor small = randomTensor(Shape{2, 6, 3, 3}, 32);
  computeNormF32Into(small, ReductionPlan::make(small.shape, groupNorm(3)), {}, {}, out);
  CHECK(out.y.shape == small.shape);
  CHECK(out.y.numel() == small.numel());
  // The float64 reference the same way.
  NormResult ref;
  ComputeOptions fp64;
  fp64.precision = Precision::Fp64;
  computeNormInto(x, group, {}, fp64, ref);
  const double* kept64 = ref.y.data.data();
  computeNormInto(x, group, {}, fp64, ref);
  CHECK(ref.y.data.data() == kept64);
  CHECK(ref.y.data == computeNorm(x, group, {}, fp64).y.data);
}

TEST_CASE("thread counts and the copy") {
  CHECK(engineThreads(0) >= 1);
  CHECK(engineThreads(3) == 3);
  CHECK_THROWS_WITH_AS(engineThreads(-1),
                       "threads must be 0 (every core) or a positive count, got -1", NormError);
  ComputeOptions o;
  o.threads = -2;
  const Tensor x = randomTensor(Shape{2, 3}, 1);
  CHECK_THROWS_AS(computeNormF32(x, ReductionPlan::make(x.shape, kindOf(NormKind::Layer)), {}, o),
                  NormError);
  const Tensor big = randomTensor(Shape{300000}, 2);
  TensorData<float> out(static_cast<size_t>(big.numel()), 0.0f);
  copyFloats(big.data.data(), out.data(), big.numel(), 2);
  CHECK(out == big.data);
}

TEST_CASE("a copy past 16 MiB (streaming stores) copies every element and nothing more") {
  // Neither end on a vector boundary: a scalar head, whole vectors, a scalar tail.
  const Tensor big = randomTensor(Shape{(int64_t{5} << 20) + 9}, 3);
  const int64_t n = big.numel() - 6;
  for (int threads : {1, 2, 3}) {
    CAPTURE(threads);
    TensorData<float> out(static_cast<size_t>(big.numel()), -1.0f);
    copyFloats(big.data.data() + 1, out.data() + 3, n, threads);
    CHECK(std::equal(out.begin() + 3, out.begin() + 3 + n, big.data.begin() + 1));
    CHECK(std::count(out.begin(), out.begin() + 3, -1.0f) == 3);
    CHECK(std::count(out.begin() + 3 + n, out.end(), -1.0f) == 3);
  }
}

TEST_CASE("the backward's bounds: the read sums both inputs, the one pass writes every element") {
  // Small integers: every sum is exact in float32 and float64, whatever the chunks and lanes.
  const int64_t n = (int64_t{1} << 18) + 13;
  TensorData<float> a(static_cast<size_t>(n) + 1), b(static_cast<size_t>(n) + 1);
  double expected = 0;
  for (int64_t i = 0; i <= n; ++i) {
    a[static_cast<size_t>(i)] = static_cast<float>(i % 7 - 3);
    b[static_cast<size_t>(i)] = static_cast<float>(i % 5);
    if (i >= 1) expected += (i % 7 - 3) + (i % 5);
  }
  for (int threads : {1, 2, 3}) {
    CAPTURE(threads);
    CHECK(readFloatPair(a.data() + 1, b.data() + 1, n, threads) == expected);
    // Off the cache line at both ends: a scalar head, streamed vectors, a scalar tail.
    TensorData<float> out(static_cast<size_t>(n) + 4, -1.0f);
    combineFloatPair(a.data() + 1, b.data() + 1, out.data() + 3, n, 0.5f, 2.0f, 0.25f, threads);
    int64_t wrong = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float want =
          0.5f * a[static_cast<size_t>(i + 1)] + (2.0f * b[static_cast<size_t>(i + 1)] + 0.25f);
      wrong += out[static_cast<size_t>(i + 3)] != want;
    }
    CHECK(wrong == 0);
    CHECK(std::count(out.begin(), out.begin() + 3, -1.0f) == 3);
    CHECK(out.back() == -1.0f);
  }
}

TEST_CASE("a NaN poisons its own group's statistics and y on every layout, and no other group") {
  for (const Case& c : layoutCases()) {
    const ReductionPlan plan = ReductionPlan::make(c.shape, c.config);
    if (plan.kind() == NormKind::Batch && !plan.config().training) continue;  // nothing reduced
    CAPTURE(c.name);
    Tensor x = randomTensor(c.shape, 8);
    const int64_t poisoned = x.numel() / 2 + 3;
    x[poisoned] = std::numeric_limits<float>::quiet_NaN();
    const int64_t g = plan.groupOf(poisoned);
    const int64_t other = (g + 1) % plan.groupCount();
    for (VarianceStrategy v : kAllStrategies) {
      CAPTURE(varianceName(v));
      ComputeOptions o;
      o.variance = v;
      const NormResultF32 r = computeNormF32(x, plan, {}, o);
      CHECK(std::isnan(r.var[g]));
      CHECK(std::isnan(r.y[plan.elementOf(g, 0)]));
      if (other != g) {
        CHECK(std::isfinite(r.var[other]));
        CHECK(std::isfinite(r.y[plan.elementOf(other, 0)]));
      }
    }
  }
}
