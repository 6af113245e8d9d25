// The keyboard, by name: keys as the app knows them (the platform translates its own codes), the
// shortcuts as one table (key, action, the help overlay's text), and what one frame's keys do to
// the state. No window system here: a test fires keys without X.
#pragma once

#include <span>
#include <vector>

#include "app_state.hpp"

namespace normviz {

enum class Key {
  Escape,
  F1,
  F5,
  Question,
  PageUp,
  PageDown,
  Left,
  Right,
  Up,
  Down,
  Space,
  Enter,
  LeftBracket,
  RightBracket,
  Comma,
  Period,
  Plus,
  Minus,
  Digit1,
  Digit2,
  Digit3,
  Digit4,
  Digit5,
  Digit6,
  Digit7,
  Digit8,
  Digit9,
  B,
  C,
  E,
  F,
  G,
  P,
  R,
  S,
  T,
};

// One frame's keyboard: the keys pressed since the last frame (a tap whose press and release both
// fall between two frames counts), those pressed or auto-repeated, those pressed with Ctrl held,
// the keys held now, and what the panels are doing with the keyboard.
struct KeyInput {
  std::vector<Key> taps, repeats, ctrl_taps, held;
  bool shift = false, ctrl = false;  // held now
  bool text_input = false;           // a text field has the keyboard: no shortcut fires
  bool nav_active = false;           // the panels' keyboard navigation has the arrows
  float seconds = 0;                 // since the last frame: held keys move the camera by it
};

enum class Action {
  Help,
  Escape,
  LargerText,
  SmallerText,
  SavePng,
  Presenter,
  NextStep,
  PreviousStep,
  Answer,
  CheckSelection,
  MoveW,
  MoveH,
  MoveC,
  MoveN,
  ViewFront,
  ViewTop,
  ViewIsometric,
  ResetView,
  ColorBy,
  Compare,
  Theme,
  Display,
  Focus,
  Explode,
  Backward,
  Panels,
  Orbit,
  Zoom,
};

struct Shortcut {
  Action action;
  const char* keys;  // as the help shows them
  const char* help;
};
// Every shortcut, in the help overlay's order (the mouse's gestures are the help's own rows).
std::span<const Shortcut> shortcuts();

// Applies one frame's keys to the state: the lesson's keys first (in presenter mode, and while a
// choice question is open, the lesson has them all), then exploring the tensor, then the rest.
void handleKeys(AppState& state, const KeyInput& keys);

}  // namespace normviz
