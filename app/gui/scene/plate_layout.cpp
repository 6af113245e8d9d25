// The plates and image views' geometry: tiles, bands, the fit that picks them, the lit region as
// boxes of tiles, and the texture atlas.
#include "plate_layout.hpp"

#include <algorithm>
#include <cmath>

namespace normviz {

// ---- Which views a shape gets ------------------------------------------------------------------

bool platesOffered(const Shape& shape) {
  return shape.rank() >= 3;
}

bool imageOffered(const Shape& shape) {
  return shape.rank() == 4 && (shape[1] == 1 || shape[1] == 3);
}

std::string platesRefusal(const Shape& shape) {
  if (platesOffered(shape)) return "";
  return "plates: need a rank of 3 or more";
}

std::string imageRefusal(const Shape& shape) {
  if (imageOffered(shape)) return "";
  if (shape.rank() != 4) return "image: needs (N, C, H, W) with C = 1 or 3";
  return "image: needs C = 1 (gray) or 3 (RGB), not " + std::to_string(shape[1]);
}

bool platesSuit(const Shape& shape) {
  const int rank = shape.rank();
  if (rank < 4) return false;
  const int64_t h = shape[rank - 2], w = shape[rank - 1];
  return h >= 4 && w >= 4 && h * w >= 64;
}

bool photoLike(const Shape& shape, double lo, double hi) {
  return imageOffered(shape) && shape[2] >= 16 && shape[3] >= 16 && lo >= 0.0 && hi <= 1.0;
}

// ---- Geometry
// ------------------------------------------------------------------------------------

float PlateLayout::picturesWidth() const {
  const auto w = static_cast<float>(tile_w);
  return image && with_y ? 2.0f * w + pad : w;
}

float PlateLayout::tileWidth() const {
  if (!image) return static_cast<float>(tile_w);
  return label_below ? std::max(picturesWidth(), label_w) : picturesWidth() + label_w;
}

float PlateLayout::tileHeight() const {
  const auto h = static_cast<float>(tile_h);
  return label_below ? h + label_h : std::max(h, label_h);
}

glm::vec2 PlateLayout::bandSize() const {
  return glm::vec2(static_cast<float>(bandCols()), static_cast<float>(bandRows())) * pitch() - pad;
}

glm::vec2 PlateLayout::blockSize() const {
  const glm::vec2 band = bandSize();
  const auto n = static_cast<float>(bands);
  const float gaps = static_cast<float>(bands - 1) * band_gap;
  return stacked ? glm::vec2(band.x, n * band.y + gaps) : glm::vec2(n * band.x + gaps, band.y);
}

float PlateLayout::width() const {
  const float block = blockSize().x;
  return !image && with_y ? 2.0f * block + block_gap : block;
}

glm::vec2 PlateLayout::tileOrigin(int64_t row, int64_t col, bool y) const {
  const int64_t band = bandOf(row, col);
  const glm::vec2 size = bandSize();
  glm::vec2 o = stacked ? glm::vec2(0.0f, static_cast<float>(band) * (size.y + band_gap))
                        : glm::vec2(static_cast<float>(band) * (size.x + band_gap), 0.0f);
  const int64_t r = stacked ? row : row % per_band, c = stacked ? col % per_band : col;
  o += glm::vec2(static_cast<float>(c), static_cast<float>(r)) * pitch();
  if (y) o.x += image ? static_cast<float>(tile_w) + pad : blockSize().x + block_gap;
  return o;
}

glm::vec2 PlateLayout::labelOrigin(int64_t row) const {
  return tileOrigin(row, 0, false) + (label_below ? glm::vec2(0.0f, static_cast<float>(tile_h))
                                                  : glm::vec2(picturesWidth(), 0.0f));
}

PlateLayout::Cell PlateLayout::cellOf(int64_t flat) const {
  const int64_t area = tile_h * tile_w, plate = flat / area, within = flat % area;
  Cell c;
  c.h = within / tile_w;
  c.w = within % tile_w;
  if (image) {
    c.row = plate / channels;
    c.channel = plate % channels;
  } else {
    c.row = plate / grid_cols;
    c.col = plate % grid_cols;
  }
  return c;
}

int64_t PlateLayout::flatOf(const Cell& c) const {
  const int64_t plate = image ? c.row * channels + c.channel : c.row * grid_cols + c.col;
  return (plate * tile_h + c.h) * tile_w + c.w;
}

std::optional<PlateLayout::Hit> PlateLayout::at(glm::vec2 p) const {
  const glm::vec2 block = blockSize();
  if (p.x < 0.0f || p.y < 0.0f || p.y >= block.y) return std::nullopt;
  Hit hit;
  if (!image && p.x >= block.x) {
    if (!with_y) return std::nullopt;
    p.x -= block.x + block_gap;
    hit.section = Section::Output;
  }
  if (p.x < 0.0f || p.x >= block.x) return std::nullopt;
  // The band along the cut, then the tile within it.
  const glm::vec2 size = bandSize();
  const float along = stacked ? p.y : p.x, extent = stacked ? size.y : size.x;
  const auto band = static_cast<int64_t>(std::floor(along / (extent + band_gap)));
  const float within = along - static_cast<float>(band) * (extent + band_gap);
  if (band >= bands || within >= extent) return std::nullopt;
  const glm::vec2 q = stacked ? glm::vec2(p.x, within) : glm::vec2(within, p.y);
  const glm::vec2 step = pitch();
  const auto c = static_cast<int64_t>(std::floor(q.x / step.x)),
             r = static_cast<int64_t>(std::floor(q.y / step.y));
  if (c >= bandCols() || r >= bandRows()) return std::nullopt;
  hit.row = stacked ? r : band * per_band + r;
  hit.col = stacked ? band * per_band + c : c;
  if (hit.row >= grid_rows || hit.col >= grid_cols) return std::nullopt;
  glm::vec2 uv = q - glm::vec2(static_cast<float>(c), static_cast<float>(r)) * step;
  const auto w = static_cast<float>(tile_w), h = static_cast<float>(tile_h);
  if (image) {
    const glm::vec2 label = labelOrigin(0) - tileOrigin(0, 0, false);
    if (label_w > 0.0f && uv.x >= label.x && uv.y >= label.y && uv.x < label.x + label_w &&
        uv.y < label.y + label_h) {
      hit.label = true;
      hit.in_label = uv - label;
      return hit;
    }
    if (with_y && uv.x >= w + pad) {
      uv.x -= w + pad;
      hit.section = Section::Output;
    }
  }
  if (uv.x >= w || uv.y >= h) return std::nullopt;
  hit.h = static_cast<int64_t>(std::floor(uv.y));
  hit.w = static_cast<int64_t>(std::floor(uv.x));
  return hit;
}

glm::vec2 PlateLayout::center(Section section, int64_t flat) const {
  const Cell c = cellOf(flat);
  return tileOrigin(c.row, c.col, section == Section::Output) +
         glm::vec2(static_cast<float>(c.w) + 0.5f, static_cast<float>(c.h) + 0.5f);
}

// ---- Fitting
// ---------------------------------------------------------------------------------------

namespace {

// The gaps and the statistics at `zoom` pixels per cell: each gap a share of a picture, and never
// under its pixels.
void scaleTo(PlateLayout& l, const PlateRoom& room, float zoom) {
  const auto side = static_cast<float>(std::max(l.tile_w, l.tile_h));
  l.pad = std::max(side / (l.image ? 12.0f : 16.0f), (l.image ? 8.0f : 2.0f) / zoom);
  l.band_gap = std::max(3.0f * l.pad, room.band_gap / zoom);
  l.block_gap = std::max(6.0f * l.pad, room.block_gap / zoom);
  l.label_w = room.label.x / zoom;
  l.label_h = room.label.y / zoom;
  l.fit_zoom = zoom;
}

// The largest zoom at which `l` fits the room (each size grows with the zoom: bisection).
float largestZoom(PlateLayout& l, const PlateRoom& room) {
  auto fits = [&](float zoom) {
    scaleTo(l, room, zoom);
    return l.width() * zoom <= room.room.x && l.height() * zoom <= room.room.y;
  };
  float lo = 1e-4f, hi = 64.0f;
  if (fits(hi)) return hi;
  for (int i = 0; i < 40; ++i) {
    const float mid = std::sqrt(lo * hi);
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

}  // namespace

PlateLayout makePlateLayout(const Shape& shape, bool image, bool with_y, const PlateRoom& room) {
  PlateLayout l;
  l.shape = shape;
  l.image = image;
  l.with_y = with_y;
  const int rank = shape.rank();
  l.tile_h = shape[rank - 2];
  l.tile_w = shape[rank - 1];
  l.grid_rows = shape[0];
  const int64_t plates = shape.numel() / std::max<int64_t>(l.tile_h * l.tile_w, 1);
  l.channels = image ? shape[1] : 1;
  l.grid_cols = image ? 1 : plates / std::max<int64_t>(l.grid_rows, 1);
  // Every way to cut the grid into bands, by the size it leaves the tiles; ties keep fewer bands.
  PlateLayout best = l;
  float best_zoom = -1.0f;
  for (const int placement : {0, 1, 2, 3}) {
    const bool stacked = placement % 2 == 1, below = placement >= 2;
    if (below && room.label.x <= 0.0f) break;
    const int64_t count = stacked ? l.grid_cols : l.grid_rows;
    int64_t last = 0;
    for (int64_t k = 1; k <= count; ++k) {
      PlateLayout c = l;
      c.stacked = stacked;
      c.label_below = below;
      c.per_band = (count + k - 1) / k;
      if (c.per_band == last) continue;
      last = c.per_band;
      c.bands = (count + c.per_band - 1) / c.per_band;
      if (stacked && c.bands == 1) continue;  // the same as side by side with one band
      const float zoom = largestZoom(c, room);
      if (zoom > best_zoom * 1.0001f) {
        best_zoom = zoom;
        best = c;
      }
    }
  }
  scaleTo(best, room, best_zoom);
  return best;
}

// ---- The lit region as boxes
// ------------------------------------------------------------------------

namespace {

// Whether `next` extends `last` (in place): the same box for another channel, the next rows of one
// picture, or (plates) the next tile along a row or a column of one band.
bool mergeInto(TileBox& last, const TileBox& next, const PlateLayout& l) {
  const bool one_tile = last.row0 == last.row1 && last.col0 == last.col1;
  const bool same_tile = one_tile && next.row0 == last.row0 && next.col0 == last.col0;
  const bool same_rows = last.h0 == next.h0 && last.h1 == next.h1;
  const bool same_cols = last.w0 == next.w0 && last.w1 == next.w1;
  if (same_tile && same_rows && same_cols) {
    last.channels |= next.channels;
    return true;
  }
  if (last.channels != next.channels) return false;
  if (same_tile && same_cols && last.h1 == next.h0) {
    last.h1 = next.h1;
    return true;
  }
  if (same_tile && same_rows && last.w1 == next.w0) {
    last.w1 = next.w1;
    return true;
  }
  if (l.image || l.bandOf(next.row0, next.col0) != l.bandOf(last.row0, last.col0)) return false;
  const bool full_h = next.h0 == 0 && next.h1 == l.tile_h,
             full_w = next.w0 == 0 && next.w1 == l.tile_w;
  if (same_rows && same_cols && full_w && last.row0 == last.row1 && next.row0 == last.row0 &&
      next.row1 == next.row0 && next.col0 == last.col1 + 1) {
    last.col1 = next.col1;
    return true;
  }
  if (same_rows && same_cols && full_h && last.col0 == next.col0 && last.col1 == next.col1 &&
      next.row0 == last.row1 + 1) {
    last.row1 = next.row1;
    return true;
  }
  return false;
}

}  // namespace

std::vector<TileBox> litBoxes(const PlateLayout& l, const ReductionPlan& plan, int64_t group) {
  constexpr size_t limit = 50000;
  std::vector<TileBox> out;
  const int64_t w = l.tile_w, area = l.tile_h * l.tile_w;
  auto add = [&](const PlateLayout::Cell& c, int64_t h0, int64_t h1, int64_t w0, int64_t w1) {
    const TileBox box{c.row, c.row, c.col, c.col, h0, h1, w0, w1, 1u << (c.channel & 31)};
    if (!out.empty() && mergeInto(out.back(), box, l)) return;
    if (out.size() < limit) out.push_back(box);
  };
  plan.forEachRun(group, [&](int64_t offset, int64_t length) {
    while (length > 0 && out.size() < limit) {
      // The run's piece in one picture, [start, end) of its cells: a partial first row, whole rows,
      // a partial last row.
      const int64_t start = offset % area, take = std::min(length, area - start),
                    end = start + take;
      const PlateLayout::Cell c = l.cellOf(offset);
      const int64_t h0 = start / w, w0 = start % w, h1 = (end - 1) / w, w1 = (end - 1) % w + 1;
      if (h0 == h1) {
        add(c, h0, h0 + 1, w0, w1);
      } else {
        const int64_t full0 = w0 > 0 ? h0 + 1 : h0, full1 = w1 < w ? h1 : h1 + 1;
        if (w0 > 0) add(c, h0, h0 + 1, w0, w);
        if (full0 < full1) add(c, full0, full1, 0, w);
        if (w1 < w) add(c, h1, h1 + 1, 0, w1);
      }
      offset += take;
      length -= take;
    }
  });
  // Rows of tiles that came apart (a group over several samples and channels): stack them.
  std::vector<TileBox> merged;
  for (const TileBox& box : out)
    if (merged.empty() || !mergeInto(merged.back(), box, l)) merged.push_back(box);
  return merged;
}

std::pair<glm::vec2, glm::vec2> boxRect(const PlateLayout& l, const TileBox& box, bool y) {
  const glm::vec2 lo = l.tileOrigin(box.row0, box.col0, y) +
                       glm::vec2(static_cast<float>(box.w0), static_cast<float>(box.h0));
  const glm::vec2 hi = l.tileOrigin(box.row1, box.col1, y) +
                       glm::vec2(static_cast<float>(box.w1), static_cast<float>(box.h1));
  return {lo, hi};
}

// ---- Atlas
// ---------------------------------------------------------------------------------------

std::optional<PlateAtlas> plateAtlas(const PlateLayout& l, int64_t max_texture) {
  if (l.tile_w > max_texture || l.tile_h > max_texture) return std::nullopt;
  const int64_t tiles = l.tiles();
  const double square = std::sqrt(static_cast<double>(tiles) * static_cast<double>(l.tile_h) /
                                  static_cast<double>(l.tile_w));
  PlateAtlas a;
  a.cols = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(square)), 1,
                               std::min(tiles, max_texture / l.tile_w));
  a.rows = (tiles + a.cols - 1) / a.cols;
  if (a.rows * l.tile_h > max_texture) {
    a.cols = std::min(tiles, max_texture / l.tile_w);
    a.rows = (tiles + a.cols - 1) / a.cols;
    if (a.rows * l.tile_h > max_texture) return std::nullopt;
  }
  a.width = a.cols * l.tile_w;
  a.height = a.rows * l.tile_h;
  return a;
}

}  // namespace normviz
