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

namespace normviz {

namespace {

struct AppFlags {
  LayerOptions layer;
  WindowOptions window;
  std::string size = "1280x800";
  std::string hover;  // n,c,h,w
  std::string layout, color_by, theme, colormap, view;
  float font_scale = 0;
  float explode = -1;
  std::string display;
  bool backward = false;
  std::string grad_init;
  std::string lesson, lesson_file;
  int step = 1;
  bool presenter = false;
  std::string backend, variance;
  int threads = 0;  // CPU engine threads; 0 = every core
  bool affine = false;
  bool groups_view = false;
  bool no_settings = false;
  bool stepper = false;
  int stage = -1, lane = -1, block_size = 0;
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
    // The last session's layer and shape, unless the command line names a layer or data.
    const LayerOptions defaults;
    const LayerOptions& l = f.layer;
    const bool layer_given = l.norm != defaults.norm || l.groups != defaults.groups ||
                             !l.normalized_shape.empty() || !l.axes.empty() || l.eval ||
                             l.shape != defaults.shape || l.init != defaults.init || l.seed != 0 ||
                             !l.input.empty() || !l.weight.empty() || !l.bias.empty() ||
                             !l.running_mean.empty() || !l.running_var.empty() ||
                             l.eps != defaults.eps || l.momentum != defaults.momentum;
    bool restored = false;
    if (!layer_given && state.remembered_layer && f.lesson.empty()) {
      try {
        initFromOptions(state, *state.remembered_layer);
        restored = true;
      } catch (const NormError& e) {
        state.notice = std::string("last session's layer not restored: ") + e.what();
      }
    }
    if (!restored) initFromOptions(state, f.layer);
    if (!parseSize(f.size, f.window.width, f.window.height))
      throw NormError("--size '" + f.size +
                      "' must be WIDTHxHEIGHT, e.g. 1280x800 (64..8192 each)");
    if (!f.layout.empty()) state.layout = parseName<LayoutMode>(f.layout, "--layout");
    if (!f.color_by.empty()) state.color_by = parseName<ColorBy>(f.color_by, "--color-by");
    if (!f.theme.empty()) state.theme = parseName<Theme>(f.theme, "--theme");
    if (!f.colormap.empty()) state.input_map = parseName<ColorMap>(f.colormap, "--colormap");
    if (!f.view.empty()) state.preset = parseName<ViewPreset>(f.view, "--view");
    if (f.font_scale != 0) {
      if (!(f.font_scale >= 0.5f && f.font_scale <= 4.0f))
        throw NormError("--font-scale must be in 0.5..4");
      state.font_scale = f.font_scale;
    }
    if (!f.backend.empty()) state.backend = parseName<Backend>(f.backend, "--backend");
    if (!f.variance.empty()) state.variance = parseVariance(f.variance);
    state.threads = engineThreads(f.threads);  // refuses a negative count with a message
    if (f.affine && !state.affine) {
      state.affine = true;
      state.affine_init = AffineInit::Random;
    }
    // Nothing is pinned unless asked, so moving the mouse lights groups from the first frame.
    if (!f.hover.empty())
      state.pinned = CubeRef{Section::Input, parseHover(f.hover, state.x.shape)};
    if (f.backward) state.backward = true;
    // Lessons: a file of one's own is checked first; a malformed one is reported and the app opens
    // without it (with the message on screen), so a class is never left with nothing.
    std::optional<Lesson> from_file;
    if (!f.lesson_file.empty()) {
      try {
        from_file = loadLessonFile(f.lesson_file);
      } catch (const NormError& e) {
        std::fprintf(stderr, "normviz: %s\n", e.what());
        state.error = e.what();
      }
    }
    if (!f.lesson.empty() || from_file) {
      const Lesson* lesson = nullptr;
      if (from_file && (f.lesson.empty() || f.lesson == from_file->name)) lesson = &*from_file;
      std::string names;
      for (const Lesson& l : builtinLessons()) {
        if (l.name == f.lesson && lesson == nullptr) lesson = &l;
        names += (names.empty() ? "" : ", ") + l.name;
      }
      if (lesson == nullptr)
        throw NormError("--lesson " + f.lesson + ": no such lesson; there are " + names);
      if (f.step < 1 || f.step > static_cast<int>(lesson->steps.size()))
        throw NormError("--step " + std::to_string(f.step) + ": lesson " + lesson->name + " has " +
                        std::to_string(lesson->steps.size()) + " steps (counted from 1)");
      const std::string error = openLesson(state, *lesson, f.step - 1);
      if (!error.empty()) throw NormError(error);
      state.lesson.presenter = f.presenter;
    }
    if (!f.grad_init.empty()) {
      makeGradOutput(Shape{1}, f.grad_init, 0);  // throws NormError naming the valid names
      state.grad_init = f.grad_init;
    }
    if (f.explode >= 0) {
      if (!(f.explode <= 1.0f)) throw NormError("--explode must be in 0..1");
      state.explode = f.explode;
    } else if (f.explode != -1) {
      throw NormError("--explode must be in 0..1");
    }
    if (!f.display.empty()) {
      state.display = parseName<DisplayMode>(f.display, "--display");
      state.display_chosen = true;
    }
    if (f.stepper) {
      state.stepper.active = true;
      state.stepper.stage = f.stage >= 0 ? std::to_string(f.stage) : "";
      state.stepper.lane = f.lane;
      if (f.block_size > 0) state.stepper.block_size = f.block_size;
      const std::string message = configureStepper(state);
      if (!message.empty()) throw NormError(message);
    }
  } catch (const NormError& e) {
    // The same status and form as `normviz compute` and the demo built without the app.
    std::fprintf(stderr, "normviz: error: %s\n", e.what());
    return 1;
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
  cli.add_option("--display", f.display,
                 "cubes (3D) or sheet (every element one cell of a 2D image); by default the "
                 "sheet past " +
                     std::to_string(kAutoSheetAbove) + " elements, always past " +
                     std::to_string(kMaxDisplayedElements));
  cli.add_flag("--backward", f.backward,
               "backward mode: dy, the per-group sums, dx, dweight and dbias (B toggles)");
  cli.add_option("--grad-init", f.grad_init, std::string("backward mode's dy: ") + kGradInitNames);
  cli.add_option("--lesson", f.lesson, "open a lesson (normviz lessons lists them)");
  cli.add_option("--step", f.step, "with --lesson: the step to open, from 1");
  cli.add_option("--lesson-file", f.lesson_file,
                 "a lesson file of your own (JSON, see assets/lessons)");
  cli.add_flag("--presenter", f.presenter,
               "with --lesson: presenter mode (full screen, large type)");
  cli.add_option("--explode", f.explode,
                 "0 = compact blocks (faded cubes as ghosts) .. 1 = separate plates (default)");
  cli.add_option("--font-scale", f.font_scale, "text size, 1 = 13 px (default 1.5)");
  cli.add_option("--backend", f.backend, "fp32, fp64, gpu or gpu-emulated");
  cli.add_option("--variance", f.variance, "float32 variance: two-pass, welford, naive, pairwise");
  cli.add_option("--threads", f.threads, "CPU threads for the CPU backends (0 = every core)");
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
                     "print frame and hover times for 4K, 64K, 256K cubes and 1M, 16M-cell sheets "
                     "(N frames each)")
          ->expected(0, 1);
  registerCommand(&cli, [] { return runApp(f); });
}

}  // namespace normviz
