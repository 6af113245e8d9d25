// An orbit camera: yaw/pitch around a target, pan in the view plane, zoom by distance.
#pragma once

#include <glm/glm.hpp>
#include <vector>

#include "scene_layout.hpp"
#include "view_options.hpp"

namespace normviz {

struct Ray {
  glm::vec3 origin, dir;
};

// A point the camera must keep in view, with the room (NDC units) to keep free on its left, right,
// below and above it: the text drawn beside it.
struct FramePoint {
  glm::vec3 p;
  glm::vec4 margin{0.0f};
};

struct Camera {
  glm::vec3 target{0.0f};
  float yaw = 0.0f;    // radians around +y; 0 looks along -z (front)
  float pitch = 0.0f;  // radians above the horizon
  float distance = 20.0f;
  float fov_y =
      glm::radians(22.0f);  // narrow: little perspective, so rows and columns stay parallel

  bool operator==(const Camera&) const = default;

  glm::vec3 eye() const;
  glm::mat4 view() const;
  glm::mat4 projection(float aspect) const;

  void orbit(float d_yaw, float d_pitch);
  // Moves the target by a fraction of the visible height: dx, dy in [-1, 1] screen units.
  void pan(float dx, float dy);
  void zoom(float factor);  // < 1 moves closer
  // Looks at `box` from a preset direction, at a distance where it fits the viewport.
  void frame(const Box& box, float aspect, ViewPreset preset);
  // Looks at `points` from a preset direction with the target and distance where their
  // perspective projection fills the viewport, each point kept its own margin from the edges.
  // `flatness` in [0, 1] turns the isometric preset toward the front (1: a gentle tilt, for a
  // scene of flat plates).
  void frame(const std::vector<FramePoint>& points, float aspect, ViewPreset preset,
             float flatness = 0.0f);
  // The ray through a point in normalized device coordinates ([-1, 1], y up).
  Ray rayThrough(glm::vec2 ndc, float aspect) const;
};

}  // namespace normviz
