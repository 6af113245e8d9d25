// One frame of the app (see app_frame.hpp), and the two headless uses of the same frame:
// --screenshot (with its JSON report) and --bench-frames. No window system here, and nothing that
// differs between the views (cubes, sheet, plates): those are TensorView's (tensor_view.hpp).
//
// Sections: context and fonts · input · one frame · screenshot report · benchmark · PNG.
#include "app_frame.hpp"

#include <imgui.h>
#include <imgui_impl_opengl3.h>
#include <stb_image_write.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>

#include "app_compute.hpp"
#include "gl_functions.hpp"
#include "lesson_state.hpp"
#include "lit_region.hpp"
#include "normviz/engine.hpp"
#include "normviz/error.hpp"
#include "panels.hpp"
#include "renderer.hpp"
#include "settings.hpp"
#include "shortcuts.hpp"

namespace normviz {

namespace {

// ---- Context and fonts --------------------------------------------------------------------------

glm::vec3 backgroundOf(Theme theme) {
  return theme == Theme::Dark ? glm::vec3(0.09f, 0.10f, 0.12f) : glm::vec3(0.97f, 0.97f, 0.96f);
}
glm::vec3 outlineOf(Theme theme) {
  return theme == Theme::Dark ? glm::vec3(1.0f) : glm::vec3(0.0f);
}

void applyTheme(Theme theme) {
  if (theme == Theme::Dark) {
    ImGui::StyleColorsDark();
  } else {
    ImGui::StyleColorsLight();
  }
  ImGuiStyle& style = ImGui::GetStyle();
  style.WindowRounding = 0.0f;
  style.FrameRounding = 3.0f;
  // Opaque panels: text over the scene must stay readable on a projector.
  style.Colors[ImGuiCol_WindowBg].w = 1.0f;
}

// DejaVu Sans when the system has it (crisp at large sizes), otherwise ImGui's built-in font.
void buildFont(float scale) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  const float pixels = std::round(13.0f * scale);
  const char* candidates[] = {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                              "/usr/share/fonts/dejavu/DejaVuSans.ttf"};
  // Latin-1, combining marks (x̂), Greek (Σ, γ, μ, σ), dashes and the ellipsis, the arrows and the
  // maths operators.
  static const ImWchar ranges[] = {0x0020, 0x00FF, 0x0300, 0x036F, 0x0370, 0x03FF, 0x2010,
                                   0x2027, 0x2190, 0x21FF, 0x2200, 0x22FF, 0};
  ImFont* font = nullptr;
  for (const char* path : candidates)
    if (std::filesystem::exists(path)) {
      font = io.Fonts->AddFontFromFileTTF(path, pixels, nullptr, ranges);
      if (font != nullptr) break;
    }
  if (font == nullptr) {
    ImFontConfig config;
    config.SizePixels = pixels;
    io.Fonts->AddFontDefault(&config);
  }
}

// ---- Input --------------------------------------------------------------------------------------

// A click pins the hovered cube's group (empty space unpins); while a "click every cube" question
// is open it adds or removes a cube of x from the answer instead.
void clickCube(AppState& s) {
  if (s.lesson.selecting()) {
    if (s.hovered && s.hovered->section == Section::Input) toggleSelection(s, s.hovered->index);
    return;
  }
  s.pinned = s.hovered;
}

// The mouse over last frame's views (what the user saw): navigate, hover, click.
void handleMouse(App& app) {
  AppState& s = *app.state;
  const ImGuiIO& io = ImGui::GetIO();
  if (io.WantCaptureMouse || !s.shown) {
    if (!ImGui::IsMouseDown(0)) s.hovered.reset();
    return;
  }
  PointerInput pointer;
  pointer.mouse = glm::vec2(io.MousePos.x, io.MousePos.y);
  pointer.delta = glm::vec2(io.MouseDelta.x, io.MouseDelta.y);
  pointer.wheel = io.MouseWheel;
  pointer.drag_left = ImGui::IsMouseDragging(0, 3.0f);
  pointer.drag_other = ImGui::IsMouseDragging(1, 3.0f) || ImGui::IsMouseDragging(2, 3.0f);
  pointer.shift = io.KeyShift;
  const SceneView* under = nullptr;
  for (const auto& v : app.views)
    if (pointer.mouse.x >= v.pos.x && pointer.mouse.y >= v.pos.y &&
        pointer.mouse.x < v.pos.x + v.size.x && pointer.mouse.y < v.pos.y + v.size.y)
      under = &v;
  if (under == nullptr) {
    s.hovered.reset();
    return;
  }
  TensorView& view = app.shown();
  view.navigate(s, *under, pointer);
  s.hovered = view.pick(s, *under, pointer.mouse);
  // A compare panel shows x alone.
  if (under->compare_panel >= 0 && s.hovered && s.hovered->section != Section::Input)
    s.hovered.reset();
  // A click (not a drag) pins the hovered cube's group; a click on empty space unpins. A
  // double-click fits the plate or picture under the mouse (and again the whole).
  if (ImGui::IsMouseReleased(0) && io.MouseDragMaxDistanceSqr[0] < 16.0f) clickCube(s);
  if (ImGui::IsMouseDoubleClicked(0) && s.hovered) s.focus_requested = true;
}

// ---- One frame ----------------------------------------------------------------------------------

// Fonts and colours follow the state: presenter mode's large type, the theme.
void applyLook(App& app) {
  const AppState& s = *app.state;
  // Presenter mode: large type for the back of the room.
  const float font_scale = s.lesson.presenter ? std::max(s.font_scale * 1.5f, 2.5f) : s.font_scale;
  if (app.built_font_scale != font_scale * app.pixel_ratio) {
    buildFont(font_scale * app.pixel_ratio);
    ImGui::GetIO().FontGlobalScale = 1.0f / app.pixel_ratio;
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
    app.built_font_scale = font_scale * app.pixel_ratio;
  }
  if (app.applied_theme != s.theme) {
    applyTheme(s.theme);
    app.applied_theme = s.theme;
  }
}

// Starts ImGui's frame at the window's size, or at the offscreen picture's.
void beginFrame(App& app) {
  ImGui_ImplOpenGL3_NewFrame();
  if (app.platform_new_frame) app.platform_new_frame();
  ImGuiIO& io = ImGui::GetIO();
  if (app.offscreen) {
    io.DisplaySize = ImVec2(app.display.x, app.display.y);
    io.DisplayFramebufferScale = ImVec2(1.0f, 1.0f);
    // An offscreen picture is the view alone: no widget under the window's mouse pointer.
    io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
    for (bool& down : io.MouseDown) down = false;
  }
  app.display = glm::vec2(io.DisplaySize.x, io.DisplaySize.y);
  ImGui::NewFrame();
}

// The mouse and the keys, in the window only; the keys latched since the last frame are used up.
void handleInput(App& app) {
  if (!app.offscreen) {
    handleMouse(app);
    const ImGuiIO& io = ImGui::GetIO();
    KeyInput& k = app.keys;
    k.shift = io.KeyShift;
    k.ctrl = io.KeyCtrl;
    k.text_input = io.WantTextInput;
    k.nav_active = io.NavActive;
    k.seconds = io.DeltaTime;
    handleKeys(*app.state, k);
  }
  app.keys = KeyInput{};
}

// Each view's camera matrix, from the state's camera.
void aimViews(App& app) {
  for (auto& v : app.views) {
    const float aspect = v.size.x / std::max(v.size.y, 1.0f);
    v.view_proj = app.state->camera.projection(aspect) * app.state->camera.view();
  }
}

// The views' rectangles: the scene area between the side panels, below a lesson's card; one view,
// or the four compare panels.
void placeViews(App& app) {
  AppState& s = *app.state;
  const PanelRects& r = app.panels;
  const float card = s.lesson.lesson ? std::min(s.lesson.card_height, r.scene_size.y * 0.5f) : 0.0f;
  const glm::vec2 pos = r.scene_pos + glm::vec2(0.0f, card);
  glm::vec2 size = glm::max(r.scene_size - glm::vec2(0.0f, card), glm::vec2(1.0f));
  // A plot takes the lower part of the scene, or its right half where the scene is much wider than
  // tall (presenter mode, the panels hidden); the views keep the rest and are framed in it.
  app.plot_size = glm::vec2(0.0f);
  if (s.plot != PlotKind::None && s.shown) {
    if (size.x > 1.6f * size.y) {
      const float plot = std::round(size.x * 0.5f);
      size.x = std::max(size.x - plot, 1.0f);
      app.plot_pos = pos + glm::vec2(size.x, 0.0f);
      app.plot_size = glm::vec2(plot, size.y);
    } else {
      const float plot = std::round(size.y * 0.45f);
      size.y = std::max(size.y - plot, 1.0f);
      app.plot_pos = pos + glm::vec2(0.0f, size.y);
      app.plot_size = glm::vec2(size.x, plot);
    }
  }
  app.views.clear();
  if (s.layout == LayoutMode::Single) {
    app.views.push_back({pos, size, glm::mat4(1.0f), -1});
  } else {
    const glm::vec2 half = size * 0.5f;
    for (int i = 0; i < 4; ++i)
      app.views.push_back(
          {pos + glm::vec2(static_cast<float>(i % 2) * half.x, static_cast<float>(i / 2) * half.y),
           half, glm::mat4(1.0f), i});
  }
  aimViews(app);
  const glm::vec2 view = app.views.front().size;
  s.view_aspect = std::round(10.0f * view.x / std::max(view.y, 1.0f)) / 10.0f;
}

// The side panels, then the views in the room they leave.
void drawPanels(App& app) {
  AppState& s = *app.state;
  if (s.stepper_changed) {
    s.stepper_changed = false;
    const std::string message = configureStepper(s);
    if (!message.empty()) s.error = message;
  }
  app.panels = panelRects(s, app.display);
  if (app.panels.shown()) {
    drawControlsPanel(s, app.panels.controls_pos, app.panels.controls_size);
    drawStatsPanel(s, app.panels.stats_pos, app.panels.stats_size);
  }
  placeViews(app);
}

// Fits the camera when asked, or when the views were resized and the user had not moved it; in a
// lesson the camera glides to the next step's view instead of jumping.
void fitView(App& app, TensorView& view) {
  AppState& s = *app.state;
  const glm::vec2 size = app.views.front().size;
  if (size != app.fitted_size && view.atFit(s)) s.reframe = true;
  if (s.reframe && s.shown) {
    view.fit(s, app.views.front(), !app.offscreen && s.lesson.lesson && app.has_drawn);
    app.fitted_size = size;
    s.reframe = false;
  }
  if (s.focus_requested && s.shown) view.focus(s, app.views.front());
  s.focus_requested = false;
  view.advance(s);
  aimViews(app);
}

// What ImGui draws over and beside the views: labels, the legend, the plot, the lesson card and
// its marks, the help.
void drawOverlays(App& app, const TensorView& view) {
  AppState& s = *app.state;
  if (s.shown)
    for (const auto& v : app.views) view.overlay(s, v);
  const PanelRects& panels = app.panels;
  // The legend sits in the views' bottom right corner (above or beside the plot, if there is one).
  const bool plot = app.plot_size.x > 0.0f;
  glm::vec2 corner = panels.scene_pos, origin = panels.scene_pos + panels.scene_size;
  for (const auto& v : app.views)
    corner = glm::max(corner, v.pos + v.size), origin = glm::min(origin, v.pos);
  drawLegend(s, corner, corner.x - origin.x);
  if (plot) drawPlotPanel(s, app.plot_pos, app.plot_size);
  if (s.shown && s.lesson.lesson) {
    SceneView area;
    area.pos = panels.scene_pos;
    area.size = panels.scene_size;
    drawLessonPanel(s, area);
    if (s.layout == LayoutMode::Single) {
      const SceneView& v = app.views.front();
      drawLessonMarks(s, v, [&](int64_t flat) { return view.screenOf(s, v, flat); });
    }
  }
  if (s.show_help) drawHelpOverlay(s);
}

// The views in GL, each in its own viewport, then ImGui on top.
void renderViews(App& app, const TensorView& view) {
  const AppState& s = *app.state;
  const ImGuiIO& io = ImGui::GetIO();
  DrawTarget target;
  target.fb_scale = glm::vec2(io.DisplayFramebufferScale.x, io.DisplayFramebufferScale.y);
  const int fb_w = static_cast<int>(app.display.x * target.fb_scale.x),
            fb_h = static_cast<int>(app.display.y * target.fb_scale.y);
  target.fb_height = static_cast<float>(fb_h);
  target.background = backgroundOf(s.theme);
  target.outline = outlineOf(s.theme);
  gl::Viewport(0, 0, fb_w, fb_h);
  gl::ClearColor(target.background.r, target.background.g, target.background.b, 1.0f);
  gl::ClearStencil(0);
  gl::Clear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT | GL_STENCIL_BUFFER_BIT);
  if (s.shown) {
    gl::Enable(GL_SCISSOR_TEST);
    for (const auto& v : app.views) {
      const int x = static_cast<int>(v.pos.x * target.fb_scale.x),
                w = static_cast<int>(v.size.x * target.fb_scale.x);
      const int h = static_cast<int>(v.size.y * target.fb_scale.y);
      const int y = fb_h - static_cast<int>(v.pos.y * target.fb_scale.y) - h;
      gl::Viewport(x, y, w, h);
      gl::Scissor(x, y, w, h);
      view.draw(s, v, target);
    }
    gl::Disable(GL_SCISSOR_TEST);
    gl::Viewport(0, 0, fb_w, fb_h);
  }
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

}  // namespace

TensorView& App::shown() {
  if (!state->shown) return cubes;
  switch (shownDisplay(*state)) {
    case DisplayMode::Sheet:
      return sheet;
    case DisplayMode::Plates:
      return plates;
    case DisplayMode::Image:
      return image;
    case DisplayMode::Cubes:
      break;
  }
  return cubes;
}

// How long a frame waits for the recompute it started before drawing the last snapshot: a layer
// this quick shows in the frame that changed it, as if computed in place.
constexpr std::chrono::milliseconds kComputeWaitInFrame{50};

// One frame, as a sequence of named steps: compute if the inputs changed, the look, input (on
// what the user saw last frame), the panels and the views' places, the shown view's rebuild and
// fit, the overlays, then GL.
void drawFrame(App& app) {
  if (app.compute)
    app.compute->update(*app.state, kComputeWaitInFrame);
  else
    recomputeIfChanged(*app.state);
  applyLook(app);
  beginFrame(app);
  handleInput(app);
  app.state->panels->buttons.clear();
  drawPanels(app);
  TensorView& view = app.shown();
  view.rebuild(*app.state, app.views.front().size);
  fitView(app, view);
  app.has_drawn = true;
  drawOverlays(app, view);
  ImGui::Render();
  renderViews(app, view);
}

// Where every cube or cell landed: the window, then each view's report (TensorView::report).
nlohmann::json frameReport(App& app) {
  const AppState& s = *app.state;
  nlohmann::json j;
  j["width"] = static_cast<int>(app.display.x);
  j["height"] = static_cast<int>(app.display.y);
  j["layout"] = nameOf(s.layout);
  j["explode"] = s.explode;
  const glm::vec3 bg = backgroundOf(s.theme);
  j["background"] = {std::lround(bg.r * 255), std::lround(bg.g * 255), std::lround(bg.b * 255)};
  if (!s.error.empty()) j["error"] = s.error;
  if (!s.computing.empty()) j["computing"] = s.computing;
  if (const LessonProgress& p = s.lesson; p.lesson)
    j["lesson"] = {{"name", p.lesson->name},          {"step", p.step + 1},
                   {"steps", p.lesson->steps.size()}, {"tried", p.tried},
                   {"answered", p.answered},          {"feedback", p.feedback},
                   {"presenter", p.presenter}};
  for (const auto& [label, rect] : s.panels->buttons) j["buttons"][label] = rect;
  if (app.plot_size.x > 0.0f)
    j["plot"] = {{"kind", nameOf(s.plot)},
                 {"rect", {app.plot_pos.x, app.plot_pos.y, app.plot_size.x, app.plot_size.y}}};
  try {
    j["engine"] = {{"threads", engineThreads(s.threads)}, {"simd", engineSimdTarget()}};
  } catch (const NormError&) {
    // a thread count the engine refuses: the state's error says so
  }
  if (!s.shown) return j;
  j["display"] = nameOf(shownDisplay(s));
  // Each backend of the last compute: its label, time, largest |y - y_fp64| or error; in backward
  // mode each backward backend's too (largest |dx - dx_fp64|), and the copy the floors come from.
  auto runsOf = [](const std::vector<BackendRun>& runs) {
    nlohmann::json list = nlohmann::json::array();
    for (const BackendRun& run : runs)
      list.push_back({{"label", run.label},
                      {"ms", run.seconds * 1e3},
                      {"max_diff", run.max_diff_vs_fp64},
                      {"error", run.error}});
    return list;
  };
  j["runs"] = runsOf(s.shown->runs);
  j["copy_ms"] = s.shown->copy_seconds * 1e3;
  if (!s.shown->backward_runs.empty()) {
    j["backward_runs"] = runsOf(s.shown->backward_runs);
    j["backward_copy_ms"] = s.shown->backward_copy_seconds * 1e3;
  }
  try {
    j["views"] = app.shown().report(s, app.views, app.display);
  } catch (const std::exception& e) {
    j["error"] = e.what();
  }
  if (!app.offscreen) Framebuffer::bindDefault();  // the window's next frame
  return j;
}

// ---- Benchmark ----------------------------------------------------------------------------------

int runBenchmark(App& app, int frames) {
  AppState& s = *app.state;
  Framebuffer target;
  if (auto error = target.create(static_cast<int>(app.display.x), static_cast<int>(app.display.y));
      !error.empty()) {
    std::fprintf(stderr, "normviz: %s\n", error.c_str());
    return 1;
  }
  target.bind();
  // frame: a whole frame (GL included); hover frame: the lit group changes every frame; hover cpu:
  // the CPU side of that change alone (scene update + picking one ray), what must stay under a
  // frame on any GPU.
  std::printf("%-18s %-6s %9s %13s %10s %12s %14s %9s\n", "shape", "view", "elements",
              "recompute ms", "frame ms", "hover frame", "hover cpu ms", "pick ms");
  const std::pair<Shape, DisplayMode> runs[] = {{{4, 16, 8, 8}, DisplayMode::Cubes},
                                                {{8, 32, 16, 16}, DisplayMode::Cubes},
                                                {{16, 64, 16, 16}, DisplayMode::Cubes},
                                                {{16, 64, 32, 32}, DisplayMode::Sheet},
                                                {{64, 64, 64, 64}, DisplayMode::Sheet}};
  for (const auto& [shape, display] : runs) {
    s.display = display;
    s.display_chosen = true;
    s.edit_shape = shape;
    s.init = "randn";
    s.layout = LayoutMode::Single;
    regenerateInput(s);
    auto t0 = std::chrono::steady_clock::now();
    recomputeIfChanged(s);
    const double recompute_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!s.error.empty()) {
      std::fprintf(stderr, "normviz: %s\n", s.error.c_str());
      return 1;
    }
    s.pinned = CubeRef{Section::Input, 0};
    s.reframe = true;
    drawFrame(app);  // warm-up: layout, upload, font atlas
    gl::Finish();
    t0 = std::chrono::steady_clock::now();
    for (int f = 0; f < frames; ++f) drawFrame(app);
    gl::Finish();
    const double frame_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
        frames;
    // Hovering: a different lit group every frame, as when the mouse moves.
    t0 = std::chrono::steady_clock::now();
    for (int f = 0; f < frames; ++f) {
      s.pinned = CubeRef{Section::Input, (static_cast<int64_t>(f) * 7919) % s.x.numel()};
      drawFrame(app);
    }
    gl::Finish();
    const double hover_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
        frames;
    // The CPU side of one hover change: what the frame does before drawing (colours are rebuilt
    // only when something other than the lit group changed).
    t0 = std::chrono::steady_clock::now();
    size_t lit = 0;
    TensorView& view = app.shown();
    const auto& v = app.views.front();
    for (int f = 0; f < frames; ++f) {
      s.pinned = CubeRef{Section::Input, (int64_t{f} * 7919 + 1) % s.x.numel()};
      view.rebuild(s, v.size);
      lit += view.litGroup(s, v).has_value() ? 1 : 0;
    }
    const double colours_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
        frames;
    t0 = std::chrono::steady_clock::now();
    for (int f = 0; f < frames; ++f) {
      const float t = static_cast<float>(f) / static_cast<float>(frames);
      const glm::vec2 mouse = v.pos + v.size * glm::vec2(0.2f + 0.6f * t, 0.3f + 0.4f * t);
      lit += view.pick(s, v, mouse).has_value() ? 1 : 0;
    }
    const double pick_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
        frames;
    std::printf("%-18s %-6s %9lld %13.2f %10.2f %12.2f %14.2f %9.2f\n", shape.str().c_str(),
                nameOf(display), static_cast<long long>(shape.numel()), recompute_ms, frame_ms,
                hover_ms, colours_ms + pick_ms, pick_ms);
    if (lit == 0) std::printf("(no cube drawn or picked)\n");
  }
  std::printf("renderer: %s\n", reinterpret_cast<const char*>(gl::GetString(GL_RENDERER)));
  return 0;
}

// ---- PNG ----------------------------------------------------------------------------------------

// Renders the state offscreen at width x height and writes a PNG: the frames a fresh --screenshot
// of the same view draws (the camera fitted to that size, nothing hovered). In the window (Save
// PNG) the window's own view is restored afterwards; a --screenshot keeps the fitted one, which
// its report describes. Returns "" or the reason it failed.
std::string savePng(App& app, const std::string& path, int width, int height) {
  AppState& s = *app.state;
  Framebuffer target;
  if (std::string error = target.create(width, height); !error.empty()) return error;
  // What the window's view is made of, restored after the picture.
  const bool in_window = !app.offscreen;
  const Camera camera = s.camera, fitted_camera = app.cubes.fitted;
  const CubeView::Glide glide = app.cubes.glide;
  const SheetCamera sheet_camera = s.sheet_camera, fitted_sheet_camera = app.sheet.fitted;
  const SheetCamera fitted_plates = app.plates.fitted, fitted_image = app.image.fitted;
  const glm::vec2 display = app.display, fitted_size = app.fitted_size;
  const std::vector<SceneView> views = app.views;
  const PanelRects panels = app.panels;
  const std::optional<CubeRef> hovered = s.hovered;
  app.offscreen = true;
  app.cubes.glide.active = false;
  app.display = glm::vec2(static_cast<float>(width), static_cast<float>(height));
  s.hovered.reset();
  s.reframe = true;
  target.bind();
  // ImGui sizes auto-fitting windows over the first frames: render a few, keep the last.
  for (int i = 0; i < 4; ++i) drawFrame(app);
  gl::Finish();
  const std::vector<uint8_t> pixels = target.readRgba();
  Framebuffer::bindDefault();
  if (in_window) {
    app.offscreen = false;
    app.cubes.glide = glide;
    app.display = display;
    app.views = views;
    app.panels = panels;
    app.fitted_size = fitted_size;
    app.cubes.fitted = fitted_camera;
    app.sheet.fitted = fitted_sheet_camera;
    app.plates.fitted = fitted_plates;
    app.image.fitted = fitted_image;
    s.camera = camera;
    s.sheet_camera = sheet_camera;
    s.hovered = hovered;
  }
  if (!stbi_write_png(path.c_str(), width, height, 4, pixels.data(), width * 4))
    return "cannot write " + path;
  return "";
}

// --screenshot: one picture (and, with --report, where every cube landed). Returns the exit code.
int runScreenshot(App& app, const WindowOptions& options) {
  const std::string error = savePng(app, options.screenshot, options.width, options.height);
  int rc = 0;
  if (!error.empty()) {
    std::fprintf(stderr, "normviz: %s\n", error.c_str());
    rc = 1;
  } else if (!options.report.empty()) {
    const auto t0 = std::chrono::steady_clock::now();
    std::ofstream out(options.report);
    out << frameReport(app).dump() << "\n";
    std::fprintf(stderr, "normviz: report written in %.2f s\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (!out) {
      std::fprintf(stderr, "normviz: cannot write %s\n", options.report.c_str());
      rc = 1;
    }
  }
  if (!app.state->error.empty()) std::fprintf(stderr, "normviz: %s\n", app.state->error.c_str());
  return rc;
}

// Writes the PNG that Save PNG (or Ctrl+S) asked for during the last frame.
void savePngIfAsked(App& app) {
  PngExport& png = app.state->png;
  if (!png.requested) return;
  png.requested = false;
  const std::string error = savePng(app, png.path, png.width, png.height);
  const std::string size = std::to_string(png.width) + "x" + std::to_string(png.height);
  app.state->notice = error.empty() ? "saved " + png.path + " (" + size + ")"
                                    : "could not save " + png.path + ": " + error;
}

bool animating(const App& app) {
  return stepperAnimating(*app.state) || app.cubes.glide.active;
}

std::string initFrame(App& app, const std::string& missing_gl) {
  std::string error =
      missing_gl.empty() ? app.cubes.init() : "OpenGL functions missing: " + missing_gl;
  if (error.empty()) error = app.sheet.init();
  if (error.empty()) error = app.plates.init();
  if (error.empty()) error = app.image.init();
#if defined(__EMSCRIPTEN__)
  ImGui_ImplOpenGL3_Init("#version 300 es");  // WebGL2
#else
  ImGui_ImplOpenGL3_Init("#version 330 core");
#endif
  applyTheme(app.state->theme);
  app.applied_theme = app.state->theme;
  return error;
}

void shutdownFrame(App& app) {
  finishStatsBackgroundWork(*app.state);
  ImGui_ImplOpenGL3_Shutdown();
}

std::optional<glm::vec2> SceneView::project(glm::vec3 world) const {
  const glm::vec4 clip = view_proj * glm::vec4(world, 1.0f);
  if (clip.w <= 1e-6f) return std::nullopt;
  const glm::vec2 ndc = glm::vec2(clip) / clip.w;
  return pos + glm::vec2((ndc.x + 1.0f) * 0.5f * size.x, (1.0f - ndc.y) * 0.5f * size.y);
}

}  // namespace normviz
