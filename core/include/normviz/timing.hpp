// Timing runs and comparing results, one way for every table normviz prints: the app's timings,
// `normviz bench`, the copy bandwidth and the GPU runtime's kernel times.
#pragma once

#include <chrono>
#include <cmath>
#include <cstdint>
#include <vector>

#include "normviz/tensor.hpp"

namespace normviz {

// The median: the middle value, or the mean of the two middle values of an even count; 0 when
// there is none.
double median(std::vector<double> values);

// Seconds since `start` on the steady clock.
double secondsSince(std::chrono::steady_clock::time_point start);

// One untimed run (a layer's first run pays for fresh output pages and cold caches), then up to
// `max_runs` timed ones, fewer once `budget_seconds` are spent: their median. `run` does one run
// and returns its seconds.
template <typename Run>
double medianOfRuns(const Run& run, int max_runs, double budget_seconds = INFINITY) {
  run();
  std::vector<double> seconds;
  double spent = 0;
  for (int i = 0; i < max_runs && spent < budget_seconds; ++i) {
    seconds.push_back(run());
    spent += seconds.back();
  }
  return median(std::move(seconds));
}

// max |a[i] - b[i]| over the elements both hold; a NaN anywhere makes it NaN.
template <typename A, typename B>
double maxAbsDiff(const BasicTensor<A>& a, const BasicTensor<B>& b) {
  double m = 0;
  const int64_t n = std::min(a.numel(), b.numel());
  for (int64_t i = 0; i < n; ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
    if (!(d <= m)) m = d;  // NaN propagates as the maximum
  }
  return m;
}

}  // namespace normviz
