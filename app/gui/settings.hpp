// Settings persisted between runs: theme, font scale, layout, colouring, colour map, and the last
// layer and shape (used when the command line names none).
// Stored as JSON in $XDG_CONFIG_HOME/normviz/settings.json (or ~/.config/normviz/settings.json).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "app_state.hpp"

namespace normviz {

// The settings file's path; empty when neither XDG_CONFIG_HOME nor HOME is set.
std::string settingsPath();

// Applies a settings file to the state. Returns "" when it loaded or does not exist, otherwise a
// message saying why it was ignored (unreadable, not JSON, wrong types); the state is then
// unchanged.
std::string loadSettings(AppState& state, const std::string& path);

// The layer and shape part of the settings, as LayerOptions spells them.
nlohmann::json layerSettings(const AppState& state);

// Writes the settings (creating the directory). Returns "" or the reason it failed.
std::string saveSettings(const AppState& state, const std::string& path);

}  // namespace normviz
