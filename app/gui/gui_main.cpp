// The app's command line: the layer/data flags shared with `normviz compute` plus the window's own
// (--screenshot, --size, --hover, --layout, --color-by, --theme, --font-scale, stepper flags), and
// the runner that opens the window or renders one frame offscreen.
#include <cstdio>
#include <memory>
#include <sstream>

#include "app_compute.hpp"
#include "app_window.hpp"
#include "cli.hpp"
#include "normviz/error.hpp"
#include "panels.hpp"
#include "settings.hpp"

namespace normviz {

namespace {

struct AppFlags {
  LayerOptions layer;
  WindowOptions window;
  std::string size = "1280x800";
  std::string hover;  // n,c,h,w
  std::string layout, color_by, theme, colormap, view;
  float font_scale = 0;
  std::string backend, variance;
  bool affine = false;
  bool groups_view = false;
  bool no_settings = false;
  bool stepper = false;
  int stage = -1, lane = -1, block_size = 0;
  CLI::Option* bench = nullptr;
};

// Parses "n,c,h,w" into a flat index of `shape`; throws NormError naming the bad part.
int64_t parseHover(const std::string& text, const Shape& shape) {
  std::vector<int64_t> index;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    size_t used = 0;
    int64_t v = -1;
    try {
      v = std::stoll(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || part.find_first_not_of(" ", used) != std::string::npos)
      throw NormError("--hover " + text + ": '" + part + "' is not an integer index");
    index.push_back(v);
  }
  if (static_cast<int>(index.size()) != shape.rank())
    throw NormError("--hover " + text + " has " + std::to_string(index.size()) +
                    " indices; the input " + shape.str() + " needs " +
                    std::to_string(shape.rank()));
  int64_t flat = 0;
  for (int a = 0; a < shape.rank(); ++a) {
    const int64_t i = index[static_cast<size_t>(a)];
    if (i < 0 || i >= shape[a])
      throw NormError("--hover " + text + ": index " + std::to_string(i) + " is outside dim " +
                      std::to_string(a) + " of size " + std::to_string(shape[a]));
    flat = flat * shape[a] + i;
  }
  return flat;
}

bool parseSize(const std::string& text, int& width, int& height) {
  char x = 0;
  std::istringstream in(text);
  return (in >> width >> x >> height) && x == 'x' && in.eof() && width >= 64 && height >= 64 &&
         width <= 8192 && height <= 8192;
}

int runApp(AppFlags& f) {
  AppState state;
  const bool headless = !f.window.screenshot.empty() || f.bench->count() > 0;
  f.window.bench = f.bench->count() > 0;
  f.window.persist_settings = !headless && !f.no_settings;
  // Settings first, so explicit flags override them; screenshots stay reproducible without them.
  if (!headless && !f.no_settings) {
    state.notice = loadSettings(state, settingsPath());
    if (!state.notice.empty()) std::fprintf(stderr, "normviz: %s\n", state.notice.c_str());
  }
  try {
    initFromOptions(state, f.layer);
    if (!parseSize(f.size, f.window.width, f.window.height))
      throw NormError("--size '" + f.size +
                      "' must be WIDTHxHEIGHT, e.g. 1280x800 (64..8192 each)");
    if (!f.layout.empty()) {
      if (f.layout != "single" && f.layout != "compare")
        throw NormError("--layout must be single or compare");
      state.layout = f.layout == "single" ? LayoutMode::Single : LayoutMode::Compare;
    }
    if (!f.color_by.empty()) {
      if (f.color_by != "value" && f.color_by != "groups")
        throw NormError("--color-by must be value or groups");
      state.color_by = f.color_by == "value" ? ColorBy::Value : ColorBy::Groups;
    }
    if (!f.theme.empty()) {
      if (f.theme != "dark" && f.theme != "light") throw NormError("--theme must be dark or light");
      state.theme = f.theme == "dark" ? Theme::Dark : Theme::Light;
    }
    if (!f.colormap.empty()) {
      if (f.colormap != "viridis" && f.colormap != "cividis")
        throw NormError("--colormap must be viridis or cividis");
      state.input_map = f.colormap == "viridis" ? ColorMap::Viridis : ColorMap::Cividis;
    }
    if (!f.view.empty()) {
      if (f.view == "front") {
        state.preset = ViewPreset::Front;
      } else if (f.view == "top") {
        state.preset = ViewPreset::Top;
      } else if (f.view == "isometric") {
        state.preset = ViewPreset::Isometric;
      } else {
        throw NormError("--view must be front, top or isometric");
      }
    }
    if (f.font_scale != 0) {
      if (!(f.font_scale >= 0.5f && f.font_scale <= 4.0f))
        throw NormError("--font-scale must be in 0.5..4");
      state.font_scale = f.font_scale;
    }
    if (!f.backend.empty()) {
      if (f.backend == "fp32") {
        state.backend = Backend::CpuFp32;
      } else if (f.backend == "fp64") {
        state.backend = Backend::CpuFp64;
      } else if (f.backend == "gpu") {
        state.backend = Backend::Gpu;
      } else if (f.backend == "gpu-emulated") {
        state.backend = Backend::GpuEmulated;
      } else {
        throw NormError("--backend must be fp32, fp64, gpu or gpu-emulated");
      }
    }
    if (!f.variance.empty()) state.variance = parseVariance(f.variance);
    if (f.affine && !state.affine) {
      state.affine = true;
      state.affine_init = AffineInit::Random;
    }
    // The lit region is visible from the first frame: the given element, or the first one.
    state.pinned =
        CubeRef{Section::Input, f.hover.empty() ? 0 : parseHover(f.hover, state.x.shape)};
    if (f.stepper) {
      state.stepper.active = true;
      state.stepper.stage = f.stage >= 0 ? std::to_string(f.stage) : "";
      state.stepper.lane = f.lane;
      if (f.block_size > 0) state.stepper.block_size = f.block_size;
      const std::string message = configureStepper(state);
      if (!message.empty()) throw NormError(message);
    }
  } catch (const NormError& e) {
    std::fprintf(stderr, "normviz: %s\n", e.what());
    return 2;
  }
  return runWindow(state, f.window);
}

}  // namespace

void addAppOptions(CLI::App& cli) {
  static AppFlags f;  // CLI11 writes into it during parse; it must outlive addAppOptions
  addLayerOptions(cli, f.layer);
  cli.add_option("--screenshot", f.window.screenshot,
                 "render one frame offscreen to this PNG and exit");
  cli.add_option("--report", f.window.report,
                 "with --screenshot: write every cube's screen position as JSON");
  cli.add_option("--size", f.size, "window or screenshot size, WIDTHxHEIGHT")
      ->capture_default_str();
  cli.add_option("--hover", f.hover, "light the region of this element, e.g. 0,1,0,0 (pinned)");
  cli.add_option("--layout", f.layout, "single (x, statistics, y) or compare (four layers)");
  cli.add_option("--color-by", f.color_by, "value or groups");
  cli.add_option("--colormap", f.colormap,
                 "viridis or cividis (inputs; outputs use a diverging map)");
  cli.add_option("--theme", f.theme, "dark or light");
  cli.add_option("--view", f.view, "front, top or isometric");
  cli.add_option("--font-scale", f.font_scale, "text size, 1 = 13 px (default 1.5)");
  cli.add_option("--backend", f.backend, "fp32, fp64, gpu or gpu-emulated");
  cli.add_option("--variance", f.variance, "float32 variance: two-pass, welford, naive, pairwise");
  cli.add_flag("--affine", f.affine,
               "affine on with random weight and bias (unless --weight/--bias given)");
  cli.add_flag("--no-settings", f.no_settings, "neither read nor write the settings file");
  cli.add_flag("--stepper", f.stepper,
               "show the kernel stepper and colour the lit group by thread");
  cli.add_option("--stage", f.stage, "stepper: reduction stage to show");
  cli.add_option("--lane", f.lane, "stepper: thread whose partial to show");
  cli.add_option("--block-size", f.block_size, "stepper: threads per block (multiple of 32)");
  f.bench =
      cli.add_option("--bench-frames", f.window.bench_frames,
                     "print frame and recompute times for 4K, 64K and 256K cubes (N frames each)")
          ->expected(0, 1);
  registerCommand(&cli, [] { return runApp(f); });
}

}  // namespace normviz
