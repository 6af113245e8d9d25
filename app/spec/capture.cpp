#include "capture.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "json_fields.hpp"
#include "normviz/error.hpp"
#include "normviz/npy.hpp"

namespace normviz {
namespace {

namespace fs = std::filesystem;
constexpr double kHuge = std::numeric_limits<double>::max();

std::vector<int64_t> dimsOf(const nlohmann::json& v, const std::string& field) {
  if (!v.is_array()) throw NormError(field + " must be a list of dims");
  std::vector<int64_t> dims;
  for (const auto& d : v) dims.push_back(jsonInt(d, field, 1, int64_t{1} << 40));
  return dims;
}

// One manifest entry as the options that recompute it; `folder` holds its files.
CapturedLayer layerOf(const nlohmann::json& e, const fs::path& root) {
  CapturedLayer c;
  c.name = jsonString(e.at("name"), "name");
  const std::string where = "layer '" + c.name + "': ";
  try {
    c.type = jsonString(e.at("type"), "type");
    const std::string norm = jsonString(e.at("norm"), "norm");
    const fs::path folder = root / jsonString(e.at("dir"), "dir");
    c.x_shape = Shape(dimsOf(e.at("x_shape"), "x_shape"));
    c.training = jsonBool(e.at("training"), "training");
    LayerOptions& o = c.layer;
    o.eps = jsonNumber(e.at("eps"), "eps", 0.0, kHuge);
    o.max_elements = std::max(o.max_elements, c.x_shape.numel());
    const nlohmann::json& files = e.at("files");
    const auto file = [&](const char* key) {
      return files.contains(key) ? (folder / jsonString(files.at(key), key)).string()
                                 : std::string();
    };
    o.input = file("x");
    c.y_path = file("y");
    if (o.input.empty() || c.y_path.empty()) throw NormError("the files list has no x or y");
    o.weight = file("weight");
    o.bias = file("bias");
    const bool tracked = e.contains("track_running_stats") &&
                         jsonBool(e.at("track_running_stats"), "track_running_stats");
    if (norm == "batch") {
      o.norm = NormKind::Batch;
      const nlohmann::json& m = e.at("momentum");
      o.momentum =
          m.is_null() ? std::nullopt : std::optional<double>(jsonNumber(m, "momentum", 0.0, 1.0));
      // PyTorch normalizes with the running statistics only in eval mode and only when it keeps
      // them; otherwise with the batch's, as in training.
      o.eval = !c.training && tracked;
      if (e.contains("num_batches_tracked") && !e.at("num_batches_tracked").is_null())
        o.num_batches_tracked =
            jsonInt(e.at("num_batches_tracked"), "num_batches_tracked", 0, int64_t{1} << 62);
      o.running_mean = file("running_mean");
      o.running_var = file("running_var");
      if (o.eval && (o.running_mean.empty() || o.running_var.empty()))
        throw NormError("eval mode with tracked statistics, but no running_mean/running_var file");
    } else if (norm == "instance") {
      if (!c.training && tracked)
        throw NormError(
            c.type +
            " in eval mode with track_running_stats normalizes with running statistics, which "
            "normviz's InstanceNorm does not support");
      o.norm = NormKind::Instance;
    } else if (norm == "group") {
      o.norm = NormKind::Group;
      o.groups = jsonInt(e.at("num_groups"), "num_groups", 1, int64_t{1} << 40);
    } else if (norm == "layer" || norm == "rms") {
      o.norm = norm == "layer" ? NormKind::Layer : NormKind::RMS;
      o.normalized_shape = dimsOf(e.at("normalized_shape"), "normalized_shape");
    } else {
      throw NormError("norm '" + norm + "' is none of batch, instance, group, layer, rms");
    }
  } catch (const nlohmann::json::exception& ex) {
    throw NormError(where + "a field is missing or has the wrong type (" + ex.what() + ")");
  } catch (const NormError& ex) {
    throw NormError(where + ex.what());
  }
  return c;
}

}  // namespace

std::vector<CapturedLayer> readCapture(const std::string& dir) {
  const fs::path manifest = fs::path(dir) / "manifest.json";
  std::ifstream in(manifest);
  if (!in)
    throw NormError("--capture: cannot open " + manifest.string() +
                    " (a folder written by python/normviz_capture.py)");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw NormError("--capture: " + manifest.string() + " is not JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("layers") || !j.at("layers").is_array() ||
      j.at("layers").empty())
    throw NormError("--capture: " + manifest.string() + " lists no layers");
  std::vector<CapturedLayer> layers;
  for (const auto& e : j.at("layers")) {
    try {
      if (!e.is_object()) throw NormError("a layer entry is not an object");
      layers.push_back(layerOf(e, fs::path(dir)));
    } catch (const NormError& ex) {
      throw NormError("--capture: " + manifest.string() + ": " + ex.what());
    }
  }
  return layers;
}

const CapturedLayer& capturedLayer(const std::vector<CapturedLayer>& layers,
                                   const std::string& name) {
  if (name.empty() && layers.size() == 1) return layers.front();
  for (const CapturedLayer& c : layers)
    if (c.name == name) return c;
  std::string names;
  for (const CapturedLayer& c : layers) {
    if (!names.empty()) names += ", ";
    names += c.name;
  }
  if (name.empty())
    throw NormError("--capture holds " + std::to_string(layers.size()) +
                    " layers: pick one with --layer (" + names + ")");
  throw NormError("--layer '" + name + "' is not in the capture; it has " + names);
}

CaptureDifference differenceFromCaptured(const CapturedLayer& layer, const TensorD& y) {
  Tensor captured;
  NpyLimits limits;
  limits.max_elements = layer.layer.max_elements;
  try {
    captured = readNpyF32(layer.y_path, limits);
  } catch (const NormError& e) {
    throw NormError(std::string("--capture: ") + e.what());
  }
  if (!(captured.shape == y.shape))
    throw NormError("--capture: the captured y has shape " + captured.shape.str() +
                    ", this layer's y " + y.shape.str());
  CaptureDifference d;
  double largest = 0;
  for (size_t i = 0; i < y.data.size(); ++i) {
    const double c = captured.data[i];
    d.max_abs = std::max(d.max_abs, std::abs(y.data[i] - c));
    largest = std::max(largest, std::abs(c));
  }
  d.max_rel = largest > 0 ? d.max_abs / largest : d.max_abs;
  return d;
}

}  // namespace normviz
