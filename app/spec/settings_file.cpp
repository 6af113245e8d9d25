// The settings file's JSON, both ways.
#include "settings_file.hpp"

#include "json_fields.hpp"
#include "normviz/error.hpp"
#include "normviz/plan.hpp"
#include "view_spec.hpp"

namespace normviz {

namespace {

template <typename E>
std::optional<E> nameField(const nlohmann::json& j, const char* key) {
  if (!j.contains(key)) return std::nullopt;
  return parseName<E>(jsonString(j[key], key), key);
}

}  // namespace

SettingsFile parseSettingsFile(std::string_view text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse errors, and numbers past a double
    throw NormError(std::string("not JSON: ") + e.what());
  }
  if (!j.is_object()) throw NormError("not a JSON object");
  SettingsFile s;
  s.theme = nameField<Theme>(j, "theme");
  s.layout = nameField<LayoutMode>(j, "layout");
  s.color_by = nameField<ColorBy>(j, "color_by");
  s.colormap = nameField<ColorMap>(j, "colormap");
  if (j.contains("font_scale"))
    s.font_scale = static_cast<float>(jsonNumber(j["font_scale"], "font_scale", 0.5, 4.0));
  if (j.contains("show_panels")) s.show_panels = jsonBool(j["show_panels"], "show_panels");
  if (j.contains("layer")) {
    if (!j["layer"].is_object()) throw NormError("\"layer\" is not an object");
    s.layer = layerFromJson(j["layer"]);
  }
  return s;
}

nlohmann::json settingsFileJson(const SettingsFile& s) {
  nlohmann::json j = nlohmann::json::object();
  if (s.theme) j["theme"] = nameOf(*s.theme);
  if (s.layout) j["layout"] = nameOf(*s.layout);
  if (s.color_by) j["color_by"] = nameOf(*s.color_by);
  if (s.colormap) j["colormap"] = nameOf(*s.colormap);
  if (s.font_scale) j["font_scale"] = *s.font_scale;
  if (s.show_panels) j["show_panels"] = *s.show_panels;
  if (s.layer) j["layer"] = layerToJson(*s.layer);
  return j;
}

}  // namespace normviz
