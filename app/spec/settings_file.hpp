// The settings file's contents (theme, layout, colouring, colour map, font scale, panels, and the
// last layer and shape), parsed from and written to JSON with no GUI: the app reads and writes the
// file, the fuzzer feeds this parser.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "layer_options.hpp"
#include "view_options.hpp"

namespace normviz {

struct SettingsFile {
  std::optional<Theme> theme;
  std::optional<LayoutMode> layout;
  std::optional<ColorBy> color_by;
  std::optional<ColorMap> colormap;
  std::optional<float> font_scale;  // 0.5 to 4
  std::optional<bool> show_panels;
  std::optional<LayerOptions> layer;  // the last session's layer and shape
};

// Parses a settings file's text. Throws NormError naming the field that is wrong (or "not JSON");
// a missing field stays unset. The layer's values are checked for type here and for meaning
// (shape, groups, axes) when the app loads them.
SettingsFile parseSettingsFile(std::string_view text);

// The JSON that parseSettingsFile reads back to the same values.
nlohmann::json settingsFileJson(const SettingsFile& settings);

}  // namespace normviz
