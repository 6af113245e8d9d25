// `normviz trace`: step through a kernel's reduction of one group, as text or JSON.
#pragma once

#include <CLI/CLI.hpp>

namespace normviz {

// Registers the `trace` subcommand on the top-level command line.
void addTraceCommand(CLI::App& cli);

}  // namespace normviz
