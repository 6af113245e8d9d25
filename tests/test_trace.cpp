// The reduction trace: final values against float64, coverage invariants at every stage, the
// worked example step by step, pairwise equal to the engine's bit for bit, and clear errors.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "normviz/engine.hpp"
#include "normviz/error.hpp"
#include "normviz/trace.hpp"
#include "test_util.hpp"

using namespace normviz;

namespace {

constexpr double kUnit = 0x1p-24;  // float32 unit roundoff

using test::randomTensor;

Tensor workedExample() {
  std::ifstream in(std::string(NORMVIZ_TEST_DATA) + "/worked-example.json");
  REQUIRE(in);
  const nlohmann::json j = nlohmann::json::parse(in);
  return Tensor(Shape(j["shape"].get<std::vector<int64_t>>()), j["x"].get<std::vector<float>>());
}

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

bool isReductionStep(StageKind k) {
  return k == StageKind::Shuffle || k == StageKind::Halve || k == StageKind::SharedWrite ||
         k == StageKind::CrossWarpLoad;
}

std::vector<int32_t> unite(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  return a;
}

// Every invariant a trace must satisfy, whatever the layer, group, strategy or geometry.
void checkCoverage(const ReductionTrace& t) {
  const int64_t M = static_cast<int64_t>(t.elements.size());
  const std::vector<int32_t>* all = nullptr;
  std::vector<int32_t> everything(static_cast<size_t>(M));
  for (int64_t j = 0; j < M; ++j) everything[static_cast<size_t>(j)] = static_cast<int32_t>(j);
  all = &everything;
  for (size_t si = 0; si < t.stages.size(); ++si) {
    const TraceStage& s = t.stages[si];
    CAPTURE(s.name);
    REQUIRE(s.lanes.size() == static_cast<size_t>(t.block_size));
    // Idle lanes hold nothing; busy lanes cover something, in ascending order.
    for (const TraceLane& lane : s.lanes) {
      CHECK(lane.idle == lane.covers.empty());
      CHECK(std::is_sorted(lane.covers.begin(), lane.covers.end()));
    }
    if (s.kind == StageKind::Load || s.kind == StageKind::Normalize ||
        (isReductionStep(s.kind) && t.shuffle == ShuffleKind::Down)) {
      // Each element is covered by exactly one lane: loads partition the group, and a down
      // shuffle, a halving or a shared-memory step moves partials without duplicating them.
      std::vector<int> count(static_cast<size_t>(M), 0);
      for (const TraceLane& lane : s.lanes)
        for (int32_t j : lane.covers) ++count[static_cast<size_t>(j)];
      for (int64_t j = 0; j < M; ++j) REQUIRE(count[static_cast<size_t>(j)] == 1);
    }
    if (s.kind == StageKind::Load || s.kind == StageKind::Normalize) {
      // The lane that covers j is the thread that loads j.
      for (size_t l = 0; l < s.lanes.size(); ++l)
        for (int32_t j : s.lanes[l].covers)
          CHECK(t.thread_of[static_cast<size_t>(j)] == static_cast<int>(l));
    }
    if (s.kind == StageKind::Shuffle || s.kind == StageKind::Halve) {
      // A busy lane covers the union of what it and its source covered one stage earlier.
      const TraceStage& prev = t.stages[si - 1];
      for (size_t l = 0; l < s.lanes.size(); ++l) {
        const TraceLane& lane = s.lanes[l];
        if (lane.idle) continue;
        const int warp_base = static_cast<int>(l) / kWarpSize * kWarpSize;
        const int partner =
            s.kind == StageKind::Halve
                ? static_cast<int>(l) + s.offset
                : warp_base + shuffleSource(t.shuffle, static_cast<int>(l) % kWarpSize, s.offset);
        std::vector<int32_t> expect = prev.lanes[l].covers;
        if (partner >= warp_base && partner < t.block_size)
          expect = unite(expect, prev.lanes[static_cast<size_t>(partner)].covers);
        CHECK(lane.covers == expect);
        if (lane.source >= 0) CHECK(lane.source == partner);
      }
    }
    if (s.kind == StageKind::Mean || s.kind == StageKind::Variance) {
      CHECK(s.lanes[0].covers == *all);
      for (size_t l = 1; l < s.lanes.size(); ++l) CHECK(s.lanes[l].idle);
    }
    if (s.kind == StageKind::Broadcast || s.kind == StageKind::Rstd)
      for (const TraceLane& lane : s.lanes) CHECK(lane.covers == *all);
  }
  // Each pass ends with thread 0 covering the whole group, just before mean/variance.
  for (size_t si = 1; si < t.stages.size(); ++si)
    if (t.stages[si].kind == StageKind::Mean || t.stages[si].kind == StageKind::Variance)
      if (t.stages[si - 1].kind != StageKind::Mean && t.stages[si - 1].kind != StageKind::Broadcast)
        CHECK(t.stages[si - 1].lanes[0].covers == *all);
}

}  // namespace

TEST_CASE("worked example: GroupNorm on 32 threads, from each thread's sum to lane 0's mean") {
  const Tensor x = workedExample();
  NormConfig c;
  c.kind = NormKind::Group;
  c.groups = 2;
  const ReductionPlan plan = ReductionPlan::make(x.shape, c);
  TraceOptions o;
  o.block_size = 32;
  // Group 1 is sample 0, channels 2-3: flat indices 8..15 = 0,0,0,1,1,1,0,0.
  const ReductionTrace t = traceReduction(x, plan, 1, o);
  CHECK(t.elements == std::vector<int64_t>{8, 9, 10, 11, 12, 13, 14, 15});
  checkCoverage(t);

  std::vector<std::string> names;
  for (const TraceStage& s : t.stages) names.push_back(s.name);
  CHECK(names == std::vector<std::string>{
                     "sum x", "shuffle 16", "shuffle 8", "shuffle 4", "shuffle 2", "shuffle 1",
                     "mean", "broadcast mean", "pass 2: sum (x-mean)^2", "pass 2: shuffle 16",
                     "pass 2: shuffle 8", "pass 2: shuffle 4", "pass 2: shuffle 2",
                     "pass 2: shuffle 1", "pass 2: variance", "pass 2: rstd", "pass 2: normalize"});
  // Load: thread t holds element t; threads 8..31 idle.
  const TraceStage& load = t.stages[0];
  CHECK(load.explanation.find("Each thread sums its elements") == 0);
  for (int l = 0; l < 8; ++l) {
    CHECK(load.lanes[l].value == x[8 + l]);
    CHECK(load.lanes[l].covers == std::vector<int32_t>{l});
  }
  for (int l = 8; l < 32; ++l) CHECK(load.lanes[l].idle);
  // The covered set doubles at each step that receives something: 1, 2, 4, 8.
  CHECK(t.stages[3].lanes[0].covers == std::vector<int32_t>{0, 4});
  CHECK(t.stages[3].lanes[0].value == 1.0f);  // x[8] + x[12]
  CHECK(t.stages[4].lanes[0].covers == std::vector<int32_t>{0, 2, 4, 6});
  CHECK(t.stages[5].lanes[0].covers.size() == 8);
  CHECK(t.stages[5].lanes[0].value == 3.0f);
  const TraceStage& mean = t.stages[6];
  CHECK(mean.explanation.find("Lane 0 holds the group's mean") == 0);
  CHECK(mean.lanes[0].value == 0.375f);
  CHECK(t.mean == 0.375f);
  CHECK(t.var == 0.234375f);  // (5 * 0.375^2 + 3 * 0.625^2) / 8
  CHECK(t.rstd == 1.0f / std::sqrt(0.234375f + 1e-5f));
}

TEST_CASE("random layers, groups and geometries: float64 agreement and coverage invariants") {
  std::mt19937_64 rng(20240611);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const NormKind kinds[] = {NormKind::Batch, NormKind::Layer,   NormKind::Instance,
                            NormKind::Group, NormKind::Layer2d, NormKind::RMS};
  const int blocks[] = {32, 64, 96, 128, 256, 1024};
  int traced = 0;
  for (int iter = 0; iter < 400 && traced < 150; ++iter) {
    Shape shape;
    const int rank = static_cast<int>(pick(2, 4));
    for (int a = 0; a < rank; ++a) shape.dims.push_back(pick(1, 9));
    NormConfig c;
    c.kind = kinds[pick(0, 5)];
    c.groups = pick(1, 4);
    ReductionPlan plan;
    try {
      plan = ReductionPlan::make(shape, c);
    } catch (const NormError&) {
      continue;  // an invalid combination (C % G, BatchNorm with one value, rank): not a trace case
    }
    const Tensor x = randomTensor(shape, static_cast<uint64_t>(iter),
                                  static_cast<float>(pick(-3, 3)), static_cast<float>(pick(1, 4)));
    TraceOptions o;
    o.strategy = kAllStrategies[pick(0, 3)];
    o.block_size = blocks[pick(0, 5)];
    o.vector_width = o.strategy == VarianceStrategy::Pairwise ? 1 : 1 << pick(0, 2);
    o.shuffle = pick(0, 3) == 0 ? ShuffleKind::Xor : ShuffleKind::Down;
    const int64_t group = pick(0, plan.groupCount() - 1);
    CAPTURE(shape.str());
    CAPTURE(std::string(normKindName(c.kind)));
    CAPTURE(std::string(varianceName(o.strategy)));
    CAPTURE(o.block_size);
    CAPTURE(o.vector_width);
    CAPTURE(group);
    const ReductionTrace t = traceReduction(x, plan, group, o);
    checkCoverage(t);

    // Stated bound: summing M float32 terms of magnitude <= a errs by at most about M*u*sum|a|;
    // mean within 2*M*u*mean|x|, variance within 4*M*u*(var + mean^2) (naive cancels exactly
    // up to that much), plus the float32 rounding of the results themselves.
    ComputeOptions f64;
    f64.precision = Precision::Fp64;
    const NormResult ref = computeNorm(x, plan, {}, f64);
    const double M = static_cast<double>(plan.groupSize());
    double mean_abs = 0;
    for (int64_t flat : plan.elementsOf(group)) mean_abs += std::fabs(x[flat]) / M;
    const double rm = ref.mean[group], rv = ref.var[group];
    CHECK(std::fabs(t.mean - rm) <= 2 * M * kUnit * mean_abs + 1e-30);
    CHECK(std::fabs(t.var - rv) <= 4 * M * kUnit * (rv + rm * rm) + 4 * kUnit * rv + 1e-30);
    if (!plan.subtractsMean()) CHECK(t.mean == 0.0f);
    ++traced;
  }
  CHECK(traced >= 100);
}

TEST_CASE(
    "pairwise emulation equals the scalar pairwise (groupStatsF32) bit for bit on every block "
    "size") {
  // The block only splits the same halving tree between threads, so the sums are the same.
  for (int64_t m : {1, 2, 7, 33, 100, 1000, 4096, 5000, 70000}) {
    const Tensor x = randomTensor(Shape{m}, static_cast<uint64_t>(m), 2.0f, 3.0f);
    std::vector<float> scratch;
    for (bool subtract : {true, false}) {
      const GroupStats<float> cpu =
          groupStatsF32(x.data.data(), m, VarianceStrategy::Pairwise, subtract, scratch);
      for (int b : {32, 64, 256, 1024}) {
        TraceOptions o;
        o.strategy = VarianceStrategy::Pairwise;
        o.block_size = b;
        const KernelStats k = emulateGroupStats(x.data.data(), m, subtract, 1e-5f, o);
        CAPTURE(m);
        CAPTURE(b);
        CHECK(bits(k.mean) == bits(cpu.mean));
        CHECK(bits(k.var) == bits(cpu.var));
      }
    }
  }
}

TEST_CASE("the trace's final values are the emulator's, whatever is recorded") {
  const Tensor x = randomTensor(Shape{2, 8, 5, 3}, 7, 1.0f, 2.0f);
  NormConfig c;
  c.kind = NormKind::Group;
  c.groups = 4;
  const ReductionPlan plan = ReductionPlan::make(x.shape, c);
  for (VarianceStrategy s : kAllStrategies)
    for (int b : {32, 128}) {
      TraceOptions o;
      o.strategy = s;
      o.block_size = b;
      const ReductionTrace t = traceReduction(x, plan, 5, o);
      const std::vector<float> v = groupValues(x, plan, 5);
      const KernelStats k = emulateGroupStats(v.data(), plan.groupSize(), true, 1e-5f, o);
      CHECK(bits(t.mean) == bits(k.mean));
      CHECK(bits(t.var) == bits(k.var));
      CHECK(bits(t.rstd) == bits(k.rstd));
    }
}

TEST_CASE("large offset: naive sum of squares collapses, Welford and two-pass hold") {
  // docs/NORMS.md: x = 100 + 0.01 randn over 32768 elements; the true variance is about 1e-4.
  const Tensor x = randomTensor(Shape{32768}, 1, 100.0f, 0.01f);
  const StrategyComparison c = compareStrategies(x.data.data(), 32768, true, 1e-5f, 256, 4);
  REQUIRE(c.results.size() == 4);
  CHECK(c.ref_var == doctest::Approx(1e-4).epsilon(0.05));
  for (const StrategyResult& r : c.results) {
    CAPTURE(std::string(varianceName(r.strategy)));
    CHECK(r.mean_rel_error < 1e-6);
    if (r.strategy == VarianceStrategy::Naive)
      CHECK(r.var_rel_error > 0.5);  // cancellation: wrong in the first digit, or clamped to 0
    else
      CHECK(r.var_rel_error < 1e-3);
  }
}

TEST_CASE("Welford lanes carry count, mean and M2 that merge by Chan's formula") {
  const Tensor x = randomTensor(Shape{4, 300}, 3);
  NormConfig c;
  c.kind = NormKind::Layer;
  const ReductionPlan plan = ReductionPlan::make(x.shape, c);
  TraceOptions o;
  o.strategy = VarianceStrategy::Welford;
  o.block_size = 128;
  o.vector_width = 2;
  const ReductionTrace t = traceReduction(x, plan, 2, o);
  checkCoverage(t);
  for (size_t si = 0; si < t.stages.size(); ++si) {
    const TraceStage& s = t.stages[si];
    for (const TraceLane& lane : s.lanes) {
      if (lane.idle || s.kind == StageKind::Mean || s.kind == StageKind::Variance ||
          s.kind == StageKind::Broadcast || s.kind == StageKind::Rstd ||
          s.kind == StageKind::Normalize)
        continue;
      CHECK(lane.welford.count == static_cast<float>(lane.covers.size()));
      CHECK(lane.value == lane.welford.mean);
    }
    if (s.kind == StageKind::Shuffle) {
      const TraceStage& prev = t.stages[si - 1];
      for (size_t l = 0; l < s.lanes.size(); ++l) {
        if (s.lanes[l].idle || s.lanes[l].source < 0) continue;
        const WelfordState m = welfordMerge(
            prev.lanes[l].welford, prev.lanes[static_cast<size_t>(s.lanes[l].source)].welford);
        CHECK(bits(m.mean) == bits(s.lanes[l].welford.mean));
        CHECK(bits(m.m2) == bits(s.lanes[l].welford.m2));
      }
    }
  }
}

TEST_CASE("bad group, block size, vector width or size: clear errors") {
  const Tensor x = randomTensor(Shape{3, 4, 2, 2}, 1);
  NormConfig c;
  c.kind = NormKind::Group;
  const ReductionPlan plan = ReductionPlan::make(x.shape, c);
  TraceOptions o;
  CHECK_THROWS_WITH_AS(traceReduction(x, plan, 6, o),
                       doctest::Contains("group 6 is out of range: this layer has 6 groups"),
                       NormError);
  CHECK_THROWS_AS(traceReduction(x, plan, -1, o), NormError);
  for (int b : {0, 16, 48, 1056, -32}) {
    o.block_size = b;
    CHECK_THROWS_WITH_AS(traceReduction(x, plan, 0, o), doctest::Contains("multiple of 32"),
                         NormError);
  }
  o.block_size = 64;
  o.vector_width = 3;
  CHECK_THROWS_WITH_AS(traceReduction(x, plan, 0, o), doctest::Contains("vector width 3"),
                       NormError);
  o.vector_width = 2;
  o.strategy = VarianceStrategy::Pairwise;
  CHECK_THROWS_WITH_AS(traceReduction(x, plan, 0, o), doctest::Contains("vector width 1"),
                       NormError);
  const Tensor big = randomTensor(Shape{1, 1 << 16}, 2);
  NormConfig lc;
  lc.kind = NormKind::Layer;
  TraceOptions wide;
  wide.block_size = 1024;
  CHECK_THROWS_WITH_AS(traceReduction(big, ReductionPlan::make(big.shape, lc), 0, wide),
                       doctest::Contains("too large to list"), NormError);
  CHECK_THROWS_AS(parseShuffle("sideways"), NormError);
}
