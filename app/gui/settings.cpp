// Reading and writing the settings JSON; a corrupt file is reported and ignored, never fatal.
#include "settings.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app_compute.hpp"
#include "normviz/error.hpp"
#include "settings_file.hpp"
#include "spec_state.hpp"

namespace normviz {

std::string settingsPath() {
  namespace fs = std::filesystem;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0')
    return (fs::path(xdg) / "normviz" / "settings.json").string();
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    return (fs::path(home) / ".config" / "normviz" / "settings.json").string();
  return "";
}

std::string loadSettings(AppState& state, const std::string& path) {
  if (path.empty() || !std::filesystem::exists(path)) return "";
  std::ifstream in(path);
  if (!in) return "settings file " + path + " is unreadable; using defaults";
  std::stringstream text;
  text << in.rdbuf();
  try {
    // Parsed whole first, so a bad field changes nothing.
    const SettingsFile f = parseSettingsFile(text.str());
    state.theme = f.theme.value_or(state.theme);
    state.layout = f.layout.value_or(state.layout);
    state.color_by = f.color_by.value_or(state.color_by);
    state.input_map = f.colormap.value_or(state.input_map);
    state.font_scale = f.font_scale.value_or(state.font_scale);
    state.show_panels = f.show_panels.value_or(state.show_panels);
    state.remembered_layer = f.layer;
    return "";
  } catch (const NormError& e) {
    return "ignored settings file " + path + " (" + e.what() + "); using defaults";
  }
}

SettingsFile settingsOf(const AppState& state) {
  SettingsFile f;
  f.theme = state.theme;
  f.layout = state.layout;
  f.color_by = state.color_by;
  f.colormap = state.input_map;
  f.font_scale = state.font_scale;
  f.show_panels = state.show_panels;
  if (state.x.shape.rank() > 0) {  // no tensor yet: no layer to remember
    f.layer = layerOf(state);
    if (!f.layer->input.empty()) {  // a file may be gone next time: remember a generated input
      f.layer->input.clear();
      f.layer->init = "randn";
    }
  }
  return f;
}

std::string saveSettings(const AppState& state, const std::string& path) {
  if (path.empty()) return "no settings path (neither XDG_CONFIG_HOME nor HOME is set)";
  const nlohmann::json j = settingsFileJson(settingsOf(state));
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << j.dump(2) << "\n";
    if (!out) return "cannot write settings to " + tmp;
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) return "cannot write settings to " + path + ": " + ec.message();
  return "";
}

}  // namespace normviz
