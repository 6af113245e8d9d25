// libFuzzer target for lesson files: any text either parses or throws NormError, never crashes.
//
// A lesson that parses has had every "set" value checked, so reading a step's layer from it must
// not throw; loading that layer (tiny element limit) either works or names the problem.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "lessons.hpp"
#include "normviz/error.hpp"
#include "view_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  normviz::Lesson lesson;
  try {
    lesson = normviz::parseLesson(text, "fuzz.json");
  } catch (const normviz::NormError&) {
    return 0;
  }
  for (size_t k = 0; k < lesson.steps.size(); ++k) {
    const nlohmann::json set = normviz::settingsAt(lesson, static_cast<int>(k));
    normviz::ViewSpec spec;
    try {
      spec = normviz::specFromJson(set);
    } catch (const normviz::NormError&) {
      std::abort();  // parseLesson let through a value it should have refused
    }
    spec.layer.max_elements = 1 << 12;
    try {
      const normviz::LoadedLayer layer = normviz::loadLayer(spec.layer);
      if (spec.hover) (void)normviz::flatIndex(*spec.hover, layer.x.shape);
    } catch (const normviz::NormError&) {
    }
  }
  return 0;
}
