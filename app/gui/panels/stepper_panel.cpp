// The kernel-reduction stepper panel: settings and scrubbing, the lanes of each warp with the
// shuffle arrows of the current stage, and every strategy's result against float64.
//
// Sections: target and settings; highlight; drawing (controls, lanes, numerics).
#include "stepper_panel.hpp"

#include <imgui.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>

#include "layer_options.hpp"
#include "normviz/error.hpp"

namespace normviz {

namespace {

ImU32 threadColorU32(int thread, int block_size, float alpha = 1.0f) {
  float rgb[3];
  threadColor(thread, block_size, rgb);
  return ImGui::ColorConvertFloat4ToU32(ImVec4(rgb[0], rgb[1], rgb[2], alpha));
}

constexpr int kLargeOffsetSize = 32768;  // docs/NORMS.md's cancellation demo

}  // namespace

// ---- Target and settings ------------------------------------------------------------------------

StepperPanel::StepperPanel() {
  const Tensor offset = makeInput(Shape{kLargeOffsetSize}, "large-offset", 0);
  offset_values_.assign(offset.data.begin(), offset.data.end());
}

void StepperPanel::setTarget(const ReductionPlan& plan, const Tensor& x, int64_t group) {
  std::vector<float> values;
  try {
    values = groupValues(x, plan, group);
  } catch (const NormError& e) {
    targetFailed(e.what());
    return;
  }
  const NormConfig& a = plan.config();
  const NormConfig& b = plan_.config();
  const bool was_backward = backward_;
  backward_ = false;
  const bool same = has_target_ && !was_backward && group == group_ &&
                    plan.shape() == plan_.shape() && a.kind == b.kind && a.groups == b.groups &&
                    a.normalized_shape == b.normalized_shape && a.axes == b.axes &&
                    a.eps == b.eps && values == values_;
  if (same) return;
  const bool new_group = !has_target_ || group != group_ || !(plan.shape() == plan_.shape());
  plan_ = plan;
  values_ = std::move(values);
  group_ = group;
  has_target_ = true;
  if (new_group) stage_ = 0;
  retrace();
}

void StepperPanel::targetFailed(const std::string& why) {
  if (error_ == why && !has_trace_) return;
  error_ = why;
  has_trace_ = false;
  has_target_ = false;
  refreshHighlight();
}

void StepperPanel::setBackwardTarget(const ReductionPlan& plan, const Tensor& x, const Tensor& dy,
                                     const NormParams& params, const TensorD& mean,
                                     const TensorD& rstd, int64_t group, int64_t focus) {
  BackwardGroupInput input;
  try {
    input = backwardGroupInput(x, dy, plan, params, mean, rstd, group);
  } catch (const NormError& e) {
    targetFailed(e.what());
    return;
  }
  focus_ = focus;
  const NormConfig& a = plan.config();
  const NormConfig& b = plan_.config();
  const BackwardGroupInput& old = backward_input_;
  const bool same = has_target_ && backward_ && group == group_ && plan.shape() == plan_.shape() &&
                    a.kind == b.kind && a.groups == b.groups &&
                    a.normalized_shape == b.normalized_shape && a.axes == b.axes &&
                    a.training == b.training && input.x == old.x && input.dy == old.dy &&
                    input.weight == old.weight && input.mean == old.mean && input.rstd == old.rstd;
  if (same) return;
  const bool new_group =
      !has_target_ || !backward_ || group != group_ || !(plan.shape() == plan_.shape());
  plan_ = plan;
  backward_input_ = std::move(input);
  backward_ = true;
  group_ = group;
  has_target_ = true;
  if (new_group) stage_ = 0;
  retrace();
}

TraceOptions StepperPanel::effectiveOptions() const {
  TraceOptions o = options_;
  if (o.strategy == VarianceStrategy::Pairwise) o.vector_width = 1;
  return o;
}

void StepperPanel::retrace() {
  if (!has_target_) return;
  if (backward_) {
    try {
      trace_ = traceBackwardGroup(backward_input_, plan_, group_);
      has_trace_ = true;
      error_.clear();
    } catch (const NormError& e) {
      has_trace_ = false;
      error_ = e.what();
    }
    has_numerics_ = false;
    stage_ = std::clamp(stage_, 0, std::max(stageCount() - 1, 0));
    refreshHighlight();
    return;
  }
  const int64_t M = static_cast<int64_t>(values_.size());
  const float eps = static_cast<float>(plan_.config().eps);
  try {
    trace_ = traceGroupValues(values_, plan_, group_, effectiveOptions());
    has_trace_ = true;
    error_.clear();
  } catch (const NormError& e) {
    has_trace_ = false;
    error_ = e.what();
  }
  try {
    numerics_group_ = compareStrategies(values_.data(), M, plan_.subtractsMean(), eps,
                                        options_.block_size, options_.vector_width);
    has_numerics_ = true;
  } catch (const NormError&) {
    has_numerics_ = false;
  }
  stage_ = std::clamp(stage_, 0, std::max(stageCount() - 1, 0));
  refreshHighlight();
}

void StepperPanel::refreshHighlight() {
  StepperHighlight& h = highlight_;
  h.active = has_trace_;
  h.block_size = laneCount();
  h.stage = stage_;
  h.selected_lane = selected_lane_;
  ++h.revision;
  if (!has_trace_) {
    h.group = -1;
    h.elements.clear();
    h.thread_of.clear();
    h.covered.clear();
    return;
  }
  h.group = trace_.group;
  h.elements = trace_.elements;
  h.thread_of = trace_.thread_of;
  h.covered.assign(trace_.elements.size(), 0);
  if (selected_lane_ >= 0 && selected_lane_ < trace_.block_size &&
      stage_ < static_cast<int>(trace_.stages.size())) {
    const TraceLane& lane =
        trace_.stages[static_cast<size_t>(stage_)].lanes[static_cast<size_t>(selected_lane_)];
    for (int32_t j : lane.covers) h.covered[static_cast<size_t>(j)] = 1;
  }
}

void StepperPanel::refreshOffsetNumerics() {
  if (offset_block_size_ == options_.block_size && offset_vector_width_ == options_.vector_width)
    return;
  numerics_offset_ = compareStrategies(offset_values_.data(), kLargeOffsetSize, true, 1e-5f,
                                       options_.block_size, options_.vector_width);
  offset_block_size_ = options_.block_size;
  offset_vector_width_ = options_.vector_width;
}

int StepperPanel::stageCount() const {
  return has_trace_ ? static_cast<int>(trace_.stages.size()) : 0;
}

void StepperPanel::setStage(int stage) {
  const int clamped = std::clamp(stage, 0, std::max(stageCount() - 1, 0));
  if (clamped == stage_) return;
  stage_ = clamped;
  refreshHighlight();
}

void StepperPanel::setStrategy(VarianceStrategy strategy) {
  if (strategy == options_.strategy) return;
  options_.strategy = strategy;
  retrace();
}

void StepperPanel::setBlockSize(int block_size) {
  if (!validBlockSize(block_size)) {
    error_ = "block size " + std::to_string(block_size) +
             " is not a multiple of 32 between 32 and 1024; keeping " +
             std::to_string(options_.block_size);
    return;
  }
  if (block_size == options_.block_size) return;
  options_.block_size = block_size;
  if (selected_lane_ >= block_size) selected_lane_ = 0;
  retrace();
  refreshHighlight();
}

void StepperPanel::setVectorWidth(int vector_width) {
  if (!validVectorWidth(vector_width)) {
    error_ = "vector width " + std::to_string(vector_width) + " must be 1, 2 or 4";
    return;
  }
  if (vector_width == options_.vector_width) return;
  options_.vector_width = vector_width;
  retrace();
}

void StepperPanel::setShuffle(ShuffleKind kind) {
  if (kind == options_.shuffle) return;
  options_.shuffle = kind;
  retrace();
}

void StepperPanel::selectLane(int lane) {
  const int chosen = lane < 0 || lane >= laneCount() ? -1 : lane;
  if (chosen == selected_lane_) return;
  selected_lane_ = chosen;
  refreshHighlight();
}

void StepperPanel::setPlaying(bool playing) {
  playing_ = playing && stageCount() > 1;
  play_clock_ = 0;
  if (playing_ && stage_ >= stageCount() - 1) setStage(0);
}

// ---- Drawing ------------------------------------------------------------------------------------

void StepperPanel::draw() {
  if (playing_) {
    play_clock_ += static_cast<double>(ImGui::GetIO().DeltaTime) * stages_per_second_;
    while (play_clock_ >= 1.0 && playing_) {
      play_clock_ -= 1.0;
      if (stage_ + 1 >= stageCount())
        playing_ = false;
      else
        setStage(stage_ + 1);
    }
  }
  drawControls();
  if (has_trace_) {
    drawLanes();
  } else if (!error_.empty()) {
    ImGui::TextColored(ImVec4(1.0f, 0.45f, 0.4f, 1.0f), "%s", error_.c_str());
  } else {
    ImGui::TextDisabled("No group to trace yet.");
  }
  if (!backward_) drawNumerics();
}

void StepperPanel::drawControls() {
  drawSettings();
  if (!has_trace_) return;
  drawTransport();
  drawStageList();
}

// The kernel's settings: strategy, threads per block, vector width, shuffle.
void StepperPanel::drawSettings() {
  if (backward_) {
    ImGui::TextWrapped(
        "Backward: backwardRowsKernel (backward_kernels.cu), one block of %d threads per group; "
        "both sums travel together through xor shuffles.",
        kBackwardBlockSize);
    return;
  }
  // Two settings per line when each half holds its label and a combo wide enough for "two-pass",
  // otherwise one per line: nothing is cut off at large font scales.
  const ImGuiStyle& style = ImGui::GetStyle();
  const float avail = ImGui::GetContentRegionAvail().x;
  const float half = (avail - style.ItemSpacing.x) * 0.5f;
  const float label_w = ImGui::CalcTextSize("strategy").x + style.ItemInnerSpacing.x;
  const float combo =
      ImGui::CalcTextSize("two-pass").x + ImGui::GetFrameHeight() + 2.0f * style.FramePadding.x;
  const bool two_per_line = half >= label_w + combo;
  ImGui::PushItemWidth(two_per_line ? half - label_w : avail - label_w);
  auto next_column = [&] {
    if (two_per_line) ImGui::SameLine(half + style.ItemSpacing.x);
  };
  int strategy = static_cast<int>(options_.strategy);
  if (ImGui::Combo("strategy", &strategy, "two-pass\0welford\0naive\0pairwise\0"))
    setStrategy(kAllStrategies[strategy]);
  next_column();
  static const int kBlocks[] = {32, 64, 96, 128, 256, 512, 1024};
  char label[16];
  std::snprintf(label, sizeof label, "%d", options_.block_size);
  if (ImGui::BeginCombo("threads", label)) {
    for (int b : kBlocks) {
      std::snprintf(label, sizeof label, "%d", b);
      if (ImGui::Selectable(label, b == options_.block_size)) setBlockSize(b);
    }
    ImGui::EndCombo();
  }
  int width_index = options_.vector_width == 4 ? 2 : options_.vector_width - 1;
  const bool pairwise = options_.strategy == VarianceStrategy::Pairwise;
  if (pairwise) ImGui::BeginDisabled();
  if (ImGui::Combo("vector", &width_index, "1\0002\0004\0")) setVectorWidth(1 << width_index);
  if (pairwise) ImGui::EndDisabled();
  next_column();
  int shuffle = options_.shuffle == ShuffleKind::Xor ? 1 : 0;
  if (ImGui::Combo("shuffle", &shuffle, "down\0xor\0"))
    setShuffle(shuffle ? ShuffleKind::Xor : ShuffleKind::Down);
  ImGui::PopItemWidth();
}

// Transport: first, back, play/pause, forward, last, speed; then the stage scrubber.
void StepperPanel::drawTransport() {
  const int n = stageCount();
  if (ImGui::Button("|<")) setStage(0);
  ImGui::SameLine();
  if (ImGui::ArrowButton("##back", ImGuiDir_Left)) setStage(stage_ - 1);
  ImGui::SameLine();
  if (ImGui::Button(playing_ ? "Pause" : "Play ")) setPlaying(!playing_);
  ImGui::SameLine();
  if (ImGui::ArrowButton("##forward", ImGuiDir_Right)) setStage(stage_ + 1);
  ImGui::SameLine();
  if (ImGui::Button(">|")) setStage(n - 1);
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-1);
  ImGui::SliderFloat("##speed", &stages_per_second_, 0.25f, 8.0f, "%.2f/s",
                     ImGuiSliderFlags_Logarithmic);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("playback speed: stages per second");

  const TraceStage& current = trace_.stages[static_cast<size_t>(stage_)];
  int scrub = stage_;
  std::string format = "%d: " + current.name;
  std::replace(format.begin() + 2, format.end(), '%', ' ');
  ImGui::SetNextItemWidth(-1);
  if (ImGui::SliderInt("##stage", &scrub, 0, n - 1, format.c_str())) setStage(scrub);
}

// The stages, beside the current one's explanation when there is room, above it otherwise; the
// selected lane's value; the result.
void StepperPanel::drawStageList() {
  const int n = stageCount();
  const float font = ImGui::GetFontSize();
  const TraceStage& current = trace_.stages[static_cast<size_t>(stage_)];
  const bool wide = ImGui::GetContentRegionAvail().x > font * 34;
  const float list_h = ImGui::GetTextLineHeightWithSpacing() * (wide ? 7.5f : 4.5f);
  ImGui::BeginChild("##stage_list", ImVec2(wide ? font * 13 : 0, list_h), true);
  const int listed = withhold_later_ ? std::min(n, stage_ + 1) : n;
  for (int i = 0; i < listed; ++i) {
    char item[96];
    std::snprintf(item, sizeof item, "%2d  %s", i,
                  trace_.stages[static_cast<size_t>(i)].name.c_str());
    if (ImGui::Selectable(item, i == stage_)) setStage(i);
    if (i == stage_ && (playing_ || scrolled_stage_ != stage_)) {
      ImGui::SetScrollHereY(0.5f);
      scrolled_stage_ = stage_;
    }
  }
  if (listed < n) ImGui::TextDisabled("later stages: after the question");
  ImGui::EndChild();
  if (wide) ImGui::SameLine();
  if (wide)
    ImGui::BeginChild("##explanation", ImVec2(0, list_h));
  else
    ImGui::BeginGroup();
  ImGui::TextWrapped("%s", current.explanation.c_str());
  if (selected_lane_ >= 0)
    drawLaneValue(current.lanes[static_cast<size_t>(selected_lane_)]);
  else
    ImGui::TextDisabled("Click a lane to light the cubes its value covers.");
  if (wide)
    ImGui::EndChild();
  else
    ImGui::EndGroup();
  drawResult();
}

// The selected lane's value at the current stage (both sums in the backward).
void StepperPanel::drawLaneValue(const TraceLane& lane) const {
  const int warp = selected_lane_ / kWarpSize;
  const TraceStage& current = trace_.stages[static_cast<size_t>(stage_)];
  if (lane.idle) {
    ImGui::TextDisabled("Lane %d (warp %d) is idle: it holds nothing of the group.", selected_lane_,
                        warp);
  } else if (backward_ && current.kind == StageKind::InputGradient) {
    ImGui::TextWrapped("Lane %d (warp %d) writes dx for %zu of %zu elements; its first is %.7g.",
                       selected_lane_, warp, lane.covers.size(), trace_.elements.size(),
                       static_cast<double>(lane.value));
  } else if (backward_) {
    // The numbers on a line of their own: wrapping would break them at the decimal point.
    ImGui::TextWrapped(
        "Lane %d (warp %d) covers %zu of %zu elements and holds\nΣg %.7g   Σg·x̂ %.7g",
        selected_lane_, warp, lane.covers.size(), trace_.elements.size(),
        static_cast<double>(lane.value), static_cast<double>(lane.value2));
  } else {
    ImGui::TextWrapped("Lane %d (warp %d) holds %.7g, covering %zu of %zu elements.",
                       selected_lane_, warp, static_cast<double>(lane.value), lane.covers.size(),
                       trace_.elements.size());
  }
}

// The kernel's results: the statistics, or the backward's two sums and the lit element's dx.
void StepperPanel::drawResult() const {
  if (!backward_) {
    ImGui::TextWrapped("result: mean %.6g  var %.6g  rstd %.6g", static_cast<double>(trace_.mean),
                       static_cast<double>(trace_.var), static_cast<double>(trace_.rstd));
    return;
  }
  std::string dx;
  const auto at = std::find(trace_.elements.begin(), trace_.elements.end(), focus_);
  if (at != trace_.elements.end()) {
    const size_t j = static_cast<size_t>(at - trace_.elements.begin());
    char text[96];
    std::snprintf(text, sizeof text, "\ndx of the lit element (j = %zu, thread %d): %.6g", j,
                  trace_.thread_of[j], static_cast<double>(trace_.dx[j]));
    dx = text;
  }
  ImGui::TextWrapped("result, stored by thread 0:\nΣg %.6g   Σg·x̂ %.6g%s",
                     static_cast<double>(trace_.sum_g), static_cast<double>(trace_.sum_g_xhat),
                     dx.c_str());
}

void StepperPanel::drawLanes() {
  const TraceStage& stage = trace_.stages[static_cast<size_t>(stage_)];
  const int B = trace_.block_size;
  const float font = ImGui::GetFontSize();
  const float label_w = font * 3.6f;
  // The child's scrollbar and padding come out of the width: measure it from the parent.
  const float avail = ImGui::GetContentRegionAvail().x - label_w - ImGui::GetStyle().ScrollbarSize -
                      ImGui::GetStyle().WindowPadding.x * 2 - 4;
  // As many lanes per row as leave each box room for a value: 32, 16 or 8.
  int per_row = 32;
  while (per_row > 8 && avail / static_cast<float>(per_row) < font * 2.6f) per_row /= 2;
  const float box_w = std::max(avail / static_cast<float>(per_row), font * 1.2f);
  // The backward's lanes carry two partials, one line each (dx: one value).
  const bool two_values = backward_ && stage.kind != StageKind::InputGradient;
  const float box_h = font * (two_values ? 2.5f : 1.7f);
  const float row_gap = font * 0.9f;  // room above each row for the arrows' arcs
  const int rows_per_warp = kWarpSize / per_row;
  const int rows = trace_.warps() * rows_per_warp;
  const float content_h = static_cast<float>(rows) * (box_h + row_gap) +
                          static_cast<float>(trace_.warps()) * font * 0.4f + row_gap;
  const float view_h = std::min(content_h, font * 18.0f);
  ImGui::BeginChild("##lanes", ImVec2(0, view_h), true);
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();

  auto boxMin = [&](int t) {
    const int warp = t / kWarpSize, lane = t % kWarpSize;
    const int row = warp * rows_per_warp + lane / per_row;
    return ImVec2(origin.x + label_w + static_cast<float>(lane % per_row) * box_w,
                  origin.y + row_gap + static_cast<float>(row) * (box_h + row_gap) +
                      static_cast<float>(warp) * font * 0.4f);
  };

  // Warp labels.
  for (int w = 0; w < trace_.warps(); ++w) {
    char text[16];
    std::snprintf(text, sizeof text, "warp %d", w);
    const ImVec2 p = boxMin(w * kWarpSize);
    dl->AddText(ImVec2(origin.x, p.y + (box_h - font) * 0.5f), ImGui::GetColorU32(ImGuiCol_Text),
                text);
  }
  // Boxes.
  const ImU32 idle_fill = IM_COL32(kIdleLaneRgb[0], kIdleLaneRgb[1], kIdleLaneRgb[2], 255),
              idle_text = IM_COL32(130, 130, 136, 255);
  const float small = font * 0.78f;
  int hovered = -1;
  for (int t = 0; t < B; ++t) {
    const TraceLane& lane = stage.lanes[static_cast<size_t>(t)];
    const ImVec2 a = boxMin(t);
    const ImVec2 b(a.x + box_w - 2, a.y + box_h);
    dl->AddRectFilled(a, b, lane.idle ? idle_fill : threadColorU32(t, B), 3.0f);
    const int lines = two_values && !lane.idle ? 2 : 1;
    for (int line = 0; line < lines; ++line) {
      char text[24];
      if (lane.idle)
        std::snprintf(text, sizeof text, "-");
      else
        std::snprintf(text, sizeof text, "%.3g",
                      static_cast<double>(line == 0 ? lane.value : lane.value2));
      const ImVec2 size = ImGui::GetFont()->CalcTextSizeA(small, FLT_MAX, 0, text);
      const float mid = box_h * (static_cast<float>(2 * line + 1) / static_cast<float>(2 * lines));
      if (size.x <= box_w - 4)
        dl->AddText(ImGui::GetFont(), small,
                    ImVec2(a.x + (box_w - 2 - size.x) * 0.5f, a.y + mid - size.y * 0.5f),
                    lane.idle ? idle_text : IM_COL32(15, 15, 20, 255), text);
    }
    if (t == selected_lane_)
      dl->AddRect(ImVec2(a.x - 1, a.y - 1), ImVec2(b.x + 1, b.y + 1), IM_COL32(255, 255, 255, 255),
                  3.0f, 0, 2.5f);
    if (ImGui::IsMouseHoveringRect(a, b) && ImGui::IsWindowHovered()) hovered = t;
  }
  // Arrows: from the lane a value came from to the lane that combined it at this stage.
  const ImU32 arrow = IM_COL32(kArrowRgb[0], kArrowRgb[1], kArrowRgb[2], 255);
  for (int t = 0; t < B; ++t) {
    const TraceLane& lane = stage.lanes[static_cast<size_t>(t)];
    if (lane.idle || lane.source < 0) continue;
    const ImVec2 sa = boxMin(lane.source), da = boxMin(t);
    const ImVec2 from(sa.x + box_w * 0.5f, sa.y), to(da.x + box_w * 0.5f, da.y);
    const float lift = row_gap * 0.95f;
    dl->AddBezierCubic(from, ImVec2(from.x, from.y - lift), ImVec2(to.x, to.y - lift), to, arrow,
                       1.6f);
    dl->AddTriangleFilled(ImVec2(to.x, to.y), ImVec2(to.x - 4, to.y - 7),
                          ImVec2(to.x + 4, to.y - 7), arrow);
  }
  ImGui::Dummy(ImVec2(label_w + box_w * static_cast<float>(per_row), content_h));
  if (hovered >= 0) {
    drawLaneTooltip(stage, hovered);
    if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) selectLane(hovered);
  }
  ImGui::EndChild();
}

// The hovered lane's tooltip: its partial (both sums in the backward), coverage and source.
void StepperPanel::drawLaneTooltip(const TraceStage& stage, int thread) const {
  const TraceLane& lane = stage.lanes[static_cast<size_t>(thread)];
  const bool two_values = backward_ && stage.kind != StageKind::InputGradient;
  ImGui::BeginTooltip();
  ImGui::Text("thread %d: warp %d, lane %d", thread, thread / kWarpSize, thread % kWarpSize);
  if (lane.idle) {
    ImGui::TextDisabled("idle: holds nothing of the group");
  } else {
    if (two_values)
      ImGui::Text("Σg %.9g  Σg·x̂ %.9g, covers %zu elements", static_cast<double>(lane.value),
                  static_cast<double>(lane.value2), lane.covers.size());
    else
      ImGui::Text("%s %.9g, covers %zu elements", backward_ ? "first dx" : "value",
                  static_cast<double>(lane.value), lane.covers.size());
    if (trace_.strategy == VarianceStrategy::Welford && stage.kind != StageKind::Normalize &&
        stage.kind != StageKind::Rstd)
      ImGui::Text("count %.0f  mean %.7g  M2 %.7g", static_cast<double>(lane.welford.count),
                  static_cast<double>(lane.welford.mean), static_cast<double>(lane.welford.m2));
    if (trace_.strategy == VarianceStrategy::Naive && lane.sumsq != 0)
      ImGui::Text("sum of squares %.9g", static_cast<double>(lane.sumsq));
    if (lane.source >= 0) ImGui::Text("combined the partial of thread %d", lane.source);
  }
  ImGui::EndTooltip();
}

void StepperPanel::drawNumerics() {
  const bool open = ImGui::CollapsingHeader("Numerics vs float64", ImGuiTreeNodeFlags_DefaultOpen);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("Every variance strategy against float64");
  if (!open) return;
  refreshOffsetNumerics();
  auto table = [&](const char* id, const StrategyComparison& c) {
    ImGui::TextWrapped("float64: mean %.9g, var %.6g (errors relative to these)", c.ref_mean,
                       c.ref_var);
    if (!ImGui::BeginTable(id, 4, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH)) return;
    ImGui::TableSetupColumn("strategy");
    ImGui::TableSetupColumn("mean err");
    ImGui::TableSetupColumn("var");
    ImGui::TableSetupColumn("var err");
    ImGui::TableHeadersRow();
    for (const StrategyResult& r : c.results) {
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(0);
      ImGui::TextUnformatted(varianceName(r.strategy));
      ImGui::TableSetColumnIndex(1);
      ImGui::Text("%.1e", r.mean_rel_error);
      ImGui::TableSetColumnIndex(2);
      ImGui::Text("%.5g", static_cast<double>(r.var));
      ImGui::TableSetColumnIndex(3);
      if (r.var_rel_error > 1e-2)
        ImGui::TextColored(ImVec4(1.0f, 0.4f, 0.35f, 1.0f), "%.1e", r.var_rel_error);
      else
        ImGui::Text("%.1e", r.var_rel_error);
    }
    ImGui::EndTable();
  };
  if (has_numerics_) {
    ImGui::TextWrapped("This group (%zu elements, %d threads):", values_.size(),
                       options_.block_size);
    table("##numerics_group", numerics_group_);
  }
  ImGui::Spacing();
  ImGui::TextWrapped(
      "Large-offset preset, x = 100 + 0.01 randn over %d elements: the naive E[x^2] - E[x]^2 "
      "cancels catastrophically while Welford and two-pass hold.",
      kLargeOffsetSize);
  table("##numerics_offset", numerics_offset_);
}

}  // namespace normviz
