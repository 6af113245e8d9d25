// `normviz bench`: every CPU path and every GPU kernel design on the headline shapes, as a table or
// JSON.
#pragma once

#include <CLI/CLI.hpp>

namespace normviz {

// Registers the `bench` subcommand on the top-level command line.
void addBenchCommand(CLI::App& cli);

}  // namespace normviz
