// The browser's entry: the page's query string is the view spec, with the command line's flag
// names (?norm=group&groups=2&shape=4,6,5,5&hover=1,3,2,2, ?lesson=groupnorm&step=2). A link that
// does not parse opens the default view with a message naming the parameter.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app_compute.hpp"
#include "normviz/error.hpp"
#include "platform_web.hpp"
#include "spec_state.hpp"
#include "view_spec.hpp"

extern "C" char* normviz_page_query();  // library_page.js

int main() {
  using namespace normviz;
  // The state lives as long as the page: the browser's loop calls the frames after main returns.
  auto* state = new AppState;
  char* raw = normviz_page_query();
  const std::string query = raw;
  free(raw);
  try {
    const ViewSpec spec = specFromQuery(query);
    const bool grad_init_given = query.find("grad-init=") != std::string::npos;
    openSpec(*state, spec, true, grad_init_given);
  } catch (const NormError& e) {
    *state = AppState{};
    initFromOptions(*state, LayerOptions{});
    recomputeIfChanged(*state);  // first, so that the message stays until the user changes the view
    state->error =
        std::string("this link could not be opened: ") + e.what() + "; showing the default view";
    std::fprintf(stderr, "normviz: %s\n", state->error.c_str());
  }
  return runWebApp(*state);
}
