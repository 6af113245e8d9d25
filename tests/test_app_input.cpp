// The real window driven by real X input: a private Xvfb server, the app in it, xdotool moving the
// mouse, clicking and pressing keys, and xwd capturing the screen, whose pixels are checked. Cube
// positions and colours come from an offscreen --report of the same configuration at the same size.
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <stb_image.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;

const char* const kArgs = "--no-settings --size 1280x800 --norm batch --shape 4,6,5,5 --init randn";

fs::path workDir() {
  const fs::path dir =
      fs::temp_directory_path() / ("normviz-input-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

int run(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void pause(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

// An X screen of our own with the app in it; both stopped on destruction.
class Session {
 public:
  explicit Session(const char* args = kArgs) {
    // Xvfb picks a free display itself and writes its number to the pipe once it accepts
    // connections (a number of our own could be the one xvfb-run already serves).
    int ready[2] = {-1, -1};
    REQUIRE(::pipe(ready) == 0);
    xvfb_ = spawn({"Xvfb", "-displayfd", std::to_string(ready[1]), "-screen", "0", "1280x800x24",
                   "-nolisten", "tcp"});
    ::close(ready[1]);
    std::string number;
    pollfd wait_for{ready[0], POLLIN, 0};
    for (char c = 0; ::poll(&wait_for, 1, 10000) > 0 && ::read(ready[0], &c, 1) == 1 && c != '\n';)
      number += c;
    ::close(ready[0]);
    REQUIRE_MESSAGE(!number.empty(), "Xvfb reported no display number");
    display_ = ":" + number;
    ::setenv("DISPLAY", display_.c_str(), 1);
    for (int i = 0;
         i < 100 &&
         run("xdpyinfo >/dev/null 2>&1 || xdotool getmouselocation >/dev/null 2>&1") != 0;
         ++i)
      pause(100);
    std::vector<std::string> app = {NORMVIZ_BINARY};
    for (const char* p = args; *p;) {
      const char* end = p;
      while (*end && *end != ' ') ++end;
      app.emplace_back(p, end);
      p = *end ? end + 1 : end;
    }
    app_ = spawn(app);
    ready_ =
        run("timeout 30 xdotool search --sync --onlyvisible --name '^normviz$' >/dev/null") == 0;
    pause(1500);  // the first frames: fonts, panels sized, camera fitted
  }
  ~Session() {
    for (pid_t pid : {app_, xvfb_})
      if (pid > 0) {
        ::kill(pid, SIGTERM);
        ::waitpid(pid, nullptr, 0);
      }
  }
  bool ready() const { return ready_; }
  void xdotool(const std::string& args) const {
    run("xdotool " + args);
    pause(700);  // the app sleeps up to 0.5 s between frames when idle
  }

 private:
  static pid_t spawn(const std::vector<std::string>& argv) {
    std::fflush(nullptr);  // the child must not write the parent's buffered output again
    const pid_t pid = ::fork();
    if (pid == 0) {
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::freopen("/dev/null", "w", stdout);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    return pid;
  }
  std::string display_;
  pid_t xvfb_ = -1, app_ = -1;
  bool ready_ = false;
};

// The screen as RGB, from xwd's dump (a big-endian header, then 32-bit pixels in the server's
// byte order).
struct Screen {
  int width = 0, height = 0;
  std::vector<unsigned char> rgb;
  const unsigned char* at(int x, int y) const {
    return &rgb[(static_cast<size_t>(std::clamp(y, 0, height - 1)) * width +
                 std::clamp(x, 0, width - 1)) *
                3];
  }
};

Screen capture() {
  const fs::path file = workDir() / "screen.xwd";
  REQUIRE(run("xwd -root -silent > " + file.string()) == 0);
  std::ifstream in(file, std::ios::binary);
  std::vector<unsigned char> data((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  REQUIRE(data.size() > 100);
  auto card = [&](size_t i) {
    return (uint32_t{data[4 * i]} << 24) | (uint32_t{data[4 * i + 1]} << 16) |
           (uint32_t{data[4 * i + 2]} << 8) | uint32_t{data[4 * i + 3]};
  };
  const uint32_t header = card(0), width = card(4), height = card(5), byte_order = card(7),
                 bpp = card(11), line = card(12), ncolors = card(19);
  REQUIRE(bpp == 32);
  const size_t pixels = header + ncolors * 12;
  REQUIRE(data.size() >= pixels + static_cast<size_t>(line) * height);
  Screen s;
  s.width = static_cast<int>(width);
  s.height = static_cast<int>(height);
  s.rgb.resize(static_cast<size_t>(width) * height * 3);
  for (uint32_t y = 0; y < height; ++y)
    for (uint32_t x = 0; x < width; ++x) {
      const unsigned char* p = &data[pixels + static_cast<size_t>(y) * line + 4 * x];
      unsigned char* q = &s.rgb[(static_cast<size_t>(y) * width + x) * 3];
      if (byte_order == 0) {  // LSBFirst: B, G, R, X
        q[0] = p[2], q[1] = p[1], q[2] = p[0];
      } else {  // MSBFirst: X, R, G, B
        q[0] = p[1], q[1] = p[2], q[2] = p[3];
      }
    }
  return s;
}

// The pixel shows the cube's own colour as a solid cube draws it (one light factor, 0.62 to 1):
// lit or nothing lit. A ghost (a faded cube, when another group is lit) does not.
bool solid(const Screen& s, const nlohmann::json& cube) {
  const unsigned char* p = s.at(static_cast<int>(std::floor(cube["x"].get<double>())),
                                static_cast<int>(std::floor(cube["y"].get<double>())));
  double pc = 0, cc = 0;
  for (int k = 0; k < 3; ++k) {
    pc += p[k] * cube["color"][k].get<double>();
    cc += cube["color"][k].get<double>() * cube["color"][k].get<double>();
  }
  const double f = cc > 0 ? pc / cc : 0;
  if (f < 0.55 || f > 1.05) return false;
  for (int k = 0; k < 3; ++k)
    if (std::abs(p[k] - f * cube["color"][k].get<double>()) > 14.0) return false;
  return true;
}

// Of the x cubes visible in the report, how many of those in channel `c` (and of the others) show
// solid colour on screen.
struct Count {
  int group_solid = 0, group = 0, other_solid = 0, other = 0;
};
Count count(const Screen& s, const nlohmann::json& view, int channel) {
  Count c;
  for (const auto& cube : view["cubes"]) {
    if (cube["section"] != "x" || !cube["visible"].get<bool>()) continue;
    const bool in = (cube["index"].get<int>() / 25) % 6 == channel;
    (in ? c.group : c.other) += 1;
    (in ? c.group_solid : c.other_solid) += solid(s, cube) ? 1 : 0;
  }
  return c;
}

}  // namespace

TEST_CASE(
    "real input: hover lights a group, click pins it, Esc unpins, shortcuts do what help says") {
  // Where each cube is, from an offscreen frame of the same configuration.
  const fs::path json = workDir() / "layout.json";
  REQUIRE(run(std::string(NORMVIZ_XVFB_RUN) + " -a -s '-screen 0 1280x800x24' " + NORMVIZ_BINARY +
              " " + kArgs + " --screenshot " + (workDir() / "layout.png").string() + " --report " +
              json.string() + " >/dev/null 2>&1") == 0);
  std::ifstream in(json);
  const nlohmann::json report = nlohmann::json::parse(in);
  const auto& view = report["views"][0];
  // The target: x[1, 3, 2, 2] (BatchNorm's channel 3); an empty point left of the cubes.
  const int flat = ((1 * 6 + 3) * 5 + 2) * 5 + 2;
  nlohmann::json target;
  double min_x = 1e9;
  for (const auto& cube : view["cubes"]) {
    if (cube["section"] == "x" && cube["index"] == flat) target = cube;
    if (cube["section"] == "x") min_x = std::min(min_x, cube["x"].get<double>());
  }
  REQUIRE(target.is_object());
  REQUIRE(target["visible"].get<bool>());
  const int tx = static_cast<int>(target["x"].get<double>()),
            ty = static_cast<int>(target["y"].get<double>());
  const int ex = static_cast<int>(view["rect"][0].get<double>()) + 6;
  const int ey =
      static_cast<int>(view["rect"][1].get<double>() + view["rect"][3].get<double>() * 0.6);
  REQUIRE(ex < min_x - 20);

  Session session;
  REQUIRE(session.ready());

  // Nothing pinned at start: with the mouse away from the cubes, every cube solid.
  session.xdotool("mousemove " + std::to_string(ex) + " " + std::to_string(ey));
  Count c = count(capture(), view, 3);
  INFO("start: " << c.group_solid << "/" << c.group << " in channel 3, " << c.other_solid << "/"
                 << c.other << " others solid");
  CHECK(c.group_solid == c.group);
  CHECK(c.other_solid >= c.other * 9 / 10);

  // Hover: channel 3 lit (solid), every other channel a ghost.
  session.xdotool("mousemove " + std::to_string(tx) + " " + std::to_string(ty));
  c = count(capture(), view, 3);
  INFO("hover: " << c.group_solid << "/" << c.group << " lit solid, " << c.other_solid << "/"
                 << c.other << " others solid");
  CHECK(c.group_solid >= c.group * 95 / 100);
  CHECK(c.other_solid == 0);

  // Moving away unlights; hovering again and clicking pins: still lit away from the cubes.
  session.xdotool("mousemove " + std::to_string(ex) + " " + std::to_string(ey));
  c = count(capture(), view, 3);
  CHECK(c.other_solid >= c.other * 9 / 10);
  session.xdotool("mousemove " + std::to_string(tx) + " " + std::to_string(ty));
  session.xdotool("click 1");
  session.xdotool("mousemove " + std::to_string(ex) + " " + std::to_string(ey));
  c = count(capture(), view, 3);
  INFO("pinned: " << c.group_solid << "/" << c.group << " lit, " << c.other_solid
                  << " others solid");
  CHECK(c.group_solid >= c.group * 95 / 100);
  CHECK(c.other_solid == 0);

  // Esc unpins: everything solid again.
  session.xdotool("key Escape");
  c = count(capture(), view, 3);
  CHECK(c.other_solid >= c.other * 9 / 10);

  // Keyboard exploration: Right pins x[0,0,0,1] (channel 0 lit), ] moves to channel 1.
  session.xdotool("key Right");
  c = count(capture(), view, 0);
  INFO("right: " << c.group_solid << "/" << c.group << " of channel 0 lit");
  CHECK(c.group_solid >= c.group * 95 / 100);
  CHECK(c.other_solid == 0);
  session.xdotool("key bracketright");
  c = count(capture(), view, 1);
  CHECK(c.group_solid >= c.group * 95 / 100);
  CHECK(c.other_solid == 0);
  session.xdotool("key Escape");

  // F1 opens the help overlay (a window over the centre of the screen); Esc closes it.
  const Screen before = capture();
  session.xdotool("key F1");
  const Screen help = capture();
  int changed = 0;
  for (int y = 250; y < 550; y += 5)
    for (int x = 400; x < 880; x += 5)
      changed += std::abs(help.at(x, y)[0] - before.at(x, y)[0]) > 20 ? 1 : 0;
  CHECK(changed > 300);
  session.xdotool("key Escape");

  // T: the light theme's background; P: the side panels hide, the scene's background shows there.
  session.xdotool("key t");
  Screen light = capture();
  CHECK(light.at(ex, ey)[0] > 200);
  session.xdotool("key p");
  light = capture();
  CHECK(light.at(8, 400)[0] > 200);  // was the controls panel
  session.xdotool("key p");
  session.xdotool("key t");

  // C: the compare layout's four panels, framed; the frame's vertical line runs down the middle.
  session.xdotool("key c");
  const Screen compare = capture();
  const int mid =
      static_cast<int>(view["rect"][0].get<double>() + view["rect"][2].get<double>() / 2);
  int frame = 0;
  for (int y = 100; y < 700; y += 10)
    for (int dx = -1; dx <= 1; ++dx) {
      const unsigned char* p = compare.at(mid + dx, y);
      if (std::abs(p[0] - 90) < 12 && std::abs(p[1] - 90) < 12 && std::abs(p[2] - 100) < 12) {
        ++frame;
        break;
      }
    }
  CHECK(frame >= 50);
}

// The screen once `settled` holds for it, or after `timeout_ms` (a loaded machine may take more
// than one idle frame to draw the answer); the caller checks the result either way.
template <typename Pred>
Screen captureWhen(Pred settled, int timeout_ms = 8000) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  Screen s = capture();
  while (!settled(s) && std::chrono::steady_clock::now() < deadline) {
    pause(200);
    s = capture();
  }
  return s;
}

// Counts the pixels of a colour (within a few levels) in a rectangle of the screen.
int pixelsOf(const Screen& s, int x0, int y0, int x1, int y1, int r, int g, int b) {
  int n = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x) {
      const unsigned char* p = s.at(x, y);
      n += std::abs(p[0] - r) < 12 && std::abs(p[1] - g) < 12 && std::abs(p[2] - b) < 12 ? 1 : 0;
    }
  return n;
}

TEST_CASE("real input: a lesson question answered wrong, then right, with immediate feedback") {
  Session session("--no-settings --size 1280x800 --lesson rmsnorm --step 2");
  REQUIRE(session.ready());
  // The card sits at the top of the scene; its feedback bar is red (204, 64, 51) when wrong and
  // green (41, 158, 77) when right.
  auto red = [](const Screen& s) { return pixelsOf(s, 340, 0, 960, 400, 204, 64, 51); };
  auto green = [](const Screen& s) { return pixelsOf(s, 340, 0, 960, 400, 41, 158, 77); };
  Screen before = capture();
  CHECK(red(before) < 50);
  CHECK(green(before) < 50);
  session.xdotool("key 1");  // "the group's mean": wrong, RMSNorm subtracts nothing
  Screen wrong = captureWhen([&](const Screen& s) { return red(s) > 2000; });
  CHECK(red(wrong) > 2000);
  CHECK(green(wrong) < 50);
  session.xdotool("key 2");  // "nothing": right
  Screen right = captureWhen([&](const Screen& s) { return green(s) > 2000; });
  CHECK(green(right) > 2000);
  CHECK(red(right) < 50);
  // PageUp goes back a step (no question there: the bar is gone).
  session.xdotool("key Prior");
  Screen back = captureWhen([&](const Screen& s) { return green(s) < 50; });
  CHECK(green(back) < 50);
}

namespace {

// An RGB image read back from a PNG.
struct Png {
  int width = 0, height = 0;
  std::vector<unsigned char> rgb;
};
Png loadPng(const fs::path& path) {
  Png p;
  int channels = 0;
  unsigned char* data = stbi_load(path.string().c_str(), &p.width, &p.height, &channels, 3);
  REQUIRE_MESSAGE(data != nullptr, path.string());
  p.rgb.assign(data, data + static_cast<size_t>(p.width) * p.height * 3);
  stbi_image_free(data);
  return p;
}

}  // namespace

TEST_CASE("real input: Save PNG (Ctrl+S) renders in the window's process what --screenshot does") {
  // A light-theme, cividis, sheet-view view of a lesson file of one's own: every setting that the
  // old Save PNG (a second process with a partial command line) dropped.
  const fs::path dir = workDir() / "save-png";
  fs::create_directories(dir);
  const fs::path lesson = dir / "own.json";
  std::ofstream(lesson) << R"({"name": "own", "title": "A lesson of one's own", "steps": [
    {"text": "GroupNorm(2) as a sheet.", "set": {"norm": "group", "groups": 2,
     "shape": "4,6,5,5", "init": "randn", "hover": "1,3,2,2"}}]})";
  const std::string flags = "--no-settings --lesson-file " + lesson.string() +
                            " --theme light --colormap cividis --display sheet";
  const fs::path saved = dir / "normviz-view.png";  // the default path, in the app's directory
  fs::remove(saved);
  const fs::path cwd = fs::current_path();
  fs::current_path(dir);
  {
    const std::string args = "--size 1280x800 " + flags;
    Session app(args.c_str());
    REQUIRE(app.ready());
    app.xdotool("mousemove 700 420");  // over the view: the saved picture shows nothing hovered
    app.xdotool("key ctrl+s");
    for (int i = 0; i < 300 && !fs::exists(saved); ++i) pause(100);
    pause(500);  // the PNG is written in one call; let it finish
  }
  fs::current_path(cwd);
  REQUIRE(fs::exists(saved));
  const fs::path reference = dir / "reference.png";
  REQUIRE(run(std::string(NORMVIZ_XVFB_RUN) + " -a -s '-screen 0 1280x800x24' " + NORMVIZ_BINARY +
              " " + flags + " --size 1920x1080 --screenshot " + reference.string() +
              " > /dev/null 2>&1") == 0);
  const Png a = loadPng(saved), b = loadPng(reference);
  REQUIRE(a.width == 1920);
  REQUIRE(a.height == 1080);
  REQUIRE(b.width == a.width);
  REQUIRE(b.height == a.height);
  // The view between the side panels (the statistics panel prints timings, which differ from run
  // to run): the same pixels, on the light theme's background.
  auto at = [](const Png& p, int x, int y) {
    return &p.rgb[(static_cast<size_t>(y) * p.width + x) * 3];
  };
  for (const Png* p : {&a, &b}) CHECK(at(*p, 960, 1000)[0] > 230);  // below the sheets
  size_t differing = 0, pixels = 0;
  for (int y = 0; y < a.height; ++y)
    for (int x = 360; x < 1580; ++x) {
      int d = 0;
      for (int k = 0; k < 3; ++k) d = std::max(d, std::abs(at(a, x, y)[k] - at(b, x, y)[k]));
      differing += d > 40 ? 1 : 0;
      ++pixels;
    }
  const double fraction = static_cast<double>(differing) / static_cast<double>(pixels);
  INFO("pixels of the view that differ: " << fraction * 100 << "%");
  CHECK(fraction < 0.002);
}
