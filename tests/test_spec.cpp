// Tests of what describes a view without the GUI: typed JSON reads, the named choices, the settings
// file, the layer keys of lessons and settings, and lessons that refuse values no tensor can have.
#include <doctest/doctest.h>

#include <string>

#include "json_fields.hpp"
#include "layer_options.hpp"
#include "lessons.hpp"
#include "normviz/error.hpp"
#include "settings_file.hpp"
#include "view_options.hpp"

using namespace normviz;
using nlohmann::json;

namespace {

template <typename F>
std::string errorOf(F&& f) {
  try {
    f();
  } catch (const NormError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("typed JSON reads refuse wrong types and values out of range, naming the field") {
  CHECK(jsonInt(json(3), "groups", 1, 10) == 3);
  CHECK(jsonInt(json(uint64_t{7}), "groups", 1, 10) == 7);
  CHECK(contains(errorOf([] { jsonInt(json(1e30), "groups", 1, 10); }),
                 "\"groups\" is 1e+30; expected an integer from 1 to 10"));
  CHECK(contains(errorOf([] { jsonInt(json(2.0), "groups", 1, 10); }), "\"groups\""));
  CHECK(contains(errorOf([] { jsonInt(json(18446744073709551615ull), "groups", 1, 10); }),
                 "\"groups\" is 18446744073709551615"));
  CHECK(contains(errorOf([] { jsonInt(json(0), "groups", 1, 10); }), "from 1 to 10"));
  CHECK(jsonNumber(json(0.5), "explode", 0, 1) == 0.5);
  CHECK(contains(errorOf([] { jsonNumber(json("x"), "explode", 0, 1); }), "\"explode\""));
  CHECK(contains(errorOf([] { jsonNumber(json(2), "explode", 0, 1); }), "a number from 0"));
  CHECK(jsonListText(json::parse("[4, 2, 2]"), "shape") == "4,2,2");
  CHECK(jsonListText(json("4, 2"), "shape") == "4, 2");
  CHECK(jsonListText(json(5), "shape") == "5");
  CHECK(contains(errorOf([] { jsonListText(json::parse("[4, 2.5]"), "shape"); }),
                 "\"shape\" is [4,2.5]; expected a list of integers"));
  CHECK(contains(errorOf([] { jsonListText(json::parse("[]"), "shape"); }), "\"shape\""));
  CHECK(contains(errorOf([] { jsonListText(json::parse("{}"), "shape"); }), "\"shape\""));
}

TEST_CASE("named choices: one table each way, and a message listing the names") {
  CHECK(parseName<Theme>("light", "--theme") == Theme::Light);
  CHECK(nameOf(Backend::GpuEmulated) == std::string("gpu-emulated"));
  CHECK(nameList<ViewPreset>() == "front|top|isometric");
  CHECK(errorOf([] { parseName<LayoutMode>("grid", "--layout"); }) ==
        "--layout 'grid' is not one of single, compare");
  for (const auto& n : namesOf<DisplayMode>())
    CHECK(parseName<DisplayMode>(n.name, "display") == n.value);
}

TEST_CASE("the settings file: round trip, and each bad field named") {
  SettingsFile s;
  s.theme = Theme::Light;
  s.colormap = ColorMap::Cividis;
  s.font_scale = 2.25f;
  LayerOptions layer;
  layer.norm = "layer";
  layer.shape = "2,6,768";
  layer.seed = 18446744073709551615ull;
  s.layer = layer;
  const json written = settingsFileJson(s);
  const SettingsFile back = parseSettingsFile(written.dump());
  CHECK(back.theme == Theme::Light);
  CHECK(back.colormap == ColorMap::Cividis);
  CHECK(back.font_scale == 2.25f);
  CHECK_FALSE(back.layout.has_value());
  REQUIRE(back.layer.has_value());
  CHECK(back.layer->shape == "2,6,768");
  CHECK(back.layer->seed == 18446744073709551615ull);
  CHECK(settingsFileJson(back) == written);

  CHECK(contains(errorOf([] { parseSettingsFile("{not json"); }), "not JSON"));
  CHECK(contains(errorOf([] { parseSettingsFile("[1]"); }), "not a JSON object"));
  // nlohmann throws out_of_range, not parse_error, for a number past a double (found by fuzzing).
  CHECK(contains(errorOf([] { parseSettingsFile(R"({"layer": {"groups": 1e400}})"); }),
                 "number overflow parsing '1e400'"));
  CHECK(contains(errorOf([] { parseSettingsFile(R"({"theme": "sepia"})"); }),
                 "theme 'sepia' is not one of dark, light"));
  CHECK(contains(errorOf([] { parseSettingsFile(R"({"font_scale": 9})"); }), "\"font_scale\""));
  // Numbers no conversion may see: each is refused by name instead.
  CHECK(contains(errorOf([] { parseSettingsFile(R"({"layer": {"groups": 1e30}})"); }),
                 "\"groups\" is 1e+30"));
  CHECK(contains(errorOf([] { parseSettingsFile(R"({"layer": {"seed": -1}})"); }), "\"seed\""));
  CHECK(contains(errorOf([] { parseSettingsFile(R"({"layer": {"shape": [1e30]}})"); }),
                 "\"shape\""));
}

TEST_CASE("a layer that no tensor can have is one clear message from loadLayer") {
  auto load = [](const char* shape) {
    LayerOptions o;
    o.norm = "batch";
    o.shape = shape;
    o.init = "randn";
    return errorOf([&] { (void)loadLayer(o); });
  };
  CHECK(contains(load("2000000400000000000,744073709551615,0"), "every dim must be at least 1"));
  CHECK(contains(load("3037000500,3037000500,2"), "cannot be represented"));
  CHECK(contains(load("4096,4096,4096,4096"), "more than the limit of"));
  CHECK(contains(load("-3,4"), "has a dim of -3"));
  CHECK(contains(load("3,four"), "'four' is not an integer"));
  CHECK(contains(load("99999999999999999999"), "out of range"));
}

TEST_CASE("hover: parsed against the shape, each problem named") {
  CHECK(parseHover("1,3,2,2", Shape{4, 6, 5, 5}) == ((1 * 6 + 3) * 5 + 2) * 5 + 2);
  CHECK(contains(errorOf([] { parseHover("1,3", Shape{4, 6, 5, 5}); }), "has 2 indices"));
  CHECK(contains(errorOf([] { parseHover("1,9,0,0", Shape{4, 6, 5, 5}); }),
                 "index 9 is outside dim 1 of size 6"));
  CHECK(contains(errorOf([] { parseHover("1,x,0,0", Shape{4, 6, 5, 5}); }), "'x' is not an"));
  CHECK(contains(errorOf([] { parseHover("99999999999999999999,0,0,0", Shape{4, 6, 5, 5}); }),
                 "out of range"));
}

TEST_CASE("lessons refuse set values no view can take, with the file and line") {
  auto lessonError = [](const std::string& set) {
    return errorOf([&] {
      (void)parseLesson("{\"name\": \"x\", \"title\": \"t\", \"steps\": [\n {\"text\": \"a\", \"set\": " +
                            set + "}]}",
                        "my.json");
    });
  };
  CHECK(contains(lessonError(R"({"groups": 1e30})"), "my.json:2: step 1: \"groups\" is 1e+30"));
  CHECK(contains(lessonError(R"({"groups": 1e400})"),
                 "my.json:2: not valid JSON: number overflow parsing '1e400'"));
  CHECK(contains(lessonError(R"({"shape": [18446744073709551615]})"), "my.json:2: step 1:"));
  CHECK(contains(lessonError(R"({"shape": "2000000400000000000,744073709551615,0"})"),
                 "every dim must be at least 1"));
  CHECK(contains(lessonError(R"({"shape": [3037000500, 3037000500, 2]})"),
                 "cannot be represented"));
  CHECK(contains(lessonError(R"({"stage": 1e300})"), "\"stage\""));
  CHECK(contains(lessonError(R"({"seed": -1})"), "\"seed\""));
  CHECK(contains(lessonError(R"({"layout": "grid"})"), "layout 'grid' is not one of"));
  CHECK(contains(lessonError(R"({"hover": "1,-2,0,0"})"), "hover index -2 is negative"));
  CHECK(contains(lessonError(R"({"norm": "wobble"})"), "unknown norm 'wobble'"));
  CHECK(contains(lessonError(R"({"init": "sparkly"})"), "unknown --init 'sparkly'"));
  CHECK(contains(lessonError(R"({"momentum": "fast"})"), "--momentum 'fast'"));
  CHECK(contains(lessonError(R"({"explode": 3})"), "\"explode\""));
  // Values that depend on each other wait for the step to be applied.
  CHECK(lessonError(R"({"groups": 3, "shape": "2,4,2,2"})").empty());
  // Every built-in lesson passes the same checks.
  CHECK(builtinLessons().size() >= 10);
}
