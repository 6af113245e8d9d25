// The help overlay: every keyboard shortcut and mouse gesture, toggled with F1 or '?'.
#include <imgui.h>

#include "panels.hpp"

namespace normviz {

void drawHelpOverlay(AppState& state) {
  const ImGuiIO& io = ImGui::GetIO();
  ImGui::SetNextWindowPos(ImVec2(io.DisplaySize.x * 0.5f, io.DisplaySize.y * 0.5f),
                          ImGuiCond_Always, ImVec2(0.5f, 0.5f));
  ImGui::SetNextWindowBgAlpha(0.96f);
  if (!ImGui::Begin("Keyboard and mouse", &state.show_help,
                    ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoCollapse |
                        ImGuiWindowFlags_NoSavedSettings)) {
    ImGui::End();
    return;
  }
  static const char* const kRows[][2] = {
      {"Mouse over a cube", "light its reduction region; tooltip with x, group statistics, y"},
      {"Click a cube", "pin its group (click empty space to unpin)"},
      {"Esc", "unpin / close this help"},
      {"Arrow keys, [ ], , .", "move the lit element along W, H, C, N"},
      {"Left drag, Shift + arrows", "orbit (in the sheet: pan)"},
      {"Right or middle drag", "pan"},
      {"Wheel, + / -", "zoom"},
      {"1 / 2 / 3", "front / top / isometric view"},
      {"R", "reset the view"},
      {"G", "colour by value / by group"},
      {"C", "single / compare layout (BatchNorm, LayerNorm, InstanceNorm, GroupNorm)"},
      {"S", "cubes (3D) / sheet (every element one cell of a 2D image)"},
      {"Tab, arrows, Space", "reach every control of the panels without a mouse"},
      {"B", "backward mode: dy, the per-group sums, dx, dweight, dbias"},
      {"F5, PageUp / PageDown", "lesson: presenter mode, previous / next step"},
      {"E", "explode: separate plates / compact blocks"},
      {"T", "dark / light theme"},
      {"P", "hide / show the side panels"},
      {"Ctrl + / Ctrl -", "larger / smaller text"},
      {"Ctrl S", "save a PNG of the view (size and path under Export)"},
      {"F1 or ?", "this help"},
  };
  if (ImGui::BeginTable("shortcuts", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV)) {
    for (const auto& row : kRows) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(row[0]);
      ImGui::TableNextColumn();
      ImGui::TextUnformatted(row[1]);
    }
    ImGui::EndTable();
  }
  ImGui::End();
}

}  // namespace normviz
