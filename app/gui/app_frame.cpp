// One frame of the app (see app_frame.hpp), and the two headless uses of the same frame:
// --screenshot (with its JSON report) and --bench-frames. No window system here.
//
// Sections: context and fonts · scene cache (layout + instances, rebuilt only on change) ·
// input (hover, pin, orbit/pan/zoom, keys) · one frame · screenshot report · benchmark · PNG.
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
#include "panels.hpp"
#include "renderer.hpp"
#include "settings.hpp"
#include "sheet_view.hpp"
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
  // Latin-1, combining marks (x̂), Greek (Σ, γ, μ, σ) and the arrows and maths operators.
  static const ImWchar ranges[] = {0x0020, 0x00FF, 0x0300, 0x036F, 0x0370, 0x03FF,
                                   0x2190, 0x21FF, 0x2200, 0x22FF, 0};
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

// ---- Scene cache --------------------------------------------------------------------------------

// Fits the camera to the scene in `view` (every compare panel has the same size), keeping room for
// the text drawn beside the cubes: arrow names around the block, section titles to the right of
// the sections, panel titles at the top of compare panels.
void fitCamera(AppState& s, const SceneView& view) {
  const Snapshot& snap = *s.shown;
  const bool single = s.layout == LayoutMode::Single;
  const SceneLayout layout =
      makeLayout(snap.x.shape, single ? &snap.plan : nullptr, layoutOptions(s));
  const float line = ImGui::GetTextLineHeight(), pad = 0.5f * line;
  // Pixels to keep free on the left, right, below and above a point, as NDC units.
  auto ndc = [&](float left, float right, float below, float above) {
    return glm::vec4(2.0f * left / view.size.x, 2.0f * right / view.size.x,
                     2.0f * below / view.size.y, 2.0f * above / view.size.y);
  };
  // Compare panels print their title, group count and lit group at the top.
  const float top = single ? pad : 3.0f * ImGui::GetTextLineHeightWithSpacing() + pad;
  std::vector<FramePoint> points;
  for (const glm::vec3& p : layout.framePoints()) points.push_back({p, ndc(pad, pad, pad, top)});
  // An arrow's name sits beside it, on whichever side faces away from the block.
  float headers = 0.0f;
  for (const AxisLabel& label : layout.labels) {
    const ImVec2 size = ImGui::CalcTextSize(label.text.c_str());
    const float w = size.x + pad, h = size.y + pad;
    if (label.header) {
      // Headers stack above the section: each takes an arrow and a line of text.
      ++headers;
      for (const glm::vec3& p : {label.from, label.to})
        points.push_back(
            {p, ndc(pad, w, pad, headers * (line + 10.0f * s.font_scale) + std::max(line, top))});
      continue;
    }
    for (const glm::vec3& p : {label.from, label.to, (label.from + label.to) * 0.5f})
      points.push_back({p, ndc(w, w, h, std::max(h, top))});
  }
  for (const SampleTag& tag : layout.tags)
    points.push_back({tag.anchor, ndc(pad, pad, line + pad, pad)});
  // The colour legend covers the view's bottom right: the bottom sections stay above it (in the
  // compare layout the bottom panels' cubes, one legend line high).
  {
    const float lines = single ? 3.0f : 2.0f;
    const float legend = lines * ImGui::GetTextLineHeightWithSpacing() +
                         2.0f * ImGui::GetStyle().WindowPadding.y + 10.0f;
    for (Section section : {Section::Input, Section::Output, Section::Rstd}) {
      if (single && section == Section::Input) continue;
      if (!single && section != Section::Input) continue;
      const Box& b = layout.bounds[static_cast<size_t>(section)];
      if (!b.empty())
        for (int i = 0; i < 4; ++i)
          points.push_back({{(i & 1) ? b.hi.x : b.lo.x, b.lo.y, (i & 2) ? b.hi.z : b.lo.z},
                            ndc(pad, pad, legend, pad)});
    }
  }
  // Each section's title sits above its top left corner.
  if (single)
    for (int k = 0; k < kSectionCount; ++k) {
      const Box& b = layout.bounds[static_cast<size_t>(k)];
      if (b.empty()) continue;
      const auto section = static_cast<Section>(k);
      const float w = ImGui::CalcTextSize(sectionTitle(snap, section).c_str()).x;
      points.push_back(
          {glm::vec3(b.lo.x, b.hi.y, b.hi.z), ndc(pad, w + pad, pad, 2.0f * line + pad)});
    }
  s.camera.frame(points, view.size.x / std::max(view.size.y, 1.0f), s.preset, s.explode);
}

std::vector<SceneView> sceneViews(const AppState& state, glm::vec2 display) {
  const PanelRects panels = panelRects(state, display.x);
  // A lesson's card takes the top of the scene area; the views start below it.
  const float card =
      state.lesson.lesson ? std::min(state.lesson.card_height, display.y * 0.5f) : 0.0f;
  const glm::vec2 pos(panels.left_width, card);
  const glm::vec2 size(std::max(display.x - panels.left_width - panels.right_width, 1.0f),
                       std::max(display.y - card, 1.0f));
  std::vector<SceneView> views;
  if (state.layout == LayoutMode::Single) {
    views.push_back({pos, size, glm::mat4(1.0f), -1});
  } else {
    const glm::vec2 half = size * 0.5f;
    for (int i = 0; i < 4; ++i)
      views.push_back(
          {pos + glm::vec2(static_cast<float>(i % 2) * half.x, static_cast<float>(i / 2) * half.y),
           half, glm::mat4(1.0f), i});
  }
  for (auto& v : views) {
    const float aspect = v.size.x / std::max(v.size.y, 1.0f);
    v.view_proj = state.camera.projection(aspect) * state.camera.view();
  }
  return views;
}

// The group lit in a view: the single layout's (hovered, pinned or traced by the stepper), or in a
// compare panel the group of the hovered element under that panel's layer.
std::optional<int64_t> litGroupOf(const App& app, const SceneView& view) {
  const AppState& s = *app.state;
  if (s.lesson.hidesLit()) return std::nullopt;  // a "click every cube" question is open
  if (view.compare_panel < 0) {
    if (shownDisplay(s) == DisplayMode::Cubes || !s.shown) return app.cache.lit_group;
    const auto active = s.active();
    if (!active) return std::nullopt;
    return groupOfCube(s.shown->plan, *active);
  }
  const ComparePanel& panel = s.compare[static_cast<size_t>(view.compare_panel)];
  const auto active = s.active();
  if (!panel.plan || !active ||
      (active->section != Section::Input && active->section != Section::Output))
    return std::nullopt;
  return panel.plan->groupOf(active->index);
}

// Rebuilds and uploads the instances when what they show changed; hovering only moves the lit
// group, which the shader applies.
void rebuildScene(App& app) {
  AppState& s = *app.state;
  SceneCache& c = app.cache;
  if (!s.shown) return;
  if (shownDisplay(s) == DisplayMode::Sheet) return;  // drawFrame keeps the sheet's cache
  const Snapshot& snap = *s.shown;
  const LayoutOptions options = layoutOptions(s);
  if (c.result_version != s.result_version || c.layout_mode != s.layout || c.explode != s.explode ||
      c.aspect != s.view_aspect || c.affine != options.affine) {
    c.layout = makeLayout(snap.x.shape, s.layout == LayoutMode::Single ? &snap.plan : nullptr,
                          layoutOptions(s));
    c.result_version = s.result_version;
    c.layout_mode = s.layout;
    c.explode = s.explode;
    c.aspect = s.view_aspect;
    c.affine = options.affine;
  }
  std::optional<ElementTint> tint = s.layout == LayoutMode::Single ? stepperTint(s) : std::nullopt;
  const auto active = s.active();
  c.lit_group.reset();
  if (tint) {
    c.lit_group = tint->group;
  } else if (active && !s.lesson.hidesLit()) {
    c.lit_group = litTag(s);
  }
  const ColorKey key = colorKey(s, tint ? &*tint : nullptr);
  if (c.key == key) return;
  c.key = key;
  if (s.layout == LayoutMode::Single && key.backward) {
    c.instances = backwardInstances(snap, c.layout, s.color_by, key.partition);
    c.per_panel = static_cast<int64_t>(c.instances.size());
  } else if (s.layout == LayoutMode::Single) {
    c.instances = singleInstances(snap, c.layout, s.color_by, s.input_map, tint ? &*tint : nullptr);
    c.per_panel = static_cast<int64_t>(c.instances.size());
  } else {
    c.per_panel = snap.x.numel();
    c.instances.clear();
    for (const ComparePanel& panel : s.compare) {
      std::vector<CubeInstance> part;
      if (panel.plan) {
        part = compareInstances(snap.x, c.layout, *panel.plan, s.color_by, s.input_map);
      } else {
        part.assign(static_cast<size_t>(c.per_panel), CubeInstance{});
        for (int64_t i = 0; i < c.per_panel; ++i)
          part[static_cast<size_t>(i)] = {c.layout.element_pos[static_cast<size_t>(i)],
                                          glm::vec3(0.5f), -1.0f,
                                          static_cast<float>(CubeState::Faded)};
      }
      c.instances.insert(c.instances.end(), part.begin(), part.end());
    }
  }
  app.renderer.upload(c.instances);
}

// ---- Input --------------------------------------------------------------------------------------

// A click pins the hovered cube's group (empty space unpins); while a "click every cube" question
// is open it adds or removes a cube of x from the answer instead.
void clickCube(AppState& s) {
  if (s.lesson.hidesLit()) {
    if (s.hovered && s.hovered->section == Section::Input) toggleSelection(s, s.hovered->index);
    return;
  }
  s.pinned = s.hovered;
}

void handleMouse(App& app) {
  AppState& s = *app.state;
  const ImGuiIO& io = ImGui::GetIO();
  if (io.WantCaptureMouse || !s.shown) {
    if (!ImGui::IsMouseDown(0)) s.hovered.reset();
    return;
  }
  const glm::vec2 mouse(io.MousePos.x, io.MousePos.y);
  const SceneView* under = nullptr;
  for (const auto& v : app.views)
    if (mouse.x >= v.pos.x && mouse.y >= v.pos.y && mouse.x < v.pos.x + v.size.x &&
        mouse.y < v.pos.y + v.size.y)
      under = &v;
  if (under == nullptr) {
    s.hovered.reset();
    return;
  }
  const glm::vec2 delta(io.MouseDelta.x, io.MouseDelta.y);
  if (shownDisplay(s) == DisplayMode::Sheet) {
    // The sheet: any drag pans, the wheel zooms about the mouse.
    if (ImGui::IsMouseDragging(0, 3.0f) || ImGui::IsMouseDragging(1, 3.0f) ||
        ImGui::IsMouseDragging(2, 3.0f))
      s.sheet_camera.center -= delta / s.sheet_camera.zoom;
    if (io.MouseWheel != 0.0f)
      s.sheet_camera.zoomAt(std::pow(1.15f, io.MouseWheel), mouse, under->pos, under->size);
    s.hovered = pickSheet(s, app.sheet, *under, mouse);
    if (under->compare_panel >= 0 && s.hovered && s.hovered->section != Section::Input)
      s.hovered.reset();
    if (ImGui::IsMouseReleased(0) && io.MouseDragMaxDistanceSqr[0] < 16.0f) clickCube(s);
    return;
  }
  // Drag: left orbits, right or middle pans (shift + left pans too); the wheel zooms.
  const bool dragging_left = ImGui::IsMouseDragging(0, 3.0f),
             dragging_other = ImGui::IsMouseDragging(1, 3.0f) || ImGui::IsMouseDragging(2, 3.0f);
  if (dragging_left && !io.KeyShift) s.camera.orbit(-delta.x * 0.01f, delta.y * 0.01f);
  if (dragging_other || (dragging_left && io.KeyShift))
    s.camera.pan(2.0f * delta.x / under->size.y, -2.0f * delta.y / under->size.y);
  if (io.MouseWheel != 0.0f) s.camera.zoom(std::pow(0.88f, io.MouseWheel));

  const glm::vec2 local = (mouse - under->pos) / under->size;
  const glm::vec2 ndc(local.x * 2.0f - 1.0f, 1.0f - local.y * 2.0f);
  const Ray ray = s.camera.rayThrough(ndc, under->size.x / std::max(under->size.y, 1.0f));
  s.hovered = pickCube(app.cache.layout, ray.origin, ray.dir);
  // A click (not a drag) pins the hovered cube's group; a click on empty space unpins.
  if (ImGui::IsMouseReleased(0) && io.MouseDragMaxDistanceSqr[0] < 16.0f) clickCube(s);
}

// ---- One frame ----------------------------------------------------------------------------------

// Fonts and colours follow the state: presenter mode's large type, the theme.
void applyLook(App& app) {
  const AppState& s = *app.state;
  // Presenter mode: large type for the back of the room.
  const float font_scale = s.lesson.presenter ? std::max(s.font_scale * 1.5f, 2.5f) : s.font_scale;
  if (app.built_font_scale != font_scale) {
    buildFont(font_scale);
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
    app.built_font_scale = font_scale;
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

// The side panels; they decide the room the views get.
void drawPanels(App& app) {
  AppState& s = *app.state;
  if (s.stepper_changed) {
    s.stepper_changed = false;
    const std::string message = configureStepper(s);
    if (!message.empty()) s.error = message;
  }
  if (s.show_panels && !s.lesson.presenter) {
    const PanelRects panels = panelRects(s, app.display.x);
    drawControlsPanel(s, panels.left_width, app.display.y);
    drawStatsPanel(s, app.display.x - panels.right_width, panels.right_width, app.display.y);
  }
  app.views = sceneViews(s, app.display);
  const glm::vec2 size = app.views.front().size;
  s.view_aspect = std::round(10.0f * size.x / std::max(size.y, 1.0f)) / 10.0f;
}

bool showsSheet(const AppState& s) {
  return s.shown && shownDisplay(s) == DisplayMode::Sheet;
}

// Fits the camera (or the sheet's zoom) when asked or when the view was resized and the user had
// not moved it; in a lesson the camera glides to the next step's view instead of jumping.
void fitView(App& app) {
  AppState& s = *app.state;
  const bool sheet = app.draws_sheet = showsSheet(s);
  if (app.views.front().size != app.fitted_size &&
      (sheet ? s.sheet_camera == app.fitted_sheet_camera : s.camera == app.fitted_camera))
    s.reframe = true;
  if (sheet) rebuildSheet(s, app.sheet, app.sheet_renderer, app.views.front().size);
  if (!s.reframe || !s.shown) return;
  if (sheet) {
    fitSheet(s, app.sheet, app.views.front());
    app.fitted_sheet_camera = s.sheet_camera;
  } else {
    const Camera before = s.camera;
    fitCamera(s, app.views.front());
    app.fitted_camera = s.camera;
    if (!app.offscreen && s.lesson.lesson && app.has_drawn) {
      app.glide_from = before;
      app.glide_to = s.camera;
      app.glide_start = std::chrono::steady_clock::now();
      app.gliding = true;
      s.camera = before;
    }
  }
  app.fitted_size = app.views.front().size;
  app.views = sceneViews(s, app.display);
  s.reframe = false;
}

// Moves the camera along a glide: eased in and out over 0.6 s; the fitted camera (the glide's end)
// counts as unmoved.
void advanceGlide(App& app) {
  if (!app.gliding) return;
  AppState& s = *app.state;
  const double t =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - app.glide_start).count() /
      0.6;
  const float k = static_cast<float>(t >= 1.0 ? 1.0 : t * t * (3.0 - 2.0 * t));
  s.camera.target = glm::mix(app.glide_from.target, app.glide_to.target, k);
  s.camera.yaw = glm::mix(app.glide_from.yaw, app.glide_to.yaw, k);
  s.camera.pitch = glm::mix(app.glide_from.pitch, app.glide_to.pitch, k);
  s.camera.distance = glm::mix(app.glide_from.distance, app.glide_to.distance, k);
  if (t >= 1.0) app.gliding = false, s.camera = app.glide_to;
  app.views = sceneViews(s, app.display);
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
    app.views = sceneViews(*app.state, app.display);
  }
  app.keys = KeyInput{};
}

// What ImGui draws over and beside the views: labels, the legend, the lesson card and its marks,
// the help.
void drawOverlays(App& app) {
  AppState& s = *app.state;
  const bool sheet = app.draws_sheet;
  if (s.shown)
    for (const auto& v : app.views) {
      if (sheet) {
        drawSheetOverlay(s, app.sheet, v, litGroupOf(app, v));
      } else {
        drawSceneOverlay(s, app.cache.layout, v);
      }
    }
  const PanelRects panels = panelRects(s, app.display.x);
  drawLegend(s, glm::vec2(app.display.x - panels.right_width, app.display.y),
             app.display.x - panels.left_width - panels.right_width);
  if (s.shown && s.lesson.lesson) {
    SceneView area;
    area.pos = glm::vec2(panels.left_width, 0.0f);
    area.size = glm::vec2(app.display.x - panels.left_width - panels.right_width, app.display.y);
    drawLessonPanel(s, area);
    if (s.layout == LayoutMode::Single) {
      const SceneView& v = app.views.front();
      drawLessonMarks(s, v, [&](int64_t flat) -> std::optional<glm::vec2> {
        if (flat < 0 || !s.shown || flat >= s.shown->x.numel()) return std::nullopt;
        if (sheet)
          return s.sheet_camera.toScreen(app.sheet.layout.center(Section::Input, flat), v.pos,
                                         v.size);
        return v.project(app.cache.layout.position({Section::Input, flat}));
      });
    }
  }
  if (s.show_help) drawHelpOverlay(s);
}

// The views in GL (cubes or sheet cells, each view in its own viewport), then ImGui on top.
void renderViews(App& app) {
  const AppState& s = *app.state;
  const bool sheet = app.draws_sheet;
  const ImGuiIO& io = ImGui::GetIO();
  const glm::vec2 fb_scale(io.DisplayFramebufferScale.x, io.DisplayFramebufferScale.y);
  const int fb_w = static_cast<int>(app.display.x * fb_scale.x),
            fb_h = static_cast<int>(app.display.y * fb_scale.y);
  const glm::vec3 bg = backgroundOf(s.theme);
  gl::Viewport(0, 0, fb_w, fb_h);
  gl::ClearColor(bg.r, bg.g, bg.b, 1.0f);
  gl::ClearStencil(0);
  gl::Clear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT | GL_STENCIL_BUFFER_BIT);
  if (s.shown) {
    gl::Enable(GL_SCISSOR_TEST);
    const bool by_group = s.color_by == ColorBy::Groups;
    for (const auto& v : app.views) {
      const int x = static_cast<int>(v.pos.x * fb_scale.x),
                w = static_cast<int>(v.size.x * fb_scale.x);
      const int h = static_cast<int>(v.size.y * fb_scale.y);
      const int y = fb_h - static_cast<int>(v.pos.y * fb_scale.y) - h;
      gl::Viewport(x, y, w, h);
      gl::Scissor(x, y, w, h);
      if (sheet) {
        const SheetRenderer::View view{v.pos, v.size, static_cast<float>(fb_h), fb_scale.y};
        std::vector<glm::vec3> palette;
        for (int k = 0; k < 24; ++k) palette.push_back(categoricalColor(k));
        app.sheet_renderer.draw(app.sheet.layout, s.sheet_camera, view,
                                std::max(v.compare_panel, 0), litGroupOf(app, v), by_group, bg,
                                palette, by_group ? 0.6f : 0.78f);
        continue;
      }
      const int64_t first = v.compare_panel < 0 ? 0 : v.compare_panel * app.cache.per_panel;
      // Unlit cubes are faint grey ghosts so the lit region stands out; in "all groups" mode they
      // keep their group's hue and more opacity, so the whole partition stays readable.
      app.renderer.draw(v.view_proj, first, app.cache.per_panel, litGroupOf(app, v),
                        outlineOf(s.theme), by_group ? 0.35f : 0.16f, by_group ? 0.0f : 0.75f);
    }
    gl::Disable(GL_SCISSOR_TEST);
    gl::Viewport(0, 0, fb_w, fb_h);
  }
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

}  // namespace

// One frame, as a sequence of named steps: compute if the inputs changed, the look, the panels,
// fit the view, input, the scene, the overlays, then GL.
void drawFrame(App& app) {
  recomputeIfChanged(*app.state);
  applyLook(app);
  beginFrame(app);
  drawPanels(app);
  fitView(app);
  advanceGlide(app);
  app.has_drawn = true;
  handleInput(app);
  rebuildScene(app);
  drawOverlays(app);
  ImGui::Render();
  renderViews(app);
}

namespace {

// ---- Screenshot report --------------------------------------------------------------------------

// The sheet's report: each view's cells, from the sheet's own layout.
nlohmann::json sheetReport(const App& app) {
  const AppState& s = *app.state;
  nlohmann::json views = nlohmann::json::array();
  for (const auto& v : app.views) {
    nlohmann::json view = sheetViewReport(s, app.sheet, v, litGroupOf(app, v));
    view["rect"] = {v.pos.x, v.pos.y, v.size.x, v.size.y};
    view["title"] = v.compare_panel >= 0 ? s.compare[static_cast<size_t>(v.compare_panel)].title
                                         : s.shown->plan.pytorchLine();
    views.push_back(std::move(view));
  }
  return views;
}

// Renders every cube's id (its index in its panel + 1) into an offscreen buffer, as drawn: each
// pixel names the cube that owns it. Returns the RGBA bytes, or "" and an error.
std::vector<uint8_t> renderIds(const App& app, int width, int height, std::string& error) {
  Framebuffer ids;
  if (error = ids.create(width, height); !error.empty()) return {};
  ids.bind();
  gl::Viewport(0, 0, width, height);
  gl::ClearColor(0.0f, 0.0f, 0.0f, 0.0f);
  gl::ClearStencil(0);
  gl::Clear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT | GL_STENCIL_BUFFER_BIT);
  gl::Disable(GL_DITHER);
  gl::Enable(GL_SCISSOR_TEST);
  for (const auto& v : app.views) {
    const int x = static_cast<int>(v.pos.x), w = static_cast<int>(v.size.x);
    const int h = static_cast<int>(v.size.y);
    const int y = height - static_cast<int>(v.pos.y) - h;
    gl::Viewport(x, y, w, h);
    gl::Scissor(x, y, w, h);
    const int64_t first = v.compare_panel < 0 ? 0 : v.compare_panel * app.cache.per_panel;
    app.renderer.drawIds(v.view_proj, first, app.cache.per_panel, litGroupOf(app, v));
  }
  gl::Disable(GL_SCISSOR_TEST);
  gl::Enable(GL_DITHER);
  gl::Finish();
  return ids.readRgba();
}

// One cube view's report: every cube's section, index, lit state, visible pixels, colour and
// screen position; `id_at` reads the id pass.
template <typename IdAt>
nlohmann::json cubeViewReport(const App& app, const SceneView& v, int width, int height,
                              const IdAt& id_at) {
  const AppState& s = *app.state;
  nlohmann::json view;
  view["rect"] = {v.pos.x, v.pos.y, v.size.x, v.size.y};
  if (v.compare_panel >= 0) {
    const ComparePanel& panel = s.compare[static_cast<size_t>(v.compare_panel)];
    view["title"] = panel.title;
    if (!panel.error.empty()) view["error"] = panel.error;
  } else {
    view["title"] = s.shown->plan.pytorchLine();
  }
  // Pixels per cube inside this view's rectangle.
  std::vector<int64_t> pixels(static_cast<size_t>(app.cache.per_panel), 0);
  const int x0 = std::max(0, static_cast<int>(v.pos.x)),
            y0 = std::max(0, static_cast<int>(v.pos.y));
  const int x1 = std::min(width, static_cast<int>(v.pos.x + v.size.x)),
            y1 = std::min(height, static_cast<int>(v.pos.y + v.size.y));
  for (int py = y0; py < y1; ++py)
    for (int px = x0; px < x1; ++px) {
      const int64_t id = id_at(px, py);
      if (id > 0 && id <= app.cache.per_panel) ++pixels[static_cast<size_t>(id - 1)];
    }
  nlohmann::json cubes = nlohmann::json::array();
  int64_t lit = 0, lit_visible = 0;
  const std::optional<int64_t> lit_group = litGroupOf(app, v);
  const int64_t first = v.compare_panel < 0 ? 0 : v.compare_panel * app.cache.per_panel;
  for (int64_t i = 0; i < app.cache.per_panel; ++i) {
    const CubeInstance& inst = app.cache.instances[static_cast<size_t>(first + i)];
    const CubeRef ref =
        v.compare_panel < 0 ? cubeOfInstance(app.cache.layout, i) : CubeRef{Section::Input, i};
    const bool is_lit = drawnState(inst, lit_group) == CubeState::Lit;
    const auto screen = v.project(inst.center);
    bool visible = false;
    if (screen) {
      const int px = static_cast<int>(std::floor(screen->x)),
                py = static_cast<int>(std::floor(screen->y));
      visible = px >= x0 && py >= y0 && px < x1 && py < y1 && id_at(px, py) == i + 1;
    }
    lit += is_lit ? 1 : 0;
    lit_visible += is_lit && visible ? 1 : 0;
    cubes.push_back({{"section", sectionName(ref.section)},
                     {"index", ref.index},
                     {"lit", is_lit},
                     {"visible", visible},
                     {"pixels", pixels[static_cast<size_t>(i)]},
                     {"color",
                      {std::lround(inst.color.r * 255), std::lround(inst.color.g * 255),
                       std::lround(inst.color.b * 255)}},
                     {"x", screen ? screen->x : -1.0f},
                     {"y", screen ? screen->y : -1.0f}});
  }
  view["lit_count"] = lit;
  view["lit_visible"] = lit_visible;
  view["cubes"] = std::move(cubes);
  return view;
}

// Every drawn cube's screen position, lit state and visible pixels, read from one id render pass
// (each pixel names the cube that owns it, ghosts never covering solid cubes, as drawn): linear in
// the cubes and pixels. A cube is `visible` when the pixel at its projected centre is its own.
nlohmann::json cubeReport(const App& app) {
  const AppState& s = *app.state;
  nlohmann::json j;
  j["width"] = static_cast<int>(app.display.x);
  j["height"] = static_cast<int>(app.display.y);
  j["layout"] = nameOf(s.layout);
  j["explode"] = s.explode;
  const glm::vec3 bg = backgroundOf(s.theme);
  j["background"] = {std::lround(bg.r * 255), std::lround(bg.g * 255), std::lround(bg.b * 255)};
  if (!s.error.empty()) j["error"] = s.error;
  if (!s.shown) return j;
  if (shownDisplay(s) == DisplayMode::Sheet) {
    j["display"] = "sheet";
    j["views"] = sheetReport(app);
    return j;
  }
  j["display"] = "cubes";
  const int width = static_cast<int>(app.display.x), height = static_cast<int>(app.display.y);
  std::string error;
  const std::vector<uint8_t> rgba = renderIds(app, width, height, error);
  if (!error.empty()) {
    j["error"] = error;
    return j;
  }
  auto id_at = [&](int px, int py) -> int64_t {
    const size_t o =
        (static_cast<size_t>(py) * static_cast<size_t>(width) + static_cast<size_t>(px)) * 4;
    return int64_t{rgba[o]} | (int64_t{rgba[o + 1]} << 8) | (int64_t{rgba[o + 2]} << 16);
  };
  nlohmann::json views = nlohmann::json::array();
  for (const auto& v : app.views) views.push_back(cubeViewReport(app, v, width, height, id_at));
  j["views"] = std::move(views);
  return j;
}

}  // namespace

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
    for (int f = 0; f < frames; ++f) {
      s.pinned = CubeRef{Section::Input, (int64_t{f} * 7919 + 1) % s.x.numel()};
      rebuildScene(app);
      lit += litGroupOf(app, app.views.front()).has_value() ? 1 : 0;
    }
    const double colours_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
        frames;
    t0 = std::chrono::steady_clock::now();
    const auto& v = app.views.front();
    for (int f = 0; f < frames; ++f) {
      const float t = static_cast<float>(f) / static_cast<float>(frames);
      if (display == DisplayMode::Sheet) {
        const glm::vec2 mouse = v.pos + v.size * glm::vec2(0.2f + 0.6f * t, 0.3f + 0.4f * t);
        lit += pickSheet(s, app.sheet, v, mouse).has_value() ? 1 : 0;
        continue;
      }
      const Ray ray = s.camera.rayThrough({t - 0.5f, 0.3f - t * 0.6f}, v.size.x / v.size.y);
      lit += pickCube(app.cache.layout, ray.origin, ray.dir).has_value() ? 1 : 0;
    }
    const double pick_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
        frames;
    std::printf("%-18s %-6s %9lld %13.2f %10.2f %12.2f %14.2f %9.2f\n", shape.str().c_str(),
                display == DisplayMode::Sheet ? "sheet" : "cubes",
                static_cast<long long>(shape.numel()), recompute_ms, frame_ms, hover_ms,
                colours_ms + pick_ms, pick_ms);
    if (lit == 0) std::printf("(no cube drawn or picked)\n");
  }
  std::printf("renderer: %s\n", reinterpret_cast<const char*>(gl::GetString(GL_RENDERER)));
  return 0;
}

// Writes the settings file whenever a persisted setting changes, so a killed session keeps them.
// ---- PNG
// -----------------------------------------------------------------------------------------

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
  const Camera camera = s.camera, fitted_camera = app.fitted_camera;
  const SheetCamera sheet_camera = s.sheet_camera, fitted_sheet_camera = app.fitted_sheet_camera;
  const glm::vec2 display = app.display, fitted_size = app.fitted_size;
  const std::vector<SceneView> views = app.views;
  const std::optional<CubeRef> hovered = s.hovered;
  const bool gliding = app.gliding;
  app.offscreen = true;
  app.gliding = false;
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
    app.gliding = gliding;
    app.display = display;
    app.views = views;
    app.fitted_size = fitted_size;
    app.fitted_camera = fitted_camera;
    app.fitted_sheet_camera = fitted_sheet_camera;
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
    out << cubeReport(app).dump() << "\n";
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
  return stepperAnimating(*app.state) || app.gliding;
}

std::string initFrame(App& app, const std::string& missing_gl) {
  std::string error =
      missing_gl.empty() ? app.renderer.init() : "OpenGL functions missing: " + missing_gl;
  if (error.empty()) error = app.sheet_renderer.init();
  ImGui_ImplOpenGL3_Init("#version 330 core");
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
