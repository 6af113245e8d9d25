// A capture folder written by python/normviz_capture.py: manifest.json and, per call of each
// normalization layer of a model, its x, y, weight, bias and running statistics as .npy. Each layer
// becomes the LayerOptions that recompute it (the same flags as --norm ... --input), so the app and
// `normviz compute --capture DIR --layer NAME` open it like any other layer.
#pragma once

#include <string>
#include <vector>

#include "layer_options.hpp"
#include "normviz/tensor.hpp"

namespace normviz {

struct CapturedLayer {
  std::string name;  // "features.1", or "blocks.0.ln#2" for a module's second call
  std::string type;  // the module's class: "BatchNorm2d"
  Shape x_shape;     // as captured
  bool training = false;
  LayerOptions layer;  // recomputes it: the captured x, parameters and configuration
  std::string y_path;  // the captured output, to compare with
};

// Reads DIR/manifest.json. Throws NormError naming the file and the field at fault (a missing
// folder, a manifest that is not the capture format, a layer normviz cannot recompute: an
// InstanceNorm with running statistics in eval mode).
std::vector<CapturedLayer> readCapture(const std::string& dir);

// The layer called `name` (a CapturedLayer::name), or with "" the only one; throws NormError
// listing the names there are.
const CapturedLayer& capturedLayer(const std::vector<CapturedLayer>& layers,
                                   const std::string& name);

// How far `y` is from the layer's captured y: the largest absolute difference, and the same over
// the largest |captured y|. Throws NormError naming the file, or the two shapes when they differ.
struct CaptureDifference {
  double max_abs = 0, max_rel = 0;
};
CaptureDifference differenceFromCaptured(const CapturedLayer& layer, const TensorD& y);

}  // namespace normviz
