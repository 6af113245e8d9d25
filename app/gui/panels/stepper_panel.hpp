// The kernel-reduction stepper panel: scrub a kernel's reduction of one group stage by stage, see
// each lane's partial in its warp with the shuffle arrows, and compare every strategy to float64.
// In backward mode it steps through the backward's block instead (both sums per lane, then dx).
//
// Self-contained: it owns its trace and its settings. The app gives it the layer and the group
// (setTarget), calls draw() inside an ImGui window each frame, and reads highlight() to colour the
// group's cubes in the 3D view: by the thread that loaded them, with the selected lane's covered
// cubes lit.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "normviz/plan.hpp"
#include "normviz/stats.hpp"
#include "normviz/tensor.hpp"
#include "normviz/trace.hpp"

namespace normviz {

// What the 3D view shows for the stepper. Indices run over the group's elements, j order.
struct StepperHighlight {
  bool active = false;  // a trace exists (false: show nothing, see StepperPanel::error)
  int64_t group = -1;
  std::vector<int64_t> elements;  // flat input index of each element of the group
  std::vector<int> thread_of;     // the thread that loads each element (colour with threadColor)
  std::vector<uint8_t> covered;   // 1 where the selected lane's value covers the element now
  int selected_lane = -1;         // thread index in the block, -1: none selected
  int block_size = 32;
  int stage = 0;
  uint64_t revision = 0;  // increases whenever anything above changes
};

// The colour of a thread, shared by the lane boxes and the 3D cubes: hue walks round the wheel
// along a warp's 32 lanes (neighbours differ), and warps alternate brightness so a lane's warp
// reads at a glance. rgb in 0..1. Inline and ImGui-free so tests can find these colours in a
// screenshot.
inline void threadColor(int thread, int block_size, float rgb[3]) {
  (void)block_size;
  const float h = static_cast<float>(thread % kWarpSize) / kWarpSize * 6.0f;
  const float s = 0.62f;
  const float v = 1.0f - 0.22f * static_cast<float>((thread / kWarpSize) % 3);
  const int i = static_cast<int>(h) % 6;
  const float f = h - static_cast<float>(static_cast<int>(h));
  const float p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  const float table[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
  for (int c = 0; c < 3; ++c) rgb[c] = table[i][c];
}
// The fill of an idle lane's box and the colour of the shuffle arrows, as 8-bit RGB.
inline constexpr unsigned char kIdleLaneRgb[3] = {70, 70, 74};
inline constexpr unsigned char kArrowRgb[3] = {255, 214, 90};

class StepperPanel {
 public:
  StepperPanel();

  // The layer, input and group to trace. Copies what it needs; re-traces when anything changed.
  void setTarget(const ReductionPlan& plan, const Tensor& x, int64_t group);
  // Backward mode: traces backwardRowsKernel's block on the group instead (traceBackwardGroup; its
  // geometry is the kernel's own, 256 threads and xor shuffles, so the settings do not apply).
  // `focus` is the flat index of the element whose dx the result line shows (-1: none).
  void setBackwardTarget(const ReductionPlan& plan, const Tensor& x, const Tensor& dy,
                         const NormParams& params, const TensorD& mean, const TensorD& rstd,
                         int64_t group, int64_t focus);
  bool backward() const { return backward_; }
  // The panel's contents: call between ImGui::Begin and ImGui::End, once per frame.
  // Advances playback by ImGui's frame time.
  void draw();

  const StepperHighlight& highlight() const { return highlight_; }
  // The reason there is no trace (bad group, group too large to list), empty when there is one.
  const std::string& error() const { return error_; }
  const ReductionTrace* trace() const { return has_trace_ ? &trace_ : nullptr; }

  // Settings, for the app's command-line flags and tests; each clamps or reports through error().
  void setStage(int stage);  // clamped to 0..stageCount()-1
  void setStrategy(VarianceStrategy strategy);
  void setBlockSize(int block_size);      // multiple of 32, 32..1024
  void setVectorWidth(int vector_width);  // 1, 2 or 4
  void setShuffle(ShuffleKind kind);
  void selectLane(int lane);  // -1 clears
  void setPlaying(bool playing);
  // While a lesson's question about a later stage is open, the list names the stages up to the
  // current one only.
  void withholdLaterStages(bool withhold) { withhold_later_ = withhold; }

  int stageCount() const;
  int stage() const { return stage_; }
  bool playing() const { return playing_; }
  // True while the panel wants frames (playing): the app should not idle.
  bool animating() const { return playing_; }

 private:
  void retrace();
  void targetFailed(const std::string& why);
  int laneCount() const { return backward_ ? kBackwardBlockSize : options_.block_size; }
  void drawLaneValue(const TraceLane& lane) const;
  void drawResult() const;
  void refreshHighlight();
  void refreshOffsetNumerics();
  TraceOptions effectiveOptions() const;
  void drawControls();
  void drawSettings();
  void drawTransport();
  void drawStageList();
  void drawLanes();
  void drawLaneTooltip(const TraceStage& stage, int thread) const;
  void drawNumerics();

  // Target: the plan and the group's values (j order), compared on every setTarget.
  bool has_target_ = false;
  ReductionPlan plan_;
  std::vector<float> values_;
  int64_t group_ = 0;
  bool backward_ = false;              // the target is the backward's (setBackwardTarget)
  BackwardGroupInput backward_input_;  // its inputs, j order
  int64_t focus_ = -1;                 // the flat index whose dx the result line shows
  // Settings.
  TraceOptions options_;
  int stage_ = 0;
  int scrolled_stage_ = -1;  // the stage list scrolls to the current stage once per change
  int selected_lane_ = 0;
  bool playing_ = false;
  float stages_per_second_ = 1.5f;
  bool withhold_later_ = false;
  double play_clock_ = 0;
  // Results.
  bool has_trace_ = false;
  ReductionTrace trace_;
  std::string error_;
  StepperHighlight highlight_;
  bool has_numerics_ = false;
  StrategyComparison numerics_group_;
  // The large-offset preset (mean 100, std 0.01) at the current geometry.
  std::vector<float> offset_values_;
  StrategyComparison numerics_offset_;
  int offset_block_size_ = 0, offset_vector_width_ = 0;
};

}  // namespace normviz
