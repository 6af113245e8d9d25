// The plots' numbers (see plot_data.hpp): datasets, running statistics, batch spreads, histograms,
// variance errors, and the charts made of them.
//
// Sections: datasets and batches · histograms · variance errors · charts · the app's plot.
#include "plot_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

#include "normviz/error.hpp"

namespace normviz {

namespace {

// ---- Datasets and batches -----------------------------------------------------------------------

// Inits that makeInput can draw at any shape.
bool anyShapeInit(const std::string& init) {
  return init == "randn" || init == "uniform" || init == "arange" || init == "constant" ||
         init == "large-offset" || init == "outlier-features";
}

// A seed of its own for each channel, so that channels differ.
uint64_t channelSeed(uint64_t seed, int64_t channel) {
  return seed ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(channel + 1));
}

std::string withCommas(int64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// `count` distinct samples of `samples`, by a partial Fisher-Yates shuffle of `order`.
void drawBatch(std::vector<int64_t>& order, int64_t count, std::mt19937_64& rng) {
  const auto n = static_cast<int64_t>(order.size());
  for (int64_t i = 0; i < count; ++i) {
    std::uniform_int_distribution<int64_t> pick(i, n - 1);
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(pick(rng))]);
  }
}

// Mean and sum of squared deviations of the samples `batch` (each per_sample values), combined
// from the per-sample ones (Chan, Golub and LeVeque 1979): exact, without a pass over the values.
std::pair<double, double> batchMoments(const ChannelDataset& d, std::span<const int64_t> batch) {
  double mean = 0;
  for (int64_t s : batch) mean += d.sample_mean[static_cast<size_t>(s)];
  mean /= static_cast<double>(batch.size());
  double m2 = 0;
  for (int64_t s : batch) {
    const double dev = d.sample_mean[static_cast<size_t>(s)] - mean;
    m2 += d.sample_m2[static_cast<size_t>(s)] + static_cast<double>(d.per_sample) * dev * dev;
  }
  return {mean, m2};
}

// Each sample's brightness and contrast (see makeChannelDataset), then its mean and spread.
void applySampleLooks(ChannelDataset& d, uint64_t seed) {
  const double base_mean =
      std::accumulate(d.values.begin(), d.values.end(), 0.0) / static_cast<double>(d.values.size());
  std::mt19937_64 rng(seed + 1);
  std::normal_distribution<double> offset(0.0, 0.5);
  std::uniform_real_distribution<double> contrast(0.5, 1.5);
  d.sample_mean.assign(static_cast<size_t>(d.samples), 0.0);
  d.sample_m2.assign(static_cast<size_t>(d.samples), 0.0);
  for (int64_t s = 0; s < d.samples; ++s) {
    const double o = offset(rng), c = contrast(rng);
    float* v = d.values.data() + s * d.per_sample;
    double sum = 0;
    for (int64_t i = 0; i < d.per_sample; ++i) {
      v[i] = static_cast<float>(base_mean + o + c * (v[i] - base_mean));
      sum += v[i];
    }
    const double mean = sum / static_cast<double>(d.per_sample);
    double m2 = 0;
    for (int64_t i = 0; i < d.per_sample; ++i) m2 += (v[i] - mean) * (v[i] - mean);
    d.sample_mean[static_cast<size_t>(s)] = mean;
    d.sample_m2[static_cast<size_t>(s)] = m2;
  }
  std::vector<int64_t> all(static_cast<size_t>(d.samples));
  std::iota(all.begin(), all.end(), 0);
  const auto [mean, m2] = batchMoments(d, all);
  d.mean = mean;
  d.var = m2 / static_cast<double>(d.values.size());
}

}  // namespace

ChannelDataset makeChannelDataset(const Shape& shape, const std::string& init, uint64_t seed,
                                  int64_t channel) {
  const int64_t samples = kDatasetSamples;
  ChannelDataset d;
  d.samples = samples;
  d.channel = channel;
  d.init = anyShapeInit(init) ? init : "randn";
  if (d.init != init)
    d.note =
        (init == "file" || init == "images" ? "the input is a file" : init + " has one shape") +
        ": the dataset is randn";
  // The channel's elements in one sample: the dims after the channel axis.
  std::vector<int64_t> dims = {samples};
  int64_t per_sample = 1;
  for (int a = 2; a < shape.rank(); ++a) {
    dims.push_back(shape[a]);
    per_sample *= shape[a];
  }
  if (per_sample > kMaxChannelElements) {
    if (!d.note.empty()) d.note += "; ";
    d.note += withCommas(kMaxChannelElements) + " of each sample's " + withCommas(per_sample) +
              " channel elements";
    dims = {samples, kMaxChannelElements};
    per_sample = kMaxChannelElements;
  }
  d.per_sample = per_sample;
  const Tensor base = makeInput(Shape(dims), d.init, channelSeed(seed, channel));
  d.values.assign(base.data.begin(), base.data.end());
  applySampleLooks(d, channelSeed(seed, channel));
  return d;
}

RunningStatsTrace trainRunningStats(const ChannelDataset& d, int64_t batch, int steps,
                                    double momentum, uint64_t seed) {
  RunningStatsTrace t;
  t.momentum = momentum;
  // An unbiased variance needs two values: one sample of one value is a batch of two.
  batch = std::clamp<int64_t>(batch, d.per_sample > 1 ? 1 : 2, d.samples);
  std::vector<int64_t> order(static_cast<size_t>(d.samples));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  double rm = 0, rv = 1, cm = 0, cv = 1;  // PyTorch's initial running_mean and running_var
  const double m = static_cast<double>(batch * d.per_sample);
  for (int step = 1; step <= steps; ++step) {
    drawBatch(order, batch, rng);
    t.batches.emplace_back(order.begin(), order.begin() + batch);
    const auto [mean, m2] = batchMoments(d, t.batches.back());
    const double var = m2 / (m - 1.0);
    rm = (1.0 - momentum) * rm + momentum * mean;
    rv = (1.0 - momentum) * rv + momentum * var;
    const double f = 1.0 / step;  // momentum=None: the cumulative average
    cm = (1.0 - f) * cm + f * mean;
    cv = (1.0 - f) * cv + f * var;
    t.batch_mean.push_back(mean);
    t.batch_var.push_back(var);
    t.running_mean.push_back(rm);
    t.running_var.push_back(rv);
    t.cumulative_mean.push_back(cm);
    t.cumulative_var.push_back(cv);
  }
  return t;
}

BatchSpread batchMeanSpread(const ChannelDataset& d, std::span<const int64_t> sizes, int batches,
                            uint64_t seed) {
  BatchSpread out;
  std::vector<int64_t> order(static_cast<size_t>(d.samples));
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  for (int64_t size : sizes) {
    size = std::clamp<int64_t>(size, 1, d.samples);
    std::vector<double> means;
    for (int b = 0; b < batches; ++b) {
      drawBatch(order, size, rng);
      means.push_back(batchMoments(d, std::span(order).first(static_cast<size_t>(size))).first);
    }
    const double mean = std::accumulate(means.begin(), means.end(), 0.0) / batches;
    double ss = 0;
    for (double v : means) ss += (v - mean) * (v - mean);
    out.sizes.push_back(size);
    out.means.push_back(std::move(means));
    out.mean.push_back(mean);
    out.std.push_back(std::sqrt(ss / batches));
  }
  return out;
}

// ---- Histograms ---------------------------------------------------------------------------------

namespace {

void countInto(std::vector<double>& counts, const std::vector<double>& values, double lo,
               double hi) {
  const int bins = static_cast<int>(counts.size());
  const double width = (hi - lo) / bins;
  for (double v : values)
    counts[static_cast<size_t>(std::clamp(static_cast<int>((v - lo) / width), 0, bins - 1))] += 1;
}

// [lo, hi] of finite values, widened when they are all one value.
void widen(double& lo, double& hi) {
  if (!(lo <= hi)) lo = 0, hi = 1;
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(lo))) lo -= 0.5, hi += 0.5;
}

}  // namespace

Histograms groupHistograms(const Snapshot& snap, int64_t first, int max_groups, int bins) {
  const ReductionPlan& plan = snap.plan;
  Histograms h;
  h.bins = bins;
  h.group_count = plan.groupCount();
  h.group_size = plan.groupSize();
  h.stride = (h.group_size + kMaxHistogramElements - 1) / kMaxHistogramElements;
  const int64_t shown = std::min<int64_t>(max_groups, h.group_count);
  std::vector<std::vector<double>> xs(static_cast<size_t>(shown)), ys(xs.size());
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (int64_t k = 0; k < shown; ++k) {
    const int64_t g = (first + k) % h.group_count;
    auto& x = xs[static_cast<size_t>(k)];
    auto& y = ys[static_cast<size_t>(k)];
    for (int64_t j = 0; j < h.group_size; j += h.stride) {
      const int64_t flat = plan.elementOf(g, j);
      const double xv = snap.x[flat], yv = snap.result.y[flat];
      if (!std::isfinite(xv) || !std::isfinite(yv)) continue;
      x.push_back(xv);
      y.push_back(yv);
      x_lo = std::min(x_lo, xv), x_hi = std::max(x_hi, xv);
      y_lo = std::min(y_lo, yv), y_hi = std::max(y_hi, yv);
    }
  }
  widen(x_lo, x_hi);
  widen(y_lo, y_hi);
  h.x_lo = x_lo, h.x_hi = x_hi, h.y_lo = y_lo, h.y_hi = y_hi;
  for (int64_t k = 0; k < shown; ++k) {
    GroupHistogram g;
    g.group = (first + k) % h.group_count;
    g.counted = static_cast<int64_t>(xs[static_cast<size_t>(k)].size());
    g.x_counts.assign(static_cast<size_t>(bins), 0.0);
    g.y_counts.assign(static_cast<size_t>(bins), 0.0);
    countInto(g.x_counts, xs[static_cast<size_t>(k)], x_lo, x_hi);
    countInto(g.y_counts, ys[static_cast<size_t>(k)], y_lo, y_hi);
    h.groups.push_back(std::move(g));
  }
  return h;
}

// ---- Variance errors ----------------------------------------------------------------------------

VarianceErrors varianceErrors(int64_t n, int points, uint64_t seed) {
  VarianceErrors out;
  out.n = n;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> base(static_cast<size_t>(n));
  for (double& v : base) v = noise(rng);
  std::vector<float> data(base.size()), scratch;
  out.errors.resize(std::size(kAllStrategies));
  for (int k = 0; k < points; ++k) {
    const double offset = std::pow(10.0, 6.0 * k / std::max(points - 1, 1));
    for (size_t i = 0; i < base.size(); ++i) data[i] = static_cast<float>(offset + base[i]);
    const double reference = groupStatsF64(data.data(), n, true).var;
    out.offsets.push_back(offset);
    for (size_t s = 0; s < std::size(kAllStrategies); ++s) {
      const double var = groupStatsF32(data.data(), n, kAllStrategies[s], true, scratch).var;
      out.errors[s].push_back(std::abs(var - reference) / reference);
    }
  }
  return out;
}

// ---- Charts -------------------------------------------------------------------------------------

namespace {

Series series(std::string name, Mark mark, int color, MarkerShape marker = MarkerShape::Circle) {
  Series s;
  s.name = std::move(name);
  s.mark = mark;
  s.color = color;
  s.marker = marker;
  return s;
}

// An axis over the values of every series of a chart (their lo/hi too), padded by 6%.
void fitY(Chart& chart) {
  double lo = INFINITY, hi = -INFINITY;
  for (const Series& s : chart.series)
    for (const auto* values : {&s.y, &s.lo, &s.hi})
      for (double v : *values)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  widen(lo, hi);
  const double pad = 0.06 * (hi - lo);
  chart.y.lo = lo - pad;
  chart.y.hi = hi + pad;
}

std::vector<double> steps(int count) {
  std::vector<double> x(static_cast<size_t>(count));
  std::iota(x.begin(), x.end(), 1.0);
  return x;
}

// One of the two running-stats charts: the batch statistics, the two running estimates, the truth.
Chart runningChart(const char* stat, const std::vector<double>& batch,
                   const std::vector<double>& running, const std::vector<double>& cumulative,
                   double truth) {
  Chart c;
  c.x = Axis{"training step", false, 0.0, static_cast<double>(batch.size()) + 1.0, {}};
  c.y.label = stat;
  const std::vector<double> x = steps(static_cast<int>(batch.size()));
  Series points = series("each batch's statistic", Mark::Points, 3);
  points.alpha = 0.55f;
  points.size = 0.7f;
  points.x = x, points.y = batch;
  Series ema = series("momentum 0.1", Mark::Line, 0);
  ema.x = x, ema.y = running;
  Series cma = series("cumulative (momentum=None)", Mark::Line, 1);
  cma.dashed = true;
  cma.x = x, cma.y = cumulative;
  Series line = series("dataset's value", Mark::HLine, 2);
  line.y = {truth};
  line.size = 0.7f;
  c.series = {std::move(line), std::move(points), std::move(ema), std::move(cma)};
  fitY(c);
  return c;
}

std::string sampleShape(const Shape& shape) {
  if (shape.rank() < 2) return "one value";
  std::string out = "(";
  for (int a = 1; a < shape.rank(); ++a) out += (a > 1 ? ", " : "") + std::to_string(shape[a]);
  return out + ")";
}

// The dataset's line for a subtitle: where it comes from and what each sample adds.
std::string datasetLine(const ChannelDataset& d, const AppState& s, const Shape& shape) {
  std::string line = "Dataset: " + std::to_string(d.samples) + " samples of " + sampleShape(shape) +
                     " from " + d.init + " (seed " + std::to_string(s.seed) +
                     "), each with its own brightness +N(0, 0.5) and contrast \u00d7U[0.5, 1.5]";
  if (!d.note.empty()) line += " (" + d.note + ")";
  return line;
}

int64_t channelCount(const Shape& shape) {
  return shape.rank() >= 2 ? shape[1] : 1;
}

PlotData runningStatsPlot(const AppState& s) {
  const Shape& shape = s.shown->x.shape;
  const int64_t channel = plotChannel(s);
  const ChannelDataset d = makeChannelDataset(shape, s.init, s.seed, channel);
  const int64_t batch = shape.rank() > 0 ? shape[0] : 1;
  constexpr int kSteps = 150;
  const RunningStatsTrace t = trainRunningStats(d, batch, kSteps, 0.1, s.seed + 17);
  PlotData p;
  p.title = "BatchNorm's running statistics of channel " + std::to_string(channel) + " of " +
            std::to_string(channelCount(shape)) +
            ", batches of N = " + std::to_string(t.batches.front().size());
  p.subtitle = datasetLine(d, s, shape) +
               ". running_var takes the unbiased batch variance; they start at PyTorch's 0 and 1.";
  p.columns = 2;
  p.shared_legend = true;
  p.charts.push_back(
      runningChart("running_mean", t.batch_mean, t.running_mean, t.cumulative_mean, d.mean));
  p.charts.push_back(
      runningChart("running_var", t.batch_var, t.running_var, t.cumulative_var, d.var));
  return p;
}

PlotData batchSpreadPlot(const AppState& s) {
  const Shape& shape = s.shown->x.shape;
  const int64_t channel = plotChannel(s);
  const ChannelDataset d = makeChannelDataset(shape, s.init, s.seed, channel);
  constexpr int64_t kSizes[] = {1, 2, 4, 8, 16, 32};
  constexpr int kBatches = 200;
  const BatchSpread spread = batchMeanSpread(d, kSizes, kBatches, s.seed + 29);
  Chart c;
  c.x.label = "batch size N";
  c.x.lo = -0.6;
  c.x.hi = static_cast<double>(spread.sizes.size()) - 0.4;
  c.y.label = "batch mean";
  Series points = series("one batch's mean", Mark::Points, 0);
  points.alpha = 0.35f;
  points.size = 0.6f;
  Series bars = series("mean \u00b1 1 std", Mark::ErrorBars, 1, MarkerShape::Square);
  std::mt19937_64 jitter(7);
  std::uniform_real_distribution<double> spread_x(-0.28, 0.28);
  for (size_t k = 0; k < spread.sizes.size(); ++k) {
    const double x = static_cast<double>(k);
    c.x.ticks.emplace_back(x, std::to_string(spread.sizes[k]));
    for (double m : spread.means[k])
      points.x.push_back(x + spread_x(jitter)), points.y.push_back(m);
    bars.x.push_back(x);
    bars.y.push_back(spread.mean[k]);
    bars.lo.push_back(spread.mean[k] - spread.std[k]);
    bars.hi.push_back(spread.mean[k] + spread.std[k]);
    c.x.ticks.back().second += "\nstd " + format("%.2g", spread.std[k]);
  }
  Series truth = series("dataset's mean", Mark::HLine, 2);
  truth.size = 0.7f;
  truth.y = {d.mean};
  c.series = {std::move(truth), std::move(points), std::move(bars)};
  fitY(c);
  PlotData p;
  p.title = "BatchNorm's batch mean of channel " + std::to_string(channel) + " over " +
            std::to_string(kBatches) +
            " random batches per size: smaller batches, noisier "
            "statistics";
  p.subtitle = datasetLine(d, s, shape) +
               ". GroupNorm and LayerNorm use each sample alone, at any batch size.";
  p.charts.push_back(std::move(c));
  return p;
}

// One row of the histograms: x's and y's counts of one group on the shared ranges.
std::pair<Chart, Chart> histogramRow(const Histograms& h, const GroupHistogram& g, double x_top,
                                     double y_top) {
  auto chart = [&](const std::vector<double>& counts, double lo, double hi, int color, double top) {
    Chart c;
    c.x.lo = lo, c.x.hi = hi;
    c.y.lo = 0, c.y.hi = top * 1.08;
    Series bars = series("", Mark::Bars, color);
    for (int b = 0; b <= h.bins; ++b) bars.x.push_back(lo + (hi - lo) * b / h.bins);
    bars.y = counts;
    c.series.push_back(std::move(bars));
    return c;
  };
  std::pair<Chart, Chart> row{chart(g.x_counts, h.x_lo, h.x_hi, 0, x_top),
                              chart(g.y_counts, h.y_lo, h.y_hi, 1, y_top)};
  Series zero = series("", Mark::VLine, -1);
  zero.x = {0.0};
  zero.dashed = true;
  row.second.series.push_back(std::move(zero));
  return row;
}

PlotData histogramPlot(const AppState& s) {
  const Snapshot& snap = *s.shown;
  constexpr int kMaxRows = 8, kBins = 32;
  const int64_t first = plotGroup(s);
  const Histograms h = groupHistograms(snap, first, kMaxRows, kBins);
  double x_top = 1, y_top = 1;
  for (const GroupHistogram& g : h.groups)
    for (int b = 0; b < kBins; ++b)
      x_top = std::max(x_top, g.x_counts[static_cast<size_t>(b)]),
      y_top = std::max(y_top, g.y_counts[static_cast<size_t>(b)]);
  PlotData p;
  p.columns = 2;
  const auto shown = static_cast<int64_t>(h.groups.size());
  p.title = std::string("x and y of each group: ") + normKindTitle(snap.plan.kind()) + ", " +
            withCommas(h.group_count) + (h.group_count == 1 ? " group of " : " groups of ") +
            withCommas(h.group_size) + " elements";
  p.subtitle = "one row per group; every x on one range, every y on another";
  if (shown < h.group_count)
    p.subtitle += "; groups " + std::to_string(h.groups.front().group) + " to " +
                  std::to_string(h.groups.back().group) + " (from the pinned group) of " +
                  withCommas(h.group_count);
  if (h.stride > 1)
    p.subtitle += "; every " + std::to_string(h.stride) + "th element of each group counted";
  for (const GroupHistogram& g : h.groups) {
    auto [x, y] = histogramRow(h, g, x_top, y_top);
    p.charts.push_back(std::move(x));
    p.charts.push_back(std::move(y));
    p.row_labels.push_back("group " + std::to_string(g.group));
  }
  p.charts[0].title = "x";
  p.charts[1].title =
      snap.plan.subtractsMean() ? "y = (x \u2212 mean) \u00b7 rstd" : "y = x \u00b7 rstd";
  for (size_t i = 0; i < p.charts.size(); ++i) p.charts[i].x.label = i % 2 == 0 ? "x" : "y";
  return p;
}

PlotData varianceErrorPlot(const AppState& s) {
  const int64_t n = std::clamp<int64_t>(s.shown->plan.groupSize(), 256, 65536);
  constexpr int kPoints = 25;
  const VarianceErrors e = varianceErrors(n, kPoints, 11);
  double smallest = INFINITY, largest = 1.0;
  bool zeros = false;
  for (const auto& errors : e.errors)
    for (double v : errors) {
      if (v > 0) smallest = std::min(smallest, v), largest = std::max(largest, v);
      zeros |= v == 0;
    }
  // Exactly 0 has no place on a log axis: such errors are drawn a decade below the smallest one.
  const double floor = std::min(
      1e-9, std::isfinite(smallest) ? std::pow(10.0, std::floor(std::log10(smallest)) - 1) : 1e-9);
  Chart c;
  c.x = Axis{"offset: the data's mean (the data are offset + N(0, 1))", true, 0.7, 1.4e6, {}};
  const double lowest = zeros ? floor : smallest;
  c.y = Axis{"relative error of var",
             true,
             lowest / 2,
             std::pow(10.0, std::ceil(std::log10(largest)) + 0.3),
             {}};
  constexpr MarkerShape kMarkers[] = {MarkerShape::Circle, MarkerShape::Square,
                                      MarkerShape::Triangle, MarkerShape::Diamond};
  constexpr int kColors[] = {0, 2, 5, 3};
  for (size_t k = 0; k < std::size(kAllStrategies); ++k) {
    Series line =
        series(varianceName(kAllStrategies[k]), Mark::LinePoints, kColors[k], kMarkers[k]);
    if (kAllStrategies[k] == s.variance) line.name += " (in use)";
    line.x = e.offsets;
    for (double v : e.errors[k]) line.y.push_back(v > 0 ? v : floor);
    c.series.push_back(std::move(line));
  }
  Series eps = series("float32 rounding (6e-8)", Mark::HLine, -1);
  eps.dashed = true;
  eps.y = {std::ldexp(1.0, -24)};
  c.series.insert(c.series.begin(), std::move(eps));
  if (zeros) c.note = "an error of exactly 0 is drawn at " + format("%.0e", floor);
  PlotData p;
  p.title = "float32 variance of " + withCommas(n) + " values as their mean grows";
  p.subtitle =
      "each strategy against the float64 two-pass reference; naive E[x\u00b2] \u2212 "
      "E[x]\u00b2 cancels catastrophically once the mean dwarfs the spread";
  p.charts.push_back(std::move(c));
  return p;
}

}  // namespace

// ---- The app's plot -----------------------------------------------------------------------------

namespace {

// The pinned element's flat index in x (a statistic's: its group's first element), if any.
std::optional<int64_t> pinnedElement(const AppState& s) {
  if (!s.shown || !s.pinned) return std::nullopt;
  const ReductionPlan& plan = s.shown->plan;
  const int64_t i = s.pinned->index;
  switch (s.pinned->section) {
    case Section::Input:
    case Section::Output:
      if (i >= 0 && i < s.shown->x.numel()) return i;
      break;
    case Section::Mean:
    case Section::Rstd:
      if (i >= 0 && i < plan.groupCount()) return plan.groupBase(i);
      break;
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace

int64_t plotChannel(const AppState& s) {
  const std::optional<int64_t> flat = pinnedElement(s);
  if (!flat || s.shown->x.shape.rank() < 2) return 0;
  return indexOf(*flat, s.shown->x.shape)[1];
}

int64_t plotGroup(const AppState& s) {
  const std::optional<int64_t> flat = pinnedElement(s);
  return flat ? s.shown->plan.groupOf(*flat) : 0;
}

PlotData buildPlot(PlotKind kind, const AppState& s) {
  PlotData p;
  try {
    switch (kind) {
      case PlotKind::RunningStats:
        p = runningStatsPlot(s);
        break;
      case PlotKind::BatchSpread:
        p = batchSpreadPlot(s);
        break;
      case PlotKind::Histogram:
        p = histogramPlot(s);
        break;
      case PlotKind::VarianceError:
        p = varianceErrorPlot(s);
        break;
      case PlotKind::None:
        break;
    }
  } catch (const NormError& e) {
    p.error = e.what();
  }
  p.kind = kind;
  return p;
}

const PlotData* updatePlot(AppState& s) {
  if (s.plot == PlotKind::None || !s.shown) return nullptr;
  PlotCache& c = s.plot_cache;
  const int64_t focus = s.plot == PlotKind::Histogram       ? plotGroup(s)
                        : s.plot == PlotKind::VarianceError ? -1
                                                            : plotChannel(s);
  const bool stale = !c.data || c.kind != s.plot || c.result_version != s.result_version ||
                     c.focus != focus ||
                     (s.plot == PlotKind::VarianceError && c.variance != s.variance);
  if (stale) {
    c.data = std::make_shared<const PlotData>(buildPlot(s.plot, s));
    c.kind = s.plot;
    c.result_version = s.result_version;
    c.focus = focus;
    c.variance = s.variance;
  }
  return c.data.get();
}

}  // namespace normviz
