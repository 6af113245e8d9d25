// GLFW's keys as the app's, for both platforms that run on GLFW: the desktop's (platform_glfw.cpp)
// and the browser's (app/web/platform_web.cpp, on Emscripten's GLFW, which maps the page's key
// events to the same codes).
#pragma once

#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>

#include <optional>
#include <string>
#include <vector>

#include "app_compute.hpp"
#include "app_frame.hpp"

namespace normviz::glfw_input {

// GLFW's key codes as the app's keys (several codes can be one key: = and keypad + are Plus).
struct KeyName {
  int glfw;
  Key key;
};
inline constexpr KeyName kKeyNames[] = {
    {GLFW_KEY_ESCAPE, Key::Escape},
    {GLFW_KEY_F1, Key::F1},
    {GLFW_KEY_F5, Key::F5},
    {GLFW_KEY_PAGE_UP, Key::PageUp},
    {GLFW_KEY_PAGE_DOWN, Key::PageDown},
    {GLFW_KEY_LEFT, Key::Left},
    {GLFW_KEY_RIGHT, Key::Right},
    {GLFW_KEY_UP, Key::Up},
    {GLFW_KEY_DOWN, Key::Down},
    {GLFW_KEY_SPACE, Key::Space},
    {GLFW_KEY_ENTER, Key::Enter},
    {GLFW_KEY_KP_ENTER, Key::Enter},
    {GLFW_KEY_LEFT_BRACKET, Key::LeftBracket},
    {GLFW_KEY_RIGHT_BRACKET, Key::RightBracket},
    {GLFW_KEY_COMMA, Key::Comma},
    {GLFW_KEY_PERIOD, Key::Period},
    {GLFW_KEY_EQUAL, Key::Plus},
    {GLFW_KEY_KP_ADD, Key::Plus},
    {GLFW_KEY_MINUS, Key::Minus},
    {GLFW_KEY_KP_SUBTRACT, Key::Minus},
    {GLFW_KEY_1, Key::Digit1},
    {GLFW_KEY_2, Key::Digit2},
    {GLFW_KEY_3, Key::Digit3},
    {GLFW_KEY_4, Key::Digit4},
    {GLFW_KEY_5, Key::Digit5},
    {GLFW_KEY_6, Key::Digit6},
    {GLFW_KEY_7, Key::Digit7},
    {GLFW_KEY_8, Key::Digit8},
    {GLFW_KEY_9, Key::Digit9},
    {GLFW_KEY_B, Key::B},
    {GLFW_KEY_C, Key::C},
    {GLFW_KEY_E, Key::E},
    {GLFW_KEY_F, Key::F},
    {GLFW_KEY_G, Key::G},
    {GLFW_KEY_P, Key::P},
    {GLFW_KEY_R, Key::R},
    {GLFW_KEY_S, Key::S},
    {GLFW_KEY_T, Key::T},
};

inline std::optional<Key> keyOf(int code) {
  for (const KeyName& n : kKeyNames)
    if (n.glfw == code) return n.key;
  return std::nullopt;
}

// Latches presses by name for the next frame ('?' is Shift + /); installed before ImGui's
// backend, which chains to it.
inline void keyCallback(GLFWwindow* window, int code, int /*scancode*/, int action, int mods) {
  auto* app = static_cast<App*>(glfwGetWindowUserPointer(window));
  if (!app || code < 0 || (action != GLFW_PRESS && action != GLFW_REPEAT)) return;
  std::optional<Key> key = keyOf(code);
  if (code == GLFW_KEY_SLASH && (mods & GLFW_MOD_SHIFT)) key = Key::Question;
  if (!key) return;
  KeyInput& k = app->keys;
  if (action == GLFW_PRESS) k.taps.push_back(*key);
  if (action == GLFW_PRESS && (mods & GLFW_MOD_CONTROL)) k.ctrl_taps.push_back(*key);
  k.repeats.push_back(*key);
}

// The keys held now: held arrows orbit, held + and - zoom.
inline void heldKeys(GLFWwindow* window, App& app) {
  app.keys.held.clear();
  for (const KeyName& n : kKeyNames)
    if (glfwGetKey(window, n.glfw) == GLFW_PRESS) app.keys.held.push_back(n.key);
}

// A file dropped on the window becomes the input x (the first one, when several are dropped). The
// page's GLFW hands the browser's dropped files over in its memory, under the same callback.
inline void dropCallback(GLFWwindow* window, int count, const char** paths) {
  auto* app = static_cast<App*>(glfwGetWindowUserPointer(window));
  if (!app || count < 1) return;
  loadDroppedFiles(*app->state, std::vector<std::string>(paths, paths + count));
}

}  // namespace normviz::glfw_input
