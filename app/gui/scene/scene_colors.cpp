// Colours and lit/faded states of every cube, for the single and the compare layouts.
#include "scene_colors.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace normviz {

namespace {

template <typename Values>
std::pair<double, double> finiteRange(const Values& values) {
  double lo = std::numeric_limits<double>::max(), hi = std::numeric_limits<double>::lowest();
  for (const auto v : values)
    if (std::isfinite(static_cast<double>(v))) {
      lo = std::min(lo, static_cast<double>(v));
      hi = std::max(hi, static_cast<double>(v));
    }
  if (lo > hi) return {0.0, 1.0};
  return {lo, hi};
}

constexpr float kByGroup = static_cast<float>(CubeState::ByGroup);

// A stepper tint: its group's elements in the first and the last element section (x and y, or dy
// and dx) take their thread's colour and are lit where covered.
void applyTint(std::vector<CubeInstance>& out, const ElementTint* tint, int64_t numel,
               int64_t groups) {
  if (tint == nullptr || tint->group < 0) return;
  const int64_t output_base = numel + 2 * groups;
  for (size_t k = 0; k < tint->flat.size() && k < tint->color.size(); ++k) {
    const int64_t flat = tint->flat[k];
    if (flat < 0 || flat >= numel) continue;
    const bool lit = k >= tint->covered.size() || tint->covered[k] != 0;
    const float state = static_cast<float>(lit ? CubeState::Lit : CubeState::Normal);
    for (int64_t i : {flat, output_base + flat}) {
      out[static_cast<size_t>(i)].color = tint->color[k];
      out[static_cast<size_t>(i)].state = state;
    }
  }
}

}  // namespace

ValueScales valueScales(const Snapshot& snap, ColorMap input_map) {
  // The ranges were summarized once with the result (finite values only).
  ValueScales s;
  s.x = ValueScale::of(input_map, snap.x_summary.lo, snap.x_summary.hi);
  s.y = ValueScale::of(ColorMap::Diverging, snap.y_summary.lo, snap.y_summary.hi);
  s.rstd = ValueScale::of(input_map, snap.rstd_summary.lo, snap.rstd_summary.hi);
  auto diverging = [](const ValueSummary& v) {
    return ValueScale::of(ColorMap::Diverging, v.lo, v.hi);
  };
  s.dy = diverging(snap.dy_summary);
  s.dx = diverging(snap.dx_summary);
  s.reduced = diverging(snap.reduced_summary);
  return s;
}

std::vector<CubeInstance> singleInstances(const Snapshot& snap, const SceneLayout& layout,
                                          ColorBy color_by, ColorMap input_map,
                                          const ElementTint* tint) {
  const ReductionPlan& plan = snap.plan;
  const ValueScales scales = valueScales(snap, input_map);
  const int64_t numel = snap.x.numel();
  const int64_t groups = plan.groupCount();
  std::vector<CubeInstance> out;
  out.reserve(static_cast<size_t>(2 * numel + 2 * groups));
  std::vector<int64_t> group_of(static_cast<size_t>(numel));
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t flat : plan.elementsOf(g)) group_of[static_cast<size_t>(flat)] = g;

  auto add_elements = [&](Section section, const auto& values, const ValueScale& scale) {
    const glm::vec3 origin = layout.origin[static_cast<size_t>(section)];
    const float sc = layout.scale[static_cast<size_t>(section)], size = layout.size(section);
    for (int64_t i = 0; i < numel; ++i) {
      const int64_t g = group_of[static_cast<size_t>(i)];
      const glm::vec3 rgb = color_by == ColorBy::Groups
                                ? categoricalColor(g)
                                : scale.color(static_cast<double>(values[i]));
      out.push_back({origin + sc * layout.element_pos[static_cast<size_t>(i)], rgb,
                     static_cast<float>(g), kByGroup, size});
    }
  };
  auto add_groups = [&](Section section, const TensorD& values, const ValueScale& scale) {
    const glm::vec3 origin = layout.origin[static_cast<size_t>(section)];
    const float sc = layout.scale[static_cast<size_t>(section)], size = layout.size(section);
    for (int64_t g = 0; g < groups; ++g) {
      const glm::vec3 rgb =
          color_by == ColorBy::Groups ? categoricalColor(g) : scale.color(values[g]);
      out.push_back({origin + sc * layout.group_pos[static_cast<size_t>(g)], rgb,
                     static_cast<float>(g), kByGroup, size});
    }
  };
  add_elements(Section::Input, snap.x, scales.x);
  // The mean shares x's scale: a mean cube's colour is the average colour of its region.
  add_groups(Section::Mean, snap.result.mean, scales.x);
  add_groups(Section::Rstd, snap.result.rstd, scales.rstd);
  add_elements(Section::Output, snap.result.y, scales.y);

  applyTint(out, tint, numel, groups);
  return out;
}

std::vector<CubeInstance> backwardInstances(const Snapshot& snap, const SceneLayout& layout,
                                            ColorBy color_by, LitPartition partition,
                                            const ElementTint* tint) {
  const ReductionPlan& plan = snap.plan;
  const BackwardResult& grad = *snap.grad;
  const ValueScales scales = valueScales(snap, ColorMap::Viridis);
  const int64_t numel = snap.x.numel(), groups = plan.groupCount();
  std::vector<int64_t> group_of(static_cast<size_t>(numel));
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t flat : plan.elementsOf(g)) group_of[static_cast<size_t>(flat)] = g;
  auto element_tag = [&](int64_t i) -> float {
    switch (partition) {
      case LitPartition::Elements:
        return static_cast<float>(i);
      case LitPartition::Affine:
        return static_cast<float>(plan.affineIndexOf(i));
      case LitPartition::Groups:
        break;
    }
    return static_cast<float>(group_of[static_cast<size_t>(i)]);
  };
  std::vector<CubeInstance> out;
  auto add = [&](Section section, int64_t count, auto value, const ValueScale& scale, auto tag) {
    const auto k = static_cast<size_t>(section);
    const float size = layout.size(section);
    for (int64_t i = 0; i < count; ++i) {
      const bool element = SceneLayout::isElementSection(section);
      const glm::vec3 rgb = color_by == ColorBy::Groups && element
                                ? categoricalColor(group_of[static_cast<size_t>(i)])
                                : scale.color(value(i));
      out.push_back(
          {layout.origin[k] + layout.scale[k] * layout.local(section)[static_cast<size_t>(i)], rgb,
           tag(i), kByGroup, size});
    }
  };
  add(
      Section::Input, numel, [&](int64_t i) { return static_cast<double>((*snap.dy)[i]); },
      scales.dy, element_tag);
  auto group_tag = [&](int64_t g) {
    return partition == LitPartition::Groups ? static_cast<float>(g) : -1.0f;
  };
  add(
      Section::Mean, groups, [&](int64_t g) { return grad.sum_dy_w[g]; }, scales.reduced,
      group_tag);
  add(
      Section::Rstd, groups, [&](int64_t g) { return grad.sum_dy_w_xhat[g]; }, scales.reduced,
      group_tag);
  add(
      Section::Output, numel, [&](int64_t i) { return grad.dx[i]; }, scales.dx, element_tag);
  auto affine_tag = [&](int64_t a) {
    return partition == LitPartition::Affine ? static_cast<float>(a) : -1.0f;
  };
  if (layout.count(Section::DWeight) > 0 && grad.dweight)
    add(
        Section::DWeight, layout.count(Section::DWeight),
        [&](int64_t a) { return (*grad.dweight)[a]; }, scales.reduced, affine_tag);
  if (layout.count(Section::DBias) > 0 && grad.dbias)
    add(
        Section::DBias, layout.count(Section::DBias), [&](int64_t a) { return (*grad.dbias)[a]; },
        scales.reduced, affine_tag);
  applyTint(out, tint, numel, groups);
  return out;
}

std::vector<CubeInstance> compareInstances(const Tensor& x, const SceneLayout& layout,
                                           const ReductionPlan& plan, ColorBy color_by,
                                           ColorMap input_map) {
  const auto [lo, hi] = finiteRange(x.data);
  const ValueScale scale = ValueScale::of(input_map, lo, hi);
  std::vector<CubeInstance> out(static_cast<size_t>(x.numel()));
  for (int64_t g = 0; g < plan.groupCount(); ++g)
    for (int64_t flat : plan.elementsOf(g)) {
      const glm::vec3 rgb =
          color_by == ColorBy::Groups ? categoricalColor(g) : scale.color(x[flat]);
      out[static_cast<size_t>(flat)] = {layout.element_pos[static_cast<size_t>(flat)], rgb,
                                        static_cast<float>(g), kByGroup};
    }
  return out;
}

LayoutOptions layoutOptions(const AppState& state) {
  LayoutOptions options;
  options.explode = state.explode;
  options.aspect = state.view_aspect;
  options.affine = state.backward && state.shown && state.shown->grad && state.shown->grad->dweight;
  return options;
}

ColorKey colorKey(const AppState& state, const ElementTint* tint) {
  ColorKey key;
  key.result_version = state.result_version;
  key.layout = state.layout;
  key.color_by = state.color_by;
  key.input_map = state.input_map;
  key.backward = state.backward && state.shown && state.shown->grad;
  key.partition = litPartition(state);
  key.explode = state.explode;
  key.aspect = state.view_aspect;
  if (tint != nullptr) key.tint_revision = tint->revision;
  key.withheld = state.lesson.questionOpen();
  return key;
}

CubeRef cubeOfInstance(const SceneLayout& layout, int64_t instance) {
  for (Section s : {Section::Input, Section::Mean, Section::Rstd, Section::Output, Section::DWeight,
                    Section::DBias}) {
    const int64_t count = layout.count(s);
    if (instance < count) return {s, instance};
    instance -= count;
  }
  return {Section::DBias, instance};
}

}  // namespace normviz
