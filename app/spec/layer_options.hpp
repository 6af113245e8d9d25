// The layer and its input as the command line spells them (LayerOptions), and turning them into a
// validated input, config, parameters and plan (loadLayer). No GUI and no command-line parser here:
// the app, the command line, lessons and the settings file all build a LayerOptions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
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

// "0.1" or "none" (a cumulative average): BatchNorm's momentum. Throws NormError when it is neither
// a number nor none (ReductionPlan::make checks the range).
std::optional<double> parseMomentum(const std::string& text);

// Parses "n,c,h,w" into the flat index of that element of `shape`. Throws NormError naming the bad
// part: a token that is not an integer, the wrong count, an index outside its dim.
int64_t parseHover(const std::string& text, const Shape& shape);

// Reads the layer keys of a JSON object (a settings file's "layer", a lesson step's "set"): norm,
// groups, normalized_shape, axes, eval, momentum, shape, init, seed. Other keys are left to the
// caller; a key of the wrong type or range is a NormError naming it. Starts from `base`.
LayerOptions layerOptionsFromJson(const nlohmann::json& object, LayerOptions base = {});
// Those keys of `options`, as layerOptionsFromJson reads them back.
nlohmann::json layerOptionsJson(const LayerOptions& options);

}  // namespace normviz
