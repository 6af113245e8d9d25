// Orbit camera math with glm: view and projection matrices, presets, and picking rays.
#include "camera.hpp"

#include <algorithm>
#include <cmath>
#include <glm/gtc/matrix_transform.hpp>

namespace normviz {

namespace {
constexpr float kMaxPitch = 1.55f;  // just short of straight down, where yaw would be undefined
}

glm::vec3 Camera::eye() const {
  const glm::vec3 back(std::sin(yaw) * std::cos(pitch), std::sin(pitch),
                       std::cos(yaw) * std::cos(pitch));
  return target + back * distance;
}

glm::mat4 Camera::view() const {
  return glm::lookAt(eye(), target, glm::vec3(0.0f, 1.0f, 0.0f));
}

glm::mat4 Camera::projection(float aspect) const {
  return glm::perspective(fov_y, std::max(aspect, 0.01f), std::max(distance * 0.01f, 0.01f),
                          distance * 10.0f + 100.0f);
}

void Camera::orbit(float d_yaw, float d_pitch) {
  yaw += d_yaw;
  pitch = std::clamp(pitch + d_pitch, -kMaxPitch, kMaxPitch);
}

void Camera::pan(float dx, float dy) {
  const glm::mat4 v = view();
  const glm::vec3 right(v[0][0], v[1][0], v[2][0]);
  const glm::vec3 up(v[0][1], v[1][1], v[2][1]);
  const float height = 2.0f * distance * std::tan(fov_y * 0.5f);
  target += (-dx * right - dy * up) * height * 0.5f;
}

void Camera::zoom(float factor) {
  distance = std::clamp(distance * factor, 0.5f, 5000.0f);
}

void Camera::frame(const Box& box, float aspect, ViewPreset preset) {
  std::vector<FramePoint> corners;
  if (!box.empty())
    for (int i = 0; i < 8; ++i)
      corners.push_back({{(i & 1) ? box.hi.x : box.lo.x, (i & 2) ? box.hi.y : box.lo.y,
                          (i & 4) ? box.hi.z : box.lo.z},
                         glm::vec4(0.04f)});
  frame(corners, aspect, preset);
}

void Camera::frame(const std::vector<FramePoint>& points, float aspect, ViewPreset preset,
                   float flatness) {
  switch (preset) {
    case ViewPreset::Front:
      yaw = 0.0f, pitch = 0.0f;
      break;
    case ViewPreset::Top:
      yaw = 0.0f, pitch = kMaxPitch;
      break;
    case ViewPreset::Isometric:
      flatness = std::clamp(flatness, 0.0f, 1.0f);
      yaw = glm::radians(-30.0f * (1.0f - 0.65f * flatness));
      pitch = glm::radians(25.0f * (1.0f - 0.55f * flatness));
      break;
  }
  if (points.empty()) return;
  glm::vec3 lo(points.front().p), hi(points.front().p);
  for (const auto& fp : points) lo = glm::min(lo, fp.p), hi = glm::max(hi, fp.p);
  target = (lo + hi) * 0.5f;
  // Camera axes for this direction (independent of distance and target).
  distance = 1.0f;
  const glm::vec3 back = glm::normalize(eye() - target);
  const glm::vec3 right = glm::normalize(glm::cross(glm::vec3(0.0f, 1.0f, 0.0f), back));
  const glm::vec3 up = glm::cross(back, right);
  const float tx = std::tan(fov_y * 0.5f) * std::max(aspect, 0.01f), ty = std::tan(fov_y * 0.5f);
  // Each point's NDC window: [-1 + left, 1 - right] x [-1 + bottom, 1 - top], never empty.
  auto window = [](const FramePoint& fp, glm::vec2& ndc_lo, glm::vec2& ndc_hi) {
    ndc_lo =
        glm::vec2(std::min(-1.0f + fp.margin.x, -0.05f), std::min(-1.0f + fp.margin.z, -0.05f));
    ndc_hi = glm::vec2(std::max(1.0f - fp.margin.y, 0.05f), std::max(1.0f - fp.margin.w, 0.05f));
  };
  // A point at view offset (x, y) and depth z toward the camera lands at NDC x / ((D - z) tx).
  // Each round takes the smallest D that keeps every point in its window, then moves the target in
  // the view plane so the points' slack is even on both sides; a few rounds settle both
  // (perspective is mild at this field of view).
  for (int round = 0; round < 8; ++round) {
    float need = 0.0f;
    for (const auto& fp : points) {
      glm::vec2 ndc_lo, ndc_hi;
      window(fp, ndc_lo, ndc_hi);
      const glm::vec3 d = fp.p - target;
      const float x = glm::dot(d, right), y = glm::dot(d, up), z = glm::dot(d, back);
      need = std::max(need, z + (x >= 0.0f ? x / (tx * ndc_hi.x) : x / (tx * ndc_lo.x)));
      need = std::max(need, z + (y >= 0.0f ? y / (ty * ndc_hi.y) : y / (ty * ndc_lo.y)));
    }
    distance = std::clamp(need, 2.0f, 5000.0f);
    if (round == 7) break;  // the last round only refits the distance to the centred target
    // The least room left toward each edge; shifting by half their difference evens them out.
    glm::vec2 room_lo(1e30f), room_hi(1e30f);
    for (const auto& fp : points) {
      glm::vec2 ndc_lo, ndc_hi;
      window(fp, ndc_lo, ndc_hi);
      const glm::vec3 d = fp.p - target;
      const float depth = std::max(distance - glm::dot(d, back), 1e-3f);
      const glm::vec2 ndc(glm::dot(d, right) / (depth * tx), glm::dot(d, up) / (depth * ty));
      room_lo = glm::min(room_lo, ndc - ndc_lo);
      room_hi = glm::min(room_hi, ndc_hi - ndc);
    }
    const glm::vec2 shift = (room_lo - room_hi) * 0.5f;
    target += right * (shift.x * distance * tx) + up * (shift.y * distance * ty);
  }
}

Ray Camera::rayThrough(glm::vec2 ndc, float aspect) const {
  const glm::mat4 inv = glm::inverse(projection(aspect) * view());
  glm::vec4 near = inv * glm::vec4(ndc, -1.0f, 1.0f);
  glm::vec4 far = inv * glm::vec4(ndc, 1.0f, 1.0f);
  near /= near.w;
  far /= far.w;
  return {glm::vec3(near), glm::normalize(glm::vec3(far - near))};
}

}  // namespace normviz
