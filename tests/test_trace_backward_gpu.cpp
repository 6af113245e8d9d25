// The backward trace against the executed backwardRowsKernel: the same two sums and the same dx of
// every element bit for bit, for LayerNorm, RMSNorm, GroupNorm and InstanceNorm rows of many sizes,
// with and without a weight; and the trace's invariants (coverage, idle lanes). The kernel runs on
// the emulated device (the kernel source executed on the CPU with the host's float32 arithmetic,
// never contracted). A CUDA build's nvcc may contract the kernel's g·x̂ + s into one FMA, which
// rounds once, so the bitwise comparison is the emulated device's.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "emulated_runs.hpp"
#include "normviz/backward.hpp"
#include "normviz/error.hpp"
#include "normviz/gpu.hpp"
#include "normviz/trace.hpp"
#include "test_util.hpp"

using namespace normviz;

namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

NormConfig cfg(NormKind kind, int64_t groups = 2) {
  NormConfig c;
  c.kind = kind;
  c.groups = groups;
  return c;
}

struct Case {
  std::string name;
  Shape shape;
  NormConfig config;
};

// Row layers of group sizes below a warp, between warps, at and around the block's 256 threads.
std::vector<Case> rowCases() {
  std::vector<Case> cases;
  for (int64_t m : {1, 5, 31, 32, 33, 100, 256, 300, 1000})
    cases.push_back({"LayerNorm(" + std::to_string(m) + ")", {3, m}, cfg(NormKind::Layer)});
  for (int64_t m : {1, 7, 31, 64, 257, 700})
    cases.push_back({"RMSNorm(" + std::to_string(m) + ")", {2, m}, cfg(NormKind::RMS)});
  cases.push_back(
      {"GroupNorm(2, 4) (2, 4, 3, 5): groups of 30", {2, 4, 3, 5}, cfg(NormKind::Group)});
  cases.push_back(
      {"GroupNorm(3, 6) (2, 6, 7, 9): groups of 126", {2, 6, 7, 9}, cfg(NormKind::Group, 3)});
  cases.push_back(
      {"GroupNorm(2, 4) (1, 4, 20, 20): groups of 800", {1, 4, 20, 20}, cfg(NormKind::Group)});
  cases.push_back({"InstanceNorm (2, 3, 17)", {2, 3, 17}, cfg(NormKind::Instance)});
  cases.push_back({"InstanceNorm (1, 2, 16, 16)", {1, 2, 16, 16}, cfg(NormKind::Instance)});
  cases.push_back({"InstanceNorm (2, 2, 513)", {2, 2, 513}, cfg(NormKind::Instance)});
  return cases;
}

struct Kernel {
  float sum_g = 0, sum_g_xhat = 0;
  std::vector<float> dx;
  std::string backend;
};

// backwardRowsKernel on one group: a one-row LayerNorm (RMSNorm without a subtracted mean) of the
// group's values, its weight the group's per-element weights and its saved statistics the group's.
// The rows kernel reads group g at offset g·M and does the same arithmetic for every g, so this is
// the block that reduces the group in the layer's own launch.
Kernel runRowsKernel(const BackwardGroupInput& in, bool subtract_mean) {
  const int64_t m = static_cast<int64_t>(in.x.size());
  const ReductionPlan row =
      ReductionPlan::make({1, m}, cfg(subtract_mean ? NormKind::Layer : NormKind::RMS));
  NormParams p;
  if (!in.weight.empty()) p.weight = Tensor(row.affineShape(), in.weight);
  const TensorD mean(row.statShape(), {static_cast<double>(in.mean)});
  const TensorD rstd(row.statShape(), {static_cast<double>(in.rstd)});
  GpuOptions o;
  o.warmup = 0;
  o.repeats = 1;
  o.device = GpuDeviceKind::Emulated;
  const GpuBackwardResult r =
      gpuBackward(Tensor({1, m}, in.x), Tensor({1, m}, in.dy), row, p, mean, rstd, o);
  Kernel k;
  k.sum_g = static_cast<float>(r.result.sum_dy_w.data[0]);
  k.sum_g_xhat = static_cast<float>(r.result.sum_dy_w_xhat.data[0]);
  for (double d : r.result.dx.data) k.dx.push_back(static_cast<float>(d));
  k.backend = r.result.backend;
  return k;
}

// How many of the group's dx differ from the kernel's in their bits (the first one reported).
int64_t differentDx(const std::vector<float>& traced, const std::vector<float>& kernel) {
  REQUIRE(traced.size() == kernel.size());
  int64_t different = 0;
  for (size_t j = 0; j < traced.size(); ++j)
    if (bits(traced[j]) != bits(kernel[j]) && different++ == 0)
      MESSAGE("dx[" << j << "]: trace " << traced[j] << ", kernel " << kernel[j]);
  return different;
}

struct Layer {
  Tensor x, dy;
  ReductionPlan plan;
  NormParams params;
  NormResult forward;
};

Layer makeLayer(const Case& c, bool affine, uint64_t seed) {
  Layer l{test::randomTensor(c.shape, seed, 1.5f, 2.0f),
          test::randomTensor(c.shape, seed + 1),
          ReductionPlan::make(c.shape, c.config),
          {},
          {}};
  if (affine) {
    l.params.weight = test::randomTensor(l.plan.affineShape(), seed + 2, 1.0f, 0.5f);
    l.params.bias = test::randomTensor(l.plan.affineShape(), seed + 3);
  }
  l.forward = computeNorm(l.x, l.plan, l.params);
  return l;
}

}  // namespace

TEST_CASE("the backward trace equals the executed backwardRowsKernel bit for bit") {
  int64_t groups_compared = 0, dx_compared = 0;
  uint64_t seed = 11;
  for (const Case& c : rowCases()) {
    for (bool affine : {false, true}) {
      CAPTURE(c.name);
      CAPTURE(affine);
      const Layer l = makeLayer(c, affine, seed += 4);
      for (int64_t g = 0; g < l.plan.groupCount(); ++g) {
        CAPTURE(g);
        const BackwardGroupInput in =
            backwardGroupInput(l.x, l.dy, l.plan, l.params, l.forward.mean, l.forward.rstd, g);
        const ReductionTrace trace = traceBackwardGroup(in, l.plan, g);
        CHECK(trace.backward);
        CHECK(trace.rows);
        const Kernel k = runRowsKernel(in, l.plan.subtractsMean());
        CHECK(k.backend.find("gpu backward rows") != std::string::npos);
        CHECK(bits(trace.sum_g) == bits(k.sum_g));
        CHECK(bits(trace.sum_g_xhat) == bits(k.sum_g_xhat));
        CHECK(differentDx(trace.dx, k.dx) == 0);
        ++groups_compared;
        dx_compared += static_cast<int64_t>(k.dx.size());
      }
    }
  }
  std::printf("compared the sums of %lld groups and %lld dx bit for bit with backwardRowsKernel\n",
              static_cast<long long>(groups_compared), static_cast<long long>(dx_compared));
}

TEST_CASE("LayerNorm and RMSNorm: the trace equals every block of the layer's own launch") {
  // These layers run backwardRowsKernel for the whole tensor (one block per row), so every group's
  // trace is compared with the sums and dx of the real multi-block launch.
  uint64_t seed = 500;
  for (const Case& c : rowCases()) {
    if (c.config.kind != NormKind::Layer && c.config.kind != NormKind::RMS) continue;
    for (bool affine : {false, true}) {
      CAPTURE(c.name);
      CAPTURE(affine);
      const Layer l = makeLayer(c, affine, seed += 4);
      GpuOptions o;
      o.warmup = 0;
      o.repeats = 1;
      o.device = GpuDeviceKind::Emulated;
      const GpuBackwardResult r =
          gpuBackward(l.x, l.dy, l.plan, l.params, l.forward.mean, l.forward.rstd, o);
      REQUIRE(r.result.backend.find("gpu backward rows") != std::string::npos);
      for (int64_t g = 0; g < l.plan.groupCount(); ++g) {
        CAPTURE(g);
        const ReductionTrace trace = traceBackwardGroup(
            backwardGroupInput(l.x, l.dy, l.plan, l.params, l.forward.mean, l.forward.rstd, g),
            l.plan, g);
        const size_t gi = static_cast<size_t>(g);
        CHECK(bits(trace.sum_g) == bits(static_cast<float>(r.result.sum_dy_w.data[gi])));
        CHECK(bits(trace.sum_g_xhat) == bits(static_cast<float>(r.result.sum_dy_w_xhat.data[gi])));
        std::vector<float> kernel_dx;
        for (int64_t flat : trace.elements)
          kernel_dx.push_back(static_cast<float>(r.result.dx[flat]));
        CHECK(differentDx(trace.dx, kernel_dx) == 0);
      }
    }
  }
}

TEST_CASE("backward trace invariants: coverage, idle lanes, values near float64") {
  uint64_t seed = 900;
  for (const Case& c : rowCases()) {
    for (bool affine : {false, true}) {
      CAPTURE(c.name);
      CAPTURE(affine);
      const Layer l = makeLayer(c, affine, seed += 4);
      ComputeOptions fp64;
      fp64.precision = Precision::Fp64;
      const BackwardResult ref = computeNormBackward(l.x, l.dy, l.plan, l.params, l.forward, fp64);
      const int64_t g = l.plan.groupCount() - 1;
      const ReductionTrace t = traceBackwardGroup(
          backwardGroupInput(l.x, l.dy, l.plan, l.params, l.forward.mean, l.forward.rstd, g),
          l.plan, g);
      const int64_t M = l.plan.groupSize();
      REQUIRE(t.block_size == kBackwardBlockSize);
      // load, 5 shuffles, shared write, cross-warp sum, dx
      REQUIRE(t.stages.size() == 9);
      CHECK(t.stages.front().kind == StageKind::Load);
      CHECK(t.stages[7].kind == StageKind::CrossWarpSum);
      CHECK(t.stages.back().kind == StageKind::InputGradient);
      for (const TraceStage& s : t.stages) {
        CAPTURE(s.name);
        CHECK(!s.explanation.empty());
        REQUIRE(s.lanes.size() == static_cast<size_t>(kBackwardBlockSize));
        for (size_t lane = 0; lane < s.lanes.size(); ++lane) {
          const TraceLane& L = s.lanes[lane];
          CHECK(L.idle == L.covers.empty());  // idle lanes cover nothing, busy ones something
          CHECK(std::is_sorted(L.covers.begin(), L.covers.end()));
          // A lane past the group's size loads nothing, and writes no dx.
          if ((s.kind == StageKind::Load || s.kind == StageKind::InputGradient) &&
              static_cast<int64_t>(lane) >= M)
            CHECK(L.idle);
        }
      }
      // Each xor shuffle doubles a partial's coverage: after offsets o1, o2, ... lane t covers the
      // elements loaded by the lanes that differ from t only in the bits o1 | o2 | ...
      int flipped = 0;
      for (const TraceStage& s : t.stages) {
        if (s.kind != StageKind::Shuffle) continue;
        flipped |= s.offset;
        for (int lane = 0; lane < kBackwardBlockSize; ++lane) {
          std::vector<int32_t> want;
          for (int64_t j = 0; j < M; ++j)
            if ((static_cast<int>(j % kBackwardBlockSize) & ~flipped) == (lane & ~flipped))
              want.push_back(static_cast<int32_t>(j));
          CHECK(s.lanes[static_cast<size_t>(lane)].covers == want);
        }
      }
      // The final sums cover the whole group in every thread.
      for (const TraceLane& L : t.stages[7].lanes) {
        CHECK(static_cast<int64_t>(L.covers.size()) == M);
        CHECK(bits(L.value) == bits(t.sum_g));
        CHECK(bits(L.value2) == bits(t.sum_g_xhat));
      }
      // The dx stage: every element exactly once, by the thread that loaded it.
      std::vector<int> seen(static_cast<size_t>(M), 0);
      for (size_t lane = 0; lane < t.stages.back().lanes.size(); ++lane)
        for (int32_t j : t.stages.back().lanes[lane].covers) {
          ++seen[static_cast<size_t>(j)];
          CHECK(t.thread_of[static_cast<size_t>(j)] == static_cast<int>(lane));
        }
      CHECK(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));
      // Values, not only shapes: the float32 sums and dx are near the float64 backward's.
      const size_t gi = static_cast<size_t>(g);
      const double scale = std::max(1.0, std::fabs(ref.sum_dy_w.data[gi]));
      CHECK(std::fabs(t.sum_g - ref.sum_dy_w.data[gi]) <= 1e-4 * scale * static_cast<double>(M));
      CHECK(std::fabs(t.sum_g_xhat - ref.sum_dy_w_xhat.data[gi]) <=
            1e-4 * std::max(1.0, std::fabs(ref.sum_dy_w_xhat.data[gi])) * static_cast<double>(M));
      for (int64_t j = 0; j < M; ++j) {
        const double want = ref.dx[t.elements[static_cast<size_t>(j)]];
        CHECK(std::fabs(t.dx[static_cast<size_t>(j)] - want) <=
              1e-3 * std::max(1.0, std::fabs(want)));
      }
    }
  }
}

TEST_CASE("BatchNorm's channel is traced in j order and says the real kernel splits it") {
  const Case c{"BatchNorm (4, 3, 5, 7)", {4, 3, 5, 7}, cfg(NormKind::Batch)};
  const Layer l = makeLayer(c, true, 77);
  const ReductionTrace t = traceBackwardGroup(
      backwardGroupInput(l.x, l.dy, l.plan, l.params, l.forward.mean, l.forward.rstd, 1), l.plan,
      1);
  CHECK(!t.rows);
  CHECK(t.stages.front().explanation.find("splits each channel") != std::string::npos);
  ComputeOptions fp64;
  fp64.precision = Precision::Fp64;
  const BackwardResult ref = computeNormBackward(l.x, l.dy, l.plan, l.params, l.forward, fp64);
  CHECK(t.sum_g == doctest::Approx(ref.sum_dy_w.data[1]).epsilon(1e-4));
  CHECK(t.sum_g_xhat == doctest::Approx(ref.sum_dy_w_xhat.data[1]).epsilon(1e-4));
  CHECK_THROWS_AS(traceBackwardGroup(backwardGroupInput(l.x, l.dy, l.plan, l.params, l.forward.mean,
                                                        l.forward.rstd, 0),
                                     l.plan, 3),
                  NormError);
}

TEST_CASE("how many kernel runs the emulated device executed") {
  CHECK(printEmulatedRuns() > 0);
}
