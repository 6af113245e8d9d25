// The plates and image views: each pixel maps to sheet space (cells, y down) through the 2D camera,
// then to a tile (an (n, c) plate, or a sample's picture) and a cell of it, the same way
// PlateLayout::at does on the CPU, then to that cell's texel in the atlas of tiles. Cells outside
// the lit group fade toward the background (in a picture, a pixel is lit when any of its channels
// is); the outline is drawn over it as rectangles. Large cells get a thin grid.
#version 330 core

uniform sampler2D u_x;       // RGBA8 atlas: x's plates in the colour map, or x's pictures
uniform sampler2D u_y;       // the same for y
uniform sampler2D u_groups;  // R32F (plates) or RGB32F (pictures: one group per channel)
uniform int u_channels;      // the group texture's components: 1 or 3
uniform vec3 u_palette[24];  // categorical colours (colour by group)
uniform int u_by_group;

uniform vec2 u_view_pos, u_view_size;  // window pixels, y down
uniform float u_fb_height, u_fb_scale;
uniform vec2 u_center;
uniform float u_zoom;

uniform int u_image, u_with_y, u_stacked, u_bands, u_per_band, u_grid_rows, u_grid_cols;
uniform int u_tile_w, u_tile_h, u_atlas_cols, u_label_below;
uniform float u_pad, u_band_gap, u_block_gap, u_label_w, u_label_h;

uniform float u_lit;  // the lit group, -1 when none is
uniform vec3 u_background;
uniform float u_fade, u_grey;  // how far faded cells go toward the background, and toward grey

out vec4 frag_color;

float picturesWidth() {
  float w = float(u_tile_w);
  return u_image == 1 && u_with_y == 1 ? 2.0 * w + u_pad : w;
}
float tileWidth() {
  if (u_image == 0) return float(u_tile_w);
  return u_label_below == 1 ? max(picturesWidth(), u_label_w) : picturesWidth() + u_label_w;
}
float tileHeight() {
  float h = float(u_tile_h);
  return u_label_below == 1 ? h + u_label_h : max(h, u_label_h);
}
vec2 pitch() { return vec2(tileWidth(), tileHeight()) + u_pad; }
int bandRows() { return u_stacked == 1 ? u_grid_rows : u_per_band; }
int bandCols() { return u_stacked == 1 ? u_per_band : u_grid_cols; }
vec2 bandSize() { return vec2(float(bandCols()), float(bandRows())) * pitch() - u_pad; }
vec2 blockSize() {
  vec2 band = bandSize();
  float n = float(u_bands), gaps = float(u_bands - 1) * u_band_gap;
  return u_stacked == 1 ? vec2(band.x, n * band.y + gaps) : vec2(n * band.x + gaps, band.y);
}

// kind: 0 nothing, 1 x, 2 y. tile: (column, row) in the grid; cell: (w, h) in the picture; sub:
// where in the cell.
int locate(vec2 p, out ivec2 tile, out ivec2 cell, out vec2 sub) {
  tile = ivec2(0);
  cell = ivec2(0);
  sub = vec2(0.0);
  vec2 block = blockSize();
  if (p.x < 0.0 || p.y < 0.0 || p.y >= block.y) return 0;
  int kind = 1;
  if (u_image == 0 && p.x >= block.x) {
    if (u_with_y == 0) return 0;
    p.x -= block.x + u_block_gap;
    kind = 2;
  }
  if (p.x < 0.0 || p.x >= block.x) return 0;
  vec2 size = bandSize();
  float along = u_stacked == 1 ? p.y : p.x;
  float extent = u_stacked == 1 ? size.y : size.x;
  int band = int(floor(along / (extent + u_band_gap)));
  float within = along - float(band) * (extent + u_band_gap);
  if (band >= u_bands || within >= extent) return 0;
  vec2 q = u_stacked == 1 ? vec2(p.x, within) : vec2(within, p.y);
  vec2 tile_pitch = pitch();
  int c = int(floor(q.x / tile_pitch.x)), r = int(floor(q.y / tile_pitch.y));
  if (c >= bandCols() || r >= bandRows()) return 0;
  int row = u_stacked == 1 ? r : band * u_per_band + r;
  int col = u_stacked == 1 ? band * u_per_band + c : c;
  if (row >= u_grid_rows || col >= u_grid_cols) return 0;
  vec2 uv = q - vec2(float(c), float(r)) * tile_pitch;
  float w = float(u_tile_w);
  if (u_image == 1 && u_with_y == 1 && uv.x >= w + u_pad && uv.x < 2.0 * w + u_pad) {
    uv.x -= w + u_pad;
    kind = 2;
  }
  if (uv.x >= w || uv.y >= float(u_tile_h)) return 0;
  tile = ivec2(col, row);
  cell = ivec2(floor(uv));
  sub = uv - floor(uv);
  return kind;
}

bool litCell(vec3 groups) {
  if (abs(groups.r - u_lit) < 0.5) return true;
  return u_channels == 3 && (abs(groups.g - u_lit) < 0.5 || abs(groups.b - u_lit) < 0.5);
}

void main() {
  vec2 screen = vec2(gl_FragCoord.x, u_fb_height - gl_FragCoord.y) / u_fb_scale;
  vec2 p = u_center + (screen - u_view_pos - 0.5 * u_view_size) / u_zoom;
  ivec2 tile, cell;
  vec2 sub;
  int kind = locate(p, tile, cell, sub);
  if (kind == 0) {
    frag_color = vec4(u_background, 1.0);
    return;
  }
  int t = tile.y * u_grid_cols + tile.x;
  ivec2 texel = ivec2((t % u_atlas_cols) * u_tile_w + cell.x, (t / u_atlas_cols) * u_tile_h + cell.y);
  vec3 groups = texelFetch(u_groups, texel, 0).rgb;
  vec3 color;
  if (u_by_group == 1) {
    color = u_palette[int(mod(groups.r, 24.0))];
  } else {
    color = kind == 1 ? texelFetch(u_x, texel, 0).rgb : texelFetch(u_y, texel, 0).rgb;
  }
  if (u_lit >= 0.0 && !litCell(groups)) {
    float grey = dot(color, vec3(0.299, 0.587, 0.114));
    color = mix(mix(color, vec3(grey), u_grey), u_background, u_fade);
  }
  // A thin grid once cells are large enough to tell apart.
  float px = 1.0 / u_zoom;
  if (u_zoom >= 6.0 && (sub.x < px || sub.y < px)) color *= 0.75;
  frag_color = vec4(color, 1.0);
}
