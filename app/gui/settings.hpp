// Presentation settings persisted between runs: theme, font scale, layout, colouring, colour map.
// Stored as JSON in $XDG_CONFIG_HOME/normviz/settings.json (or ~/.config/normviz/settings.json).
#pragma once

#include <string>

#include "app_state.hpp"

namespace normviz {

// The settings file's path; empty when neither XDG_CONFIG_HOME nor HOME is set.
std::string settingsPath();

// Applies a settings file to the state. Returns "" when it loaded or does not exist, otherwise a
// message saying why it was ignored (unreadable, not JSON, wrong types); the state is then
// unchanged.
std::string loadSettings(AppState& state, const std::string& path);

// Writes the settings (creating the directory). Returns "" or the reason it failed.
std::string saveSettings(const AppState& state, const std::string& path);

}  // namespace normviz
