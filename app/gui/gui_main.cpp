// The app's command line: the layer/data flags shared with `normviz compute` plus the window's own
// (--screenshot, --size, --hover, --layout, --color-by, --theme, --font-scale, stepper flags), and
// the runner that opens the window or renders one frame offscreen.
#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>

#include "app_compute.hpp"
#include "app_window.hpp"
#include "cli.hpp"
#include "lesson_state.hpp"
#include "normviz/engine.hpp"
#include "normviz/error.hpp"
#include "panels.hpp"
#include "settings.hpp"
#include "spec_state.hpp"

namespace normviz {

namespace {

// The app's flags: the view spec's (SpecArgs) and the window's own.
struct AppFlags {
  SpecArgs spec;
  WindowOptions window;
  std::string size = "1280x800";
  bool no_settings = false;
  CLI::Option* bench = nullptr;
};

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
    const ViewSpec spec = f.spec.spec();
    // The last session's layer and shape, unless the command line names a layer or data.
    bool restored = false;
    if (!f.spec.layerGiven() && state.remembered_layer && spec.lesson.empty()) {
      try {
        initFromOptions(state, *state.remembered_layer);
        restored = true;
      } catch (const NormError& e) {
        state.notice = std::string("last session's layer not restored: ") + e.what();
      }
    }
    if (!parseSize(f.size, f.window.width, f.window.height))
      throw NormError("--size '" + f.size +
                      "' must be WIDTHxHEIGHT, e.g. 1280x800 (64..8192 each)");
    openSpec(state, spec, !restored, f.spec.given("grad-init"));
  } catch (const NormError& e) {
    // The same status and form as `normviz compute` and the demo built without the app.
    std::fprintf(stderr, "normviz: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "normviz: error: out of memory\n");
    return 1;
  }
  return runWindow(state, f.window);
}

}  // namespace

void addAppOptions(CLI::App& cli) {
  auto f = std::make_shared<AppFlags>();  // CLI11 writes into it during parse
  f->spec.add(cli, SpecArgs::Fields::All);
  cli.add_option("--screenshot", f->window.screenshot,
                 "render one frame offscreen to this PNG and exit");
  cli.add_option("--report", f->window.report,
                 "with --screenshot: write every cube's screen position as JSON");
  cli.add_option("--size", f->size, "window or screenshot size, WIDTHxHEIGHT")
      ->capture_default_str();
  cli.add_flag("--no-settings", f->no_settings, "neither read nor write the settings file");
  f->bench =
      cli.add_option("--bench-frames", f->window.bench_frames,
                     "print frame and hover times for 4K, 64K, 256K cubes and 1M, 16M-cell sheets "
                     "(N frames each)")
          ->expected(0, 1);
  registerCommand(&cli, [f] { return runApp(*f); });
}

}  // namespace normviz
