// The plates and image views' geometry: the tensor as a grid of small pictures (tiles). Plain math,
// no OpenGL, so tests check it directly and shaders/plates.frag mirrors it.
//
//   plates  a tile is one (n, c) plate: an H x W picture of its values, tiles in a grid of rows n
//           and columns c (the axes between the first and the last two together), x's grid and
//           y's grid side by side
//   image   a tile is one sample: its C = 1 or 3 channels together as one gray or RGB picture, x's
//           picture and y's side by side in the tile, then room for the per-channel statistics
//
// Sheet space is measured in cells (one element of a picture), y down, as in the sheet view. A
// grid that would leave the tiles small is cut into bands: its columns into bands stacked downward,
// or its rows into bands set side by side, whichever gives the largest tiles in the view.
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

// Which shapes each view can draw: plates need a rank of 3 or more (the last two axes make the
// picture), the image view (N, C, H, W) with C = 1 or 3.
bool platesOffered(const Shape& shape);
bool imageOffered(const Shape& shape);
// Why not, for the controls and the view's note ("" when offered).
std::string platesRefusal(const Shape& shape);
std::string imageRefusal(const Shape& shape);
// Large pictures: rank 4 or more with H and W of 4 or more and H·W of 64 or more, where the sheet's
// rows (one per (n, c), H·W cells long) would be too thin to read. The plates are then the
// automatic choice past the cube view's sizes.
bool platesSuit(const Shape& shape);
// Photos as ToTensor makes them: (N, 1 or 3, H, W) with H and W of 16 or more and every value in
// [0, 1]. The image view is then the automatic choice.
bool photoLike(const Shape& shape, double lo, double hi);

// The pixels a fitted layout may fill, and the fixed pixels each tile carries beside its picture.
struct PlateRoom {
  glm::vec2 room{800.0f, 600.0f};  // the view less its margins
  glm::vec2 label{0.0f};           // image: the statistics beside each tile (width, height)
  float band_gap = 0;              // at least this many pixels between bands (their tick labels)
  float block_gap = 0;             // ... and between x's block and y's (plates)
};

struct PlateLayout {
  Shape shape;
  bool image = false;
  int64_t tile_h = 1, tile_w = 1;        // a picture's cells: H, W
  int64_t grid_rows = 1, grid_cols = 1;  // tiles: n by c (plates), n by 1 (image)
  int64_t channels = 1;                  // image: C
  bool with_y = true;
  bool stacked = false;  // columns cut into bands stacked downward (else rows, side by side)
  int64_t bands = 1, per_band = 1;             // bands; grid columns (stacked) or rows per band
  float pad = 1, band_gap = 2, block_gap = 4;  // cells between tiles, bands, x's block and y's
  float label_w = 0, label_h = 0;              // image: cells of each tile's statistics
  bool label_below = false;                    // ... under its pictures (else to their right)
  float fit_zoom = 1;                          // pixels per cell the layout was made for

  int64_t bandRows() const { return stacked ? grid_rows : per_band; }
  int64_t bandCols() const { return stacked ? per_band : grid_cols; }
  // A tile: plates a picture; image x's picture, a pad, y's picture, the statistics beside or
  // below.
  float picturesWidth() const;
  float tileWidth() const;
  float tileHeight() const;
  glm::vec2 pitch() const { return glm::vec2(tileWidth(), tileHeight()) + pad; }
  glm::vec2 bandSize() const;
  glm::vec2 blockSize() const;
  float width() const;
  float height() const { return blockSize().y; }
  int64_t tiles() const { return grid_rows * grid_cols; }
  // The band a grid tile is in.
  int64_t bandOf(int64_t row, int64_t col) const { return (stacked ? col : row) / per_band; }

  // The top left corner of tile (row, col)'s picture of x, or of y.
  glm::vec2 tileOrigin(int64_t row, int64_t col, bool y) const;
  // The top left corner of a tile's statistics (image).
  glm::vec2 labelOrigin(int64_t row) const;

  // An element's place: its tile, the cell in the picture, its channel (image; 0 for plates).
  struct Cell {
    int64_t row = 0, col = 0, h = 0, w = 0, channel = 0;
  };
  Cell cellOf(int64_t flat) const;
  int64_t flatOf(const Cell& cell) const;
  // The tile's index in the atlas of pictures: the plate (n·C + c), or the sample.
  int64_t tileIndex(int64_t row, int64_t col) const { return row * grid_cols + col; }

  // What lies at sheet point p: a cell of x's or y's picture (section Input or Output), or a tile's
  // statistics (image: `label` set, at `in_label` cells from its top left), or nothing.
  struct Hit {
    Section section = Section::Input;
    int64_t row = 0, col = 0, h = 0, w = 0;
    bool label = false;
    glm::vec2 in_label{0.0f};
  };
  std::optional<Hit> at(glm::vec2 p) const;
  // The centre of an element's cell in x's (Input) or y's (Output) picture.
  glm::vec2 center(Section section, int64_t flat) const;
};

// Lays out `shape` as plates (image false) or pictures (image true) with or without y, choosing the
// bands (and the statistics' place) that make the tiles largest in `room`; pads stay at least 2 px
// at that fit.
PlateLayout makePlateLayout(const Shape& shape, bool image, bool with_y, const PlateRoom& room);

// The lit group as boxes of tiles: tiles [row0, row1] x [col0, col1] of one band and, within each,
// rows [h0, h1) and columns [w0, w1) of the picture. Runs of the group merge into as few boxes as
// their shape allows (BatchNorm: one column of plates per band; InstanceNorm: one plate; LayerNorm
// over (W): one row of a plate). In the image view boxes never span pictures; `channels` has bit c
// set for each channel c the box covers. At most 50,000 boxes.
struct TileBox {
  int64_t row0 = 0, row1 = 0, col0 = 0, col1 = 0;
  int64_t h0 = 0, h1 = 0, w0 = 0, w1 = 0;
  uint32_t channels = 0;
  bool operator==(const TileBox&) const = default;
};
std::vector<TileBox> litBoxes(const PlateLayout& layout, const ReductionPlan& plan, int64_t group);
// A box's rectangle in sheet space (top left, bottom right) over x's pictures or y's.
std::pair<glm::vec2, glm::vec2> boxRect(const PlateLayout& layout, const TileBox& box, bool y);

// Where tiles sit in a texture atlas: `cols` tiles across, each tile_w x tile_h texels.
struct PlateAtlas {
  int64_t cols = 1, rows = 1;
  int64_t width = 0, height = 0;  // texels
  glm::ivec2 texel(const PlateLayout& layout, int64_t tile, int64_t h, int64_t w) const {
    return {static_cast<int>((tile % cols) * layout.tile_w + w),
            static_cast<int>((tile / cols) * layout.tile_h + h)};
  }
};
// A near-square atlas within `max_texture` texels a side; nullopt when none fits.
std::optional<PlateAtlas> plateAtlas(const PlateLayout& layout, int64_t max_texture);

}  // namespace normviz
