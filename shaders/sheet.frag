// The sheet view: each pixel maps to sheet space (cells, y down) through the 2D camera, then to a
// cell of x or y, or to a row's mean/rstd in the strip, the same way SheetLayout::at does on the
// CPU. Cells of the lit group keep their colour, the others fade toward the background (the lit
// region's outline is drawn over it as rectangles, so a row thinner than a pixel still shows).
// Large cells get a thin grid.
#version 330 core

uniform sampler2D u_x;       // RGBA8 colours of x, cols × rows
uniform sampler2D u_y;       // RGBA8 colours of y
uniform sampler2D u_groups;  // R32F group of every cell
uniform sampler2D u_stats;   // RGBA8, 2 × rows: the row's mean colour, rstd colour
uniform vec3 u_palette[24];  // categorical colours (colour by group)
uniform int u_by_group;

uniform vec2 u_view_pos, u_view_size;  // window pixels, y down
uniform float u_fb_height, u_fb_scale;
uniform vec2 u_center;
uniform float u_zoom;

uniform int u_rows, u_cols, u_band_rows, u_bands, u_strip, u_with_y;
uniform float u_strip_w, u_gap, u_block_gap;

uniform float u_lit;  // the lit group, -1 when none is
uniform vec3 u_background;
uniform float u_fade;

out vec4 frag_color;

float bandWidth() { return float(u_cols) + (u_strip == 1 ? u_gap + 2.0 * u_strip_w : 0.0); }
float blockWidth() { return float(u_bands) * bandWidth() + float(u_bands - 1) * u_gap; }

// kind: 0 nothing, 1 x, 2 y, 3 mean, 4 rstd. cell: texel (col, row); for the strip (0 or 1, row).
int locate(vec2 p, out ivec2 cell) {
  cell = ivec2(0);
  if (p.y < 0.0 || p.y >= float(u_band_rows) || p.x < 0.0) return 0;
  float x = p.x;
  int kind = 1;
  if (x >= blockWidth()) {
    if (u_with_y == 0) return 0;
    x -= blockWidth() + u_block_gap;
    if (x < 0.0 || x >= blockWidth()) return 0;
    kind = 2;
  }
  float bw = bandWidth() + u_gap;
  int band = int(floor(x / bw));
  float within = x - float(band) * bw;
  int row = band * u_band_rows + int(floor(p.y));
  if (band >= u_bands || row >= u_rows) return 0;
  if (within < float(u_cols)) {
    cell = ivec2(int(floor(within)), row);
    return kind;
  }
  if (u_strip == 0 || kind == 2) return 0;
  float s = within - float(u_cols) - u_gap;
  if (s < 0.0 || s >= 2.0 * u_strip_w) return 0;
  cell = ivec2(s < u_strip_w ? 0 : 1, row);
  return s < u_strip_w ? 3 : 4;
}

float groupOf(int kind, ivec2 cell) {
  if (kind == 1 || kind == 2) return texelFetch(u_groups, cell, 0).r;
  return texelFetch(u_groups, ivec2(0, cell.y), 0).r;  // a strip cell: its row's group
}

void main() {
  vec2 screen = vec2(gl_FragCoord.x, u_fb_height - gl_FragCoord.y) / u_fb_scale;
  vec2 p = u_center + (screen - u_view_pos - 0.5 * u_view_size) / u_zoom;
  ivec2 cell;
  int kind = locate(p, cell);
  if (kind == 0) {
    frag_color = vec4(u_background, 1.0);
    return;
  }
  float group = groupOf(kind, cell);
  vec3 color;
  if (kind == 3 || kind == 4) {
    color = texelFetch(u_stats, cell, 0).rgb;
  } else if (u_by_group == 1) {
    color = u_palette[int(mod(group, 24.0))];
  } else {
    color = kind == 1 ? texelFetch(u_x, cell, 0).rgb : texelFetch(u_y, cell, 0).rgb;
  }
  bool lit = u_lit >= 0.0 && abs(group - u_lit) < 0.5;
  if (u_lit >= 0.0 && !lit) {
    float grey = dot(color, vec3(0.299, 0.587, 0.114));
    color = mix(mix(color, vec3(grey), u_by_group == 1 ? 0.0 : 0.75), u_background, u_fade);
  }
  // A thin grid once cells are large enough to tell apart.
  vec2 f = fract(p);
  float px = 1.0 / u_zoom;
  if (u_zoom >= 6.0 && (f.x < px || f.y < px)) color *= 0.75;
  frag_color = vec4(color, 1.0);
}
