// The sheet view's geometry: cells, bands, the statistics strip, and the 2D camera.
#include "sheet_layout.hpp"

#include <algorithm>
#include <cmath>

namespace normviz {

SheetLayout makeSheetLayout(const Shape& shape, bool with_y, bool strip, float aspect) {
  SheetLayout s;
  s.shape = shape;
  const int rank = shape.rank();
  s.split_axis = rank >= 3 ? 2 : rank - 1;
  s.rows = 1;
  s.cols = 1;
  for (int a = 0; a < rank; ++a) (a < s.split_axis ? s.rows : s.cols) *= shape[a];
  s.with_y = with_y;
  s.strip = strip;
  const auto cols = static_cast<float>(s.cols);
  s.strip_w = std::max(1.0f, std::round(cols / 12.0f));
  s.gap = std::max(1.0f, std::round(cols / 24.0f));
  s.block_gap = std::max(2.0f, std::round(cols / 6.0f));
  // Bands: the count that brings the whole sheet closest to the view's aspect. A band ends on a
  // boundary of the last row axis (a sample's channels stay together) when that costs little.
  const float blocks = with_y ? 2.0f : 1.0f;
  const float band_w = s.bandWidth() + s.gap;
  const double ideal =
      std::sqrt(std::max(aspect, 0.05f) * static_cast<double>(s.rows) / (blocks * band_w));
  s.bands = std::clamp<int64_t>(std::llround(ideal), 1, s.rows);
  s.band_rows = (s.rows + s.bands - 1) / s.bands;
  if (s.split_axis >= 2) {
    const int64_t unit = shape[s.split_axis - 1];
    if (s.band_rows > unit) s.band_rows = (s.band_rows + unit - 1) / unit * unit;
  }
  s.bands = (s.rows + s.band_rows - 1) / s.band_rows;
  return s;
}

std::optional<SheetLayout::Hit> SheetLayout::at(glm::vec2 p) const {
  if (p.y < 0.0f || p.y >= height() || p.x < 0.0f) return std::nullopt;
  float x = p.x;
  Section element = Section::Input;
  if (x >= blockWidth()) {
    if (!with_y) return std::nullopt;
    x -= blockWidth() + block_gap;
    if (x < 0.0f || x >= blockWidth()) return std::nullopt;
    element = Section::Output;
  }
  const float bw = bandWidth() + gap;
  const auto band = static_cast<int64_t>(std::floor(x / bw));
  const float within = x - static_cast<float>(band) * bw;
  const int64_t row = band * band_rows + static_cast<int64_t>(std::floor(p.y));
  if (band >= bands || row >= rows) return std::nullopt;
  if (within < static_cast<float>(cols))
    return Hit{element, row * cols + static_cast<int64_t>(std::floor(within))};
  if (!strip || element == Section::Output) return std::nullopt;
  const float in_strip = within - static_cast<float>(cols) - gap;
  if (in_strip < 0.0f || in_strip >= 2.0f * strip_w) return std::nullopt;
  return Hit{in_strip < strip_w ? Section::Mean : Section::Rstd, row};
}

glm::vec2 SheetLayout::center(Section section, int64_t index) const {
  const bool is_stat = section == Section::Mean || section == Section::Rstd;
  const int64_t row = is_stat ? index : index / cols;
  const int64_t band = row / band_rows;
  float x = static_cast<float>(band) * (bandWidth() + gap);
  if (is_stat) {
    x += static_cast<float>(cols) + gap + strip_w * (section == Section::Mean ? 0.5f : 1.5f);
  } else {
    x += static_cast<float>(index % cols) + 0.5f;
    if (section == Section::Output) x += blockWidth() + block_gap;
  }
  return {x, static_cast<float>(row - band * band_rows) + 0.5f};
}

std::string SheetLayout::axesText(const std::vector<std::string>& names) const {
  auto join = [&](int from, int to) {
    std::string out;
    for (int a = from; a < to; ++a)
      out += (out.empty() ? "" : ", ") +
             (a < static_cast<int>(names.size()) ? names[static_cast<size_t>(a)] : "?");
    return out.empty() ? std::string("-") : out;
  };
  std::string text = "rows (" + join(0, split_axis) + ") = " + std::to_string(rows) +
                     ", columns (" + join(split_axis, shape.rank()) + ") = " + std::to_string(cols);
  if (bands > 1)
    text += ", in " + std::to_string(bands) + " bands of " + std::to_string(band_rows) + " rows";
  return text;
}

std::vector<float> groupOfElements(const ReductionPlan& plan) {
  std::vector<float> groups(static_cast<size_t>(plan.shape().numel()), 0.0f);
  for (int64_t g = 0; g < plan.groupCount(); ++g)
    plan.forEachRun(g, [&](int64_t offset, int64_t length) {
      std::fill_n(groups.begin() + offset, length, static_cast<float>(g));
    });
  return groups;
}

std::vector<int64_t> rowGroups(const std::vector<float>& groups, int64_t rows, int64_t cols) {
  std::vector<int64_t> out(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const auto first = groups.begin() + r * cols;
    if (std::find_if(first, first + cols, [&](float g) { return g != *first; }) != first + cols)
      return {};
    out[static_cast<size_t>(r)] = static_cast<int64_t>(*first);
  }
  return out;
}

void SheetCamera::fit(const SheetLayout& sheet, glm::vec2 view_size, glm::vec4 margin) {
  fitBox(glm::vec2(0.0f), glm::vec2(sheet.width(), sheet.height()), view_size, margin);
}

void SheetCamera::fitBox(glm::vec2 origin, glm::vec2 extent, glm::vec2 view_size,
                         glm::vec4 margin) {
  const glm::vec2 room(std::max(view_size.x - margin.x - margin.y, 10.0f),
                       std::max(view_size.y - margin.z - margin.w, 10.0f));
  zoom = std::min(room.x / extent.x, room.y / extent.y);
  zoom = std::clamp(zoom, 1e-3f, 64.0f);
  // The box's centre sits at the centre of the room left between the margins.
  const glm::vec2 shift(0.5f * (margin.x - margin.y), 0.5f * (margin.z - margin.w));
  center = origin + extent * 0.5f - shift / zoom;
}

void SheetCamera::zoomAt(float factor, glm::vec2 screen, glm::vec2 view_pos, glm::vec2 view_size) {
  const glm::vec2 before = toSheet(screen, view_pos, view_size);
  zoom = std::clamp(zoom * factor, 1e-3f, 64.0f);
  const glm::vec2 after = toSheet(screen, view_pos, view_size);
  center += before - after;
}

}  // namespace normviz
