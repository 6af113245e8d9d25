// libFuzzer target for the settings file: any text either parses or throws NormError, never
// crashes; what parses writes back to JSON that parses to the same settings, and its layer either
// loads (tiny element limit) or names the problem.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "layer_options.hpp"
#include "normviz/error.hpp"
#include "settings_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  normviz::SettingsFile settings;
  try {
    settings = normviz::parseSettingsFile(text);
  } catch (const normviz::NormError&) {
    return 0;
  }
  const nlohmann::json written = normviz::settingsFileJson(settings);
  if (normviz::settingsFileJson(normviz::parseSettingsFile(written.dump())) != written)
    std::abort();
  if (settings.layer) {
    normviz::LayerOptions o = *settings.layer;
    o.max_elements = 1 << 12;
    try {
      (void)normviz::loadLayer(o);
    } catch (const normviz::NormError&) {
    }
  }
  return 0;
}
