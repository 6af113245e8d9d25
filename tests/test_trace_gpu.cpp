// The emulator against the CUDA kernels: the same mean and variance bit for bit, for every strategy
// and geometry. Without a usable GPU it prints "SKIPPED: <reason>" and ctest marks it skipped.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <random>

#include "normviz/gpu.hpp"
#include "normviz/trace.hpp"

using namespace normviz;

namespace {
uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
}  // namespace

TEST_CASE("emulator equals the GPU bit for bit") {
  const GpuDevice& dev = gpuDevice();
  if (!dev.usable) {
    std::printf("SKIPPED: no usable GPU (%s)\n", dev.reason.c_str());
    return;
  }
  std::mt19937_64 rng(99);
  std::normal_distribution<float> normal(0, 1);
  int compared = 0;
  for (int64_t m : {1, 5, 24, 31, 32, 100, 768, 1000, 4097, 25088, 100000}) {
    for (float offset : {0.0f, 100.0f}) {
      std::vector<float> v(static_cast<size_t>(m));
      for (float& e : v) e = offset + (offset != 0 ? 0.01f : 1.0f) * normal(rng);
      for (VarianceStrategy s : kAllStrategies)
        for (int b : {32, 64, 96, 256, 1024})
          for (int w : {1, 2, 4}) {
            if (s == VarianceStrategy::Pairwise && w != 1) continue;
            for (bool subtract : {true, false}) {
              TraceOptions o;
              o.strategy = s;
              o.block_size = b;
              o.vector_width = w;
              const KernelStats k = emulateGroupStats(v.data(), m, subtract, 1e-5f, o);
              float mean = 0, var = 0;
              std::string error;
              REQUIRE_MESSAGE(
                  gpuReduceOneGroup(v.data(), m, b, w, s, subtract, &mean, &var, &error), error);
              CAPTURE(m);
              CAPTURE(std::string(varianceName(s)));
              CAPTURE(b);
              CAPTURE(w);
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
