// Shader compilation, the unit cube mesh, the instance buffer layout, and the offscreen target.
#include "renderer.hpp"

#include <algorithm>
#include <cstddef>

#include "gl_functions.hpp"

namespace normviz::embedded {
extern const char* const cubes_vert;
extern const char* const cubes_frag;
}  // namespace normviz::embedded

namespace normviz {

namespace {

// One shader source serves both dialects: written for GLSL 330 core, it becomes GLSL ES 300 on
// WebGL2, where nothing (not even a comment) may come before #version and precisions are declared.
std::string dialectOf(const char* source) {
  std::string text(source);
#if defined(__EMSCRIPTEN__)
  const size_t version = text.find("#version 330 core");
  if (version != std::string::npos)
    text =
        "#version 300 es\nprecision highp float;\nprecision highp int;\n"
        "precision highp sampler2D;\n" +
        text.substr(text.find('\n', version) + 1);
#endif
  return text;
}

std::string compile(GLuint shader, const char* raw_source, const char* name) {
  const std::string text = dialectOf(raw_source);
  const char* source = text.c_str();
  gl::ShaderSource(shader, 1, &source, nullptr);
  gl::CompileShader(shader);
  GLint ok = 0;
  gl::GetShaderiv(shader, GL_COMPILE_STATUS, &ok);
  if (ok) return "";
  char log[2048] = {};
  gl::GetShaderInfoLog(shader, sizeof log, nullptr, log);
  return std::string("shader ") + name + " does not compile: " + log;
}

// 36 vertices (12 triangles), each: corner xyz, normal xyz.
std::vector<float> cubeMesh() {
  std::vector<float> v;
  const float faces[6][3] = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
  for (const auto& n : faces) {
    const glm::vec3 normal(n[0], n[1], n[2]);
    // Two axes spanning the face, ordered so triangles wind counter-clockwise seen from outside.
    glm::vec3 u = glm::abs(normal.x) > 0.5f ? glm::vec3(0, 1, 0) : glm::vec3(1, 0, 0);
    glm::vec3 w = glm::cross(normal, u);
    const glm::vec3 c = normal * 0.5f;
    const glm::vec3 quad[4] = {c - 0.5f * u - 0.5f * w, c + 0.5f * u - 0.5f * w,
                               c + 0.5f * u + 0.5f * w, c - 0.5f * u + 0.5f * w};
    for (int i : {0, 1, 2, 0, 2, 3}) {
      v.insert(v.end(), {quad[i].x, quad[i].y, quad[i].z, normal.x, normal.y, normal.z});
    }
  }
  return v;
}

}  // namespace

CubeRenderer::~CubeRenderer() {
  if (gl::DeleteProgram == nullptr) return;
  if (program_) gl::DeleteProgram(program_);
  if (mesh_) gl::DeleteBuffers(1, &mesh_);
  if (instances_) gl::DeleteBuffers(1, &instances_);
  if (vao_) gl::DeleteVertexArrays(1, &vao_);
}

std::string buildProgram(const char* vert, const char* frag, const std::string& name,
                         unsigned& program) {
  const GLuint vs = gl::CreateShader(GL_VERTEX_SHADER), fs = gl::CreateShader(GL_FRAGMENT_SHADER);
  std::string error = compile(vs, vert, (name + ".vert").c_str());
  if (error.empty()) error = compile(fs, frag, (name + ".frag").c_str());
  if (error.empty()) {
    program = gl::CreateProgram();
    gl::AttachShader(program, vs);
    gl::AttachShader(program, fs);
    gl::LinkProgram(program);
    GLint ok = 0;
    gl::GetProgramiv(program, GL_LINK_STATUS, &ok);
    if (!ok) {
      char log[2048] = {};
      gl::GetProgramInfoLog(program, sizeof log, nullptr, log);
      error = name + " shaders do not link: " + log;
    }
  }
  gl::DeleteShader(vs);
  gl::DeleteShader(fs);
  return error;
}

std::string CubeRenderer::init() {
  if (std::string error =
          buildProgram(embedded::cubes_vert, embedded::cubes_frag, "cubes", program_);
      !error.empty())
    return error;
  loc_view_proj_ = gl::GetUniformLocation(program_, "u_view_proj");
  loc_outline_ = gl::GetUniformLocation(program_, "u_outline");
  loc_ghost_alpha_ = gl::GetUniformLocation(program_, "u_ghost_alpha");
  loc_desaturate_ = gl::GetUniformLocation(program_, "u_desaturate");
  loc_lit_group_ = gl::GetUniformLocation(program_, "u_lit_group");
  loc_pass_ = gl::GetUniformLocation(program_, "u_pass");
  loc_id_mode_ = gl::GetUniformLocation(program_, "u_id_mode");
  loc_first_ = gl::GetUniformLocation(program_, "u_first");

  gl::GenVertexArrays(1, &vao_);
  gl::BindVertexArray(vao_);
  const std::vector<float> mesh = cubeMesh();
  gl::GenBuffers(1, &mesh_);
  gl::BindBuffer(GL_ARRAY_BUFFER, mesh_);
  gl::BufferData(GL_ARRAY_BUFFER, static_cast<GLsizeiptr>(mesh.size() * sizeof(float)), mesh.data(),
                 GL_STATIC_DRAW);
  gl::EnableVertexAttribArray(0);
  gl::VertexAttribPointer(0, 3, GL_FLOAT, GL_FALSE, 6 * sizeof(float), nullptr);
  gl::EnableVertexAttribArray(1);
  gl::VertexAttribPointer(1, 3, GL_FLOAT, GL_FALSE, 6 * sizeof(float),
                          reinterpret_cast<void*>(3 * sizeof(float)));
  gl::GenBuffers(1, &instances_);
  gl::BindBuffer(GL_ARRAY_BUFFER, instances_);
  for (GLuint a = 2; a <= 6; ++a) {
    gl::EnableVertexAttribArray(a);
    gl::VertexAttribDivisor(a, 1);
  }
  gl::BindVertexArray(0);
  return "";
}

void CubeRenderer::upload(const std::vector<CubeInstance>& instances) {
  gl::BindBuffer(GL_ARRAY_BUFFER, instances_);
  const auto bytes = static_cast<GLsizeiptr>(instances.size() * sizeof(CubeInstance));
  if (static_cast<int64_t>(instances.size()) > capacity_) {
    gl::BufferData(GL_ARRAY_BUFFER, bytes, instances.data(), GL_DYNAMIC_DRAW);
    capacity_ = static_cast<int64_t>(instances.size());
  } else if (bytes > 0) {
    gl::BufferSubData(GL_ARRAY_BUFFER, 0, bytes, instances.data());
  }
}

void CubeRenderer::bindInstances(int64_t first) const {
  gl::BindVertexArray(vao_);
  // GL 3.3 has no base-instance draw: point the instance attributes at `first` instead.
  gl::BindBuffer(GL_ARRAY_BUFFER, instances_);
  const auto base = static_cast<size_t>(first) * sizeof(CubeInstance);
  const auto stride = static_cast<GLsizei>(sizeof(CubeInstance));
  gl::VertexAttribPointer(2, 3, GL_FLOAT, GL_FALSE, stride,
                          reinterpret_cast<void*>(base + offsetof(CubeInstance, center)));
  gl::VertexAttribPointer(3, 3, GL_FLOAT, GL_FALSE, stride,
                          reinterpret_cast<void*>(base + offsetof(CubeInstance, color)));
  gl::VertexAttribPointer(4, 1, GL_FLOAT, GL_FALSE, stride,
                          reinterpret_cast<void*>(base + offsetof(CubeInstance, group)));
  gl::VertexAttribPointer(5, 1, GL_FLOAT, GL_FALSE, stride,
                          reinterpret_cast<void*>(base + offsetof(CubeInstance, state)));
  gl::VertexAttribPointer(6, 1, GL_FLOAT, GL_FALSE, stride,
                          reinterpret_cast<void*>(base + offsetof(CubeInstance, size)));
}

// Pass 0: solid cubes, depth-tested and written, each pixel marked 1 in the stencil. Pass 1: the
// faded cubes, only on unmarked pixels: blended without depth writes for colour, or written with
// depth among themselves for ids.
void CubeRenderer::drawPasses(int64_t count, bool ids) const {
  gl::Enable(GL_DEPTH_TEST);
  gl::DepthFunc(GL_LESS);
  gl::Enable(GL_CULL_FACE);
  gl::Enable(GL_STENCIL_TEST);
  gl::StencilMask(0xFF);
  gl::StencilFunc(GL_ALWAYS, 1, 0xFF);
  gl::StencilOp(GL_KEEP, GL_KEEP, GL_REPLACE);
  gl::Uniform1i(loc_pass_, 0);
  gl::DrawArraysInstanced(GL_TRIANGLES, 0, 36, static_cast<GLsizei>(count));
  gl::StencilFunc(GL_EQUAL, 0, 0xFF);
  gl::StencilOp(GL_KEEP, GL_KEEP, GL_KEEP);
  if (!ids) {
    gl::DepthMask(GL_FALSE);
    gl::Enable(GL_BLEND);
    gl::BlendFunc(GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA);
  }
  gl::Uniform1i(loc_pass_, 1);
  gl::DrawArraysInstanced(GL_TRIANGLES, 0, 36, static_cast<GLsizei>(count));
  gl::Disable(GL_BLEND);
  gl::DepthMask(GL_TRUE);
  gl::Disable(GL_STENCIL_TEST);
  gl::Disable(GL_CULL_FACE);
  gl::Disable(GL_DEPTH_TEST);
  gl::BindVertexArray(0);
  gl::UseProgram(0);
}

void CubeRenderer::draw(const glm::mat4& view_proj, int64_t first, int64_t count,
                        std::optional<int64_t> lit_group, glm::vec3 outline, float ghost_alpha,
                        float desaturate) const {
  if (count <= 0 || program_ == 0) return;
  gl::UseProgram(program_);
  gl::UniformMatrix4fv(loc_view_proj_, 1, GL_FALSE, &view_proj[0][0]);
  gl::Uniform3f(loc_outline_, outline.r, outline.g, outline.b);
  gl::Uniform1f(loc_ghost_alpha_, ghost_alpha);
  gl::Uniform1f(loc_desaturate_, desaturate);
  gl::Uniform1f(loc_lit_group_, lit_group ? static_cast<float>(*lit_group) : -1.0f);
  gl::Uniform1i(loc_id_mode_, 0);
  gl::Uniform1i(loc_first_, 0);
  bindInstances(first);
  drawPasses(count, false);
}

void CubeRenderer::drawIds(const glm::mat4& view_proj, int64_t first, int64_t count,
                           std::optional<int64_t> lit_group) const {
  if (count <= 0 || program_ == 0) return;
  gl::UseProgram(program_);
  gl::UniformMatrix4fv(loc_view_proj_, 1, GL_FALSE, &view_proj[0][0]);
  gl::Uniform1f(loc_lit_group_, lit_group ? static_cast<float>(*lit_group) : -1.0f);
  gl::Uniform1i(loc_id_mode_, 1);
  gl::Uniform1i(loc_first_, 0);
  bindInstances(first);
  drawPasses(count, true);
}

Framebuffer::~Framebuffer() {
  if (gl::DeleteFramebuffers == nullptr) return;
  if (fbo_) gl::DeleteFramebuffers(1, &fbo_);
  if (color_) gl::DeleteRenderbuffers(1, &color_);
  if (depth_) gl::DeleteRenderbuffers(1, &depth_);
}

std::string Framebuffer::create(int width, int height) {
  width_ = width;
  height_ = height;
  gl::GenFramebuffers(1, &fbo_);
  gl::BindFramebuffer(GL_FRAMEBUFFER, fbo_);
  gl::GenRenderbuffers(1, &color_);
  gl::BindRenderbuffer(GL_RENDERBUFFER, color_);
  gl::RenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, width, height);
  gl::FramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, color_);
  gl::GenRenderbuffers(1, &depth_);
  gl::BindRenderbuffer(GL_RENDERBUFFER, depth_);
  gl::RenderbufferStorage(GL_RENDERBUFFER, GL_DEPTH24_STENCIL8, width, height);
  gl::FramebufferRenderbuffer(GL_FRAMEBUFFER, GL_DEPTH_STENCIL_ATTACHMENT, GL_RENDERBUFFER, depth_);
  const GLenum status = gl::CheckFramebufferStatus(GL_FRAMEBUFFER);
  gl::BindFramebuffer(GL_FRAMEBUFFER, 0);
  if (status != GL_FRAMEBUFFER_COMPLETE)
    return "offscreen framebuffer incomplete (status " + std::to_string(status) + ")";
  return "";
}

void Framebuffer::bind() const {
  gl::BindFramebuffer(GL_FRAMEBUFFER, fbo_);
}
void Framebuffer::bindDefault() {
  gl::BindFramebuffer(GL_FRAMEBUFFER, 0);
}

std::vector<uint8_t> Framebuffer::readRgba() const {
  std::vector<uint8_t> rows(static_cast<size_t>(width_) * static_cast<size_t>(height_) * 4);
  gl::BindFramebuffer(GL_FRAMEBUFFER, fbo_);
  gl::PixelStorei(GL_PACK_ALIGNMENT, 1);
  gl::ReadPixels(0, 0, width_, height_, GL_RGBA, GL_UNSIGNED_BYTE, rows.data());
  // GL's rows run bottom to top; images run top to bottom.
  std::vector<uint8_t> flipped(rows.size());
  const size_t stride = static_cast<size_t>(width_) * 4;
  for (int y = 0; y < height_; ++y)
    std::copy_n(rows.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(y) * stride), stride,
                flipped.begin() +
                    static_cast<std::ptrdiff_t>(static_cast<size_t>(height_ - 1 - y) * stride));
  return flipped;
}

}  // namespace normviz
