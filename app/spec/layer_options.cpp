// Generated inputs and loading a layer from LayerOptions: validation before any allocation.
#include "layer_options.hpp"

#include <algorithm>
#include <limits>
#include <random>

#include "image_input.hpp"
#include "json_fields.hpp"
#include "normviz/error.hpp"
#include "normviz/tensor_file.hpp"

namespace normviz {

// The worked example of tests/fixtures/worked-example.json (3,4,2,2), row-major.
static constexpr float kWorkedExample[48] = {1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0,
                                             2, 2, 0, 0, 2, 0, 1, 1, 1, 0, 0, 2, 2, 1, 1, 0,
                                             3, 1, 2, 2, 3, 0, 0, 2, 2, 3, 1, 2, 3, 3, 2, 1};

// Whether `name` is one of the '|'-separated `names`.
static bool oneOf(std::string_view names, std::string_view name) {
  while (!names.empty()) {
    const size_t bar = names.find('|');
    if (names.substr(0, bar) == name) return true;
    names = bar == std::string_view::npos ? std::string_view() : names.substr(bar + 1);
  }
  return false;
}

void checkInitName(const std::string& name) {
  if (!oneOf(kInitNames, name))
    throw NormError("unknown --init '" + name + "'; expected " + kInitNames);
}

void checkGradInitName(const std::string& name) {
  if (!oneOf(kGradInitNames, name))
    throw NormError("unknown --grad-init '" + name + "'; expected " + kGradInitNames);
}

// randn activations of (..., D) features with a few outlier feature dims, as large language models
// show them (Dettmers et al. 2022, "LLM.int8()": a handful of the hidden dims, in every token, up
// to ~100× the rest): max(1, D/128) dims, each with its own sign and a magnitude of 20..100 (the
// first 100) in every token, ±10%.
static void fillOutlierFeatures(Tensor& t, std::mt19937_64& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (float& v : t.data) v = dist(rng);
  const int64_t features = t.shape.dims.back();
  const int64_t count = std::max<int64_t>(1, features / 128);
  std::vector<int64_t> dims(static_cast<size_t>(features));
  for (int64_t d = 0; d < features; ++d) dims[static_cast<size_t>(d)] = d;
  std::shuffle(dims.begin(), dims.end(), rng);
  std::uniform_real_distribution<float> magnitude(20.0f, 100.0f);
  for (int64_t k = 0; k < count; ++k) {
    const int64_t d = dims[static_cast<size_t>(k)];
    const float size = (k == 0 ? 100.0f : magnitude(rng)) * (rng() % 2 ? 1.0f : -1.0f);
    for (int64_t i = d; i < t.numel(); i += features) t[i] = size * (1.0f + 0.1f * dist(rng));
  }
}

Tensor makeInput(const Shape& shape, const std::string& init, uint64_t seed) {
  checkInitName(init);
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
  } else if (init == "outlier-features") {
    fillOutlierFeatures(t, rng);
  } else if (init == "worked-example") {
    if (!(shape == Shape{3, 4, 2, 2}))
      throw NormError("--init worked-example needs --shape 3,4,2,2, got " + shape.str());
    t.data.assign(std::begin(kWorkedExample), std::end(kWorkedExample));
  }
  return t;
}

Tensor makeGradOutput(const Shape& shape, const std::string& init, uint64_t seed) {
  checkGradInitName(init);
  if (init == "randn") return makeInput(shape, "randn", seed + 1);
  if (init == "ones") return makeInput(shape, "constant", seed);
  return makeInput(shape, "arange", seed);
}

Tensor readTensorFlag(const std::string& spec, const char* flag, int64_t max_elements,
                      std::vector<std::string>& notes) {
  TensorFileLimits limits;
  limits.max_elements = max_elements;
  try {
    TensorFromFile file;
    if (spec.starts_with(kSamplePrefix)) {  // a tensor file built into the program
      const TensorFileSpec where = splitTensorSpec(spec);
      const std::span<const unsigned char> bytes = sampleFile(where.path);
      file = parseTensorFile(bytes, tensorFileFormat(where.path), where.name, limits, where.path);
    } else {
      file = readTensorFile(spec, limits);
    }
    if (!file.note().empty()) notes.push_back(std::string(flag) + ": " + file.note());
    return std::move(file.tensor);
  } catch (const NormError& e) {
    throw NormError(std::string(flag) + ": " + e.what());
  }
}

// Parameters and running statistics: small, so the reader's own limit applies.
static std::optional<Tensor> loadOptional(const std::string& spec, const char* flag,
                                          std::vector<std::string>& notes) {
  if (spec.empty()) return std::nullopt;
  return readTensorFlag(spec, flag, TensorFileLimits{}.max_elements, notes);
}

NormConfig configOf(const LayerOptions& o) {
  NormConfig config;
  config.kind = o.norm;
  config.groups = o.groups;
  config.eps = o.eps;
  config.max_elements = o.max_elements;
  config.normalized_shape = o.normalized_shape;
  config.axes = o.axes;
  if (config.kind == NormKind::Custom && o.axes.empty())
    throw NormError("--norm custom needs --axes, e.g. --axes 0,2,3");
  config.momentum = o.momentum;
  config.num_batches_tracked = o.num_batches_tracked;
  config.training = !o.eval;
  return config;
}

LoadedLayer loadLayer(const LayerOptions& o) {
  const NormConfig config = configOf(o);
  const bool batch = config.kind == NormKind::Batch;
  if (!batch && (o.eval || !o.running_mean.empty() || !o.running_var.empty()))
    throw NormError("--eval, --running-mean and --running-var apply to --norm batch only");

  Tensor x;
  std::vector<std::string> notes;
  if (!o.input.empty() && !o.input_images.empty())
    throw NormError("give --input or --input-image, not both");
  if (o.resize && o.input_images.empty()) throw NormError("--resize applies to --input-image only");
  if (!o.input_images.empty()) {
    try {
      x = readImages(o.input_images, o.resize, o.max_elements);
    } catch (const NormError& e) {
      throw NormError(std::string("--input-image: ") + e.what());
    }
  } else if (!o.input.empty()) {
    x = readTensorFlag(o.input, "--input", o.max_elements, notes);
  } else {
    ReductionPlan::make(o.shape, config);  // validate size and layer before allocating the input
    x = makeInput(o.shape, o.init, o.seed);
  }
  ReductionPlan plan = ReductionPlan::make(x.shape, config);
  NormParams params;
  params.weight = loadOptional(o.weight, "--weight", notes);
  params.bias = loadOptional(o.bias, "--bias", notes);
  params.running_mean = loadOptional(o.running_mean, "--running-mean", notes);
  params.running_var = loadOptional(o.running_var, "--running-var", notes);
  validateParams(plan, params);
  return {std::move(x), config, std::move(params), std::move(plan), std::move(notes)};
}

std::optional<double> parseMomentum(const std::string& text) {
  if (text == "none" || text == "None") return std::nullopt;
  double m = 0;
  try {
    size_t used = 0;
    m = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    throw NormError("--momentum '" + text + "' is not a number or 'none'");
  }
  return m;  // its range is the plan's to check, as for a momentum given as a number
}

int64_t flatIndex(const std::vector<int64_t>& index, const Shape& shape) {
  auto text = [&] {
    std::string t;
    for (int64_t i : index) t += (t.empty() ? "" : ",") + std::to_string(i);
    return t;
  };
  if (static_cast<int>(index.size()) != shape.rank())
    throw NormError("--hover " + text() + " has " + std::to_string(index.size()) +
                    " indices; the input " + shape.str() + " needs " +
                    std::to_string(shape.rank()));
  int64_t flat = 0;
  for (int a = 0; a < shape.rank(); ++a) {
    const int64_t i = index[static_cast<size_t>(a)];
    if (i < 0 || i >= shape[a])
      throw NormError("--hover " + text() + ": index " + std::to_string(i) + " is outside dim " +
                      std::to_string(a) + " of size " + std::to_string(shape[a]));
    flat = flat * shape[a] + i;
  }
  return flat;
}

std::vector<int64_t> indexOf(int64_t flat, const Shape& shape) {
  std::vector<int64_t> index(static_cast<size_t>(shape.rank()));
  for (int a = shape.rank() - 1; a >= 0; --a) {
    index[static_cast<size_t>(a)] = flat % shape[a];
    flat /= shape[a];
  }
  return index;
}

int64_t parseHover(const std::string& text, const Shape& shape) {
  return flatIndex(parseIntegers(text, "--hover"), shape);
}

}  // namespace normviz
