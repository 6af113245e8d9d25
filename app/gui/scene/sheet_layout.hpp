// The sheet view's geometry: every element one cell of a 2D image, rows the leading axes (n, c,
// ...) and columns the trailing ones (H·W for a 4D tensor, as in the Group Normalization paper's
// figure; D for (N, L, D)). Plain math, no OpenGL, so tests check it directly and the shader
// mirrors it.
//
// Sheet space is measured in cells, y down. A tall sheet is cut into bands of rows set side by
// side (like columns of text) so it fits the view. Each band of x carries, when every row lies in
// one group, a strip of two columns beside it: the row's mean and rstd. y's bands follow x's to the
// right, a gap apart.
#pragma once

#include <cstdint>
#include <glm/glm.hpp>
#include <optional>
#include <string>
#include <vector>

#include "normviz/plan.hpp"
#include "normviz/tensor.hpp"
#include "scene_layout.hpp"

namespace normviz {

struct SheetLayout {
  Shape shape;
  int64_t rows = 1, cols = 1;        // the sheet's cells
  int split_axis = 0;                // axes [0, split_axis) make rows, the rest columns
  int64_t bands = 1, band_rows = 1;  // rows per band (the last band may be short)
  bool strip = false;                // each row is in one group: mean and rstd beside each band
  bool with_y = false;
  float strip_w = 0, gap = 0, block_gap = 0;  // cells

  float bandWidth() const {
    return static_cast<float>(cols) + (strip ? gap + 2.0f * strip_w : 0.0f);
  }
  float blockWidth() const {
    return static_cast<float>(bands) * bandWidth() + static_cast<float>(bands - 1) * gap;
  }
  float width() const { return with_y ? 2.0f * blockWidth() + block_gap : blockWidth(); }
  float height() const { return static_cast<float>(band_rows); }

  // What lies at sheet point p: an element of x or y, a row's mean or rstd (index = the row), or
  // nothing (a gap).
  struct Hit {
    Section section = Section::Input;
    int64_t index = 0;  // flat element index, or the row for Mean/Rstd
  };
  std::optional<Hit> at(glm::vec2 p) const;
  // The centre of an element's cell (section Input or Output) or a row's strip cell.
  glm::vec2 center(Section section, int64_t index) const;

  // "rows (N, C) = 8, columns (H, W) = 16" for the overlay.
  std::string axesText(const std::vector<std::string>& names) const;
};

// Lays out `shape` for a view of the given aspect. With a plan and with_y, adds y's block and, when
// every row lies in one of the plan's groups (`row_group` from rowGroups), the statistics strip.
SheetLayout makeSheetLayout(const Shape& shape, bool with_y, bool strip, float aspect);

// Each flat element's group under `plan`, filled run by run (linear time).
std::vector<float> groupOfElements(const ReductionPlan& plan);
// The group of each sheet row when every row lies in one group, else empty.
std::vector<int64_t> rowGroups(const std::vector<float>& groups, int64_t rows, int64_t cols);

// A 2D camera over sheet space: the sheet point at the view's centre and pixels per cell.
struct SheetCamera {
  glm::vec2 center{0.0f};
  float zoom = 1.0f;
  bool operator==(const SheetCamera&) const = default;
  glm::vec2 toScreen(glm::vec2 sheet, glm::vec2 view_pos, glm::vec2 view_size) const {
    return view_pos + view_size * 0.5f + (sheet - center) * zoom;
  }
  glm::vec2 toSheet(glm::vec2 screen, glm::vec2 view_pos, glm::vec2 view_size) const {
    return center + (screen - view_pos - view_size * 0.5f) / zoom;
  }
  // Fits the whole sheet in the view, keeping `margin` pixels free on each side (left, right,
  // top, bottom).
  void fit(const SheetLayout& sheet, glm::vec2 view_size, glm::vec4 margin);
  // Fits the sheet-space box [origin, origin + extent] the same way (the plates view's whole
  // layout, or one plate).
  void fitBox(glm::vec2 origin, glm::vec2 extent, glm::vec2 view_size, glm::vec4 margin);
  // Zooms by `factor` keeping the sheet point under `screen` in place.
  void zoomAt(float factor, glm::vec2 screen, glm::vec2 view_pos, glm::vec2 view_size);
};

}  // namespace normviz
