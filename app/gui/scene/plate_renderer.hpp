// OpenGL side of the plates and image views: the tiles' pictures in atlas textures (colours of x
// and y, every cell's group) and one full-viewport draw whose fragment shader (shaders/plates.frag)
// maps pixels to tiles and cells as PlateLayout::at does.
#pragma once

#include <cstdint>
#include <glm/glm.hpp>
#include <optional>
#include <string>
#include <vector>

#include "plate_layout.hpp"
#include "sheet_layout.hpp"

namespace normviz {

// What the textures hold, laid out as `atlas` says: RGBA8 colours of x's and y's pictures, and each
// texel's group: one float (plates) or one per channel (image: R, G, B; gray repeats it).
struct PlateImages {
  PlateAtlas atlas;
  std::vector<uint8_t> x, y;  // width × height × 4
  std::vector<float> groups;  // width × height × components
  int components = 1;
};

class PlateRenderer {
 public:
  PlateRenderer() = default;
  PlateRenderer(const PlateRenderer&) = delete;
  PlateRenderer& operator=(const PlateRenderer&) = delete;
  ~PlateRenderer();

  std::string init();  // compiles the embedded shaders; an error message or ""
  void upload(const PlateImages& images);
  // Replaces one of the group textures (slot 0: the single layout; 0..3: the compare panels).
  void uploadGroups(int slot, const std::vector<float>& groups, int components,
                    const PlateAtlas& atlas);
  struct View {
    glm::vec2 pos, size;  // window pixels, y down
    float fb_height = 0, fb_scale = 1;
  };
  struct Look {
    std::optional<int64_t> lit_group;
    bool by_group = false;
    glm::vec3 background{0.0f};
    float fade = 0.78f;  // how far the cells outside the lit group go toward the background
    float grey = 0.75f;  // ... and toward their own grey
  };
  void draw(const PlateLayout& layout, const SheetCamera& camera, const View& view, int group_slot,
            const Look& look, const std::vector<glm::vec3>& palette) const;
  int maxTextureSize() const { return max_texture_; }

 private:
  void setLayout(const PlateLayout& layout) const;

  unsigned program_ = 0, vao_ = 0;
  unsigned tex_x_ = 0, tex_y_ = 0;
  unsigned tex_groups_[4] = {0, 0, 0, 0};
  int components_[4] = {1, 1, 1, 1};
  int atlas_cols_ = 1;
  int max_texture_ = 0;
};

}  // namespace normviz
