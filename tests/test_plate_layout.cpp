// The plates and image views' geometry without a window: every element's cell maps back to it, the
// fit stays in its room, the lit region's boxes cover exactly the group (BatchNorm a column of
// plates, InstanceNorm one plate, GroupNorm a run in a row, LayerNorm a row of plates or one row of
// a plate), the atlas gives every cell its own texel, and which view a shape opens in.
#include <doctest/doctest.h>

#include <set>

#include "app_compute.hpp"
#include "plate_layout.hpp"
#include "shortcuts.hpp"

using namespace normviz;

namespace {

ReductionPlan planFor(const Shape& shape, NormKind kind, int64_t groups = 1,
                      std::vector<int64_t> normalized = {}) {
  NormConfig c;
  c.kind = kind;
  c.groups = groups;
  c.normalized_shape = std::move(normalized);
  return ReductionPlan::make(shape, c);
}

PlateRoom roomOf(float w, float h, glm::vec2 label = glm::vec2(0.0f)) {
  PlateRoom r;
  r.room = glm::vec2(w, h);
  r.label = label;
  r.band_gap = 20.0f;
  r.block_gap = 40.0f;
  return r;
}

// The elements the boxes cover (with their channels, in the image view), each once.
std::set<int64_t> covered(const PlateLayout& l, const std::vector<TileBox>& boxes) {
  std::set<int64_t> out;
  for (const TileBox& b : boxes)
    for (int64_t r = b.row0; r <= b.row1; ++r)
      for (int64_t c = b.col0; c <= b.col1; ++c)
        for (int64_t ch = 0; ch < l.channels; ++ch) {
          if (!(b.channels & (1u << ch))) continue;
          for (int64_t h = b.h0; h < b.h1; ++h)
            for (int64_t w = b.w0; w < b.w1; ++w) {
              const int64_t flat = l.flatOf({r, c, h, w, ch});
              CHECK(out.insert(flat).second);
            }
        }
  return out;
}

std::set<int64_t> groupSet(const ReductionPlan& plan, int64_t group) {
  std::set<int64_t> out;
  for (int64_t i : plan.elementsOf(group)) out.insert(i);
  return out;
}

}  // namespace

TEST_CASE("plates and pictures: every cell's centre maps back to its element, inside the room") {
  struct Case {
    Shape shape;
    bool image, with_y;
    glm::vec2 room, label;
  };
  const Case cases[] = {
      {{32, 64, 56, 56}, false, true, {620, 560}, {0, 0}},
      {{2, 8, 7, 5}, false, true, {1200, 300}, {0, 0}},
      {{64, 3, 8, 8}, false, false, {300, 900}, {0, 0}},
      {{16, 128, 64}, false, true, {600, 600}, {0, 0}},
      {{4, 3, 12, 16}, true, true, {620, 700}, {260, 90}},
      {{1, 1, 9, 7}, true, true, {400, 400}, {200, 50}},
      {{6, 3, 10, 10}, true, false, {300, 300}, {0, 0}},
  };
  for (const Case& c : cases) {
    const PlateLayout l =
        makePlateLayout(c.shape, c.image, c.with_y, roomOf(c.room.x, c.room.y, c.label));
    INFO(c.shape.str() << (c.image ? " image" : " plates") << " bands " << l.bands << " stacked "
                       << l.stacked);
    CHECK(l.width() * l.fit_zoom <= c.room.x * 1.001f);
    CHECK(l.height() * l.fit_zoom <= c.room.y * 1.001f);
    CHECK(l.pad * l.fit_zoom >= 1.99f);  // plates stay apart on screen
    const int64_t numel = c.shape.numel();
    for (int64_t i = 0; i < numel; i += (c.image ? 1 : 7)) {
      for (const Section section : {Section::Input, Section::Output}) {
        if (section == Section::Output && !c.with_y) continue;
        const auto hit = l.at(l.center(section, i));
        REQUIRE(hit.has_value());
        CHECK_FALSE(hit->label);
        CHECK(hit->section == section);
        PlateLayout::Cell cell{hit->row, hit->col, hit->h, hit->w, l.cellOf(i).channel};
        CHECK(l.flatOf(cell) == i);
      }
    }
    // A point in the pad right of the first plate is nothing.
    if (!c.image) {
      const glm::vec2 pad =
          l.tileOrigin(0, 0, false) + glm::vec2(static_cast<float>(l.tile_w) + 0.5f * l.pad, 0.5f);
      CHECK_FALSE(l.at(pad).has_value());
    }
    CHECK_FALSE(l.at(glm::vec2(-0.5f, 0.5f)).has_value());
  }
}

TEST_CASE("the image view's statistics are hit as such, beside or below the pictures") {
  const PlateLayout l =
      makePlateLayout(Shape{2, 3, 20, 30}, true, true, roomOf(900.0f, 600.0f, {220.0f, 80.0f}));
  REQUIRE(l.label_w > 0.0f);
  const auto hit = l.at(l.labelOrigin(1) + glm::vec2(0.5f * l.label_w, 0.5f * l.label_h));
  REQUIRE(hit.has_value());
  CHECK(hit->label);
  CHECK(hit->row == 1);
}

TEST_CASE("the headline shape: thumbnails large enough to see, cut into bands to fit") {
  // (32, 64, 56, 56) in the room a 1280x800 window leaves between the panels.
  const PlateLayout l = makePlateLayout(Shape{32, 64, 56, 56}, false, true, roomOf(580.0f, 560.0f));
  CHECK(l.grid_rows == 32);
  CHECK(l.grid_cols == 64);
  CHECK(l.bands > 1);
  CHECK(static_cast<float>(l.tile_w) * l.fit_zoom >= 5.0f);
  // With the whole window: larger still.
  const PlateLayout big =
      makePlateLayout(Shape{32, 64, 56, 56}, false, true, roomOf(1240.0f, 700.0f));
  CHECK(static_cast<float>(big.tile_w) * big.fit_zoom >= 8.0f);
}

TEST_CASE("lit boxes: BatchNorm a column of plates, InstanceNorm one, GroupNorm a run, LayerNorm") {
  const Shape shape{32, 64, 56, 56};
  const PlateLayout l = makePlateLayout(shape, false, true, roomOf(580.0f, 560.0f));
  const PlateLayout side = [&] {
    PlateLayout s = l;  // the same grid, one band: boxes never split
    s.bands = 1;
    s.stacked = false;
    s.per_band = s.grid_rows;
    return s;
  }();
  {
    const ReductionPlan plan = planFor(shape, NormKind::Batch);
    const auto boxes = litBoxes(side, plan, 5);
    REQUIRE(boxes.size() == 1);
    CHECK(boxes[0] == TileBox{0, 31, 5, 5, 0, 56, 0, 56, 1u});
    CHECK(covered(side, boxes) == groupSet(plan, 5));
    CHECK(covered(l, litBoxes(l, plan, 40)) == groupSet(plan, 40));
  }
  {
    const ReductionPlan plan = planFor(shape, NormKind::Instance);
    const auto boxes = litBoxes(l, plan, 3 * 64 + 9);
    REQUIRE(boxes.size() == 1);
    CHECK(boxes[0] == TileBox{3, 3, 9, 9, 0, 56, 0, 56, 1u});
  }
  {
    const ReductionPlan plan = planFor(shape, NormKind::Group, 8);
    const auto boxes = litBoxes(side, plan, 3 * 8 + 1);  // n = 3, channels 8..15
    REQUIRE(boxes.size() == 1);
    CHECK(boxes[0] == TileBox{3, 3, 8, 15, 0, 56, 0, 56, 1u});
    CHECK(covered(l, litBoxes(l, plan, 7)) == groupSet(plan, 7));
  }
  {
    const ReductionPlan plan = planFor(shape, NormKind::Layer, 1, {64, 56, 56});
    const auto boxes = litBoxes(side, plan, 3);  // every plate of sample 3
    REQUIRE(boxes.size() == 1);
    CHECK(boxes[0] == TileBox{3, 3, 0, 63, 0, 56, 0, 56, 1u});
    CHECK(covered(l, litBoxes(l, plan, 3)) == groupSet(plan, 3));  // one box per band
  }
  {
    const ReductionPlan plan = planFor(shape, NormKind::Layer, 1, {56});
    const int64_t group = (3 * 64 + 9) * 56 + 10;  // row h = 10 of plate (3, 9)
    const auto boxes = litBoxes(l, plan, group);
    REQUIRE(boxes.size() == 1);
    CHECK(boxes[0] == TileBox{3, 3, 9, 9, 10, 11, 0, 56, 1u});
  }
  {
    // Rank 3 (N, C, L): each sample one C x L plate; BatchNorm1d keeps C, so row c of every plate.
    const Shape s3{8, 16, 32};
    const ReductionPlan plan = planFor(s3, NormKind::Batch);
    const PlateLayout l3 = makePlateLayout(s3, false, true, roomOf(600.0f, 600.0f));
    CHECK(covered(l3, litBoxes(l3, plan, 4)) == groupSet(plan, 4));
  }
}

TEST_CASE("lit boxes in pictures: one box per picture, naming the channels it covers") {
  const Shape shape{4, 3, 12, 16};
  const PlateLayout l = makePlateLayout(shape, true, true, roomOf(600.0f, 600.0f, {200, 80}));
  {
    const ReductionPlan plan = planFor(shape, NormKind::Instance);
    const auto boxes = litBoxes(l, plan, 2 * 3 + 1);  // picture 2, channel G
    REQUIRE(boxes.size() == 1);
    CHECK(boxes[0] == TileBox{2, 2, 0, 0, 0, 12, 0, 16, 2u});
  }
  {
    const ReductionPlan plan = planFor(shape, NormKind::Batch);
    const auto boxes = litBoxes(l, plan, 2);  // channel B of every picture
    REQUIRE(boxes.size() == 4);
    for (int64_t n = 0; n < 4; ++n) CHECK(boxes[static_cast<size_t>(n)].row0 == n);
    for (const TileBox& b : boxes) CHECK(b.channels == 4u);
    CHECK(covered(l, boxes) == groupSet(plan, 2));
  }
  {
    const ReductionPlan plan = planFor(shape, NormKind::Layer, 1, {3, 12, 16});
    const auto boxes = litBoxes(l, plan, 1);  // the whole of picture 1
    REQUIRE(boxes.size() == 1);
    CHECK(boxes[0].channels == 7u);
    CHECK(covered(l, boxes) == groupSet(plan, 1));
  }
}

TEST_CASE("the atlas gives every cell of every tile its own texel, within the texture limit") {
  for (const Shape& shape : {Shape{32, 64, 56, 56}, Shape{3, 1, 4096, 30}, Shape{1, 3, 9, 13}}) {
    const PlateLayout l = makePlateLayout(shape, false, true, roomOf(600.0f, 600.0f));
    const auto atlas = plateAtlas(l, 8192);
    REQUIRE(atlas.has_value());
    CHECK(atlas->width <= 8192);
    CHECK(atlas->height <= 8192);
    CHECK(atlas->cols * atlas->rows >= l.tiles());
    std::set<std::pair<int, int>> texels;
    for (int64_t t = 0; t < l.tiles(); t += std::max<int64_t>(1, l.tiles() / 50))
      for (const auto& [h, w] :
           {std::pair<int64_t, int64_t>{0, 0}, {l.tile_h - 1, l.tile_w - 1}, {l.tile_h / 2, 0}}) {
        const glm::ivec2 p = atlas->texel(l, t, h, w);
        CHECK(p.x < atlas->width);
        CHECK(p.y < atlas->height);
        CHECK(texels.emplace(p.x, p.y).second);
      }
  }
  const PlateLayout wide = makePlateLayout(Shape{2, 2, 4, 9000}, false, true, roomOf(600, 600));
  CHECK_FALSE(plateAtlas(wide, 8192).has_value());
}

TEST_CASE("which view a tensor opens in, and what S cycles through") {
  auto state = [](Shape shape, const std::string& init) {
    LayerOptions o;
    o.norm = NormKind::Batch;
    o.shape = std::move(shape);
    o.init = init;
    AppState s;
    initFromOptions(s, o);
    recomputeIfChanged(s);
    REQUIRE(s.error.empty());
    return s;
  };
  CHECK(shownDisplay(state({3, 4, 2, 2}, "randn")) == DisplayMode::Cubes);
  CHECK(shownDisplay(state({8, 16, 16, 16}, "randn")) == DisplayMode::Plates);  // past 16,384
  CHECK(shownDisplay(state({8, 64, 64}, "randn")) == DisplayMode::Sheet);       // no pictures
  CHECK(shownDisplay(state({2, 64, 2, 256}, "randn")) == DisplayMode::Sheet);   // H of 2
  // Photos (values in [0, 1], C = 1 or 3) open as pictures at any size; randn does not.
  CHECK(shownDisplay(state({1, 3, 32, 32}, "constant")) == DisplayMode::Image);
  CHECK(shownDisplay(state({4, 3, 64, 64}, "randn")) == DisplayMode::Plates);
  CHECK(shownDisplay(state({2, 3, 8, 8}, "constant")) == DisplayMode::Cubes);  // too small
  // A choice the shape cannot have gives way: the image view of 16 channels, cubes past the limit.
  AppState s = state({8, 16, 16, 16}, "randn");
  s.display = DisplayMode::Image;
  s.display_chosen = true;
  CHECK(shownDisplay(s) == DisplayMode::Plates);
  s.display = DisplayMode::Sheet;
  CHECK(shownDisplay(s) == DisplayMode::Sheet);
  // S: cubes, sheet, plates (no image for C = 16), cubes.
  s.display = DisplayMode::Cubes;
  std::vector<DisplayMode> seen;
  for (int k = 0; k < 3; ++k) {
    KeyInput keys;
    keys.taps = {Key::S};
    handleKeys(s, keys);
    seen.push_back(shownDisplay(s));
  }
  CHECK(seen ==
        std::vector<DisplayMode>{DisplayMode::Sheet, DisplayMode::Plates, DisplayMode::Cubes});
  // F asks the view to fit one plate.
  KeyInput f;
  f.taps = {Key::F};
  handleKeys(s, f);
  CHECK(s.focus_requested);
}
