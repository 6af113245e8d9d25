// The lit region (see lit_region.hpp): one rule for every view and mode.
#include "lit_region.hpp"

namespace normviz {

CubeState drawnState(const CubeInstance& cube, std::optional<int64_t> lit_group) {
  const auto state = static_cast<CubeState>(static_cast<int>(cube.state));
  if (state != CubeState::ByGroup) return state;
  if (!lit_group) return CubeState::Normal;
  return static_cast<int64_t>(cube.group) == *lit_group ? CubeState::Lit : CubeState::Faded;
}

bool litHidden(const AppState& state) {
  return state.lesson.litWithheld();
}

int64_t groupOfCube(const ReductionPlan& plan, CubeRef ref) {
  if (ref.section == Section::Mean || ref.section == Section::Rstd) return ref.index;
  if (ref.section == Section::DWeight || ref.section == Section::DBias) return -1;
  return plan.groupOf(ref.index);
}

LitPartition litPartition(const AppState& state) {
  const auto active = state.active();
  if (active && (active->section == Section::DWeight || active->section == Section::DBias))
    return LitPartition::Affine;
  if (state.shown && state.shown->grad && !state.shown->grad->group_coupled)
    return LitPartition::Elements;
  return LitPartition::Groups;
}

namespace {

// The forward's rule: the active element's group.
std::optional<int64_t> forwardTag(const ReductionPlan& plan, CubeRef active) {
  const int64_t group = groupOfCube(plan, active);
  if (group < 0) return std::nullopt;
  return group;
}

}  // namespace

std::optional<int64_t> litTag(const AppState& state) {
  const auto active = state.active();
  if (!active || !state.shown) return std::nullopt;
  const ReductionPlan& plan = state.shown->plan;
  if (!state.backward || !state.shown->grad) return forwardTag(plan, *active);
  const bool element = active->section == Section::Input || active->section == Section::Output;
  switch (litPartition(state)) {
    case LitPartition::Affine:
      return active->index;
    case LitPartition::Elements:
      if (element) return active->index;
      return std::nullopt;
    case LitPartition::Groups:
      return forwardTag(plan, *active);
  }
  return std::nullopt;
}

ElementTint tintOf(const StepperHighlight& highlight) {
  ElementTint tint;
  tint.group = highlight.group;
  tint.flat = highlight.elements;
  tint.revision = highlight.revision;
  tint.color.reserve(highlight.elements.size());
  for (size_t j = 0; j < highlight.elements.size(); ++j) {
    float rgb[3];
    threadColor(j < highlight.thread_of.size() ? highlight.thread_of[j] : 0, highlight.block_size,
                rgb);
    tint.color.emplace_back(rgb[0], rgb[1], rgb[2]);
  }
  if (highlight.selected_lane >= 0) tint.covered = highlight.covered;
  return tint;
}

SingleLit singleLit(const AppState& state, const StepperHighlight* stepper, bool drawn_backward) {
  SingleLit lit;
  if (litHidden(state) || !state.shown) return lit;
  if (stepper != nullptr && stepper->active) {
    lit.tint = tintOf(*stepper);
    lit.tag = stepper->group;
    return lit;
  }
  const auto active = state.active();
  if (!active) return lit;
  lit.tag = drawn_backward ? litTag(state) : forwardTag(state.shown->plan, *active);
  return lit;
}

std::optional<int64_t> compareLit(const AppState& state, int panel) {
  if (litHidden(state) || panel < 0 || panel >= static_cast<int>(state.compare.size()))
    return std::nullopt;
  const ComparePanel& p = state.compare[static_cast<size_t>(panel)];
  const auto active = state.active();
  if (!p.plan || !active ||
      (active->section != Section::Input && active->section != Section::Output))
    return std::nullopt;
  return p.plan->groupOf(active->index);
}

}  // namespace normviz
