// The "Kernel stepper" tab: hosts the stepper panel for the lit group (the forward's reduction, or
// in backward mode the backward's), and hands its highlight (which thread loads each element,
// which ones the selected lane covers) to the lit region.
#include <imgui.h>

#include <memory>

#include "app_compute.hpp"
#include "panels.hpp"
#include "stepper_panel.hpp"

namespace normviz {

struct StepperHost {
  StepperPanel panel;
  bool pending = false;  // command-line settings wait for the first trace (stage clamps to it)
  StepperRequest request;
};

namespace {

StepperHost& host(const AppState& state) {
  std::shared_ptr<StepperHost>& h = state.panels->stepper;
  if (!h) h = std::make_shared<StepperHost>();
  return *h;
}

// Traces the group that is lit in the view (or group 0).
void updateTarget(AppState& state) {
  if (!state.shown) return;
  const auto active = state.active();
  const int64_t group = active ? groupOfCube(state.shown->plan, *active) : 0;
  StepperHost& h = host(state);
  const Snapshot& snap = *state.shown;
  // Backward mode steps through the backward's block; the lit element's dx is the result shown.
  const bool on_element =
      active && active->section != Section::Mean && active->section != Section::Rstd;
  if (state.backward && snap.grad && snap.dy)
    h.panel.setBackwardTarget(snap.plan, snap.x, *snap.dy, snap.params, snap.result.mean,
                              snap.result.rstd, group, on_element ? active->index : -1);
  else
    h.panel.setTarget(snap.plan, snap.x, group);
  if (h.pending && h.panel.trace() != nullptr) {
    h.pending = false;
    if (h.request.stage) h.panel.setStage(*h.request.stage);
    h.panel.selectLane(h.request.lane);
  }
}

}  // namespace

std::string configureStepper(AppState& state) {
  StepperHost& h = host(state);
  h.request = state.stepper;
  h.panel.setBlockSize(state.stepper.block_size);
  h.pending = true;
  return "";
}

bool stepperAnimating(const AppState& state) {
  return host(state).panel.animating();
}

void drawStepperTab(AppState& state) {
  if (state.layout != LayoutMode::Single) {
    ImGui::TextWrapped("The stepper follows the lit group of the single layout (press C).");
    return;
  }
  updateTarget(state);
  host(state).panel.withholdLaterStages(state.lesson.questionOpen());
  host(state).panel.draw();
  if (!host(state).panel.error().empty())
    ImGui::TextColored(ImVec4(1.0f, 0.45f, 0.4f, 1.0f), "%s", host(state).panel.error().c_str());
}

const StepperHighlight* stepperHighlight(AppState& state) {
  if (!state.stepper.active || !state.shown) return nullptr;
  updateTarget(state);
  const StepperHighlight& highlight = host(state).panel.highlight();
  return highlight.active ? &highlight : nullptr;
}

}  // namespace normviz
