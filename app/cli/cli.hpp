// The command line: layer/data options shared by every subcommand and the app, and the subcommands.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "normviz/engine.hpp"
#include "normviz/plan.hpp"
#include "normviz/tensor.hpp"

namespace normviz {

// The flags that choose a layer and its input, as `normviz compute` and the app take them.
struct LayerOptions {
  std::string norm = "group";
  int64_t groups = 2;
  std::string normalized_shape;  // "4,2,2"; empty = the last dim
  std::string axes;              // custom: "0,2,3"
  double eps = 1e-5;
  std::string momentum = "0.1";  // a number, or "none" for the cumulative average
  bool eval = false;
  std::string running_mean, running_var, weight, bias;  // .npy paths
  std::string input;                                    // .npy path; overrides --shape/--init
  std::string shape = "3,4,2,2";
  std::string init = "worked-example";
  uint64_t seed = 0;
  int64_t max_elements = kDefaultMaxElements;
};
void addLayerOptions(CLI::App& cmd, LayerOptions& options);

// What the options describe, validated: input, config, parameters, and the plan.
struct LoadedLayer {
  Tensor x;
  NormConfig config;
  NormParams params;
  ReductionPlan plan;
};
// Throws NormError naming the bad flag or file.
LoadedLayer loadLayer(const LayerOptions& options);

// Synthetic inputs: randn, uniform, arange, constant, worked-example (needs shape (3,4,2,2)),
// large-offset (mean 100, std 0.01). Throws NormError on an unknown name.
Tensor makeInput(const Shape& shape, const std::string& init, uint64_t seed);
inline constexpr const char* kInitNames = "randn|uniform|arange|constant|worked-example|large-offset";

// A generated dy for the backward: randn (seeded with seed + 1, so that it differs from a randn
// input of the same seed), ones, arange. Throws NormError on an unknown name.
Tensor makeGradOutput(const Shape& shape, const std::string& init, uint64_t seed);
inline constexpr const char* kGradInitNames = "randn|ones|arange";

// Subcommands register a runner; runSelected calls the one the user chose.
void registerCommand(CLI::App* sub, std::function<int()> run);
int runSelected(CLI::App& cli);

void addComputeCommand(CLI::App& cli);  // cli_compute.cpp
void addLessonsCommand(CLI::App& cli);  // cli_lessons.cpp
// Top-level options when no subcommand is given: open the app (or, without the GUI, a demo).
// Implemented by the app (app/gui_main.cpp) or, without NORMVIZ_BUILD_APP, by app/headless_main.cpp.
void addAppOptions(CLI::App& cli);

}  // namespace normviz
