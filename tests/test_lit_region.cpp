// The lit region (app/gui/lit_region.hpp): what lights up for the active element in every mode:
// forward, backward (coupled, uncoupled, affine), the sheet in backward mode, the stepper, the
// compare panels and an open question.
#include <doctest/doctest.h>

#include <string>

#include "app_compute.hpp"
#include "lesson_state.hpp"
#include "lessons.hpp"
#include "lit_region.hpp"

using namespace normviz;

namespace {

// The worked example (3, 4, 2, 2) under `norm`; GroupNorm has 2 groups.
AppState stateFor(const std::string& norm) {
  LayerOptions o;
  o.norm = parseNormKind(norm);
  AppState s;
  initFromOptions(s, o);
  recomputeIfChanged(s);
  REQUIRE(s.error.empty());
  REQUIRE(s.shown.has_value());
  return s;
}

void backwardMode(AppState& s, bool training) {
  s.config.training = training;
  s.affine = true;
  s.affine_init = AffineInit::Random;
  s.backward = true;
  s.inputs_changed = true;
  recomputeIfChanged(s);
  REQUIRE(s.error.empty());
  REQUIRE(s.shown->grad.has_value());
}

}  // namespace

TEST_CASE("forward: the active element's group; a statistic is its own group; nothing else") {
  AppState s = stateFor("group");
  const ReductionPlan& plan = s.shown->plan;
  CHECK_FALSE(singleLit(s, nullptr, true).tag.has_value());
  s.hovered = CubeRef{Section::Input, 37};
  CHECK(singleLit(s, nullptr, true).tag == plan.groupOf(37));
  s.hovered = CubeRef{Section::Output, 5};
  CHECK(singleLit(s, nullptr, true).tag == plan.groupOf(5));
  s.hovered = CubeRef{Section::Rstd, 4};
  CHECK(singleLit(s, nullptr, true).tag == 4);
  // A pinned element wins over the hovered one.
  s.pinned = CubeRef{Section::Mean, 1};
  CHECK(singleLit(s, nullptr, true).tag == 1);
  CHECK(groupOfCube(plan, {Section::DWeight, 0}) == -1);
  CHECK_FALSE(singleLit(s, nullptr, true).tint.has_value());
}

TEST_CASE("backward: the coupled group, the element alone in evaluation, a parameter's elements") {
  for (bool training : {true, false}) {
    AppState s = stateFor("batch");
    backwardMode(s, training);
    const ReductionPlan& plan = s.shown->plan;
    s.hovered = CubeRef{Section::Output, 21};  // dx[1, 2, 1, 1]: channel 2
    CHECK(litPartition(s) == (training ? LitPartition::Groups : LitPartition::Elements));
    CHECK(singleLit(s, nullptr, true).tag == (training ? plan.groupOf(21) : 21));
    // The sheet draws x and y in backward mode too: it lights the forward group.
    CHECK(singleLit(s, nullptr, false).tag == plan.groupOf(21));
    s.hovered = CubeRef{Section::DWeight, 2};
    CHECK(litPartition(s) == LitPartition::Affine);
    CHECK(singleLit(s, nullptr, true).tag == 2);
    CHECK_FALSE(singleLit(s, nullptr, false).tag.has_value());
  }
}

TEST_CASE("stepper: its traced group is lit, each element in its thread's colour") {
  AppState s = stateFor("group");
  s.hovered = CubeRef{Section::Input, 0};  // group 0, but the stepper traces group 3
  StepperHighlight h;
  h.active = true;
  h.group = 3;
  h.elements = {36, 37, 38};
  h.thread_of = {0, 1, 33};
  h.covered = {1, 0, 1};
  h.block_size = 64;
  h.revision = 7;
  SingleLit lit = singleLit(s, &h, true);
  CHECK(lit.tag == 3);
  REQUIRE(lit.tint.has_value());
  CHECK(lit.tint->flat == h.elements);
  CHECK(lit.tint->revision == 7);
  REQUIRE(lit.tint->color.size() == 3);
  float rgb[3];
  threadColor(33, 64, rgb);
  CHECK(lit.tint->color[2] == glm::vec3(rgb[0], rgb[1], rgb[2]));
  CHECK(lit.tint->color[0] != lit.tint->color[1]);  // neighbouring lanes differ
  // No lane selected: every traced element is lit; with one, only the ones it covers.
  CHECK(lit.tint->covered.empty());
  h.selected_lane = 1;
  lit = singleLit(s, &h, true);
  CHECK(lit.tint->covered == h.covered);
  // A stepper without a trace lights what the hover lights.
  h.active = false;
  lit = singleLit(s, &h, true);
  CHECK(lit.tag == s.shown->plan.groupOf(0));
  CHECK_FALSE(lit.tint.has_value());
}

TEST_CASE("compare: each panel lights the active element's group under its own layer") {
  AppState s = stateFor("group");
  s.layout = LayoutMode::Compare;
  s.inputs_changed = true;
  recomputeIfChanged(s);
  REQUIRE(s.compare.size() == 4);
  s.hovered = CubeRef{Section::Input, 29};
  for (int k = 0; k < 4; ++k) {
    const ComparePanel& panel = s.compare[static_cast<size_t>(k)];
    if (!panel.plan) {
      CHECK_FALSE(compareLit(s, k).has_value());
      continue;
    }
    CHECK(compareLit(s, k) == panel.plan->groupOf(29));
  }
  // Panels show x alone: a statistic has no group in another layer.
  s.hovered = CubeRef{Section::Mean, 1};
  CHECK_FALSE(compareLit(s, 0).has_value());
  CHECK_FALSE(compareLit(s, 4).has_value());
  CHECK_FALSE(compareLit(s, -1).has_value());
}

TEST_CASE("question: nothing is lit anywhere until a select question is answered") {
  const Lesson* batch = nullptr;
  for (const Lesson& l : builtinLessons())
    if (l.name == "batchnorm") batch = &l;
  REQUIRE(batch != nullptr);
  AppState s = stateFor("group");
  REQUIRE(openLesson(s, *batch, 1) == "");  // the "click every cube" step
  REQUIRE(s.pinned.has_value());
  CHECK(litHidden(s));
  CHECK_FALSE(singleLit(s, nullptr, true).tag.has_value());
  CHECK_FALSE(singleLit(s, nullptr, false).tag.has_value());
  StepperHighlight h;
  h.active = true;
  h.group = 0;
  h.elements = {0};
  CHECK_FALSE(singleLit(s, &h, true).tag.has_value());  // the stepper would tell too
  REQUIRE(s.compare.size() == 4);
  CHECK_FALSE(compareLit(s, 0).has_value());
  // Answered: the marked element's group lights up.
  for (int64_t flat : s.shown->plan.elementsOf(s.shown->plan.groupOf(s.pinned->index)))
    toggleSelection(s, flat);
  checkSelection(s);
  REQUIRE(s.lesson.answered);
  CHECK_FALSE(litHidden(s));
  CHECK(singleLit(s, nullptr, true).tag == s.shown->plan.groupOf(s.pinned->index));
}

TEST_CASE("drawnState: a group-tagged cube is lit, faded or normal by the lit group") {
  CubeInstance cube;
  cube.group = 2.0f;
  CHECK(drawnState(cube, 2) == CubeState::Lit);
  CHECK(drawnState(cube, 1) == CubeState::Faded);
  CHECK(drawnState(cube, std::nullopt) == CubeState::Normal);
  cube.state = static_cast<float>(CubeState::Lit);  // fixed by the stepper's tint
  CHECK(drawnState(cube, 1) == CubeState::Lit);
}
