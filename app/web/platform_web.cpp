// The browser platform: Emscripten's GLFW on a WebGL2 canvas that fills the page, the page's
// events turned into the app's input (keys by name through glfw_input.hpp, mouse and text through
// ImGui's GLFW backend), the browser's frame loop, and the page's side of what the app asks for:
// the link in the address bar, downloads, full screen, the test hook (window.normviz).
#include "platform_web.hpp"

#include <emscripten.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "app_frame.hpp"
#include "gl_functions.hpp"
#include "glfw_input.hpp"
#include "spec_state.hpp"

namespace normviz {

namespace {}  // namespace
}  // namespace normviz

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
void normviz_page_ready();
}

namespace normviz {
namespace {

struct Web {
  AppState* state = nullptr;
  App app;
  GLFWwindow* window = nullptr;
  std::string last_query;
  std::string report;  // the last report handed to the page (normviz_report's buffer)
  bool ready = false;
  bool presenter = false;
};

Web* web = nullptr;  // the one page's app: created by runWebApp, lives as long as the page

void newImGuiFrame() {
  ImGui_ImplGlfw_NewFrame();
  // ImGui 1.86 asserts on a zero frame time, which a browser's virtual time can give.
  ImGuiIO& io = ImGui::GetIO();
  if (io.DeltaTime <= 0.0f) io.DeltaTime = 1.0f / 60.0f;
}

// The canvas follows the page's size.
void followPageSize(Web& w) {
  const int width = std::max(normviz_page_width(), 64),
            height = std::max(normviz_page_height(), 64);
  int current_w = 0, current_h = 0;
  glfwGetWindowSize(w.window, &current_w, &current_h);
  if (current_w != width || current_h != height) glfwSetWindowSize(w.window, width, height);
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
  if (s.lesson.presenter != w.presenter) {
    w.presenter = s.lesson.presenter;
    normviz_page_fullscreen(w.presenter ? 1 : 0);
  }
  if (!w.ready) {
    w.ready = true;
    normviz_page_ready();
  }
}

void frame(void*) {
  Web& w = *web;
  followPageSize(w);
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
  using namespace normviz;
  if (web == nullptr) return "{}";
  web->report = frameReport(web->app).dump();
  return web->report.c_str();
}
