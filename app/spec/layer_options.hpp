// The layer and its input as the command line spells them (LayerOptions), and turning them into a
// validated input, config, parameters and plan (loadLayer). No GUI and no command-line parser here:
// the app, the command line, lessons and the settings file all build a LayerOptions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "normviz/engine.hpp"
#include "normviz/plan.hpp"
#include "normviz/tensor.hpp"

namespace normviz {

// A layer and its input, typed: what --norm ... --seed say once parsed (view_spec.hpp names each
// field and parses it). Values that depend on each other (groups dividing C, a normalized_shape
// that ends the shape) are checked by loadLayer.
struct LayerOptions {
  NormKind norm = NormKind::Group;
  int64_t groups = 2;
  std::vector<int64_t> normalized_shape;  // empty: the last dim
  std::vector<int> axes;                  // custom
  double eps = 1e-5;
  std::optional<double> momentum = 0.1;  // nullopt: the cumulative average
  int64_t num_batches_tracked = 0;       // batches seen before (a captured layer's; not a flag)
  bool eval = false;
  // Tensor files as PATH[:NAME]: .npy, or an array of an .npz or .safetensors (tensor_file.hpp).
  std::string running_mean, running_var, weight, bias;
  std::string input;                      // overrides shape and init
  std::vector<std::string> input_images;  // photos as a batch (image_input.hpp); overrides too
  std::optional<std::pair<int64_t, int64_t>> resize;  // (height, width) for input_images
  Shape shape{3, 4, 2, 2};
  std::string init = "worked-example";
  uint64_t seed = 0;
  int64_t max_elements = kDefaultMaxElements;
  bool operator==(const LayerOptions&) const = default;
};

// What the options describe, validated: input, config, parameters, and the plan.
struct LoadedLayer {
  Tensor x;
  NormConfig config;
  NormParams params;
  ReductionPlan plan;
  // One line per file whose values were converted to float32, for the user: "--weight: m.npz:w
  // is bfloat16, widened to float32 exactly".
  std::vector<std::string> notes;
};
// Throws NormError naming the bad flag or file.
LoadedLayer loadLayer(const LayerOptions& options);
// The layer's configuration alone (no input read or made): for a plan of another shape.
NormConfig configOf(const LayerOptions& options);

// Reads the tensor file a flag names (PATH[:NAME], tensor_file.hpp) as float32, refusing more than
// max_elements before allocating; a conversion (float16, bfloat16, float64) adds its line, flag
// first, to `notes`. Throws NormError naming the flag and the file.
Tensor readTensorFlag(const std::string& spec, const char* flag, int64_t max_elements,
                      std::vector<std::string>& notes);

// Synthetic inputs: randn, uniform, arange, constant, worked-example (needs shape (3,4,2,2)),
// large-offset (mean 100, std 0.01), outlier-features (randn with a few feature dims of the last
// axis 20..100× larger, as in large language models' activations). Throws NormError on an unknown
// name.
Tensor makeInput(const Shape& shape, const std::string& init, uint64_t seed);
inline constexpr const char* kInitNames =
    "randn|uniform|arange|constant|worked-example|large-offset|outlier-features";
// Throws NormError unless `name` is one of kInitNames.
void checkInitName(const std::string& name);

// A generated dy for the backward: randn (seeded with seed + 1, so that it differs from a randn
// input of the same seed), ones, arange. Throws NormError on an unknown name.
Tensor makeGradOutput(const Shape& shape, const std::string& init, uint64_t seed);
inline constexpr const char* kGradInitNames = "randn|ones|arange";
// Throws NormError unless `name` is one of kGradInitNames.
void checkGradInitName(const std::string& name);

// "0.1" or "none" (a cumulative average): BatchNorm's momentum. Throws NormError when it is neither
// a number nor none (ReductionPlan::make checks the range).
std::optional<double> parseMomentum(const std::string& text);

// The flat (row-major) index of the element at `index` in `shape`. Throws NormError naming the
// problem: the wrong count, an index outside its dim.
int64_t flatIndex(const std::vector<int64_t>& index, const Shape& shape);
// The index of flat element `flat` of `shape`, one entry per dim.
std::vector<int64_t> indexOf(int64_t flat, const Shape& shape);
// Parses "n,c,h,w" into the flat index of that element of `shape` (flatIndex), naming a token
// that is not an integer too.
int64_t parseHover(const std::string& text, const Shape& shape);

}  // namespace normviz
