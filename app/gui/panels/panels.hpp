// The window's panels and overlays: each reads and changes AppState, and leaves arithmetic to core.
#pragma once

#include <functional>
#include <glm/glm.hpp>
#include <optional>
#include <string>

#include "app_state.hpp"
#include "scene_colors.hpp"
#include "scene_layout.hpp"
#include "stepper_panel.hpp"

struct ImVec2;

namespace normviz {

// Where the panels sit in a window of `display` pixels, and the room they leave to the tensor. A
// landscape window has the controls on the left and the statistics on the right; a narrow portrait
// one (a tablet, a phone) has the tensor on top and the two panels side by side below it. Hidden
// panels (P) and presenter mode leave the whole window to the tensor.
struct PanelRects {
  glm::vec2 controls_pos{0.0f}, controls_size{0.0f};
  glm::vec2 stats_pos{0.0f}, stats_size{0.0f};
  glm::vec2 scene_pos{0.0f}, scene_size{1.0f};
  bool shown() const { return controls_size.x > 0.0f; }
};
PanelRects panelRects(const AppState& state, glm::vec2 display);

// A 3D viewport on screen: its rectangle in window pixels and its camera matrix.
struct SceneView {
  glm::vec2 pos{0.0f}, size{1.0f};
  glm::mat4 view_proj{1.0f};
  int compare_panel = -1;  // -1 in the single layout
  // Window pixel position of a world point; nullopt behind the camera.
  std::optional<glm::vec2> project(glm::vec3 world) const;
};

void drawControlsPanel(AppState& state, glm::vec2 pos, glm::vec2 size);  // panel_controls.cpp
void drawStatsPanel(AppState& state, glm::vec2 pos, glm::vec2 size);     // panel_stats.cpp
// Waits for the stats panel's background copy-bandwidth measurement, if one was started: called
// before the window closes, so that no thread still runs the engine while the process exits.
void finishStatsBackgroundWork(const AppState& state);  // panel_stats.cpp
void drawHelpOverlay(AppState& state);                  // panel_help.cpp
// A tooltip wrapped at about 40 characters (ImGui's own runs on in one line, off a projector's
// screen); printf-style. panel_help.cpp.
void wrappedTooltip(const char* fmt, ...);
// panel_plot.cpp: the plot the state asks for (state.plot) in the rectangle under the tensor.
void drawPlotPanel(AppState& state, glm::vec2 pos, glm::vec2 size);

// scene_overlay.cpp: axis arrows, section titles, the hovered cube's tooltip, the colour legend.
void drawSceneOverlay(const AppState& state, const SceneLayout& layout, const SceneView& view);
// A compare panel's title, group count and lit group, at its top left; its frame.
void drawComparePanelHeader(const AppState& state, const SceneView& view);
// The lines of text that header takes at the top of a panel: the views keep them free.
inline constexpr float kCompareHeaderLines = 2.0f;
// The hovered element's card beside the mouse.
void drawHoverTooltip(const AppState& state);
// The colour legend in the 3D view's bottom right corner, at most `max_width` pixels wide.
void drawLegend(const AppState& state, glm::vec2 bottom_right, float max_width);
// "mean (3, 2)": the title drawn above a section's top left corner; its label is "mean" ("dy",
// "dx", ... in backward mode).
std::string sectionTitle(const Snapshot& snap, Section section);
std::string sectionLabel(const Snapshot& snap, Section section);
// The facts about one cube: index, x, y, its group and the group's mean/var/rstd.
void drawCubeCard(const AppState& state, CubeRef ref);

// panel_lesson.cpp: the lesson card over the scene, and the marks of a question that withholds the
// lit group (the marked element; a "click every cube" question's selection, misses and extras)
// (screen_of gives an element of x's position on screen, or nullopt).
void drawLessonPanel(AppState& state, const SceneView& view);
void drawLessonMarks(const AppState& state, const SceneView& view,
                     const std::function<std::optional<glm::vec2>(int64_t)>& screen_of);

// panel_stepper.cpp: the kernel stepper tab, and the colours it asks the 3D view for.
void drawStepperTab(AppState& state);
// What the stepper shows in the view while it is active (the traced group, its threads and the
// selected lane's cover); nullptr otherwise.
const StepperHighlight* stepperHighlight(AppState& state);
// Applies --stage/--lane/--block-size to the stepper; returns a message when it is not built.
std::string configureStepper(AppState& state);
bool stepperAnimating(const AppState& state);

}  // namespace normviz
