// Opening lesson steps, checking answers and keeping the score (see lesson_state.hpp).
#include "lesson_state.hpp"

#include <algorithm>
#include <sstream>

#include "app_compute.hpp"
#include "normviz/error.hpp"
#include "normviz/stats.hpp"

namespace normviz {

int LessonProgress::score() const {
  int n = 0;
  for (int o : outcome) n += o == 1 ? 1 : 0;
  return n;
}

namespace {

// "1,3,2,2" or [1, 3, 2, 2] as text.
std::string listText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return std::to_string(v.get<int64_t>());
  std::string out;
  for (const auto& e : v) out += (out.empty() ? "" : ",") + std::to_string(e.get<int64_t>());
  return out;
}

int64_t flatIndex(const std::string& text, const Shape& shape) {
  std::vector<int64_t> index;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    try {
      index.push_back(std::stoll(part));
    } catch (const std::exception&) {
      throw NormError("hover " + text + ": '" + part + "' is not an integer");
    }
  }
  if (static_cast<int>(index.size()) != shape.rank())
    throw NormError("hover " + text + " has " + std::to_string(index.size()) + " indices for " +
                    shape.str());
  int64_t flat = 0;
  for (int a = 0; a < shape.rank(); ++a) {
    if (index[static_cast<size_t>(a)] < 0 || index[static_cast<size_t>(a)] >= shape[a])
      throw NormError("hover " + text + ": index " + std::to_string(index[static_cast<size_t>(a)]) +
                      " is outside dim " + std::to_string(a) + " of size " +
                      std::to_string(shape[a]));
    flat = flat * shape[a] + index[static_cast<size_t>(a)];
  }
  return flat;
}

// Applies the settings in force at `step` to a copy of the state; the caller keeps it only when
// everything, the recompute included, succeeded.
std::string apply(AppState& state, const Lesson& lesson, int step) {
  const nlohmann::json set = settingsAt(lesson, step);
  AppState next = state;
  try {
    LayerOptions o;
    auto str = [&](const char* key, std::string& out) {
      if (set.contains(key)) out = listText(set[key]);
    };
    str("norm", o.norm);
    if (set.contains("groups")) o.groups = set["groups"].get<int64_t>();
    str("normalized_shape", o.normalized_shape);
    str("axes", o.axes);
    if (set.contains("eval")) o.eval = set["eval"].get<bool>();
    if (set.contains("momentum"))
      o.momentum = set["momentum"].is_string() ? set["momentum"].get<std::string>()
                                               : std::to_string(set["momentum"].get<double>());
    str("shape", o.shape);
    str("init", o.init);
    if (set.contains("seed")) o.seed = set["seed"].get<uint64_t>();
    initFromOptions(next, o);
    next.affine = set.value("affine", false);
    next.affine_init = next.affine ? AffineInit::Random : AffineInit::OnesZeros;
    next.backward = set.value("backward", false);
    next.grad_init = set.value("grad_init", std::string("randn"));
    next.variance = set.contains("variance") ? parseVariance(set["variance"].get<std::string>())
                                             : VarianceStrategy::TwoPass;
    next.layout = set.value("layout", std::string("single")) == "compare" ? LayoutMode::Compare
                                                                          : LayoutMode::Single;
    const std::string display = set.value("display", std::string("auto"));
    next.display_chosen = display != "auto";
    next.display = display == "sheet" ? DisplayMode::Sheet : DisplayMode::Cubes;
    next.explode = std::clamp(set.value("explode", 1.0f), 0.0f, 1.0f);
    next.color_by =
        set.value("color_by", std::string("value")) == "groups" ? ColorBy::Groups : ColorBy::Value;
    const std::string view = set.value("view", std::string("isometric"));
    next.preset = view == "front" ? ViewPreset::Front
                  : view == "top" ? ViewPreset::Top
                                  : ViewPreset::Isometric;
    if (set.contains("theme"))
      next.theme = set["theme"].get<std::string>() == "light" ? Theme::Light : Theme::Dark;
    next.pinned.reset();
    next.hovered.reset();
    if (set.contains("hover"))
      next.pinned = CubeRef{Section::Input, flatIndex(listText(set["hover"]), next.x.shape)};
    next.stepper.active = set.value("stepper", false);
    next.stepper.stage = set.contains("stage") ? std::to_string(set["stage"].get<int>()) : "";
    next.stepper.lane = set.value("lane", -1);
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
