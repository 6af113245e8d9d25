// One frame of the app, free of any window system: the App (the two views, this frame's views and
// panels, its keys) and what a platform calls. The desktop platform (platform_glfw.cpp)
// creates the window and the GL context, turns its events into App::keys and ImGui's input, and
// calls drawFrame once per frame; --screenshot and --bench-frames use the same frame offscreen.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app_state.hpp"
#include "app_window.hpp"
#include "background_compute.hpp"
#include "cube_view.hpp"
#include "panels.hpp"
#include "plate_view.hpp"
#include "sheet_view.hpp"
#include "shortcuts.hpp"

namespace normviz {

struct App {
  AppState* state = nullptr;
  CubeView cubes;  // the ways of drawing the tensor (tensor_view.hpp); the state picks one
  SheetView sheet;
  PlateView plates{false};
  PlateView image{true};
  bool has_drawn = false;  // a frame was shown: later refits of a lesson's steps glide
  float built_font_scale = 0.0f;
  // Device pixels per window unit (a browser's devicePixelRatio; 1 on the desktop): the font is
  // rasterized this much larger and drawn at 1/ratio, so text stays sharp on a high-density screen.
  float pixel_ratio = 1.0f;
  Theme applied_theme = Theme::Dark;
  bool offscreen = false;
  glm::vec2 display{1280.0f, 800.0f};
  PanelRects panels;                          // this frame's side panels
  std::vector<SceneView> views;               // this frame's views: one, or the four compare panels
  glm::vec2 plot_pos{0.0f}, plot_size{0.0f};  // this frame's plot under the views (size 0: none)
  glm::vec2 fitted_size{0.0f};                // the views' size at the last fit
  // The keys since the last frame, by name, from the platform: ImGui 1.86 keeps only whether a
  // key is down at the frame, so a tap whose press and release arrive between two frames (a
  // presenter's clicker, a slow frame) would be lost. The frame adds the modifiers and uses it up.
  KeyInput keys;
  // The platform's part of starting an ImGui frame (its backend's NewFrame).
  void (*platform_new_frame)() = nullptr;
  // The window's recompute on a worker thread (null: each frame recomputes in place, as offscreen
  // renders, the benchmark and the browser do).
  BackgroundCompute* compute = nullptr;

  // The view the state shows (shownDisplay).
  TensorView& shown();
};

// Makes the GL renderers and ImGui's renderer backend (the GL context and ImGui's context exist).
// Returns "" or why the app cannot draw.
std::string initFrame(App& app, const std::string& missing_gl);
void shutdownFrame(App& app);

// One frame: compute if the inputs changed, input, the panels, the view's rebuild and fit, the
// overlays, GL. The platform presents it.
void drawFrame(App& app);
// Whether the next frame should come soon (the stepper plays, the camera glides).
bool animating(const App& app);

// Renders the state offscreen at width x height into a PNG (see app_frame.cpp). "" or the reason.
std::string savePng(App& app, const std::string& path, int width, int height);
// Writes the PNG that Save PNG (or Ctrl+S) asked for during the last frame.
void savePngIfAsked(App& app);
// The report of the frame last drawn (--report, and the browser's window.normviz.report()): the
// window's size, layout and background, then every cube or cell per view with its section, index,
// lit state, visible pixels and position in window pixels.
nlohmann::json frameReport(App& app);
// --screenshot (with --report) and --bench-frames. Return the exit code.
int runScreenshot(App& app, const WindowOptions& options);
int runBenchmark(App& app, int frames);

}  // namespace normviz
