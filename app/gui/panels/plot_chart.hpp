// A small plotting helper over ImGui's ImDrawList: one Chart (plot_data.hpp) in a rectangle, with
// its title, legend, axes with tick labels (linear or log), grid, lines, points, bars and error
// bars. Sizes follow the font, so a chart stays readable at presenter mode's large type; colours
// are the Okabe-Ito palette, ordered per theme so that every colour reads on its background.
#pragma once

#include <imgui.h>

#include "plot_data.hpp"
#include "view_options.hpp"

namespace normviz {

// What a chart shows around its data; small multiples leave most of it to their neighbours.
struct ChartParts {
  bool title = true, legend = true;
  bool x_ticks = true, y_ticks = true;  // tick labels (the grid is drawn either way)
  bool x_label = true, y_label = true;
  bool make_room = true;  // drop the x axis' label where the data would get too short
};

// Palette colour `index` of the theme (-1: a neutral grey), with alpha.
ImU32 plotColor(int index, Theme theme, float alpha = 1.0f);

// Draws `chart` in [min, max] (window pixels) with the current font.
void drawChart(ImDrawList* dl, ImVec2 min, ImVec2 max, const Chart& chart, Theme theme,
               ChartParts parts);

// The chart's named series in rows from `at` within `width`; returns the y below the last row.
float drawChartLegend(ImDrawList* dl, ImVec2 at, float width, const Chart& chart, Theme theme);

}  // namespace normviz
