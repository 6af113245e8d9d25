// The OpenGL 3.3 core entry points the renderer calls, loaded at run time through the platform.
//
// Debian ships no GL loader package and ImGui's bundled loader exposes only what ImGui itself uses,
// so the renderer keeps its own small table: each function is a pointer in namespace gl, declared
// with the prototypes of <GL/glcorearb.h> and filled by gl::load() once a context is current.
#pragma once

#include <GL/glcorearb.h>

#include <string>

// X-macro list: (pointer type, name without the "gl" prefix).
#define NORMVIZ_GL_FUNCTIONS(X)                                \
  X(PFNGLVIEWPORTPROC, Viewport)                               \
  X(PFNGLSCISSORPROC, Scissor)                                 \
  X(PFNGLCLEARPROC, Clear)                                     \
  X(PFNGLCLEARCOLORPROC, ClearColor)                           \
  X(PFNGLENABLEPROC, Enable)                                   \
  X(PFNGLDISABLEPROC, Disable)                                 \
  X(PFNGLDEPTHFUNCPROC, DepthFunc)                             \
  X(PFNGLGETERRORPROC, GetError)                               \
  X(PFNGLGETSTRINGPROC, GetString)                             \
  X(PFNGLREADPIXELSPROC, ReadPixels)                           \
  X(PFNGLPIXELSTOREIPROC, PixelStorei)                         \
  X(PFNGLREADBUFFERPROC, ReadBuffer)                           \
  X(PFNGLFINISHPROC, Finish)                                   \
  X(PFNGLCREATESHADERPROC, CreateShader)                       \
  X(PFNGLSHADERSOURCEPROC, ShaderSource)                       \
  X(PFNGLCOMPILESHADERPROC, CompileShader)                     \
  X(PFNGLGETSHADERIVPROC, GetShaderiv)                         \
  X(PFNGLGETSHADERINFOLOGPROC, GetShaderInfoLog)               \
  X(PFNGLDELETESHADERPROC, DeleteShader)                       \
  X(PFNGLCREATEPROGRAMPROC, CreateProgram)                     \
  X(PFNGLATTACHSHADERPROC, AttachShader)                       \
  X(PFNGLLINKPROGRAMPROC, LinkProgram)                         \
  X(PFNGLGETPROGRAMIVPROC, GetProgramiv)                       \
  X(PFNGLGETPROGRAMINFOLOGPROC, GetProgramInfoLog)             \
  X(PFNGLDELETEPROGRAMPROC, DeleteProgram)                     \
  X(PFNGLUSEPROGRAMPROC, UseProgram)                           \
  X(PFNGLGETUNIFORMLOCATIONPROC, GetUniformLocation)           \
  X(PFNGLUNIFORMMATRIX4FVPROC, UniformMatrix4fv)               \
  X(PFNGLUNIFORM1FPROC, Uniform1f)                             \
  X(PFNGLUNIFORM3FPROC, Uniform3f)                             \
  X(PFNGLGENVERTEXARRAYSPROC, GenVertexArrays)                 \
  X(PFNGLBINDVERTEXARRAYPROC, BindVertexArray)                 \
  X(PFNGLDELETEVERTEXARRAYSPROC, DeleteVertexArrays)           \
  X(PFNGLGENBUFFERSPROC, GenBuffers)                           \
  X(PFNGLBINDBUFFERPROC, BindBuffer)                           \
  X(PFNGLBUFFERDATAPROC, BufferData)                           \
  X(PFNGLBUFFERSUBDATAPROC, BufferSubData)                     \
  X(PFNGLDELETEBUFFERSPROC, DeleteBuffers)                     \
  X(PFNGLENABLEVERTEXATTRIBARRAYPROC, EnableVertexAttribArray) \
  X(PFNGLVERTEXATTRIBPOINTERPROC, VertexAttribPointer)         \
  X(PFNGLVERTEXATTRIBDIVISORPROC, VertexAttribDivisor)         \
  X(PFNGLDRAWARRAYSINSTANCEDPROC, DrawArraysInstanced)         \
  X(PFNGLGENFRAMEBUFFERSPROC, GenFramebuffers)                 \
  X(PFNGLBINDFRAMEBUFFERPROC, BindFramebuffer)                 \
  X(PFNGLDELETEFRAMEBUFFERSPROC, DeleteFramebuffers)           \
  X(PFNGLFRAMEBUFFERRENDERBUFFERPROC, FramebufferRenderbuffer) \
  X(PFNGLCHECKFRAMEBUFFERSTATUSPROC, CheckFramebufferStatus)   \
  X(PFNGLGENRENDERBUFFERSPROC, GenRenderbuffers)               \
  X(PFNGLBINDRENDERBUFFERPROC, BindRenderbuffer)               \
  X(PFNGLRENDERBUFFERSTORAGEPROC, RenderbufferStorage)         \
  X(PFNGLDELETERENDERBUFFERSPROC, DeleteRenderbuffers)         \
  X(PFNGLSTENCILFUNCPROC, StencilFunc)                         \
  X(PFNGLSTENCILOPPROC, StencilOp)                             \
  X(PFNGLSTENCILMASKPROC, StencilMask)                         \
  X(PFNGLCLEARSTENCILPROC, ClearStencil)                       \
  X(PFNGLDEPTHMASKPROC, DepthMask)                             \
  X(PFNGLBLENDFUNCPROC, BlendFunc)                             \
  X(PFNGLUNIFORM1IPROC, Uniform1i)                             \
  X(PFNGLGENTEXTURESPROC, GenTextures)                         \
  X(PFNGLBINDTEXTUREPROC, BindTexture)                         \
  X(PFNGLDELETETEXTURESPROC, DeleteTextures)                   \
  X(PFNGLTEXIMAGE2DPROC, TexImage2D)                           \
  X(PFNGLTEXSUBIMAGE2DPROC, TexSubImage2D)                     \
  X(PFNGLTEXPARAMETERIPROC, TexParameteri)                     \
  X(PFNGLACTIVETEXTUREPROC, ActiveTexture)                     \
  X(PFNGLGETINTEGERVPROC, GetIntegerv)                         \
  X(PFNGLUNIFORM2FPROC, Uniform2f)                             \
  X(PFNGLUNIFORM4FPROC, Uniform4f)                             \
  X(PFNGLDRAWARRAYSPROC, DrawArrays)

namespace gl {

#define NORMVIZ_GL_DECLARE(type, name) extern type name;
NORMVIZ_GL_FUNCTIONS(NORMVIZ_GL_DECLARE)
#undef NORMVIZ_GL_DECLARE

// Loads every pointer from the current context. Returns the names that are missing, comma-separated
// (empty on success), so the caller can report which part of GL 3.3 the driver lacks.
// The platform's lookup of a GL function by name (glfwGetProcAddress on the desktop).
using ProcLookup = void (*(*)(const char*))();
std::string load(ProcLookup lookup);

}  // namespace gl
