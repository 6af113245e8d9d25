// `normviz lessons`: the built-in lessons (and any --lesson-file) with their step counts.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "lessons.hpp"
#include "normviz/error.hpp"

namespace normviz {

void addLessonsCommand(CLI::App& cli) {
  struct Flags {
    bool json = false;
    std::vector<std::string> files;
  };
  static Flags flags;
  CLI::App* cmd = cli.add_subcommand("lessons", "list the lessons: name, title, steps");
  cmd->add_flag("--json", flags.json, "print {\"lessons\": [{\"name\", \"title\", \"steps\"}]}");
  cmd->add_option("--lesson-file", flags.files, "also check and list this lesson file");
  registerCommand(cmd, [] {
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
