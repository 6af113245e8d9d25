// The interface every way of drawing the tensor implements: the cube view (cube_view.hpp: x, its
// statistics and y as cubes in 3D), the sheet view (sheet_view.hpp: every element a cell of a flat
// image, for tensors too large for cubes), and the plates and image views (plate_view.hpp: every
// (n, c) plate, or every sample's photo, a small picture). The frame (app_frame.cpp) asks the state
// which one it shows and calls the same steps on it: rebuild, fit, navigate and pick, overlay,
// draw, report.
#pragma once

#include <cmath>
#include <cstdint>
#include <glm/glm.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app_state.hpp"
#include "panels.hpp"

namespace normviz {

// What a view draws into: the framebuffer's scale over window pixels and its height, and the
// theme's background and outline colours.
struct DrawTarget {
  glm::vec2 fb_scale{1.0f};
  float fb_height = 0;
  glm::vec3 background{0.0f}, outline{1.0f};
};

// The mouse over a view this frame (read from ImGui by the frame, so views need no input system).
struct PointerInput {
  glm::vec2 mouse{0.0f}, delta{0.0f};
  float wheel = 0;          // notches, positive away from the user
  bool drag_left = false;   // the left button dragged more than 3 px
  bool drag_other = false;  // the right or middle button dragged more than 3 px
  bool shift = false;
};

// The flat views' mouse (sheet, plates, image): a drag pans the sheet camera, the wheel zooms at
// the mouse.
inline void panAndZoomSheet(SheetCamera& camera, const SceneView& view,
                            const PointerInput& pointer) {
  if (pointer.drag_left || pointer.drag_other) camera.center -= pointer.delta / camera.zoom;
  if (pointer.wheel != 0.0f)
    camera.zoomAt(std::pow(1.15f, pointer.wheel), pointer.mouse, view.pos, view.size);
}

class TensorView {
 public:
  virtual ~TensorView() = default;

  // Makes the GL objects (a GL context is current). "" or why the view cannot draw.
  virtual std::string init() = 0;
  // Layout, colours and GL buffers for the state, the views' size and what is lit this frame.
  // Cached: a frame where nothing they depend on changed rebuilds nothing.
  virtual void rebuild(AppState& s, glm::vec2 view_size) = 0;

  // Whether the camera is where the last fit put it (a resized view then fits again).
  virtual bool atFit(const AppState& s) const = 0;
  // Fits the camera to `view`; with `glide` it moves there over a moment instead of jumping.
  virtual void fit(AppState& s, const SceneView& view, bool glide) = 0;
  // Moves a glide on; true while the camera still moves.
  virtual bool advance(AppState& /*s*/) { return false; }
  // F or a double-click: fits the part of the tensor the active element is in (a plate, a picture)
  // to `view`, or, when the camera is still where that put it, the whole tensor again. The cubes
  // and the sheet have no such part.
  virtual void focus(AppState& /*s*/, const SceneView& /*view*/) {}

  // Orbits, pans and zooms from the mouse over `view`.
  virtual void navigate(AppState& s, const SceneView& view, const PointerInput& pointer) = 0;
  // The element (or statistic) under a window point of `view`.
  virtual std::optional<CubeRef> pick(const AppState& s, const SceneView& view,
                                      glm::vec2 mouse) const = 0;
  // Where element `flat` of x is in the window, in `view`.
  virtual std::optional<glm::vec2> screenOf(const AppState& s, const SceneView& view,
                                            int64_t flat) const = 0;
  // The tag lit in `view` this frame (see lit_region.hpp); nullopt: nothing is lit.
  virtual std::optional<int64_t> litGroup(const AppState& s, const SceneView& view) const = 0;

  // GL: the view's cubes or cells in its viewport (set by the caller, scissored).
  virtual void draw(const AppState& s, const SceneView& view, const DrawTarget& target) const = 0;
  // ImGui over the view: titles, axes, the lit region's outline, the hovered element's card.
  virtual void overlay(const AppState& s, const SceneView& view) const = 0;
  // --report's "views": every cube or cell's section, index, lit state, visible pixels and
  // screen position in each view, as drawn into a window of `display` pixels.
  virtual nlohmann::json report(const AppState& s, const std::vector<SceneView>& views,
                                glm::vec2 display) const = 0;
};

}  // namespace normviz
