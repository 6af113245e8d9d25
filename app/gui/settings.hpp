// Settings persisted between runs: theme, font scale, layout, colouring, colour map, and the last
// layer and shape (used when the command line names none).
// Stored as JSON in $XDG_CONFIG_HOME/normviz/settings.json (or ~/.config/normviz/settings.json).
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "app_state.hpp"
#include "settings_file.hpp"

namespace normviz {

// The settings file's path; empty when neither XDG_CONFIG_HOME nor HOME is set.
std::string settingsPath();

// Applies a settings file to the state. Returns "" when it loaded or does not exist, otherwise a
// message saying why it was ignored (unreadable, not JSON, wrong types); the state is then
// unchanged.
std::string loadSettings(AppState& state, const std::string& path);

// What the settings file holds for this state: the look, and the layer and shape to restore.
SettingsFile settingsOf(const AppState& state);

// Writes the settings (creating the directory). Returns "" or the reason it failed.
std::string saveSettings(const AppState& state, const std::string& path);

// Writes the settings when what they hold changed since the last frame (the first state, loaded
// or default, needs no write).
class SettingsWriter {
 public:
  explicit SettingsWriter(bool enabled) : enabled_(enabled) {}
  void saveIfChanged(const AppState& s) {
    if (!enabled_) return;
    std::string key = settingsFileJson(settingsOf(s)).dump();
    if (has_saved_ && saved_ == key) return;
    const bool first = !has_saved_;
    saved_ = std::move(key);
    has_saved_ = true;
    if (first) return;  // what was loaded (or the defaults) needs no write
    const std::string message = saveSettings(s, settingsPath());
    if (!message.empty()) std::fprintf(stderr, "normviz: %s\n", message.c_str());
  }

 private:
  bool enabled_;
  bool has_saved_ = false;
  std::string saved_;  // the settings JSON last seen
};

}  // namespace normviz
