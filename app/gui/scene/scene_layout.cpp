// Cube positions for the input, statistics and output sections, and ray picking against them.
#include "scene_layout.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <tuple>
#include <unordered_map>

namespace normviz {

const char* sectionName(Section s) {
  switch (s) {
    case Section::Input:
      return "x";
    case Section::Mean:
      return "mean";
    case Section::Rstd:
      return "rstd";
    case Section::Output:
      return "y";
    case Section::DWeight:
      return "dweight";
    case Section::DBias:
      return "dbias";
  }
  return "?";
}

int64_t SceneLayout::count(Section s) const {
  if (s == Section::Input) return static_cast<int64_t>(element_pos.size());
  if (!has_stats) return 0;
  return static_cast<int64_t>(local(s).size());
}

glm::vec3 SceneLayout::position(CubeRef ref) const {
  const auto k = static_cast<size_t>(ref.section);
  return origin[k] + scale[k] * local(ref.section)[static_cast<size_t>(ref.index)];
}

namespace {

constexpr float kHalf = SceneLayout::kCube * 0.5f;
constexpr float kP = SceneLayout::kPitch;

Box boundsOf(const std::vector<glm::vec3>& points, glm::vec3 origin, float half = kHalf,
             float scale = 1.0f) {
  Box b;
  b.lo = glm::vec3(std::numeric_limits<float>::max());
  b.hi = glm::vec3(std::numeric_limits<float>::lowest());
  for (const auto& p : points) {
    b.lo = glm::min(b.lo, origin + scale * p - glm::vec3(half));
    b.hi = glm::max(b.hi, origin + scale * p + glm::vec3(half));
  }
  return b;
}

// The smallest distance between two of `points` (inf for fewer than two), with a hash grid whose
// cells are `cell` wide: each point is compared with the points of its 27 neighbouring cells, so
// any pair closer than `cell` is found, in time linear in the points.
float minDistance(const std::vector<glm::vec3>& points, float cell) {
  float best = std::numeric_limits<float>::infinity();
  if (points.size() < 2) return best;
  std::unordered_map<uint64_t, std::vector<uint32_t>> cells;
  auto key = [&](glm::ivec3 k) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(k.x) & 0x1FFFFF) << 42) |
           (static_cast<uint64_t>(static_cast<uint32_t>(k.y) & 0x1FFFFF) << 21) |
           static_cast<uint64_t>(static_cast<uint32_t>(k.z) & 0x1FFFFF);
  };
  auto cell_of = [&](glm::vec3 p) { return glm::ivec3(glm::floor(p / cell)); };
  for (uint32_t i = 0; i < points.size(); ++i) cells[key(cell_of(points[i]))].push_back(i);
  for (uint32_t i = 0; i < points.size(); ++i) {
    const glm::ivec3 k = cell_of(points[i]);
    for (int dx = -1; dx <= 1; ++dx)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dz = -1; dz <= 1; ++dz) {
          const auto it = cells.find(key(k + glm::ivec3(dx, dy, dz)));
          if (it == cells.end()) continue;
          for (uint32_t j : it->second)
            if (j > i) best = std::min(best, glm::length(points[j] - points[i]));
        }
  }
  return best;
}

Box merge(const Box& a, const Box& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return {glm::min(a.lo, b.lo), glm::max(a.hi, b.hi)};
}

// The columns of a folded axis of length d: a divisor near sqrt(d) when there is one (768 -> 32,
// so 24 rows of 32), otherwise ceil(sqrt(d)) with a short last row.
int64_t foldColumns(int64_t d) {
  const auto root = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(d))));
  for (int64_t cols = root; cols <= 2 * root; ++cols)
    if (d % cols == 0) return cols;
  return root;
}

// The distinct values of ceil(count / k) for k = 1..count, each with the smallest k giving it: the
// only grid widths worth trying (O(sqrt(count)) of them).
std::vector<int64_t> gridWidths(int64_t count) {
  std::vector<int64_t> widths;
  int64_t last_rows = -1;
  for (int64_t k = 1; k <= count;) {
    const int64_t rows = (count + k - 1) / k;
    if (rows != last_rows) widths.push_back(k), last_rows = rows;
    // Jump to the next k with fewer rows.
    const int64_t next = rows > 1 ? (count + rows - 2) / (rows - 1) : count + 1;
    k = std::max(k + 1, next);
  }
  return widths;
}

struct Grid {
  int64_t cols = 1, rows = 1;
  float width(float cell_w, float gap) const {
    return static_cast<float>(cols) * (cell_w + gap) - gap;
  }
  float height(float cell_h, float gap) const {
    return static_cast<float>(rows) * (cell_h + gap) - gap;
  }
};

// How much of a view of the given aspect (width / height) an x section of w × h leaves to each
// cube: the scene is x plus, with statistics, the column at `column` scale beside it. Larger is
// better; a few empty grid cells cost a little.
double fitScore(float w, float h, float aspect, float column, int sections, double waste) {
  double total_w = w, total_h = h;
  if (column > 0.0f) {
    total_w = w * (1.0 + column) + std::max(3.0 * SceneLayout::kPitch, 0.06 * w);
    total_h = std::max<double>(
        h, sections * column * h +
               (sections - 1) * std::max(3.0 * SceneLayout::kPitch, 0.1 * h * column));
  }
  return 1.0 / std::max(total_w / aspect, total_h) * (1.0 - 0.2 * waste);
}

// The two nested grids (plates within a sample, samples side by side) that give the cubes the most
// room in the view; each level tries only the widths that change its row count.
std::pair<Grid, Grid> bestGrids(int64_t plates, int64_t samples, float plate_w, float plate_h,
                                float plate_gap, float sample_gap, float aspect, float column,
                                int sections) {
  std::pair<Grid, Grid> best{{plates, 1}, {samples, 1}};
  double best_score = -1.0;
  for (int64_t pc : gridWidths(plates)) {
    const Grid p{pc, (plates + pc - 1) / pc};
    const float sw = p.width(plate_w, plate_gap), sh = p.height(plate_h, plate_gap);
    for (int64_t sc : gridWidths(samples)) {
      const Grid q{sc, (samples + sc - 1) / sc};
      const double waste =
          static_cast<double>(p.cols * p.rows - plates) / static_cast<double>(p.cols * p.rows) +
          static_cast<double>(q.cols * q.rows - samples) / static_cast<double>(q.cols * q.rows);
      const double score = fitScore(q.width(sw, sample_gap), q.height(sh, sample_gap), aspect,
                                    column, sections, waste);
      if (score > best_score) best_score = score, best = {p, q};
    }
  }
  return best;
}

std::string axisName(const std::vector<std::string>& names, int axis) {
  return axis >= 0 && axis < static_cast<int>(names.size()) ? names[static_cast<size_t>(axis)]
                                                            : std::string("?");
}

}  // namespace

LayoutRoles layoutRoles(const Shape& shape) {
  LayoutRoles r;
  const int rank = shape.rank();
  auto fold = [&](int axis) {
    const int64_t d = shape[axis];
    r.axis_w = axis;
    if (d > kFoldAbove) {
      r.folded_axis = axis;
      r.w = foldColumns(d);
      r.h = (d + r.w - 1) / r.w;
      r.axis_h = axis;
    } else {
      r.w = d;
      r.rows_only = true;
    }
  };
  if (rank == 4) {
    r.axis_n = 0, r.axis_c = 1;
    r.n = shape[0], r.c = shape[1];
    if (shape[2] == 1 && shape[3] > kFoldAbove) {
      fold(3);
      r.rows_only = false;
    } else {
      r.axis_h = 2, r.axis_w = 3;
      r.h = shape[2], r.w = shape[3];
    }
  } else if (rank == 3) {
    r.axis_n = 0, r.axis_c = 1;
    r.n = shape[0], r.c = shape[1];
    fold(2);
  } else if (rank == 2) {
    r.axis_c = 0;
    r.c = shape[0];
    fold(1);
  } else if (rank == 1) {
    fold(0);
    r.rows_only = false;
  }
  return r;
}

namespace {

// Where element (n, c, h, w) sits: between the compact blocks (explode 0: C in depth, samples in a
// grid) and the plates (explode 1: a sample's plates in a grid, samples in a grid).
struct Placement {
  LayoutRoles r;
  float t = 1.0f;  // explode
  float plate_w = 0, plate_h = 0, plate_gap = 0, sample_gap = 0, sample_w = 0, sample_h = 0;
  float block_w = 0, block_h = 0;
  Grid plates, samples, blocks;

  glm::vec3 block(int64_t n, int64_t c, int64_t h, int64_t w) const {
    const glm::vec3 sample(static_cast<float>(n % blocks.cols) * (block_w + sample_gap),
                           -static_cast<float>(n / blocks.cols) * (block_h + sample_gap), 0.0f);
    if (r.rows_only)
      return sample + glm::vec3(static_cast<float>(w) * kP, -static_cast<float>(c) * kP, 0.0f);
    return sample + glm::vec3(static_cast<float>(w) * kP, -static_cast<float>(h) * kP,
                              -static_cast<float>(c) * kP);
  }
  glm::vec3 plate(int64_t n, int64_t c, int64_t h, int64_t w) const {
    const glm::vec3 sample(static_cast<float>(n % samples.cols) * (sample_w + sample_gap),
                           -static_cast<float>(n / samples.cols) * (sample_h + sample_gap), 0.0f);
    const glm::vec3 plate(static_cast<float>(c % plates.cols) * (plate_w + plate_gap),
                          -static_cast<float>(c / plates.cols) * (plate_h + plate_gap), 0.0f);
    return sample + plate +
           glm::vec3(static_cast<float>(w) * kP, -static_cast<float>(h) * kP, 0.0f);
  }
  glm::vec3 operator()(int64_t n, int64_t c, int64_t h, int64_t w) const {
    if (t <= 0.0f) return block(n, c, h, w);
    if (t >= 1.0f) return plate(n, c, h, w);
    return glm::mix(block(n, c, h, w), plate(n, c, h, w), t);
  }
};

// The grids that fit the view's aspect, keeping `column` of the width for the statistics column
// beside x and `sections` sections in it.
Placement placementFor(const LayoutRoles& r, const LayoutOptions& options, float column,
                       int sections) {
  Placement p;
  p.r = r;
  p.t = std::clamp(options.explode, 0.0f, 1.0f);
  const auto fw = static_cast<float>(r.w), fh = static_cast<float>(r.h),
             fc = static_cast<float>(r.c);
  // Rows of a matrix sit closer.
  p.plate_w = fw * kP;
  p.plate_h = fh * kP;
  p.plate_gap = r.rows_only ? 0.6f * kP : kP;
  p.sample_gap = 2.5f * kP;
  std::tie(p.plates, p.samples) = bestGrids(r.c, r.n, p.plate_w, p.plate_h, p.plate_gap,
                                            p.sample_gap, options.aspect, column, sections);
  p.sample_w = p.plates.width(p.plate_w, p.plate_gap);
  p.sample_h = p.plates.height(p.plate_h, p.plate_gap);
  // Blocks: C in depth (rows of a matrix stacked downward), samples in their own grid; a block seen
  // from the side is about half its depth wider.
  p.block_w = p.plate_w;
  p.block_h = r.rows_only ? fc * kP : p.plate_h;
  p.blocks = bestGrids(1, r.n, p.block_w + (r.rows_only ? 0.0f : fc * kP * 0.5f), p.block_h, 0.0f,
                       p.sample_gap, options.aspect, column, sections)
                 .second;
  return p;
}

// Every element's position. Flat index order is row-major over the shape; with a folded last
// axis, (h, w) come from it.
void placeElements(SceneLayout& layout, const Shape& shape, const Placement& pos) {
  const LayoutRoles& r = pos.r;
  const int64_t numel = shape.numel();
  layout.element_pos.resize(static_cast<size_t>(numel));
  const int64_t last = shape.rank() > 0 ? shape[shape.rank() - 1] : 1;
  const int64_t per_plate = r.folded_axis >= 0 ? last : r.h * r.w;
  for (int64_t i = 0; i < numel; ++i) {
    const int64_t within = i % per_plate, plate = i / per_plate;
    const int64_t c = plate % r.c, n = plate / r.c;
    const int64_t h = within / r.w, w = within % r.w;
    layout.element_pos[static_cast<size_t>(i)] = pos(n, c, h, w);
  }
  for (auto& b : layout.bounds) b = Box{glm::vec3(1.0f), glm::vec3(-1.0f)};
  layout.bounds[0] = boundsOf(layout.element_pos, layout.origin[0]);
  layout.world = layout.bounds[0];
}

// The centroid of the elements of each value of `index_of` (a group, an affine parameter).
template <typename IndexOf>
std::vector<glm::vec3> centroids(const SceneLayout& layout, int64_t count,
                                 const IndexOf& index_of) {
  std::vector<glm::dvec3> sums(static_cast<size_t>(count), glm::dvec3(0.0));
  std::vector<int64_t> counts(static_cast<size_t>(count), 0);
  for (size_t i = 0; i < layout.element_pos.size(); ++i) {
    const auto k = static_cast<size_t>(index_of(static_cast<int64_t>(i)));
    sums[k] += glm::dvec3(layout.element_pos[i]);
    ++counts[k];
  }
  std::vector<glm::vec3> out(sums.size());
  for (size_t k = 0; k < sums.size(); ++k)
    out[k] = glm::vec3(sums[k] / static_cast<double>(std::max<int64_t>(counts[k], 1)));
  return out;
}

// The statistics: each group's mean/rstd cube at its elements' centroid, sized to the room between
// neighbours; then the column right of x: mean, rstd, y (and dweight, dbias), each x's arrangement
// at `column_scale`, a title apart.
void placeStatistics(SceneLayout& layout, const ReductionPlan& plan, const Placement& p,
                     float column_scale, bool affine) {
  layout.has_stats = true;
  layout.group_pos =
      centroids(layout, plan.groupCount(), [&](int64_t i) { return plan.groupOf(i); });
  // A statistic cube grows to most of the room between neighbouring centroids (up to most of a
  // plate, at most 4 cubes), so a few statistics far apart are not specks.
  const float cap = std::clamp(0.8f * std::min(p.plate_w, p.plate_h), SceneLayout::kCube,
                               4.0f * SceneLayout::kCube);
  // Cells about twice the mean spacing keep the search linear (a handful of points per cell);
  // nothing closer than a cell is missed, and anything farther only needs to be at least that.
  const Box& xb = layout.bounds[0];
  const float area = std::max((xb.hi.x - xb.lo.x) * (xb.hi.y - xb.lo.y), 1.0f);
  const float spacing = std::sqrt(area / static_cast<float>(plan.groupCount()));
  const float cell = std::clamp(2.0f * spacing, SceneLayout::kPitch, cap / 0.75f);
  const float nearest = std::min(minDistance(layout.group_pos, cell), cell);
  layout.stat_size = std::clamp(0.75f * nearest, SceneLayout::kCube, cap);
  // The affine parameters' centroids, for dweight and dbias (their gradients sum over them).
  if (affine)
    layout.affine_pos = centroids(layout, plan.affineShape().numel(),
                                  [&](int64_t i) { return plan.affineIndexOf(i); });
  const glm::vec3 size = xb.hi - xb.lo;
  const float sc = column_scale;
  const float gap_x = std::max(3.0f * kP, 0.06f * size.x);
  const float gap_y = std::max(3.0f * kP, 0.1f * size.y * sc);
  float cursor = xb.hi.y;
  for (Section s :
       {Section::Mean, Section::Rstd, Section::Output, Section::DWeight, Section::DBias}) {
    if (layout.local(s).empty()) continue;
    const auto& local = layout.local(s);
    const int k = static_cast<int>(s);
    layout.scale[k] = sc;
    // Place the copy of x's frame so its top left is at (right of x, cursor).
    layout.origin[k] = glm::vec3(xb.hi.x + gap_x - sc * xb.lo.x, cursor - sc * xb.hi.y, 0.0f);
    layout.bounds[k] = boundsOf(local, layout.origin[k], 0.5f * layout.size(s), sc);
    layout.world = merge(layout.world, layout.bounds[k]);
    cursor -= sc * size.y + gap_y;
  }
}

// The axis arrows' shared geometry: a gap outside the cubes of sample 0.
struct AxisFrame {
  std::vector<std::string> names;
  glm::vec3 first;  // element (0, 0, 0, 0)
  float gap = 0.9f, left = 0, top = 0, front = kHalf;
  std::string w_text;  // "W = 5", or "D = 12 as 3×4" for a folded last axis
  std::string nameOf(int axis, int64_t size) const {
    return axisName(names, axis) + " = " + std::to_string(size);
  }
};

// Compact blocks: W under the block, C (a matrix's rows) or H down its left side, C along its
// depth, N across the samples.
void labelBlocks(SceneLayout& layout, const Placement& pos, const AxisFrame& f) {
  const LayoutRoles& r = pos.r;
  const auto fw = static_cast<float>(r.w), fh = static_cast<float>(r.h),
             fc = static_cast<float>(r.c);
  const bool folded = r.folded_axis >= 0;
  const float bottom_row = r.rows_only ? fc - 1.0f : fh - 1.0f;
  const float bottom = f.first.y - bottom_row * kP - kHalf - f.gap;
  const float right = f.first.x + (fw - 1.0f) * kP + kHalf;
  const float back = r.rows_only ? -kHalf : -(fc - 1.0f) * kP - kHalf;
  const glm::vec3 center(0.5f * (f.first.x + right), 0.5f * (f.top + bottom),
                         0.5f * (f.front + back));
  if (r.axis_w >= 0)
    layout.labels.push_back(
        {f.w_text, {f.first.x - kHalf, bottom, f.front}, {right, bottom, f.front}, center});
  if (r.rows_only && r.axis_c >= 0 && r.c > 1)
    layout.labels.push_back(
        {f.nameOf(r.axis_c, r.c), {f.left, f.top, 0.0f}, {f.left, bottom + f.gap, 0.0f}, center});
  if (!r.rows_only && !folded && r.axis_h >= 0)
    layout.labels.push_back(
        {f.nameOf(r.axis_h, r.h), {f.left, f.top, back}, {f.left, bottom + f.gap, back}, center});
  if (!r.rows_only && r.axis_c >= 0)
    layout.labels.push_back(
        {f.nameOf(r.axis_c, r.c), {f.left, bottom, f.front}, {f.left, bottom, back}, center});
  if (r.axis_n >= 0 && r.n > 1) {
    const float all_right = pos(std::min(r.n, pos.blocks.cols) - 1, 0, 0, r.w - 1).x + kHalf;
    std::string text = f.nameOf(r.axis_n, r.n);
    if (pos.blocks.cols < r.n) text += ", " + std::to_string(pos.blocks.cols) + " a row";
    layout.labels.push_back({text,
                             {f.first.x - kHalf, f.top + f.gap, back},
                             {all_right, f.top + f.gap, back},
                             glm::vec3(0.5f * all_right, center.y, center.z)});
  }
}

// Plates: W along the first plate's top and C along the first row of plates as header arrows above
// the section, H down the first plate's left side; each sample named under its bottom left corner.
void labelPlates(SceneLayout& layout, const Placement& pos, const AxisFrame& f) {
  const LayoutRoles& r = pos.r;
  const auto fw = static_cast<float>(r.w), fh = static_cast<float>(r.h);
  const bool folded = r.folded_axis >= 0;
  const float plate_bottom = f.first.y - (fh - 1.0f) * kP - kHalf;
  const float plate_right = f.first.x + (fw - 1.0f) * kP + kHalf;
  const glm::vec3 center(0.5f * (f.first.x + plate_right), 0.5f * (f.top + plate_bottom), 0.0f);
  const float front = f.front, top = f.top;
  if (r.axis_w >= 0)
    layout.labels.push_back(
        {f.w_text, {f.first.x - kHalf, top, front}, {plate_right, top, front}, center, true});
  if (!folded && !r.rows_only && r.axis_h >= 0 && r.h > 1)
    layout.labels.push_back(
        {f.nameOf(r.axis_h, r.h), {f.left, top, front}, {f.left, plate_bottom, front}, center});
  if (r.axis_c >= 0 && r.c > 1) {
    std::string text = f.nameOf(r.axis_c, r.c);
    if (pos.plates.rows > 1) text += ", " + std::to_string(pos.plates.cols) + " a row";
    if (r.rows_only || pos.plates.cols == 1) {
      // Plates in one column (or a matrix's rows): the arrow runs down the left side, outside H's.
      const float bottom = pos(0, (pos.plates.rows - 1) * pos.plates.cols, r.h - 1, 0).y - kHalf;
      const float x = r.rows_only ? f.left : f.left - 2.5f * f.gap;
      text = f.nameOf(r.axis_c, r.c);
      layout.labels.push_back({text, {x, top, front}, {x, bottom, front}, center});
    } else {
      const glm::vec3 last_plate = pos(0, std::min(r.c, pos.plates.cols) - 1, 0, r.w - 1);
      layout.labels.push_back({text,
                               {f.first.x - kHalf, top, front},
                               {last_plate.x + kHalf, top, front},
                               center,
                               true});
    }
  }
  if (r.axis_n >= 0 && r.n > 1) {
    std::string name = axisName(f.names, r.axis_n);
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    for (int64_t n = 0; n < r.n; ++n) {
      const glm::vec3 corner = pos(n, (pos.plates.rows - 1) * pos.plates.cols, r.h - 1, 0);
      layout.tags.push_back({name + "=" + std::to_string(n),
                             {corner.x - kHalf, corner.y - kHalf, front},
                             pos.sample_w});
    }
  }
}

}  // namespace

SceneLayout makeLayout(const Shape& shape, const ReductionPlan* plan,
                       const LayoutOptions& options) {
  SceneLayout layout;
  layout.shape = shape;
  const LayoutRoles r = layoutRoles(shape);
  layout.roles = r;
  layout.explode = std::clamp(options.explode, 0.0f, 1.0f);

  // The whole scene aims at options.aspect; with the statistics column beside x, x itself aims a
  // little narrower.
  const bool with_stats = plan != nullptr && plan->shape() == shape;
  const bool affine = with_stats && options.affine;
  const float column_scale = affine ? 0.2f : shape.numel() <= 2048 ? 1.0f / 3.0f : 0.25f;
  const Placement pos = placementFor(r, options, with_stats ? column_scale : 0.0f, affine ? 5 : 3);
  placeElements(layout, shape, pos);
  if (with_stats) placeStatistics(layout, *plan, pos, column_scale, affine);

  // Axis arrows a gap outside the cubes of sample 0 (and across samples for N): the block's edges
  // when compact, the first plate's edges when exploded.
  AxisFrame f;
  f.names = plan != nullptr ? plan->axisNames() : defaultAxisNames(shape.rank());
  f.first = pos(0, 0, 0, 0);
  f.left = f.first.x - kHalf - f.gap;
  f.top = f.first.y + kHalf;
  f.w_text = f.nameOf(r.axis_w, r.axis_w >= 0 ? shape[r.axis_w] : 1);
  if (r.folded_axis >= 0) f.w_text += " as " + std::to_string(r.h) + "×" + std::to_string(r.w);
  if (pos.t < 0.5f) {
    labelBlocks(layout, pos, f);
  } else {
    labelPlates(layout, pos, f);
  }
  for (const AxisLabel& label : layout.labels)
    for (const glm::vec3& end : {label.from, label.to}) {
      layout.world.lo = glm::min(layout.world.lo, end);
      layout.world.hi = glm::max(layout.world.hi, end);
    }
  return layout;
}

std::vector<glm::vec3> SceneLayout::framePoints() const {
  std::vector<glm::vec3> points;
  for (const Box& b : bounds) {
    if (b.empty()) continue;
    for (int i = 0; i < 8; ++i)
      points.emplace_back((i & 1) ? b.hi.x : b.lo.x, (i & 2) ? b.hi.y : b.lo.y,
                          (i & 4) ? b.hi.z : b.lo.z);
  }
  for (const AxisLabel& label : labels) {
    points.push_back(label.from);
    points.push_back(label.to);
  }
  return points;
}

std::optional<float> rayBox(glm::vec3 origin, glm::vec3 inv_dir, const Box& box) {
  const glm::vec3 t0 = (box.lo - origin) * inv_dir;
  const glm::vec3 t1 = (box.hi - origin) * inv_dir;
  const glm::vec3 tmin = glm::min(t0, t1), tmax = glm::max(t0, t1);
  const float enter = std::max({tmin.x, tmin.y, tmin.z});
  const float leave = std::min({tmax.x, tmax.y, tmax.z});
  if (leave < 0.0f || enter > leave || std::isnan(enter) || std::isnan(leave)) return std::nullopt;
  return std::max(enter, 0.0f);
}

std::optional<CubeRef> pickCube(const SceneLayout& layout, glm::vec3 origin, glm::vec3 dir) {
  // Axis-parallel rays give ±inf in inv_dir, which the slab test handles; exact zeros are nudged so
  // 0·inf never produces NaN.
  glm::vec3 safe = dir;
  for (int k = 0; k < 3; ++k)
    if (safe[k] == 0.0f) safe[k] = 1e-20f;
  const glm::vec3 inv = 1.0f / safe;
  std::optional<CubeRef> best;
  float best_t = std::numeric_limits<float>::max();
  for (int k = 0; k < kSectionCount; ++k) {
    const auto section = static_cast<Section>(k);
    const int64_t count = layout.count(section);
    if (count == 0) continue;
    const auto hit_section = rayBox(origin, inv, layout.bounds[static_cast<size_t>(k)]);
    if (!hit_section || *hit_section > best_t) continue;
    const auto& local = layout.local(section);
    // In the section's own units: local = (world - origin) / scale, so t stays a world distance.
    const float sc = layout.scale[static_cast<size_t>(k)];
    const glm::vec3 o = (origin - layout.origin[static_cast<size_t>(k)]) / sc;
    const glm::vec3 inv_local = inv * sc;
    const glm::vec3 half(0.5f * layout.size(section) / sc);
    for (int64_t i = 0; i < count; ++i) {
      const glm::vec3 c = local[static_cast<size_t>(i)];
      const auto t = rayBox(o, inv_local, Box{c - half, c + half});
      if (t && *t < best_t) {
        best_t = *t;
        best = CubeRef{section, i};
      }
    }
  }
  return best;
}

}  // namespace normviz
