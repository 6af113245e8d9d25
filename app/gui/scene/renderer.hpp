// OpenGL drawing of the cubes (one instanced draw call per view) and an offscreen framebuffer for
// screenshots. Needs a current GL 3.3 core context with gl::load() done.
#pragma once

#include <cstdint>
#include <glm/glm.hpp>
#include <optional>
#include <string>
#include <vector>

#include "scene_colors.hpp"

namespace normviz {

class CubeRenderer {
 public:
  CubeRenderer() = default;
  CubeRenderer(const CubeRenderer&) = delete;
  CubeRenderer& operator=(const CubeRenderer&) = delete;
  ~CubeRenderer();

  // Compiles the embedded shaders and creates the cube mesh; returns an error message or "".
  std::string init();
  // Replaces the instance buffer.
  void upload(const std::vector<CubeInstance>& instances);
  // Draws instances [first, first + count) in the current viewport with one instanced call,
  // lighting the ByGroup cubes of `lit_group` and fading the others (none: all drawn normally).
  // Faded cubes lose `desaturate` of their colour to grey, then `fade` of it to the background.
  void draw(const glm::mat4& view_proj, int64_t first, int64_t count,
            std::optional<int64_t> lit_group, glm::vec3 background, glm::vec3 outline, float fade,
            float desaturate) const;

 private:
  unsigned program_ = 0, vao_ = 0, mesh_ = 0, instances_ = 0;
  int64_t capacity_ = 0;
  int loc_view_proj_ = -1, loc_cube_size_ = -1, loc_background_ = -1, loc_outline_ = -1,
      loc_fade_ = -1, loc_desaturate_ = -1, loc_lit_group_ = -1;
};

// A colour + depth render target of a fixed size, read back as RGBA rows top to bottom.
class Framebuffer {
 public:
  Framebuffer() = default;
  Framebuffer(const Framebuffer&) = delete;
  Framebuffer& operator=(const Framebuffer&) = delete;
  ~Framebuffer();

  std::string create(int width, int height);  // error message or ""
  void bind() const;
  static void bindDefault();
  std::vector<uint8_t> readRgba() const;
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  unsigned fbo_ = 0, color_ = 0, depth_ = 0;
  int width_ = 0, height_ = 0;
};

}  // namespace normviz
