// normviz entry point: a subcommand (compute, trace, bench) runs headless; no subcommand opens the app.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cli.hpp"
#include "cli_bench.hpp"
#include "cli_trace.hpp"

int main(int argc, char** argv) {
  CLI::App cli{"normviz: see how normalization layers reduce a tensor"};
  cli.require_subcommand(0, 1);
  normviz::addComputeCommand(cli);
  normviz::addBenchCommand(cli);
  normviz::addTraceCommand(cli);
  normviz::addLessonsCommand(cli);
  normviz::addAppOptions(cli);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  return normviz::runSelected(cli);
}
