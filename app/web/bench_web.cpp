// The page's engine benchmark: the float32 forward (two-pass variance) and a copy of the same
// tensor, on the headline shapes, with the engine's threads, as `normviz bench` times them on the
// desktop. scripts/bench-web runs it in headless Chromium beside the native build and prints the
// ratios. It is called from the page's console or a script (window.normviz.bench), not the app.
#include <emscripten.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "headline_shapes.hpp"
#include "layer_options.hpp"
#include "normviz/engine.hpp"
#include "normviz/error.hpp"
#include "normviz/timing.hpp"

namespace {

std::string g_result;  // the last result handed to the page

// Medians over `repeats` rounds (after one untimed) of a copy of x and the float32 forward,
// alternating: {copy seconds, forward seconds}.
std::pair<double, double> timeShape(const normviz::BenchShape& s, int threads, int repeats) {
  using namespace normviz;
  using Clock = std::chrono::steady_clock;
  const Tensor x = makeInput(s.shape, "randn", 0);
  const ReductionPlan plan = ReductionPlan::make(s.shape, s.config);
  TensorData<float> copy_y(static_cast<size_t>(x.numel()));
  NormResultF32 out;
  ComputeOptions fp32;
  fp32.threads = threads;
  std::vector<double> copy_s, norm_s;
  for (int round = 0; round <= repeats; ++round) {
    const auto start = Clock::now();
    copyFloats(x.data.data(), copy_y.data(), x.numel(), threads);
    if (round > 0) copy_s.push_back(secondsSince(start));
    computeNormF32Into(x, plan, {}, fp32, out);
    if (round > 0) norm_s.push_back(out.seconds);
  }
  return {median(copy_s), median(norm_s)};
}

std::string benchJson(int threads, int repeats) {
  using namespace normviz;
  nlohmann::json j;
  j["cpu_threads"] = engineThreads(threads);
  j["cpu_simd"] = engineSimdTarget();
  // First every shape once, untimed: the page's memory grows to its largest here, and the first
  // touches of newly grown memory (several times slower) land in this pass.
  for (const BenchShape& s : headlineShapes()) timeShape(s, threads, 1);
  nlohmann::json rows = nlohmann::json::array();
  for (const BenchShape& s : headlineShapes()) {
    const auto [copy, forward] = timeShape(s, threads, repeats);
    rows.push_back(
        {{"shape", s.key}, {"title", s.title}, {"path", "cpu copy"}, {"ms", copy * 1e3}});
    rows.push_back({{"shape", s.key},
                    {"title", s.title},
                    {"path", "cpu fp32 two-pass"},
                    {"ms", forward * 1e3}});
  }
  j["rows"] = rows;
  return j.dump();
}

}  // namespace

// threads: 0 = every thread the page has; repeats: timed rounds per shape. JSON, or {"error": ...}.
extern "C" EMSCRIPTEN_KEEPALIVE const char* normviz_bench(int threads, int repeats) {
  try {
    g_result = benchJson(threads, std::max(repeats, 1));
  } catch (const std::exception& e) {
    g_result = nlohmann::json{{"error", e.what()}}.dump();
  }
  return g_result.c_str();
}
