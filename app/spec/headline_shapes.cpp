#include "headline_shapes.hpp"

namespace normviz {

std::vector<BenchShape> headlineShapes() {
  NormConfig ln;
  ln.kind = NormKind::Layer;
  NormConfig bn;
  bn.kind = NormKind::Batch;
  NormConfig gn;
  gn.kind = NormKind::Group;
  gn.groups = 8;
  NormConfig in;
  in.kind = NormKind::Instance;
  return {{"layer", "LayerNorm(768) (8,1024,768)", {8, 1024, 768}, ln},
          {"batch", "BatchNorm2d(64) train (32,64,56,56)", {32, 64, 56, 56}, bn},
          {"group", "GroupNorm(8,64) (32,64,56,56)", {32, 64, 56, 56}, gn},
          {"instance", "InstanceNorm2d(64) (32,64,56,56)", {32, 64, 56, 56}, in}};
}

}  // namespace normviz
