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

enum class CubeState : int { Faded = 0, Normal = 1, Lit = 2 };

// What one instanced cube needs: 32 bytes, uploaded as-is to the instance buffer.
struct CubeInstance {
  glm::vec3 center{0.0f};
  glm::vec4 color{1.0f};  // rgb, a = size factor
  float state = 1.0f;     // CubeState as float
};
static_assert(sizeof(CubeInstance) == 32,
              "the vertex layout in renderer.cpp assumes 32-byte instances");

// The value scales of the current snapshot: x (sequential), y (diverging on zero), rstd
// (sequential).
struct ValueScales {
  ValueScale x, y, rstd;
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

// Everything the instances of a frame depend on: the scene rebuilds them when this changes. The
// stepper's tint counts by its revision, since a different lane or stage can cover as many cubes.
struct ColorKey {
  uint64_t result_version = 0;
  LayoutMode layout = LayoutMode::Single;
  ColorBy color_by = ColorBy::Value;
  ColorMap input_map = ColorMap::Viridis;
  std::optional<int64_t> lit;  // the lit group (single layout) or the hovered element (compare)
  std::optional<uint64_t> tint_revision;
  bool operator==(const ColorKey&) const = default;
};
ColorKey colorKey(const AppState& state, std::optional<int64_t> lit, const ElementTint* tint);

// Instances of the single layout, sections in order x, mean, rstd, y.
// `lit_group`: the group whose region is lit (others fade); nullopt lights nothing and fades
// nothing.
std::vector<CubeInstance> singleInstances(const Snapshot& snap, const SceneLayout& layout,
                                          ColorBy color_by, ColorMap input_map,
                                          std::optional<int64_t> lit_group,
                                          const ElementTint* tint = nullptr);

// Instances of one compare panel: the input only, coloured by value or by `plan`'s groups, with the
// group of `hovered_flat` lit.
std::vector<CubeInstance> compareInstances(const Tensor& x, const SceneLayout& layout,
                                           const ReductionPlan& plan, ColorBy color_by,
                                           ColorMap input_map, std::optional<int64_t> hovered_flat);

// The cube a flat instance index of singleInstances() stands for.
CubeRef cubeOfInstance(const SceneLayout& layout, int64_t instance);

}  // namespace normviz
