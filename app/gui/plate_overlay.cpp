// The plates and image views' overlay (see plate_view.hpp): the header (what the tiles are, the
// mapping to the screen, what is lit), the axes' labels beside the plates, titles and cell labels
// on tiles large enough to carry them, each picture's statistics, the lit region's outline.
#include <imgui.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

#include "plate_view.hpp"

namespace normviz {

namespace {

ImU32 textColour(const AppState& s) {
  return s.theme == Theme::Dark ? IM_COL32(235, 235, 235, 255) : IM_COL32(20, 20, 20, 255);
}

ImU32 outlineColour(const AppState& s) {
  return s.theme == Theme::Dark ? IM_COL32(255, 255, 255, 255) : IM_COL32(0, 0, 0, 255);
}

// Window pixels of a sheet point.
ImVec2 onScreen(const AppState& s, const SceneView& view, glm::vec2 p) {
  const glm::vec2 q = s.sheet_camera.toScreen(p, view.pos, view.size);
  return ImVec2(q.x, q.y);
}

// Every `step`-th label, the step a power of two that keeps labels `label` pixels apart when
// neighbours stand `pitch` pixels apart.
int64_t tickStep(float pitch, float label) {
  int64_t step = 1;
  while (static_cast<float>(step) * pitch < label && step < (int64_t{1} << 40)) step *= 2;
  return step;
}

constexpr const char* kRgb[] = {"R", "G", "B"};

const char* channelName(int64_t channels, int64_t c) {
  if (channels == 1) return "gray";
  return c >= 0 && c < 3 ? kRgb[c] : "?";
}

// "C = 5" or "N = 3, G = 1": the lit group's place among the statistics.
std::string groupPlace(const ReductionPlan& plan, int64_t group) {
  const Shape& shape = plan.statShape();
  const std::vector<std::string>& names = plan.statAxisNames();
  std::string out;
  int64_t rest = group;
  std::vector<int64_t> index(static_cast<size_t>(shape.rank()));
  for (int a = shape.rank() - 1; a >= 0; --a) {
    index[static_cast<size_t>(a)] = rest % shape[a];
    rest /= shape[a];
  }
  for (int a = 0; a < shape.rank(); ++a)
    out += (out.empty() ? "" : ", ") +
           (static_cast<size_t>(a) < names.size() ? names[static_cast<size_t>(a)] : "?") + " = " +
           std::to_string(index[static_cast<size_t>(a)]);
  return out.empty() ? "the only group" : out;
}

// The axes' names in lower case, as indices are written: the grid's rows (n), its columns (c, or
// "" for rank 3), a picture's rows and columns (h, w).
struct AxisLetters {
  std::string row, col, h, w;
};
AxisLetters lettersOf(const ReductionPlan& plan) {
  const std::vector<std::string>& names = plan.axisNames();
  auto lower = [&](size_t a) {
    std::string out = a < names.size() ? names[a] : "?";
    for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
  };
  AxisLetters l;
  const size_t rank = static_cast<size_t>(plan.shape().rank());
  l.row = lower(0);
  for (size_t a = 1; a + 2 < rank; ++a) l.col += (l.col.empty() ? "" : "\u00b7") + lower(a);
  l.h = lower(rank - 2);
  l.w = lower(rank - 1);
  return l;
}

bool wholeTile(const TileBox& b, const PlateLayout& l) {
  return b.h0 == 0 && b.w0 == 0 && b.h1 == l.tile_h && b.w1 == l.tile_w;
}

}  // namespace

void PlateView::overlay(const AppState& s, const SceneView& view) const {
  if (!s.shown) return;
  ImDrawList* dl = ImGui::GetBackgroundDrawList();
  dl->PushClipRect(ImVec2(view.pos.x, view.pos.y),
                   ImVec2(view.pos.x + view.size.x, view.pos.y + view.size.y), true);
  const std::vector<TileBox> boxes = boxesOf(s, view);
  if (error_.empty()) {
    if (!image_) drawTicks(s, view);
    if (image_ && labels_) drawStatistics(s, view, boxes);
    drawTileTitles(s, view);
    drawOutlines(s, view, boxes);
    drawHeader(s, view, boxes);  // last: zoomed in, it lies over the rest
  } else {
    dl->AddText(nullptr, 0.0f, ImVec2(view.pos.x + 10.0f, view.pos.y + view.size.y * 0.5f),
                IM_COL32(230, 90, 80, 255), error_.c_str(), nullptr, view.size.x - 20.0f);
  }
  dl->PopClipRect();
  if (view.compare_panel >= 0) drawComparePanelHeader(s, view);
  if (view.compare_panel < 0 && s.hovered) drawHoverTooltip(s);
}

// Above the tiles: (plates) what the grid is, then what is lit or how to use the view, then the
// blocks' titles; (image) the mapping to the screen, what is lit, the titles.
void PlateView::drawHeader(const AppState& s, const SceneView& view,
                           const std::vector<TileBox>& boxes) const {
  if (view.compare_panel >= 0) return;
  ImDrawList* dl = ImGui::GetBackgroundDrawList();
  const ImU32 text = textColour(s);
  const Snapshot& snap = *s.shown;
  const ImVec2 corner = onScreen(s, view, glm::vec2(0.0f));
  const float top = corner.y - (image_ ? 3.0f : 4.0f) * line_;
  std::string first;
  if (image_) {
    first = "shown: " + x_mapping_.text + ", " + y_mapping_.text;
  } else {
    const AxisLetters a = lettersOf(snap.plan);
    first = std::to_string(layout_.tile_h) + " \u00d7 " + std::to_string(layout_.tile_w) + " (" +
            a.h + " \u00d7 " + a.w + ") per plate \u00b7 rows " + a.row + " = " +
            std::to_string(layout_.grid_rows);
    if (!a.col.empty())
      first += " \u00b7 columns " + a.col + " = " + std::to_string(layout_.grid_cols);
    if (layout_.bands > 1) first += " \u00b7 " + std::to_string(layout_.bands) + " bands";
  }
  std::string second = litText(s, boxes);
  if (focused_ && s.sheet_camera == *focused_) second += " \u00b7 F or double-click: all";
  // Zoomed in, the two lines stay at the top of the view, over a backdrop.
  const ImVec2 at(std::max(corner.x, view.pos.x + 8.0f), std::max(top, view.pos.y + 4.0f));
  if (at.y > top || at.x > corner.x) {
    const float width =
        std::max(ImGui::CalcTextSize(first.c_str()).x, ImGui::CalcTextSize(second.c_str()).x);
    const ImVec4 bg = ImGui::GetStyleColorVec4(ImGuiCol_WindowBg);
    dl->AddRectFilled(ImVec2(at.x - 4.0f, at.y - 2.0f),
                      ImVec2(at.x + width + 4.0f, at.y + 2.0f * line_ + 2.0f),
                      ImGui::GetColorU32(ImVec4(bg.x, bg.y, bg.z, 0.85f)));
  }
  dl->AddText(at, text, first.c_str());
  dl->AddText(ImVec2(at.x, at.y + line_), text, second.c_str());
  const float title_y = top + 2.0f * line_;
  if (!image_) {
    const AxisLetters a = lettersOf(snap.plan);
    const std::string axes = snap.x.shape.str() + "   " + a.row + " \u2193" +
                             (a.col.empty() ? "" : "  " + a.col + " \u2192");
    dl->AddText(ImVec2(corner.x, title_y), text, ("x " + axes).c_str());
    if (layout_.with_y) {
      const ImVec2 y = onScreen(s, view, layout_.tileOrigin(0, 0, true));
      dl->AddText(ImVec2(y.x, title_y), text, ("y " + axes).c_str());
    }
    return;
  }
  // The image view: "x" and "y" over the first picture of each band, long where they fit.
  const float picture = static_cast<float>(layout_.tile_w) * s.sheet_camera.zoom;
  const std::string x_title = "x " + snap.x.shape.str(), y_title = "y, the norm's output";
  auto fitting = [&](const std::string& title, const char* short_title) {
    return ImGui::CalcTextSize(title.c_str()).x + 8.0f < picture ? title.c_str() : short_title;
  };
  for (int64_t b = 0; b < layout_.bands; ++b) {
    const int64_t row = b * layout_.per_band;
    const ImVec2 x = onScreen(s, view, layout_.tileOrigin(row, 0, false));
    dl->AddText(ImVec2(x.x, title_y), text, fitting(x_title, "x"));
    if (layout_.with_y) {
      const ImVec2 y = onScreen(s, view, layout_.tileOrigin(row, 0, true));
      dl->AddText(ImVec2(y.x, title_y), text, fitting(y_title, "y"));
    }
  }
}

// What is lit, in words; with nothing lit, how to light something (and, when the user chose a view
// this shape cannot have, why this one shows instead).
std::string PlateView::litText(const AppState& s, const std::vector<TileBox>& boxes) const {
  const Shape& shape = s.shown->x.shape;
  const bool refused = s.display_chosen && s.display == DisplayMode::Image && !image_;
  if ((!lit_ || boxes.empty()) && refused) return imageRefusal(shape) + ": plates instead";
  if (!lit_ || boxes.empty())
    return image_ ? "hover: light a group \u00b7 [ ]: channel \u00b7 double-click or F: one picture"
                  : "hover: light a group \u00b7 double-click or F: one plate";
  const ReductionPlan& plan = s.shown->plan;
  if (s.lesson.questionOpen())
    return "lit: " + groupPlace(plan, *lit_) + " (its size: after the question)";
  const std::string size = std::to_string(plan.groupSize()) + " elements";
  bool whole = true;
  std::set<std::pair<int64_t, int64_t>> tiles;
  uint32_t channels = 0;
  for (const TileBox& b : boxes) {
    whole = whole && wholeTile(b, layout_);
    channels |= b.channels;
    for (int64_t r = b.row0; r <= b.row1; ++r)
      for (int64_t c = b.col0; c <= b.col1; ++c) tiles.emplace(r, c);
  }
  if (!image_)
    return "lit: " + groupPlace(plan, *lit_) + " \u00b7 " + size + " \u00b7 " +
           std::to_string(tiles.size()) + (tiles.size() == 1 ? " plate" : " plates") +
           (whole               ? ""
            : tiles.size() == 1 ? " (part of it)"
                                : " (part of each)");
  // The image view names the channels and the pictures, and a part of a picture by its rows.
  std::string out = "lit: ";
  for (int64_t c = 0, k = 0; c < layout_.channels; ++c)
    if (channels & (1u << c))
      out += (k++ > 0 ? ", " : "") + std::string(channelName(layout_.channels, c)) +
             " (c=" + std::to_string(c) + ")";
  if (tiles.size() == 1)
    out += " of n = " + std::to_string(tiles.begin()->first);
  else
    out += tiles.size() == static_cast<size_t>(layout_.grid_rows)
               ? " of every picture"
               : " of " + std::to_string(tiles.size()) + " pictures";
  if (!whole && boxes.size() == 1) {
    const TileBox& b = boxes[0];
    out += b.h1 - b.h0 == 1 ? ", row h = " + std::to_string(b.h0)
                            : ", h " + std::to_string(b.h0) + "-" + std::to_string(b.h1 - 1);
    if (b.w1 - b.w0 < layout_.tile_w)
      out += ", w " + std::to_string(b.w0) + "-" + std::to_string(b.w1 - 1);
  } else if (!whole) {
    out += " (part of each)";
  }
  return out + " \u00b7 " + size;
}

// Plates: the column index c above each band's first row of plates, the row index n left of each
// band's first column, every so many so that the labels stay apart at this zoom.
void PlateView::drawTicks(const AppState& s, const SceneView& view) const {
  ImDrawList* dl = ImGui::GetBackgroundDrawList();
  const ImU32 text = textColour(s);
  const glm::vec2 pitch = layout_.pitch() * s.sheet_camera.zoom;
  const float digits = ImGui::CalcTextSize(std::to_string(layout_.grid_cols - 1).c_str()).x;
  const int64_t col_step = tickStep(pitch.x, digits + 8.0f);
  const int64_t row_step = tickStep(pitch.y, line_);
  const float w = static_cast<float>(layout_.tile_w), h = static_cast<float>(layout_.tile_h);
  for (const bool y : {false, true}) {
    if (y && !layout_.with_y) break;
    for (int64_t b = 0; b < layout_.bands; ++b) {
      const int64_t row0 = layout_.stacked ? 0 : b * layout_.per_band;
      const int64_t col0 = layout_.stacked ? b * layout_.per_band : 0;
      const int64_t rows = std::min(layout_.bandRows(), layout_.grid_rows - row0);
      const int64_t cols = std::min(layout_.bandCols(), layout_.grid_cols - col0);
      if (layout_.grid_cols > 1)
        for (int64_t c = col0; c < col0 + cols;
             c += c == col0 ? col_step - c % col_step : col_step) {
          const std::string label = std::to_string(c);
          const ImVec2 at = onScreen(s, view, layout_.tileOrigin(row0, c, y) + glm::vec2(w / 2, 0));
          dl->AddText(ImVec2(at.x - ImGui::CalcTextSize(label.c_str()).x / 2, at.y - line_), text,
                      label.c_str());
        }
      for (int64_t r = row0; r < row0 + rows; r += r == row0 ? row_step - r % row_step : row_step) {
        const std::string label = std::to_string(r);
        const ImVec2 at = onScreen(s, view, layout_.tileOrigin(r, col0, y) + glm::vec2(0, h / 2));
        dl->AddText(ImVec2(at.x - ImGui::CalcTextSize(label.c_str()).x - 5.0f, at.y - line_ / 2),
                    text, label.c_str());
      }
    }
  }
}

// Tiles large on screen (zoomed in, or one plate fitted): a title above each ("x[n=0, c=5]"), and
// once cells are large, h down its left side and w along its top.
void PlateView::drawTileTitles(const AppState& s, const SceneView& view) const {
  const float zoom = s.sheet_camera.zoom;
  const float w = static_cast<float>(layout_.tile_w), h = static_cast<float>(layout_.tile_h);
  if (w * zoom < 8.0f * line_ || layout_.pad * zoom < 2.2f * line_) return;
  ImDrawList* dl = ImGui::GetBackgroundDrawList();
  const ImU32 text = textColour(s);
  const int64_t step = tickStep(zoom, ImGui::CalcTextSize("000").x + 6.0f);
  const AxisLetters axes = lettersOf(s.shown->plan);
  int drawn = 0;
  for (int64_t row = 0; row < layout_.grid_rows && drawn < 64; ++row)
    for (int64_t col = 0; col < layout_.grid_cols && drawn < 64; ++col)
      for (const bool y : {false, true}) {
        if (y && !layout_.with_y) continue;
        const ImVec2 a = onScreen(s, view, layout_.tileOrigin(row, col, y));
        const ImVec2 b = onScreen(s, view, layout_.tileOrigin(row, col, y) + glm::vec2(w, h));
        if (b.x < view.pos.x || b.y < view.pos.y || a.x > view.pos.x + view.size.x ||
            a.y > view.pos.y + view.size.y)
          continue;
        ++drawn;
        const std::string title =
            std::string(y ? "y" : "x") + "[" + axes.row + "=" + std::to_string(row) +
            (axes.col.empty() || image_ ? "" : ", " + axes.col + "=" + std::to_string(col)) +
            "]   " + axes.h + " \u2193  " + axes.w + " \u2192";
        dl->AddText(ImVec2(a.x, a.y - 2.0f * line_), text, title.c_str());
        if (zoom < 10.0f) continue;
        for (int64_t k = 0; k < layout_.tile_w; k += step) {
          const std::string label = std::to_string(k);
          dl->AddText(ImVec2(a.x + (static_cast<float>(k) + 0.5f) * zoom -
                                 ImGui::CalcTextSize(label.c_str()).x / 2,
                             a.y - line_),
                      text, label.c_str());
        }
        for (int64_t k = 0; k < layout_.tile_h; k += step) {
          const std::string label = std::to_string(k);
          dl->AddText(ImVec2(a.x - ImGui::CalcTextSize(label.c_str()).x - 4.0f,
                             a.y + (static_cast<float>(k) + 0.5f) * zoom - line_ / 2),
                      text, label.c_str());
        }
      }
}

std::string PlateView::statsLine(int64_t n, int64_t c) const {
  const ChannelStats& st = channel_stats_[static_cast<size_t>(n * layout_.channels + c)];
  char line[160];
  std::snprintf(line, sizeof line, "%-4s %.2f \u00b1 %.2f  \u2192  %.2f \u00b1 %.2f",
                channelName(layout_.channels, c), st.x_mean, st.x_std, st.y_mean, st.y_std);
  return line;
}

// The image view: beside each picture its sample index, then per channel the mean and std of x and
// of y over its pixels; the lit channels' lines boxed.
void PlateView::drawStatistics(const AppState& s, const SceneView& view,
                               const std::vector<TileBox>& boxes) const {
  ImDrawList* dl = ImGui::GetBackgroundDrawList();
  const ImU32 text = textColour(s), outline = outlineColour(s);
  for (int64_t n = 0; n < layout_.grid_rows; ++n) {
    const ImVec2 o = onScreen(s, view, layout_.labelOrigin(n));
    if (o.y > view.pos.y + view.size.y || o.y + line_ * 4.0f < view.pos.y) continue;
    const ImVec2 at(o.x + labelInset().x, o.y + labelInset().y);
    dl->AddText(at, text, ("n = " + std::to_string(n) + ":  mean \u00b1 std, x \u2192 y").c_str());
    uint32_t lit = 0;
    for (const TileBox& b : boxes)
      if (b.row0 == n) lit |= b.channels;
    for (int64_t c = 0; c < layout_.channels; ++c) {
      const std::string line = statsLine(n, c);
      const ImVec2 p(at.x, at.y + static_cast<float>(c + 1) * line_);
      dl->AddText(p, text, line.c_str());
      if (lit & (1u << c)) {
        const ImVec2 size = ImGui::CalcTextSize(line.c_str());
        dl->AddRect(ImVec2(p.x - 4.0f, p.y - 1.0f),
                    ImVec2(p.x + size.x + 4.0f, p.y + size.y + 1.0f), outline, 0.0f, 0, 2.0f);
      }
    }
  }
}

// The lit region: a rectangle around each box, at least 3 px on a side, over x's pictures and y's.
void PlateView::drawOutlines(const AppState& s, const SceneView& view,
                             const std::vector<TileBox>& boxes) const {
  ImDrawList* dl = ImGui::GetBackgroundDrawList();
  const ImU32 outline = outlineColour(s);
  for (const TileBox& box : boxes)
    for (const bool y : {false, true}) {
      if (y && !layout_.with_y) continue;
      const auto [lo, hi] = boxRect(layout_, box, y);
      ImVec2 p = onScreen(s, view, lo), q = onScreen(s, view, hi);
      const float cx = 0.5f * (p.x + q.x), cy = 0.5f * (p.y + q.y);
      if (q.x - p.x < 3.0f) p.x = cx - 1.5f, q.x = cx + 1.5f;
      if (q.y - p.y < 3.0f) p.y = cy - 1.5f, q.y = cy + 1.5f;
      dl->AddRect(ImVec2(p.x - 1.0f, p.y - 1.0f), ImVec2(q.x + 1.0f, q.y + 1.0f), outline, 0.0f, 0,
                  2.0f);
    }
}

}  // namespace normviz
