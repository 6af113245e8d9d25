// Where every cube goes: the input tensor, its statistics and its output laid out in world space,
// and which cube a ray hits. Plain math on the CPU, no OpenGL, so tests can check it directly.
//
// Every shape is seen through four roles, sample n, plate c, row h and column w:
//   rank 4 (N, C, H, W)  n, c, h, w (a W longer than kFoldAbove with H = 1 is folded like D below)
//   rank 3 (N, L, D)     n, c = L, and D folded into an h × w tile when longer than kFoldAbove
//   rank 2 (R, D)        c = R, D folded likewise;   rank 1 (D): one folded tile
// Two arrangements, blended by `explode` in [0, 1]:
//   block  (0): each sample a C×H×W block (W across, H up, C in depth), the Group Normalization
//               figure; rows of rank 2/3 tensors stack downward instead of in depth.
//   plates (1): each (n, c) an H×W plate facing the viewer, a sample's plates in a grid, samples in
//               a grid, gaps between them. No cube stands in front of another, so every reduction
//               region is visible whole.
// Sections: x large on the left; to its right a column of mean, rstd and y, each a copy of x's
// arrangement at a reduced scale (a statistic cube at its group's centroid), so every statistic
// sits where its group sits in x and every kept axis lines up, while x keeps most of the view.
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

// In backward mode the same places hold dy, Σ dy·γ, Σ dy·γ·x̂ and dx; DWeight and DBias (the
// affine parameters' gradients) appear only there.
enum class Section { Input, Mean, Rstd, Output, DWeight, DBias };
inline constexpr int kSectionCount = 6;
const char* sectionName(Section s);  // "x", "mean", "rstd", "y", "dweight", "dbias"

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

// A labelled arrow along one axis of the input, for the overlay to draw. The arrow runs a gap
// outside the cubes; its text goes on the side of the arrow away from `block_center`.
struct AxisLabel {
  std::string text;  // "C = 4", "D = 768 as 24×32" (folded into 24 rows of 32)
  glm::vec3 from, to;
  glm::vec3 block_center;
  // A header arrow is drawn in screen space above the section's top edge (from.y), headers stacked
  // upward in order, each with its name above it; from/to give its horizontal extent.
  bool header = false;
};

// A name under one sample of the plates arrangement ("n=2"), drawn when it fits the sample's width.
struct SampleTag {
  std::string text;
  glm::vec3 anchor;  // the sample's bottom left corner
  float width = 0;   // the sample's width in world units
};

// How a shape's axes map onto plates, rows and columns (see the file comment).
struct LayoutRoles {
  int64_t n = 1, c = 1, h = 1, w = 1;
  int axis_n = -1, axis_c = -1, axis_h = -1, axis_w = -1;  // the tensor axis in each role
  int folded_axis = -1;                                    // the axis split into h × w rows, or -1
  bool rows_only = false;  // plates are single rows (rank 2/3 unfolded): block mode stacks down
};
inline constexpr int64_t kFoldAbove = 32;  // a last axis longer than this folds into a tile
LayoutRoles layoutRoles(const Shape& shape);

struct LayoutOptions {
  float explode = 1.0f;  // 0: compact blocks, 1: separate plates (the default: nothing hidden)
  float aspect = 1.4f;   // width / height the plate grid aims for
  bool affine = false;   // add the dweight and dbias sections (the backward mode with affine)
};

struct SceneLayout {
  static constexpr float kPitch = 1.25f;  // distance between neighbouring cube centres
  static constexpr float kCube = 1.0f;    // cube edge length
  Shape shape;
  LayoutRoles roles;
  float explode = 1.0f;
  bool has_stats = false;
  std::vector<glm::vec3> element_pos;  // per flat index, relative to a section origin
  std::vector<glm::vec3> group_pos;    // per group (centroid of its elements)
  std::vector<glm::vec3> affine_pos;   // per affine index (centroid of the elements it scales)
  float stat_size = kCube;             // edge of a statistics cube: larger when groups are apart
  std::array<glm::vec3, kSectionCount> origin{};
  std::array<float, kSectionCount> scale{1.0f, 1.0f, 1.0f,
                                         1.0f, 1.0f, 1.0f};  // origin + scale·local
  std::array<Box, kSectionCount> bounds{};  // world bounds per section (empty when not shown)
  std::vector<AxisLabel> labels;
  std::vector<SampleTag> tags;
  Box world;  // bounds of every cube and axis arrow

  // What the camera must keep in view: the corners of every section and the arrows' ends.
  std::vector<glm::vec3> framePoints() const;

  int64_t count(Section s) const;
  glm::vec3 position(CubeRef ref) const;
  // A cube's edge in world units.
  float size(Section s) const {
    return scale[static_cast<size_t>(s)] * (isElementSection(s) ? kCube : stat_size);
  }
  static bool isElementSection(Section s) { return s == Section::Input || s == Section::Output; }
  // The per-cube positions a section draws (element, group or affine centroids).
  const std::vector<glm::vec3>& local(Section s) const {
    if (isElementSection(s)) return element_pos;
    return s == Section::Mean || s == Section::Rstd ? group_pos : affine_pos;
  }
};

// Lays out `shape`. With a plan, adds the mean/rstd/output sections (the plan's shape must match).
SceneLayout makeLayout(const Shape& shape, const ReductionPlan* plan,
                       const LayoutOptions& options = {});

// The nearest cube the ray origin + t·dir (t > 0) passes through, by slab tests against each
// section's bounds and then each cube.
std::optional<CubeRef> pickCube(const SceneLayout& layout, glm::vec3 origin, glm::vec3 dir);

// Ray against an axis-aligned box; the entry distance, or nullopt when missed.
std::optional<float> rayBox(glm::vec3 origin, glm::vec3 inv_dir, const Box& box);

}  // namespace normviz
