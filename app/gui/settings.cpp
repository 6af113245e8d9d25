// Reading and writing the settings JSON; a corrupt file is reported and ignored, never fatal.
#include "settings.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app_compute.hpp"

namespace normviz {

namespace {

template <typename E>
E parseEnum(const nlohmann::json& j, const char* key,
            std::initializer_list<std::pair<const char*, E>> names, E fallback) {
  if (!j.contains(key)) return fallback;
  const std::string value = j.at(key).get<std::string>();
  for (const auto& [name, e] : names)
    if (value == name) return e;
  throw std::runtime_error(std::string("unknown ") + key + " '" + value + "'");
}

}  // namespace

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
    const auto j = nlohmann::json::parse(text.str());
    if (!j.is_object()) throw std::runtime_error("not a JSON object");
    AppState s = state;  // parse everything first, so a bad field changes nothing
    s.theme = parseEnum(j, "theme", {{"dark", Theme::Dark}, {"light", Theme::Light}}, s.theme);
    s.layout = parseEnum(
        j, "layout", {{"single", LayoutMode::Single}, {"compare", LayoutMode::Compare}}, s.layout);
    s.color_by = parseEnum(j, "color_by", {{"value", ColorBy::Value}, {"groups", ColorBy::Groups}},
                           s.color_by);
    s.input_map =
        parseEnum(j, "colormap", {{"viridis", ColorMap::Viridis}, {"cividis", ColorMap::Cividis}},
                  s.input_map);
    if (j.contains("font_scale")) {
      const double f = j.at("font_scale").get<double>();
      if (!(f >= 0.5 && f <= 4.0)) throw std::runtime_error("font_scale outside 0.5..4");
      s.font_scale = static_cast<float>(f);
    }
    if (j.contains("show_panels")) s.show_panels = j.at("show_panels").get<bool>();
    std::optional<LayerOptions> layer;
    if (j.contains("layer")) {
      // The last layer and shape: used when the command line names none.
      const auto& l = j.at("layer");
      if (!l.is_object()) throw std::runtime_error("layer is not an object");
      LayerOptions o;
      o.norm = l.value("norm", o.norm);
      o.groups = l.value("groups", o.groups);
      o.normalized_shape = l.value("normalized_shape", o.normalized_shape);
      o.axes = l.value("axes", o.axes);
      o.eval = l.value("eval", o.eval);
      o.shape = l.value("shape", o.shape);
      o.init = l.value("init", o.init);
      o.seed = l.value("seed", o.seed);
      layer = o;
    }
    state.remembered_layer = layer;
    state.theme = s.theme;
    state.layout = s.layout;
    state.color_by = s.color_by;
    state.input_map = s.input_map;
    state.font_scale = s.font_scale;
    state.show_panels = s.show_panels;
    return "";
  } catch (const std::exception& e) {
    return "ignored settings file " + path + " (" + e.what() + "); using defaults";
  }
}

nlohmann::json layerSettings(const AppState& state) {
  const NormConfig& c = state.config;
  nlohmann::json l;
  l["norm"] = normKindName(c.kind);
  l["groups"] = c.groups;
  l["normalized_shape"] = commaList(c.normalized_shape);
  l["axes"] = commaList(c.axes);
  l["eval"] = !c.training;
  l["shape"] = commaList(state.x.shape.dims);
  l["init"] = state.init == "file" ? "randn" : state.init;
  l["seed"] = state.seed;
  return l;
}

std::string saveSettings(const AppState& state, const std::string& path) {
  if (path.empty()) return "no settings path (neither XDG_CONFIG_HOME nor HOME is set)";
  nlohmann::json j;
  j["theme"] = state.theme == Theme::Dark ? "dark" : "light";
  j["layout"] = state.layout == LayoutMode::Single ? "single" : "compare";
  j["color_by"] = state.color_by == ColorBy::Value ? "value" : "groups";
  j["colormap"] = colorMapName(state.input_map);
  j["font_scale"] = state.font_scale;
  j["show_panels"] = state.show_panels;
  j["layer"] = layerSettings(state);
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
