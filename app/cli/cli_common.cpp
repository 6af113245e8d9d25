// Shared command-line plumbing: the layer/data flags, loading them into a plan, and subcommand
// dispatch.
#include <map>

#include "cli.hpp"
#include "normviz/error.hpp"
#include "normviz/npy.hpp"

namespace normviz {

void addLayerOptions(CLI::App& cmd, LayerOptions& o) {
  cmd.add_option("--norm", o.norm, "Layer: batch|layer|instance|group|layer2d|rms|custom")
      ->capture_default_str();
  cmd.add_option("--groups", o.groups, "GroupNorm: number of groups G (must divide C)")
      ->capture_default_str();
  cmd.add_option("--normalized-shape", o.normalized_shape,
                 "LayerNorm/RMSNorm: trailing dims, e.g. 4,2,2 (default: the last dim)");
  cmd.add_option("--axes", o.axes, "custom: the axes to reduce, e.g. 0,2,3");
  cmd.add_option("--eps", o.eps, "eps added to the variance")->capture_default_str();
  cmd.add_option("--momentum", o.momentum,
                 "BatchNorm: momentum, or 'none' for a cumulative average")
      ->capture_default_str();
  cmd.add_flag("--eval", o.eval, "BatchNorm: evaluation mode (normalize with running statistics)");
  cmd.add_option("--running-mean", o.running_mean, "BatchNorm: running_mean .npy (C)");
  cmd.add_option("--running-var", o.running_var, "BatchNorm: running_var .npy (C)");
  cmd.add_option("--weight", o.weight, "affine weight .npy");
  cmd.add_option("--bias", o.bias, "affine bias .npy");
  cmd.add_option("--input", o.input, "input tensor .npy (float32 or float64, C order)");
  cmd.add_option("--shape", o.shape, "input shape when generated, e.g. 3,4,2,2")
      ->capture_default_str();
  cmd.add_option("--init", o.init, std::string("generated input: ") + kInitNames)
      ->capture_default_str();
  cmd.add_option("--seed", o.seed, "random seed for randn/uniform/large-offset")
      ->capture_default_str();
  cmd.add_option("--max-elements", o.max_elements, "refuse tensors larger than this")
      ->capture_default_str();
}

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
