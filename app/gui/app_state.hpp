// The one struct of application state: what to compute, the last good result, and how to show it.
// Panels read and change it; recompute() (app_compute.hpp) turns inputs into results.
#pragma once

#include <array>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "camera.hpp"
#include "capture.hpp"
#include "colormap.hpp"
#include "layer_options.hpp"
#include "lessons.hpp"
#include "normviz/backward.hpp"
#include "normviz/engine.hpp"
#include "normviz/gpu.hpp"
#include "normviz/plan.hpp"
#include "normviz/stats.hpp"
#include "normviz/tensor.hpp"
#include "plate_layout.hpp"
#include "scene_layout.hpp"
#include "sheet_layout.hpp"
#include "view_options.hpp"

namespace normviz {

enum class AffineInit { OnesZeros, Random, Edited };

// "CPU float32", "CPU float64 reference", "GPU (CUDA)", "GPU kernels (emulated on the CPU)"
const char* backendLabel(Backend b);

// Text size: 1 = 13 px.
inline constexpr float kDefaultFontScale = 1.5f;

// The most cubes the 3D view draws; larger inputs open in the sheet view.
inline constexpr int64_t kMaxDisplayedElements = int64_t{1} << 18;  // 262,144
// The most elements the app opens at all (both headline shapes fit: 6.4M and 6.3M).
inline constexpr int64_t kMaxSheetElements = int64_t{1} << 24;  // 16,777,216
// Past this many elements cubes get smaller than a few pixels at the default window size, so the
// app opens the tensor in the sheet view unless the user chose the cubes.
// The largest dim the shape editor takes (a transformer's 1024 tokens, ResNet's 64 channels).
inline constexpr int64_t kMaxDim = 4096;
inline constexpr int64_t kAutoSheetAbove = int64_t{1} << 14;  // 16,384

// One backend's run of the current configuration.
struct BackendRun {
  Backend backend = Backend::CpuFp32;
  std::string label;  // "CPU float32 (two-pass)"
  double seconds = 0;
  double max_diff_vs_fp64 = 0;  // max |y - y_fp64| over all elements
  std::string error;            // set when this backend failed (the others still show)
};

// The finite values' range and a 32-bin histogram over it (computed once per result: at 16M
// elements a pass over the data costs more than a frame).
struct ValueSummary {
  double lo = 0, hi = 1;
  std::vector<float> counts;
};
ValueSummary summarize(std::span<const float> values, int bins = 32);
ValueSummary summarize(std::span<const double> values, int bins = 32);

// What the scene shows: a consistent input, plan and result, replaced only by a successful run.
struct Snapshot {
  Tensor x;
  ReductionPlan plan;
  NormParams params;  // the weight and bias the result was computed with
  NormResult result;
  std::vector<BackendRun> runs;
  double recompute_seconds = 0;  // wall time of the whole recompute (all backends)
  // A copy of x with the CPU rows' threads, timed as they are: the yardstick of "of copy" (0: not
  // timed).
  double copy_seconds = 0;
  ValueSummary x_summary, y_summary, rstd_summary;
  // Backward mode: dy (generated or loaded), the float64 backward from the forward's statistics.
  std::optional<Tensor> dy;
  std::optional<BackwardResult> grad;
  // Backward mode: each backward backend's time and largest |dx - dx_fp64|, as `runs` has y's.
  std::vector<BackendRun> backward_runs;
  // Backward mode: the copy of x timed between the float32 backward's runs, the yardstick of its
  // floor (0: not timed).
  double backward_copy_seconds = 0;
  ValueSummary dy_summary, dx_summary, reduced_summary;  // reduced: both sums, dweight, dbias
};

// One panel of the compare layout.
struct ComparePanel {
  std::string title;  // "BatchNorm2d(4)"
  std::optional<ReductionPlan> plan;
  std::string error;
};

struct StepperRequest {
  bool active = false;       // colour the chosen group by the kernel's thread assignment
  std::optional<int> stage;  // the reduction stage to show; unset: the panel's own
  int lane = -1;             // -1: all lanes
  int block_size = 128;
};

// The open lesson and how the student is doing: the step shown, each question's outcome, the
// selection of a "click every cube" question, the typed number, presenter mode.
struct LessonProgress {
  std::optional<Lesson> lesson;
  int step = 0;
  std::vector<int>
      outcome;            // per step: 0 not answered, 1 right first time, 2 right later, -1 wrong
  bool answered = false;  // the current step's question was answered correctly
  bool tried = false;     // ... or at least attempted
  std::string feedback;
  std::set<int64_t> selection;          // select questions: the cubes of x clicked
  std::vector<int64_t> misses, extras;  // after a check
  std::string number;                   // number questions: what was typed
  bool presenter = false;               // full screen, large type, panels hidden
  float card_height = 0;                // the lesson card's height last frame: the scene fits below
  std::string error;                    // the step could not be applied (the last good state stays)
  // Scores: questions answered right first time, and questions in the lesson.
  int score() const;
  int questions() const { return lesson ? lesson->questions() : 0; }
  const LessonStep* current() const {
    return lesson && step < static_cast<int>(lesson->steps.size())
               ? &lesson->steps[static_cast<size_t>(step)]
               : nullptr;
  }
  // A question is on screen and not yet answered right: whatever names its answer (statistics,
  // group names and counts, the PyTorch line, later kernel stages) waits.
  bool questionOpen() const {
    const LessonStep* s = current();
    return s && s->question && !answered;
  }
  // A select question is open and not yet answered (the lit region waits: lit_region.hpp).
  bool selecting() const {
    return questionOpen() && current()->question->kind == LessonQuestion::Kind::Select;
  }
  // The lit group waits too: a select question, or one that asks for a prediction first.
  bool litWithheld() const {
    return selecting() || (questionOpen() && current()->question->predict);
  }
};

struct StepperHost;  // the stepper tab's panel and pending request (panel_stepper.cpp)

// What the panels keep between frames beyond the state itself, owned by the state (one per
// window) and shared by the copies a lesson step makes of it (a step is applied to a copy that is
// kept on success). Destroyed with the state, after finishStatsBackgroundWork.
struct PanelMemory {
  std::shared_ptr<StepperHost> stepper;         // made by the stepper tab on first use
  std::optional<int64_t> stats_scrolled_to;     // the statistics row last scrolled into view
  bool stats_first_frame = true;                // the stepper tab opens first when asked to
  std::shared_future<double> copy_measurement;  // this machine's copy GB/s, measured once
  // Where the file and export buttons were last drawn ({x, y, width, height} by label), for the
  // report: a script or a test presses them where a person would.
  std::map<std::string, std::array<float, 4>> buttons;
};

// Save PNG: where, at what size, and whether the window should write it after this frame.
struct PngExport {
  std::string path = "normviz-view.png";
  int width = 1920, height = 1080;
  bool requested = false;
};

// Files the app reads and writes. On the desktop they are paths on disk. In the browser they live
// in the page's memory: opening one asks the page for its file picker (or takes a file dropped on
// the window), and every file written is handed to the browser as a download.
struct FileExchange {
  bool downloads = false;            // the browser: files written become downloads
  bool pick_requested = false;       // "Open .npy…" was pressed: the page shows its file picker
  std::vector<std::string> written;  // written since the last frame, for the page to download
};

// A capture folder opened in the app: its layers, the one shown, and how far the shown y is from
// the captured one (measured once per result).
struct CaptureView {
  std::string dir;
  std::vector<CapturedLayer> layers;
  int index = 0;
  uint64_t compared_version = 0;   // the result_version the difference below belongs to
  std::optional<double> max_diff;  // max |y - captured y| over the largest |captured y|
  std::string compare_error;
};

struct PlotData;  // plot_data.hpp

// The plot last computed and what it was computed from: it is computed again only when one of these
// changes (updatePlot, plot_data.hpp).
struct PlotCache {
  std::shared_ptr<const PlotData> data;
  PlotKind kind = PlotKind::None;
  uint64_t result_version = 0;
  int64_t focus = -1;  // the pinned channel (running stats, batch spread) or group (histograms)
  VarianceStrategy variance = VarianceStrategy::TwoPass;
};

struct AppState {
  // ---- Inputs: changing any of them sets inputs_changed, and the next frame recomputes.
  Tensor x;
  NormConfig config;
  NormParams params;
  bool affine = false;
  AffineInit affine_init = AffineInit::OnesZeros;
  uint64_t affine_seed = 1;
  std::string init = "worked-example";  // how x was made (see makeInput), "file" or "images"
  uint64_t seed = 0;
  Shape edit_shape{3, 4, 2, 2};  // the shape editor's value, applied with "Apply"
  std::string npy_path = "input.npy";
  // init "images": x is these photos (image_input.hpp), resized to image_resize when set.
  std::vector<std::string> image_paths;
  std::optional<std::pair<int64_t, int64_t>> image_resize;
  Backend backend = Backend::CpuFp32;
  VarianceStrategy variance = VarianceStrategy::TwoPass;
  int threads = 0;  // CPU engine threads (--threads); 0 = every core
  bool inputs_changed = true;
  // Backward mode: the scene shows dy, the two per-group sums, dx, dweight and dbias.
  bool backward = false;
  std::string grad_init = "randn";  // randn, ones or arange (makeGradOutput)

  // ---- Results: the last good snapshot stays on screen while `error` explains a failed change.
  std::optional<Snapshot> shown;
  std::vector<ComparePanel> compare;
  std::string error;
  uint64_t result_version = 0;  // bumps with every new snapshot, so the scene knows to rebuild
  // What a recompute on the window's worker thread is computing ("" when none): the view shows
  // the last snapshot meanwhile (background_compute.hpp).
  std::string computing;

  // ---- View.
  LayoutMode layout = LayoutMode::Single;
  DisplayMode display = DisplayMode::Cubes;  // what the user chose (see shownDisplay)
  bool display_chosen = false;               // false: the app picks by size
  float explode = 1.0f;                      // 0 compact blocks .. 1 separate plates
  float view_aspect = 1.4f;  // the 3D view's width / height (0.1 steps): the plates' grid follows
  ColorBy color_by = ColorBy::Value;
  ColorMap input_map = ColorMap::Viridis;
  Theme theme = Theme::Dark;
  float font_scale = kDefaultFontScale;
  Camera camera;
  SheetCamera sheet_camera;
  ViewPreset preset = ViewPreset::Isometric;
  PlotKind plot = PlotKind::None;  // a plot under the tensor
  PlotCache plot_cache;
  bool reframe = true;  // fit the camera to the scene on the next frame
  bool focus_requested =
      false;  // F or a double-click: fit one plate or picture (TensorView::focus)
  std::optional<CubeRef> hovered, pinned;
  bool show_help = false;
  bool show_panels = true;
  std::string notice;         // one-line message (settings file ignored, file saved, ...)
  std::string link_base;      // the page's address without its query (the browser); "" elsewhere
  uint64_t view_version = 0;  // bumps when colours must be rebuilt (hover, colour mode, theme)

  PngExport png;
  FileExchange files;
  std::optional<CaptureView> capture;
  std::shared_ptr<PanelMemory> panels = std::make_shared<PanelMemory>();

  StepperRequest stepper;
  bool stepper_changed = false;  // the stepper request changed outside its panel (a lesson step)
  LessonProgress lesson;
  std::optional<LayerOptions> remembered_layer;  // from the settings file: the last layer and shape

  // The element whose region is lit: the pinned one, else the hovered one.
  std::optional<CubeRef> active() const { return pinned ? pinned : hovered; }
};

// Whether the shape can be drawn that way (the cubes also need the size: kMaxDisplayedElements).
inline bool displayOffered(DisplayMode display, const Shape& shape) {
  if (display == DisplayMode::Plates) return platesOffered(shape);
  if (display == DisplayMode::Image) return imageOffered(shape);
  return display != DisplayMode::Cubes || shape.numel() <= kMaxDisplayedElements;
}

// The view in use: the user's choice where the shape allows it; otherwise photos (photoLike) in the
// image view, small tensors as cubes, and past kAutoSheetAbove (or the cube limit) the plates for
// large pictures (platesSuit), else the sheet. The backward mode draws cubes while they fit.
inline DisplayMode shownDisplay(const AppState& s) {
  const Shape& shape = s.shown ? s.shown->x.shape : s.x.shape;
  const int64_t numel = shape.numel();
  const bool cubes_fit = numel <= kMaxDisplayedElements;
  if (s.backward && cubes_fit) return DisplayMode::Cubes;
  if (s.display_chosen) {
    if (displayOffered(s.display, shape)) return s.display;
  } else if (s.shown && photoLike(shape, s.shown->x_summary.lo, s.shown->x_summary.hi)) {
    return DisplayMode::Image;
  }
  if (cubes_fit && numel <= kAutoSheetAbove)
    return displayOffered(s.display, shape) && !s.display_chosen ? s.display : DisplayMode::Cubes;
  return platesSuit(shape) ? DisplayMode::Plates : DisplayMode::Sheet;
}

}  // namespace normviz
