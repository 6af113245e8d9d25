// `normviz lessons`: the built-in lessons (and any --lesson-file) with their step counts; --check
// validates lesson files without opening the app.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli.hpp"
#include "lessons.hpp"
#include "normviz/error.hpp"
#ifdef NORMVIZ_LESSON_CHECK
#include "lesson_state.hpp"
#endif

namespace normviz {

namespace {

// "1 question", "3 questions".
std::string counted(size_t n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

// Checks each lesson; prints every problem as FILE:LINE: ... and a line per lesson. Returns the
// exit status: 0 when all hold, 1 when any has a problem, 2 when the steps could not be applied.
int checkLessons(const std::vector<std::string>& files, bool builtin) {
  std::vector<Lesson> lessons;
  int status = 0;
  if (builtin) lessons = builtinLessons();
  for (const std::string& file : files) {
    try {
      lessons.push_back(loadLessonFile(file));
    } catch (const NormError& e) {
      std::fprintf(stderr, "%s\n", e.what());
      status = 1;
    }
  }
  for (const Lesson& lesson : lessons) {
#ifdef NORMVIZ_LESSON_CHECK
    const std::vector<std::string> problems = checkLesson(lesson);
    for (const std::string& p : problems) std::fprintf(stderr, "%s\n", p.c_str());
    if (!problems.empty()) status = 1;
    std::printf("%s: %s, %s: %s\n", lesson.file.c_str(),
                counted(lesson.steps.size(), "step").c_str(),
                counted(static_cast<size_t>(lesson.questions()), "question").c_str(),
                problems.empty() ? "every step applies, lights what it says and answers right"
                                 : counted(problems.size(), "problem").c_str());
#else
    std::printf(
        "%s: %s, %s: the file is well formed, but its steps were not applied (this "
        "normviz is built without the app, NORMVIZ_BUILD_APP=OFF)\n",
        lesson.file.c_str(), counted(lesson.steps.size(), "step").c_str(),
        counted(static_cast<size_t>(lesson.questions()), "question").c_str());
    if (status == 0) status = 2;
#endif
  }
  return status;
}

}  // namespace

void addLessonsCommand(CLI::App& cli) {
  struct Flags {
    bool json = false, check_builtin = false;
    std::vector<std::string> files, check;
  };
  static Flags flags;
  CLI::App* cmd = cli.add_subcommand("lessons", "list the lessons: name, title, steps");
  cmd->add_flag("--json", flags.json, "print {\"lessons\": [{\"name\", \"title\", \"steps\"}]}");
  cmd->add_option("--lesson-file", flags.files, "also check and list this lesson file");
  cmd->add_option("--check", flags.check,
                  "apply every step of these lesson files as the app would, check each "
                  "expect_lit and answer_is; print FILE:LINE: problem; exit 1 on any problem");
  cmd->add_flag("--check-builtin", flags.check_builtin, "the same for the built-in lessons");
  registerCommand(cmd, [] {
    if (!flags.check.empty() || flags.check_builtin)
      return checkLessons(flags.check, flags.check_builtin);
    std::vector<Lesson> lessons = builtinLessons();
    for (const std::string& file : flags.files) lessons.push_back(loadLessonFile(file));
    if (flags.json) {
      nlohmann::json out = {{"lessons", nlohmann::json::array()}};
      for (const Lesson& l : lessons)
        out["lessons"].push_back({{"name", l.name},
                                  {"title", l.title},
                                  {"steps", l.steps.size()},
                                  {"questions", l.questions()}});
      std::printf("%s\n", out.dump(2).c_str());
      return 0;
    }
    for (const Lesson& l : lessons)
      std::printf("%-16s %2zu steps  %s\n", l.name.c_str(), l.steps.size(), l.title.c_str());
    std::printf("open one: normviz --lesson NAME [--step K]; presenter mode: F5 in the app\n");
    return 0;
  });
}

}  // namespace normviz
