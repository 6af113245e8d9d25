// The help overlay: every keyboard shortcut and mouse gesture, toggled with F1 or '?'.
#include <imgui.h>

#include <cstdarg>

#include "panels.hpp"
#include "shortcuts.hpp"

namespace normviz {

void wrappedTooltip(const char* fmt, ...) {
  ImGui::BeginTooltip();
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 20.0f);
  va_list args;
  va_start(args, fmt);
  ImGui::TextV(fmt, args);
  va_end(args);
  ImGui::PopTextWrapPos();
  ImGui::EndTooltip();
}

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
  // The mouse's gestures and the panels' keyboard navigation, then every shortcut of the table
  // that handleKeys acts on (shortcuts.cpp), so this help cannot drift from the keys.
  static const char* const kGestures[][2] = {
      {"Mouse over a cube", "light its reduction region; tooltip with x, group statistics, y"},
      {"Click a cube", "pin its group (click empty space to unpin)"},
      {"Left drag", "orbit (in the sheet, plates and image views: pan)"},
      {"Right or middle drag", "pan"},
      {"Wheel", "zoom"},
      {"Tab, arrows, Space", "reach every control of the panels without a mouse"},
  };
  auto row = [](const char* keys, const char* what) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(keys);
    ImGui::TableNextColumn();
    ImGui::TextUnformatted(what);
  };
  if (ImGui::BeginTable("shortcuts", 2, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV)) {
    for (const auto& g : kGestures) row(g[0], g[1]);
    for (const Shortcut& s : shortcuts()) row(s.keys, s.help);
    ImGui::EndTable();
  }
  ImGui::End();
}

}  // namespace normviz
