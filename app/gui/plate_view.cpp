// The plates and image views (see plate_view.hpp): layout, textures from the snapshot, the camera,
// hover, drawing and the report. The overlay is in plate_overlay.cpp.
//
// Sections: building the images · layout and fitting · navigating and picking · drawing · report.
#include "plate_view.hpp"

#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "colormap.hpp"
#include "lit_region.hpp"
#include "panels.hpp"

namespace normviz {

namespace {

// ---- Building the images ------------------------------------------------------------------------

uint8_t byteOf(float v) {
  return static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
}

void putRgba(std::vector<uint8_t>& out, size_t texel, glm::vec3 c) {
  out[4 * texel + 0] = byteOf(c.r);
  out[4 * texel + 1] = byteOf(c.g);
  out[4 * texel + 2] = byteOf(c.b);
  out[4 * texel + 3] = 255;
}

// The key without the parts that only move cubes (explode, aspect): the textures stay.
ColorKey textureKey(const AppState& s) {
  ColorKey key = colorKey(s, nullptr);
  key.explode = 0.0f;
  key.aspect = 0.0f;
  return key;
}

// The plan whose groups a view shows (the compare panel's, or the snapshot's); nullptr for a
// compare panel without a plan.
const ReductionPlan* planOf(const AppState& s, const SceneView& view) {
  if (view.compare_panel < 0) return &s.shown->plan;
  const ComparePanel& panel = s.compare[static_cast<size_t>(view.compare_panel)];
  return panel.plan ? &*panel.plan : nullptr;
}

// Each sample's channels over H x W: mean and standard deviation (over N, as torch.std(unbiased=
// False)), of x and of y, in float64.
template <typename X, typename Y>
void momentsOf(const X& x, const Y& y, int64_t offset, int64_t count, double out[4]) {
  double sx = 0, sy = 0;
  for (int64_t i = 0; i < count; ++i) {
    sx += static_cast<double>(x[offset + i]);
    sy += static_cast<double>(y[offset + i]);
  }
  const double mx = sx / static_cast<double>(count), my = sy / static_cast<double>(count);
  double vx = 0, vy = 0;
  for (int64_t i = 0; i < count; ++i) {
    const double dx = static_cast<double>(x[offset + i]) - mx,
                 dy = static_cast<double>(y[offset + i]) - my;
    vx += dx * dx;
    vy += dy * dy;
  }
  out[0] = mx;
  out[1] = std::sqrt(vx / static_cast<double>(count));
  out[2] = my;
  out[3] = std::sqrt(vy / static_cast<double>(count));
}

}  // namespace

float PlateView::Mapping::operator()(double v) const {
  if (!std::isfinite(v)) return 0.0f;
  return static_cast<float>(std::clamp(offset + scale * v, 0.0, 1.0));
}

std::string PlateView::init() {
  palette_.clear();
  for (int k = 0; k < 24; ++k) palette_.push_back(categoricalColor(k));
  return renderer_.init();
}

void PlateView::rebuild(AppState& s, glm::vec2 view_size) {
  if (!s.shown) return;
  // Like the sheet, this view draws x and y, also in backward mode.
  lit_ = singleLit(s, nullptr, false).tag;
  if (lit_ != boxes_group_) lit_boxes_.clear();
  const ColorKey key = textureKey(s);
  const float line = ImGui::GetTextLineHeightWithSpacing();
  const bool textures = !(key_ == key);
  if (textures || layout_mode_ != s.layout || view_size_ != view_size || line_ != line) {
    makeLayout(s, view_size);
    lit_boxes_.clear();
    if (textures) {
      key_ = key;
      uploadImages(s);
    }
  }
  if (lit_boxes_.empty() && lit_ && error_.empty() && *lit_ >= 0 &&
      *lit_ < s.shown->plan.groupCount())
    lit_boxes_ = litBoxes(layout_, s.shown->plan, *lit_);
  boxes_group_ = lit_;
}

void PlateView::uploadImages(const AppState& s) {
  const Snapshot& snap = *s.shown;
  error_.clear();
  atlas_ = plateAtlas(layout_, renderer_.maxTextureSize());
  if (!atlas_) {
    error_ = "the pictures (" + std::to_string(layout_.tile_h) + " x " +
             std::to_string(layout_.tile_w) + " each, " + std::to_string(layout_.tiles()) +
             " of them) do not fit in textures of " + std::to_string(renderer_.maxTextureSize()) +
             " texels a side on this GPU";
    return;
  }
  groups_ = groupOfElements(snap.plan);
  PlateImages images;
  images.atlas = *atlas_;
  if (image_) {
    measurePictures(snap);
    fillPictures(snap, images);
  } else {
    fillPlates(snap, s.input_map, images);
  }
  renderer_.upload(images);
  compare_groups_.clear();
  if (s.layout == LayoutMode::Single) return;
  for (size_t k = 0; k < s.compare.size() && k < 4; ++k) {
    const ComparePanel& panel = s.compare[k];
    compare_groups_.push_back(panel.plan
                                  ? groupOfElements(*panel.plan)
                                  : std::vector<float>(static_cast<size_t>(snap.x.numel()), -1.0f));
    const int components = image_ ? 3 : 1;
    renderer_.uploadGroups(static_cast<int>(k), atlasGroups(compare_groups_.back(), components),
                           components, *atlas_);
  }
}

// The image view's mappings to the screen, and each (n, c)'s statistics.
void PlateView::measurePictures(const Snapshot& snap) {
  // x as ToTensor makes it, when it is in [0, 1]; else its range stretched over [0, 1]. y, about
  // zero with unit variance after a norm, as 0.5 + y/4: ±2 standard deviations fill the range.
  const double lo = snap.x_summary.lo, hi = snap.x_summary.hi;
  if (lo >= 0.0 && hi <= 1.0) {
    x_mapping_ = {0.0, 1.0, "x as is"};
  } else {
    const double span = hi > lo ? hi - lo : 1.0;
    char text[96];
    std::snprintf(text, sizeof text, "x as (x %s %.3g) / %.3g", lo < 0.0 ? "+" : "-", std::abs(lo),
                  span);
    x_mapping_ = {-lo / span, 1.0 / span, text};
  }
  y_mapping_ = {0.5, 0.25, "y as 0.5 + y/4, clamped to [0, 1]"};
  const int64_t planes = layout_.grid_rows * layout_.channels,
                area = layout_.tile_h * layout_.tile_w;
  channel_stats_.assign(static_cast<size_t>(planes), {});
  for (int64_t p = 0; p < planes; ++p) {
    double m[4];
    momentsOf(snap.x, snap.result.y, p * area, area, m);
    channel_stats_[static_cast<size_t>(p)] = {m[0], m[1], m[2], m[3]};
  }
}

// Each plate's values in the colour map, and its cells' groups, at its place in the atlas.
void PlateView::fillPlates(const Snapshot& snap, ColorMap input_map, PlateImages& images) const {
  const PlateAtlas& a = *atlas_;
  const size_t texels = static_cast<size_t>(a.width * a.height);
  const ValueScales scales = valueScales(snap, input_map);
  images.x.assign(texels * 4, 0);
  images.y.assign(texels * 4, 0);
  const int64_t h = layout_.tile_h, w = layout_.tile_w;
  for (int64_t t = 0; t < layout_.tiles(); ++t)
    for (int64_t r = 0; r < h; ++r) {
      const glm::ivec2 first = a.texel(layout_, t, r, 0);
      for (int64_t c = 0; c < w; ++c) {
        const int64_t flat = (t * h + r) * w + c;
        const auto texel = static_cast<size_t>(first.y * a.width + first.x + c);
        putRgba(images.x, texel, scales.x.color(static_cast<double>(snap.x[flat])));
        putRgba(images.y, texel, scales.y.color(snap.result.y[flat]));
      }
    }
  images.components = 1;
  images.groups = atlasGroups(groups_, 1);
}

// Each sample as a picture: its channels as R, G, B (one channel: gray), through the mappings.
void PlateView::fillPictures(const Snapshot& snap, PlateImages& images) const {
  const PlateAtlas& a = *atlas_;
  const size_t texels = static_cast<size_t>(a.width * a.height);
  images.x.assign(texels * 4, 0);
  images.y.assign(texels * 4, 0);
  const int64_t h = layout_.tile_h, w = layout_.tile_w, channels = layout_.channels;
  for (int64_t n = 0; n < layout_.grid_rows; ++n)
    for (int64_t r = 0; r < h; ++r) {
      const glm::ivec2 first = a.texel(layout_, n, r, 0);
      for (int64_t c = 0; c < w; ++c) {
        const auto texel = static_cast<size_t>(first.y * a.width + first.x + c);
        glm::vec3 x(0.0f), y(0.0f);
        for (int64_t k = 0; k < 3; ++k) {
          const int64_t flat = (((n * channels) + std::min(k, channels - 1)) * h + r) * w + c;
          x[static_cast<int>(k)] = x_mapping_(static_cast<double>(snap.x[flat]));
          y[static_cast<int>(k)] = y_mapping_(snap.result.y[flat]);
        }
        putRgba(images.x, texel, x);
        putRgba(images.y, texel, y);
      }
    }
  images.components = 3;
  images.groups = atlasGroups(groups_, 3);
}

// Per-element groups at their atlas places: one float per cell (plates), or per pixel the groups
// of its channels (image; a gray picture's one group three times).
std::vector<float> PlateView::atlasGroups(const std::vector<float>& groups, int components) const {
  const PlateAtlas& a = *atlas_;
  std::vector<float> out(static_cast<size_t>(a.width * a.height * components), -1.0f);
  const int64_t area = layout_.tile_h * layout_.tile_w;
  const int64_t planes = image_ ? layout_.channels : 1;
  for (int64_t t = 0; t < layout_.tiles(); ++t)
    for (int64_t r = 0; r < layout_.tile_h; ++r) {
      const glm::ivec2 first = a.texel(layout_, t, r, 0);
      for (int64_t c = 0; c < layout_.tile_w; ++c) {
        const auto texel = static_cast<size_t>(first.y * a.width + first.x + c);
        for (int k = 0; k < components; ++k) {
          const int64_t plane = std::min<int64_t>(k, planes - 1);
          const int64_t flat = (t * planes + plane) * area + r * layout_.tile_w + c;
          out[texel * static_cast<size_t>(components) + static_cast<size_t>(k)] =
              groups[static_cast<size_t>(flat)];
        }
      }
    }
  return out;
}

// ---- Layout and fitting -------------------------------------------------------------------------

glm::vec4 PlateView::margins(bool single) const {
  const float line = line_ > 0.0f ? line_ : ImGui::GetTextLineHeightWithSpacing();
  // Above: the header's two lines and the titles, or a compare panel's header; then (plates) the
  // column labels. Left (plates): the row labels. Below: the colour legend.
  const float labels = image_ ? 0.0f : 1.0f;
  const float top = ((single ? 3.0f : kCompareHeaderLines + 0.5f) + labels) * line + 8.0f;
  const float left =
      image_ ? 12.0f : 16.0f + ImGui::CalcTextSize(std::to_string(layout_.grid_rows).c_str()).x;
  const float legend =
      (single ? 3.0f : 2.0f) * line + 2.0f * ImGui::GetStyle().WindowPadding.y + 10.0f;
  return {left, 12.0f, top, single ? legend : legend * 0.5f};
}

PlateRoom PlateView::roomFor(const AppState& s, glm::vec2 view_size, bool single,
                             bool labels) const {
  const glm::vec4 m = margins(single);
  PlateRoom room;
  room.room = glm::max(view_size - glm::vec2(m.x + m.y, m.z + m.w), glm::vec2(10.0f));
  const float line = ImGui::GetTextLineHeightWithSpacing();
  const float digits = ImGui::CalcTextSize(std::to_string(s.shown->x.shape[0]).c_str()).x + 12.0f;
  room.band_gap = std::max(line + 4.0f, digits);
  room.block_gap = digits + 24.0f;
  if (labels) {
    const std::string widest = "gray -0.000 \u00b1 0.000  \u2192  -0.000 \u00b1 0.000";
    const std::string header = "n = 00000:  mean \u00b1 std, x \u2192 y";
    const float text =
        std::max(ImGui::CalcTextSize(widest.c_str()).x, ImGui::CalcTextSize(header.c_str()).x);
    room.label = glm::vec2(text + 24.0f, static_cast<float>(s.shown->x.shape[1] + 1) * line + 8.0f);
  }
  return room;
}

void PlateView::makeLayout(const AppState& s, glm::vec2 view_size) {
  const Snapshot& snap = *s.shown;
  const bool single = s.layout == LayoutMode::Single;
  line_ = ImGui::GetTextLineHeightWithSpacing();
  layout_mode_ = s.layout;
  view_size_ = view_size;
  layout_.grid_rows = snap.x.shape[0];  // margins() reads it
  // The image view keeps its statistics beside each picture while the pictures stay 64 px or more.
  labels_ = image_ && single;
  layout_ = makePlateLayout(snap.x.shape, image_, single, roomFor(s, view_size, single, labels_));
  if (labels_ && static_cast<float>(layout_.tile_w) * layout_.fit_zoom < 64.0f) {
    labels_ = false;
    layout_ = makePlateLayout(snap.x.shape, image_, single, roomFor(s, view_size, single, false));
  }
}

void PlateView::fit(AppState& s, const SceneView& view, bool /*glide*/) {
  s.sheet_camera.fitBox(glm::vec2(0.0f), glm::vec2(layout_.width(), layout_.height()), view.size,
                        margins(view.compare_panel < 0));
  fitted = s.sheet_camera;
  focused_.reset();
}

void PlateView::focus(AppState& s, const SceneView& view) {
  if (focused_ && s.sheet_camera == *focused_) {
    s.reframe = true;  // the second time: the whole tensor again
    focused_.reset();
    return;
  }
  const auto active = s.active();
  if (!s.shown || !active ||
      (active->section != Section::Input && active->section != Section::Output))
    return;
  const PlateLayout::Cell c = layout_.cellOf(active->index);
  glm::vec2 origin, extent;
  if (image_) {
    origin = layout_.tileOrigin(c.row, 0, false);
    extent = glm::vec2(layout_.tileWidth(), layout_.tileHeight());
  } else {
    origin = layout_.tileOrigin(c.row, c.col, active->section == Section::Output);
    extent = glm::vec2(static_cast<float>(layout_.tile_w), static_cast<float>(layout_.tile_h));
  }
  s.sheet_camera.fitBox(origin, extent, view.size, margins(view.compare_panel < 0));
  focused_ = s.sheet_camera;
}

// ---- Navigating and picking ---------------------------------------------------------------------

void PlateView::navigate(AppState& s, const SceneView& view, const PointerInput& pointer) {
  panAndZoomSheet(s.sheet_camera, view, pointer);
}

std::optional<CubeRef> PlateView::pick(const AppState& s, const SceneView& view,
                                       glm::vec2 mouse) const {
  if (!s.shown || !error_.empty()) return std::nullopt;
  const auto hit = layout_.at(s.sheet_camera.toSheet(mouse, view.pos, view.size));
  if (!hit) return std::nullopt;
  PlateLayout::Cell cell{hit->row, hit->col, hit->h, hit->w, 0};
  if (image_) {
    // The active element's channel, and its pixel when the mouse is on the statistics.
    const auto active = s.active();
    const bool element =
        active && (active->section == Section::Input || active->section == Section::Output);
    const PlateLayout::Cell before = element ? layout_.cellOf(active->index) : PlateLayout::Cell{};
    cell.channel = before.channel;
    if (hit->label) {
      const float y = hit->in_label.y * s.sheet_camera.zoom - labelInset().y;
      const auto line = static_cast<int64_t>(std::floor(y / line_)) - 1;
      if (!labels_ || line < 0 || line >= layout_.channels) return std::nullopt;
      cell.channel = line;
      cell.h = before.row == cell.row ? before.h : 0;
      cell.w = before.row == cell.row ? before.w : 0;
    }
  }
  return CubeRef{hit->section, layout_.flatOf(cell)};
}

std::optional<glm::vec2> PlateView::screenOf(const AppState& s, const SceneView& view,
                                             int64_t flat) const {
  if (!s.shown || flat < 0 || flat >= s.shown->x.numel()) return std::nullopt;
  return s.sheet_camera.toScreen(layout_.center(Section::Input, flat), view.pos, view.size);
}

std::optional<int64_t> PlateView::litGroup(const AppState& s, const SceneView& view) const {
  return view.compare_panel < 0 ? lit_ : compareLit(s, view.compare_panel);
}

std::vector<TileBox> PlateView::boxesOf(const AppState& s, const SceneView& view) const {
  const std::optional<int64_t> group = litGroup(s, view);
  const ReductionPlan* plan = planOf(s, view);
  if (!group || plan == nullptr || *group < 0 || *group >= plan->groupCount() || !error_.empty())
    return {};
  if (view.compare_panel < 0 && boxes_group_ == group && !lit_boxes_.empty()) return lit_boxes_;
  return litBoxes(layout_, *plan, *group);
}

// ---- Drawing ------------------------------------------------------------------------------------

void PlateView::draw(const AppState& s, const SceneView& v, const DrawTarget& target) const {
  if (!error_.empty() || !atlas_) return;
  PlateRenderer::Look look;
  look.lit_group = litGroup(s, v);
  look.by_group = !image_ && s.color_by == ColorBy::Groups;
  look.background = target.background;
  // As the sheet; pictures fade less and keep most of their colour, so that the one lit can still
  // be compared with the rest.
  look.fade = image_ ? 0.45f : look.by_group ? 0.6f : 0.78f;
  look.grey = image_ ? 0.25f : look.by_group ? 0.0f : 0.75f;
  const PlateRenderer::View view{v.pos, v.size, target.fb_height, target.fb_scale.y};
  renderer_.draw(layout_, s.sheet_camera, view, std::max(v.compare_panel, 0), look, palette_);
}

// ---- Report -------------------------------------------------------------------------------------

nlohmann::json PlateView::report(const AppState& s, const std::vector<SceneView>& views,
                                 glm::vec2 /*display*/) const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : views) {
    nlohmann::json view = viewReport(s, v);
    view["rect"] = {v.pos.x, v.pos.y, v.size.x, v.size.y};
    view["title"] = v.compare_panel >= 0 ? s.compare[static_cast<size_t>(v.compare_panel)].title
                                         : s.shown->plan.pytorchLine();
    if (image_ && v.compare_panel < 0) {
      nlohmann::json stats = nlohmann::json::array();
      for (const ChannelStats& c : channel_stats_)
        stats.push_back(
            {{"x_mean", c.x_mean}, {"x_std", c.x_std}, {"y_mean", c.y_mean}, {"y_std", c.y_std}});
      view["channel_stats"] = std::move(stats);  // per (n, c), n major
      view["mapping"] = {{"x", x_mapping_.text}, {"y", y_mapping_.text}};
      view["statistics_shown"] = labels_;
    }
    out.push_back(std::move(view));
  }
  return out;
}

nlohmann::json PlateView::viewReport(const AppState& s, const SceneView& view) const {
  const std::optional<int64_t> lit_group = litGroup(s, view);
  const SheetCamera& cam = s.sheet_camera;
  const bool single = view.compare_panel < 0;
  const auto panel = static_cast<size_t>(std::max(view.compare_panel, 0));
  const std::vector<float>* groups = single                           ? &groups_
                                     : panel < compare_groups_.size() ? &compare_groups_[panel]
                                                                      : nullptr;
  const int64_t numel = s.shown->x.numel();
  const bool all = numel <= 65536 && groups != nullptr;
  nlohmann::json cubes = nlohmann::json::array();
  int64_t lit_count = 0, lit_visible = 0;
  // Pixel centres (k + 0.5) inside [a, b).
  auto centres = [](float a, float b) {
    return std::max<int64_t>(0, static_cast<int64_t>(std::floor(b - 0.5f)) -
                                    static_cast<int64_t>(std::ceil(a - 0.5f)) + 1);
  };
  auto add = [&](Section section, int64_t index, bool lit) {
    const glm::vec2 centre = layout_.center(section, index);
    const glm::vec2 lo = cam.toScreen(centre - 0.5f, view.pos, view.size);
    const glm::vec2 hi = cam.toScreen(centre + 0.5f, view.pos, view.size);
    const glm::vec2 vlo = glm::max(lo, view.pos), vhi = glm::min(hi, view.pos + view.size);
    const int64_t pixels =
        vlo.x < vhi.x && vlo.y < vhi.y ? centres(vlo.x, vhi.x) * centres(vlo.y, vhi.y) : 0;
    const glm::vec2 at = cam.toScreen(centre, view.pos, view.size);
    // Visible: the pixel at the centre lies in the view and maps back to this very cell.
    bool visible = false;
    if (pixels > 0) {
      const auto back = layout_.at(cam.toSheet(glm::floor(at) + 0.5f, view.pos, view.size));
      const PlateLayout::Cell c = layout_.cellOf(index);
      visible = back && !back->label && back->section == section && back->row == c.row &&
                back->col == c.col && back->h == c.h && back->w == c.w;
    }
    lit_count += lit ? 1 : 0;
    lit_visible += lit && visible ? 1 : 0;
    cubes.push_back({{"section", sectionName(section)},
                     {"index", index},
                     {"lit", lit},
                     {"visible", visible},
                     {"pixels", pixels},
                     {"x", at.x},
                     {"y", at.y}});
  };
  const ReductionPlan* plan = planOf(s, view);
  const bool valid = lit_group && plan != nullptr && *lit_group >= 0 &&
                     *lit_group < plan->groupCount() && error_.empty();
  for (const Section section : {Section::Input, Section::Output}) {
    if (section == Section::Output && !layout_.with_y) break;
    if (all) {
      for (int64_t i = 0; i < numel; ++i)
        add(section, i,
            lit_group && static_cast<int64_t>((*groups)[static_cast<size_t>(i)]) == *lit_group);
    } else if (valid) {
      for (int64_t i : plan->elementsOf(*lit_group)) add(section, i, true);
    }
  }
  nlohmann::json out = layoutReport(s, view);
  out["listed"] = all ? "all" : "lit";
  out["lit_count"] = lit_count;
  out["lit_visible"] = lit_visible;
  out["cubes"] = std::move(cubes);
  return out;
}

// The layout, each tile's rectangle on screen (the first 8,192 per block) and the outline's boxes.
nlohmann::json PlateView::layoutReport(const AppState& s, const SceneView& view) const {
  nlohmann::json out;
  out["display"] = image_ ? "image" : "plates";
  out["zoom"] = s.sheet_camera.zoom;
  out["plates"] = {{"grid_rows", layout_.grid_rows}, {"grid_cols", layout_.grid_cols},
                   {"tile_h", layout_.tile_h},       {"tile_w", layout_.tile_w},
                   {"bands", layout_.bands},         {"stacked", layout_.stacked},
                   {"with_y", layout_.with_y}};
  if (!error_.empty()) out["error"] = error_;
  auto rect = [&](glm::vec2 a, glm::vec2 b) {
    const glm::vec2 p = s.sheet_camera.toScreen(a, view.pos, view.size),
                    q = s.sheet_camera.toScreen(b, view.pos, view.size);
    return nlohmann::json{p.x, p.y, q.x, q.y};
  };
  const glm::vec2 size(static_cast<float>(layout_.tile_w), static_cast<float>(layout_.tile_h));
  nlohmann::json tiles = nlohmann::json::array();
  for (const bool y : {false, true}) {
    if (y && !layout_.with_y) break;
    for (int64_t t = 0; t < std::min<int64_t>(layout_.tiles(), 8192); ++t) {
      const glm::vec2 o = layout_.tileOrigin(t / layout_.grid_cols, t % layout_.grid_cols, y);
      tiles.push_back({{"section", y ? "y" : "x"}, {"tile", t}, {"rect", rect(o, o + size)}});
    }
  }
  out["tiles"] = std::move(tiles);
  nlohmann::json outlines = nlohmann::json::array();
  for (const TileBox& box : boxesOf(s, view))
    for (const bool y : {false, true}) {
      if (y && !layout_.with_y) break;
      const auto [lo, hi] = boxRect(layout_, box, y);
      outlines.push_back({{"section", y ? "y" : "x"},
                          {"rect", rect(lo, hi)},
                          {"tiles", {box.row0, box.col0, box.row1, box.col1}},
                          {"cells", {box.h0, box.w0, box.h1, box.w1}},
                          {"channels", box.channels}});
    }
  out["outlines"] = std::move(outlines);
  return out;
}

}  // namespace normviz
