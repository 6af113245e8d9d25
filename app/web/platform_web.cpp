// The browser platform: Emscripten's GLFW on a WebGL2 canvas that fills the page, the page's
// events turned into the app's input (keys by name through glfw_input.hpp, mouse and text through
// ImGui's GLFW backend), the browser's frame loop, and the page's side of what the app asks for:
// the link in the address bar, downloads, full screen, the test hook (window.normviz).
#include "platform_web.hpp"

#include <emscripten.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app_compute.hpp"
#include "app_frame.hpp"
#include "gl_functions.hpp"
#include "glfw_input.hpp"
#include "spec_state.hpp"

// library_page.js.
extern "C" {
int normviz_page_width();
int normviz_page_height();
char* normviz_page_query();
char* normviz_page_base();
void normviz_page_copy(const char* text);
void normviz_page_replace_query(const char* query);
void normviz_page_download(const char* path, const char* name, const char* mime);
void normviz_page_fullscreen(int on);
int normviz_page_is_fullscreen();
void normviz_page_drawn();
double normviz_page_pixel_ratio();
int normviz_page_take_events();
void normviz_page_watch();
void normviz_page_pick_file();
}

namespace normviz {
namespace {

struct Web {
  AppState* state = nullptr;
  App app;
  GLFWwindow* window = nullptr;
  std::string last_query;
  std::string report;  // the last report handed to the page (normviz_report's buffer)
  bool presenter = false;
  bool full_screen = false;         // the page was in full screen at the last frame
  int fb_width = 0, fb_height = 0;  // the canvas's size in device pixels
  int busy_frames = 3;              // frames still to draw after the last event
  double last_drawn_ms = 0;
};

Web* web = nullptr;  // the one page's app: created by runWebApp, lives as long as the page

// ImGui's frame in the page's CSS pixels: the canvas holds pixel_ratio device pixels per CSS pixel
// (crisp on a high-density screen), and Emscripten's GLFW reports the window and the mouse in
// device pixels.
void newImGuiFrame() {
  ImGui_ImplGlfw_NewFrame();
  ImGuiIO& io = ImGui::GetIO();
  const float ratio = web->app.pixel_ratio;
  io.DisplaySize =
      ImVec2(static_cast<float>(web->fb_width) / ratio, static_cast<float>(web->fb_height) / ratio);
  io.DisplayFramebufferScale = ImVec2(ratio, ratio);
  if (ImGui::IsMousePosValid(&io.MousePos))
    io.MousePos = ImVec2(io.MousePos.x / ratio, io.MousePos.y / ratio);
  // ImGui 1.86 asserts on a zero frame time, which a browser's virtual time can give.
  if (io.DeltaTime <= 0.0f) io.DeltaTime = 1.0f / 60.0f;
}

// The canvas follows the page's size, in device pixels. True when it changed.
bool followPageSize(Web& w) {
  // A phone's ratio can be 3 or more; past 2 the canvas costs more than the eye sees.
  const float ratio = std::clamp(static_cast<float>(normviz_page_pixel_ratio()), 1.0f, 2.0f);
  const int width = std::max(static_cast<int>(std::lround(normviz_page_width() * ratio)), 64),
            height = std::max(static_cast<int>(std::lround(normviz_page_height() * ratio)), 64);
  if (width == w.fb_width && height == w.fb_height && ratio == w.app.pixel_ratio) return false;
  w.app.pixel_ratio = ratio;
  w.fb_width = width;
  w.fb_height = height;
  glfwSetWindowSize(w.window, width, height);
  return true;
}

// The page draws only when something can have changed: an event, a running animation, a view
// that needs another frame, or every half second (a measurement finishing, a caret's blink), as
// the desktop's loop waits for events.
bool frameDue(Web& w, bool resized) {
  const double now = emscripten_get_now();
  if (normviz_page_take_events() > 0 || resized) w.busy_frames = 3;  // ImGui settles in a few
  const bool due = w.busy_frames > 0 || animating(w.app) || w.state->inputs_changed ||
                   w.state->files.pick_requested || now - w.last_drawn_ms >= 500.0;
  if (!due) return false;
  w.busy_frames = std::max(w.busy_frames - 1, 0);
  w.last_drawn_ms = now;
  return true;
}

// Files written this frame (Save x, Save y) become downloads; Open .npy shows the file picker.
void exchangeFiles(AppState& s) {
  for (const std::string& path : s.files.written) {
    const std::string name = path.substr(path.find_last_of('/') + 1);
    normviz_page_download(path.c_str(), name.c_str(), "application/octet-stream");
    s.notice = "downloaded " + name;
  }
  s.files.written.clear();
  if (s.files.pick_requested) {
    s.files.pick_requested = false;
    normviz_page_pick_file();
  }
}

// After each frame: the address bar, a Save PNG download, full screen, the first frame's flag.
void afterFrame(Web& w) {
  AppState& s = *w.state;
  const std::string query = specToQuery(specOf(s));
  if (query != w.last_query) {
    normviz_page_replace_query(query.c_str());
    w.last_query = query;
  }
  if (s.png.requested) {
    // The page has no folders: the file name alone, written to memory, then downloaded.
    s.png.requested = false;
    const std::string name = s.png.path.empty()
                                 ? "normviz-view.png"
                                 : s.png.path.substr(s.png.path.find_last_of('/') + 1);
    const std::string in_memory = "/tmp/" + name;
    const std::string error = savePng(w.app, in_memory, s.png.width, s.png.height);
    if (error.empty()) {
      normviz_page_download(in_memory.c_str(), name.c_str(), "image/png");
      s.notice = "downloaded " + name;
    } else {
      s.notice = "could not save " + name + ": " + error;
    }
  }
  exchangeFiles(s);
  // Presenter mode and the browser's full screen follow each other: entering one enters the other
  // (the browser allows it after a key or a click), and leaving full screen the browser's way
  // (Escape, a gesture) leaves presenter mode.
  const bool full = normviz_page_is_fullscreen() != 0;
  if (w.full_screen && !full && s.lesson.presenter && w.presenter) {
    s.lesson.presenter = false;
    s.reframe = true;
  }
  w.full_screen = full;
  if (s.lesson.presenter != w.presenter) {
    w.presenter = s.lesson.presenter;
    normviz_page_fullscreen(w.presenter ? 1 : 0);
  }
  normviz_page_drawn();
}

void frame(void*) {
  Web& w = *web;
  if (!frameDue(w, followPageSize(w))) return;
  glfw_input::heldKeys(w.window, w.app);
  drawFrame(w.app);
  afterFrame(w);
}

}  // namespace

int runWebApp(AppState& state) {
  if (!glfwInit()) {
    std::fprintf(stderr, "normviz: the page has no canvas for the app\n");
    return 1;
  }
  glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
  glfwWindowHint(GLFW_STENCIL_BITS, 8);  // ghosts are drawn only where no solid cube is
  web = new Web;
  web->state = &state;
  state.files.downloads = true;
  web->window = glfwCreateWindow(std::max(normviz_page_width(), 64),
                                 std::max(normviz_page_height(), 64), "normviz", nullptr, nullptr);
  if (web->window == nullptr) {
    std::fprintf(stderr, "normviz: this browser gives no WebGL2 context\n");
    return 1;
  }
  glfwMakeContextCurrent(web->window);
  const std::string missing = gl::load(glfwGetProcAddress);
  App& app = web->app;
  app.state = &state;
  app.platform_new_frame = newImGuiFrame;
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;
  ImGui::GetIO().ConfigFlags |= ImGuiConfigFlags_NavEnableKeyboard;
  glfwSetWindowUserPointer(web->window, &app);
  glfwSetKeyCallback(web->window, glfw_input::keyCallback);  // before ImGui's, which chains to it
  glfwSetDropCallback(web->window, glfw_input::dropCallback);
  followPageSize(*web);
  normviz_page_watch();  // events wake the frame loop; touch becomes pointer input
  ImGui_ImplGlfw_InitForOpenGL(web->window, true);
  // Emscripten's GLFW keeps a clipboard of its own; the page's is the system's.
  ImGui::GetIO().SetClipboardTextFn = [](void*, const char* text) { normviz_page_copy(text); };
  char* base = normviz_page_base();
  state.link_base = base;
  std::free(base);
  const std::string error = initFrame(app, missing);
  if (!error.empty()) {
    std::fprintf(stderr, "normviz: %s\n", error.c_str());
    return 1;
  }
  // The browser calls the frame at its display's rate; main returns and the page keeps running.
  emscripten_set_main_loop_arg(frame, nullptr, 0, false);
  return 0;
}

}  // namespace normviz

// The page's test hook: the same JSON as the desktop's --report, for the frame last drawn. The
// buffer stays valid until the next call.
extern "C" EMSCRIPTEN_KEEPALIVE const char* normviz_report() {
  if (normviz::web == nullptr) return "{}";
  using namespace normviz;
  web->report = frameReport(web->app).dump();
  return web->report.c_str();
}

// The files the page's picker wrote into its memory (paths one per line) become the input x: photos
// make a batch, a tensor file is loaded as it is.
extern "C" EMSCRIPTEN_KEEPALIVE void normviz_open_file(const char* paths) {
  using namespace normviz;
  if (web == nullptr) return;
  std::vector<std::string> list;
  std::string text = paths;
  for (size_t start = 0; start <= text.size();) {
    const size_t end = std::min(text.find('\n', start), text.size());
    if (end > start) list.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  loadDroppedFiles(*web->state, list);
  web->busy_frames = 3;
}

// The page's wheel, in steps (positive: up, away from the user), for ImGui and the views.
extern "C" EMSCRIPTEN_KEEPALIVE void normviz_wheel(double x_steps, double y_steps) {
  using namespace normviz;
  if (web == nullptr) return;
  ImGui_ImplGlfw_ScrollCallback(web->window, x_steps, y_steps);
}
