// Per-cube colour and state for the renderer: value or group colours, the lit region and the fade.
// No OpenGL here, so tests can count lit cubes directly.
#pragma once

#include <cstdint>
#include <glm/glm.hpp>
#include <optional>
#include <vector>

#include "app_state.hpp"
#include "scene_layout.hpp"

namespace normviz {

// How a cube is drawn. ByGroup cubes are lit when their group is the lit group, faded when another
// group is lit, normal when none is: the shader decides from one uniform, so hovering another
// group uploads nothing.
enum class CubeState : int { Faded = 0, Normal = 1, Lit = 2, ByGroup = 3 };

// What one instanced cube needs: 36 bytes, uploaded as-is to the instance buffer.
struct CubeInstance {
  glm::vec3 center{0.0f};
  glm::vec3 color{1.0f};
  float group = -1.0f;  // the cube's group in the plan it is drawn for (exact: groups < 2^24)
  float state = static_cast<float>(CubeState::ByGroup);
  float size = 1.0f;  // edge length (statistics cubes are larger where their groups are far apart)
};
static_assert(sizeof(CubeInstance) == 36,
              "the vertex layout in renderer.cpp assumes 36-byte instances");

// The state a cube is drawn in while `lit_group` is lit (nullopt: none), as the shader decides.
CubeState drawnState(const CubeInstance& cube, std::optional<int64_t> lit_group);

// The value scales of the current snapshot: x (sequential), y (diverging on zero), rstd
// (sequential); in backward mode dy, dx, the two sums and dweight/dbias (all diverging).
struct ValueScales {
  ValueScale x, y, rstd;
  ValueScale dy, dx, reduced;  // reduced: both per-group sums, dweight and dbias
};
ValueScales valueScales(const Snapshot& snap, ColorMap input_map);

// Optional per-element override from the kernel stepper: colours for the elements of one group.
struct ElementTint {
  int64_t group = -1;
  std::vector<int64_t> flat;     // elements
  std::vector<glm::vec3> color;  // their colours
  std::vector<uint8_t> covered;  // 1: drawn lit (outlined), 0: drawn normally; empty: all lit
  uint64_t revision = 0;         // changes whenever anything above changes (the stepper's revision)
};

// Everything the instances depend on: the scene rebuilds them when this changes (not on hover:
// the lit group is a uniform). The stepper's tint counts by its revision, since a different lane or
// stage can cover as many cubes.
// What a hover lights in backward mode: the element's group (its gradient couples the group), the
// element alone (BatchNorm evaluation: no coupling), or, on dweight/dbias, every element it sums.
enum class LitPartition { Groups, Elements, Affine };
LitPartition litPartition(const AppState& state);
// The tag the lit cubes carry for the active cube under that partition (nullopt: nothing lit).
std::optional<int64_t> litTag(const AppState& state);

struct ColorKey {
  uint64_t result_version = 0;
  bool backward = false;
  LitPartition partition = LitPartition::Groups;
  LayoutMode layout = LayoutMode::Single;
  ColorBy color_by = ColorBy::Value;
  ColorMap input_map = ColorMap::Viridis;
  std::optional<uint64_t> tint_revision;
  float explode = 1.0f, aspect = 1.0f;  // positions move with them
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
// mean, rstd, y and the affine column, tagged for `partition` (see LitPartition).
std::vector<CubeInstance> backwardInstances(const Snapshot& snap, const SceneLayout& layout,
                                            ColorBy color_by, LitPartition partition);

// Instances of one compare panel: the input only, coloured by value or by `plan`'s groups, tagged
// with `plan`'s groups.
std::vector<CubeInstance> compareInstances(const Tensor& x, const SceneLayout& layout,
                                           const ReductionPlan& plan, ColorBy color_by,
                                           ColorMap input_map);

// The cube a flat instance index of singleInstances() stands for.
CubeRef cubeOfInstance(const SceneLayout& layout, int64_t instance);

}  // namespace normviz
