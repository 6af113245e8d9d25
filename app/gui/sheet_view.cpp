// The sheet view (see sheet_view.hpp): textures from the snapshot, the camera, hover, drawing, the
// overlay and the report.
//
// Sections: building the images · layout and fitting · navigating and picking · drawing ·
// overlay · report.
#include "sheet_view.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>

#include "app_compute.hpp"
#include "colormap.hpp"
#include "lit_region.hpp"
#include "panels.hpp"

namespace normviz {

namespace {

// ---- Building the images ------------------------------------------------------------------------

void putRgba(std::vector<uint8_t>& out, size_t i, glm::vec3 c) {
  out[4 * i + 0] = static_cast<uint8_t>(std::lround(std::clamp(c.r, 0.0f, 1.0f) * 255.0f));
  out[4 * i + 1] = static_cast<uint8_t>(std::lround(std::clamp(c.g, 0.0f, 1.0f) * 255.0f));
  out[4 * i + 2] = static_cast<uint8_t>(std::lround(std::clamp(c.b, 0.0f, 1.0f) * 255.0f));
  out[4 * i + 3] = 255;
}

template <typename Values>
std::vector<uint8_t> colorsOf(const Values& values, int64_t n, const ValueScale& scale) {
  std::vector<uint8_t> out(static_cast<size_t>(n) * 4);
  for (int64_t i = 0; i < n; ++i)
    putRgba(out, static_cast<size_t>(i), scale.color(static_cast<double>(values[i])));
  return out;
}

// The key without the parts that only move things (explode, aspect): the textures stay.
ColorKey textureKey(const AppState& s) {
  ColorKey key = colorKey(s, nullptr);
  key.explode = 0.0f;
  key.aspect = 0.0f;
  return key;
}

float fitZoom(const SheetLayout& sheet, glm::vec2 room) {
  return std::min(room.x / sheet.width(), room.y / sheet.height());
}

// The plan whose groups a view shows (the compare panel's, or the snapshot's); nullptr for a
// compare panel without a plan.
const ReductionPlan* sheetPlan(const AppState& s, const SceneView& view) {
  if (view.compare_panel < 0) return &s.shown->plan;
  const ComparePanel& panel = s.compare[static_cast<size_t>(view.compare_panel)];
  return panel.plan ? &*panel.plan : nullptr;
}

}  // namespace

std::string SheetView::init() {
  palette_.clear();
  for (int k = 0; k < 24; ++k) palette_.push_back(categoricalColor(k));
  return renderer_.init();
}

void SheetView::rebuild(AppState& s, glm::vec2 view_size) {
  if (!s.shown) return;
  // The sheet draws x and y, also in backward mode; the stepper colours only the cube view.
  lit_ = singleLit(s, nullptr, false).tag;
  const Snapshot& snap = *s.shown;
  const bool single = s.layout == LayoutMode::Single;
  const ColorKey key = textureKey(s);
  const float aspect = view_size.x / std::max(view_size.y, 1.0f);
  const bool textures = !(key_ == key);
  if (!textures && layout_mode_ == s.layout && view_size_ == view_size) return;
  const int64_t numel = snap.x.numel();

  if (textures) {
    error_.clear();
    groups_ = groupOfElements(snap.plan);
    compare_groups_.clear();
  }
  // Rows in one group get the statistics strip; y comes along while cells stay 2 px or more.
  SheetLayout probe = makeSheetLayout(snap.x.shape, false, false, aspect);
  row_groups_ = single ? rowGroups(groups_, probe.rows, probe.cols) : std::vector<int64_t>{};
  const bool strip = single && !row_groups_.empty();
  const glm::vec2 room = view_size - glm::vec2(40.0f, 140.0f);
  SheetLayout layout = makeSheetLayout(snap.x.shape, single, strip, aspect);
  if (single && fitZoom(layout, room) < 2.0f)
    layout = makeSheetLayout(snap.x.shape, false, strip, aspect);
  if (!single) {
    // Four panels of half the size each: the layout aims at one panel's aspect.
    layout = makeSheetLayout(snap.x.shape, false, false, aspect);
  }
  layout_ = layout;
  layout_mode_ = s.layout;
  view_size_ = view_size;
  if (!textures && !(key_ && key_->layout != s.layout)) return;
  key_ = key;

  SheetImages images;
  images.rows = layout.rows;
  images.cols = layout.cols;
  const ValueScales scales = valueScales(snap, s.input_map);
  images.x = colorsOf(snap.x, numel, scales.x);
  if (single) images.y = colorsOf(snap.result.y, numel, scales.y);
  images.groups = groups_;
  if (strip) {
    images.stats.assign(static_cast<size_t>(layout.rows) * 8, 0);
    for (int64_t r = 0; r < layout.rows; ++r) {
      const int64_t g = row_groups_[static_cast<size_t>(r)];
      putRgba(images.stats, static_cast<size_t>(2 * r), scales.x.color(snap.result.mean[g]));
      putRgba(images.stats, static_cast<size_t>(2 * r + 1), scales.rstd.color(snap.result.rstd[g]));
    }
  }
  error_ = renderer_.upload(images);
  if (!error_.empty() || single) return;
  for (size_t k = 0; k < s.compare.size() && k < 4; ++k) {
    const ComparePanel& panel = s.compare[k];
    compare_groups_.push_back(panel.plan ? groupOfElements(*panel.plan)
                                         : std::vector<float>(static_cast<size_t>(numel), -1.0f));
    renderer_.uploadGroups(static_cast<int>(k), compare_groups_.back(), layout.rows, layout.cols);
  }
}

// ---- Layout and fitting -------------------------------------------------------------------------

void SheetView::fit(AppState& s, const SceneView& view, bool /*glide*/) {
  const float line = ImGui::GetTextLineHeightWithSpacing();
  const bool single = view.compare_panel < 0;
  // Above: the block titles and the axes line, or a compare panel's header; below: the colour
  // legend.
  const float top = (single ? 3.0f : kCompareHeaderLines + 0.5f) * line + 8.0f;
  const float legend =
      (single ? 3.0f : 2.0f) * line + 2.0f * ImGui::GetStyle().WindowPadding.y + 10.0f;
  s.sheet_camera.fit(layout_, view.size,
                     glm::vec4(12.0f, 12.0f, top, single ? legend : legend * 0.5f));
  fitted = s.sheet_camera;
}

// ---- Navigating and picking ---------------------------------------------------------------------

void SheetView::navigate(AppState& s, const SceneView& view, const PointerInput& pointer) {
  panAndZoomSheet(s.sheet_camera, view, pointer);
}

std::optional<CubeRef> SheetView::pick(const AppState& s, const SceneView& view,
                                       glm::vec2 mouse) const {
  const auto hit = layout_.at(s.sheet_camera.toSheet(mouse, view.pos, view.size));
  if (!hit) return std::nullopt;
  if (hit->section == Section::Mean || hit->section == Section::Rstd) {
    if (hit->index >= static_cast<int64_t>(row_groups_.size())) return std::nullopt;
    return CubeRef{hit->section, row_groups_[static_cast<size_t>(hit->index)]};
  }
  return CubeRef{hit->section, hit->index};
}

std::optional<glm::vec2> SheetView::screenOf(const AppState& s, const SceneView& view,
                                             int64_t flat) const {
  if (!s.shown || flat < 0 || flat >= s.shown->x.numel()) return std::nullopt;
  return s.sheet_camera.toScreen(layout_.center(Section::Input, flat), view.pos, view.size);
}

std::optional<int64_t> SheetView::litGroup(const AppState& s, const SceneView& view) const {
  return view.compare_panel < 0 ? lit_ : compareLit(s, view.compare_panel);
}

// ---- Drawing ------------------------------------------------------------------------------------

void SheetView::draw(const AppState& s, const SceneView& v, const DrawTarget& target) const {
  const bool by_group = s.color_by == ColorBy::Groups;
  const SheetRenderer::View view{v.pos, v.size, target.fb_height, target.fb_scale.y};
  renderer_.draw(layout_, s.sheet_camera, view, std::max(v.compare_panel, 0), litGroup(s, v),
                 by_group, target.background, palette_, by_group ? 0.6f : 0.78f);
}

// ---- Overlay ------------------------------------------------------------------------------------

namespace {

struct Segment {
  int64_t row0, row1, col0, col1;  // rows [row0, row1], columns [col0, col1)
};

// The lit group as rectangles of the sheet: its runs cut at row ends, then stacked rows with the
// same columns merged (within one band).
std::vector<Segment> segmentsOf(const ReductionPlan& plan, int64_t group, const SheetLayout& l) {
  std::vector<Segment> out;
  plan.forEachRun(group, [&](int64_t offset, int64_t length) {
    while (length > 0 && out.size() < 100000) {
      const int64_t row = offset / l.cols, col = offset % l.cols;
      const int64_t take = std::min(length, l.cols - col);
      Segment seg{row, row, col, col + take};
      if (!out.empty()) {
        Segment& last = out.back();
        if (last.col0 == seg.col0 && last.col1 == seg.col1 && last.row1 + 1 == row &&
            last.row0 / l.band_rows == row / l.band_rows) {
          last.row1 = row;
          seg.row0 = -1;
        }
      }
      if (seg.row0 >= 0) out.push_back(seg);
      offset += take;
      length -= take;
    }
  });
  return out;
}

}  // namespace

void SheetView::overlay(const AppState& s, const SceneView& view) const {
  const std::optional<int64_t> lit_group = litGroup(s, view);
  ImDrawList* dl = ImGui::GetBackgroundDrawList();
  dl->PushClipRect(ImVec2(view.pos.x, view.pos.y),
                   ImVec2(view.pos.x + view.size.x, view.pos.y + view.size.y), true);
  const ImU32 text =
      s.theme == Theme::Dark ? IM_COL32(235, 235, 235, 255) : IM_COL32(20, 20, 20, 255);
  const ImU32 outline =
      s.theme == Theme::Dark ? IM_COL32(255, 255, 255, 255) : IM_COL32(0, 0, 0, 255);
  const SheetLayout& l = layout_;
  const SheetCamera& cam = s.sheet_camera;
  auto screen = [&](glm::vec2 p) {
    const glm::vec2 q = cam.toScreen(p, view.pos, view.size);
    return ImVec2(q.x, q.y);
  };
  const float line = ImGui::GetTextLineHeightWithSpacing();
  const Snapshot& snap = *s.shown;
  const bool single = view.compare_panel < 0;

  // Titles above each block, the axes line above them.
  const ImVec2 x_corner = screen({0.0f, 0.0f});
  if (single) {
    dl->AddText(ImVec2(x_corner.x, x_corner.y - line), text, ("x " + snap.x.shape.str()).c_str());
    if (l.with_y) {
      const ImVec2 y_corner = screen({l.blockWidth() + l.block_gap, 0.0f});
      dl->AddText(ImVec2(y_corner.x, y_corner.y - line), text, ("y " + snap.x.shape.str()).c_str());
    }
    if (l.strip) {
      const ImVec2 strip = screen({static_cast<float>(l.cols) + l.gap, 0.0f});
      const ImVec2 strip_end =
          screen({static_cast<float>(l.cols) + l.gap + 2.0f * l.strip_w, 0.0f});
      const char* label = "mean | rstd";
      if (strip_end.x - strip.x >= ImGui::CalcTextSize(label).x)
        dl->AddText(ImVec2(strip.x, strip.y - line), text, label);
      else
        dl->AddText(ImVec2(strip.x, strip.y - line), text, "m|r");
    }
    // Above the blocks: the axes, then (when there is one) a note, then the block titles.
    std::string note;
    if (!l.with_y) note = "y hidden: its cells would be under 2 px (hide panels: P, or enlarge)";
    if (!l.strip)
      note += std::string(note.empty() ? "" : "; ") +
              "rows span several groups: statistics in the table";
    dl->AddText(ImVec2(x_corner.x, x_corner.y - 3.0f * line), text,
                l.axesText(snap.plan.axisNames()).c_str());
    if (!note.empty())
      dl->AddText(ImVec2(x_corner.x, x_corner.y - 2.0f * line), text, note.c_str());
  } else {
    drawComparePanelHeader(s, view);
  }
  if (!error_.empty())
    dl->AddText(nullptr, 0.0f, ImVec2(view.pos.x + 10.0f, view.pos.y + view.size.y * 0.5f),
                IM_COL32(230, 90, 80, 255), error_.c_str(), nullptr, view.size.x - 20.0f);

  // The lit region: a rectangle around each of its row segments, at least 3 px on a side, in x, y
  // and the strip.
  const ReductionPlan* plan = sheetPlan(s, view);
  if (lit_group && plan != nullptr && *lit_group >= 0 && *lit_group < plan->groupCount()) {
    const float bw = l.bandWidth() + l.gap;
    auto rect = [&](glm::vec2 a, glm::vec2 b) {
      ImVec2 p = screen(a), q = screen(b);
      const float cx = 0.5f * (p.x + q.x), cy = 0.5f * (p.y + q.y);
      if (q.x - p.x < 3.0f) p.x = cx - 1.5f, q.x = cx + 1.5f;
      if (q.y - p.y < 3.0f) p.y = cy - 1.5f, q.y = cy + 1.5f;
      dl->AddRect(ImVec2(p.x - 1.0f, p.y - 1.0f), ImVec2(q.x + 1.0f, q.y + 1.0f), outline, 0.0f, 0,
                  2.0f);
    };
    for (const Segment& seg : segmentsOf(*plan, *lit_group, l)) {
      const int64_t band = seg.row0 / l.band_rows;
      const float x0 = static_cast<float>(band) * bw;
      const float r0 = static_cast<float>(seg.row0 - band * l.band_rows),
                  r1 = static_cast<float>(seg.row1 - band * l.band_rows + 1);
      rect({x0 + static_cast<float>(seg.col0), r0}, {x0 + static_cast<float>(seg.col1), r1});
      if (l.with_y) {
        const float dy = l.blockWidth() + l.block_gap;
        rect({dy + x0 + static_cast<float>(seg.col0), r0},
             {dy + x0 + static_cast<float>(seg.col1), r1});
      }
      if (l.strip && seg.col0 == 0 && seg.col1 == l.cols) {
        const float sx = x0 + static_cast<float>(l.cols) + l.gap;
        rect({sx, r0}, {sx + 2.0f * l.strip_w, r1});
      }
    }
  }
  dl->PopClipRect();
  if (single && s.hovered) drawHoverTooltip(s);
}

// ---- Report -------------------------------------------------------------------------------------

nlohmann::json SheetView::report(const AppState& s, const std::vector<SceneView>& views,
                                 glm::vec2 /*display*/) const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : views) {
    nlohmann::json view = viewReport(s, v);
    view["rect"] = {v.pos.x, v.pos.y, v.size.x, v.size.y};
    view["title"] = v.compare_panel >= 0 ? s.compare[static_cast<size_t>(v.compare_panel)].title
                                         : s.shown->plan.pytorchLine();
    out.push_back(std::move(view));
  }
  return out;
}

nlohmann::json SheetView::viewReport(const AppState& s, const SceneView& view) const {
  const std::optional<int64_t> lit_group = litGroup(s, view);
  const SheetLayout& l = layout_;
  const SheetCamera& cam = s.sheet_camera;
  const bool single = view.compare_panel < 0;
  const std::vector<float>& groups =
      single ? groups_ : compare_groups_[static_cast<size_t>(view.compare_panel)];
  const int64_t numel = l.rows * l.cols;
  const bool all = numel <= 65536;
  nlohmann::json cubes = nlohmann::json::array();
  int64_t lit_count = 0, lit_visible = 0;
  // Pixel centres (k + 0.5) inside [a, b).
  auto centres = [](float a, float b) {
    return std::max<int64_t>(0, static_cast<int64_t>(std::floor(b - 0.5f)) -
                                    static_cast<int64_t>(std::ceil(a - 0.5f)) + 1);
  };
  auto add = [&](Section section, int64_t index, int64_t group, int64_t row) {
    const bool lit = lit_group && group == *lit_group;
    if (!all && !lit) return;
    const bool stat = section == Section::Mean || section == Section::Rstd;
    const glm::vec2 centre = l.center(section, stat ? row : index);
    const float half_w = stat ? 0.5f * l.strip_w : 0.5f;
    const glm::vec2 lo = cam.toScreen(centre - glm::vec2(half_w, 0.5f), view.pos, view.size);
    const glm::vec2 hi = cam.toScreen(centre + glm::vec2(half_w, 0.5f), view.pos, view.size);
    const glm::vec2 vlo = glm::max(lo, view.pos), vhi = glm::min(hi, view.pos + view.size);
    const int64_t pixels =
        vlo.x < vhi.x && vlo.y < vhi.y ? centres(vlo.x, vhi.x) * centres(vlo.y, vhi.y) : 0;
    const glm::vec2 at = cam.toScreen(centre, view.pos, view.size);
    // Visible: the pixel at the centre lies in the view and maps back to this very cell.
    bool visible = false;
    if (pixels > 0) {
      const glm::vec2 pixel = glm::floor(at) + 0.5f;
      const auto back = l.at(cam.toSheet(pixel, view.pos, view.size));
      const int64_t want = stat ? row : index;
      visible = back && back->section == section && back->index == want;
    }
    lit_count += lit ? 1 : 0;
    lit_visible += lit && visible ? 1 : 0;
    nlohmann::json cube = {{"section", sectionName(section)},
                           {"index", index},
                           {"lit", lit},
                           {"visible", visible},
                           {"pixels", pixels},
                           {"x", at.x},
                           {"y", at.y}};
    if (row >= 0) cube["row"] = row;
    cubes.push_back(std::move(cube));
  };
  const ReductionPlan* plan = sheetPlan(s, view);
  if (all || !lit_group || plan == nullptr) {
    for (int64_t i = 0; i < numel && (all || lit_group); ++i) {
      const auto g = static_cast<int64_t>(groups[static_cast<size_t>(i)]);
      add(Section::Input, i, g, -1);
    }
  } else {
    for (int64_t i : plan->elementsOf(*lit_group)) add(Section::Input, i, *lit_group, -1);
  }
  if (single && l.strip)
    for (int64_t r = 0; r < l.rows; ++r) {
      const int64_t g = row_groups_[static_cast<size_t>(r)];
      add(Section::Mean, g, g, r);
      add(Section::Rstd, g, g, r);
    }
  if (single && l.with_y) {
    if (all || !lit_group) {
      for (int64_t i = 0; i < numel && all; ++i)
        add(Section::Output, i, static_cast<int64_t>(groups[static_cast<size_t>(i)]), -1);
    } else {
      for (int64_t i : s.shown->plan.elementsOf(*lit_group))
        add(Section::Output, i, *lit_group, -1);
    }
  }
  nlohmann::json out;
  out["display"] = "sheet";
  out["zoom"] = cam.zoom;
  out["listed"] = all ? "all" : "lit";
  out["sheet"] = {{"rows", l.rows},
                  {"cols", l.cols},
                  {"bands", l.bands},
                  {"with_y", l.with_y},
                  {"strip", l.strip}};
  out["lit_count"] = lit_count;
  out["lit_visible"] = lit_visible;
  out["cubes"] = std::move(cubes);
  return out;
}

}  // namespace normviz
