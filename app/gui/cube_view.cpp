// The cube view (see cube_view.hpp).
//
// Sections: rebuilding · fitting and gliding · navigating and picking · drawing · report.
#include "cube_view.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "gl_functions.hpp"
#include "lit_region.hpp"
#include "panels.hpp"

namespace normviz {

// ---- Rebuilding ---------------------------------------------------------------------------------

void CubeView::rebuild(AppState& s, glm::vec2 /*view_size*/) {
  if (!s.shown) return;
  const Snapshot& snap = *s.shown;
  const LayoutOptions options = layoutOptions(s);
  if (result_version_ != s.result_version || layout_mode_ != s.layout || explode_ != s.explode ||
      aspect_ != s.view_aspect || affine_ != options.affine) {
    layout_ =
        makeLayout(snap.x.shape, s.layout == LayoutMode::Single ? &snap.plan : nullptr, options);
    result_version_ = s.result_version;
    layout_mode_ = s.layout;
    explode_ = s.explode;
    aspect_ = s.view_aspect;
    affine_ = options.affine;
  }
  // The stepper colours the single layout only.
  const StepperHighlight* stepper = s.layout == LayoutMode::Single ? stepperHighlight(s) : nullptr;
  const SingleLit lit = singleLit(s, stepper, true);
  lit_ = lit.tag;
  rebuildInstances(s, lit.tint ? &*lit.tint : nullptr);
}

// Rebuilds and uploads the instances when what they show changed; hovering only moves the lit
// group, which the shader applies.
void CubeView::rebuildInstances(const AppState& s, const ElementTint* tint) {
  const Snapshot& snap = *s.shown;
  const ColorKey key = colorKey(s, tint);
  if (key_ == key) return;
  key_ = key;
  if (s.layout == LayoutMode::Single && key.backward) {
    instances_ = backwardInstances(snap, layout_, s.color_by, key.partition, tint);
    per_panel_ = static_cast<int64_t>(instances_.size());
  } else if (s.layout == LayoutMode::Single) {
    instances_ = singleInstances(snap, layout_, s.color_by, s.input_map, tint);
    per_panel_ = static_cast<int64_t>(instances_.size());
  } else {
    per_panel_ = snap.x.numel();
    instances_.clear();
    for (const ComparePanel& panel : s.compare) {
      std::vector<CubeInstance> part;
      if (panel.plan) {
        part = compareInstances(snap.x, layout_, *panel.plan, s.color_by, s.input_map);
      } else {
        part.assign(static_cast<size_t>(per_panel_), CubeInstance{});
        for (int64_t i = 0; i < per_panel_; ++i)
          part[static_cast<size_t>(i)] = {layout_.element_pos[static_cast<size_t>(i)],
                                          glm::vec3(0.5f), -1.0f,
                                          static_cast<float>(CubeState::Faded)};
      }
      instances_.insert(instances_.end(), part.begin(), part.end());
    }
  }
  // While a lesson's question is open the statistics (or the backward's sums) are not drawn: their
  // cubes would count the groups and their colours give the values away.
  if (key.withheld && s.layout == LayoutMode::Single)
    for (size_t i = 0; i < instances_.size(); ++i) {
      const Section section = cubeOfInstance(layout_, static_cast<int64_t>(i)).section;
      if (section == Section::Mean || section == Section::Rstd) instances_[i].size = 0.0f;
    }
  renderer_.upload(instances_);
}

// ---- Fitting and gliding ------------------------------------------------------------------------

void CubeView::fit(AppState& s, const SceneView& view, bool glide_there) {
  const Snapshot& snap = *s.shown;
  const bool single = s.layout == LayoutMode::Single;
  const float line = ImGui::GetTextLineHeight(), pad = 0.5f * line;
  // Pixels to keep free on the left, right, below and above a point, as NDC units.
  auto ndc = [&](float left, float right, float below, float above) {
    return glm::vec4(2.0f * left / view.size.x, 2.0f * right / view.size.x,
                     2.0f * below / view.size.y, 2.0f * above / view.size.y);
  };
  // Compare panels print their title, group count and lit group at the top.
  const float top =
      single ? pad : kCompareHeaderLines * ImGui::GetTextLineHeightWithSpacing() + 8.0f + pad;
  // While a "click every cube" question is open, x is what the class works on: it gets the room.
  const bool x_only = single && s.lesson.selecting();
  auto framed = [&](Section section) { return !x_only || section == Section::Input; };
  std::vector<FramePoint> points;
  if (x_only) {
    const Box& b = layout_.bounds[static_cast<size_t>(Section::Input)];
    for (int i = 0; i < 8; ++i)
      points.push_back(
          {{(i & 1) ? b.hi.x : b.lo.x, (i & 2) ? b.hi.y : b.lo.y, (i & 4) ? b.hi.z : b.lo.z},
           ndc(pad, pad, pad, top)});
  } else {
    for (const glm::vec3& p : layout_.framePoints()) points.push_back({p, ndc(pad, pad, pad, top)});
  }
  // An arrow's name sits beside it, on whichever side faces away from the block.
  float headers = 0.0f;
  for (const AxisLabel& label : layout_.labels) {
    const ImVec2 size = ImGui::CalcTextSize(label.text.c_str());
    const float w = size.x + pad, h = size.y + pad;
    if (label.header) {
      // Headers stack above the section: each takes an arrow and a line of text.
      ++headers;
      for (const glm::vec3& p : {label.from, label.to})
        points.push_back(
            {p, ndc(pad, w, pad, headers * (line + 10.0f * s.font_scale) + std::max(line, top))});
      continue;
    }
    for (const glm::vec3& p : {label.from, label.to, (label.from + label.to) * 0.5f})
      points.push_back({p, ndc(w, w, h, std::max(h, top))});
  }
  for (const SampleTag& tag : layout_.tags)
    points.push_back({tag.anchor, ndc(pad, pad, line + pad, pad)});
  // The colour legend covers the view's bottom right: the bottom sections stay above it (in the
  // compare layout the bottom panels' cubes, one legend line high).
  {
    const float lines = single ? 3.0f : 2.0f;
    const float legend = lines * ImGui::GetTextLineHeightWithSpacing() +
                         2.0f * ImGui::GetStyle().WindowPadding.y + 10.0f;
    if (x_only)  // the sample names under x, too
      for (const SampleTag& tag : layout_.tags)
        points.push_back({tag.anchor, ndc(pad, pad, line + pad + legend, pad)});
    for (Section section : {Section::Input, Section::Output, Section::Rstd}) {
      if (single && section == Section::Input && !x_only) continue;
      if ((!single || x_only) && section != Section::Input) continue;
      const Box& b = layout_.bounds[static_cast<size_t>(section)];
      if (!b.empty())
        for (int i = 0; i < 4; ++i)
          points.push_back({{(i & 1) ? b.hi.x : b.lo.x, b.lo.y, (i & 2) ? b.hi.z : b.lo.z},
                            ndc(pad, pad, legend, pad)});
    }
  }
  // Each section's title sits above its top left corner.
  if (single)
    for (int k = 0; k < kSectionCount; ++k) {
      const Box& b = layout_.bounds[static_cast<size_t>(k)];
      if (b.empty()) continue;
      const auto section = static_cast<Section>(k);
      if (!framed(section)) continue;
      const float w = ImGui::CalcTextSize(sectionTitle(snap, section).c_str()).x;
      points.push_back(
          {glm::vec3(b.lo.x, b.hi.y, b.hi.z), ndc(pad, w + pad, pad, 2.0f * line + pad)});
    }
  const Camera before = s.camera;
  s.camera.frame(points, view.size.x / std::max(view.size.y, 1.0f), s.preset, s.explode);
  fitted = s.camera;
  glide.active = false;
  if (glide_there) {
    glide = {true, before, s.camera, std::chrono::steady_clock::now()};
    s.camera = before;
  }
}

bool CubeView::advance(AppState& s) {
  if (!glide.active) return false;
  const double t =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - glide.start).count() / 0.6;
  const float k = static_cast<float>(t >= 1.0 ? 1.0 : t * t * (3.0 - 2.0 * t));
  s.camera.target = glm::mix(glide.from.target, glide.to.target, k);
  s.camera.yaw = glm::mix(glide.from.yaw, glide.to.yaw, k);
  s.camera.pitch = glm::mix(glide.from.pitch, glide.to.pitch, k);
  s.camera.distance = glm::mix(glide.from.distance, glide.to.distance, k);
  if (t >= 1.0) glide.active = false, s.camera = glide.to;
  return true;
}

// ---- Navigating and picking ---------------------------------------------------------------------

void CubeView::navigate(AppState& s, const SceneView& view, const PointerInput& p) {
  if (p.drag_left && !p.shift) s.camera.orbit(-p.delta.x * 0.01f, p.delta.y * 0.01f);
  if (p.drag_other || (p.drag_left && p.shift))
    s.camera.pan(2.0f * p.delta.x / view.size.y, -2.0f * p.delta.y / view.size.y);
  if (p.wheel != 0.0f) s.camera.zoom(std::pow(0.88f, p.wheel));
}

std::optional<CubeRef> CubeView::pick(const AppState& s, const SceneView& view,
                                      glm::vec2 mouse) const {
  const glm::vec2 local = (mouse - view.pos) / view.size;
  const glm::vec2 ndc(local.x * 2.0f - 1.0f, 1.0f - local.y * 2.0f);
  const Ray ray = s.camera.rayThrough(ndc, view.size.x / std::max(view.size.y, 1.0f));
  const auto hit = pickCube(layout_, ray.origin, ray.dir);
  // The statistics' cubes are not drawn while a lesson's question is open.
  if (hit && s.lesson.questionOpen() &&
      (hit->section == Section::Mean || hit->section == Section::Rstd))
    return std::nullopt;
  return hit;
}

std::optional<glm::vec2> CubeView::screenOf(const AppState& s, const SceneView& view,
                                            int64_t flat) const {
  if (!s.shown || flat < 0 || flat >= s.shown->x.numel()) return std::nullopt;
  return view.project(layout_.position({Section::Input, flat}));
}

std::optional<int64_t> CubeView::litGroup(const AppState& s, const SceneView& view) const {
  return view.compare_panel < 0 ? lit_ : compareLit(s, view.compare_panel);
}

// ---- Drawing ------------------------------------------------------------------------------------

void CubeView::draw(const AppState& s, const SceneView& v, const DrawTarget& target) const {
  const bool by_group = s.color_by == ColorBy::Groups;
  const int64_t first = v.compare_panel < 0 ? 0 : v.compare_panel * per_panel_;
  // Unlit cubes are faint grey ghosts so the lit region stands out; in "all groups" mode they
  // keep their group's hue and more opacity, so the whole partition stays readable.
  renderer_.draw(v.view_proj, first, per_panel_, litGroup(s, v), target.outline,
                 by_group ? 0.35f : 0.16f, by_group ? 0.0f : 0.75f);
}

void CubeView::overlay(const AppState& s, const SceneView& view) const {
  drawSceneOverlay(s, layout_, view);
}

// ---- Report -------------------------------------------------------------------------------------

// Every cube's id (its index in its panel + 1) rendered offscreen, as drawn: each pixel names the
// cube that owns it. Returns the RGBA bytes, or nothing and an error.
std::vector<uint8_t> CubeView::renderIds(const AppState& s, const std::vector<SceneView>& views,
                                         int width, int height, std::string& error) const {
  Framebuffer ids;
  if (error = ids.create(width, height); !error.empty()) return {};
  ids.bind();
  gl::Viewport(0, 0, width, height);
  gl::ClearColor(0.0f, 0.0f, 0.0f, 0.0f);
  gl::ClearStencil(0);
  gl::Clear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT | GL_STENCIL_BUFFER_BIT);
  gl::Disable(GL_DITHER);
  gl::Enable(GL_SCISSOR_TEST);
  for (const auto& v : views) {
    const int x = static_cast<int>(v.pos.x), w = static_cast<int>(v.size.x);
    const int h = static_cast<int>(v.size.y);
    const int y = height - static_cast<int>(v.pos.y) - h;
    gl::Viewport(x, y, w, h);
    gl::Scissor(x, y, w, h);
    const int64_t first = v.compare_panel < 0 ? 0 : v.compare_panel * per_panel_;
    renderer_.drawIds(v.view_proj, first, per_panel_, litGroup(s, v));
  }
  gl::Disable(GL_SCISSOR_TEST);
  gl::Enable(GL_DITHER);
  gl::Finish();
  return ids.readRgba();
}

// One view's report: every cube's section, index, lit state, visible pixels, colour and screen
// position; `id_at` reads the id pass.
template <typename IdAt>
nlohmann::json CubeView::viewReport(const AppState& s, const SceneView& v, int width, int height,
                                    const IdAt& id_at) const {
  nlohmann::json view;
  view["rect"] = {v.pos.x, v.pos.y, v.size.x, v.size.y};
  if (v.compare_panel >= 0) {
    const ComparePanel& panel = s.compare[static_cast<size_t>(v.compare_panel)];
    view["title"] = panel.title;
    if (!panel.error.empty()) view["error"] = panel.error;
  } else {
    view["title"] = s.shown->plan.pytorchLine();
  }
  // Pixels per cube inside this view's rectangle.
  std::vector<int64_t> pixels(static_cast<size_t>(per_panel_), 0);
  const int x0 = std::max(0, static_cast<int>(v.pos.x)),
            y0 = std::max(0, static_cast<int>(v.pos.y));
  const int x1 = std::min(width, static_cast<int>(v.pos.x + v.size.x)),
            y1 = std::min(height, static_cast<int>(v.pos.y + v.size.y));
  for (int py = y0; py < y1; ++py)
    for (int px = x0; px < x1; ++px) {
      const int64_t id = id_at(px, py);
      if (id > 0 && id <= per_panel_) ++pixels[static_cast<size_t>(id - 1)];
    }
  nlohmann::json cubes = nlohmann::json::array();
  int64_t lit = 0, lit_visible = 0;
  const std::optional<int64_t> lit_group = litGroup(s, v);
  const int64_t first = v.compare_panel < 0 ? 0 : v.compare_panel * per_panel_;
  for (int64_t i = 0; i < per_panel_; ++i) {
    const CubeInstance& inst = instances_[static_cast<size_t>(first + i)];
    const CubeRef ref =
        v.compare_panel < 0 ? cubeOfInstance(layout_, i) : CubeRef{Section::Input, i};
    const bool is_lit = drawnState(inst, lit_group) == CubeState::Lit;
    const auto screen = v.project(inst.center);
    bool visible = false;
    if (screen) {
      const int px = static_cast<int>(std::floor(screen->x)),
                py = static_cast<int>(std::floor(screen->y));
      visible = px >= x0 && py >= y0 && px < x1 && py < y1 && id_at(px, py) == i + 1;
    }
    lit += is_lit ? 1 : 0;
    lit_visible += is_lit && visible ? 1 : 0;
    cubes.push_back({{"section", sectionName(ref.section)},
                     {"index", ref.index},
                     {"lit", is_lit},
                     {"visible", visible},
                     {"pixels", pixels[static_cast<size_t>(i)]},
                     {"color",
                      {std::lround(inst.color.r * 255), std::lround(inst.color.g * 255),
                       std::lround(inst.color.b * 255)}},
                     {"x", screen ? screen->x : -1.0f},
                     {"y", screen ? screen->y : -1.0f}});
  }
  view["lit_count"] = lit;
  view["lit_visible"] = lit_visible;
  view["cubes"] = std::move(cubes);
  return view;
}

// Linear in the cubes and the pixels: one id pass (ghosts never covering solid cubes, as drawn),
// then a cube is `visible` when the pixel at its projected centre is its own.
nlohmann::json CubeView::report(const AppState& s, const std::vector<SceneView>& views,
                                glm::vec2 display) const {
  const int width = static_cast<int>(display.x), height = static_cast<int>(display.y);
  std::string error;
  const std::vector<uint8_t> rgba = renderIds(s, views, width, height, error);
  if (!error.empty()) throw std::runtime_error(error);
  auto id_at = [&](int px, int py) -> int64_t {
    const size_t o =
        (static_cast<size_t>(py) * static_cast<size_t>(width) + static_cast<size_t>(px)) * 4;
    return int64_t{rgba[o]} | (int64_t{rgba[o + 1]} << 8) | (int64_t{rgba[o + 2]} << 16);
  };
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : views) out.push_back(viewReport(s, v, width, height, id_at));
  return out;
}

}  // namespace normviz
