// Instanced cubes: one unit cube mesh, one instance per tensor element (centre, colour, group,
// state, size). Whether a cube is lit follows from its group and the one lit group, so hovering another
// group changes a uniform, not the instance buffer. Each draw runs twice (u_pass): solid cubes
// first, faded ones (ghosts) second; a cube not in the current pass is moved outside the clip box.
#version 330 core

layout(location = 0) in vec3 a_corner;  // unit cube corner in [-0.5, 0.5]^3
layout(location = 1) in vec3 a_normal;
layout(location = 2) in vec3 a_center;  // per instance: world position of the element's cube
layout(location = 3) in vec3 a_color;   // per instance: rgb
layout(location = 4) in float a_group;  // per instance: the cube's group
layout(location = 5) in float a_state;  // per instance: 0 faded, 1 normal, 2 lit, 3 by group
layout(location = 6) in float a_size;   // per instance: edge length

uniform mat4 u_view_proj;
uniform float u_lit_group;  // the lit group, -1 when none is
uniform int u_pass;         // 0: solid cubes (normal, lit), 1: faded cubes
uniform int u_first;        // instance index of the first instance drawn, for ids

out vec3 v_color;
out vec3 v_normal;
out vec3 v_local;
flat out float v_state;
flat out int v_id;

void main() {
  float state = a_state;
  if (state > 2.5) state = u_lit_group < -0.5 ? 1.0 : (abs(a_group - u_lit_group) < 0.5 ? 2.0 : 0.0);
  bool faded = state < 0.5;
  if (faded != (u_pass == 1)) {
    gl_Position = vec4(2.0, 2.0, 2.0, 1.0);  // outside the clip volume: not drawn in this pass
  } else {
    vec3 world = a_center + a_corner * a_size;
    gl_Position = u_view_proj * vec4(world, 1.0);
  }
  v_color = a_color;
  v_normal = a_normal;
  v_local = a_corner;
  v_state = state;
  v_id = gl_InstanceID + u_first + 1;
}
