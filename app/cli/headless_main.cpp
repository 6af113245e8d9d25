// Without the GUI (NORMVIZ_BUILD_APP=OFF): `normviz` with no subcommand prints a text demo of the
// engine.
#include <cstdio>

#include "cli.hpp"
#include "normviz/error.hpp"

namespace normviz {

static int runDemo(const SpecArgs& args) {
  try {
    LoadedLayer L = loadLayer(args.layer());
    NormResult r = computeNorm(L.x, L.plan, L.params);
    std::printf("normviz (built without the desktop app; the engine and command line)\n\n");
    std::printf("input %s, %s\n", L.x.shape.str().c_str(), L.plan.pytorchLine().c_str());
    std::printf("%s\n\n", L.plan.describe().c_str());
    std::printf("%-8s %12s %12s %12s\n", "group", "mean", "var", "rstd");
    for (int64_t g = 0; g < std::min<int64_t>(L.plan.groupCount(), 16); ++g)
      std::printf("%-8lld %12.6f %12.6f %12.6f\n", static_cast<long long>(g), r.mean[g], r.var[g],
                  r.rstd[g]);
    std::printf("\n%s: %.3f ms. Try: normviz compute --help, normviz trace --help\n",
                r.backend.c_str(), r.seconds * 1e3);
    return 0;
  } catch (const NormError& e) {
    std::fprintf(stderr, "normviz: error: %s\n", e.what());
    return 1;
  }
}

void addAppOptions(CLI::App& cli) {
  auto args = std::make_shared<SpecArgs>();
  args->add(cli, SpecArgs::Fields::Layer);
  registerCommand(&cli, [args] { return runDemo(*args); });
}

}  // namespace normviz
