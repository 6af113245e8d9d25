// Per-cube colour and state for the renderer: value or group colours, the lit region and the fade.
// No OpenGL here, so tests can count lit cubes directly.
#pragma once

#include <cstdint>
#include <glm/glm.hpp>
#include <optional>
#include <vector>

#include "app_state.hpp"
#include "cube_instance.hpp"
#include "lit_region.hpp"
#include "scene_layout.hpp"

namespace normviz {

// The value scales of the current snapshot: x (sequential), y (diverging on zero), rstd
// (sequential); in backward mode dy, dx, the two sums and dweight/dbias (all diverging).
struct ValueScales {
  ValueScale x, y, rstd;
  ValueScale dy, dx, reduced;  // reduced: both per-group sums, dweight and dbias
};
ValueScales valueScales(const Snapshot& snap, ColorMap input_map);

// Everything the instances depend on: the scene rebuilds them when this changes (not on hover:
// the lit group is a uniform). The stepper's tint counts by its revision, since a different lane or
// stage can cover as many cubes.
struct ColorKey {
  uint64_t result_version = 0;
  bool backward = false;
  LitPartition partition = LitPartition::Groups;
  LayoutMode layout = LayoutMode::Single;
  ColorBy color_by = ColorBy::Value;
  ColorMap input_map = ColorMap::Viridis;
  std::optional<uint64_t> tint_revision;
  float explode = 1.0f, aspect = 1.0f;  // positions move with them
  bool withheld = false;  // a lesson's question is open: the statistics' sections wait
  bool operator==(const ColorKey&) const = default;
};
ColorKey colorKey(const AppState& state, const ElementTint* tint);

// The layout the state asks for (explode, the view's aspect).
LayoutOptions layoutOptions(const AppState& state);

// Instances of the single layout, sections in order x, mean, rstd, y, each cube tagged with its
// group. A stepper tint recolours its group's elements in x and y and fixes their state (lit where
// covered); its group is then the lit one.
std::vector<CubeInstance> singleInstances(const Snapshot& snap, const SceneLayout& layout,
                                          ColorBy color_by, ColorMap input_map,
                                          const ElementTint* tint = nullptr);

// Instances of the backward mode: dy, Σ dy·γ, Σ dy·γ·x̂, dx, dweight, dbias in the places of x,
// mean, rstd, y and the affine column, tagged for `partition` (see LitPartition). A stepper tint
// recolours its group's elements in dy and dx as singleInstances does in x and y.
std::vector<CubeInstance> backwardInstances(const Snapshot& snap, const SceneLayout& layout,
                                            ColorBy color_by, LitPartition partition,
                                            const ElementTint* tint = nullptr);

// Instances of one compare panel: the input only, coloured by value or by `plan`'s groups, tagged
// with `plan`'s groups.
std::vector<CubeInstance> compareInstances(const Tensor& x, const SceneLayout& layout,
                                           const ReductionPlan& plan, ColorBy color_by,
                                           ColorMap input_map);

// The cube a flat instance index of singleInstances() stands for.
CubeRef cubeOfInstance(const SceneLayout& layout, int64_t instance);

}  // namespace normviz
