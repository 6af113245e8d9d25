// Lessons without a window: every built-in lesson parses and every step applies; malformed files
// are reported with file, line and problem; answers are checked and scored.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "app_compute.hpp"
#include "lesson_state.hpp"
#include "lessons.hpp"
#include "lit_region.hpp"
#include "normviz/error.hpp"

using namespace normviz;

namespace {

std::string errorOf(const std::string& text) {
  try {
    parseLesson(text, "my.json");
  } catch (const NormError& e) {
    return e.what();
  }
  return "";
}

AppState freshState() {
  AppState s;
  initFromOptions(s, LayerOptions{});
  recomputeIfChanged(s);
  REQUIRE(s.error.empty());
  return s;
}

}  // namespace

TEST_CASE("built-in lessons: at least ten, each step applies and lights what it says") {
  const auto& lessons = builtinLessons();
  REQUIRE(lessons.size() >= 10);
  int steps = 0;
  for (const Lesson& lesson : lessons) {
    CHECK(lesson.steps.size() >= 2);
    AppState s = freshState();
    REQUIRE(openLesson(s, lesson, 0) == "");
    for (int k = 0; k < static_cast<int>(lesson.steps.size()); ++k) {
      INFO(lesson.name << " step " << k + 1);
      REQUIRE(goToStep(s, k) == "");
      CHECK(s.lesson.step == k);
      REQUIRE(s.shown.has_value());
      const LessonStep& step = lesson.steps[static_cast<size_t>(k)];
      if (step.expect_lit)
        if (const auto lit = litCount(s)) CHECK(*lit == *step.expect_lit);
      ++steps;
    }
    // What `normviz lessons --check` reports: nothing, for a built-in lesson.
    CHECK(checkLesson(lesson) == std::vector<std::string>{});
  }
  CHECK(steps >= 30);
}

TEST_CASE(
    "every built-in lesson is a class segment: five steps or more, a question, a prediction") {
  REQUIRE(builtinLessons().size() >= 12);
  for (const Lesson& lesson : builtinLessons()) {
    INFO(lesson.name);
    CHECK(lesson.steps.size() >= 5);
    CHECK(lesson.questions() >= 1);
    // Predict, then reveal: a question that keeps the lit group dark until it is answered, or one
    // asked before the next step changes what is shown.
    bool predicts = false;
    for (size_t k = 0; k < lesson.steps.size(); ++k) {
      const auto& q = lesson.steps[k].question;
      if (!q) continue;
      const bool dark = q->predict || q->kind == LessonQuestion::Kind::Select;
      const bool revealed = k + 1 < lesson.steps.size() && !lesson.steps[k + 1].set.empty();
      predicts = predicts || dark || revealed;
    }
    CHECK(predicts);
  }
}

TEST_CASE(
    "the check finds a planted wrong answer, a wrong expect_lit and a select without a mark") {
  const Lesson planted = parseLesson(
      "{\"name\": \"planted\", \"title\": \"t\", \"steps\": [\n"
      " {\"text\": \"GroupNorm(2) on (2,4,3,3)\", \"set\": {\"norm\": \"group\", \"groups\": 2, "
      "\"shape\": \"2,4,3,3\", \"init\": \"randn\", \"hover\": \"0,0,0,0\"}, \"expect_lit\": 18},\n"
      " {\"text\": \"wrong lit\", \"expect_lit\": 9},\n"
      " {\"text\": \"right count\", \"question\": {\"kind\": \"number\", \"prompt\": \"?\", "
      "\"answer\": 4, \"answer_is\": \"means\"}},\n"
      " {\"text\": \"wrong count\", \"question\": {\"kind\": \"number\", \"prompt\": \"?\", "
      "\"answer\": 768, \"answer_is\": \"means\", \"for\": {\"norm\": \"layer\", "
      "\"normalized_shape\": \"768\", \"shape\": \"8,1024,768\"}}},\n"
      " {\"text\": \"no mark\", \"set\": {\"hover\": \"none\"}, \"question\": {\"kind\": "
      "\"select\", "
      "\"prompt\": \"click\"}},\n"
      " {\"text\": \"predict\", \"set\": {\"hover\": \"1,3,2,2\"}, \"expect_lit\": 18, "
      "\"question\": {\"kind\": \"number\", \"prompt\": \"?\", \"answer\": 18, \"answer_is\": "
      "\"group_size\", \"predict\": true}}\n"
      "]}",
      "planted.json");
  const std::vector<std::string> problems = checkLesson(planted);
  REQUIRE(problems.size() == 4);
  CHECK(problems[0] == "planted.json:3: step 2: expect_lit is 9 but 18 cubes are lit");
  CHECK(problems[1] == "planted.json:5: step 4: the answer is 768 but the layer has 8192 means");
  CHECK(problems[2].find("planted.json:6: step 5: a select question needs a marked cube") == 0);
  // A predict question keeps the group dark until it is answered: 0 lit, not 18.
  CHECK(problems[3] == "planted.json:7: step 6: expect_lit is 18 but 0 cubes are lit");
}

TEST_CASE("while a question is open its answer waits; a predict question keeps the group dark") {
  const Lesson lesson = parseLesson(
      "{\"name\": \"p\", \"title\": \"t\", \"steps\": [\n"
      " {\"text\": \"a\", \"set\": {\"norm\": \"instance\", \"shape\": \"2,3,2,2\", "
      "\"init\": \"randn\", \"hover\": \"0,1,0,0\"}, \"question\": {\"kind\": \"number\", "
      "\"prompt\": \"?\", \"answer\": 4}},\n"
      " {\"text\": \"b\", \"question\": {\"kind\": \"number\", \"prompt\": \"?\", \"answer\": 6, "
      "\"predict\": true}}]}",
      "p.json");
  AppState s = freshState();
  REQUIRE(openLesson(s, lesson, 0) == "");
  CHECK(s.lesson.questionOpen());
  CHECK_FALSE(litHidden(s));  // a plain question: the picture is the evidence
  CHECK(litCount(s) == 4);
  answerNumber(s, 4);
  CHECK_FALSE(s.lesson.questionOpen());
  REQUIRE(goToStep(s, 1) == "");
  CHECK(litHidden(s));
  CHECK(litCount(s) == 0);
  answerNumber(s, 5);
  CHECK(litHidden(s));  // still dark after a wrong answer
  answerNumber(s, 6);
  CHECK_FALSE(litHidden(s));
  CHECK(litCount(s) == 4);
  CHECK(errorOf(
            "{\"name\": \"x\", \"title\": \"t\", \"steps\": [{\"text\": \"a\", \"question\": "
            "{\"kind\": \"number\", \"prompt\": \"?\", \"answer\": 1, \"answer_is\": \"rows\"}}]}")
            .find("\"answer_is\" is \"means\" or \"group_size\"") != std::string::npos);
  CHECK(errorOf("{\"name\": \"x\", \"title\": \"t\", \"steps\": [{\"text\": \"a\", \"question\": "
                "{\"kind\": \"number\", \"prompt\": \"?\", \"answer\": 1, \"hint\": \"no\"}}]}")
            .find("unknown question key \"hint\"") != std::string::npos);
}

TEST_CASE("malformed lesson files: the message names the file, the line and the problem") {
  CHECK(errorOf("{\"name\": \"x\",\n \"title\": \"t\",\n \"steps\": [\n  {\"text\": \"a\",}\n]}")
            .find("my.json:4: not valid JSON") == 0);
  const std::string two_steps =
      "{\"name\": \"x\", \"title\": \"t\", \"steps\": [\n"
      "  {\"text\": \"one\"},\n"
      "  {\"text\": \"two\", \"set\": {\"norm\": \"group\", \"colour\": \"red\"}}\n"
      "]}";
  const std::string unknown = errorOf(two_steps);
  CHECK(unknown.find("my.json:3: step 2: unknown setting \"colour\"") == 0);
  CHECK(errorOf("{\"name\": \"x\", \"title\": \"t\", \"steps\": [\n {\"text\": \"a\", \"set\": "
                "{\"groups\": \"two\"}}]}")
            .find("my.json:2: step 1: \"groups\" has the wrong type (a number)") == 0);
  CHECK(errorOf("{\"name\": \"x\", \"title\": \"t\", \"steps\": [{\"text\": \"a\", \"question\": "
                "{\"kind\": \"choice\", \"prompt\": \"?\", \"options\": [\"a\", \"b\"], "
                "\"answer\": 2}}]}")
            .find("\"answer\" must be the index of an option") != std::string::npos);
  CHECK(errorOf("{\"name\": \"x\", \"title\": \"t\", \"steps\": []}").find("non-empty array") !=
        std::string::npos);
  CHECK(errorOf("{\"name\": \"two words\", \"title\": \"t\", \"steps\": [{\"text\": \"a\"}]}")
            .find("letters, digits") != std::string::npos);
  CHECK(errorOf("{\"name\": \"x\", \"title\": \"t\", \"steps\": [{\"text\": \"a\", \"question\": "
                "{\"kind\": \"essay\", \"prompt\": \"?\"}}]}")
            .find("unknown question kind \"essay\"") != std::string::npos);
}

TEST_CASE("a step that cannot be applied leaves the last good state and says why") {
  const Lesson bad = parseLesson(
      "{\"name\": \"bad\", \"title\": \"t\", \"steps\": [\n"
      " {\"text\": \"fine\", \"set\": {\"norm\": \"group\", \"groups\": 2, \"shape\": \"2,4,2,2\", "
      "\"init\": \"randn\"}},\n"
      " {\"text\": \"3 groups of 4 channels\", \"set\": {\"groups\": 3}}]}",
      "bad.json");
  AppState s = freshState();
  REQUIRE(openLesson(s, bad, 0) == "");
  const uint64_t version = s.result_version;
  const std::string error = goToStep(s, 1);
  CHECK(error.find("bad.json: step 2:") == 0);
  CHECK(s.lesson.step == 0);
  CHECK(s.result_version == version);
  CHECK(s.shown->plan.groupCount() == 4);
}

TEST_CASE("questions: right and wrong answers, the selection's misses and extras, the score") {
  const Lesson* batch = nullptr;
  for (const Lesson& l : builtinLessons())
    if (l.name == "batchnorm") batch = &l;
  REQUIRE(batch != nullptr);
  AppState s = freshState();
  REQUIRE(openLesson(s, *batch, 1) == "");  // the "click every cube" step
  CHECK(litHidden(s));
  REQUIRE(s.pinned.has_value());
  const ReductionPlan& plan = s.shown->plan;
  const int64_t group = plan.groupOf(s.pinned->index);
  // Select all but one of the group, plus one cube of another channel.
  int64_t left_out = -1;
  for (int64_t flat : plan.elementsOf(group)) {
    if (left_out < 0) {
      left_out = flat;
      continue;
    }
    toggleSelection(s, flat);
  }
  int64_t other = 0;
  while (plan.groupOf(other) == group) ++other;
  toggleSelection(s, other);
  checkSelection(s);
  CHECK_FALSE(s.lesson.answered);
  CHECK(s.lesson.misses == std::vector<int64_t>{left_out});
  CHECK(s.lesson.extras == std::vector<int64_t>{other});
  CHECK(litHidden(s));
  toggleSelection(s, left_out);
  toggleSelection(s, other);
  checkSelection(s);
  CHECK(s.lesson.answered);
  CHECK_FALSE(litHidden(s));        // answered: the group lights up
  CHECK(s.lesson.outcome[1] == 2);  // right, but not the first time

  REQUIRE(goToStep(s, 3) == "");  // a choice question: answer 1
  answerChoice(s, 0);
  CHECK_FALSE(s.lesson.answered);
  CHECK(s.lesson.feedback.find("Not quite") == 0);
  answerChoice(s, 1);
  CHECK(s.lesson.answered);
  CHECK(s.lesson.score() == 0);  // neither question right the first time
  CHECK(s.lesson.questions() == 2);

  const Lesson* basics = &builtinLessons().front();
  REQUIRE(openLesson(s, *basics, 3) == "");  // how many means: 3
  answerNumber(s, 3);
  CHECK(s.lesson.answered);
  CHECK(s.lesson.score() == 1);
  CHECK(commandLineOf(s) == "normviz --lesson basics --step 4");
}

TEST_CASE("copy command: the command line reproduces the view") {
  AppState s = freshState();
  s.config.kind = NormKind::Batch;
  s.config.training = false;
  s.inputs_changed = true;
  recomputeIfChanged(s);
  s.pinned = CubeRef{Section::Input, 21};
  s.layout = LayoutMode::Compare;
  // Fields at their defaults (the shape and data here) are left out: the command reads them back.
  CHECK(commandLineOf(s) == "normviz --norm batch --eval --hover 1,1,0,1 --layout compare");
}
