// Helpers shared by the test suites: seeded random tensors.
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <span>
#include <vector>

#include "normviz/tensor.hpp"

namespace normviz::test {

// offset + scale * N(0, 1), reproducible from the seed.
inline Tensor randomTensor(const Shape& s, uint64_t seed, float offset = 0, float scale = 1) {
  Tensor t(s);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0, 1);
  for (float& v : t.data) v = offset + scale * d(rng);
  return t;
}

// max |got - want| / max(1, max |want|): the error relative to the tensor's scale. NaN anywhere
// and a size mismatch count as infinite.
inline double scaledError(std::span<const double> got, std::span<const double> want) {
  if (got.size() != want.size()) return INFINITY;
  double err = 0, scale = 1;
  for (size_t i = 0; i < want.size(); ++i) {
    const double d = std::fabs(got[i] - want[i]);
    if (!(d <= err)) err = std::isnan(d) ? INFINITY : d;
    scale = std::max(scale, std::fabs(want[i]));
  }
  return err / scale;
}

}  // namespace normviz::test
