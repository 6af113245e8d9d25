// Opening lesson steps, checking answers and keeping the score (see lesson_state.hpp).
#include "lesson_state.hpp"

#include <algorithm>
#include <sstream>

#include "app_compute.hpp"
#include "json_fields.hpp"
#include "normviz/error.hpp"
#include "normviz/stats.hpp"

namespace normviz {

int LessonProgress::score() const {
  int n = 0;
  for (int o : outcome) n += o == 1 ? 1 : 0;
  return n;
}

namespace {

// Applies the settings in force at `step` to a copy of the state; the caller keeps it only when
// everything, the recompute included, succeeded.
std::string apply(AppState& state, const Lesson& lesson, int step) {
  const nlohmann::json set = settingsAt(lesson, step);
  AppState next = state;
  try {
    initFromOptions(next, layerOptionsFromJson(set));
    next.affine = set.contains("affine") && jsonBool(set["affine"], "affine");
    next.affine_init = next.affine ? AffineInit::Random : AffineInit::OnesZeros;
    next.backward = set.contains("backward") && jsonBool(set["backward"], "backward");
    next.grad_init = set.contains("grad_init") ? jsonString(set["grad_init"], "grad_init") : "randn";
    next.variance = set.contains("variance")
                        ? parseVariance(jsonString(set["variance"], "variance"))
                        : VarianceStrategy::TwoPass;
    // Each view choice: its name in the step, or the default a lesson starts from.
    auto choice = [&]<typename E>(const char* key, E fallback) {
      return set.contains(key) ? parseName<E>(jsonString(set[key], key), key) : fallback;
    };
    next.layout = choice("layout", LayoutMode::Single);
    const std::string display = set.contains("display") ? jsonString(set["display"], "display") : "auto";
    next.display_chosen = display != "auto";
    next.display = next.display_chosen ? parseName<DisplayMode>(display, "display") : DisplayMode::Cubes;
    next.explode = set.contains("explode")
                       ? static_cast<float>(jsonNumber(set["explode"], "explode", 0.0, 1.0))
                       : 1.0f;
    next.color_by = choice("color_by", ColorBy::Value);
    next.preset = choice("view", ViewPreset::Isometric);
    if (set.contains("theme")) next.theme = choice("theme", Theme::Dark);
    next.pinned.reset();
    next.hovered.reset();
    if (set.contains("hover"))
      next.pinned =
          CubeRef{Section::Input, parseHover(jsonListText(set["hover"], "hover"), next.x.shape)};
    next.stepper.active = set.contains("stepper") && jsonBool(set["stepper"], "stepper");
    next.stepper.stage =
        set.contains("stage") ? std::to_string(jsonInt(set["stage"], "stage", 0, 64)) : "";
    next.stepper.lane = set.contains("lane") ? static_cast<int>(jsonInt(set["lane"], "lane", -1, 1024)) : -1;
    next.stepper_changed = true;
    next.error.clear();
    recomputeIfChanged(next);
    if (!next.error.empty()) throw NormError(next.error);
  } catch (const NormError& e) {
    return lesson.file + ": step " + std::to_string(step + 1) + ": " + e.what();
  } catch (const nlohmann::json::exception& e) {
    return lesson.file + ": step " + std::to_string(step + 1) + ": " + e.what();
  }
  next.reframe = true;
  state = std::move(next);
  return "";
}

void resetQuestion(LessonProgress& p) {
  p.answered = p.tried = false;
  p.feedback.clear();
  p.selection.clear();
  p.misses.clear();
  p.extras.clear();
  p.number.clear();
}

void record(AppState& state, bool correct, std::string feedback) {
  LessonProgress& p = state.lesson;
  int& outcome = p.outcome[static_cast<size_t>(p.step)];
  if (correct) {
    outcome = p.tried ? (outcome == 1 ? 1 : 2) : 1;
  } else if (outcome == 0) {
    outcome = -1;
  }
  p.tried = true;
  p.answered = correct;
  p.feedback = std::move(feedback);
}

}  // namespace

std::string openLesson(AppState& state, const Lesson& lesson, int step) {
  AppState next = state;
  next.lesson.lesson = lesson;
  next.lesson.outcome.assign(lesson.steps.size(), 0);
  next.lesson.step = std::clamp(step, 0, static_cast<int>(lesson.steps.size()) - 1);
  resetQuestion(next.lesson);
  const std::string error = apply(next, lesson, next.lesson.step);
  if (!error.empty()) {
    state.lesson.error = error;
    return error;
  }
  next.lesson.error.clear();
  state = std::move(next);
  return "";
}

std::string goToStep(AppState& state, int step) {
  if (!state.lesson.lesson) return "no lesson is open";
  const Lesson& lesson = *state.lesson.lesson;
  step = std::clamp(step, 0, static_cast<int>(lesson.steps.size()) - 1);
  if (step == state.lesson.step && state.lesson.error.empty()) return "";
  const Lesson copy = lesson;
  const std::string error = apply(state, copy, step);
  if (!error.empty()) {
    state.lesson.error = error;
    return error;
  }
  state.lesson.step = step;
  state.lesson.error.clear();
  resetQuestion(state.lesson);
  return "";
}

void closeLesson(AppState& state) {
  state.lesson = LessonProgress{};
}

void answerChoice(AppState& state, int option) {
  const LessonStep* step = state.lesson.current();
  if (!step || !step->question || step->question->kind != LessonQuestion::Kind::Choice) return;
  const LessonQuestion& q = *step->question;
  if (option < 0 || option >= static_cast<int>(q.options.size())) return;
  const bool right = option == q.answer;
  record(state, right,
         right ? "Right: " + q.options[static_cast<size_t>(q.answer)]
               : "Not quite: \"" + q.options[static_cast<size_t>(option)] +
                     "\" is not it. Try again.");
}

void answerNumber(AppState& state, int64_t value) {
  const LessonStep* step = state.lesson.current();
  if (!step || !step->question || step->question->kind != LessonQuestion::Kind::Number) return;
  const bool right = value == step->question->answer;
  record(state, right,
         right ? "Right: " + std::to_string(value)
               : std::to_string(value) + " is not it. Count the lit regions and try again.");
}

void toggleSelection(AppState& state, int64_t flat) {
  auto& sel = state.lesson.selection;
  if (!sel.erase(flat)) sel.insert(flat);
}

void checkSelection(AppState& state) {
  const LessonStep* step = state.lesson.current();
  if (!step || !step->question || step->question->kind != LessonQuestion::Kind::Select ||
      !state.shown || !state.pinned)
    return;
  const ReductionPlan& plan = state.shown->plan;
  const int64_t group = plan.groupOf(state.pinned->index);
  LessonProgress& p = state.lesson;
  p.misses.clear();
  p.extras.clear();
  for (int64_t flat : plan.elementsOf(group))
    if (!p.selection.count(flat)) p.misses.push_back(flat);
  for (int64_t flat : p.selection)
    if (plan.groupOf(flat) != group) p.extras.push_back(flat);
  const bool right = p.misses.empty() && p.extras.empty();
  record(state, right,
         right
             ? "Right: all " + std::to_string(plan.groupSize()) + " cubes of the group."
             : std::to_string(p.misses.size()) + " missed (red rings), " +
                   std::to_string(p.extras.size()) + " extra (orange). Fix them and check again.");
}

std::string commandLineOf(const AppState& s) {
  std::string out = "normviz";
  if (s.lesson.lesson) {
    out += " --lesson " + s.lesson.lesson->name + " --step " + std::to_string(s.lesson.step + 1);
    return out;
  }
  const NormConfig& c = s.config;
  out += std::string(" --norm ") + normKindName(c.kind);
  if (c.kind == NormKind::Group) out += " --groups " + std::to_string(c.groups);
  if ((c.kind == NormKind::Layer || c.kind == NormKind::RMS) && !c.normalized_shape.empty())
    out += " --normalized-shape " + commaList(c.normalized_shape);
  if (c.kind == NormKind::Custom) out += " --axes " + commaList(c.axes);
  if (c.kind == NormKind::Batch && !c.training) out += " --eval";
  out += " --shape " + commaList(s.x.shape.dims);
  out += s.init == "file" ? " --input " + s.npy_path : " --init " + s.init;
  if (s.seed != 0) out += " --seed " + std::to_string(s.seed);
  if (s.pinned && (s.pinned->section == Section::Input || s.pinned->section == Section::Output)) {
    std::vector<int64_t> index(static_cast<size_t>(s.x.shape.rank()));
    int64_t flat = s.pinned->index;
    for (int a = s.x.shape.rank() - 1; a >= 0; --a) {
      index[static_cast<size_t>(a)] = flat % s.x.shape[a];
      flat /= s.x.shape[a];
    }
    out += " --hover " + commaList(index);
  }
  if (s.layout == LayoutMode::Compare) out += " --layout compare";
  if (s.display_chosen)
    out += s.display == DisplayMode::Sheet ? " --display sheet" : " --display cubes";
  if (s.explode != 1.0f) out += " --explode " + std::to_string(s.explode).substr(0, 4);
  if (s.color_by == ColorBy::Groups) out += " --color-by groups";
  if (s.backward) out += " --backward --grad-init " + s.grad_init;
  if (s.affine) out += " --affine";
  return out;
}

}  // namespace normviz
