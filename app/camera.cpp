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
  switch (preset) {
    case ViewPreset::Front:
      yaw = 0.0f, pitch = 0.0f;
      break;
    case ViewPreset::Top:
      yaw = 0.0f, pitch = kMaxPitch;
      break;
    case ViewPreset::Isometric:
      yaw = glm::radians(-30.0f), pitch = glm::radians(25.0f);
      break;
  }
  if (box.empty()) return;
  target = (box.lo + box.hi) * 0.5f;
  // Fit the box's extent as seen from this direction: project its corners on the view axes.
  const glm::vec3 fwd = -glm::normalize(eye() - target);
  const glm::vec3 right = glm::normalize(glm::cross(fwd, glm::vec3(0.0f, 1.0f, 0.0f)));
  const glm::vec3 up = glm::cross(right, fwd);
  float half_w = 0.0f, half_h = 0.0f, half_d = 0.0f;
  for (int i = 0; i < 8; ++i) {
    const glm::vec3 c((i & 1) ? box.hi.x : box.lo.x, (i & 2) ? box.hi.y : box.lo.y,
                      (i & 4) ? box.hi.z : box.lo.z);
    const glm::vec3 d = c - target;
    half_w = std::max(half_w, std::fabs(glm::dot(d, right)));
    half_h = std::max(half_h, std::fabs(glm::dot(d, up)));
    half_d = std::max(half_d, std::fabs(glm::dot(d, fwd)));
  }
  const float t = std::tan(fov_y * 0.5f);
  const float need = std::max(half_h / t, half_w / (t * std::max(aspect, 0.01f)));
  distance = std::clamp(need * 1.08f + half_d, 2.0f, 5000.0f);
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
