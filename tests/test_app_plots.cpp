// The plots under the tensor (app/gui/plot_data.hpp): BatchNorm's running statistics against a
// direct computation, the batch mean's spread by batch size, the histograms' counts and centring,
// the variance strategies' errors, the pinned channel and group, the cache, and --plot in the spec.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <numeric>
#include <string>

#include "app_compute.hpp"
#include "plot_data.hpp"
#include "spec_state.hpp"

using namespace normviz;

namespace {

AppState stateFor(NormKind norm, const Shape& shape, const std::string& init = "randn") {
  LayerOptions o;
  o.norm = norm;
  o.groups = 3;
  o.shape = shape;
  o.init = init;
  o.seed = 5;
  AppState s;
  initFromOptions(s, o);
  recomputeIfChanged(s);
  REQUIRE(s.error.empty());
  REQUIRE(s.shown.has_value());
  return s;
}

// The batch's mean and unbiased variance over its samples' values, directly.
std::pair<double, double> directMoments(const ChannelDataset& d,
                                        const std::vector<int64_t>& batch) {
  double sum = 0;
  for (int64_t s : batch)
    for (int64_t i = 0; i < d.per_sample; ++i)
      sum += d.values[static_cast<size_t>(s * d.per_sample + i)];
  const double m = static_cast<double>(batch.size()) * static_cast<double>(d.per_sample);
  const double mean = sum / m;
  double ss = 0;
  for (int64_t s : batch)
    for (int64_t i = 0; i < d.per_sample; ++i) {
      const double dev = d.values[static_cast<size_t>(s * d.per_sample + i)] - mean;
      ss += dev * dev;
    }
  return {mean, ss / (m - 1.0)};
}

}  // namespace

TEST_CASE(
    "running stats: PyTorch's momentum rule from 0 and 1, running_var from the unbiased "
    "batch variance") {
  for (const char* init : {"randn", "large-offset"}) {
    CAPTURE(init);
    const ChannelDataset d = makeChannelDataset(Shape{8, 4, 6, 6}, init, 3, 2);
    REQUIRE(d.samples == 256);
    REQUIRE(d.per_sample == 36);
    const RunningStatsTrace t = trainRunningStats(d, 8, 150, 0.1, 17);
    REQUIRE(t.running_mean.size() == 150);
    double rm = 0, rv = 1;
    for (size_t k = 0; k < t.batches.size(); ++k) {
      REQUIRE(t.batches[k].size() == 8);
      const auto [mean, var] = directMoments(d, t.batches[k]);
      rm = 0.9 * rm + 0.1 * mean;
      rv = 0.9 * rv + 0.1 * var;
      CHECK(t.batch_mean[k] == doctest::Approx(mean).epsilon(1e-9));
      CHECK(t.batch_var[k] == doctest::Approx(var).epsilon(1e-9));
      CHECK(t.running_mean[k] == doctest::Approx(rm).epsilon(1e-9));
      CHECK(t.running_var[k] == doctest::Approx(rv).epsilon(1e-9));
    }
    // After 150 steps the running estimates sit near the dataset's values: within a few percent
    // of its spread (randn's mean is about 0) or of the mean itself (large-offset's is 100).
    const double tolerance = 0.15 * std::sqrt(d.var) + 0.02 * std::abs(d.mean);
    CHECK(std::abs(t.running_mean.back() - d.mean) < tolerance);
    CHECK(t.running_var.back() == doctest::Approx(d.var).epsilon(0.25));
    if (std::string(init) == "large-offset")
      CHECK(t.running_mean.back() == doctest::Approx(d.mean).epsilon(0.02));
  }
}

TEST_CASE(
    "running stats: the cumulative average (momentum=None) is the mean of the batch "
    "statistics") {
  const ChannelDataset d = makeChannelDataset(Shape{4, 3, 5, 5}, "uniform", 1, 0);
  const RunningStatsTrace t = trainRunningStats(d, 4, 120, 0.1, 2);
  for (size_t k = 0; k < t.batch_mean.size(); ++k) {
    const auto n = static_cast<double>(k + 1);
    const double mean =
        std::accumulate(t.batch_mean.begin(), t.batch_mean.begin() + k + 1, 0.0) / n;
    const double var = std::accumulate(t.batch_var.begin(), t.batch_var.begin() + k + 1, 0.0) / n;
    CHECK(t.cumulative_mean[k] == doctest::Approx(mean).epsilon(1e-12));
    CHECK(t.cumulative_var[k] == doctest::Approx(var).epsilon(1e-12));
  }
  // Same batches for the same seed; other batches for another.
  CHECK(trainRunningStats(d, 4, 120, 0.1, 2).batches == t.batches);
  CHECK(trainRunningStats(d, 4, 120, 0.1, 3).batches != t.batches);
}

TEST_CASE("the dataset: each sample its own brightness and contrast, so sample means differ") {
  const ChannelDataset d = makeChannelDataset(Shape{8, 4, 16, 16}, "randn", 0, 1);
  double spread = 0;
  for (double m : d.sample_mean) spread += (m - d.mean) * (m - d.mean);
  spread = std::sqrt(spread / static_cast<double>(d.samples));
  // i.i.d. randn would give 1/16 = 0.06; the offsets N(0, 0.5) dominate.
  CHECK(spread > 0.35);
  CHECK(spread < 0.7);
  // Another channel is another draw; the worked example (one shape only) falls back to randn.
  CHECK(makeChannelDataset(Shape{8, 4, 16, 16}, "randn", 0, 2).mean != d.mean);
  const ChannelDataset fallback = makeChannelDataset(Shape{3, 4, 2, 2}, "worked-example", 0, 0);
  CHECK(fallback.init == "randn");
  CHECK(fallback.note.find("randn") != std::string::npos);
  // A large channel is subsampled, and says so.
  const ChannelDataset big = makeChannelDataset(Shape{2, 3, 224, 224}, "randn", 0, 0);
  CHECK(big.per_sample == kMaxChannelElements);
  CHECK(big.note.find("50,176") != std::string::npos);
}

TEST_CASE("batch spread: the batch mean gets noisier as the batch shrinks") {
  const ChannelDataset d = makeChannelDataset(Shape{8, 4, 6, 6}, "randn", 0, 0);
  const int64_t sizes[] = {1, 2, 4, 8, 16, 32};
  const BatchSpread b = batchMeanSpread(d, sizes, 200, 29);
  REQUIRE(b.std.size() == 6);
  for (const auto& means : b.means) CHECK(means.size() == 200);
  CHECK(b.std[5] < b.std[0] / 3.0);
  for (size_t k = 1; k < b.std.size(); ++k) CHECK(b.std[k] < b.std[k - 1] * 1.1);
  for (double m : b.mean) CHECK(std::abs(m - d.mean) < 0.15);
}

TEST_CASE("histograms: every element of each group counted once, y centred") {
  const AppState s = stateFor(NormKind::Group, Shape{4, 6, 5, 5}, "uniform");
  const Snapshot& snap = *s.shown;
  REQUIRE(snap.plan.groupCount() == 12);
  const Histograms h = groupHistograms(snap, 10, 8, 32);
  REQUIRE(h.groups.size() == 8);
  CHECK(h.groups[0].group == 10);
  CHECK(h.groups[2].group == 0);  // from the pinned group on, wrapping around
  const double width = (h.y_hi - h.y_lo) / h.bins;
  for (const GroupHistogram& g : h.groups) {
    CAPTURE(g.group);
    CHECK(std::accumulate(g.x_counts.begin(), g.x_counts.end(), 0.0) == 50);
    CHECK(std::accumulate(g.y_counts.begin(), g.y_counts.end(), 0.0) == 50);
    CHECK(g.counted == snap.plan.groupSize());
    double centre = 0;
    for (int b = 0; b < h.bins; ++b)
      centre += g.y_counts[static_cast<size_t>(b)] * (h.y_lo + (b + 0.5) * width);
    CHECK(std::abs(centre / 50.0) < 0.5 * width);
  }
}

TEST_CASE("variance errors: naive cancels catastrophically where two-pass stays small") {
  const VarianceErrors e = varianceErrors(4096, 25, 11);
  REQUIRE(e.offsets.size() == 25);
  CHECK(e.offsets.front() == doctest::Approx(1.0));
  CHECK(e.offsets.back() == doctest::Approx(1e6));
  CHECK(e.offsets[16] == doctest::Approx(1e4));
  const auto at = [&](VarianceStrategy s, size_t k) { return e.errors[static_cast<size_t>(s)][k]; };
  CHECK(at(VarianceStrategy::Naive, 16) > 1e3 * std::max(at(VarianceStrategy::TwoPass, 16), 1e-7));
  CHECK(at(VarianceStrategy::TwoPass, 16) < 1e-5);
  // At 10^6 naive's variance is all rounding: an error the size of the variance itself.
  CHECK(at(VarianceStrategy::Naive, 24) >= 0.99);
}

TEST_CASE("plots follow the pinned channel and group, and are cached until something changes") {
  AppState s = stateFor(NormKind::Group, Shape{4, 6, 5, 5});
  CHECK(plotChannel(s) == 0);
  CHECK(plotGroup(s) == 0);
  CHECK(updatePlot(s) == nullptr);  // no plot asked for
  const int64_t flat = flatIndex({2, 4, 1, 3}, s.x.shape);
  s.pinned = CubeRef{Section::Input, flat};
  CHECK(plotChannel(s) == 4);
  CHECK(plotGroup(s) == s.shown->plan.groupOf(flat));
  s.pinned = CubeRef{Section::Mean, 7};  // group 7 = sample 2, channels 2..3
  CHECK(plotGroup(s) == 7);
  CHECK(plotChannel(s) == 2);
  s.plot = PlotKind::Histogram;
  const PlotData* first = updatePlot(s);
  REQUIRE(first != nullptr);
  CHECK(first->error.empty());
  CHECK(first->row_labels.front() == "group 7");
  s.hovered = CubeRef{Section::Input, 0};
  CHECK(updatePlot(s) == first);  // hovering changes nothing
  s.pinned = CubeRef{Section::Mean, 3};
  const PlotData* second = updatePlot(s);
  CHECK(second != first);
  CHECK(second->row_labels.front() == "group 3");
  for (PlotKind kind : {PlotKind::RunningStats, PlotKind::BatchSpread, PlotKind::VarianceError}) {
    s.plot = kind;
    const PlotData* p = updatePlot(s);
    REQUIRE(p != nullptr);
    CHECK(p->error.empty());
    CHECK(p->kind == kind);
    CHECK(!p->charts.empty());
  }
}

TEST_CASE("plots at ResNet's (32, 64, 56, 56) take well under a frame's worth of waiting") {
  const AppState s = stateFor(NormKind::Batch, Shape{32, 64, 56, 56});
  for (PlotKind kind : {PlotKind::RunningStats, PlotKind::BatchSpread, PlotKind::Histogram,
                        PlotKind::VarianceError}) {
    const auto t0 = std::chrono::steady_clock::now();
    const PlotData p = buildPlot(kind, s);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const std::string line = std::string(nameOf(kind)) + ": " + std::to_string(ms) + " ms";
    MESSAGE(line);
    CHECK(p.error.empty());
    CHECK(ms < 500.0);  // about 10-40 ms on a laptop core; generous for loaded machines
  }
}

TEST_CASE("--plot opens the plot, and the view's command line and link carry it") {
  const std::vector<std::string> args = {"--norm", "batch", "--shape", "8,4,6,6",
                                         "--init", "randn", "--plot",  "batch-spread"};
  const ViewSpec spec = specFromArgv(args);
  CHECK(spec.plot == PlotKind::BatchSpread);
  AppState s;
  openSpec(s, spec, true, false);
  CHECK(s.plot == PlotKind::BatchSpread);
  CHECK(specOf(s).plot == PlotKind::BatchSpread);
  CHECK(specToQuery(specOf(s)).find("plot=batch-spread") != std::string::npos);
  CHECK(specCommandLine(specOf(s)).find("--plot batch-spread") != std::string::npos);
  s.plot = PlotKind::None;
  CHECK(specToQuery(specOf(s)).find("plot") == std::string::npos);
}
