// The sheet view: one quad covering the viewport; the fragment shader finds each pixel's cell.
#version 330 core

void main() {
  // Two triangles from the vertex index: (0,0) (1,0) (0,1) (0,1) (1,0) (1,1) in [-1, 1]^2.
  const vec2 corners[6] = vec2[6](vec2(-1.0, -1.0), vec2(1.0, -1.0), vec2(-1.0, 1.0),
                                  vec2(-1.0, 1.0), vec2(1.0, -1.0), vec2(1.0, 1.0));
  gl_Position = vec4(corners[gl_VertexID], 0.0, 1.0);
}
