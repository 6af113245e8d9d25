// libFuzzer target for the list flags and the layer they describe: --shape, --normalized-shape,
// --axes, --hover, --norm and --groups, as lines of the input (shape, norm, normalized_shape or
// axes, groups, hover). Each parser either returns or throws NormError; a layer that loads (tiny
// element limit) takes the hover or names the problem.
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "layer_options.hpp"
#include "normviz/error.hpp"
#include "normviz/plan.hpp"
#include "normviz/tensor.hpp"

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
  normviz::LayerOptions o;
  o.shape = lines[0];
  if (!lines[1].empty()) o.norm = lines[1];
  if (o.norm == "custom") {
    o.axes = lines[2];
  } else {
    o.normalized_shape = lines[2];
  }
  int64_t groups = 0;
  const auto [ptr, ec] = std::from_chars(lines[3].data(), lines[3].data() + lines[3].size(), groups);
  if (ec == std::errc() && ptr != lines[3].data()) o.groups = groups;
  o.init = "arange";
  o.max_elements = 1 << 12;
  refusedOrFine([&] {
    const normviz::LoadedLayer layer = normviz::loadLayer(o);
    if (layer.x.numel() != layer.x.shape.numel() || layer.x.numel() > o.max_elements) std::abort();
    (void)normviz::parseHover(lines[4], layer.x.shape);
  });
  return 0;
}
