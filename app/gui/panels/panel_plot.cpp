// The plot under the tensor (--plot, the Controls panel's "Plot"): its title and subtitle, then its
// charts in a grid, or the small multiples of the histograms in as many rows as fit. The numbers
// are plot_data.cpp's, computed once per change of layer, data, pinned channel or plot.
#include <imgui.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "panels.hpp"
#include "plot_chart.hpp"
#include "plot_data.hpp"

namespace normviz {

namespace {

// Small multiples: a column of row labels, the first row's chart titles above, the last row's tick
// labels below, and as many rows as fit at a readable height (saying how many do not).
void drawRows(ImDrawList* dl, ImVec2 min, ImVec2 max, const PlotData& p, Theme theme) {
  const float font = ImGui::GetFontSize();
  const int rows = static_cast<int>(p.row_labels.size());
  float label_width = 0.0f;
  for (const std::string& l : p.row_labels)
    label_width = std::max(label_width, ImGui::CalcTextSize(l.c_str()).x);
  label_width += font * 0.6f;
  const float header = font * 1.2f, footer = font * 2.6f;
  const float room = max.y - min.y - header - footer;
  const int fit = std::clamp(static_cast<int>(room / (font * 1.3f)), 1, rows);
  const float row_height = room / static_cast<float>(fit);
  const float column = (max.x - min.x - label_width) / static_cast<float>(p.columns);
  const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
  for (int r = 0; r < fit; ++r) {
    const float top = min.y + header + row_height * static_cast<float>(r);
    const bool first = r == 0, last = r == fit - 1;
    const float label_y = top + (row_height - font) * 0.5f;
    dl->AddText(ImVec2(min.x, label_y), text, p.row_labels[static_cast<size_t>(r)].c_str());
    for (int c = 0; c < p.columns; ++c) {
      const Chart& chart = p.charts[static_cast<size_t>(r * p.columns + c)];
      ChartParts parts{first, false, last, false, last, false, false};
      const float left = min.x + label_width + column * static_cast<float>(c);
      // Every row's data area is row_height tall: the first reaches up into the header for its
      // title, the last down into the footer for its ticks.
      drawChart(
          dl, ImVec2(left, first ? top - header : top),
          ImVec2(left + column - font * 0.8f, last ? top + row_height + footer : top + row_height),
          chart, theme, parts);
    }
  }
  if (fit < rows) {
    char more[32];
    std::snprintf(more, sizeof more, "+%d more", rows - fit);
    dl->AddText(ImVec2(min.x, max.y - font * 1.2f), ImGui::GetColorU32(ImGuiCol_TextDisabled),
                more);
  }
}

// The charts of a plot in rows of p.columns, each the same size.
void drawGrid(ImDrawList* dl, ImVec2 min, ImVec2 max, const PlotData& p, Theme theme) {
  const float font = ImGui::GetFontSize();
  const int columns = std::max(p.columns, 1);
  if (p.shared_legend && !p.charts.empty())
    min.y = drawChartLegend(dl, min, max.x - min.x, p.charts.front(), theme);
  const int rows = (static_cast<int>(p.charts.size()) + columns - 1) / columns;
  const float w = (max.x - min.x) / static_cast<float>(columns);
  const float h = (max.y - min.y) / static_cast<float>(std::max(rows, 1));
  for (size_t i = 0; i < p.charts.size(); ++i) {
    const auto c = static_cast<float>(static_cast<int>(i) % columns);
    const auto r = static_cast<float>(static_cast<int>(i) / columns);
    const ImVec2 a(min.x + c * w, min.y + r * h);
    ChartParts parts;
    parts.legend = !p.shared_legend;
    drawChart(dl, a, ImVec2(a.x + w - (c + 1 < static_cast<float>(columns) ? font : 0.0f), a.y + h),
              p.charts[i], theme, parts);
  }
}

}  // namespace

void drawPlotPanel(AppState& s, glm::vec2 pos, glm::vec2 size) {
  const PlotData* p = updatePlot(s);
  if (p == nullptr || size.x < 1.0f || size.y < 1.0f) return;
  ImGui::SetNextWindowPos(ImVec2(pos.x, pos.y), ImGuiCond_Always);
  ImGui::SetNextWindowSize(ImVec2(size.x, size.y), ImGuiCond_Always);
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                 ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoNav |
                                 ImGuiWindowFlags_NoFocusOnAppearing |
                                 ImGuiWindowFlags_NoBringToFrontOnFocus;
  if (!ImGui::Begin("##plot", nullptr, flags)) {
    ImGui::End();
    return;
  }
  // Presenter mode's large type would leave a short or narrow plot no room for data: its text
  // shrinks until about 14 lines and 36 em fit, never below 65% (still larger than the desktop's).
  const float em = ImGui::GetFontSize();
  ImGui::SetWindowFontScale(
      std::clamp(std::min(size.y / em / 14.0f, size.x / em / 36.0f), 0.65f, 1.0f));
  const float font = ImGui::GetFontSize();
  const ImVec2 min = ImGui::GetCursorScreenPos();
  const ImVec2 max(pos.x + size.x - ImGui::GetStyle().WindowPadding.x,
                   pos.y + size.y - ImGui::GetStyle().WindowPadding.y);
  const float wrap = max.x - min.x;
  ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + wrap);
  if (!p->error.empty()) {
    ImGui::TextWrapped("no plot: %s", p->error.c_str());
    ImGui::PopTextWrapPos();
    ImGui::End();
    return;
  }
  ImGui::TextUnformatted(p->title.c_str());
  // The subtitle explains the data; where the charts would get too short (presenter mode's large
  // type) it gives way to them.
  const float subtitle = ImGui::CalcTextSize(p->subtitle.c_str(), nullptr, false, wrap).y;
  const float charts = max.y - ImGui::GetCursorScreenPos().y - font * 0.3f;
  if (!p->subtitle.empty() && charts - subtitle > font * 8.0f) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextUnformatted(p->subtitle.c_str());
    ImGui::PopStyleColor();
  }
  ImGui::PopTextWrapPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 top(min.x, ImGui::GetCursorScreenPos().y + font * 0.3f);
  if (p->row_labels.empty()) {
    drawGrid(dl, top, max, *p, s.theme);
  } else {
    drawRows(dl, top, max, *p, s.theme);
  }
  ImGui::End();
}

}  // namespace normviz
