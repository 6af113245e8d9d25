// OpenGL side of the sheet view: the cell textures (colours of x and y, every cell's group, the
// statistics strip) and one full-viewport draw whose fragment shader maps pixels to cells.
#pragma once

#include <cstdint>
#include <glm/glm.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sheet_layout.hpp"

namespace normviz {

// A texture sampled texel by texel (nearest, clamped), made on first use and bound; and one filled
// with RGBA8 rows top to bottom (a black texel when `data` is empty). Shared with plate_renderer.
void makeNearestTexture(unsigned& tex);
void uploadRgbaTexture(unsigned& tex, const std::vector<uint8_t>& data, int64_t w, int64_t h);

// What the textures hold, as bytes ready to upload (RGBA8 rows top to bottom; groups as floats).
struct SheetImages {
  int64_t rows = 0, cols = 0;
  std::vector<uint8_t> x, y;   // cols × rows × 4
  std::vector<float> groups;   // cols × rows
  std::vector<uint8_t> stats;  // 2 × rows × 4: mean colour, rstd colour (empty: no strip)
};

class SheetRenderer {
 public:
  SheetRenderer() = default;
  SheetRenderer(const SheetRenderer&) = delete;
  SheetRenderer& operator=(const SheetRenderer&) = delete;
  ~SheetRenderer();

  std::string init();  // compiles the embedded shaders; an error message or ""
  // Uploads the images; an error message (a sheet past the GPU's texture size) or "".
  std::string upload(const SheetImages& images);
  // Replaces one of the group textures (slot 0: the single layout; 0..3: the compare panels).
  void uploadGroups(int slot, const std::vector<float>& groups, int64_t rows, int64_t cols);
  struct View {
    glm::vec2 pos, size;  // window pixels, y down
    float fb_height = 0, fb_scale = 1;
  };
  void draw(const SheetLayout& sheet, const SheetCamera& camera, const View& view, int group_slot,
            std::optional<int64_t> lit_group, bool by_group, glm::vec3 background,
            const std::vector<glm::vec3>& palette, float fade) const;
  int maxTextureSize() const { return max_texture_; }

 private:
  unsigned program_ = 0, vao_ = 0;
  unsigned tex_x_ = 0, tex_y_ = 0, tex_stats_ = 0;
  unsigned tex_groups_[4] = {0, 0, 0, 0};
  int max_texture_ = 0;
};

}  // namespace normviz
