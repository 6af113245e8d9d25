// The plots under the tensor, as data: datasets, BatchNorm's running statistics over training
// steps, the spread of a batch mean by batch size, each group's histograms of x and y, and the
// float32 error of each variance strategy. No GL and no ImGui: panel_plot.cpp draws what this
// returns (charts of series of points, with their axes and labels), and tests check the numbers.
//
// Sections: chart data · the computations · the plot of the app's state (cached).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "app_state.hpp"
#include "layer_options.hpp"
#include "normviz/stats.hpp"
#include "view_options.hpp"

namespace normviz {

// ---- Chart data ---------------------------------------------------------------------------------

enum class Mark {
  Line,        // points joined in order
  LinePoints,  // a line with a marker at each point
  Points,      // markers alone
  Bars,        // a histogram: x holds the bins' left edges and one more (the last right edge)
  HLine,       // a horizontal line across the chart at y[0]
  VLine,       // a vertical line across the chart at x[0]
  ErrorBars,   // at each x a vertical bar from lo to hi with a tick at y
};
enum class MarkerShape { Circle, Square, Triangle, Diamond };

struct Series {
  std::string name;  // the legend's text; "" keeps it out of the legend
  Mark mark = Mark::Line;
  int color = 0;  // an index into the plot palette (Okabe-Ito, ordered per theme); -1 grey
  MarkerShape marker = MarkerShape::Circle;
  bool dashed = false;
  float alpha = 1.0f;  // markers of many points are drawn translucent
  float size = 1.0f;   // markers' and lines' size, relative to the chart's
  std::vector<double> x, y;
  std::vector<double> lo, hi;  // ErrorBars: the bars' ends
};

struct Axis {
  std::string label;
  bool log = false;  // base 10
  double lo = 0, hi = 1;
  std::vector<std::pair<double, std::string>> ticks;  // empty: chosen by the drawing
};

struct Chart {
  std::string title;  // "" for small multiples, whose row label says it
  Axis x, y;
  std::vector<Series> series;
  std::string note;  // one line under the chart's title ("errors of 0 drawn at 1e-9")
};

struct PlotData {
  PlotKind kind = PlotKind::None;
  std::string title, subtitle;
  std::vector<Chart> charts;  // in rows of `columns`
  int columns = 1;
  bool shared_legend = false;  // the charts' series are alike: one legend, the first chart's
  std::vector<std::string> row_labels;  // small multiples: one per row ("group 3")
  std::string error;                    // why there is nothing to plot
};

// ---- The computations ---------------------------------------------------------------------------

// One channel of a dataset of kDatasetSamples samples of the current tensor's per-sample shape
// (shape[1:]), from the layer's init and seed. Real images differ per sample in brightness and
// contrast, so per-sample means differ far more than independent noise suggests; each sample gets
// its own offset ~ N(0, 0.5) and contrast ~ U[0.5, 1.5] on top of the init's values:
//   value = m + offset + contrast * (base - m),  m = the mean of the init's values of the channel.
// Inits that cannot make more samples (worked-example, a file, photos) fall back to randn; a
// channel of more than kMaxChannelElements elements per sample is subsampled. `note` says both.
inline constexpr int64_t kDatasetSamples = 256;
inline constexpr int64_t kMaxChannelElements = 4096;
struct ChannelDataset {
  int64_t samples = 0, per_sample = 0;  // per_sample: the channel's elements in one sample
  int64_t channel = 0;
  std::vector<float> values;                   // samples x per_sample
  std::vector<double> sample_mean, sample_m2;  // per sample: mean, sum of squared deviations
  double mean = 0, var = 0;                    // over the whole dataset (var biased)
  std::string init, note;
};
ChannelDataset makeChannelDataset(const Shape& shape, const std::string& init, uint64_t seed,
                                  int64_t channel);

// BatchNorm's running statistics of one channel over `steps` training steps, each a fresh batch of
// `batch` samples drawn without replacement (seeded), from PyTorch's initial running_mean 0 and
// running_var 1. PyTorch's rule (torch.nn.BatchNorm2d): running = (1 - m) * running + m * batch
// statistic, running_var from the unbiased batch variance; momentum=None is the cumulative
// average, m = 1 / (batches seen).
struct RunningStatsTrace {
  double momentum = 0.1;
  std::vector<std::vector<int64_t>> batches;            // each step's samples
  std::vector<double> batch_mean, batch_var;            // batch_var unbiased (divides by M - 1)
  std::vector<double> running_mean, running_var;        // with momentum
  std::vector<double> cumulative_mean, cumulative_var;  // momentum=None
};
RunningStatsTrace trainRunningStats(const ChannelDataset& data, int64_t batch, int steps,
                                    double momentum, uint64_t seed);

// The channel's batch mean over `batches` random batches of each size (samples without
// replacement within a batch): every batch's mean, and their mean and standard deviation per size.
struct BatchSpread {
  std::vector<int64_t> sizes;
  std::vector<std::vector<double>> means;  // per size, one per batch
  std::vector<double> mean, std;           // per size
};
BatchSpread batchMeanSpread(const ChannelDataset& data, std::span<const int64_t> sizes, int batches,
                            uint64_t seed);

// Histograms of x and of y for up to `max_groups` groups from `first` (wrapping around), on one
// range for every x and one for every y, so that the groups compare. A group of more than
// kMaxHistogramElements elements is sampled at a stride; non-finite values are left out.
inline constexpr int64_t kMaxHistogramElements = int64_t{1} << 18;
struct GroupHistogram {
  int64_t group = 0;
  int64_t counted = 0;  // the finite elements counted (the group's size unless sampled)
  std::vector<double> x_counts, y_counts;
};
struct Histograms {
  int bins = 0;
  double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;
  int64_t group_count = 0, group_size = 0, stride = 1;
  std::vector<GroupHistogram> groups;
};
Histograms groupHistograms(const Snapshot& snap, int64_t first, int max_groups, int bins);

// The relative error of float32 variance |var32 - var64| / var64 for data offset + N(0, 1) of n
// values, at `points` offsets from 10^0 to 10^6 (evenly in log), for each strategy of
// kAllStrategies against the float64 two-pass reference (stats.hpp).
struct VarianceErrors {
  int64_t n = 0;
  std::vector<double> offsets;
  std::vector<std::vector<double>> errors;  // per strategy of kAllStrategies, one per offset
};
VarianceErrors varianceErrors(int64_t n, int points, uint64_t seed);

// ---- The plot of the app's state ----------------------------------------------------------------

// The channel the running-stats and batch-spread plots follow (the pinned element's, else 0) and
// the group the histograms start at (the pinned one's, else 0).
int64_t plotChannel(const AppState& state);
int64_t plotGroup(const AppState& state);

// The plot of `kind` for the state's layer and data, as charts.
PlotData buildPlot(PlotKind kind, const AppState& state);

// Computes the state's plot when the plot kind, the result, the pinned channel or group or the
// variance strategy changed since the last time, and returns it (nullptr while no plot is asked for
// or there is no result).
const PlotData* updatePlot(AppState& state);

}  // namespace normviz
