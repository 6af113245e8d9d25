// The app's logic without a window: layout and alignment, picking, colour maps, lit regions,
// recompute and its error handling, settings persistence.
#include <doctest/doctest.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <tuple>

#include "app_compute.hpp"
#include "background_compute.hpp"
#include "camera.hpp"
#include "colormap.hpp"
#include "image_input.hpp"
#include "scene_colors.hpp"
#include "scene_layout.hpp"
#include "settings.hpp"
#include "sheet_layout.hpp"
#include "shortcuts.hpp"
#include "spec_state.hpp"

using namespace normviz;

namespace {

LayerOptions workedExample() {
  return LayerOptions{};
}  // defaults: (3,4,2,2) worked example, GroupNorm(2)

AppState stateFor(const std::string& norm, const std::string& normalized_shape = "") {
  LayerOptions o = workedExample();
  o.norm = parseNormKind(norm);
  if (!normalized_shape.empty()) o.normalized_shape = parseShape(normalized_shape).dims;
  AppState s;
  initFromOptions(s, o);
  recomputeIfChanged(s);
  REQUIRE(s.error.empty());
  REQUIRE(s.shown.has_value());
  return s;
}

// How many of cubes [first, first + count) are drawn lit while `lit_group` is lit.
int64_t litCount(const std::vector<CubeInstance>& cubes, int64_t first, int64_t count,
                 std::optional<int64_t> lit_group) {
  int64_t n = 0;
  for (int64_t i = first; i < first + count; ++i)
    n += drawnState(cubes[static_cast<size_t>(i)], lit_group) == CubeState::Lit ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("layout, compact blocks: W across, H down, C in depth, no two cubes overlap") {
  const SceneLayout l = makeLayout(Shape{3, 4, 2, 2}, nullptr, LayoutOptions{0.0f});
  REQUIRE(l.element_pos.size() == 48);
  const float p = SceneLayout::kPitch;
  // Flat index of (n, c, h, w) = ((n*4 + c)*2 + h)*2 + w.
  auto at = [&](int n, int c, int h, int w) {
    return l.element_pos[static_cast<size_t>(((n * 4 + c) * 2 + h) * 2 + w)];
  };
  CHECK(at(0, 0, 0, 1).x - at(0, 0, 0, 0).x == doctest::Approx(p));
  CHECK(at(0, 0, 0, 0).y - at(0, 0, 1, 0).y == doctest::Approx(p));  // h = 0 on top
  CHECK(at(0, 0, 0, 0).z - at(0, 1, 0, 0).z == doctest::Approx(p));  // c grows into the depth
  CHECK(glm::length(at(1, 0, 0, 0) - at(0, 0, 0, 0)) > 2.0f * p);    // samples apart
  std::set<std::tuple<float, float, float>> seen;
  for (const auto& v : l.element_pos) seen.insert({v.x, v.y, v.z});
  CHECK(seen.size() == 48);
  CHECK_FALSE(l.has_stats);
  CHECK(l.count(Section::Output) == 0);
  CHECK(l.labels.size() == 4);  // N, C, H, W arrows
}

TEST_CASE("layout, plates (the default): every (n, c) a flat plate, plates and samples apart") {
  const Shape shape{4, 6, 5, 5};
  const SceneLayout l = makeLayout(shape, nullptr);
  const float p = SceneLayout::kPitch;
  auto at = [&](int64_t n, int64_t c, int64_t h, int64_t w) {
    return l.element_pos[static_cast<size_t>(((n * 6 + c) * 5 + h) * 5 + w)];
  };
  for (const auto& v : l.element_pos) CHECK(v.z == 0.0f);  // nothing stands in front of anything
  CHECK(at(0, 0, 0, 1).x - at(0, 0, 0, 0).x == doctest::Approx(p));
  CHECK(at(0, 0, 0, 0).y - at(0, 0, 1, 0).y == doctest::Approx(p));
  // Plates never overlap: each plate's box is disjoint from every other's, with a gap.
  std::vector<Box> plates;
  for (int64_t n = 0; n < 4; ++n)
    for (int64_t c = 0; c < 6; ++c) plates.push_back({at(n, c, 4, 0), at(n, c, 0, 4)});
  for (size_t i = 0; i < plates.size(); ++i)
    for (size_t j = i + 1; j < plates.size(); ++j) {
      const bool apart = plates[i].hi.x + p < plates[j].lo.x ||
                         plates[j].hi.x + p < plates[i].lo.x ||
                         plates[i].hi.y + p < plates[j].lo.y || plates[j].hi.y + p < plates[i].lo.y;
      CHECK(apart);
    }
  // Every sample arranges its channels the same way (BatchNorm's groups line up).
  for (int64_t c = 0; c < 6; ++c)
    for (int64_t n = 1; n < 4; ++n) {
      const glm::vec3 d0 = at(0, c, 0, 0) - at(0, 0, 0, 0), dn = at(n, c, 0, 0) - at(n, 0, 0, 0);
      CHECK(glm::length(d0 - dn) < 1e-4f);
    }
  CHECK(l.tags.size() == 4);  // n=0..3 under the samples
}

TEST_CASE("layout: long rows fold into tiles; rank 3 is tokens as plates, rank 2 a matrix") {
  const LayoutRoles roles = layoutRoles(Shape{8, 1024, 768});
  CHECK(roles.folded_axis == 2);
  CHECK(roles.w == 32);
  CHECK(roles.h == 24);  // "a row of 768 becomes a 24 x 32 tile"
  const SceneLayout l = makeLayout(Shape{2, 6, 256}, nullptr);
  const float p = SceneLayout::kPitch;
  // Element 16 of a token starts the tile's second row.
  CHECK(l.element_pos[16].y == doctest::Approx(l.element_pos[0].y - p));
  CHECK(l.element_pos[16].x == doctest::Approx(l.element_pos[0].x));
  bool labelled = false;
  for (const AxisLabel& label : l.labels)
    labelled = labelled || label.text.find("16×16") != std::string::npos;
  CHECK(labelled);
  const LayoutRoles short_rows = layoutRoles(Shape{2, 3, 5});
  CHECK(short_rows.folded_axis == -1);
  CHECK(short_rows.rows_only);
  const SceneLayout l2 = makeLayout(Shape{4, 6}, nullptr);
  CHECK(l2.element_pos[6].y < l2.element_pos[0].y);  // the next row is lower
  CHECK(l2.element_pos[6].x == doctest::Approx(l2.element_pos[0].x));
  const SceneLayout b2 = makeLayout(Shape{4, 6}, nullptr, LayoutOptions{0.0f});
  for (const auto& v : b2.element_pos) CHECK(v.z == 0.0f);  // a matrix stays flat when compact
}

TEST_CASE("layout: statistics sit at their groups' centroids in a column right of x") {
  const Shape shape{3, 4, 2, 2};
  NormConfig group;  // GroupNorm(2): (N, G)
  const ReductionPlan gp = ReductionPlan::make(shape, group);
  for (float explode : {0.0f, 1.0f}) {
    const SceneLayout gl = makeLayout(shape, &gp, LayoutOptions{explode});
    REQUIRE(gl.group_pos.size() == 6);
    // Group (n=1, g=1) holds channels 2 and 3 of sample 1: its centroid.
    glm::vec3 sum(0.0f);
    for (int64_t flat = 24; flat < 32; ++flat) sum += gl.element_pos[static_cast<size_t>(flat)];
    const glm::vec3 g11 = gl.group_pos[3];
    CHECK(glm::length(g11 - sum / 8.0f) < 1e-4f);
    // mean, rstd and y stack top to bottom right of x, without overlapping.
    const auto& b = gl.bounds;
    CHECK(b[1].lo.x > b[0].hi.x);
    CHECK(b[2].hi.y < b[1].lo.y);
    CHECK(b[3].hi.y < b[2].lo.y);
    CHECK(b[3].lo.x > b[0].hi.x);
    // A statistic cube is its centroid scaled into the section: same arrangement as x.
    const float sc = gl.scale[static_cast<size_t>(Section::Mean)];
    const glm::vec3 d = gl.position({Section::Mean, 3}) - gl.position({Section::Mean, 0});
    CHECK(glm::length(d - sc * (gl.group_pos[3] - gl.group_pos[0])) < 1e-4f);
  }
  NormConfig batch;
  batch.kind = NormKind::Batch;
  const ReductionPlan bp = ReductionPlan::make(shape, batch);
  const SceneLayout bl = makeLayout(shape, &bp, LayoutOptions{0.0f});
  REQUIRE(bl.group_pos.size() == 4);
  const float p = SceneLayout::kPitch;
  for (int c = 0; c < 4; ++c) {  // BatchNorm's (C), compact: one row along the depth axis
    CHECK(bl.group_pos[static_cast<size_t>(c)].x == doctest::Approx(bl.group_pos[0].x));
    CHECK(bl.group_pos[static_cast<size_t>(c)].y == doctest::Approx(bl.group_pos[0].y));
    CHECK(bl.group_pos[static_cast<size_t>(c)].z == doctest::Approx(-static_cast<float>(c) * p));
  }
}

TEST_CASE("picking: a ray from the front hits the front cube it passes through, or nothing") {
  const Shape shape{3, 4, 2, 2};
  const ReductionPlan plan = ReductionPlan::make(shape, NormConfig{});
  const SceneLayout l = makeLayout(shape, &plan, LayoutOptions{0.0f});
  for (int64_t flat = 0; flat < 48; ++flat) {
    const glm::vec3 c = l.position({Section::Output, flat});
    const auto hit = pickCube(l, c + glm::vec3(0.0f, 0.0f, 100.0f), glm::vec3(0.0f, 0.0f, -1.0f));
    REQUIRE(hit.has_value());
    // The ray through any channel's cube first meets channel 0 of the same (n, h, w).
    const int64_t n = flat / 16, hw = flat % 4;
    CHECK(*hit == CubeRef{Section::Output, n * 16 + hw});
  }
  // Between two cubes (in the gap) nothing is hit.
  const glm::vec3 a = l.position({Section::Input, 0}), b = l.position({Section::Input, 1});
  CHECK_FALSE(pickCube(l, (a + b) * 0.5f + glm::vec3(0, 0, 100), glm::vec3(0, 0, -1)).has_value());
  // A camera ray through the projected centre of a mean cube picks it.
  Camera cam;
  cam.frame(l.world, 1.0f, ViewPreset::Front);
  const glm::vec3 m = l.position({Section::Mean, 2});
  const glm::vec4 clip = cam.projection(1.0f) * cam.view() * glm::vec4(m, 1.0f);
  const Ray ray = cam.rayThrough(glm::vec2(clip) / clip.w, 1.0f);
  const auto hit = pickCube(l, ray.origin, ray.dir);
  REQUIRE(hit.has_value());
  CHECK(*hit == CubeRef{Section::Mean, 2});
}

TEST_CASE("framing: the scene fills the viewport up to each point's margin, from every preset") {
  const Shape shape{3, 4, 2, 2};
  const ReductionPlan plan = ReductionPlan::make(shape, NormConfig{});
  const SceneLayout l = makeLayout(shape, &plan);
  for (const float aspect : {0.75f, 1.6f})
    for (const ViewPreset preset : {ViewPreset::Front, ViewPreset::Top, ViewPreset::Isometric}) {
      std::vector<FramePoint> points;
      for (const glm::vec3& p : l.framePoints()) points.push_back({p, glm::vec4(0.1f)});
      Camera cam;
      cam.frame(points, aspect, preset);
      const glm::mat4 m = cam.projection(aspect) * cam.view();
      glm::vec2 lo(10.0f), hi(-10.0f);
      for (const FramePoint& fp : points) {
        const glm::vec4 clip = m * glm::vec4(fp.p, 1.0f);
        const glm::vec2 ndc = glm::vec2(clip) / clip.w;
        lo = glm::min(lo, ndc), hi = glm::max(hi, ndc);
      }
      INFO("aspect " << aspect << ", preset " << static_cast<int>(preset));
      // Inside [-0.9, 0.9] on both axes, touching it on the tighter one, centred on the other.
      CHECK(lo.x >= -0.9f - 1e-3f);
      CHECK(lo.y >= -0.9f - 1e-3f);
      CHECK(hi.x <= 0.9f + 1e-3f);
      CHECK(hi.y <= 0.9f + 1e-3f);
      CHECK(std::max(hi.x - lo.x, hi.y - lo.y) > 1.8f - 0.02f);
      CHECK(std::fabs(lo.x + hi.x) < 0.02f);
      CHECK(std::fabs(lo.y + hi.y) < 0.02f);
    }
}

TEST_CASE("colour maps: anchors, a diverging scale centred on zero, distinct categories") {
  const glm::vec3 v0 = sampleColorMap(ColorMap::Viridis, 0.0f),
                  v1 = sampleColorMap(ColorMap::Viridis, 1.0f);
  CHECK(v0.r == doctest::Approx(68 / 255.0));
  CHECK(v1.g == doctest::Approx(231 / 255.0));
  const ValueScale d = ValueScale::of(ColorMap::Diverging, -0.5, 2.0);
  CHECK(d.lo == -2.0);
  CHECK(d.hi == 2.0);
  CHECK(d.position(0.0) == doctest::Approx(0.5));
  const glm::vec3 mid = d.color(0.0);
  CHECK(mid.r == doctest::Approx(247 / 255.0));
  CHECK(mid.b == doctest::Approx(247 / 255.0));
  CHECK(d.color(-2.0).b > d.color(-2.0).r);  // negative: blue
  CHECK(d.color(2.0).r > d.color(2.0).b);    // positive: red
  CHECK(ValueScale::of(ColorMap::Viridis, 3.0, 3.0).position(3.0) == doctest::Approx(0.5));
  std::set<std::tuple<float, float, float>> colors;
  for (int g = 0; g < 24; ++g) {
    const glm::vec3 c = categoricalColor(g);
    colors.insert({c.r, c.g, c.b});
  }
  CHECK(colors.size() == 24);
}

TEST_CASE("lit region: the hovered element's group, in x, y and its statistics") {
  AppState s = stateFor("group");
  const Snapshot& snap = *s.shown;
  const SceneLayout l = makeLayout(snap.x.shape, &snap.plan);
  // x[1, 2, 1, 0] (flat 28) is in GroupNorm group (n=1, g=1) = 3: 8 elements of x, 8 of y, 1 mean,
  // 1 rstd.
  const int64_t g = groupOfCube(snap.plan, {Section::Input, 28});
  CHECK(g == 3);
  const auto cubes = singleInstances(snap, l, ColorBy::Value, ColorMap::Viridis);
  REQUIRE(cubes.size() == 48 + 6 + 6 + 48);
  CHECK(litCount(cubes, 0, 48, g) == 8);
  CHECK(litCount(cubes, 48, 6, g) == 1);
  CHECK(drawnState(cubes[48 + 3], g) == CubeState::Lit);
  CHECK(litCount(cubes, 60, 48, g) == 8);
  for (int64_t flat = 24; flat < 32; ++flat)
    CHECK(drawnState(cubes[static_cast<size_t>(flat)], g) == CubeState::Lit);
  CHECK(drawnState(cubes[0], g) == CubeState::Faded);
  // Nothing lit: nothing fades either.
  for (const auto& c : singleInstances(snap, l, ColorBy::Groups, ColorMap::Viridis))
    CHECK(drawnState(c, std::nullopt) == CubeState::Normal);
  CHECK(cubeOfInstance(l, 50) == CubeRef{Section::Mean, 2});
  CHECK(cubeOfInstance(l, 60 + 5) == CubeRef{Section::Output, 5});

  // "Which cubes share one mean under LayerNorm([H, W])?": the four of one (n, c).
  AppState ln = stateFor("layer", "2,2");
  const auto lcubes = compareInstances(ln.x, makeLayout(ln.x.shape, nullptr), ln.shown->plan,
                                       ColorBy::Value, ColorMap::Viridis);
  const int64_t lg = ln.shown->plan.groupOf(28);
  CHECK(litCount(lcubes, 0, 48, lg) == 4);
  for (int64_t flat = 28; flat < 32; ++flat)
    CHECK(drawnState(lcubes[static_cast<size_t>(flat)], lg) == CubeState::Lit);
}

TEST_CASE("stepper: another lane or stage covering as many cubes still changes the colours") {
  AppState s = stateFor("group");
  const Snapshot& snap = *s.shown;
  const SceneLayout l = makeLayout(snap.x.shape, &snap.plan);
  // Group 0's 8 elements; lane A covers the first two, lane B the next two: equal counts.
  ElementTint a;
  a.group = 0;
  for (int64_t flat : snap.plan.elementsOf(0)) a.flat.push_back(flat);
  a.color.assign(a.flat.size(), glm::vec3(0.8f, 0.3f, 0.3f));
  a.covered = {1, 1, 0, 0, 0, 0, 0, 0};
  a.revision = 7;
  ElementTint b = a;
  b.covered = {0, 0, 1, 1, 0, 0, 0, 0};
  b.revision = 8;
  CHECK(colorKey(s, &a) != colorKey(s, &b));
  CHECK(colorKey(s, &a) == colorKey(s, &a));
  CHECK(colorKey(s, nullptr) != colorKey(s, &a));
  // Hovering another group needs no new instances: the lit group is the shader's uniform.
  const ColorKey before = colorKey(s, nullptr);
  s.pinned = CubeRef{Section::Input, 40};
  CHECK(colorKey(s, nullptr) == before);
  auto lit = [&](const ElementTint& t) {
    std::set<int64_t> out;
    const auto cubes = singleInstances(snap, l, ColorBy::Value, ColorMap::Viridis, &t);
    for (int64_t i = 0; i < 48; ++i)
      if (drawnState(cubes[static_cast<size_t>(i)], t.group) == CubeState::Lit) out.insert(i);
    return out;
  };
  CHECK(lit(a).size() == lit(b).size());
  CHECK(lit(a) != lit(b));
}

TEST_CASE(
    "recompute: the worked example matches the PyTorch figures; errors keep the last good result") {
  std::ifstream in(std::string(NORMVIZ_TEST_DATA) + "/worked-example.json");
  const auto j = nlohmann::json::parse(in);
  AppState s = stateFor("group");
  for (const auto& c : j["cases"])
    if (c["norm"] == "group") {
      const auto& y = c["y"];
      REQUIRE(y.size() == 48);
      for (size_t i = 0; i < 48; ++i)
        CHECK(s.shown->result.y[static_cast<int64_t>(i)] ==
              doctest::Approx(y[i].get<double>()).epsilon(1e-3));
    }
  CHECK(s.shown->result.mean[0] == doctest::Approx(0.75));
  // fp32 against the float64 reference: small but measured.
  REQUIRE(s.shown->runs.size() >= 2);
  CHECK(s.shown->runs[0].max_diff_vs_fp64 < 1e-6);
  CHECK(s.shown->runs[1].max_diff_vs_fp64 == 0.0);
  CHECK(divisorsOf(12) == std::vector<int64_t>{1, 2, 3, 4, 6, 12});

  const uint64_t version = s.result_version;
  s.config.groups = 3;  // does not divide C = 4
  s.inputs_changed = true;
  recomputeIfChanged(s);
  CHECK_FALSE(s.error.empty());
  CHECK(s.shown->plan.groupCount() == 6);  // still GroupNorm(2)'s result
  CHECK(s.result_version == version);
  s.config.groups = 4;
  s.inputs_changed = true;
  recomputeIfChanged(s);
  CHECK(s.error.empty());
  CHECK(s.shown->plan.groupCount() == 12);

  s.edit_shape = Shape{64, 64, 64, 128};  // 2^25 elements: past what the app shows
  s.init = "randn";
  regenerateInput(s);
  CHECK(s.error.find("at most 16777216") != std::string::npos);
  CHECK(s.x.shape == (Shape{3, 4, 2, 2}));
  s.error.clear();
  s.edit_shape = Shape{2, 5000};  // a dim past the editor's 4096
  regenerateInput(s);
  CHECK(s.error.find("between 1 and 4096") != std::string::npos);
  CHECK(s.x.shape == (Shape{3, 4, 2, 2}));
}

TEST_CASE("BatchNorm: a training step moves the running statistics by the momentum") {
  AppState s = stateFor("batch");
  REQUIRE(s.shown->result.running_mean.has_value());
  applyTrainingStep(s);
  recomputeIfChanged(s);
  REQUIRE(s.params.running_mean.has_value());
  // running_mean = 0.9 * 0 + 0.1 * batch mean; channel 0's batch mean over the worked example.
  double sum = 0;
  for (int n = 0; n < 3; ++n)
    for (int k = 0; k < 4; ++k) sum += s.x[n * 16 + k];
  CHECK((*s.params.running_mean)[0] == doctest::Approx(0.1 * sum / 12).epsilon(1e-6));
  CHECK(s.config.num_batches_tracked == 1);
  resetRunningStats(s);
  CHECK_FALSE(s.params.running_mean.has_value());
  CHECK(s.config.num_batches_tracked == 0);
}

TEST_CASE("settings: round trip, and a corrupt file is ignored with a message") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("normviz-settings-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::string path = (dir / "normviz" / "settings.json").string();
  AppState a;
  a.theme = Theme::Light;
  a.font_scale = 2.25f;
  a.layout = LayoutMode::Compare;
  a.color_by = ColorBy::Groups;
  a.input_map = ColorMap::Cividis;
  CHECK(saveSettings(a, path).empty());
  AppState b;
  CHECK(loadSettings(b, path).empty());
  CHECK(b.theme == Theme::Light);
  CHECK(b.font_scale == 2.25f);
  CHECK(b.layout == LayoutMode::Compare);
  CHECK(b.color_by == ColorBy::Groups);
  CHECK(b.input_map == ColorMap::Cividis);

  for (const char* bad : {"{not json", "[1, 2]", "{\"theme\": \"purple\"}", "{\"font_scale\": 99}",
                          "{\"theme\": 3}"}) {
    std::ofstream(path) << bad;
    AppState c;
    const std::string message = loadSettings(c, path);
    CHECK(message.find("ignored settings file") != std::string::npos);
    CHECK(c.theme == Theme::Dark);  // nothing applied
    CHECK(c.font_scale == 1.5f);
  }
  AppState d;
  CHECK(loadSettings(d, (dir / "absent.json").string()).empty());
  std::filesystem::remove_all(dir);
}

// Thousands of random configurations and actions through the app's state and scene code (no
// window): norms, shapes, G, normalized_shape and custom axes (valid or not), hover, pin, layout,
// explode and the sheet. After every step: a failed change leaves the last good snapshot and says
// why; the lit cubes are exactly the plan's group of the active element; every statistic cube sits
// at its group's centroid; plates never put two cubes in one place; the sheet maps each cell's
// centre back to that cell.
TEST_CASE(
    "randomized UI state: invariants hold over thousands of random configurations and actions") {
  std::mt19937_64 rng(20261123);
  auto pick = [&](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
  AppState s = stateFor("group");
  int recomputes = 0, refused = 0;
  for (int step = 0; step < 3000; ++step) {
    const int action = static_cast<int>(pick(6));
    const std::optional<Snapshot> before = s.shown;
    const uint64_t version = s.result_version;
    if (action == 0) {  // a new shape (rank 1..4, dims 1..6), random data
      Shape shape;
      const int rank = 1 + static_cast<int>(pick(4));
      for (int a = 0; a < rank; ++a) shape.dims.push_back(1 + pick(6));
      s.edit_shape = shape;
      s.init = pick(2) ? "randn" : "arange";
      regenerateInput(s);
    } else if (action == 1) {  // a layer with random options
      s.config.kind = static_cast<NormKind>(pick(7));
      s.config.groups = 1 + pick(6);
      s.config.normalized_shape.clear();
      const int rank = s.x.shape.rank();
      const int suffix = static_cast<int>(pick(rank + 1));
      for (int a = rank - suffix; a < rank; ++a)
        s.config.normalized_shape.push_back(pick(5) ? s.x.shape[a]
                                                    : 1 + pick(6));  // sometimes wrong
      s.config.axes.clear();
      for (int a = 0; a < rank; ++a)
        if (pick(2)) s.config.axes.push_back(a);
      if (pick(8) == 0) s.config.axes.push_back(7);  // an axis that does not exist
      s.config.training = pick(4) != 0;
      s.inputs_changed = true;
    } else if (action == 2) {  // hover, pin or unpin
      const int64_t numel = s.shown ? s.shown->x.numel() : s.x.numel();
      const int what = static_cast<int>(pick(4));
      if (what == 0) s.hovered = CubeRef{Section::Input, pick(numel)};
      if (what == 1) s.hovered = CubeRef{Section::Output, pick(numel)};
      if (what == 2) s.pinned = s.hovered;
      if (what == 3) s.pinned.reset();
    } else if (action == 3) {
      s.layout = pick(2) ? LayoutMode::Single : LayoutMode::Compare;
    } else if (action == 4) {
      s.explode = static_cast<float>(pick(5)) / 4.0f;
      s.view_aspect = 0.6f + 0.2f * static_cast<float>(pick(6));
    } else {
      s.display = pick(2) ? DisplayMode::Cubes : DisplayMode::Sheet;
      s.display_chosen = pick(2) != 0;
    }
    s.error.clear();
    recomputeIfChanged(s);
    REQUIRE(s.shown.has_value());
    const Snapshot& snap = *s.shown;
    if (!s.error.empty()) {
      // Refused: the last good snapshot stays, untouched.
      ++refused;
      CHECK(s.result_version == version);
      if (before) CHECK(snap.plan.groupCount() == before->plan.groupCount());
      continue;
    }
    recomputes += s.result_version != version ? 1 : 0;
    REQUIRE(snap.plan.shape() == snap.x.shape);
    if (s.pinned && s.pinned->index >= snap.x.numel()) FAIL("a pinned index past the tensor");
    if (s.hovered &&
        (s.hovered->section == Section::Input || s.hovered->section == Section::Output))
      REQUIRE(s.hovered->index < snap.x.numel());

    // The scene of the single layout.
    const SceneLayout layout = makeLayout(snap.x.shape, &snap.plan, layoutOptions(s));
    const std::vector<CubeInstance> cubes = singleInstances(snap, layout, s.color_by, s.input_map);
    const int64_t numel = snap.x.numel(), groups = snap.plan.groupCount();
    REQUIRE(static_cast<int64_t>(cubes.size()) == 2 * numel + 2 * groups);
    const auto active = s.active();
    const std::optional<int64_t> lit =
        active ? std::optional<int64_t>(groupOfCube(snap.plan, *active)) : std::nullopt;
    std::set<int64_t> lit_x;
    for (int64_t i = 0; i < numel; ++i)
      if (drawnState(cubes[static_cast<size_t>(i)], lit) == CubeState::Lit) lit_x.insert(i);
    if (lit) {
      std::set<int64_t> group;
      for (int64_t flat : snap.plan.elementsOf(*lit)) group.insert(flat);
      CHECK(lit_x == group);
    } else {
      CHECK(lit_x.empty());
    }
    // Each statistic cube at its group's centroid.
    const int64_t g = pick(groups);
    glm::dvec3 sum(0.0);
    for (int64_t flat : snap.plan.elementsOf(g))
      sum += glm::dvec3(layout.element_pos[static_cast<size_t>(flat)]);
    const glm::vec3 centroid(sum / static_cast<double>(snap.plan.groupSize()));
    CHECK(glm::length(layout.group_pos[static_cast<size_t>(g)] - centroid) < 1e-3f);
    const glm::vec3 mean_at = layout.position({Section::Mean, g});
    const float sc = layout.scale[static_cast<size_t>(Section::Mean)];
    CHECK(glm::length(mean_at - (layout.origin[1] + sc * centroid)) < 1e-3f);
    // Plates: distinct positions.
    if (s.explode == 1.0f) {
      std::set<std::tuple<float, float, float>> seen;
      for (const auto& p : layout.element_pos) seen.insert({p.x, p.y, p.z});
      CHECK(static_cast<int64_t>(seen.size()) == numel);
    }
    // The sheet: each cell's centre maps back to it.
    const SheetLayout sheet = makeSheetLayout(snap.x.shape, pick(2) != 0, false, s.view_aspect);
    const int64_t cell = pick(numel);
    const auto hit = sheet.at(sheet.center(Section::Input, cell));
    REQUIRE(hit.has_value());
    CHECK(hit->section == Section::Input);
    CHECK(hit->index == cell);
  }
  INFO(recomputes << " recomputes, " << refused << " refused changes");
  CHECK(recomputes > 300);
  CHECK(refused > 50);
}

// Backward mode: hovering dx lights the whole group in training (the gradient couples it), the
// element alone in BatchNorm evaluation, and hovering dweight[c] lights every element it sums over.
TEST_CASE("backward mode: what a gradient depends on is what lights up") {
  for (bool training : {true, false}) {
    AppState s = stateFor("batch");
    s.config.training = training;
    s.affine = true;
    s.affine_init = AffineInit::Random;
    s.backward = true;
    s.inputs_changed = true;
    recomputeIfChanged(s);
    REQUIRE(s.error.empty());
    REQUIRE(s.shown->grad.has_value());
    REQUIRE(s.shown->grad->dweight.has_value());
    // The float32 backward timed beside the float64 one, its dx measured against it.
    REQUIRE(s.shown->backward_runs.size() == 2);
    CHECK(s.shown->backward_runs[0].backend == Backend::CpuFp32);
    CHECK(s.shown->backward_runs[0].error.empty());
    CHECK(s.shown->backward_runs[0].seconds > 0);
    CHECK(s.shown->backward_runs[0].max_diff_vs_fp64 < 1e-5);
    CHECK(s.shown->backward_runs[1].backend == Backend::CpuFp64);
    CHECK(s.shown->backward_runs[1].max_diff_vs_fp64 == 0.0);
    CHECK(s.shown->copy_seconds > 0);
    CHECK(s.shown->backward_copy_seconds > 0);
    const Snapshot& snap = *s.shown;
    const int64_t numel = snap.x.numel();
    auto lit_in = [&](Section section) {
      const SceneLayout layout = makeLayout(snap.x.shape, &snap.plan, layoutOptions(s));
      REQUIRE(layout.count(Section::DWeight) == 4);
      const auto cubes = backwardInstances(snap, layout, s.color_by, litPartition(s));
      const auto tag = litTag(s);
      int64_t lit = 0, first = 0;
      for (Section k : {Section::Input, Section::Mean, Section::Rstd, Section::Output,
                        Section::DWeight, Section::DBias}) {
        if (k == section)
          for (int64_t i = first; i < first + layout.count(k); ++i)
            lit += drawnState(cubes[static_cast<size_t>(i)], tag) == CubeState::Lit ? 1 : 0;
        first += layout.count(k);
      }
      return lit;
    };
    s.hovered = CubeRef{Section::Output, 21};  // dx[1, 2, 1, 1]: channel 2
    CHECK(lit_in(Section::Input) == (training ? 12 : 1));
    CHECK(lit_in(Section::Output) == (training ? 12 : 1));
    CHECK(lit_in(Section::Mean) == (training ? 1 : 0));
    // dweight[2] sums dy·x̂ over channel 2 of every sample: 12 elements, in training and in eval.
    s.hovered = CubeRef{Section::DWeight, 2};
    CHECK(lit_in(Section::Input) == 12);
    CHECK(lit_in(Section::DWeight) == 1);
    CHECK(lit_in(Section::DBias) == 1);
    CHECK(lit_in(Section::Mean) == 0);
    CHECK(numel == 48);
  }
}

TEST_CASE("backward mode: the GPU emulated backend adds its backward row, labelled a CPU time") {
  AppState s = stateFor("group");
  CHECK(s.shown->backward_runs.empty());  // forward mode times no backward
  s.backward = true;
  s.backend = Backend::GpuEmulated;
  s.inputs_changed = true;
  recomputeIfChanged(s);
  REQUIRE(s.error.empty());
  const auto& runs = s.shown->backward_runs;
  const auto emulated = std::find_if(runs.begin(), runs.end(), [](const BackendRun& r) {
    return r.backend == Backend::GpuEmulated;
  });
  REQUIRE(emulated != runs.end());
  CAPTURE(emulated->error);
  CHECK(emulated->error.empty());
  CHECK(emulated->label.find("not a GPU time") != std::string::npos);
  CHECK(emulated->max_diff_vs_fp64 < 1e-5);
}

TEST_CASE("background recompute: the last snapshot stays until the worker's is shown") {
  using std::chrono::milliseconds;
  AppState s = stateFor("group");
  const uint64_t first_version = s.result_version;
  const uint64_t first_seed = s.seed;  // dy's seed
  // A layer too large for one frame: (16, 64, 32, 32), 1M elements, with the backward.
  s.x = makeInput(Shape{16, 64, 32, 32}, "randn", 3);
  s.backward = true;
  s.inputs_changed = true;
  {
    BackgroundCompute compute;
    compute.update(s, milliseconds(0));
    // Started, not shown yet: the worked example stays on screen, named as computing.
    REQUIRE(compute.busy());
    CHECK(s.computing == "GroupNorm on (16, 64, 32, 32), with the backward");
    CHECK(!s.inputs_changed);
    CHECK(s.shown->x.numel() == 48);
    CHECK(s.result_version == first_version);
    // An edit meanwhile waits for the running recompute rather than starting a second one.
    s.seed = 4;
    s.inputs_changed = true;
    compute.update(s, milliseconds(0));
    CHECK(compute.busy());
    compute.finish(s);
    CHECK(!compute.busy());
    CHECK(s.computing.empty());
    CHECK(s.error.empty());
    REQUIRE(s.shown->x.numel() == 16 * 64 * 32 * 32);
    REQUIRE(s.shown->grad.has_value());
    CHECK(s.result_version == first_version + 1);
    CHECK(s.compare.size() == 4);
    // The same snapshot as a recompute in place (of the inputs it started from): the float64
    // result bit for bit.
    AppState in_place = s;
    in_place.seed = first_seed;
    in_place.inputs_changed = true;
    recomputeIfChanged(in_place);
    CHECK(in_place.shown->result.y.data == s.shown->result.y.data);
    CHECK(in_place.shown->grad->dx.data == s.shown->grad->dx.data);
    // The pending edit starts the next one; waiting long enough shows it in the same call.
    compute.update(s, milliseconds(60000));
    CHECK(!compute.busy());
    CHECK(s.result_version == first_version + 2);
    CHECK(s.computing.empty());
  }
  SUBCASE("a recompute outrun by one in place (a lesson step's) is dropped") {
    BackgroundCompute compute;
    s.seed = 5;
    s.inputs_changed = true;
    compute.update(s, milliseconds(0));
    REQUIRE(compute.busy());
    s.x = makeInput(Shape{2, 4, 3, 3}, "randn", 6);
    s.inputs_changed = true;
    recomputeIfChanged(s);
    const uint64_t in_place_version = s.result_version;
    compute.finish(s);
    CHECK(s.result_version == in_place_version);
    CHECK(s.shown->x.shape == Shape{2, 4, 3, 3});
    CHECK(s.computing.empty());
  }
  SUBCASE("inputs that make no layer say so at once, and start nothing") {
    BackgroundCompute compute;
    s.config.groups = 5;  // 64 channels
    s.inputs_changed = true;
    compute.update(s, milliseconds(0));
    CHECK(!compute.busy());
    CHECK(s.computing.empty());
    CHECK(s.error.find("5") != std::string::npos);
    CHECK(s.shown.has_value());
  }
}

TEST_CASE("background recompute: a BatchNorm training step waits for the batch being computed") {
  AppState s = stateFor("batch");
  s.edit_shape = Shape{16, 64, 32, 32};
  s.init = "randn";
  regenerateInput(s);
  s.inputs_changed = true;
  BackgroundCompute compute;
  compute.update(s, std::chrono::milliseconds(0));
  REQUIRE(compute.busy());
  // The shown statistics are the worked example's: a step now would skip the running batch.
  applyTrainingStep(s);
  CHECK(s.config.num_batches_tracked == 0);
  CHECK_FALSE(s.params.running_mean.has_value());
  compute.finish(s);
  applyTrainingStep(s);
  CHECK(s.config.num_batches_tracked == 1);
  REQUIRE(s.params.running_mean.has_value());
  CHECK(s.params.running_mean->numel() == 64);
}

TEST_CASE("shortcuts: keys fired without a window change the state as the help says") {
  AppState s = stateFor("group");
  auto tap = [&](std::vector<Key> keys, std::vector<Key> ctrl = {}) {
    KeyInput k;
    k.taps = keys;
    k.repeats = keys;
    k.ctrl_taps = ctrl;
    for (Key c : ctrl) k.taps.push_back(c);
    handleKeys(s, k);
  };
  tap({Key::C});
  CHECK(s.layout == LayoutMode::Compare);
  tap({Key::G});
  CHECK(s.color_by == ColorBy::Groups);
  tap({Key::T});
  CHECK(s.theme == Theme::Light);
  tap({Key::Digit2});
  CHECK(s.preset == ViewPreset::Top);
  // Ctrl+S asks for a PNG and is not also S (which would switch to the sheet).
  tap({}, {Key::S});
  CHECK(s.png.requested);
  CHECK_FALSE(s.display_chosen);
  tap({Key::S});
  CHECK(s.display_chosen);
  CHECK(s.display == DisplayMode::Sheet);
  const float text = s.font_scale;
  tap({}, {Key::Plus});
  CHECK(s.font_scale == text + 0.25f);
  // Exploring: the arrows pin and move the lit element along W, ] along the channels.
  tap({Key::Right});
  REQUIRE(s.pinned.has_value());
  CHECK(s.pinned->index == 1);
  tap({Key::RightBracket});
  CHECK(s.pinned->index == 1 + 4);  // (3,4,2,2): a channel is 4 elements
  tap({Key::Escape});
  CHECK_FALSE(s.pinned.has_value());
  tap({Key::F1});
  CHECK(s.show_help);
  tap({Key::Escape});
  CHECK_FALSE(s.show_help);
  // Nothing fires while a text field has the keyboard.
  KeyInput typing;
  typing.taps = {Key::C};
  typing.text_input = true;
  handleKeys(s, typing);
  CHECK(s.layout == LayoutMode::Compare);
  // Every action that a key fires is in the help.
  std::set<Action> helped;
  for (const Shortcut& sc : shortcuts()) helped.insert(sc.action);
  for (Action a : {Action::Compare, Action::ColorBy, Action::Theme, Action::Display,
                   Action::SavePng, Action::Backward, Action::Explode, Action::Panels, Action::Help,
                   Action::Escape, Action::Presenter, Action::LargerText})
    CHECK(helped.count(a) == 1);
}

TEST_CASE("photos in the app: a batch, sizes made one, large photos fitted, the link keeps them") {
  AppState s;
  LayerOptions instance = workedExample();
  instance.norm = NormKind::Instance;  // any C: GroupNorm(2) would refuse 3 channels
  initFromOptions(s, instance);
  loadDroppedFiles(s, {"sample:chelsea", "sample:camera"});
  REQUIRE(s.error.empty());
  CHECK(s.x.shape == Shape{2, 3, 96, 128});  // the gray camera repeated into R, G and B
  CHECK(s.init == "images");
  CHECK_FALSE(s.image_resize.has_value());
  // The state's spec reopens the same photos.
  const LayerOptions o = layerOf(s);
  CHECK(o.input_images == std::vector<std::string>{"sample:chelsea", "sample:camera"});
  recomputeIfChanged(s);
  CHECK(s.error.empty());

  // Different sizes: resized to the first one's, and said so.
  const auto dir = std::filesystem::temp_directory_path() / "normviz_app_photos";
  std::filesystem::create_directories(dir);
  const Tensor big = resizeBilinear(readImages({"sample:coffee"}, std::nullopt, 1 << 20), 300, 400);
  // A photo past 256 pixels is fitted: write one with the PNG writer the app saves with.
  std::vector<unsigned char> rgb(static_cast<size_t>(300 * 400 * 3));
  for (int64_t p = 0; p < 300 * 400; ++p)
    for (int64_t c = 0; c < 3; ++c)
      rgb[static_cast<size_t>(p * 3 + c)] =
          static_cast<unsigned char>(std::lround(big[c * 300 * 400 + p] * 255.0f));
  const std::string png = (dir / "big.png").string();
  REQUIRE(stbi_write_png(png.c_str(), 400, 300, 3, rgb.data(), 400 * 3));
  loadDroppedFiles(s, {png, "sample:chelsea"});
  REQUIRE(s.error.empty());
  CHECK(s.x.shape == Shape{2, 3, 192, 256});
  CHECK(s.image_resize == std::optional<std::pair<int64_t, int64_t>>(std::pair{192, 256}));
  CHECK(s.notice.find("resized") != std::string::npos);

  // A layer set up for another shape is fitted to the photos: GroupNorm(2) cannot split 3 channels.
  initFromOptions(s, workedExample());
  loadDroppedFiles(s, {"sample:coffee"});
  recomputeIfChanged(s);
  CHECK(s.error.empty());
  CHECK(s.config.groups == 1);
  CHECK(s.notice.find("groups set to 1") != std::string::npos);

  // A bad file leaves x as it was, with the file named.
  const Shape before = s.x.shape;
  loadDroppedFiles(s, {"sample:chelsea", (dir / "missing.png").string()});
  CHECK(s.x.shape == before);
  CHECK(s.error.find("missing.png") != std::string::npos);
  std::filesystem::remove_all(dir);
}
