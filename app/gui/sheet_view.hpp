// The sheet view: every element a cell of a flat image (x, the statistics strip and y), drawn by
// one shader from textures, for tensors of up to 16M elements. Its layout and textures are cached
// and rebuilt when the result, the colours, the layout or the view's aspect change.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sheet_renderer.hpp"
#include "tensor_view.hpp"

namespace normviz {

class SheetView final : public TensorView {
 public:
  std::string init() override;
  void rebuild(AppState& s, glm::vec2 view_size) override;
  bool atFit(const AppState& s) const override { return s.sheet_camera == fitted; }
  // Keeps room for the text above the sheet and the legend below it.
  void fit(AppState& s, const SceneView& view, bool glide) override;
  // Any drag pans, the wheel zooms about the mouse.
  void navigate(AppState& s, const SceneView& view, const PointerInput& pointer) override;
  // An element of x or y, or a row's statistic in the strip.
  std::optional<CubeRef> pick(const AppState& s, const SceneView& view,
                              glm::vec2 mouse) const override;
  std::optional<glm::vec2> screenOf(const AppState& s, const SceneView& view,
                                    int64_t flat) const override;
  std::optional<int64_t> litGroup(const AppState& s, const SceneView& view) const override;
  void draw(const AppState& s, const SceneView& view, const DrawTarget& target) const override;
  // Titles, the axes line, the lit region's outline rectangles, the tooltip.
  void overlay(const AppState& s, const SceneView& view) const override;
  // Every cell (past 65,536 elements, every lit cell) per view, from the sheet's own layout.
  nlohmann::json report(const AppState& s, const std::vector<SceneView>& views,
                        glm::vec2 display) const override;

  SheetCamera fitted;  // where the last fit put the camera

 private:
  nlohmann::json viewReport(const AppState& s, const SceneView& view) const;

  SheetRenderer renderer_;
  std::optional<ColorKey> key_;  // what the textures were built for
  LayoutMode layout_mode_ = LayoutMode::Single;
  glm::vec2 view_size_{0.0f};
  SheetLayout layout_;
  std::vector<int64_t> row_groups_;                 // the single plan's group per row (strip)
  std::vector<std::vector<float>> compare_groups_;  // per compare panel, for the lit outline
  std::vector<float> groups_;                       // the single plan's group per element
  std::string error_;                               // the textures could not be made
  std::optional<int64_t> lit_;                      // the single layout's lit group this frame
  std::vector<glm::vec3> palette_;                  // the group colours the shader cycles through
};

}  // namespace normviz
