// Instanced cubes: one unit cube mesh, one instance per tensor element (centre, colour, state).
#version 330 core

layout(location = 0) in vec3 a_corner;    // unit cube corner in [-0.5, 0.5]^3
layout(location = 1) in vec3 a_normal;
layout(location = 2) in vec3 a_center;    // per instance: world position of the element's cube
layout(location = 3) in vec4 a_color;     // per instance: rgb, a = scale of the cube (0..1]
layout(location = 4) in float a_state;    // per instance: 0 faded, 1 normal, 2 lit (outlined)

uniform mat4 u_view_proj;
uniform float u_cube_size;

out vec3 v_color;
out vec3 v_normal;
out vec3 v_local;
flat out float v_state;

void main() {
  float size = u_cube_size * a_color.a;
  vec3 world = a_center + a_corner * size;
  gl_Position = u_view_proj * vec4(world, 1.0);
  v_color = a_color.rgb;
  v_normal = a_normal;
  v_local = a_corner;
  v_state = a_state;
}
