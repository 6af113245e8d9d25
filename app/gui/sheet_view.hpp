// The sheet view in the window: its cached layout and textures, camera fitting, hover and pan/zoom,
// the overlay (titles, the lit region's outline, the tooltip) and its part of --report.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app_state.hpp"
#include "panels.hpp"
#include "sheet_renderer.hpp"

namespace normviz {

struct SheetCache {
  std::optional<ColorKey> key;  // what the textures were built for
  LayoutMode layout_mode = LayoutMode::Single;
  glm::vec2 view_size{0.0f};
  SheetLayout layout;
  std::vector<int64_t> row_groups;                 // the single plan's group per row (strip)
  std::vector<std::vector<float>> compare_groups;  // per compare panel, for the lit outline
  std::vector<float> groups;                       // the single plan's group per element
  std::string error;                               // the textures could not be made
};

// Rebuilds the layout and textures when the result, colours, layout or the view's aspect changed.
void rebuildSheet(const AppState& state, SheetCache& cache, SheetRenderer& renderer,
                  glm::vec2 view_size);
// Fits the sheet camera to `view`, keeping room for the text above it and the legend below.
void fitSheet(AppState& state, const SheetCache& cache, const SceneView& view);
// The element, or strip statistic, under a window point of `view`.
std::optional<CubeRef> pickSheet(const AppState& state, const SheetCache& cache,
                                 const SceneView& view, glm::vec2 mouse);
// The plan whose groups a view shows (the compare panel's, or the snapshot's); nullptr for a
// compare panel without a plan.
const ReductionPlan* sheetPlan(const AppState& state, const SceneView& view);
// Titles, axis text, the lit region's outline rectangles, the tooltip.
void drawSheetOverlay(const AppState& state, const SheetCache& cache, const SceneView& view,
                      std::optional<int64_t> lit_group);
// Every cell's (or, past 65,536 elements, every lit cell's) screen position, lit state and pixels.
nlohmann::json sheetViewReport(const AppState& state, const SheetCache& cache,
                               const SceneView& view, std::optional<int64_t> lit_group);

}  // namespace normviz
