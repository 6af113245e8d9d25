// Shared command-line plumbing: the layer/data flags, loading them into a plan, and subcommand
// dispatch.
#include <cmath>
#include <map>
#include <random>

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

// The worked example of tests/fixtures/worked-example.json (3,4,2,2), row-major.
static constexpr float kWorkedExample[48] = {1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0,
                                             2, 2, 0, 0, 2, 0, 1, 1, 1, 0, 0, 2, 2, 1, 1, 0,
                                             3, 1, 2, 2, 3, 0, 0, 2, 2, 3, 1, 2, 3, 3, 2, 1};

Tensor makeInput(const Shape& shape, const std::string& init, uint64_t seed) {
  Tensor t(shape);
  std::mt19937_64 rng(seed);
  if (init == "randn") {
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (float& v : t.data) v = dist(rng);
  } else if (init == "uniform") {
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (float& v : t.data) v = dist(rng);
  } else if (init == "arange") {
    for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = static_cast<float>(i);
  } else if (init == "constant") {
    for (float& v : t.data) v = 1.0f;
  } else if (init == "large-offset") {
    // docs/NORMS.md's cancellation demo: mean 100, std 0.01.
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (float& v : t.data) v = 100.0f + 0.01f * dist(rng);
  } else if (init == "worked-example") {
    if (!(shape == Shape{3, 4, 2, 2}))
      throw NormError("--init worked-example needs --shape 3,4,2,2, got " + shape.str());
    t.data.assign(std::begin(kWorkedExample), std::end(kWorkedExample));
  } else {
    throw NormError("unknown --init '" + init + "'; expected " + kInitNames);
  }
  return t;
}

Tensor makeGradOutput(const Shape& shape, const std::string& init, uint64_t seed) {
  if (init == "randn") return makeInput(shape, "randn", seed + 1);
  if (init == "ones") return makeInput(shape, "constant", seed);
  if (init == "arange") return makeInput(shape, "arange", seed);
  throw NormError("unknown --grad-init '" + init + "'; expected " + kGradInitNames);
}

static std::optional<Tensor> loadOptional(const std::string& path, const char* flag) {
  if (path.empty()) return std::nullopt;
  try {
    return readNpyF32(path);
  } catch (const NormError& e) {
    throw NormError(std::string(flag) + ": " + e.what());
  }
}

LoadedLayer loadLayer(const LayerOptions& o) {
  NormConfig config;
  config.kind = parseNormKind(o.norm);
  config.groups = o.groups;
  config.eps = o.eps;
  config.max_elements = o.max_elements;
  if (!o.normalized_shape.empty()) config.normalized_shape = parseShape(o.normalized_shape).dims;
  if (!o.axes.empty()) config.axes = parseAxes(o.axes);
  if (config.kind == NormKind::Custom && o.axes.empty())
    throw NormError("--norm custom needs --axes, e.g. --axes 0,2,3");
  if (o.momentum == "none" || o.momentum == "None") {
    config.momentum = std::nullopt;
  } else {
    try {
      size_t used = 0;
      config.momentum = std::stod(o.momentum, &used);
      if (used != o.momentum.size()) throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
      throw NormError("--momentum '" + o.momentum + "' is not a number or 'none'");
    }
  }
  config.training = !o.eval;
  const bool batch = config.kind == NormKind::Batch;
  if (!batch && (o.eval || !o.running_mean.empty() || !o.running_var.empty()))
    throw NormError("--eval, --running-mean and --running-var apply to --norm batch only");

  Tensor x;
  if (!o.input.empty()) {
    NpyLimits limits;
    limits.max_elements = o.max_elements;
    try {
      x = readNpyF32(o.input, limits);
    } catch (const NormError& e) {
      throw NormError(std::string("--input: ") + e.what());
    }
  } else {
    Shape shape = parseShape(o.shape);
    ReductionPlan::make(shape, config);  // validate size and layer before allocating the input
    x = makeInput(shape, o.init, o.seed);
  }
  ReductionPlan plan = ReductionPlan::make(x.shape, config);
  NormParams params;
  params.weight = loadOptional(o.weight, "--weight");
  params.bias = loadOptional(o.bias, "--bias");
  params.running_mean = loadOptional(o.running_mean, "--running-mean");
  params.running_var = loadOptional(o.running_var, "--running-var");
  validateParams(plan, params);
  return {std::move(x), config, std::move(params), std::move(plan)};
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
