// Opening lesson steps, checking answers and keeping the score (see lesson_state.hpp).
#include "lesson_state.hpp"

#include <algorithm>
#include <sstream>

#include "app_compute.hpp"
#include "lit_region.hpp"
#include "normviz/error.hpp"
#include "normviz/stats.hpp"
#include "spec_state.hpp"

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
  AppState next = state;
  try {
    // Every step starts from a lesson's defaults (the layout, colouring and camera a lesson opens
    // with), then its settings; the look (theme, colour map, text size) and the engine's threads
    // and backend stay the student's unless the step sets them.
    ViewSpec base;
    base.layout = LayoutMode::Single;
    base.color_by = ColorBy::Value;
    base.view = ViewPreset::Isometric;
    base.explode = 1.0f;
    base.threads = state.threads;
    const ViewSpec spec = specFromJson(settingsAt(lesson, step), base);
    initFromOptions(next, spec.layer);
    next.affine = spec.affine;
    next.affine_init = next.affine ? AffineInit::Random : AffineInit::OnesZeros;
    next.backward = spec.backward;
    next.display = DisplayMode::Cubes;  // unless the step names one: by size
    next.display_chosen = false;
    next.pinned.reset();
    next.hovered.reset();
    applyViewFields(next, spec);
    next.stepper.active = spec.stepper;
    next.stepper.stage = spec.stage;
    next.stepper.lane = spec.lane;
    next.stepper_changed = true;
    next.error.clear();
    recomputeIfChanged(next);
    if (!next.error.empty()) throw NormError(next.error);
  } catch (const NormError& e) {
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
  state.reframe = state.reframe || right;  // the view framed x alone for the question
  record(state, right,
         right
             ? "Right: all " + std::to_string(plan.groupSize()) + " cubes of the group."
             : std::to_string(p.misses.size()) + " missed (red rings), " +
                   std::to_string(p.extras.size()) + " extra (orange). Fix them and check again.");
}

std::optional<int64_t> litCount(const AppState& s) {
  if (!s.shown) return std::nullopt;
  if (litHidden(s)) return 0;
  if (s.layout != LayoutMode::Single) {  // the first panel's: BatchNorm's
    if (!s.pinned || s.compare.empty() || !s.compare.front().plan) return 0;
    return s.compare.front().plan->groupSize();
  }
  if (s.stepper.active) return s.shown->plan.groupSize();  // the traced group, by thread
  if (!s.pinned) return 0;
  return s.shown->grad && !s.shown->grad->group_coupled ? 1 : s.shown->plan.groupSize();
}

namespace {

// What a number question's "answer_is" counts, for the step's layer or the one its "for" names.
int64_t countedAnswer(const AppState& s, const Lesson& lesson, int step, const LessonQuestion& q) {
  ReductionPlan plan = s.shown->plan;
  if (!q.answer_for.empty()) {
    nlohmann::json settings = settingsAt(lesson, step);
    settings.update(q.answer_for);
    ViewSpec base;
    base.layer.shape = s.shown->x.shape;
    const ViewSpec spec = specFromJson(settings, base);
    plan = ReductionPlan::make(q.answer_for.contains("shape") ? spec.layer.shape : s.shown->x.shape,
                               configOf(spec.layer));
  }
  return q.answer_is == "means" ? plan.groupCount() : plan.groupSize();
}

// The problems of the step the state shows (applied without error).
void checkStep(const AppState& s, const Lesson& lesson, int k, std::vector<std::string>& out) {
  const LessonStep& step = lesson.steps[static_cast<size_t>(k)];
  const std::string where =
      lesson.file + ":" + std::to_string(step.line) + ": step " + std::to_string(k + 1) + ": ";
  if (step.expect_lit)
    if (const auto lit = litCount(s); lit && *lit != *step.expect_lit)
      out.push_back(where + "expect_lit is " + std::to_string(*step.expect_lit) + " but " +
                    std::to_string(*lit) + " cubes are lit");
  if (!step.question) return;
  const LessonQuestion& q = *step.question;
  if (q.kind == LessonQuestion::Kind::Select && !s.pinned)
    out.push_back(where + "a select question needs a marked cube: set \"hover\"");
  if (q.kind == LessonQuestion::Kind::Number && !q.answer_is.empty()) {
    try {
      const int64_t counted = countedAnswer(s, lesson, k, q);
      if (counted != q.answer)
        out.push_back(where + "the answer is " + std::to_string(q.answer) + " but the layer has " +
                      std::to_string(counted) +
                      (q.answer_is == "means" ? " means" : " elements per group"));
    } catch (const NormError& e) {
      out.push_back(where + "\"for\": " + e.what());
    }
  }
}

}  // namespace

std::vector<std::string> checkLesson(const Lesson& lesson) {
  std::vector<std::string> problems;
  AppState s;
  initFromOptions(s, LayerOptions{});
  recomputeIfChanged(s);
  for (int k = 0; k < static_cast<int>(lesson.steps.size()); ++k) {
    const std::string error = k == 0 ? openLesson(s, lesson, 0) : goToStep(s, k);
    if (!error.empty()) {
      problems.push_back(lesson.file + ":" +
                         std::to_string(lesson.steps[static_cast<size_t>(k)].line) + ": " +
                         error.substr(error.find("step ")));
      if (!s.lesson.lesson) return problems;  // the first step failed: nothing to go on from
      continue;
    }
    checkStep(s, lesson, k, problems);
  }
  return problems;
}

std::string commandLineOf(const AppState& s) {
  return specCommandLine(specOf(s));
}

}  // namespace normviz
