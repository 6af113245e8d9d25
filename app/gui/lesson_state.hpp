// Lessons in the app's state: open a lesson at a step (its settings applied through the same paths
// as the command line), answer its questions, keep the score. No window here: tests drive it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app_state.hpp"

namespace normviz {

// Opens `lesson` at `step` (0-based). Returns "" or why the step could not be applied (then the
// last good state stays and the lesson stays open at its previous step).
std::string openLesson(AppState& state, const Lesson& lesson, int step);
// Moves to another step of the open lesson (clamped); "" or the reason it failed.
std::string goToStep(AppState& state, int step);
void closeLesson(AppState& state);

// Answers the current step's question. Choice: the option's index; number: the value.
void answerChoice(AppState& state, int option);
void answerNumber(AppState& state, int64_t value);
// Select questions: toggles a cube of x in the selection; check compares it with the group of the
// marked (pinned) cube and lists the misses and extras.
void toggleSelection(AppState& state, int64_t flat);
void checkSelection(AppState& state);

// The elements of x lit now, as a step's "expect_lit" counts them: the marked element's group (or
// the element alone, for the backward in evaluation; in the compare layout, the group in the first
// panel; with the kernel stepper, the traced group), 0 when nothing is marked or a question keeps
// the lit group dark. nullopt before the first result.
std::optional<int64_t> litCount(const AppState& state);

// Applies every step of `lesson` to a fresh state and lists each problem as "FILE:LINE: step K:
// problem": a step that does not apply, an expect_lit that does not hold, a number question whose
// answer is not what its "answer_is" counts, a select question without a marked cube.
std::vector<std::string> checkLesson(const Lesson& lesson);

// "normviz --lesson basics --step 2": the command line that reopens the current view.
std::string commandLineOf(const AppState& state);

}  // namespace normviz
