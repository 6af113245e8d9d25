// The window: GLFW + ImGui setup, the frame loop, offscreen screenshots and the frame benchmark.
#pragma once

#include <string>

#include "app_state.hpp"

namespace normviz {

struct WindowOptions {
  std::string screenshot;  // non-empty: render one frame offscreen, write this PNG, exit
  std::string report;      // with screenshot: JSON with every cube's screen position and lit state
  int width = 1280, height = 800;
  bool bench = false;  // render frames at 4K/64K/256K cubes and print frame and recompute times
  int bench_frames = 60;
  bool persist_settings = true;
};

// Returns the process exit code; errors (no display, no GL 3.3) are printed with what to do.
int runWindow(AppState& state, const WindowOptions& options);

}  // namespace normviz
