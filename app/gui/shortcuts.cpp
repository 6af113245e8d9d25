// The shortcut table and one frame's keys applied to the state.
#include "shortcuts.hpp"

#include <algorithm>
#include <array>

#include "lesson_state.hpp"

namespace normviz {

namespace {

bool contains(const std::vector<Key>& keys, Key key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// The next view this shape can have, in the order cubes, sheet, plates, image.
void toggleDisplay(AppState& s) {
  const Shape& shape = s.shown ? s.shown->x.shape : s.x.shape;
  const auto names = namesOf<DisplayMode>();
  size_t now = 0;
  while (now < names.size() && names[now].value != shownDisplay(s)) ++now;
  for (size_t k = 1; k < names.size(); ++k) {
    const DisplayMode next = names[(now + k) % names.size()].value;
    if (!displayOffered(next, shape)) continue;
    s.display = next;
    s.display_chosen = true;
    s.reframe = true;
    return;
  }
}

// A row of the table: the key that fires it alone (or with Ctrl), and the change it makes. Rows
// without a key are fired by handleKeys itself (they depend on the lesson or are held keys).
struct Row {
  Shortcut shortcut;
  std::optional<Key> key;
  bool ctrl = false;
  void (*run)(AppState&) = nullptr;
};

const std::array kRows = {
    Row{{Action::Escape, "Esc", "unpin / close this help"}, std::nullopt},
    Row{{Action::MoveW, "Arrow keys, [ ], , .", "move the lit element along W, H, C, N"},
        std::nullopt},
    Row{{Action::Orbit, "Shift + arrows", "orbit the camera (in the sheet: drag to pan)"},
        std::nullopt},
    Row{{Action::Zoom, "+ / -", "zoom (held)"}, std::nullopt},
    Row{{Action::ViewFront, "1", "front view"},
        Key::Digit1,
        false,
        [](AppState& s) { s.preset = ViewPreset::Front, s.reframe = true; }},
    Row{{Action::ViewTop, "2", "top view"},
        Key::Digit2,
        false,
        [](AppState& s) { s.preset = ViewPreset::Top, s.reframe = true; }},
    Row{{Action::ViewIsometric, "3", "isometric view"},
        Key::Digit3,
        false,
        [](AppState& s) { s.preset = ViewPreset::Isometric, s.reframe = true; }},
    Row{{Action::ResetView, "R", "reset the view"},
        Key::R,
        false,
        [](AppState& s) { s.preset = ViewPreset::Isometric, s.reframe = true; }},
    Row{{Action::ColorBy, "G", "colour by value / by group"},
        Key::G,
        false,
        [](AppState& s) {
          s.color_by = s.color_by == ColorBy::Value ? ColorBy::Groups : ColorBy::Value;
        }},
    Row{{Action::Compare, "C",
         "single / compare layout (BatchNorm, LayerNorm, InstanceNorm, GroupNorm)"},
        Key::C,
        false,
        [](AppState& s) {
          s.layout = s.layout == LayoutMode::Single ? LayoutMode::Compare : LayoutMode::Single;
          s.reframe = true;
        }},
    Row{{Action::Display, "S",
         "cubes (3D) / sheet (every element a cell) / plates (a picture per (n, c)) / image "
         "(the photos)"},
        Key::S,
        false,
        toggleDisplay},
    Row{{Action::Focus, "F or double-click",
         "plates and image: fit the plate or picture of the lit element / the whole tensor"},
        Key::F,
        false,
        [](AppState& s) { s.focus_requested = true; }},
    Row{{Action::Backward, "B", "backward mode: dy, the per-group sums, dx, dweight, dbias"},
        Key::B,
        false,
        [](AppState& s) {
          s.backward = !s.backward;
          s.inputs_changed = true;
          s.reframe = true;
        }},
    Row{{Action::Presenter, "F5, PageUp / PageDown",
         "lesson: presenter mode, previous / next step"},
        std::nullopt},
    Row{{Action::Explode, "E", "explode: separate plates / compact blocks"},
        Key::E,
        false,
        [](AppState& s) { s.explode = s.explode < 0.5f ? 1.0f : 0.0f, s.reframe = true; }},
    Row{{Action::Theme, "T", "dark / light theme"},
        Key::T,
        false,
        [](AppState& s) { s.theme = s.theme == Theme::Dark ? Theme::Light : Theme::Dark; }},
    Row{{Action::Panels, "P", "hide / show the side panels"},
        Key::P,
        false,
        [](AppState& s) { s.show_panels = !s.show_panels; }},
    Row{{Action::LargerText, "Ctrl +", "larger text"},
        Key::Plus,
        true,
        [](AppState& s) { s.font_scale = std::min(s.font_scale + 0.25f, 4.0f); }},
    Row{{Action::SmallerText, "Ctrl -", "smaller text"},
        Key::Minus,
        true,
        [](AppState& s) { s.font_scale = std::max(s.font_scale - 0.25f, 0.75f); }},
    Row{{Action::SavePng, "Ctrl S", "save a PNG of the view (size and path under Export)"},
        Key::S,
        true,
        [](AppState& s) { s.png.requested = true; }},
    Row{{Action::Help, "F1 or ?", "this help"}, std::nullopt},
};

const std::array<Shortcut, kRows.size()> kShortcuts = [] {
  std::array<Shortcut, kRows.size()> out{};
  for (size_t i = 0; i < kRows.size(); ++i) out[i] = kRows[i].shortcut;
  return out;
}();

// The lesson's keys. Returns true when the lesson keeps the keyboard (presenter mode, or a choice
// question whose answers are the digits).
bool lessonKeys(AppState& s, const auto& pressed) {
  if (!s.lesson.lesson) return false;
  const bool present = s.lesson.presenter;
  if (pressed(Key::PageDown) || (present && (pressed(Key::Right) || pressed(Key::Space))))
    goToStep(s, s.lesson.step + 1);
  if (pressed(Key::PageUp) || (present && pressed(Key::Left))) goToStep(s, s.lesson.step - 1);
  const LessonStep* step = s.lesson.current();
  const bool choice =
      step && step->question && step->question->kind == LessonQuestion::Kind::Choice;
  if (choice)
    for (int d = 0; d < 9; ++d)
      if (pressed(static_cast<Key>(static_cast<int>(Key::Digit1) + d))) answerChoice(s, d);
  if (step && step->question && step->question->kind == LessonQuestion::Kind::Select &&
      pressed(Key::Enter))
    checkSelection(s);
  return present || choice;
}

// Keyboard exploration: the arrows move the lit element along W and H, [ and ] along the
// channels, , and . along the samples; it is pinned, so the region follows.
void exploreKeys(AppState& s, const KeyInput& k) {
  if (!s.shown || k.shift || k.nav_active) return;
  const Shape& shape = s.shown->x.shape;
  const int rank = shape.rank();
  auto move = [&](int axis, int delta) {
    if (axis < 0 || axis >= rank) return;
    const auto active = s.active();
    const int64_t flat =
        active && (active->section == Section::Input || active->section == Section::Output)
            ? active->index
            : 0;
    int64_t stride = 1;
    for (int a = rank - 1; a > axis; --a) stride *= shape[a];
    const int64_t coord = (flat / stride) % shape[axis];
    const int64_t next = std::clamp<int64_t>(coord + delta, 0, shape[axis] - 1);
    s.pinned = CubeRef{Section::Input, flat + (next - coord) * stride};
  };
  const int channel = rank >= 3 ? 1 : 0, sample = rank >= 3 ? 0 : -1;
  auto repeat = [&](Key key) { return contains(k.repeats, key); };
  if (repeat(Key::Right)) move(rank - 1, 1);
  if (repeat(Key::Left)) move(rank - 1, -1);
  if (repeat(Key::Down)) move(rank - 2, 1);
  if (repeat(Key::Up)) move(rank - 2, -1);
  if (repeat(Key::RightBracket)) move(channel, 1);
  if (repeat(Key::LeftBracket)) move(channel, -1);
  if (repeat(Key::Period)) move(sample, 1);
  if (repeat(Key::Comma)) move(sample, -1);
}

// Held keys move continuously: orbit with Shift + arrows, zoom with + and -.
void heldKeys(AppState& s, const KeyInput& k) {
  const float step = 1.8f * k.seconds;
  auto held = [&](Key key) { return contains(k.held, key) ? 1.0f : 0.0f; };
  const float dx = held(Key::Right) - held(Key::Left), dy = held(Key::Up) - held(Key::Down);
  if (k.shift) s.camera.orbit(dx * step, dy * step);
  if (held(Key::Plus) > 0) s.camera.zoom(1.0f - step * 0.6f);
  if (held(Key::Minus) > 0) s.camera.zoom(1.0f + step * 0.6f);
}

}  // namespace

std::span<const Shortcut> shortcuts() {
  return kShortcuts;
}

void handleKeys(AppState& s, const KeyInput& k) {
  if (k.text_input) return;
  // A key pressed with Ctrl is that chord only (Ctrl+S saves a PNG; S alone switches the view).
  auto ctrlPressed = [&](Key key) { return contains(k.ctrl_taps, key); };
  auto pressed = [&](Key key) { return contains(k.taps, key) && !ctrlPressed(key); };
  if (pressed(Key::F1) || pressed(Key::Question)) s.show_help = !s.show_help;
  if (pressed(Key::Escape)) {
    if (s.show_help) {
      s.show_help = false;
    } else {
      s.pinned.reset();
    }
  }
  for (const Row& row : kRows)
    if (row.run && row.ctrl && ctrlPressed(*row.key)) row.run(s);
  if (pressed(Key::F5) && s.lesson.lesson) s.lesson.presenter = !s.lesson.presenter;
  if (lessonKeys(s, pressed)) return;
  if (k.ctrl || !k.ctrl_taps.empty()) return;  // a chord is not also a letter
  exploreKeys(s, k);
  for (const Row& row : kRows)
    if (row.run && !row.ctrl && pressed(*row.key)) row.run(s);
  if (!k.nav_active) heldKeys(s, k);
}

}  // namespace normviz
