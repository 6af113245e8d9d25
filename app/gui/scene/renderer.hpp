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

// Compiles and links a vertex and a fragment shader into `program`; "" or the compiler's message,
// naming `name` ("cubes" for cubes.vert and cubes.frag).
std::string buildProgram(const char* vert, const char* frag, const std::string& name,
                         unsigned& program);

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
  // Draws instances [first, first + count) in the current viewport, lighting the ByGroup cubes of
  // `lit_group` and fading the others (none: all drawn normally). Two passes: solid cubes (lit and
  // normal) with depth and a stencil mark, then faded cubes as translucent ghosts, without depth
  // writes and only where no solid cube was drawn, so a ghost never hides a lit cube. Ghosts lose
  // `desaturate` of their colour to grey and are blended with opacity `ghost_alpha`.
  // Needs a stencil buffer cleared to 0.
  void draw(const glm::mat4& view_proj, int64_t first, int64_t count,
            std::optional<int64_t> lit_group, glm::vec3 outline, float ghost_alpha,
            float desaturate) const;
  // The same two passes writing instance index + 1 (24 bits in RGB) instead of colour, ghosts
  // opaque among themselves: which cube owns each pixel, for the visibility report.
  void drawIds(const glm::mat4& view_proj, int64_t first, int64_t count,
               std::optional<int64_t> lit_group) const;

 private:
  void bindInstances(int64_t first) const;
  void drawPasses(int64_t count, bool ids) const;

  unsigned program_ = 0, vao_ = 0, mesh_ = 0, instances_ = 0;
  int64_t capacity_ = 0;
  int loc_view_proj_ = -1, loc_outline_ = -1, loc_ghost_alpha_ = -1, loc_desaturate_ = -1,
      loc_lit_group_ = -1, loc_pass_ = -1, loc_id_mode_ = -1, loc_first_ = -1;
};

// A colour + depth/stencil render target of a fixed size, read back as RGBA rows top to bottom.
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
