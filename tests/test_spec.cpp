// Tests of what describes a view without the GUI: typed JSON reads, the named choices, the settings
// file, the layer keys of lessons and settings, and lessons that refuse values no tensor can have.
#include <doctest/doctest.h>

#include <random>
#include <cmath>
#include <string>

#include "json_fields.hpp"
#include "layer_options.hpp"
#include "lessons.hpp"
#include "normviz/error.hpp"
#include "settings_file.hpp"
#include "view_options.hpp"
#include "view_spec.hpp"

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
  layer.norm = NormKind::Layer;
  layer.shape = Shape{2, 6, 768};
  layer.seed = 18446744073709551615ull;
  s.layer = layer;
  const json written = settingsFileJson(s);
  const SettingsFile back = parseSettingsFile(written.dump());
  CHECK(back.theme == Theme::Light);
  CHECK(back.colormap == ColorMap::Cividis);
  CHECK(back.font_scale == 2.25f);
  CHECK_FALSE(back.layout.has_value());
  REQUIRE(back.layer.has_value());
  CHECK(back.layer->shape == Shape{2, 6, 768});
  CHECK(*back.layer == layer);
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
  CHECK(
      contains(errorOf([] { parseSettingsFile(R"({"layer": {"shape": [1e30]}})"); }), "\"shape\""));
}

TEST_CASE("a layer that no tensor can have is one clear message from loadLayer") {
  auto load = [](const char* shape) {
    return errorOf([&] {
      const std::vector<std::string> args = {"--norm", "batch",  "--shape",
                                             shape,    "--init", "randn"};
      (void)loadLayer(specFromArgv(args).layer);
    });
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
  CHECK(contains(errorOf([] {
                   parseHover("1,9,0,0", Shape{4, 6, 5, 5});
                 }),
                 "index 9 is outside dim 1 of size 6"));
  CHECK(contains(errorOf([] { parseHover("1,x,0,0", Shape{4, 6, 5, 5}); }), "'x' is not an"));
  CHECK(contains(errorOf([] {
                   parseHover("99999999999999999999,0,0,0", Shape{4, 6, 5, 5});
                 }),
                 "out of range"));
}

TEST_CASE("lessons refuse set values no view can take, with the file and line") {
  auto lessonError = [](const std::string& set) {
    return errorOf([&] {
      (void)parseLesson(
          "{\"name\": \"x\", \"title\": \"t\", \"steps\": [\n {\"text\": \"a\", \"set\": " + set +
              "}]}",
          "my.json");
    });
  };
  CHECK(contains(lessonError(R"({"groups": 1e30})"), "my.json:2: step 1: \"groups\" is 1e+30"));
  CHECK(contains(lessonError(R"({"groups": 1e400})"),
                 "my.json:2: not valid JSON: number overflow parsing '1e400'"));
  CHECK(contains(lessonError(R"({"shape": [18446744073709551615]})"), "my.json:2: step 1:"));
  CHECK(contains(lessonError(R"({"shape": "2000000400000000000,744073709551615,0"})"),
                 "every dim must be at least 1"));
  CHECK(
      contains(lessonError(R"({"shape": [3037000500, 3037000500, 2]})"), "cannot be represented"));
  CHECK(contains(lessonError(R"({"stage": 1e300})"), "\"stage\""));
  CHECK(contains(lessonError(R"({"seed": -1})"), "\"seed\""));
  CHECK(contains(lessonError(R"({"layout": "grid"})"), "layout 'grid' is not one of"));
  CHECK(contains(lessonError(R"({"hover": "1,-2,0,0"})"), "\"hover\": index -2 is negative"));
  CHECK(contains(lessonError(R"({"norm": "wobble"})"), "unknown norm 'wobble'"));
  CHECK(contains(lessonError(R"({"init": "sparkly"})"), "unknown --init 'sparkly'"));
  CHECK(contains(lessonError(R"({"momentum": "fast"})"), "--momentum 'fast'"));
  CHECK(contains(lessonError(R"({"explode": 3})"), "\"explode\""));
  // Values that depend on each other wait for the step to be applied.
  CHECK(lessonError(R"({"groups": 3, "shape": "2,4,2,2"})").empty());
  // Every built-in lesson passes the same checks.
  CHECK(builtinLessons().size() >= 10);
}

namespace {

// A random spec: every field valid, at its default about a third of the time, with text fields
// that hold the characters each form must escape (spaces, quotes, &, =, %, +, ?, non-ASCII).
ViewSpec randomSpec(std::mt19937_64& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  auto coin = [&] { return pick(3) == 0; };
  auto real = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng);
  };
  auto text = [&] {
    static const char* kPieces[] = {"a", "b.npy", " ", "'",    "\"",       "&",   "=", "%", "+",
                                    "?", "#",     "/", "dir/", "\xc3\xa9", "--x", ",", "~"};
    std::string t;
    for (int n = 1 + pick(6); n > 0; --n) t += kPieces[pick(17)];
    return t;
  };
  auto dims = [&](int lo, int hi) {
    std::vector<int64_t> d(static_cast<size_t>(1 + pick(4)));
    for (int64_t& v : d) v = lo + pick(hi - lo + 1);
    return d;
  };
  ViewSpec s;
  LayerOptions& l = s.layer;
  if (coin()) l.norm = static_cast<NormKind>(pick(7));
  if (coin()) l.groups = 1 + pick(64);
  if (coin()) l.normalized_shape = dims(1, 12);
  if (coin())
    for (int n = 1 + pick(4); n > 0; --n) l.axes.push_back(pick(8) - 4);
  if (coin()) l.eps = real(1e-12, 1.0);
  if (coin()) l.momentum = pick(2) ? std::nullopt : std::optional<double>(real(0, 1));
  if (coin()) l.eval = true;
  for (std::string* path : {&l.running_mean, &l.running_var, &l.weight, &l.bias, &l.input})
    if (coin()) *path = text();
  if (coin()) l.shape = Shape(dims(1, 99));
  static const char* kInits[] = {"randn",    "uniform",      "arange",
                                 "constant", "large-offset", "outlier-features"};
  if (coin()) l.init = kInits[pick(6)];
  if (coin())  // a list of names split at commas: none in a name
    for (int n = 1 + pick(3); n > 0; --n) {
      std::string name = pick(2) ? "sample:cat" : text();
      std::erase(name, ',');
      l.input_images.push_back(name.empty() ? "x.png" : name);
    }
  if (coin())
    l.resize = std::pair{static_cast<int64_t>(1 + pick(500)), static_cast<int64_t>(1 + pick(500))};
  if (coin()) l.seed = rng();
  if (coin()) l.max_elements = 1 + static_cast<int64_t>(rng() >> 20);
  s.affine = coin();
  s.backward = coin();
  static const char* kGrads[] = {"randn", "ones", "arange"};
  if (coin()) s.grad_init = kGrads[pick(3)];
  if (coin()) s.variance = static_cast<VarianceStrategy>(pick(4));
  if (coin()) s.backend = static_cast<Backend>(pick(4));
  if (coin()) s.threads = pick(65);
  if (coin()) s.hover = dims(0, 200);
  if (coin()) s.layout = static_cast<LayoutMode>(pick(2));
  if (coin()) s.display = static_cast<DisplayMode>(pick(4));
  if (coin()) s.explode = static_cast<float>(real(0, 1));
  if (coin()) s.color_by = static_cast<ColorBy>(pick(2));
  if (coin()) s.view = static_cast<ViewPreset>(pick(3));
  if (coin()) s.theme = static_cast<Theme>(pick(2));
  if (coin()) s.colormap = static_cast<ColorMap>(pick(2));
  if (coin()) s.font_scale = static_cast<float>(real(0.5, 4));
  if (coin()) s.plot = static_cast<PlotKind>(pick(5));
  if (coin()) s.lesson = text();
  if (coin()) s.lesson_file = text();
  if (coin()) s.step = 1 + pick(1000);
  s.presenter = coin();
  s.stepper = coin();
  if (coin()) s.stage = pick(65);
  if (coin()) s.lane = pick(1025) - 1;
  if (coin()) s.block_size = pick(1025);
  return s;
}

}  // namespace

TEST_CASE("the view spec round-trips through argv, JSON and a URL query, 5000 random specs") {
  std::mt19937_64 rng(20261202);
  for (int k = 0; k < 5000; ++k) {
    const ViewSpec spec = randomSpec(rng);
    const std::vector<std::string> argv = specToArgv(spec);
    const json object = specToJson(spec);
    const std::string query = specToQuery(spec);
    CAPTURE(k);
    CAPTURE(query);
    CHECK(specFromArgv(argv) == spec);
    CHECK(specFromJson(object) == spec);
    CHECK(specFromJson(json::parse(object.dump())) == spec);  // through the text too
    CHECK(specFromQuery(query) == spec);
    CHECK(specFromQuery("?" + query) == spec);
    // A query holds no character a URL must escape but its own %XX.
    CHECK(query.find_first_of(" \"'#?+") == std::string::npos);
  }
  // The default spec writes nothing in any form.
  CHECK(specToArgv(ViewSpec{}).empty());
  CHECK(specToJson(ViewSpec{}).empty());
  CHECK(specToQuery(ViewSpec{}).empty());
}

TEST_CASE("the view spec's forms: the flag names, and each malformed input names its field") {
  ViewSpec s;
  s.layer.norm = NormKind::Group;
  s.layer.groups = 2;
  s.layer.shape = Shape{4, 6, 5, 5};
  s.layer.init = "randn";
  s.hover = std::vector<int64_t>{1, 3, 2, 2};
  s.display = DisplayMode::Cubes;
  s.layout = LayoutMode::Single;
  CHECK(specToQuery(s) == "shape=4,6,5,5&init=randn&hover=1,3,2,2&layout=single&display=cubes");
  CHECK(specFromQuery("norm=group&groups=2&shape=4,6,5,5&init=randn&hover=1,3,2,2&display=cubes"
                      "&layout=single") == s);
  CHECK(specFromQuery("lesson=groupnorm&step=2").lesson == "groupnorm");
  CHECK(specFromQuery("backward").backward);
  CHECK(specFromQuery("input=my%20file.npy").layer.input == "my file.npy");
  CHECK(specFromQuery("input=my+file.npy").layer.input == "my file.npy");
  CHECK(specCommandLine(specFromQuery("input=my%20file.npy&norm=batch")) ==
        "normviz --norm batch --input 'my file.npy'");

  CHECK(errorOf([] {
          specFromArgv(std::vector<std::string>{"--groups", "x"});
        }) == "--groups: 'x' is not an integer");
  CHECK(errorOf([] {
          specFromArgv(std::vector<std::string>{"--colour", "red"});
        }) == "unknown flag --colour");
  CHECK(errorOf([] { specFromArgv(std::vector<std::string>{"--shape"}); }) ==
        "--shape needs a value");
  CHECK(contains(errorOf([] { specFromArgv(std::vector<std::string>{"--layout=grid"}); }),
                 "--layout: layout 'grid' is not one of single, compare"));
  CHECK(contains(errorOf([] { specFromJson(json::parse(R"({"groups": "x"})")); }), "\"groups\""));
  CHECK(errorOf([] { specFromJson(json::parse(R"({"colour": 1})")); }) == "unknown key \"colour\"");
  CHECK(contains(errorOf([] { specFromJson(json::parse(R"({"explode": 2})")); }),
                 "\"explode\": '2.0' is outside 0.0..1.0"));
  CHECK(errorOf([] { specFromQuery("groups=x"); }) == "groups=: 'x' is not an integer");
  CHECK(errorOf([] { specFromQuery("colour=red"); }) == "unknown parameter colour=");
  CHECK(contains(errorOf([] { specFromQuery("shape=4,%G6"); }), "shape=: "));
  CHECK(contains(errorOf([] { specFromQuery("shape=2000000400000000000,744073709551615,0"); }),
                 "shape=: shape (2000000400000000000, 744073709551615, 0) has a dim of 0"));
  CHECK(contains(errorOf([] { specFromQuery("hover=1,2,3,4,5"); }), "hover=: "));
  CHECK(contains(errorOf([] { specFromQuery("step=0"); }), "step=: '0' is outside 1..1000"));
  // Text goes into JSON and onto the screen: it must be UTF-8 (found by fuzzing the query).
  CHECK(contains(errorOf([] { specFromQuery("lesson=groupno%F2m"); }),
                 "lesson=: 'groupno...' is not valid UTF-8 text (byte 7)"));
  CHECK(
      contains(errorOf([] { specFromQuery("input=%C0%AF.npy"); }), "not valid UTF-8"));  // overlong
  CHECK(contains(errorOf([] { specFromQuery("input=%ED%A0%80.npy"); }),
                 "not valid UTF-8"));  // surrogate
  CHECK(specFromQuery("input=%C3%A9t%C3%A9.npy").layer.input == "\xc3\xa9t\xc3\xa9.npy");
}

TEST_CASE("--plot: every plot by name in argv, JSON and a query; none is the default") {
  for (const auto& [kind, name] : namesOf<PlotKind>()) {
    ViewSpec s;
    s.plot = kind;
    CAPTURE(name);
    CHECK(specFromArgv(specToArgv(s)) == s);
    CHECK(specFromJson(specToJson(s)) == s);
    CHECK(specFromQuery(specToQuery(s)) == s);
    CHECK(specFromArgv(std::vector<std::string>{"--plot", name}).plot == kind);
    CHECK(specFromArgv(std::vector<std::string>{std::string("--plot=") + name}).plot == kind);
  }
  ViewSpec s;
  s.plot = PlotKind::VarianceError;
  CHECK(specToQuery(s) == "plot=variance-error");
  CHECK(specToJson(s) == json::parse(R"({"plot": "variance-error"})"));
  CHECK(specFromJson(json::parse(R"({"plot": "histogram"})")).plot == PlotKind::Histogram);
  CHECK(specFromQuery("plot=running-stats").plot == PlotKind::RunningStats);
  CHECK(specToArgv(ViewSpec{}).empty());
  CHECK(contains(errorOf([] { specFromQuery("plot=pie"); }),
                 "plot=: plot 'pie' is not one of none, running-stats, batch-spread, histogram, "
                 "variance-error"));
  CHECK(contains(errorOf([] { specFromJson(json::parse(R"({"plot": 3})")); }), "\"plot\""));
}

TEST_CASE("outlier-features: a few feature dims of every token, 20..100x the rest") {
  const Tensor x = makeInput(Shape{2, 8, 768}, "outlier-features", 3);
  std::vector<double> mean_abs(768, 0.0);
  for (int64_t i = 0; i < x.numel(); ++i)
    mean_abs[static_cast<size_t>(i % 768)] += std::fabs(x[i]) / 16.0;
  int outliers = 0;
  double largest = 0;
  for (double m : mean_abs) {
    if (m > 15.0)
      ++outliers;
    else
      CHECK(m < 2.0);
    largest = std::max(largest, m);
  }
  CHECK(outliers == 6);  // 768 / 128
  CHECK(largest == doctest::Approx(100.0).epsilon(0.1));
  CHECK(makeInput(Shape{4, 16}, "outlier-features", 3).data ==
        makeInput(Shape{4, 16}, "outlier-features", 3).data);  // seeded
  const Tensor small = makeInput(Shape{3, 16}, "outlier-features", 1);
  int big = 0;
  for (int64_t d = 0; d < 16; ++d) big += std::fabs(small[d]) > 15.0f;
  CHECK(big == 1);  // at least one outlier dim, even for D < 128
}
