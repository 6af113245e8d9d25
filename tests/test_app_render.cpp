// The real app rendered under Xvfb (Mesa llvmpipe): screenshots are written, and their pixels show
// the tensor, the lit region brighter than the rest over the right number of cubes, and four
// different compare panels.
#include <doctest/doctest.h>
#include <stb_image.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "lessons.hpp"

namespace {

namespace fs = std::filesystem;

struct Image {
  int width = 0, height = 0;
  std::vector<unsigned char> rgb;
  const unsigned char* at(int x, int y) const {
    return &rgb[(static_cast<size_t>(y) * width + x) * 3];
  }
};

struct Render {
  int exit_code = -1;
  Image image;
  nlohmann::json report;
};

fs::path workDir() {
  const fs::path dir =
      fs::temp_directory_path() / ("normviz-app-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

// Runs `normviz --screenshot` with `args` under xvfb-run; reads back the PNG and the report.
Render render(const std::string& name, const std::string& args) {
  const fs::path dir = workDir();
  const fs::path png = dir / (name + ".png"), json = dir / (name + ".json");
  const std::string cmd = std::string(NORMVIZ_XVFB_RUN) + " -a -s '-screen 0 1600x1000x24' " +
                          NORMVIZ_BINARY + " --screenshot " + png.string() + " --report " +
                          json.string() + " --size 1280x800 " + args + " > " +
                          (dir / (name + ".log")).string() + " 2>&1";
  Render r;
  const int status = std::system(cmd.c_str());
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (r.exit_code != 0) return r;
  int channels = 0;
  unsigned char* data =
      stbi_load(png.string().c_str(), &r.image.width, &r.image.height, &channels, 3);
  REQUIRE(data != nullptr);
  r.image.rgb.assign(data, data + static_cast<size_t>(r.image.width) * r.image.height * 3);
  stbi_image_free(data);
  std::ifstream in(json);
  r.report = nlohmann::json::parse(in);
  return r;
}

// How far a cube's centre stands out from the background: faded cubes blend into it, lit ones do
// not. The median over a 5x5 patch ignores a thin overlay line crossing the centre.
double contrast(const Image& img, int x, int y, const nlohmann::json& bg) {
  std::vector<double> values;
  for (int dy = -2; dy <= 2; ++dy)
    for (int dx = -2; dx <= 2; ++dx) {
      const int px = std::clamp(x + dx, 0, img.width - 1),
                py = std::clamp(y + dy, 0, img.height - 1);
      const unsigned char* p = img.at(px, py);
      double sum = 0;
      for (int k = 0; k < 3; ++k) sum += std::abs(static_cast<int>(p[k]) - bg[k].get<int>());
      values.push_back(sum / 3.0);
    }
  std::nth_element(values.begin(), values.begin() + 12, values.end());
  return values[12];
}

// Whether the pixel shows the cube's own colour as a solid cube draws it: its colour times one
// light factor (0.62 to 1 in cubes.frag), within a few levels. A ghost (blended toward the
// background, or greyed) does not.
bool showsOwnColor(const Image& img, int x, int y, const nlohmann::json& color) {
  const unsigned char* p =
      img.at(std::clamp(x, 0, img.width - 1), std::clamp(y, 0, img.height - 1));
  double pc = 0, cc = 0;
  for (int k = 0; k < 3; ++k) {
    pc += p[k] * color[k].get<double>();
    cc += color[k].get<double>() * color[k].get<double>();
  }
  if (cc < 1.0) return false;
  const double factor = pc / cc;
  if (factor < 0.55 || factor > 1.05) return false;
  for (int k = 0; k < 3; ++k)
    if (std::abs(p[k] - factor * color[k].get<double>()) > 14.0) return false;
  return true;
}

struct LitCheck {
  int visible_lit = 0, visible_faded = 0, pixel_bright_lit = 0, pixel_bright_faded = 0;
  double mean_lit = 0, mean_faded = 0;
  std::string mismatches;  // cubes whose pixel disagrees with the report, for the failure message
};

// Classifies every visible cube of a section by the pixel at its projected centre (the pixel the
// report's id pass checked): "bright" when it shows the cube's own colour solid, as lit cubes are
// drawn; faded cubes are ghosts. Also the mean contrast against the background of each kind.
LitCheck checkLit(const Render& r, const nlohmann::json& view, const char* section = "x") {
  LitCheck c;
  const auto& bg = r.report["background"];
  for (const auto& cube : view["cubes"]) {
    if (cube["section"] != section || !cube["visible"].get<bool>()) continue;
    const int x = static_cast<int>(std::floor(cube["x"].get<double>()));
    const int y = static_cast<int>(std::floor(cube["y"].get<double>()));
    const double k = contrast(r.image, x, y, bg);
    const bool bright = showsOwnColor(r.image, x, y, cube["color"]);
    if (bright != cube["lit"].get<bool>())
      c.mismatches += std::string(section) + "[" + std::to_string(cube["index"].get<int>()) +
                      "] at (" + std::to_string(x) + ", " + std::to_string(y) + ") contrast " +
                      std::to_string(k) + "; ";
    if (cube["lit"].get<bool>()) {
      ++c.visible_lit;
      c.mean_lit += k;
      c.pixel_bright_lit += bright;
    } else {
      ++c.visible_faded;
      c.mean_faded += k;
      c.pixel_bright_faded += bright;
    }
  }
  if (c.visible_lit) c.mean_lit /= c.visible_lit;
  if (c.visible_faded) c.mean_faded /= c.visible_faded;
  return c;
}

int litIn(const nlohmann::json& view, const char* section) {
  int n = 0;
  for (const auto& cube : view["cubes"]) n += cube["section"] == section && cube["lit"].get<bool>();
  return n;
}

std::set<int> litIndices(const nlohmann::json& view) {
  std::set<int> out;
  for (const auto& cube : view["cubes"])
    if (cube["section"] == "x" && cube["lit"].get<bool>()) out.insert(cube["index"].get<int>());
  return out;
}

}  // namespace

TEST_CASE("default start: the worked example, nothing pinned, so hovering lights groups at once") {
  const Render r = render("default", "");
  REQUIRE(r.exit_code == 0);
  CHECK(r.image.width == 1280);
  CHECK(r.image.height == 800);
  std::set<int> colors;
  for (size_t i = 0; i + 2 < r.image.rgb.size(); i += 3 * 7)
    colors.insert(r.image.rgb[i] << 16 | r.image.rgb[i + 1] << 8 | r.image.rgb[i + 2]);
  CHECK(colors.size() > 200);

  REQUIRE(r.report["views"].size() == 1);
  const auto& view = r.report["views"][0];
  CHECK(view["title"] == "nn.GroupNorm(num_groups=2, num_channels=4)");
  CHECK(view["lit_count"] == 0);
  // Every cube of x, the statistics and y is on screen and owns the pixel at its centre.
  for (const auto& cube : view["cubes"]) CHECK(cube["visible"].get<bool>());
}

TEST_CASE("--hover pins an element: its GroupNorm group is lit in x, mean, rstd and y") {
  const Render r = render("pinned", "--hover 0,0,0,0");
  REQUIRE(r.exit_code == 0);
  const auto& view = r.report["views"][0];
  // Group (n=0, g=0) = channels 0 and 1 of sample 0, 8 cubes in x and in y.
  CHECK(litIn(view, "x") == 8);
  CHECK(litIn(view, "y") == 8);
  CHECK(litIn(view, "mean") == 1);
  CHECK(litIn(view, "rstd") == 1);
  CHECK(litIndices(view) == std::set<int>{0, 1, 2, 3, 4, 5, 6, 7});
}

// Pixel checks use the categorical palette: every group colour stands well apart from the
// background (value colours run down to the background's own darkness at viridis' end).
TEST_CASE("the lit region is drawn brighter than the rest, on exactly the lit cubes") {
  const Render r = render("default-groups", "--color-by groups --hover 0,0,0,0");
  REQUIRE(r.exit_code == 0);
  const auto& view = r.report["views"][0];
  CHECK(litIn(view, "x") == 8);
  for (const char* section : {"x", "y"}) {
    const LitCheck c = checkLit(r, view, section);
    INFO(section << ": " << c.mismatches);
    REQUIRE(c.visible_lit >= 3);
    REQUIRE(c.visible_faded >= 5);
    CHECK(c.mean_lit > 2.0 * c.mean_faded);
    CHECK(c.pixel_bright_lit == c.visible_lit);  // every visible lit cube stands out...
    CHECK(c.pixel_bright_faded == 0);            // ...and no faded one does
  }
}

TEST_CASE("LayerNorm([H, W]): the four cubes of one (n, c) share a mean") {
  const Render r =
      render("layer-hw",
             "--norm layer --normalized-shape 2,2 --hover 1,0,1,0 --view front --color-by groups");
  REQUIRE(r.exit_code == 0);
  const auto& view = r.report["views"][0];
  CHECK(view["title"] == "nn.LayerNorm(normalized_shape=[2, 2])");
  CHECK(litIndices(view) == std::set<int>{16, 17, 18, 19});
  CHECK(litIn(view, "mean") == 1);
  // Plates face the camera: all 48 cubes show, the lit 2x2 bright and the 44 others faded.
  for (const char* section : {"x", "y"}) {
    const LitCheck c = checkLit(r, view, section);
    INFO(section << ": " << c.mismatches);
    CHECK(c.visible_lit == 4);
    CHECK(c.pixel_bright_lit == 4);
    CHECK(c.visible_faded == 44);
    CHECK(c.pixel_bright_faded == 0);
  }
}

TEST_CASE("light theme: the lit region still stands out") {
  const Render r =
      render("groups", "--color-by groups --norm instance --theme light --hover 0,0,0,0");
  REQUIRE(r.exit_code == 0);
  const auto& view = r.report["views"][0];
  CHECK(litIn(view, "x") == 4);  // InstanceNorm: one (n, c) = H*W = 4 cubes
  const LitCheck c = checkLit(r, view);
  REQUIRE(c.visible_lit >= 1);
  CHECK(c.mean_lit > 2.0 * c.mean_faded);
}

TEST_CASE("compare layout: four panels, each lighting its own region for the same element") {
  const Render r = render("compare", "--layout compare --hover 1,2,1,0 --color-by groups");
  REQUIRE(r.exit_code == 0);
  const auto& views = r.report["views"];
  REQUIRE(views.size() == 4);
  // BatchNorm: channel 2 of every sample (12); LayerNorm [C,H,W]: sample 1 (16); InstanceNorm (n=1,
  // c=2): 4; GroupNorm(2): (n=1, g=1): 8.
  CHECK(litIn(views[0], "x") == 12);
  CHECK(litIn(views[1], "x") == 16);
  CHECK(litIn(views[2], "x") == 4);
  CHECK(litIn(views[3], "x") == 8);
  for (int i = 0; i < 4; ++i) {
    const LitCheck c = checkLit(r, views[i]);
    INFO("panel " << i << ": " << c.mismatches);
    CHECK(c.pixel_bright_faded == 0);
    if (c.visible_lit > 0) CHECK(c.pixel_bright_lit == c.visible_lit);
  }
  // The panels' pixels differ pairwise (same camera, different lit regions).
  auto crop = [&](int i) {
    const auto& rect = views[i]["rect"];
    const int x0 = rect[0].get<int>(), y0 = rect[1].get<int>(), w = rect[2].get<int>(),
              h = rect[3].get<int>();
    std::vector<int> out;
    for (int y = 0; y < h; y += 2)
      for (int x = 0; x < w; x += 2) {
        const unsigned char* p = r.image.at(x0 + x, y0 + y);
        out.push_back(p[0] + p[1] + p[2]);
      }
    return out;
  };
  for (int a = 0; a < 4; ++a)
    for (int b = a + 1; b < 4; ++b) {
      const auto pa = crop(a), pb = crop(b);
      REQUIRE(pa.size() == pb.size());
      int differing = 0;
      for (size_t i = 0; i < pa.size(); ++i) differing += std::abs(pa[i] - pb[i]) > 30;
      INFO("panels " << a << " and " << b);
      CHECK(differing > 100);
    }
}

TEST_CASE("a tensor past what the app shows is refused before it is allocated") {
  // 10^12 elements (4 TB) under a raised --max-elements: the app's own limit (2^24) refuses it
  // with a message instead of running out of memory.
  const Render r = render("huge",
                          "--norm batch --shape 100000,100000,100 --init randn "
                          "--max-elements 1000000000000");
  CHECK(r.exit_code == 1);
  std::ifstream log(workDir() / "huge.log");
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CHECK(text.find("more than the limit of 16777216 elements") != std::string::npos);
  CHECK_FALSE(fs::exists(workDir() / "huge.png"));
}

TEST_CASE("bad flags exit with a message and write nothing") {
  const Render r = render("bad", "--norm group --groups 3");
  CHECK(r.exit_code == 1);
  const Render h = render("bad-hover", "--hover 0,9,0,0");
  CHECK(h.exit_code == 1);
  std::ifstream log(workDir() / "bad-hover.log");
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CHECK(text.find("outside dim 1 of size 4") != std::string::npos);
  CHECK_FALSE(fs::exists(workDir() / "bad-hover.png"));
}

// The bar: with the hovered element in the middle of a (4,6,5,5) block, at least 95% of the
// lit cubes are visible (own the pixel at their centre, from the id pass), in the single and the
// compare layouts, and the pixel there is lit-bright, not faded.
TEST_CASE(
    "every lit region in plain sight: BatchNorm, InstanceNorm, GroupNorm(2), LayerNorm([H,W])") {
  const char* layers[] = {"--norm batch", "--norm instance", "--norm group --groups 2",
                          "--norm layer --normalized-shape 5,5"};
  for (const char* layout : {"single", "compare"})
    for (int k = 0; k < 4; ++k) {
      const std::string layer = layers[k];
      const std::string name = std::string("mid-") + layout + "-" + std::to_string(k);
      const Render r = render(name, layer + " --shape 4,6,5,5 --init randn --hover " +
                                        "1,3,2,2 --color-by groups --layout " + layout);
      REQUIRE(r.exit_code == 0);
      for (const auto& view : r.report["views"]) {
        const int lit = view["lit_count"].get<int>(), visible = view["lit_visible"].get<int>();
        INFO(std::string(layout) << " " << layer << " " << view["title"].get<std::string>() << ": "
                                 << visible << " of " << lit << " lit cubes visible");
        CHECK(lit > 0);
        CHECK(visible >= 0.95 * lit);
        const LitCheck c = checkLit(r, view);
        INFO(c.mismatches);
        CHECK(c.pixel_bright_lit == c.visible_lit);
        CHECK(c.pixel_bright_faded == 0);
      }
    }
}

// A transformer's (batch, tokens, features): a token's row folds into a tile whose neighbouring
// elements stand at least 8 px apart on screen at 1280x800, the whole row visible.
TEST_CASE(
    "long rows fold into legible tiles: LayerNorm(64) on (2,8,64), LayerNorm(256) on (2,6,256)") {
  for (const char* args : {"--norm layer --normalized-shape 64 --shape 2,8,64 --hover 1,3,10",
                           "--norm layer --normalized-shape 256 --shape 2,6,256 --hover 1,3,10"}) {
    const Render r = render("rows", std::string(args) + " --init randn");
    REQUIRE(r.exit_code == 0);
    const auto& view = r.report["views"][0];
    std::vector<std::pair<double, double>> lit;
    for (const auto& cube : view["cubes"])
      if (cube["section"] == "x" && cube["lit"].get<bool>()) {
        CHECK(cube["visible"].get<bool>());
        lit.emplace_back(cube["x"].get<double>(), cube["y"].get<double>());
      }
    double nearest = 1e9;
    for (size_t i = 0; i < lit.size(); ++i)
      for (size_t j = i + 1; j < lit.size(); ++j)
        nearest = std::min(nearest,
                           std::hypot(lit[i].first - lit[j].first, lit[i].second - lit[j].second));
    INFO(args << ": nearest lit neighbours " << nearest << " px apart");
    CHECK(nearest >= 8.0);
  }
}

// Backward mode, the contrast a course draws: in training dx[1,3,2,2] depends on all of channel 3
// (dy and dx lit over 4 samples x 25 = 100 cubes each, plus both per-group sums); in evaluation
// only on its own dy.
TEST_CASE("backward mode: BatchNorm training couples the batch, evaluation does not") {
  for (const char* mode : {"", " --eval"}) {
    const Render r = render(std::string("backward") + (*mode ? "-eval" : "-train"),
                            std::string("--norm batch --shape 4,6,5,5 --init randn --hover 1,3,2,2 "
                                        "--backward --affine") +
                                mode);
    REQUIRE(r.exit_code == 0);
    const auto& view = r.report["views"][0];
    const bool eval = *mode != '\0';
    CHECK(litIn(view, "x") == (eval ? 1 : 100));  // the dy section
    CHECK(litIn(view, "y") == (eval ? 1 : 100));  // the dx section
    CHECK(litIn(view, "mean") == (eval ? 0 : 1));
    CHECK(view["lit_visible"].get<int>() == view["lit_count"].get<int>());
    const LitCheck c = checkLit(r, view);
    INFO(c.mismatches);
    CHECK(c.pixel_bright_lit == c.visible_lit);
    CHECK(c.pixel_bright_faded == 0);
  }
  const Render bad = render("backward-bad", "--backward --grad-init zeros");
  CHECK(bad.exit_code == 1);
}

// Every step of every lesson renders under Xvfb: the picture is not blank, the lesson card is drawn
// (its title bar's colour at the top of the scene), and the cubes lit in x are the ones the step's
// text names (its expect_lit).
TEST_CASE("every lesson step renders with the lit region its text names") {
  int rendered = 0;
  for (const normviz::Lesson& lesson : normviz::builtinLessons())
    for (size_t k = 0; k < lesson.steps.size(); ++k) {
      const std::string args = "--lesson " + lesson.name + " --step " + std::to_string(k + 1);
      const Render r = render("lesson-" + lesson.name + "-" + std::to_string(k + 1), args);
      INFO(args);
      REQUIRE(r.exit_code == 0);
      std::set<int> colors;
      for (size_t i = 0; i + 2 < r.image.rgb.size(); i += 3 * 11)
        colors.insert(r.image.rgb[i] << 16 | r.image.rgb[i + 1] << 8 | r.image.rgb[i + 2]);
      CHECK(colors.size() > 100);
      const auto& view = r.report["views"][0];
      if (lesson.steps[k].expect_lit) CHECK(litIn(view, "x") == *lesson.steps[k].expect_lit);
      // The card's title bar (ImGui's active title colour) sits in the top middle of the scene.
      const int cx =
          static_cast<int>(view["rect"][0].get<double>() + view["rect"][2].get<double>() / 2);
      int title = 0;
      for (int y = 0; y < 40; ++y) {
        const unsigned char* p = r.image.at(cx, y);
        title += p[2] > p[0] + 40 ? 1 : 0;  // the blue title bar
      }
      CHECK(title > 5);
      ++rendered;
    }
  CHECK(rendered >= 30);
  // A malformed lesson file: the message names file and line, and the app still opens.
  const fs::path bad = workDir() / "bad-lesson.json";
  std::ofstream(bad) << "{\"name\": \"x\", \"title\": \"t\",\n \"steps\": [\n  {\"text\": 7}]}";
  const Render r = render("bad-lesson", "--lesson-file " + bad.string());
  CHECK(r.exit_code == 0);
  std::ifstream log(workDir() / "bad-lesson.log");
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  CHECK(text.find(bad.string() + ":3: step 1: \"text\" must be a string") != std::string::npos);
  const Render unknown = render("no-lesson", "--lesson nope");
  CHECK(unknown.exit_code == 1);
}

TEST_CASE("presenter mode: no side panels, large type") {
  const Render r = render("presenter", "--lesson groupnorm --step 1 --presenter");
  REQUIRE(r.exit_code == 0);
  const auto& view = r.report["views"][0];
  CHECK(view["rect"][0].get<double>() == 0.0);  // the scene starts at the window's left edge
  CHECK(view["rect"][2].get<double>() == 1280.0);
  CHECK(litIn(view, "x") == 27);
}

// ---- The plates and image views
// ------------------------------------------------------------------

namespace {

// The report's rectangle {x0, y0, x1, y1} of tile `tile` of `section` ("x" or "y").
std::vector<double> tileRect(const nlohmann::json& view, const char* section, int tile) {
  for (const auto& t : view["tiles"])
    if (t["section"] == section && t["tile"] == tile) return t["rect"].get<std::vector<double>>();
  FAIL("no tile " << tile << " of " << section << " in the report");
  return {};
}

// The mean and standard deviation of the pixels' brightness inside a rectangle (less a 1 px rim),
// and how far the mean colour stands from the background.
struct PatchStats {
  double mean = 0, std = 0, contrast = 0;
};
PatchStats patch(const Image& img, const std::vector<double>& r, const nlohmann::json& bg) {
  const int x0 = static_cast<int>(std::ceil(r[0])) + 1, y0 = static_cast<int>(std::ceil(r[1])) + 1;
  const int x1 = static_cast<int>(std::floor(r[2])) - 1,
            y1 = static_cast<int>(std::floor(r[3])) - 1;
  double sum = 0, sum2 = 0, away = 0;
  int n = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      const unsigned char* p = img.at(x, y);
      const double v = (p[0] + p[1] + p[2]) / 3.0;
      sum += v;
      sum2 += v * v;
      for (int k = 0; k < 3; ++k) away += std::abs(p[k] - bg[k].get<int>()) / 3.0;
      ++n;
    }
  REQUIRE(n > 0);
  PatchStats s;
  s.mean = sum / n;
  s.std = std::sqrt(std::max(0.0, sum2 / n - s.mean * s.mean));
  s.contrast = away / n;
  return s;
}

// Writes a float32 .npy of `shape` (C order) for --input.
void writeNpy(const fs::path& path, const std::vector<int>& shape, const std::vector<float>& data) {
  std::string dims;
  for (int d : shape) dims += std::to_string(d) + ", ";
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  out.put(static_cast<char>(len & 0xff)).put(static_cast<char>(len >> 8));
  out << header;
  out.write(reinterpret_cast<const char*>(data.data()),
            static_cast<std::streamsize>(data.size() * sizeof(float)));
}

// (N, 3, 32, 48) pictures, each left half (R, G, B) = (1, 0.5, 0) and right half (0, 0.5, 1).
fs::path halvesNpy(int samples) {
  const fs::path path = workDir() / ("halves-" + std::to_string(samples) + ".npy");
  std::vector<float> data;
  for (int n = 0; n < samples; ++n)
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 32; ++h)
        for (int w = 0; w < 48; ++w) {
          const bool left = w < 24;
          data.push_back(c == 1 ? 0.5f : (c == 0) == left ? 1.0f : 0.0f);
        }
  writeNpy(path, {samples, 3, 32, 48}, data);
  return path;
}

bool near(const unsigned char* p, int r, int g, int b, int tolerance = 4) {
  return std::abs(p[0] - r) <= tolerance && std::abs(p[1] - g) <= tolerance &&
         std::abs(p[2] - b) <= tolerance;
}

}  // namespace

TEST_CASE("plates: the headline BatchNorm shape as thumbnails, channel 5 outlined across every n") {
  const Render r = render("plates-batch",
                          "--norm batch --shape 32,64,56,56 --init randn "
                          "--hover 0,5,10,10");
  REQUIRE(r.exit_code == 0);
  CHECK(r.report["display"] == "plates");
  const auto& view = r.report["views"][0];
  CHECK(view["display"] == "plates");
  CHECK(view["plates"]["grid_rows"] == 32);
  CHECK(view["plates"]["grid_cols"] == 64);
  CHECK(view["lit_count"] == 2 * 32 * 56 * 56);  // x and y
  // The outline: one column of plates (c = 5) in x and in y, over every n.
  std::set<int> rows_x;
  int outlines_y = 0;
  for (const auto& o : view["outlines"]) {
    const auto tiles = o["tiles"].get<std::vector<int>>();  // row0, col0, row1, col1
    CHECK(tiles[1] == 5);
    CHECK(tiles[3] == 5);
    if (o["section"] == "x")
      for (int n = tiles[0]; n <= tiles[2]; ++n) rows_x.insert(n);
    outlines_y += o["section"] == "y";
  }
  CHECK(rows_x.size() == 32);
  CHECK(outlines_y >= 1);
  // The thumbnails show the data: the lit plate's pixels vary (randn), and it stands out from a
  // faded plate of another channel.
  const PatchStats lit = patch(r.image, tileRect(view, "x", 5), r.report["background"]);
  const PatchStats faded = patch(r.image, tileRect(view, "x", 64 + 20), r.report["background"]);
  INFO("lit plate: std " << lit.std << ", contrast " << lit.contrast
                         << "; faded: " << faded.contrast);
  CHECK(lit.std > 8.0);
  CHECK(lit.contrast > 1.5 * faded.contrast);
  // The outline is drawn: the outline colour (white, dark theme) just left of the lit column.
  const auto rect = view["outlines"][0]["rect"].get<std::vector<double>>();
  int white = 0;
  for (int y = static_cast<int>(rect[1]) + 5; y < static_cast<int>(rect[3]) - 5; y += 7) {
    const unsigned char* p = r.image.at(static_cast<int>(std::floor(rect[0])) - 1, y);
    white += p[0] > 220 && p[1] > 220 && p[2] > 220;
  }
  CHECK(white >= 5);
}

TEST_CASE("plates: InstanceNorm outlines one plate; with nothing lit every plate shows its data") {
  const Render r =
      render("plates-instance", "--norm instance --shape 8,16,32,32 --init randn --hover 2,3,5,5");
  REQUIRE(r.exit_code == 0);
  const auto& view = r.report["views"][0];
  CHECK(view["display"] == "plates");
  CHECK(view["lit_count"] == 2 * 32 * 32);
  REQUIRE(view["outlines"].size() == 2);
  for (const auto& o : view["outlines"])
    CHECK(o["tiles"].get<std::vector<int>>() == std::vector<int>{2, 3, 2, 3});
  // A lit element is where the report says, and picking it back is exact.
  CHECK(view["lit_visible"].get<int>() > 0);

  const Render plain = render("plates-plain", "--norm instance --shape 8,16,32,32 --init randn");
  REQUIRE(plain.exit_code == 0);
  const auto& v = plain.report["views"][0];
  double previous = -1;
  int differing = 0;
  for (int t : {0, 17, 40, 127}) {
    const PatchStats p = patch(plain.image, tileRect(v, "x", t), plain.report["background"]);
    CHECK(p.std > 4.0);  // a plate of one colour has none
    differing += previous >= 0 && std::abs(p.mean - previous) > 0.01;
    previous = p.mean;
  }
  CHECK(differing >= 2);  // different data, different pictures
}

TEST_CASE("image view: a known picture's colours in x and after InstanceNorm in y") {
  const fs::path npy = halvesNpy(1);
  const Render r = render("image-known", "--input " + npy.string() + " --norm instance");
  REQUIRE(r.exit_code == 0);
  CHECK(r.report["display"] == "image");  // values in [0, 1], 3 channels: opened as a photo
  const auto& view = r.report["views"][0];
  CHECK(view["mapping"]["y"].get<std::string>().find("0.5 + y/4") != std::string::npos);
  const auto x = tileRect(view, "x", 0), y = tileRect(view, "y", 0);
  auto at = [&](const std::vector<double>& rect, double fx) {
    return r.image.at(static_cast<int>(rect[0] + fx * (rect[2] - rect[0])),
                      static_cast<int>((rect[1] + rect[3]) / 2));
  };
  // x as is: (1, 0.5, 0) and (0, 0.5, 1).
  CHECK(near(at(x, 0.25), 255, 128, 0));
  CHECK(near(at(x, 0.75), 0, 128, 255));
  // y per channel: R and B become ±1 (0.5 ± 1/4 on screen), G (constant) 0 (0.5).
  CHECK(near(at(y, 0.25), 191, 128, 64));
  CHECK(near(at(y, 0.75), 64, 128, 191));
  // The statistics beside the picture: R's mean 0.5 and std 0.5 in x, 0 and 1 in y.
  CHECK(view["statistics_shown"] == true);
  const auto& red = view["channel_stats"][0];
  CHECK(red["x_mean"].get<double>() == doctest::Approx(0.5));
  CHECK(red["x_std"].get<double>() == doctest::Approx(0.5));
  CHECK(red["y_mean"].get<double>() == doctest::Approx(0.0));
  CHECK(red["y_std"].get<double>() == doctest::Approx(1.0).epsilon(1e-3));
}

TEST_CASE("image view: InstanceNorm outlines one channel of one picture, BatchNorm every picture") {
  const fs::path npy = halvesNpy(2);
  const Render inst =
      render("image-instance", "--input " + npy.string() + " --norm instance --hover 1,2,0,0");
  REQUIRE(inst.exit_code == 0);
  const auto& vi = inst.report["views"][0];
  REQUIRE(vi["outlines"].size() == 2);  // picture 1 in x and in y
  for (const auto& o : vi["outlines"]) {
    CHECK(o["tiles"].get<std::vector<int>>() == std::vector<int>{1, 0, 1, 0});
    CHECK(o["channels"] == 4);  // channel B
  }
  // Picture 0 is not lit: its pixels fade; picture 1 keeps its colours.
  auto centre = [&](const Render& r, const nlohmann::json& v, int tile) {
    const auto rect = tileRect(v, "x", tile);
    return r.image.at(static_cast<int>(rect[0] + 0.25 * (rect[2] - rect[0])),
                      static_cast<int>((rect[1] + rect[3]) / 2));
  };
  CHECK(near(centre(inst, vi, 1), 255, 128, 0));
  CHECK_FALSE(near(centre(inst, vi, 0), 255, 128, 0, 40));

  const Render batch =
      render("image-batch", "--input " + npy.string() + " --norm batch --hover 1,2,0,0");
  REQUIRE(batch.exit_code == 0);
  const auto& vb = batch.report["views"][0];
  std::set<int> pictures;
  for (const auto& o : vb["outlines"]) {
    pictures.insert(o["tiles"][0].get<int>());
    CHECK(o["channels"] == 4);
  }
  CHECK(pictures == std::set<int>{0, 1});
  CHECK(near(centre(batch, vb, 0), 255, 128, 0));  // lit everywhere: nothing fades
}

TEST_CASE("a view the shape cannot have gives way: image of 16 channels, plates of a matrix") {
  const Render r = render("image-refused",
                          "--norm batch --shape 8,16,32,32 --init randn "
                          "--display image");
  REQUIRE(r.exit_code == 0);
  CHECK(r.report["display"] == "plates");
  const Render m = render("plates-refused",
                          "--norm layer --shape 64,512 --init randn "
                          "--display plates");
  REQUIRE(m.exit_code == 0);
  CHECK(m.report["display"] == "sheet");
}
