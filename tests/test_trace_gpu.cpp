// The trace emulator against the executed kernels: the same mean and variance bit for bit for every
// strategy and geometry, and the same partial in every thread at every stage of the reduction.
// The kernels run on the emulated device (the kernel sources executed on the CPU) in every build,
// and on the GPU too when one is usable.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <tuple>

#include "emulated_runs.hpp"
#include "normviz/gpu.hpp"
#include "normviz/gpu_emulated.hpp"
#include "normviz/trace.hpp"

using namespace normviz;

namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

std::vector<GpuDeviceKind> devices() {
  std::vector<GpuDeviceKind> kinds = {GpuDeviceKind::Emulated};
  if (gpuDevice(GpuDeviceKind::Cuda).usable) kinds.push_back(GpuDeviceKind::Cuda);
  return kinds;
}

std::vector<float> groupOf(int64_t m, float offset, std::mt19937_64& rng) {
  std::normal_distribution<float> normal(0, 1);
  std::vector<float> v(static_cast<size_t>(m));
  for (float& e : v) e = offset + (offset != 0 ? 0.01f : 1.0f) * normal(rng);
  return v;
}

// The stage of the kernel's probes that a trace stage shows, or -1 for stages without a probe
// (the shared write repeats the warp totals; mean, variance and rstd are compared as results).
int probeStageOf(const TraceStage& s) {
  switch (s.kind) {
    case StageKind::Load:
      return static_cast<int>(RecipeStage::Load);
    case StageKind::Shuffle:
      return static_cast<int>(s.name.find("cross-warp") != std::string::npos
                                  ? RecipeStage::CrossWarpShuffle
                                  : RecipeStage::Shuffle);
    case StageKind::CrossWarpLoad:
      return static_cast<int>(RecipeStage::CrossWarpLoad);
    case StageKind::Halve:
      return static_cast<int>(RecipeStage::Halve);
    default:
      return -1;
  }
}

}  // namespace

TEST_CASE("emulator equals the executed kernel bit for bit") {
  for (GpuDeviceKind kind : devices()) {
    const GpuDevice& dev = gpuDevice(kind);
    std::mt19937_64 rng(99);
    int compared = 0;
    for (int64_t m : {1, 5, 24, 31, 32, 100, 768, 1000, 4097, 25088, 100000}) {
      for (float offset : {0.0f, 100.0f}) {
        const std::vector<float> v = groupOf(m, offset, rng);
        for (VarianceStrategy s : kAllStrategies)
          for (int b : {32, 64, 96, 256, 1024})
            for (int w : {1, 2, 4})
              for (ShuffleKind shuffle : {ShuffleKind::Down, ShuffleKind::Xor}) {
                if (s == VarianceStrategy::Pairwise && (w != 1 || shuffle != ShuffleKind::Down))
                  continue;
                for (bool subtract : {true, false}) {
                  TraceOptions o;
                  o.strategy = s;
                  o.block_size = b;
                  o.vector_width = w;
                  o.shuffle = shuffle;
                  const KernelStats k = emulateGroupStats(v.data(), m, subtract, 1e-5f, o);
                  float mean = 0, var = 0;
                  std::string error;
                  REQUIRE_MESSAGE(gpuReduceOneGroup(v.data(), m, b, w, s, subtract, &mean, &var,
                                                    &error, kind, shuffle),
                                  error);
                  CAPTURE(gpuDeviceKindName(kind));
                  CAPTURE(m);
                  CAPTURE(std::string(varianceName(s)));
                  CAPTURE(b);
                  CAPTURE(w);
                  CAPTURE(std::string(shuffleName(shuffle)));
                  CAPTURE(subtract);
                  CHECK(bits(k.mean) == bits(mean));
                  CHECK(bits(k.var) == bits(var));
                  ++compared;
                }
              }
      }
    }
    std::printf("compared %d geometries bit for bit on %s\n", compared, dev.name.c_str());
  }
}

TEST_CASE("the trace equals the executed kernel's partials in every thread at every stage") {
  std::mt19937_64 rng(7);
  int stages_compared = 0;
  int64_t lanes_compared = 0;
  for (int64_t m : {1, 5, 33, 100, 1000, 1030}) {
    const std::vector<float> v = groupOf(m, 3.0f, rng);
    for (bool subtract : {true, false}) {
      NormConfig config;
      config.kind = subtract ? NormKind::Layer : NormKind::RMS;
      const ReductionPlan plan = ReductionPlan::make({1, m}, config);
      for (VarianceStrategy s : kAllStrategies)
        for (int b : {32, 64, 96, 256, 1024})
          for (int w : {1, 2, 4})
            for (ShuffleKind shuffle : {ShuffleKind::Down, ShuffleKind::Xor}) {
              if (s == VarianceStrategy::Pairwise && (w != 1 || shuffle != ShuffleKind::Down))
                continue;
              CAPTURE(m);
              CAPTURE(subtract);
              CAPTURE(std::string(varianceName(s)));
              CAPTURE(b);
              CAPTURE(w);
              CAPTURE(std::string(shuffleName(shuffle)));
              TraceOptions o;
              o.strategy = s;
              o.block_size = b;
              o.vector_width = w;
              o.shuffle = shuffle;
              const ReductionTrace trace = traceGroupValues(v, plan, 0, o);

              emu::beginCapture();
              float mean = 0, var = 0;
              std::string error;
              const bool ran = gpuReduceOneGroup(v.data(), m, b, w, s, subtract, &mean, &var,
                                                 &error, GpuDeviceKind::Emulated, shuffle);
              const std::vector<emu::ProbedPartial> probes = emu::endCapture();
              REQUIRE_MESSAGE(ran, error);
              CHECK(bits(trace.mean) == bits(mean));
              CHECK(bits(trace.var) == bits(var));

              // Each thread's probes by (pass, stage, offset); a Load probe starts a pass.
              std::map<std::tuple<uint32_t, int, int, int>, const emu::ProbedPartial*> by_key;
              std::map<uint32_t, int> pass_of;
              for (const emu::ProbedPartial& p : probes) {
                int& pass = pass_of[p.thread];
                if (p.stage == static_cast<int>(RecipeStage::Load)) ++pass;
                by_key[{p.thread, pass, p.stage, p.offset}] = &p;
              }
              int pass = 0;
              int64_t missing = 0, different = 0;
              for (const TraceStage& st : trace.stages) {
                if (st.kind == StageKind::Load) ++pass;
                const int stage = probeStageOf(st);
                if (stage < 0) continue;
                ++stages_compared;
                for (size_t t = 0; t < st.lanes.size(); ++t) {
                  const TraceLane& lane = st.lanes[t];
                  if (lane.idle) continue;
                  const auto it = by_key.find({static_cast<uint32_t>(t), pass, stage, st.offset});
                  if (it == by_key.end()) {
                    if (missing++ == 0) MESSAGE(st.name << ": thread " << t << " has no probe");
                    continue;
                  }
                  const emu::ProbedPartial& p = *it->second;
                  bool same = false;
                  if (p.count == 1) {
                    same = bits(p.words[0]) == bits(lane.value);
                  } else if (p.count == 2) {
                    same = bits(p.words[0]) == bits(lane.value) &&
                           bits(p.words[1]) == bits(lane.sumsq);
                  } else {
                    same = bits(p.words[0]) == bits(lane.welford.count) &&
                           bits(p.words[1]) == bits(lane.welford.mean) &&
                           bits(p.words[2]) == bits(lane.welford.m2);
                  }
                  if (!same && different++ == 0)
                    MESSAGE(st.name << ": thread " << t << " holds " << p.words[0]
                                    << " in the kernel, " << lane.value << " in the trace");
                  ++lanes_compared;
                }
              }
              CHECK(missing == 0);
              CHECK(different == 0);
            }
    }
  }
  CHECK(lanes_compared > 0);
  std::printf("compared %lld lane partials in %d stages bit for bit with the executed kernel\n",
              static_cast<long long>(lanes_compared), stages_compared);
}

TEST_CASE("how many kernel runs the emulated device executed") {
  CHECK(printEmulatedRuns() > 0);
}
