// The cube view: x, its per-group statistics and y as instanced cubes in 3D (in backward mode dy,
// the two sums, dx, dweight and dbias in their places), or the four compare panels' inputs. The
// layout and the instances are cached: hovering moves only the lit group, a shader uniform.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "renderer.hpp"
#include "scene_colors.hpp"
#include "scene_layout.hpp"
#include "tensor_view.hpp"

namespace normviz {

class CubeView final : public TensorView {
 public:
  std::string init() override { return renderer_.init(); }
  // The layout on a change of result, layout mode, explode or aspect; the instances on a change of
  // colours (ColorKey); the lit group every frame.
  void rebuild(AppState& s, glm::vec2 view_size) override;
  bool atFit(const AppState& s) const override { return s.camera == fitted; }
  // Keeps room for the text drawn beside the cubes: arrow names around the block, section titles,
  // compare panels' titles, the legend.
  void fit(AppState& s, const SceneView& view, bool glide) override;
  // Eased in and out over 0.6 s; the glide's end counts as the fit.
  bool advance(AppState& s) override;
  // Left drag orbits, right or middle (or shift + left) pans, the wheel zooms.
  void navigate(AppState& s, const SceneView& view, const PointerInput& pointer) override;
  std::optional<CubeRef> pick(const AppState& s, const SceneView& view,
                              glm::vec2 mouse) const override;
  std::optional<glm::vec2> screenOf(const AppState& s, const SceneView& view,
                                    int64_t flat) const override;
  std::optional<int64_t> litGroup(const AppState& s, const SceneView& view) const override;
  void draw(const AppState& s, const SceneView& view, const DrawTarget& target) const override;
  void overlay(const AppState& s, const SceneView& view) const override;
  // Read from one id render pass: each pixel names the cube that owns it, as drawn. Throws
  // std::runtime_error when the pass cannot be made (no framebuffer).
  nlohmann::json report(const AppState& s, const std::vector<SceneView>& views,
                        glm::vec2 display) const override;

  // Where the last fit put the camera, and a glide towards it (a lesson's next step).
  struct Glide {
    bool active = false;
    Camera from, to;
    std::chrono::steady_clock::time_point start;
  };
  Camera fitted;
  Glide glide;

 private:
  std::vector<uint8_t> renderIds(const AppState& s, const std::vector<SceneView>& views, int width,
                                 int height, std::string& error) const;
  template <typename IdAt>
  nlohmann::json viewReport(const AppState& s, const SceneView& v, int width, int height,
                            const IdAt& id_at) const;
  void rebuildInstances(const AppState& s, const ElementTint* tint);

  CubeRenderer renderer_;
  uint64_t result_version_ = ~uint64_t{0};
  LayoutMode layout_mode_ = LayoutMode::Single;
  float explode_ = -1.0f, aspect_ = -1.0f;
  bool affine_ = false;
  std::optional<ColorKey> key_;  // what the instances were built for
  std::optional<int64_t> lit_;   // the single layout's lit tag, this frame
  SceneLayout layout_;
  std::vector<CubeInstance> instances_;
  int64_t per_panel_ = 0;
};

}  // namespace normviz
