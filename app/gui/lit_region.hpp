// The lit region: which elements light up for the active element (hovered or pinned), in every
// mode. One home for the rule, so the cube view, the sheet view, the compare panels, the stepper,
// the statistics panel and the screenshot report cannot disagree.
//
//   forward     the active element's group: every element sharing its mean and rstd, and the
//               group's mean and rstd cubes
//   backward    the group whose sums the element's dx needs; in BatchNorm evaluation (no coupling)
//               the element alone; on dweight/dbias every element the parameter sums over
//   stepper     the group the stepper traces, each element tinted by the thread that loads it
//   compare     in each panel, the active element's group under that panel's layer
//   question    nothing, while a "click every cube that shares..." question waits for its answer
#pragma once

#include <cstdint>
#include <glm/glm.hpp>
#include <optional>
#include <vector>

#include "app_state.hpp"
#include "cube_instance.hpp"
#include "stepper_panel.hpp"

namespace normviz {

// The state a cube is drawn in while `lit_group` is lit (nullopt: none), as the shader decides.
CubeState drawnState(const CubeInstance& cube, std::optional<int64_t> lit_group);

// Whether the lit region is hidden: a select question, or a question asking for a prediction
// first, is open and not yet answered.
bool litHidden(const AppState& state);

// The group an element of the single layout belongs to: its group for x and y, the index itself
// for a mean or rstd cube, -1 for dweight/dbias (no one group).
int64_t groupOfCube(const ReductionPlan& plan, CubeRef ref);

// What a hover lights in backward mode: the element's group (its gradient couples the group), the
// element alone (BatchNorm evaluation: no coupling), or, on dweight/dbias, every element it sums.
enum class LitPartition { Groups, Elements, Affine };
LitPartition litPartition(const AppState& state);
// The tag the lit cubes carry for the active element under that partition (nullopt: nothing lit).
// Ignores questions and the stepper: see singleLit.
std::optional<int64_t> litTag(const AppState& state);

// Per-element colours from the kernel stepper for the elements of one group.
struct ElementTint {
  int64_t group = -1;
  std::vector<int64_t> flat;     // elements
  std::vector<glm::vec3> color;  // their colours
  std::vector<uint8_t> covered;  // 1: drawn lit (outlined), 0: drawn normally; empty: all lit
  uint64_t revision = 0;         // changes whenever anything above changes (the stepper's revision)
};
// The tint of a stepper highlight: each element coloured by the thread that loads it.
ElementTint tintOf(const StepperHighlight& highlight);

// What the single layout lights this frame. `stepper` is the stepper's highlight while it runs
// (nullptr otherwise); `drawn_backward` whether the view draws the backward's tensors (the sheet
// draws x and y even in backward mode).
struct SingleLit {
  std::optional<int64_t> tag;       // the lit cubes' tag (a group, or an element, see litTag)
  std::optional<ElementTint> tint;  // the stepper's colours, when it runs
};
SingleLit singleLit(const AppState& state, const StepperHighlight* stepper, bool drawn_backward);

// The group lit in compare panel `panel`: the active element's group under that panel's layer
// (only x and y elements have one), nothing while a question hides it or the panel has no layer.
std::optional<int64_t> compareLit(const AppState& state, int panel);

}  // namespace normviz
