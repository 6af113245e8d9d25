// Plate textures and the one-quad draw (see shaders/plates.frag).
#include "plate_renderer.hpp"

#include "gl_functions.hpp"
#include "renderer.hpp"
#include "sheet_renderer.hpp"

namespace normviz::embedded {
extern const char* const sheet_vert;
extern const char* const plates_frag;
}  // namespace normviz::embedded

namespace normviz {

PlateRenderer::~PlateRenderer() {
  if (gl::DeleteProgram == nullptr) return;
  if (program_) gl::DeleteProgram(program_);
  if (vao_) gl::DeleteVertexArrays(1, &vao_);
  for (unsigned* t :
       {&tex_x_, &tex_y_, &tex_groups_[0], &tex_groups_[1], &tex_groups_[2], &tex_groups_[3]})
    if (*t) gl::DeleteTextures(1, t);
}

std::string PlateRenderer::init() {
  // The vertex shader is the sheet's: one quad over the viewport.
  if (std::string error =
          buildProgram(embedded::sheet_vert, embedded::plates_frag, "plates", program_);
      !error.empty())
    return error;
  gl::GenVertexArrays(1, &vao_);
  gl::GetIntegerv(GL_MAX_TEXTURE_SIZE, &max_texture_);
  return "";
}

void PlateRenderer::upload(const PlateImages& images) {
  gl::ActiveTexture(GL_TEXTURE0);
  uploadRgbaTexture(tex_x_, images.x, images.atlas.width, images.atlas.height);
  uploadRgbaTexture(tex_y_, images.y, images.atlas.width, images.atlas.height);
  uploadGroups(0, images.groups, images.components, images.atlas);
  atlas_cols_ = static_cast<int>(images.atlas.cols);
}

void PlateRenderer::uploadGroups(int slot, const std::vector<float>& groups, int components,
                                 const PlateAtlas& atlas) {
  gl::ActiveTexture(GL_TEXTURE0);
  makeNearestTexture(tex_groups_[slot & 3]);
  components_[slot & 3] = components;
  gl::PixelStorei(GL_UNPACK_ALIGNMENT, 4);
  const bool rgb = components == 3;
  gl::TexImage2D(GL_TEXTURE_2D, 0, rgb ? GL_RGB32F : GL_R32F, static_cast<GLsizei>(atlas.width),
                 static_cast<GLsizei>(atlas.height), 0, rgb ? GL_RGB : GL_RED, GL_FLOAT,
                 groups.data());
}

void PlateRenderer::setLayout(const PlateLayout& l) const {
  auto loc = [&](const char* name) { return gl::GetUniformLocation(program_, name); };
  gl::Uniform1i(loc("u_image"), l.image ? 1 : 0);
  gl::Uniform1i(loc("u_with_y"), l.with_y ? 1 : 0);
  gl::Uniform1i(loc("u_stacked"), l.stacked ? 1 : 0);
  gl::Uniform1i(loc("u_bands"), static_cast<int>(l.bands));
  gl::Uniform1i(loc("u_per_band"), static_cast<int>(l.per_band));
  gl::Uniform1i(loc("u_grid_rows"), static_cast<int>(l.grid_rows));
  gl::Uniform1i(loc("u_grid_cols"), static_cast<int>(l.grid_cols));
  gl::Uniform1i(loc("u_tile_w"), static_cast<int>(l.tile_w));
  gl::Uniform1i(loc("u_tile_h"), static_cast<int>(l.tile_h));
  gl::Uniform1i(loc("u_atlas_cols"), atlas_cols_);
  gl::Uniform1f(loc("u_pad"), l.pad);
  gl::Uniform1f(loc("u_band_gap"), l.band_gap);
  gl::Uniform1f(loc("u_block_gap"), l.block_gap);
  gl::Uniform1f(loc("u_label_w"), l.label_w);
  gl::Uniform1f(loc("u_label_h"), l.label_h);
  gl::Uniform1i(loc("u_label_below"), l.label_below ? 1 : 0);
}

void PlateRenderer::draw(const PlateLayout& layout, const SheetCamera& camera, const View& view,
                         int group_slot, const Look& look,
                         const std::vector<glm::vec3>& palette) const {
  if (program_ == 0) return;
  gl::UseProgram(program_);
  auto loc = [&](const char* name) { return gl::GetUniformLocation(program_, name); };
  const unsigned textures[] = {tex_x_, tex_y_, tex_groups_[group_slot & 3]};
  const char* names[] = {"u_x", "u_y", "u_groups"};
  for (int i = 0; i < 3; ++i) {
    gl::ActiveTexture(static_cast<GLenum>(GL_TEXTURE0 + i));
    gl::BindTexture(GL_TEXTURE_2D, textures[i]);
    gl::Uniform1i(loc(names[i]), i);
  }
  gl::ActiveTexture(GL_TEXTURE0);
  for (size_t i = 0; i < palette.size() && i < 24; ++i) {
    const std::string name = "u_palette[" + std::to_string(i) + "]";
    gl::Uniform3f(loc(name.c_str()), palette[i].r, palette[i].g, palette[i].b);
  }
  gl::Uniform1i(loc("u_channels"), components_[group_slot & 3]);
  gl::Uniform1i(loc("u_by_group"), look.by_group ? 1 : 0);
  gl::Uniform2f(loc("u_view_pos"), view.pos.x, view.pos.y);
  gl::Uniform2f(loc("u_view_size"), view.size.x, view.size.y);
  gl::Uniform1f(loc("u_fb_height"), view.fb_height);
  gl::Uniform1f(loc("u_fb_scale"), view.fb_scale);
  gl::Uniform2f(loc("u_center"), camera.center.x, camera.center.y);
  gl::Uniform1f(loc("u_zoom"), camera.zoom);
  setLayout(layout);
  gl::Uniform1f(loc("u_lit"), look.lit_group ? static_cast<float>(*look.lit_group) : -1.0f);
  gl::Uniform3f(loc("u_background"), look.background.r, look.background.g, look.background.b);
  gl::Uniform1f(loc("u_fade"), look.fade);
  gl::Uniform1f(loc("u_grey"), look.grey);
  gl::BindVertexArray(vao_);
  gl::DrawArrays(GL_TRIANGLES, 0, 6);
  gl::BindVertexArray(0);
  gl::UseProgram(0);
}

}  // namespace normviz
