// The command line: layer/data options shared by every subcommand and the app, and the subcommands.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "layer_options.hpp"
#include "normviz/engine.hpp"
#include "normviz/plan.hpp"
#include "normviz/tensor.hpp"
#include "spec_args.hpp"

namespace normviz {

// Subcommands register a runner; runSelected calls the one the user chose.
void registerCommand(CLI::App* sub, std::function<int()> run);
int runSelected(CLI::App& cli);

void addComputeCommand(CLI::App& cli);  // cli_compute.cpp
void addLessonsCommand(CLI::App& cli);  // cli_lessons.cpp
// Top-level options when no subcommand is given: open the app (or, without the GUI, a demo).
// Implemented by the app (app/gui_main.cpp) or, without NORMVIZ_BUILD_APP, by
// app/headless_main.cpp.
void addAppOptions(CLI::App& cli);

}  // namespace normviz
