// Recompute on change: plan, affine parameters, the selected backend plus the float64 reference for
// the difference, the compare panels; the edits of shape, data and BatchNorm's running statistics.
#include "app_compute.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "image_input.hpp"
#include "normviz/error.hpp"
#include "normviz/tensor_file.hpp"
#include "normviz/timing.hpp"

namespace normviz {

const char* backendLabel(Backend b) {
  switch (b) {
    case Backend::CpuFp32:
      return "CPU float32";
    case Backend::CpuFp64:
      return "CPU float64 reference";
    case Backend::Gpu:
      return "GPU (CUDA)";
    case Backend::GpuEmulated:
      return "GPU kernels (emulated on the CPU)";
  }
  return "?";
}

void initFromOptions(AppState& state, const LayerOptions& options) {
  // The app shows at most kMaxSheetElements: the plan (or the .npy reader) refuses a larger input
  // before it is allocated, with the limit in its message.
  LayerOptions limited = options;
  limited.max_elements = std::min(options.max_elements, kMaxSheetElements);
  LoadedLayer layer = loadLayer(limited);
  state.x = std::move(layer.x);
  state.config = layer.config;
  state.params = std::move(layer.params);
  state.affine = state.params.weight.has_value() || state.params.bias.has_value();
  state.affine_init = state.affine ? AffineInit::Edited : AffineInit::OnesZeros;
  state.init = !options.input_images.empty() ? "images"
               : options.input.empty()       ? options.init
                                             : "file";
  state.seed = options.seed;
  state.edit_shape = state.x.shape;
  if (!options.input.empty()) state.npy_path = options.input;
  state.image_paths = options.input_images;
  state.image_resize = options.resize;
  state.inputs_changed = true;
  // What reading the files did to their values (float16, bfloat16, float64 to float32).
  if (!layer.notes.empty()) {
    state.notice.clear();
    for (const std::string& note : layer.notes)
      state.notice += (state.notice.empty() ? "" : "; ") + note;
  }
}

namespace {

template <typename T>
ValueSummary summarizeValues(std::span<const T> values, int bins) {
  ValueSummary out;
  double lo = INFINITY, hi = -INFINITY;
  for (T v : values)
    if (std::isfinite(static_cast<double>(v)))
      lo = std::min(lo, static_cast<double>(v)), hi = std::max(hi, static_cast<double>(v));
  out.counts.assign(static_cast<size_t>(bins), 0.0f);
  if (!(lo <= hi)) return out;  // nothing finite: the default range
  out.lo = lo;
  out.hi = hi;
  const double width = hi > lo ? (hi - lo) / bins : 1.0;
  for (T v : values) {
    if (!std::isfinite(static_cast<double>(v))) continue;
    const int b = std::clamp(static_cast<int>((static_cast<double>(v) - lo) / width), 0, bins - 1);
    out.counts[static_cast<size_t>(b)] += 1.0f;
  }
  return out;
}
}  // namespace

ValueSummary summarize(std::span<const float> values, int bins) {
  return summarizeValues(values, bins);
}
ValueSummary summarize(std::span<const double> values, int bins) {
  return summarizeValues(values, bins);
}

std::vector<int64_t> divisorsOf(int64_t c) {
  std::vector<int64_t> out;
  for (int64_t d = 1; d <= c; ++d)
    if (c % d == 0) out.push_back(d);
  return out;
}

namespace {

// The CPU rows of the timing table are the median of a few runs into the same outputs after one
// untimed run, as a layer runs in a training loop. A tensor's first run pays for its fresh output
// pages and cold caches: GroupNorm(8,64) on (32,64,56,56) showed 1.65 ms for float32 and 6.6 ms
// for the float64 reference from one run (0.5 and 0.9 ms in `normviz bench`). At most kTimedRuns
// timed runs, fewer past kTimingBudgetSeconds.
constexpr int kTimedRuns = 5;
constexpr double kTimingBudgetSeconds = 0.05;

// `run` does one run and returns its seconds; the first run is the untimed one.
template <typename Run>
double medianSeconds(const Run& run) {
  return medianOfRuns(run, kTimedRuns, kTimingBudgetSeconds);
}

// Weight and bias shaped for the plan. Edited values survive as long as the affine shape does.
void prepareAffine(AppState& state, const ReductionPlan& plan) {
  if (!state.affine) {
    state.params.weight.reset();
    state.params.bias.reset();
    return;
  }
  const Shape& shape = plan.affineShape();
  const bool fits = state.params.weight && state.params.weight->shape == shape &&
                    state.params.bias && state.params.bias->shape == shape;
  if (fits && state.affine_init == AffineInit::Edited) return;
  Tensor weight(shape, 1.0f), bias(shape, 0.0f);
  if (state.affine_init == AffineInit::Random) {
    std::mt19937_64 rng(state.affine_seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (auto& w : weight.data) w = 1.0f + 0.5f * normal(rng);
    for (auto& b : bias.data) b = 0.5f * normal(rng);
  } else if (state.affine_init == AffineInit::Edited && state.params.weight && state.params.bias) {
    // The affine shape changed under an edit: keep what overlaps, fill the rest with ones/zeros.
    for (int64_t i = 0; i < weight.numel() && i < state.params.weight->numel(); ++i)
      weight[i] = (*state.params.weight)[i];
    for (int64_t i = 0; i < bias.numel() && i < state.params.bias->numel(); ++i)
      bias[i] = (*state.params.bias)[i];
  }
  state.params.weight = std::move(weight);
  state.params.bias = std::move(bias);
}

std::vector<ComparePanel> comparePanels(const Shape& shape, int64_t groups) {
  std::vector<ComparePanel> panels;
  auto add = [&](NormConfig config) {
    ComparePanel panel;
    try {
      panel.plan = ReductionPlan::make(shape, config);
      panel.title = normKindTitle(config.kind);
      if (config.kind == NormKind::Group) {
        panel.title += " (G=";
        panel.title += std::to_string(config.groups);
        panel.title += ')';
      }
      if (config.kind == NormKind::Layer) {
        panel.title += ' ';
        panel.title += Shape(config.normalized_shape).list();
      }
    } catch (const NormError& e) {
      panel.title = normKindTitle(config.kind);
      panel.error = e.what();
    }
    panels.push_back(std::move(panel));
  };
  NormConfig batch;
  batch.kind = NormKind::Batch;
  add(batch);
  NormConfig layer;
  layer.kind = NormKind::Layer;
  // LayerNorm as the figure draws it: every dim but the batch dim.
  layer.normalized_shape.assign(shape.dims.begin() + (shape.rank() > 1 ? 1 : 0), shape.dims.end());
  add(layer);
  NormConfig instance;
  instance.kind = NormKind::Instance;
  add(instance);
  NormConfig group;
  group.kind = NormKind::Group;
  const int64_t c = shape.rank() >= 2 ? shape[1] : 1;
  group.groups = (groups > 0 && c % groups == 0 && groups != 1 && groups != c) ? groups : 1;
  if (group.groups == 1)  // a G strictly between 1 and C shows what GroupNorm adds, when C has one
    for (int64_t d : divisorsOf(c))
      if (d > 1 && d < c) {
        group.groups = d;
        break;
      }
  add(group);
  return panels;
}

}  // namespace

namespace {

// The emulated device's runs in the app: one run, no warm-up (its time is a CPU time).
GpuOptions emulatedOnce() {
  GpuOptions o;
  o.device = GpuDeviceKind::Emulated;
  o.warmup = 0;
  o.repeats = 1;
  return o;
}

// An emulated row's label: "GPU kernels (emulated on the CPU): <design> (a CPU time, not a GPU
// time)".
std::string emulatedLabel(const std::string& design) {
  return std::string(backendLabel(Backend::GpuEmulated)) + ": " + design +
         " (a CPU time, not a GPU time)";
}

// The GPU's backward rows, as runGpu's for the forward: the CUDA device when there is one, and the
// kernels executed on the CPU when that backend is chosen (a CPU time, and labelled so).
void runGpuBackward(const ComputeInputs& in, const NormResult& reference, Snapshot& snap) {
  const BackwardResult& grad = *snap.grad;
  auto run = [&](Backend backend, GpuOptions o) {
    try {
      const GpuBackwardResult g =
          gpuBackward(in.x, *snap.dy, snap.plan, in.params, reference.mean, reference.rstd, o);
      // The emulated row named as the forward's ("... : backward channels (a CPU time, ...)");
      // the device's keeps its backend ("gpu backward channels on <GPU>").
      std::string label = g.result.backend;
      if (backend == Backend::GpuEmulated) {
        std::string design = label.substr(0, label.find(" on "));
        if (design.rfind("gpu ", 0) == 0) design.erase(0, 4);
        label = emulatedLabel(design);
      }
      snap.backward_runs.push_back(
          {backend, label, g.timings.kernel_ms * 1e-3, maxAbsDiff(g.result.dx, grad.dx), ""});
    } catch (const NormError& e) {
      snap.backward_runs.push_back({backend, backendLabel(backend), 0, 0, e.what()});
    }
  };
  if (gpuDevice().usable) run(Backend::Gpu, GpuOptions{});
  if (in.backend == Backend::GpuEmulated) run(Backend::GpuEmulated, emulatedOnce());
}

// dy and the float64 backward from the forward's own statistics, as PyTorch saves them, with one
// diverging scale for the reduced tensors (both sums, dweight and dbias); each backward backend
// timed beside it, as the forward's are: the float32 fast path from the statistics rounded to
// float32 (as a float32 forward saves them), and the GPU's.
void runBackward(const ComputeInputs& in, const NormResult& reference, Snapshot& snap) {
  snap.dy = makeGradOutput(in.x.shape, in.grad_init, in.seed);
  // The untimed run is the result; the timed ones recompute it in place, bit for bit.
  BackwardResult grad;
  const double fp64_seconds = medianSeconds([&] {
    computeNormBackwardInto(in.x, *snap.dy, snap.plan, in.params, reference,
                            {Precision::Fp64, in.variance, in.threads}, grad);
    return grad.seconds;
  });
  const Tensor mean32 = narrow(reference.mean), rstd32 = narrow(reference.rstd);
  // The floor's copy is timed between the float32 backward's runs, as `normviz bench` times it
  // among the backward's: right after a backward, which streamed x and dy, the copy reads x from
  // memory as a backward must (a copy right after a copy finds much of x in the last-level cache).
  // It writes into dx's buffer, which the backward then overwrites.
  BackwardResultF32 fast;
  std::vector<double> copies;
  const double fp32_seconds = medianSeconds([&] {
    if (fast.dx.numel() == in.x.numel()) {
      const auto start = std::chrono::steady_clock::now();
      copyFloats(in.x.data.data(), fast.dx.data.data(), in.x.numel(), in.threads);
      copies.push_back(secondsSince(start));
    }
    computeNormBackwardF32Into(in.x, *snap.dy, snap.plan, in.params, mean32, rstd32,
                               {Precision::Fp32, in.variance, in.threads}, fast);
    return fast.seconds;
  });
  snap.backward_copy_seconds = median(copies);
  snap.backward_runs.push_back(
      {Backend::CpuFp32, fast.backend, fp32_seconds, maxAbsDiff(fast.dx, grad.dx), ""});
  snap.backward_runs.push_back({Backend::CpuFp64, grad.backend, fp64_seconds, 0.0, ""});
  snap.grad = std::move(grad);
  runGpuBackward(in, reference, snap);
  snap.dy_summary = summarize(snap.dy->data);
  snap.dx_summary = summarize(snap.grad->dx.data);
  std::vector<double> reduced;
  for (const TensorD* t : {&snap.grad->sum_dy_w, &snap.grad->sum_dy_w_xhat,
                           snap.grad->dweight ? &*snap.grad->dweight : nullptr,
                           snap.grad->dbias ? &*snap.grad->dbias : nullptr})
    if (t != nullptr) reduced.insert(reduced.end(), t->data.begin(), t->data.end());
  snap.reduced_summary = summarize(reduced);
}

// The float32 fast path (its own outputs, widened for the panels as computeNorm would) and a copy
// of x timed the same way, into the same y, so that it reads and writes what a normalization does.
NormResult runFp32(const ComputeInputs& in, const Snapshot& snap, double& copy_seconds) {
  const ComputeOptions fp32_options{Precision::Fp32, in.variance, in.threads};
  NormResultF32 fast;
  const double fp32_seconds = medianSeconds([&] {
    computeNormF32Into(in.x, snap.plan, in.params, fp32_options, fast);
    return fast.seconds;
  });
  NormResult fp32 = widen(fast);
  fp32.seconds = fp32_seconds;
  copy_seconds = medianSeconds([&] {
    const auto copy_start = std::chrono::steady_clock::now();
    copyFloats(in.x.data.data(), fast.y.data.data(), in.x.numel(), in.threads);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - copy_start).count();
  });
  return fp32;
}

// The GPU's rows: the CUDA device when there is one, and the kernels executed on the CPU when
// chosen (its time is a CPU time and says so). Returns the chosen GPU backend's result.
std::optional<NormResult> runGpu(const ComputeInputs& in, const NormResult& reference,
                                 Snapshot& snap) {
  std::optional<NormResult> gpu;
  if (gpuDevice().usable) {
    try {
      GpuResult g = gpuCompute(in.x, snap.plan, in.params);
      snap.runs.push_back({Backend::Gpu, g.result.backend, g.timings.kernel_ms * 1e-3,
                           maxAbsDiff(g.result.y, reference.y), ""});
      gpu = std::move(g.result);
    } catch (const NormError& e) {
      snap.runs.push_back({Backend::Gpu, "GPU", 0, 0, e.what()});
    }
  }
  if (in.backend == Backend::GpuEmulated) {
    try {
      GpuResult g = gpuCompute(in.x, snap.plan, in.params, emulatedOnce());
      snap.runs.push_back({Backend::GpuEmulated, emulatedLabel(gpuVariantName(g.variant)),
                           g.timings.kernel_ms * 1e-3, maxAbsDiff(g.result.y, reference.y), ""});
      gpu = std::move(g.result);
    } catch (const NormError& e) {
      snap.runs.push_back(
          {Backend::GpuEmulated, backendLabel(Backend::GpuEmulated), 0, 0, e.what()});
    }
  }
  return gpu;
}

// Shows a new snapshot: a new shape refits the view; a hover or pin that no longer exists is let
// go.
void show(AppState& state, Snapshot&& snap) {
  const bool same_shape = state.shown && state.shown->x.shape == snap.x.shape;
  const bool same_groups = state.shown && state.shown->plan.groupCount() == snap.plan.groupCount();
  if (!same_shape) {
    state.reframe = true;
    state.hovered.reset();
    if (state.pinned && state.pinned->index >= snap.x.numel()) state.pinned.reset();
  }
  if (!same_groups && state.pinned &&
      (state.pinned->section == Section::Mean || state.pinned->section == Section::Rstd))
    state.pinned.reset();
  // dweight/dbias cubes exist only in backward mode with affine parameters of the same shape.
  for (std::optional<CubeRef>* ref : {&state.pinned, &state.hovered})
    if (*ref && ((*ref)->section == Section::DWeight || (*ref)->section == Section::DBias) &&
        (!snap.grad || !snap.grad->dweight || (*ref)->index >= snap.grad->dweight->numel()))
      ref->reset();
  state.compare = comparePanels(snap.x.shape, snap.plan.config().groups);
  state.shown = std::move(snap);
  state.error.clear();
  ++state.result_version;
}

}  // namespace

ComputeInputs takeComputeInputs(AppState& state) {
  state.inputs_changed = false;
  ComputeInputs in;
  in.plan = ReductionPlan::make(state.x.shape, state.config);
  prepareAffine(state, in.plan);
  validateParams(in.plan, state.params);
  in.x = state.x;
  in.params = state.params;
  in.backend = state.backend;
  in.variance = state.variance;
  in.threads = state.threads;
  in.backward = state.backward;
  in.grad_init = state.grad_init;
  in.seed = state.seed;
  return in;
}

Snapshot computeSnapshot(ComputeInputs in) {
  const auto start = std::chrono::steady_clock::now();
  Snapshot snap;
  snap.plan = std::move(in.plan);
  // The float64 reference always runs: it is the yardstick for every other backend's difference.
  // Its untimed run is the result; the timed ones recompute it in place, bit for bit.
  const ComputeOptions fp64_options{Precision::Fp64, in.variance, in.threads};
  NormResult reference;
  reference.seconds = medianSeconds([&] {
    computeNormInto(in.x, snap.plan, in.params, fp64_options, reference);
    return reference.seconds;
  });
  if (in.backward) runBackward(in, reference, snap);
  NormResult fp32 = runFp32(in, snap, snap.copy_seconds);
  snap.runs.push_back(
      {Backend::CpuFp32, fp32.backend, fp32.seconds, maxAbsDiff(fp32.y, reference.y), ""});
  snap.runs.push_back({Backend::CpuFp64, reference.backend, reference.seconds, 0.0, ""});
  std::optional<NormResult> gpu = runGpu(in, reference, snap);
  if (in.backend == Backend::CpuFp64) {
    snap.result = std::move(reference);
  } else if ((in.backend == Backend::Gpu || in.backend == Backend::GpuEmulated) && gpu) {
    snap.result = std::move(*gpu);
  } else {
    snap.result = std::move(fp32);
  }
  snap.x_summary = summarize(in.x.data);
  snap.y_summary = summarize(snap.result.y.data);
  snap.rstd_summary = summarize(snap.result.rstd.data);
  snap.x = std::move(in.x);
  snap.params = std::move(in.params);
  snap.recompute_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return snap;
}

void applyComputeOutcome(AppState& state, ComputeOutcome&& outcome) {
  if (outcome.snapshot)
    show(state, std::move(*outcome.snapshot));
  else
    state.error = outcome.error;
}

void recomputeIfChanged(AppState& state) {
  if (!state.inputs_changed) return;
  try {
    show(state, computeSnapshot(takeComputeInputs(state)));
  } catch (const NormError& e) {
    state.error = e.what();
  }
}

void regenerateInput(AppState& state) {
  const Shape& shape = state.edit_shape;
  for (int64_t d : shape.dims)
    if (d < 1 || d > kMaxDim) {
      state.error =
          "each dim must be between 1 and " + std::to_string(kMaxDim) + "; got " + shape.str();
      return;
    }
  if (shape.numel() > kMaxSheetElements) {
    state.error = shape.str() + " has " + std::to_string(shape.numel()) +
                  " elements; the app shows at most " + std::to_string(kMaxSheetElements) +
                  ". Make a dim smaller (or use `normviz compute`).";
    return;
  }
  try {
    const bool loaded = state.init == "file" || state.init == "images";
    state.x = makeInput(shape, loaded ? "randn" : state.init, state.seed);
    if (loaded) state.init = "randn";
    state.inputs_changed = true;
  } catch (const NormError& e) {
    state.error = e.what();
  }
}

namespace {

// The size a batch of photos is shown at: the first image's, at most kLongestSide on its longer
// side.
std::optional<std::pair<int64_t, int64_t>> appImageSize(const std::vector<ImageInfo>& infos,
                                                        std::string& why) {
  constexpr int64_t kLongestSide = 256;
  int64_t h = infos[0].height, w = infos[0].width;
  bool resize = false;
  for (const ImageInfo& info : infos)
    if (info.height != h || info.width != w) {
      resize = true;
      why = "resized to the first photo's size";
    }
  if (std::max(h, w) > kLongestSide) {
    const double scale = static_cast<double>(kLongestSide) / static_cast<double>(std::max(h, w));
    h = std::max<int64_t>(1, std::lround(static_cast<double>(h) * scale));
    w = std::max<int64_t>(1, std::lround(static_cast<double>(w) * scale));
    resize = true;
    why = "resized to fit " + std::to_string(kLongestSide) + " pixels";
  }
  if (!resize) return std::nullopt;
  why += " (antialiased bilinear)";
  return std::pair{h, w};
}

// Photos have 1 or 3 channels and their own H and W: a layer set up for another shape is fitted to
// them (GroupNorm's groups, LayerNorm's normalized_shape, BatchNorm's running statistics), said in
// `note`, so that opening photos shows them instead of an error.
void fitLayerToPhotos(AppState& state, std::string& note) {
  NormConfig& c = state.config;
  const Shape& shape = state.x.shape;
  const int64_t channels = shape[1];
  if (c.kind == NormKind::Group && channels % c.groups != 0) {
    note += "; GroupNorm(" + std::to_string(c.groups) + ") cannot split " +
            std::to_string(channels) + " channels: groups set to 1";
    c.groups = 1;
  }
  const auto& ns = c.normalized_shape;
  if ((c.kind == NormKind::Layer || c.kind == NormKind::RMS) && !ns.empty() &&
      (ns.size() > 3 || !std::equal(ns.rbegin(), ns.rend(), shape.dims.rbegin()))) {
    c.normalized_shape = {shape[1], shape[2], shape[3]};
    note += "; normalized_shape set to [C, H, W]";
  }
  if (c.kind == NormKind::Batch && state.params.running_mean &&
      state.params.running_mean->numel() != channels) {
    state.params.running_mean.reset();
    state.params.running_var.reset();
    c.num_batches_tracked = 0;
    note += "; running statistics reset";
  }
}

}  // namespace

void loadImages(AppState& state, const std::vector<std::string>& paths) {
  try {
    std::vector<ImageInfo> infos;
    for (const std::string& path : paths) infos.push_back(readImageInfo(path));
    std::string why;
    const auto size = appImageSize(infos, why);
    state.x = readImages(paths, size, kMaxSheetElements);
    state.image_paths = paths;
    state.image_resize = size;
    state.edit_shape = state.x.shape;
    state.init = "images";
    state.inputs_changed = true;
    std::string note = "opened " + std::to_string(paths.size()) + " photo(s) as " +
                       state.x.shape.str() + ", values in [0, 1]" + (why.empty() ? "" : "; " + why);
    fitLayerToPhotos(state, note);
    state.notice = note;
  } catch (const NormError& e) {
    state.error = e.what();
  }
}

void loadDroppedFiles(AppState& state, const std::vector<std::string>& paths) {
  if (paths.empty()) return;
  if (std::all_of(paths.begin(), paths.end(), looksLikeImage)) return loadImages(state, paths);
  loadInputFile(state, paths[0]);
}

void loadInputFile(AppState& state, const std::string& path) {
  if (looksLikeImage(path)) return loadImages(state, {path});
  try {
    TensorFileLimits limits;
    limits.max_elements = kMaxSheetElements;  // refused before it is allocated
    TensorFromFile file = readTensorFile(path, limits);
    state.x = std::move(file.tensor);
    state.npy_path = path;
    state.edit_shape = state.x.shape;
    state.init = "file";
    state.inputs_changed = true;
    state.notice = "loaded " + file.label + " " + state.x.shape.str() +
                   (file.conversion.empty() ? "" : ": " + file.conversion);
  } catch (const NormError& e) {
    state.error = e.what();
  }
}

void openCapture(AppState& state, const std::string& dir, const std::string& name) {
  CaptureView view;
  view.dir = dir;
  view.layers = readCapture(dir);
  if (!name.empty()) {
    const CapturedLayer& wanted = capturedLayer(view.layers, name);
    view.index = static_cast<int>(&wanted - view.layers.data());
  }
  initFromOptions(state, view.layers[static_cast<size_t>(view.index)].layer);
  state.capture = std::move(view);
}

void openCapturedLayer(AppState& state, int index) {
  if (!state.capture || index < 0 || index >= static_cast<int>(state.capture->layers.size()))
    return;
  try {
    initFromOptions(state, state.capture->layers[static_cast<size_t>(index)].layer);
    state.capture->index = index;
    state.pinned.reset();
    state.reframe = true;
  } catch (const NormError& e) {
    state.error = e.what();
  }
}

void applyTrainingStep(AppState& state) {
  if (!state.shown || !state.shown->result.running_mean || !state.shown->result.running_var) return;
  // The step carries the last batch's running statistics on: while that batch is still being
  // computed, the shown ones are a batch behind, and a step now would drop it from the average.
  if (!state.computing.empty()) return;
  state.params.running_mean = narrow(*state.shown->result.running_mean);
  state.params.running_var = narrow(*state.shown->result.running_var);
  ++state.config.num_batches_tracked;
  if (state.init == "randn" || state.init == "uniform" || state.init == "large-offset" ||
      state.init == "outlier-features") {
    ++state.seed;
    regenerateInput(state);
  }
  state.inputs_changed = true;
}

void resetRunningStats(AppState& state) {
  state.params.running_mean.reset();
  state.params.running_var.reset();
  state.config.num_batches_tracked = 0;
  state.inputs_changed = true;
}

}  // namespace normviz
