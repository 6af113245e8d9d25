// Between the view spec and the app's state.
#include "spec_state.hpp"

#include <cstdio>
#include <optional>

#include "app_compute.hpp"
#include "lesson_state.hpp"
#include "normviz/engine.hpp"
#include "normviz/error.hpp"

namespace normviz {

void applyViewFields(AppState& s, const ViewSpec& spec) {
  if (spec.layout) s.layout = *spec.layout;
  if (spec.color_by) s.color_by = *spec.color_by;
  if (spec.theme) s.theme = *spec.theme;
  if (spec.colormap) s.input_map = *spec.colormap;
  if (spec.view) s.preset = *spec.view;
  if (spec.font_scale) s.font_scale = *spec.font_scale;
  s.plot = spec.plot;
  if (spec.backend) s.backend = *spec.backend;
  if (spec.explode) s.explode = *spec.explode;
  if (spec.display) {
    s.display = *spec.display;
    s.display_chosen = true;
  }
  s.variance = spec.variance;
  engineThreads(spec.threads);  // refuses a count the engine cannot run
  s.threads = spec.threads;     // 0 stays "every core", so a link is not tied to one machine
  s.grad_init = spec.grad_init;
  if (spec.affine && !s.affine) {
    s.affine = true;
    s.affine_init = AffineInit::Random;
  }
  // Nothing is pinned unless asked, so moving the mouse lights groups from the first frame.
  if (spec.hover) s.pinned = CubeRef{Section::Input, flatIndex(*spec.hover, s.x.shape)};
  if (spec.backward) s.backward = true;
}

bool showsCapturedLayer(const AppState& s) {
  if (!s.capture) return false;
  // The captured layer as layerOf would give it back: its x file, its configuration.
  LayerOptions captured = s.capture->layers[static_cast<size_t>(s.capture->index)].layer;
  captured.shape = s.x.shape;
  captured.weight = captured.bias = captured.running_mean = captured.running_var = "";
  captured.max_elements = LayerOptions{}.max_elements;
  if (captured.norm != NormKind::Batch) {
    captured.momentum = LayerOptions{}.momentum;
    captured.eval = false;
  }
  return layerOf(s) == captured;
}

LayerOptions layerOf(const AppState& s) {
  const NormConfig& c = s.config;
  LayerOptions l;
  l.norm = c.kind;
  if (c.kind == NormKind::Group) l.groups = c.groups;
  if (c.kind == NormKind::Layer || c.kind == NormKind::RMS) l.normalized_shape = c.normalized_shape;
  if (c.kind == NormKind::Custom) l.axes = c.axes;
  l.eps = c.eps;
  if (c.kind == NormKind::Batch) {
    l.momentum = c.momentum;
    l.eval = !c.training;
  }
  l.shape = s.x.shape;
  if (s.init == "file") {
    l.input = s.npy_path;
  } else if (s.init == "images") {
    l.input_images = s.image_paths;
    l.resize = s.image_resize;
  } else {
    l.init = s.init;
    l.seed = s.seed;
  }
  return l;
}

ViewSpec specOf(const AppState& s) {
  ViewSpec spec;
  if (s.theme != Theme::Dark) spec.theme = s.theme;
  if (s.input_map != ColorMap::Viridis) spec.colormap = s.input_map;
  if (s.font_scale != kDefaultFontScale) spec.font_scale = s.font_scale;
  if (s.lesson.lesson) {
    const Lesson& lesson = *s.lesson.lesson;
    bool builtin = false;
    for (const Lesson& l : builtinLessons())
      builtin |= l.name == lesson.name && l.file == lesson.file;
    (builtin ? spec.lesson : spec.lesson_file) = builtin ? lesson.name : lesson.file;
    spec.step = s.lesson.step + 1;
    spec.presenter = s.lesson.presenter;
    return spec;
  }
  spec.layer = layerOf(s);
  if (s.capture && showsCapturedLayer(s)) {
    spec.capture = s.capture->dir;
    spec.capture_layer = s.capture->layers[static_cast<size_t>(s.capture->index)].name;
    spec.layer = LayerOptions{};  // the capture holds the layer and its data
  }
  spec.affine = s.affine;
  spec.backward = s.backward;
  if (s.backward) spec.grad_init = s.grad_init;
  spec.variance = s.variance;
  if (s.backend != Backend::CpuFp32) spec.backend = s.backend;
  spec.threads = s.threads;
  if (s.pinned && s.shown && s.shown->x.shape == s.x.shape &&
      (s.pinned->section == Section::Input || s.pinned->section == Section::Output))
    spec.hover = indexOf(s.pinned->index, s.x.shape);
  if (s.layout != LayoutMode::Single) spec.layout = s.layout;
  if (s.display_chosen) spec.display = s.display;
  if (s.explode != 1.0f) spec.explode = s.explode;
  if (s.color_by != ColorBy::Value) spec.color_by = s.color_by;
  if (s.preset != ViewPreset::Isometric) spec.view = s.preset;
  spec.plot = s.plot;
  if (s.stepper.active) {
    spec.stepper = true;
    spec.stage = s.stepper.stage;
    spec.lane = s.stepper.lane;
    if (s.stepper.block_size != StepperRequest{}.block_size) spec.block_size = s.stepper.block_size;
  }
  return spec;
}

namespace {

// Opens the spec's lesson, if any: a file of one's own is checked first; a malformed one is
// reported and the app opens without it (with the message on screen), so a class is never left
// with nothing. Throws NormError for an unknown lesson or step.
void openLessonOf(AppState& state, const ViewSpec& spec) {
  std::optional<Lesson> from_file;
  if (!spec.lesson_file.empty()) {
    try {
      from_file = loadLessonFile(spec.lesson_file);
    } catch (const NormError& e) {
      std::fprintf(stderr, "normviz: %s\n", e.what());
      state.error = e.what();
    }
  }
  if (spec.lesson.empty() && !from_file) return;
  const Lesson* lesson = nullptr;
  if (from_file && (spec.lesson.empty() || spec.lesson == from_file->name)) lesson = &*from_file;
  std::string names;
  for (const Lesson& l : builtinLessons()) {
    if (l.name == spec.lesson && lesson == nullptr) lesson = &l;
    names += (names.empty() ? "" : ", ") + l.name;
  }
  if (lesson == nullptr)
    throw NormError("--lesson " + spec.lesson + ": no such lesson; there are " + names);
  if (spec.step > static_cast<int>(lesson->steps.size()))
    throw NormError("--step " + std::to_string(spec.step) + ": lesson " + lesson->name + " has " +
                    std::to_string(lesson->steps.size()) + " steps (counted from 1)");
  const std::string error = openLesson(state, *lesson, spec.step - 1);
  if (!error.empty()) throw NormError(error);
  state.lesson.presenter = spec.presenter;
}

}  // namespace

void openSpec(AppState& state, const ViewSpec& spec, bool with_layer, bool grad_init_given) {
  if (!spec.capture.empty()) {
    openCapture(state, spec.capture, spec.capture_layer);
  } else if (!spec.capture_layer.empty()) {
    throw NormError("--layer names a layer of --capture DIR");
  } else if (with_layer) {
    initFromOptions(state, spec.layer);
  }
  applyViewFields(state, spec);
  openLessonOf(state, spec);
  if (grad_init_given) state.grad_init = spec.grad_init;
  if (spec.explode) state.explode = *spec.explode;
  if (spec.display) {
    state.display = *spec.display;
    state.display_chosen = true;
  }
  if (spec.stepper) {
    state.stepper.active = true;
    state.stepper.stage = spec.stage;
    state.stepper.lane = spec.lane;
    if (spec.block_size > 0) state.stepper.block_size = spec.block_size;
    // Applied by the stepper panel on the next frame (configureStepper).
    state.stepper_changed = true;
  }
}

}  // namespace normviz
