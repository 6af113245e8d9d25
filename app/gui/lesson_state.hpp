// Lessons in the app's state: open a lesson at a step (its settings applied through the same paths
// as the command line), answer its questions, keep the score. No window here: tests drive it.
#pragma once

#include <string>

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

// "normviz --lesson basics --step 2": the command line that reopens the current view.
std::string commandLineOf(const AppState& state);

}  // namespace normviz
