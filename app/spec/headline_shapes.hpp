// The benchmark shapes of docs/NORMS.md: GPT-2 small activations for LayerNorm, a ResNet-stage
// feature map for the convolution-shaped norms. `normviz bench` and the page's engine benchmark
// (app/web/bench_web.cpp) time the same four.
#pragma once

#include <string>
#include <vector>

#include "normviz/plan.hpp"
#include "normviz/tensor.hpp"

namespace normviz {

struct BenchShape {
  std::string key, title;  // "layer", "LayerNorm(768) (8,1024,768)"
  Shape shape;
  NormConfig config;
};

std::vector<BenchShape> headlineShapes();

}  // namespace normviz
