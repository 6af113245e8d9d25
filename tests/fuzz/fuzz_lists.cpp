// libFuzzer target for the list flags and the layer they describe: --shape, --normalized-shape,
// --axes, --hover, --norm and --groups, as lines of the input (shape, norm, normalized_shape or
// axes, groups, hover). Each parser either returns or throws NormError; a layer that loads (tiny
// element limit) takes the hover or names the problem.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "normviz/error.hpp"
#include "normviz/plan.hpp"
#include "normviz/tensor.hpp"
#include "view_spec.hpp"

namespace {

template <typename F>
void refusedOrFine(F&& parse) {
  try {
    parse();
  } catch (const normviz::NormError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  refusedOrFine([&] { (void)normviz::parseShape(text); });
  refusedOrFine([&] { (void)normviz::parseAxes(text); });
  refusedOrFine([&] { (void)normviz::parseIntegers(text, "list"); });

  std::vector<std::string> lines;
  size_t start = 0;
  while (lines.size() < 5 && start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  lines.resize(5);
  // The lines as the command line would give them: each flag parsed from its text.
  normviz::ViewSpec spec;
  spec.layer.init = "arange";
  std::vector<std::string> args;
  auto flag = [&](const char* name, const std::string& value) {
    if (value.empty()) return;
    args.push_back(name);
    args.push_back(value);
  };
  flag("--shape", lines[0]);
  flag("--norm", lines[1]);
  flag(lines[1] == "custom" ? "--axes" : "--normalized-shape", lines[2]);
  flag("--groups", lines[3]);
  flag("--hover", lines[4]);
  try {
    spec = normviz::specFromArgv(args, spec);
  } catch (const normviz::NormError&) {
    return 0;
  }
  normviz::LayerOptions& o = spec.layer;
  o.max_elements = 1 << 12;
  refusedOrFine([&] {
    const normviz::LoadedLayer layer = normviz::loadLayer(o);
    if (layer.x.numel() != layer.x.shape.numel() || layer.x.numel() > o.max_elements) std::abort();
    if (spec.hover) (void)normviz::flatIndex(*spec.hover, layer.x.shape);
  });
  return 0;
}
