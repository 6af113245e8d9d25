// The one struct of application state: what to compute, the last good result, and how to show it.
// Panels read and change it; recompute() (app_compute.hpp) turns inputs into results.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "camera.hpp"
#include "colormap.hpp"
#include "normviz/engine.hpp"
#include "normviz/gpu.hpp"
#include "normviz/plan.hpp"
#include "normviz/stats.hpp"
#include "normviz/tensor.hpp"
#include "scene_layout.hpp"

namespace normviz {

enum class LayoutMode { Single, Compare };
enum class ColorBy { Value, Groups };
enum class Theme { Dark, Light };
enum class Backend { CpuFp32, CpuFp64, Gpu, GpuEmulated };
enum class AffineInit { OnesZeros, Random, Edited };

// "CPU float32", "CPU float64 reference", "GPU (CUDA)", "GPU kernels (emulated on the CPU)"
const char* backendLabel(Backend b);

// The most cubes the view draws; larger inputs are refused with a message before anything changes.
inline constexpr int64_t kMaxDisplayedElements = int64_t{1} << 18;  // 262,144

// One backend's run of the current configuration.
struct BackendRun {
  Backend backend = Backend::CpuFp32;
  std::string label;  // "CPU float32 (two-pass)"
  double seconds = 0;
  double max_diff_vs_fp64 = 0;  // max |y - y_fp64| over all elements
  std::string error;            // set when this backend failed (the others still show)
};

// What the scene shows: a consistent input, plan and result, replaced only by a successful run.
struct Snapshot {
  Tensor x;
  ReductionPlan plan;
  NormResult result;
  std::vector<BackendRun> runs;
  double recompute_seconds = 0;  // wall time of the whole recompute (all backends)
};

// One panel of the compare layout.
struct ComparePanel {
  std::string title;  // "BatchNorm2d(4)"
  std::optional<ReductionPlan> plan;
  std::string error;
};

struct StepperRequest {
  bool active = false;  // colour the chosen group by the kernel's thread assignment
  std::string stage;    // "", or a stage name the stepper panel understands
  int lane = -1;        // -1: all lanes
  int block_size = 128;
};

struct AppState {
  // ---- Inputs: changing any of them sets inputs_changed, and the next frame recomputes.
  Tensor x;
  NormConfig config;
  NormParams params;
  bool affine = false;
  AffineInit affine_init = AffineInit::OnesZeros;
  uint64_t affine_seed = 1;
  std::string init = "worked-example";  // how x was made (see makeInput), or "file"
  uint64_t seed = 0;
  Shape edit_shape{3, 4, 2, 2};  // the shape editor's value, applied with "Apply"
  std::string npy_path = "input.npy";
  Backend backend = Backend::CpuFp32;
  VarianceStrategy variance = VarianceStrategy::TwoPass;
  bool inputs_changed = true;

  // ---- Results: the last good snapshot stays on screen while `error` explains a failed change.
  std::optional<Snapshot> shown;
  std::vector<ComparePanel> compare;
  std::string error;
  uint64_t result_version = 0;  // bumps with every new snapshot, so the scene knows to rebuild

  // ---- View.
  LayoutMode layout = LayoutMode::Single;
  ColorBy color_by = ColorBy::Value;
  ColorMap input_map = ColorMap::Viridis;
  Theme theme = Theme::Dark;
  float font_scale = 1.5f;
  Camera camera;
  ViewPreset preset = ViewPreset::Isometric;
  bool reframe = true;  // fit the camera to the scene on the next frame
  std::optional<CubeRef> hovered, pinned;
  bool show_help = false;
  bool show_panels = true;
  std::string notice;         // one-line message (settings file ignored, file saved, ...)
  uint64_t view_version = 0;  // bumps when colours must be rebuilt (hover, colour mode, theme)

  StepperRequest stepper;

  // The element whose region is lit: the pinned one, else the hovered one.
  std::optional<CubeRef> active() const { return pinned ? pinned : hovered; }
};

}  // namespace normviz
