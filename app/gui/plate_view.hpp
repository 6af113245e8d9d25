// The plates view and the image view (see plate_layout.hpp): the tensor as small pictures, drawn by
// one shader from atlas textures. One class, two kinds:
//
//   plates  every (n, c) plate an H x W picture of its values in the colour map, in a grid of rows
//           n and columns c; x's grid and y's side by side. For feature maps too large for cubes,
//           whose sheet rows would be thinner than a pixel.
//   image   every sample the photo itself (C = 1: gray, C = 3: RGB), x's and y's picture side by
//           side, each channel's mean and std of x and of y beside them; y, not in [0, 1], is
//           mapped to the screen's range as the header states.
//
// Both light the active element's group (dimming the rest) and outline it; a double-click or F fits
// the plate or picture the active element is in, and again the whole tensor. Layout and textures
// are cached like the sheet's and rebuilt when the result, the colours, the layout, the view's size
// or the text size change.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "plate_renderer.hpp"
#include "scene_colors.hpp"
#include "tensor_view.hpp"

namespace normviz {

class PlateView final : public TensorView {
 public:
  explicit PlateView(bool image) : image_(image) {}
  std::string init() override;
  void rebuild(AppState& s, glm::vec2 view_size) override;
  bool atFit(const AppState& s) const override { return s.sheet_camera == fitted; }
  // Keeps room for the text above (and, for plates, the row labels left of) the tiles and the
  // legend below them.
  void fit(AppState& s, const SceneView& view, bool glide) override;
  void focus(AppState& s, const SceneView& view) override;
  // Any drag pans, the wheel zooms about the mouse.
  void navigate(AppState& s, const SceneView& view, const PointerInput& pointer) override;
  // An element of x or y. In a picture, the channel is the active element's (moved with [ and ]),
  // or the one whose statistics line is under the mouse.
  std::optional<CubeRef> pick(const AppState& s, const SceneView& view,
                              glm::vec2 mouse) const override;
  std::optional<glm::vec2> screenOf(const AppState& s, const SceneView& view,
                                    int64_t flat) const override;
  std::optional<int64_t> litGroup(const AppState& s, const SceneView& view) const override;
  void draw(const AppState& s, const SceneView& view, const DrawTarget& target) const override;
  // The header, the axes' labels (plates) or each picture's statistics (image), the lit region's
  // outline, the tooltip.
  void overlay(const AppState& s, const SceneView& view) const override;
  // Every cell (past 65,536 elements, every lit cell) per view, the tiles' and outlines' places,
  // and for the image view the per-channel statistics and the mapping to the screen.
  nlohmann::json report(const AppState& s, const std::vector<SceneView>& views,
                        glm::vec2 display) const override;

  SheetCamera fitted;  // where the last fit put the camera

 private:
  // One (n, c) of the image view: x's and y's mean and standard deviation over its H x W pixels.
  struct ChannelStats {
    double x_mean = 0, x_std = 0, y_mean = 0, y_std = 0;
  };
  // How values become a picture's intensities: clamp(offset + scale * v, 0, 1), and in words.
  struct Mapping {
    double offset = 0, scale = 1;
    std::string text;
    float operator()(double v) const;
  };

  // Where a tile's statistics text starts in its room (pixels).
  glm::vec2 labelInset() const {
    return layout_.label_below ? glm::vec2(0.0f, 4.0f) : glm::vec2(12.0f, 0.0f);
  }
  // Pixels kept free around the tiles: left, right, top, bottom.
  glm::vec4 margins(bool single) const;
  PlateRoom roomFor(const AppState& s, glm::vec2 view_size, bool single, bool labels) const;
  void makeLayout(const AppState& s, glm::vec2 view_size);
  void uploadImages(const AppState& s);
  void measurePictures(const Snapshot& snap);
  void fillPlates(const Snapshot& snap, ColorMap input_map, PlateImages& images) const;
  void fillPictures(const Snapshot& snap, PlateImages& images) const;
  std::vector<float> atlasGroups(const std::vector<float>& groups, int components) const;
  std::vector<TileBox> boxesOf(const AppState& s, const SceneView& view) const;

  // plate_overlay.cpp
  void drawHeader(const AppState& s, const SceneView& view,
                  const std::vector<TileBox>& boxes) const;
  void drawTicks(const AppState& s, const SceneView& view) const;
  void drawTileTitles(const AppState& s, const SceneView& view) const;
  void drawStatistics(const AppState& s, const SceneView& view,
                      const std::vector<TileBox>& boxes) const;
  void drawOutlines(const AppState& s, const SceneView& view,
                    const std::vector<TileBox>& boxes) const;
  std::string litText(const AppState& s, const std::vector<TileBox>& boxes) const;
  std::string statsLine(int64_t n, int64_t c) const;
  nlohmann::json viewReport(const AppState& s, const SceneView& view) const;
  nlohmann::json layoutReport(const AppState& s, const SceneView& view) const;

  bool image_;
  PlateRenderer renderer_;
  std::optional<ColorKey> key_;  // what the textures were built for
  LayoutMode layout_mode_ = LayoutMode::Single;
  glm::vec2 view_size_{0.0f};
  float line_ = 0;  // the text line the layout was made for (pixels)
  PlateLayout layout_;
  bool labels_ = false;  // image: statistics beside each picture
  std::optional<PlateAtlas> atlas_;
  std::vector<float> groups_;                       // the single plan's group per element
  std::vector<std::vector<float>> compare_groups_;  // per compare panel
  std::vector<ChannelStats> channel_stats_;         // image: per (n, c)
  Mapping x_mapping_, y_mapping_;                   // image
  std::string error_;                               // the textures could not be made
  std::optional<int64_t> lit_;                      // the single layout's lit group this frame
  std::optional<int64_t> boxes_group_;              // the group lit_boxes_ outline
  std::vector<TileBox> lit_boxes_;
  std::optional<SheetCamera> focused_;  // where the last focus put the camera
  std::vector<glm::vec3> palette_;      // the group colours the shader cycles through
};

}  // namespace normviz
