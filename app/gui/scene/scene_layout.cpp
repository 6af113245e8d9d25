// Cube positions for the input, statistics and output sections, and ray picking against them.
#include "scene_layout.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

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
  }
  return "?";
}

int64_t SceneLayout::count(Section s) const {
  if (s == Section::Input || s == Section::Output) {
    if (s == Section::Output && !has_stats) return 0;
    return static_cast<int64_t>(element_pos.size());
  }
  return has_stats ? static_cast<int64_t>(group_pos.size()) : 0;
}

glm::vec3 SceneLayout::position(CubeRef ref) const {
  const auto& local =
      (ref.section == Section::Input || ref.section == Section::Output) ? element_pos : group_pos;
  return origin[static_cast<int>(ref.section)] + local[static_cast<size_t>(ref.index)];
}

namespace {

constexpr float kHalf = SceneLayout::kCube * 0.5f;

// Dims as (N, C, H, W) roles: rank 3 has no depth axis, rank 2 is one matrix, rank 1 one row.
struct Roles {
  int64_t n = 1, c = 1, h = 1, w = 1;
  int axis_n = -1, axis_c = -1, axis_h = -1, axis_w = -1;  // original axis playing each role
};

Roles rolesOf(const Shape& shape) {
  Roles r;
  const int rank = shape.rank();
  if (rank >= 1) r.axis_w = rank - 1;
  if (rank >= 2) r.axis_h = rank - 2;
  if (rank == 3) r.axis_n = 0;
  if (rank == 4) r.axis_c = 1, r.axis_n = 0;
  if (r.axis_n >= 0) r.n = shape[r.axis_n];
  if (r.axis_c >= 0) r.c = shape[r.axis_c];
  if (r.axis_h >= 0) r.h = shape[r.axis_h];
  if (r.axis_w >= 0) r.w = shape[r.axis_w];
  return r;
}

Box boundsOf(const std::vector<glm::vec3>& points, glm::vec3 origin) {
  Box b;
  b.lo = glm::vec3(std::numeric_limits<float>::max());
  b.hi = glm::vec3(std::numeric_limits<float>::lowest());
  for (const auto& p : points) {
    b.lo = glm::min(b.lo, origin + p - glm::vec3(kHalf));
    b.hi = glm::max(b.hi, origin + p + glm::vec3(kHalf));
  }
  return b;
}

Box merge(const Box& a, const Box& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return {glm::min(a.lo, b.lo), glm::max(a.hi, b.hi)};
}

std::string labelText(const std::vector<std::string>& names, int axis, int64_t size) {
  return names[static_cast<size_t>(axis)] + " = " + std::to_string(size);
}

}  // namespace

SceneLayout makeLayout(const Shape& shape, const ReductionPlan* plan) {
  constexpr float p = SceneLayout::kPitch;
  SceneLayout layout;
  layout.shape = shape;
  const Roles r = rolesOf(shape);
  const float block_stride = static_cast<float>(r.w) * p + 1.5f * p;

  const int64_t numel = shape.numel();
  layout.element_pos.resize(static_cast<size_t>(numel));
  size_t i = 0;
  for (int64_t n = 0; n < r.n; ++n)
    for (int64_t c = 0; c < r.c; ++c)
      for (int64_t h = 0; h < r.h; ++h)
        for (int64_t w = 0; w < r.w; ++w)
          layout.element_pos[i++] = {
              static_cast<float>(n) * block_stride + static_cast<float>(w) * p,
              static_cast<float>(r.h - 1 - h) * p, -static_cast<float>(c) * p};

  for (auto& b : layout.bounds) b = Box{glm::vec3(1.0f), glm::vec3(-1.0f)};
  layout.bounds[0] = boundsOf(layout.element_pos, layout.origin[0]);
  layout.world = layout.bounds[0];

  if (plan != nullptr && plan->shape() == shape) {
    layout.has_stats = true;
    layout.group_pos.assign(static_cast<size_t>(plan->groupCount()), glm::vec3(0.0f));
    for (int64_t g = 0; g < plan->groupCount(); ++g) {
      glm::dvec3 sum(0.0);
      for (int64_t flat : plan->elementsOf(g))
        sum += glm::dvec3(layout.element_pos[static_cast<size_t>(flat)]);
      layout.group_pos[static_cast<size_t>(g)] =
          glm::vec3(sum / static_cast<double>(plan->groupSize()));
    }
    // Stack the sections top to bottom, a row gap apart, keeping x and z so axes stay aligned.
    constexpr float row_gap = 2.5f * p;
    float cursor = layout.bounds[0].lo.y - row_gap;
    for (Section s : {Section::Mean, Section::Rstd, Section::Output}) {
      const auto& local = s == Section::Output ? layout.element_pos : layout.group_pos;
      const Box b = boundsOf(local, glm::vec3(0.0f));
      const int k = static_cast<int>(s);
      layout.origin[k] = glm::vec3(0.0f, cursor - b.hi.y, 0.0f);
      layout.bounds[k] = boundsOf(local, layout.origin[k]);
      layout.world = merge(layout.world, layout.bounds[k]);
      cursor = layout.bounds[k].lo.y - row_gap;
    }
  }

  // Axis arrows a gap outside the input block's edges, so they never cross a cube: W under sample
  // 0, H down its left back edge (from the isometric view the back channels reach furthest left),
  // C in depth along its left foot, N above all samples at the back
  // (seen from above, it passes behind the cubes, not across them).
  constexpr float gap = 0.9f;
  const auto names = plan != nullptr ? plan->axisNames() : defaultAxisNames(shape.rank());
  const float left = -kHalf - gap, bottom = -kHalf - gap, front = kHalf;
  const float top_face = static_cast<float>(r.h - 1) * p + kHalf;
  const float right_w = static_cast<float>(r.w - 1) * p + kHalf;
  const float back = -static_cast<float>(r.c - 1) * p - kHalf;
  const glm::vec3 sample0((right_w - kHalf) * 0.5f, (top_face - kHalf) * 0.5f,
                          (front + back) * 0.5f);
  const float all_right = static_cast<float>(r.n - 1) * block_stride + right_w;
  const glm::vec3 all_samples((all_right - kHalf) * 0.5f, sample0.y, sample0.z);
  if (r.axis_w >= 0)
    layout.labels.push_back({labelText(names, r.axis_w, r.w),
                             {-kHalf, bottom, front},
                             {right_w, bottom, front},
                             sample0});
  if (r.axis_h >= 0)
    layout.labels.push_back(
        {labelText(names, r.axis_h, r.h), {left, top_face, back}, {left, -kHalf, back}, sample0});
  if (r.axis_c >= 0)
    layout.labels.push_back(
        {labelText(names, r.axis_c, r.c), {left, bottom, front}, {left, bottom, back}, sample0});
  if (r.axis_n >= 0)
    layout.labels.push_back({labelText(names, r.axis_n, r.n),
                             {-kHalf, top_face + gap, back},
                             {all_right, top_face + gap, back},
                             all_samples});
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
    const auto& local = (section == Section::Input || section == Section::Output)
                            ? layout.element_pos
                            : layout.group_pos;
    const glm::vec3 o = origin - layout.origin[static_cast<size_t>(k)];
    for (int64_t i = 0; i < count; ++i) {
      const glm::vec3 c = local[static_cast<size_t>(i)];
      const auto t = rayBox(o, inv, Box{c - glm::vec3(kHalf), c + glm::vec3(kHalf)});
      if (t && *t < best_t) {
        best_t = *t;
        best = CubeRef{section, i};
      }
    }
  }
  return best;
}

}  // namespace normviz
