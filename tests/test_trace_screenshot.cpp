// The stepper in the real app under Xvfb: GroupNorm on the worked example, 32 threads, scrubbed
// through the warp shuffles. Asserts on the PNG's pixels (lane boxes in thread colours, idle lanes
// grey, shuffle arrows) and on the frame's cube report (exactly the selected lane's covered cubes
// are lit, and that set doubles at each tree step).
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

#include "stepper_panel.hpp"

namespace {

const std::string kOut = NORMVIZ_SCREENSHOT_DIR;
const std::string kLayer = "--norm group --groups 2 --shape 3,4,2,2 --init worked-example";

int shell(const std::string& cmd) {
  const int raw = std::system(cmd.c_str());
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

struct Image {
  int w = 0, h = 0;
  std::vector<unsigned char> rgb;
  const unsigned char* at(int x, int y) const { return &rgb[(static_cast<size_t>(y) * w + x) * 3]; }
};

Image load(const std::string& path) {
  Image img;
  int n = 0;
  unsigned char* data = stbi_load(path.c_str(), &img.w, &img.h, &n, 3);
  REQUIRE_MESSAGE(data != nullptr, "cannot read " << path);
  img.rgb.assign(data, data + static_cast<size_t>(img.w) * img.h * 3);
  stbi_image_free(data);
  return img;
}

std::array<int, 3> rgb8(int thread) {
  float c[3];
  normviz::threadColor(thread, 32, c);
  // ImGui's float-to-byte conversion rounds to nearest.
  return {static_cast<int>(c[0] * 255 + 0.5f), static_cast<int>(c[1] * 255 + 0.5f),
          static_cast<int>(c[2] * 255 + 0.5f)};
}

// Pixels right of x0 within `tol` of `want` on every channel.
int countNear(const Image& img, int x0, std::array<int, 3> want, int tol = 0) {
  int n = 0;
  for (int y = 0; y < img.h; ++y)
    for (int x = x0; x < img.w; ++x) {
      const unsigned char* p = img.at(x, y);
      if (std::abs(p[0] - want[0]) <= tol && std::abs(p[1] - want[1]) <= tol &&
          std::abs(p[2] - want[2]) <= tol)
        ++n;
    }
  return n;
}

struct Frame {
  Image image;
  nlohmann::json report;
};

// One frame of the app with the stepper at `stage`, lane 0 selected, group 1 lit.
Frame shoot(int stage, const std::string& name) {
  const std::string png = kOut + "/" + name + ".png", report = kOut + "/" + name + ".json";
  const std::string cmd = std::string(NORMVIZ_XVFB_RUN) + " -a -s \"-screen 0 1600x1000x24\" " +
                          NORMVIZ_BINARY + " " + kLayer +
                          " --hover 0,2,0,0 --stepper --block-size 32 --lane 0 --stage " +
                          std::to_string(stage) + " --size 1600x1000 --no-settings --screenshot " +
                          png + " --report " + report + " > " + kOut + "/" + name + ".log 2>&1";
  REQUIRE_MESSAGE(shell(cmd) == 0, "the app failed: see " << kOut << "/" << name << ".log");
  std::ifstream in(report);
  REQUIRE(in);
  return {load(png), nlohmann::json::parse(in)};
}

std::set<int64_t> litInputCubes(const nlohmann::json& report) {
  std::set<int64_t> lit;
  for (const auto& c : report["views"][0]["cubes"])
    if (c["section"] == "x" && c["lit"].get<bool>()) lit.insert(c["index"].get<int64_t>());
  return lit;
}

nlohmann::json trace() {
  const std::string path = kOut + "/trace.json";
  REQUIRE(shell(std::string(NORMVIZ_BINARY) + " trace " + kLayer +
                " --group 1 --block-size 32 --json > " + path) == 0);
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

std::set<int64_t> covers(const nlohmann::json& t, int stage, int lane) {
  std::set<int64_t> s;
  for (const auto& f : t["stages"][stage]["lanes"][lane]["covers"]) s.insert(f.get<int64_t>());
  return s;
}

}  // namespace

TEST_CASE("stepper mid-trace: lanes, arrows, and the covered cubes doubling") {
  const nlohmann::json t = trace();
  REQUIRE(t["stages"][3]["name"] == "shuffle 4");
  REQUIRE(t["stages"][5]["name"] == "shuffle 1");

  size_t previous = 1;  // after the loads each lane covers one element
  for (int stage : {3, 4, 5}) {
    CAPTURE(stage);
    const Frame f = shoot(stage, "stepper-stage" + std::to_string(stage));
    // The 3D view lights exactly lane 0's coverage at this stage, twice the previous stage's.
    const std::set<int64_t> lit = litInputCubes(f.report);
    CHECK(lit == covers(t, stage, 0));
    CHECK(lit.size() == previous * 2);
    previous = lit.size();

    // The panel lies right of the 3D view.
    const auto& rect = f.report["views"][0]["rect"];
    const int panel_x = static_cast<int>(rect[0].get<double>() + rect[2].get<double>()) + 2;
    REQUIRE(panel_x < f.image.w - 200);
    // Busy lanes are boxes in their thread's colour; the rest of the warp is grey.
    const int busy = stage == 3 ? 4 : stage == 4 ? 2 : 1;
    for (int lane = 0; lane < busy; ++lane) CHECK(countNear(f.image, panel_x, rgb8(lane)) > 300);
    CHECK(countNear(f.image, panel_x, rgb8(busy)) < 100);  // the next lane is idle now
    const std::array<int, 3> grey{normviz::kIdleLaneRgb[0], normviz::kIdleLaneRgb[1],
                                  normviz::kIdleLaneRgb[2]};
    CHECK(countNear(f.image, panel_x, grey) > (32 - busy) * 300);
    // One arrow per receiving lane.
    const std::array<int, 3> arrow{normviz::kArrowRgb[0], normviz::kArrowRgb[1],
                                   normviz::kArrowRgb[2]};
    CHECK(countNear(f.image, panel_x, arrow, 12) > busy * 20);
  }
}
