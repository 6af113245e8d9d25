// The browser platform (platform_web.cpp).
#pragma once

#include "app_state.hpp"

namespace normviz {

// Opens the app on the page's canvas and hands its frames to the browser's loop; returns at once
// (0), or 1 with the reason printed when the page cannot show it (no WebGL2).
int runWebApp(AppState& state);

}  // namespace normviz
