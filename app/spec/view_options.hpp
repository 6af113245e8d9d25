// How a view is shown, as named choices: each enum's names are written once, in view_options.cpp,
// and every reader (command line, settings, lessons) parses them with parseName.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace normviz {

enum class LayoutMode { Single, Compare };
// Cubes: the 3D scene. Sheet: every element one cell of a 2D image (rows n, c, ...; columns the
// trailing axes), for tensors past the cube limit and for people who think in 2D. Plates: every
// (n, c) plate a small H x W picture of its values, plates in a grid (rows n, columns c), for
// feature maps. Image: each sample the photo itself (RGB, or gray for one channel), for C = 1 or 3.
enum class DisplayMode { Cubes, Sheet, Plates, Image };
enum class ColorBy { Value, Groups };
enum class Theme { Dark, Light };
enum class Backend { CpuFp32, CpuFp64, Gpu, GpuEmulated };
enum class ViewPreset { Front, Top, Isometric };
enum class ColorMap {
  Viridis,    // perceptually uniform, sequential
  Cividis,    // perceptually uniform, designed for deuteranopia and protanopia
  Diverging,  // blue - near white - red, centred on zero (ColorBrewer RdBu)
};
// A plot under the tensor, computed from the app's data (plot_data.hpp): BatchNorm's running
// statistics over training steps, the spread of a batch mean by batch size, each group's histograms
// of x and y, and the float32 error of each variance strategy as the offset grows.
enum class PlotKind { None, RunningStats, BatchSpread, Histogram, VarianceError };

template <typename E>
struct NamedValue {
  E value;
  const char* name;
};

// The names a user may type for each choice, in the order help texts list them. ColorMap lists
// the maps a user picks for x (viridis, cividis); the diverging map is the app's own choice.
template <typename E>
std::span<const NamedValue<E>> namesOf();

// The name of a value ("compare", "cividis", "gpu-emulated").
template <typename E>
const char* nameOf(E value);

// "dark|light": the names joined, as help texts and messages list them.
template <typename E>
std::string nameList(const char* separator = "|");

// Parses a name; throws NormError "FIELD 'TEXT' is not one of a, b, c".
template <typename E>
E parseName(std::string_view text, std::string_view field);

}  // namespace normviz
