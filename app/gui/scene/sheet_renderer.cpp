// Sheet textures and the one-quad draw (see shaders/sheet.frag).
#include "sheet_renderer.hpp"

#include "gl_functions.hpp"
#include "renderer.hpp"

namespace normviz::embedded {
extern const char* const sheet_vert;
extern const char* const sheet_frag;
}  // namespace normviz::embedded

namespace normviz {

void makeNearestTexture(unsigned& tex) {
  if (tex == 0) gl::GenTextures(1, &tex);
  gl::BindTexture(GL_TEXTURE_2D, tex);
  gl::TexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
  gl::TexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
  gl::TexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  gl::TexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
}

void uploadRgbaTexture(unsigned& tex, const std::vector<uint8_t>& data, int64_t w, int64_t h) {
  makeNearestTexture(tex);
  gl::PixelStorei(GL_UNPACK_ALIGNMENT, 1);
  if (data.empty()) {
    const uint8_t black[4] = {0, 0, 0, 255};
    gl::TexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, 1, 1, 0, GL_RGBA, GL_UNSIGNED_BYTE, black);
    return;
  }
  gl::TexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, static_cast<GLsizei>(w), static_cast<GLsizei>(h), 0,
                 GL_RGBA, GL_UNSIGNED_BYTE, data.data());
}

SheetRenderer::~SheetRenderer() {
  if (gl::DeleteProgram == nullptr) return;
  if (program_) gl::DeleteProgram(program_);
  if (vao_) gl::DeleteVertexArrays(1, &vao_);
  for (unsigned* t : {&tex_x_, &tex_y_, &tex_stats_, &tex_groups_[0], &tex_groups_[1],
                      &tex_groups_[2], &tex_groups_[3]})
    if (*t) gl::DeleteTextures(1, t);
}

std::string SheetRenderer::init() {
  if (std::string error =
          buildProgram(embedded::sheet_vert, embedded::sheet_frag, "sheet", program_);
      !error.empty())
    return error;
  gl::GenVertexArrays(1, &vao_);
  gl::GetIntegerv(GL_MAX_TEXTURE_SIZE, &max_texture_);
  return "";
}

std::string SheetRenderer::upload(const SheetImages& images) {
  if (images.cols > max_texture_ || images.rows > max_texture_)
    return "the sheet needs a " + std::to_string(images.cols) + " x " +
           std::to_string(images.rows) + " texture; this GPU allows at most " +
           std::to_string(max_texture_) + " per side";
  gl::ActiveTexture(GL_TEXTURE0);
  uploadRgbaTexture(tex_x_, images.x, images.cols, images.rows);
  uploadRgbaTexture(tex_y_, images.y, images.cols, images.rows);
  uploadRgbaTexture(tex_stats_, images.stats, 2, images.rows);
  uploadGroups(0, images.groups, images.rows, images.cols);
  return "";
}

void SheetRenderer::uploadGroups(int slot, const std::vector<float>& groups, int64_t rows,
                                 int64_t cols) {
  gl::ActiveTexture(GL_TEXTURE0);
  makeNearestTexture(tex_groups_[slot & 3]);
  gl::PixelStorei(GL_UNPACK_ALIGNMENT, 4);
  gl::TexImage2D(GL_TEXTURE_2D, 0, GL_R32F, static_cast<GLsizei>(cols), static_cast<GLsizei>(rows),
                 0, GL_RED, GL_FLOAT, groups.data());
}

void SheetRenderer::draw(const SheetLayout& sheet, const SheetCamera& camera, const View& view,
                         int group_slot, std::optional<int64_t> lit_group, bool by_group,
                         glm::vec3 background, const std::vector<glm::vec3>& palette,
                         float fade) const {
  if (program_ == 0) return;
  gl::UseProgram(program_);
  auto loc = [&](const char* name) { return gl::GetUniformLocation(program_, name); };
  const unsigned textures[] = {tex_x_, tex_y_, tex_groups_[group_slot & 3], tex_stats_};
  const char* names[] = {"u_x", "u_y", "u_groups", "u_stats"};
  for (int i = 0; i < 4; ++i) {
    gl::ActiveTexture(static_cast<GLenum>(GL_TEXTURE0 + i));
    gl::BindTexture(GL_TEXTURE_2D, textures[i]);
    gl::Uniform1i(loc(names[i]), i);
  }
  gl::ActiveTexture(GL_TEXTURE0);
  for (size_t i = 0; i < palette.size() && i < 24; ++i) {
    const std::string name = "u_palette[" + std::to_string(i) + "]";
    gl::Uniform3f(loc(name.c_str()), palette[i].r, palette[i].g, palette[i].b);
  }
  gl::Uniform1i(loc("u_by_group"), by_group ? 1 : 0);
  gl::Uniform2f(loc("u_view_pos"), view.pos.x, view.pos.y);
  gl::Uniform2f(loc("u_view_size"), view.size.x, view.size.y);
  gl::Uniform1f(loc("u_fb_height"), view.fb_height);
  gl::Uniform1f(loc("u_fb_scale"), view.fb_scale);
  gl::Uniform2f(loc("u_center"), camera.center.x, camera.center.y);
  gl::Uniform1f(loc("u_zoom"), camera.zoom);
  gl::Uniform1i(loc("u_rows"), static_cast<int>(sheet.rows));
  gl::Uniform1i(loc("u_cols"), static_cast<int>(sheet.cols));
  gl::Uniform1i(loc("u_band_rows"), static_cast<int>(sheet.band_rows));
  gl::Uniform1i(loc("u_bands"), static_cast<int>(sheet.bands));
  gl::Uniform1i(loc("u_strip"), sheet.strip ? 1 : 0);
  gl::Uniform1i(loc("u_with_y"), sheet.with_y ? 1 : 0);
  gl::Uniform1f(loc("u_strip_w"), sheet.strip_w);
  gl::Uniform1f(loc("u_gap"), sheet.gap);
  gl::Uniform1f(loc("u_block_gap"), sheet.block_gap);
  gl::Uniform1f(loc("u_lit"), lit_group ? static_cast<float>(*lit_group) : -1.0f);
  gl::Uniform3f(loc("u_background"), background.r, background.g, background.b);
  gl::Uniform1f(loc("u_fade"), fade);
  gl::BindVertexArray(vao_);
  gl::DrawArrays(GL_TRIANGLES, 0, 6);
  gl::BindVertexArray(0);
  gl::UseProgram(0);
}

}  // namespace normviz
