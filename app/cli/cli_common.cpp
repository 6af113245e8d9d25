// Shared command-line plumbing: the layer/data flags, loading them into a plan, and subcommand
// dispatch.
#include <map>

#include "cli.hpp"
#include "normviz/error.hpp"
#include "normviz/npy.hpp"

namespace normviz {

static std::map<const CLI::App*, std::function<int()>>& commands() {
  static std::map<const CLI::App*, std::function<int()>> registry;
  return registry;
}

void registerCommand(CLI::App* sub, std::function<int()> run) {
  commands()[sub] = std::move(run);
}

// Runs a subcommand; an error it throws becomes one line on stderr and exit status 1.
static int runReportingErrors(const std::string& name, const std::function<int()>& run) {
  try {
    return run();
  } catch (const NormError& e) {
    std::fprintf(stderr, "%s: error: %s\n", name.c_str(), e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: error: out of memory\n", name.c_str());
  }
  return 1;
}

int runSelected(CLI::App& cli) {
  for (const CLI::App* sub : cli.get_subcommands())
    if (auto it = commands().find(sub); it != commands().end())
      return runReportingErrors("normviz " + sub->get_name(), it->second);
  if (auto it = commands().find(&cli); it != commands().end())
    return runReportingErrors("normviz", it->second);
  std::fprintf(stderr, "%s\n", cli.help().c_str());
  return 2;
}

}  // namespace normviz
