// The desktop platform: a GLFW window with an OpenGL 3.3 core context, its events turned into the
// app's input (keys by name for the shortcuts, the mouse and text through ImGui's GLFW backend),
// presenter mode on the full screen, and the loop that calls the frame. Every GLFW call of the app
// is in this file.
#define GLFW_INCLUDE_NONE
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "app_frame.hpp"
#include "app_window.hpp"
#include "gl_functions.hpp"
#include "glfw_input.hpp"
#include "settings.hpp"

namespace normviz {

namespace {

void newImGuiFrame() {
  ImGui_ImplGlfw_NewFrame();
}

void glfwErrorCallback(int code, const char* description) {
  std::fprintf(stderr, "normviz: GLFW error %d: %s\n", code, description);
}

// Presenter mode fills the screen; leaving it restores the window where it was.
void followPresenterMode(GLFWwindow* window, App& app, bool& fullscreen, int windowed[4]) {
  AppState& state = *app.state;
  if (state.lesson.presenter == fullscreen) return;
  fullscreen = state.lesson.presenter;
  if (GLFWmonitor* monitor = glfwGetPrimaryMonitor(); monitor != nullptr && fullscreen) {
    glfwGetWindowPos(window, &windowed[0], &windowed[1]);
    glfwGetWindowSize(window, &windowed[2], &windowed[3]);
    const GLFWvidmode* mode = glfwGetVideoMode(monitor);
    glfwSetWindowMonitor(window, monitor, 0, 0, mode->width, mode->height, mode->refreshRate);
  } else if (!fullscreen) {
    glfwSetWindowMonitor(window, nullptr, windowed[0], windowed[1], windowed[2], windowed[3], 0);
  }
  state.reframe = true;
}

// The window's loop: wait for input (or the next animation frame), draw, present, save.
void runInteractive(GLFWwindow* window, App& app, const WindowOptions& options) {
  SettingsWriter settings(options.persist_settings);
  // A recompute past a frame's wait runs on a worker, which wakes the loop when it ends.
  BackgroundCompute compute([] { glfwPostEmptyEvent(); });
  app.compute = &compute;
  bool fullscreen = false;
  int windowed[4] = {0, 0, options.width, options.height};
  while (!glfwWindowShouldClose(window)) {
    followPresenterMode(window, app, fullscreen, windowed);
    // Sleep until something happens; while the stepper plays or the camera glides, wake for the
    // next frame.
    glfwWaitEventsTimeout(animating(app) ? 1.0 / 60.0 : 0.5);
    glfw_input::heldKeys(window, app);
    drawFrame(app);
    glfwSwapBuffers(window);
    savePngIfAsked(app);
    settings.saveIfChanged(*app.state);
  }
  compute.finish(*app.state);
  app.compute = nullptr;
}

}  // namespace

// ---- Run ----------------------------------------------------------------------------------------

int runWindow(AppState& state, const WindowOptions& options) {
  glfwSetErrorCallback(glfwErrorCallback);
  if (!glfwInit()) {
    std::fprintf(
        stderr,
        "normviz: cannot open a window (no display?). Set DISPLAY, run under xvfb-run, or use "
        "`normviz compute` for the command line.\n");
    return 1;
  }
  const bool offscreen = !options.screenshot.empty() || options.bench;
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GLFW_TRUE);
  glfwWindowHint(GLFW_VISIBLE, offscreen ? GLFW_FALSE : GLFW_TRUE);
  glfwWindowHint(GLFW_STENCIL_BITS, 8);  // ghosts are drawn only where no solid cube is
  GLFWwindow* window = glfwCreateWindow(options.width, options.height, "normviz", nullptr, nullptr);
  if (window == nullptr) {
    std::fprintf(
        stderr,
        "normviz: cannot create an OpenGL 3.3 core window (driver too old, or no display).\n");
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(window);
  glfwSwapInterval(1);
  int rc = 0;
  {
    const std::string missing = gl::load(glfwGetProcAddress);
    App app;
    app.state = &state;
    app.offscreen = offscreen;
    app.display = glm::vec2(static_cast<float>(options.width), static_cast<float>(options.height));
    app.platform_new_frame = newImGuiFrame;
    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGui::GetIO().IniFilename = nullptr;  // panel placement is computed, not remembered
    // Every control reachable without a mouse: Tab / arrows / Space in the panels (Ctrl+Tab
    // between).
    ImGui::GetIO().ConfigFlags |= ImGuiConfigFlags_NavEnableKeyboard;
    glfwSetWindowUserPointer(window, &app);
    glfwSetKeyCallback(window,
                       glfw_input::keyCallback);  // before ImGui's backend, which chains to it
    glfwSetDropCallback(window, glfw_input::dropCallback);
    ImGui_ImplGlfw_InitForOpenGL(window, true);
    const std::string error = initFrame(app, missing);
    if (!error.empty()) {
      std::fprintf(stderr, "normviz: %s\n", error.c_str());
      rc = 1;
    } else if (options.bench) {
      rc = runBenchmark(app, std::max(options.bench_frames, 1));
    } else if (offscreen) {
      rc = runScreenshot(app, options);
    } else {
      runInteractive(window, app, options);
    }
    shutdownFrame(app);
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
    glfwSetWindowUserPointer(window, nullptr);  // `app` ends here
  }
  glfwDestroyWindow(window);
  glfwTerminate();
  return rc;
}
}  // namespace normviz
