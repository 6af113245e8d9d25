// One instanced cube as the renderer draws it, and the states a cube is drawn in.
#pragma once

#include <glm/glm.hpp>

namespace normviz {

// How a cube is drawn. ByGroup cubes are lit when their group is the lit group, faded when another
// group is lit, normal when none is: the shader decides from one uniform, so hovering another
// group uploads nothing (drawnState in lit_region.hpp is the same rule on the CPU).
enum class CubeState : int { Faded = 0, Normal = 1, Lit = 2, ByGroup = 3 };

// What one instanced cube needs: 36 bytes, uploaded as-is to the instance buffer.
struct CubeInstance {
  glm::vec3 center{0.0f};
  glm::vec3 color{1.0f};
  float group = -1.0f;  // the cube's group in the plan it is drawn for (exact: groups < 2^24)
  float state = static_cast<float>(CubeState::ByGroup);
  float size = 1.0f;  // edge length (statistics cubes are larger where their groups are far apart)
};
static_assert(sizeof(CubeInstance) == 36,
              "the vertex layout in renderer.cpp assumes 36-byte instances");

}  // namespace normviz
