// Loads the renderer's OpenGL entry points (see gl_functions.hpp) with glfwGetProcAddress.
#include "gl_functions.hpp"

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

namespace gl {

#define NORMVIZ_GL_DEFINE(type, name) type name = nullptr;
NORMVIZ_GL_FUNCTIONS(NORMVIZ_GL_DEFINE)
#undef NORMVIZ_GL_DEFINE

std::string load() {
  std::string missing;
#define NORMVIZ_GL_LOAD(type, name)                              \
  name = reinterpret_cast<type>(glfwGetProcAddress("gl" #name)); \
  if (name == nullptr) missing += (missing.empty() ? "gl" : ", gl") + std::string(#name);
  NORMVIZ_GL_FUNCTIONS(NORMVIZ_GL_LOAD)
#undef NORMVIZ_GL_LOAD
  return missing;
}

}  // namespace gl
