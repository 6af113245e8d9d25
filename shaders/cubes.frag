// Cube shading: soft directional light, faded cubes as translucent grey ghosts, lit cubes outlined.
// In id mode every fragment carries its instance index + 1 in RGB instead (the visibility report).
#version 330 core

in vec3 v_color;
in vec3 v_normal;
in vec3 v_local;
flat in float v_state;
flat in int v_id;

uniform vec3 u_outline;       // edge colour of lit cubes: contrasts with the background
uniform float u_ghost_alpha;  // opacity of a faded cube
uniform float u_desaturate;   // how much of a faded cube's colour turns grey
uniform int u_id_mode;

out vec4 frag_color;

void main() {
  if (u_id_mode == 1) {
    frag_color = vec4(float(v_id & 255), float((v_id >> 8) & 255), float((v_id >> 16) & 255),
                      255.0) / 255.0;
    return;
  }
  // Fixed light from the upper front left: faces stay distinguishable from every preset view.
  vec3 light = normalize(vec3(-0.45, 0.8, 0.6));
  float diffuse = max(dot(normalize(v_normal), light), 0.0);
  vec3 color = v_color * (0.62 + 0.38 * diffuse);

  // Distance to the nearest cube edge: an edge is where two local coordinates reach the face.
  vec3 a = abs(v_local);
  float m1 = max(a.x, max(a.y, a.z));
  float m2 = a.x + a.y + a.z - m1 - min(a.x, min(a.y, a.z));  // second largest
  float edge = 0.5 - m2;

  float alpha = 1.0;
  if (v_state < 0.5) {
    float grey = dot(color, vec3(0.299, 0.587, 0.114));
    color = mix(color, vec3(grey), u_desaturate);
    if (edge < 0.06) color *= 0.8;
    alpha = u_ghost_alpha;
  } else if (v_state > 1.5) {
    // A thick outline in the theme's contrast colour: a lit cube at a colour map's dark end is
    // still unmistakable on the dark background.
    if (edge < 0.1) color = u_outline;
  } else if (edge < 0.025) {
    color *= 0.7;
  }
  frag_color = vec4(color, alpha);
}
