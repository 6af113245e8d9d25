// Instanced cubes: one unit cube mesh, one instance per tensor element (centre, colour, group,
// state). Whether a cube is lit follows from its group and the one lit group, so hovering another
// group changes a uniform, not the instance buffer.
#version 330 core

layout(location = 0) in vec3 a_corner;  // unit cube corner in [-0.5, 0.5]^3
layout(location = 1) in vec3 a_normal;
layout(location = 2) in vec3 a_center;  // per instance: world position of the element's cube
layout(location = 3) in vec3 a_color;   // per instance: rgb
layout(location = 4) in float a_group;  // per instance: the cube's group
layout(location = 5) in float a_state;  // per instance: 0 faded, 1 normal, 2 lit, 3 by group

uniform mat4 u_view_proj;
uniform float u_cube_size;
uniform float u_lit_group;  // the lit group, -1 when none is

out vec3 v_color;
out vec3 v_normal;
out vec3 v_local;
flat out float v_state;

void main() {
  vec3 world = a_center + a_corner * u_cube_size;
  gl_Position = u_view_proj * vec4(world, 1.0);
  v_color = a_color;
  v_normal = a_normal;
  v_local = a_corner;
  float state = a_state;
  if (state > 2.5) state = u_lit_group < -0.5 ? 1.0 : (abs(a_group - u_lit_group) < 0.5 ? 2.0 : 0.0);
  v_state = state;
}
