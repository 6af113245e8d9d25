// Loads the renderer's OpenGL entry points (see gl_functions.hpp) with the platform's lookup.
#include "gl_functions.hpp"

namespace gl {

#define NORMVIZ_GL_DEFINE(type, name) type name = nullptr;
NORMVIZ_GL_FUNCTIONS(NORMVIZ_GL_DEFINE)
#undef NORMVIZ_GL_DEFINE

std::string load(ProcLookup lookup) {
  std::string missing;
#define NORMVIZ_GL_LOAD(type, name)                  \
  name = reinterpret_cast<type>(lookup("gl" #name)); \
  if (name == nullptr) missing += (missing.empty() ? "gl" : ", gl") + std::string(#name);
  NORMVIZ_GL_FUNCTIONS(NORMVIZ_GL_LOAD)
#undef NORMVIZ_GL_LOAD
  return missing;
}

}  // namespace gl
