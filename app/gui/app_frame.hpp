// One frame of the app, free of any window system: the App (renderers, caches, the fitted
// camera, this frame's keys) and what a platform calls. The desktop platform (platform_glfw.cpp)
// creates the window and the GL context, turns its events into App::keys and ImGui's input, and
// calls drawFrame once per frame; --screenshot and --bench-frames use the same frame offscreen.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "app_state.hpp"
#include "app_window.hpp"
#include "renderer.hpp"
#include "scene_colors.hpp"
#include "scene_layout.hpp"
#include "sheet_renderer.hpp"
#include "sheet_view.hpp"
#include "shortcuts.hpp"

namespace normviz {

struct SceneCache {
  uint64_t result_version = ~uint64_t{0};
  LayoutMode layout_mode = LayoutMode::Single;
  float explode = -1.0f, aspect = -1.0f;
  bool affine = false;
  std::optional<ColorKey> key;       // what the instances were built for
  std::optional<int64_t> lit_group;  // the single layout's lit group, this frame
  SceneLayout layout;
  std::vector<CubeInstance> instances;
  int64_t per_panel = 0;
};

struct App {
  AppState* state = nullptr;
  CubeRenderer renderer;
  SceneCache cache;
  SheetRenderer sheet_renderer;
  SheetCache sheet;
  SheetCamera fitted_sheet_camera;
  bool has_drawn = false;  // a frame was shown: later refits of a lesson's steps glide
  bool gliding = false;
  Camera glide_from, glide_to;
  std::chrono::steady_clock::time_point glide_start;
  float built_font_scale = 0.0f;
  Theme applied_theme = Theme::Dark;
  bool offscreen = false;
  glm::vec2 display{1280.0f, 800.0f};
  std::vector<SceneView> views;
  glm::vec2 fitted_size{0.0f};  // the viewport and camera of the last fit
  Camera fitted_camera;
  bool draws_sheet = false;  // this frame draws the sheet (decided before input, used after)
  // The keys since the last frame, by name, from the platform: ImGui 1.86 keeps only whether a
  // key is down at the frame, so a tap whose press and release arrive between two frames (a
  // presenter's clicker, a slow frame) would be lost. The frame adds the modifiers and uses it up.
  KeyInput keys;
  // The platform's part of starting an ImGui frame (its backend's NewFrame).
  void (*platform_new_frame)() = nullptr;
};

// Makes the GL renderers and ImGui's renderer backend (the GL context and ImGui's context exist).
// Returns "" or why the app cannot draw.
std::string initFrame(App& app, const std::string& missing_gl);
void shutdownFrame(App& app);

// One frame: compute if the inputs changed, the panels, fit the view, input, the scene, overlays,
// GL. The platform presents it.
void drawFrame(App& app);
// Whether the next frame should come soon (the stepper plays, the camera glides).
bool animating(const App& app);

// Renders the state offscreen at width x height into a PNG (see app_frame.cpp). "" or the reason.
std::string savePng(App& app, const std::string& path, int width, int height);
// Writes the PNG that Save PNG (or Ctrl+S) asked for during the last frame.
void savePngIfAsked(App& app);
// --screenshot (with --report) and --bench-frames. Return the exit code.
int runScreenshot(App& app, const WindowOptions& options);
int runBenchmark(App& app, int frames);

}  // namespace normviz
