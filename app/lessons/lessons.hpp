// Lessons as data: a guided path through the norms, one JSON file per lesson (assets/lessons/,
// embedded at build time; --lesson-file loads another). A step sets any part of the app's state and
// shows a short text; it may ask a question. No GUI here: the command line lists lessons with it.
//
// A lesson file:
//   {"name": "groupnorm", "title": "GroupNorm: the bridge", "steps": [
//     {"text": "...", "set": {"norm": "group", "groups": 2, "shape": "2,4,3,3", "hover":
//     "0,1,0,0"},
//      "expect_lit": 18,
//      "question": {"kind": "choice", "prompt": "...", "options": ["a", "b"], "answer": 1}}]}
// Settings carry over from step to step; "set" keys: see kLessonSetKeys. Questions: "choice"
// (answer: the option's index), "number" (answer: the number), "select" (click every cube that
// shares the pinned cube's mean; the answer is the plan's group). While a question is open nothing
// on screen gives its answer away; "predict": true also keeps the lit group dark until it is
// answered. A number question may say what its answer counts, so that `normviz lessons --check`
// can verify it: "answer_is": "means" or "group_size", of the step's layer, or of the layer with
// the settings in "for" on top ({"shape": "8,1024,768", "normalized_shape": "768"}).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace normviz {

struct LessonQuestion {
  enum class Kind { Choice, Number, Select };
  Kind kind = Kind::Choice;
  std::string prompt;
  std::vector<std::string> options;  // Choice
  int64_t answer = 0;                // Choice: option index; Number: the number
  bool predict = false;              // the lit group stays dark until the answer is right
  std::string answer_is;             // Number: "", "means" or "group_size" (checked by --check)
  nlohmann::json answer_for = nlohmann::json::object();  // settings on top of the step's for it
};

struct LessonStep {
  std::string text;
  nlohmann::json set = nlohmann::json::object();
  std::optional<LessonQuestion> question;
  std::optional<int64_t> expect_lit;  // cubes of x lit at this step (checked by the tests)
  int line = 0;                       // where the step starts in its file
};

struct Lesson {
  std::string name, title, file;
  std::vector<LessonStep> steps;
  int questions() const;
};

// The keys a step's "set" may hold, with the JSON type each takes.
// The keys a step's "set" may hold: every field of the view spec (view_spec.hpp) in its JSON
// spelling, but the lesson's own (lesson, lesson_file, step, presenter).
inline constexpr const char* kLessonSetKeys =
    "norm, groups, normalized_shape, axes, eps, eval, momentum, affine, shape, init, seed, ... "
    "(layer and data); hover, layout, display, explode, color_by, view, theme, colormap, backward, "
    "grad_init, variance, backend, stepper, stage, lane, ... (view): every flag of normviz --help "
    "that sets the view, with _ for -";

// Parses and validates one lesson. Throws NormError "FILE:LINE: problem" for malformed JSON, a
// missing or mistyped field, an unknown key or question kind.
Lesson parseLesson(const std::string& text, const std::string& file);
// Reads and parses a lesson file (errors name the file).
Lesson loadLessonFile(const std::string& path);
// The built-in lessons, in order.
const std::vector<Lesson>& builtinLessons();
// The settings in force at step `step` (0-based): every step's "set" up to it, later keys winning.
nlohmann::json settingsAt(const Lesson& lesson, int step);

namespace embedded {
struct EmbeddedLesson {
  const char* file;
  const char* text;
};
}  // namespace embedded

}  // namespace normviz
