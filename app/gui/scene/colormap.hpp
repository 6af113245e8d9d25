// Colour maps for values (sequential and diverging, both readable with colour blindness) and a
// categorical palette for "all groups" mode.
#pragma once

#include <cstdint>
#include <glm/glm.hpp>

#include "view_options.hpp"

namespace normviz {

// t in [0, 1] (clamped); linear in sRGB between the map's published anchor colours.
glm::vec3 sampleColorMap(ColorMap map, float t);

// A value range mapped onto a colour map. A diverging scale is symmetric: [-m, m] with 0 at the
// centre, so the neutral colour always means zero.
struct ValueScale {
  ColorMap map = ColorMap::Viridis;
  double lo = 0, hi = 1;
  // Makes a scale covering [min, max] of the data; diverging scales widen to ±max|v|.
  static ValueScale of(ColorMap map, double min, double max);
  // Position of v on the map in [0, 1]; NaN maps to 0.5.
  float position(double v) const;
  glm::vec3 color(double v) const { return sampleColorMap(map, position(v)); }
};

// Okabe-Ito palette (8 colours distinguishable with colour blindness); past 8 the cycle repeats
// darker and lighter so neighbouring group numbers still differ.
glm::vec3 categoricalColor(int64_t index);

}  // namespace normviz
