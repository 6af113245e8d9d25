// Colour map anchors and interpolation (viridis, cividis, RdBu) and the Okabe-Ito palette.
#include "colormap.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <span>

namespace normviz {

namespace {

using Rgb8 = std::array<int, 3>;

// Anchor colours at even steps: matplotlib's viridis and cividis, ColorBrewer's RdBu (reversed so
// negative values are blue).
constexpr Rgb8 kViridis[] = {{68, 1, 84},    {71, 45, 123},  {59, 82, 139},
                             {44, 114, 142}, {33, 145, 140}, {40, 174, 128},
                             {94, 201, 98},  {173, 220, 48}, {253, 231, 37}};
constexpr Rgb8 kCividis[] = {{0, 34, 78},     {18, 53, 112},   {59, 73, 108},   {87, 93, 109},
                             {112, 113, 115}, {138, 135, 121}, {166, 157, 117}, {196, 181, 108},
                             {228, 207, 91},  {254, 232, 56}};
constexpr Rgb8 kDiverging[] = {{33, 102, 172},  {67, 147, 195},  {146, 197, 222},
                               {209, 229, 240}, {247, 247, 247}, {253, 219, 199},
                               {244, 165, 130}, {214, 96, 77},   {178, 24, 43}};
constexpr Rgb8 kOkabeIto[] = {{230, 159, 0}, {86, 180, 233}, {0, 158, 115},   {240, 228, 66},
                              {0, 114, 178}, {213, 94, 0},   {204, 121, 167}, {153, 153, 153}};

glm::vec3 toVec(const Rgb8& c) {
  return glm::vec3(static_cast<float>(c[0]), static_cast<float>(c[1]), static_cast<float>(c[2])) /
         255.0f;
}

glm::vec3 interpolate(std::span<const Rgb8> anchors, float t) {
  t = std::clamp(std::isnan(t) ? 0.5f : t, 0.0f, 1.0f);
  const float x = t * static_cast<float>(anchors.size() - 1);
  const size_t i = std::min(static_cast<size_t>(x), anchors.size() - 2);
  const float f = x - static_cast<float>(i);
  return glm::mix(toVec(anchors[i]), toVec(anchors[i + 1]), f);
}

}  // namespace

glm::vec3 sampleColorMap(ColorMap map, float t) {
  switch (map) {
    case ColorMap::Viridis:
      return interpolate(kViridis, t);
    case ColorMap::Cividis:
      return interpolate(kCividis, t);
    case ColorMap::Diverging:
      return interpolate(kDiverging, t);
  }
  return glm::vec3(0.5f);
}

ValueScale ValueScale::of(ColorMap map, double min, double max) {
  ValueScale s;
  s.map = map;
  if (!std::isfinite(min) || !std::isfinite(max) || min > max) min = 0, max = 1;
  if (map == ColorMap::Diverging) {
    const double m = std::max(std::fabs(min), std::fabs(max));
    s.lo = -m;
    s.hi = m;
  } else {
    s.lo = min;
    s.hi = max;
  }
  return s;
}

float ValueScale::position(double v) const {
  if (std::isnan(v)) return 0.5f;
  if (!(hi > lo)) return 0.5f;  // constant data sits in the middle of the map
  return static_cast<float>(std::clamp((v - lo) / (hi - lo), 0.0, 1.0));
}

glm::vec3 categoricalColor(int64_t index) {
  const int64_t n = std::size(kOkabeIto);
  const int64_t i = ((index % n) + n) % n;
  const int64_t cycle = (index / n) % 3;
  const glm::vec3 base = toVec(kOkabeIto[i]);
  if (cycle == 1) return base * 0.65f;
  if (cycle == 2) return glm::mix(base, glm::vec3(1.0f), 0.45f);
  return base;
}

}  // namespace normviz
