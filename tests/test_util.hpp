// Helpers shared by the test suites: seeded random tensors.
#pragma once

#include <random>

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

}  // namespace normviz::test
