// Where every cube goes: the input tensor, its statistics and its output laid out in world space,
// and which cube a ray hits. Plain math on the CPU, no OpenGL, so tests can check it directly.
//
// Layout (the classic Group Normalization figure): each sample n is a C×H×W block with W across
// (+x), H up (+y, h = 0 on top) and C in depth (-z, c = 0 in front); samples stand side by side
// with a gap. Rank 3 (N, C, L) / (B, T, C) is N blocks of d1 rows (up) × d2 columns (across);
// rank 2 is one matrix, rows up and columns across; rank 1 a single row.
// The statistics sit below the input: each group's mean (and rstd) cube at the centroid of the
// group's cubes, so a kept axis lines up with the input (BatchNorm's (C) as a row along C,
// GroupNorm's (N, G) one column per sample, each at the depth of its channels). The output y sits
// at the bottom.
#pragma once

#include <array>
#include <cstdint>
#include <glm/glm.hpp>
#include <optional>
#include <string>
#include <vector>

#include "normviz/plan.hpp"
#include "normviz/tensor.hpp"

namespace normviz {

enum class Section { Input, Mean, Rstd, Output };
inline constexpr int kSectionCount = 4;
const char* sectionName(Section s);  // "x", "mean", "rstd", "y"

// One cube: a flat element index for Input/Output, a group index for Mean/Rstd.
struct CubeRef {
  Section section = Section::Input;
  int64_t index = 0;
  bool operator==(const CubeRef&) const = default;
};

struct Box {
  glm::vec3 lo{0.0f}, hi{0.0f};
  bool empty() const { return lo.x > hi.x; }
};

// A labelled arrow along one axis of the input block, for the overlay to draw. The arrow runs a
// gap outside the block's edge; its text goes on the side of the arrow away from `block_center`,
// so neither covers a cube.
struct AxisLabel {
  std::string text;  // "C = 4"
  glm::vec3 from, to;
  glm::vec3 block_center;
};

struct SceneLayout {
  static constexpr float kPitch = 1.25f;  // distance between neighbouring cube centres
  static constexpr float kCube = 1.0f;    // cube edge length
  Shape shape;
  bool has_stats = false;
  std::vector<glm::vec3> element_pos;  // per flat index, relative to a section origin
  std::vector<glm::vec3> group_pos;    // per group (centroid of its elements)
  std::array<glm::vec3, kSectionCount> origin{};
  std::array<Box, kSectionCount> bounds{};  // world bounds per section (empty when not shown)
  std::vector<AxisLabel> labels;
  Box world;  // bounds of every cube and axis arrow

  // What the camera must keep in view: the corners of every section and the arrows' ends.
  std::vector<glm::vec3> framePoints() const;

  int64_t count(Section s) const;
  glm::vec3 position(CubeRef ref) const;
};

// Lays out `shape`. With a plan, adds the mean/rstd/output sections (the plan's shape must match).
SceneLayout makeLayout(const Shape& shape, const ReductionPlan* plan);

// The nearest cube the ray origin + t·dir (t > 0) passes through, by slab tests against each
// section's bounds and then each cube.
std::optional<CubeRef> pickCube(const SceneLayout& layout, glm::vec3 origin, glm::vec3 dir);

// Ray against an axis-aligned box; the entry distance, or nullopt when missed.
std::optional<float> rayBox(glm::vec3 origin, glm::vec3 inv_dir, const Box& box);

}  // namespace normviz
