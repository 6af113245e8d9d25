// The one table of names for each view choice.
#include "view_options.hpp"

#include <array>

#include "normviz/error.hpp"

namespace normviz {

namespace {

constexpr std::array kLayouts = {NamedValue<LayoutMode>{LayoutMode::Single, "single"},
                                 NamedValue<LayoutMode>{LayoutMode::Compare, "compare"}};
constexpr std::array kDisplays = {NamedValue<DisplayMode>{DisplayMode::Cubes, "cubes"},
                                  NamedValue<DisplayMode>{DisplayMode::Sheet, "sheet"},
                                  NamedValue<DisplayMode>{DisplayMode::Plates, "plates"},
                                  NamedValue<DisplayMode>{DisplayMode::Image, "image"}};
constexpr std::array kColorBys = {NamedValue<ColorBy>{ColorBy::Value, "value"},
                                  NamedValue<ColorBy>{ColorBy::Groups, "groups"}};
constexpr std::array kThemes = {NamedValue<Theme>{Theme::Dark, "dark"},
                                NamedValue<Theme>{Theme::Light, "light"}};
constexpr std::array kBackends = {NamedValue<Backend>{Backend::CpuFp32, "fp32"},
                                  NamedValue<Backend>{Backend::CpuFp64, "fp64"},
                                  NamedValue<Backend>{Backend::Gpu, "gpu"},
                                  NamedValue<Backend>{Backend::GpuEmulated, "gpu-emulated"}};
constexpr std::array kPresets = {NamedValue<ViewPreset>{ViewPreset::Front, "front"},
                                 NamedValue<ViewPreset>{ViewPreset::Top, "top"},
                                 NamedValue<ViewPreset>{ViewPreset::Isometric, "isometric"}};
constexpr std::array kColorMaps = {NamedValue<ColorMap>{ColorMap::Viridis, "viridis"},
                                   NamedValue<ColorMap>{ColorMap::Cividis, "cividis"}};
constexpr std::array kPlots = {NamedValue<PlotKind>{PlotKind::None, "none"},
                               NamedValue<PlotKind>{PlotKind::RunningStats, "running-stats"},
                               NamedValue<PlotKind>{PlotKind::BatchSpread, "batch-spread"},
                               NamedValue<PlotKind>{PlotKind::Histogram, "histogram"},
                               NamedValue<PlotKind>{PlotKind::VarianceError, "variance-error"}};

}  // namespace

template <>
std::span<const NamedValue<LayoutMode>> namesOf() {
  return kLayouts;
}
template <>
std::span<const NamedValue<DisplayMode>> namesOf() {
  return kDisplays;
}
template <>
std::span<const NamedValue<ColorBy>> namesOf() {
  return kColorBys;
}
template <>
std::span<const NamedValue<Theme>> namesOf() {
  return kThemes;
}
template <>
std::span<const NamedValue<Backend>> namesOf() {
  return kBackends;
}
template <>
std::span<const NamedValue<ViewPreset>> namesOf() {
  return kPresets;
}
template <>
std::span<const NamedValue<ColorMap>> namesOf() {
  return kColorMaps;
}
template <>
std::span<const NamedValue<PlotKind>> namesOf() {
  return kPlots;
}

template <typename E>
const char* nameOf(E value) {
  for (const auto& n : namesOf<E>())
    if (n.value == value) return n.name;
  if constexpr (std::is_same_v<E, ColorMap>) return "diverging";
  return "?";
}

template <typename E>
std::string nameList(const char* separator) {
  std::string out;
  for (const auto& n : namesOf<E>()) {
    if (!out.empty()) out += separator;
    out += n.name;
  }
  return out;
}

template <typename E>
E parseName(std::string_view text, std::string_view field) {
  for (const auto& n : namesOf<E>())
    if (text == n.name) return n.value;
  throw NormError(std::string(field) + " '" + std::string(text) + "' is not one of " +
                  nameList<E>(", "));
}

#define NORMVIZ_NAMED(E)                         \
  template const char* nameOf<E>(E);             \
  template std::string nameList<E>(const char*); \
  template E parseName<E>(std::string_view, std::string_view);
NORMVIZ_NAMED(LayoutMode)
NORMVIZ_NAMED(DisplayMode)
NORMVIZ_NAMED(ColorBy)
NORMVIZ_NAMED(Theme)
NORMVIZ_NAMED(Backend)
NORMVIZ_NAMED(ViewPreset)
NORMVIZ_NAMED(ColorMap)
NORMVIZ_NAMED(PlotKind)
#undef NORMVIZ_NAMED

}  // namespace normviz
