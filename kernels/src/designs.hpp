// The forward kernel designs, one row each: the GpuVariant, its name, what it does, which plans it
// runs, how it launches. Everything else reads this table: the public names, descriptions, variant
// lists and recipe geometry (normviz/gpu.hpp, implemented in emulated/designs.cpp), and
// gpuCompute's check and launch (gpu_runtime.cpp). A new design is a GpuVariant, a launch function
// (launch.hpp) and a row here.
//
// The launch functions belong to one backend (inline namespace cuda or emulated, launch.hpp), so
// the table is defined inside the backend's inline namespace: each backend build gets its own copy
// pointing at its own launches. The emulated copy is built in every configuration, which is why
// the device-free public functions read that one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>

#include "host_layout.hpp"
#include "launch.hpp"
#include "normviz/error.hpp"
#include "normviz/gpu.hpp"
#include "normviz/reduce_recipe.hpp"

namespace normviz::gpu {
inline namespace NORMVIZ_KERNELS_NAMESPACE {

// ---- fit checks: "" when a design runs a plan laid out as `layout`, otherwise why not ----------

// Every design but auto reduces groups; BatchNorm in evaluation mode reduces nothing.
inline std::string fitReducing(const HostLayout& layout) {
  if (layout.eval_running)
    return "BatchNorm in evaluation mode reduces nothing: one elementwise kernel normalizes with "
           "the running statistics whatever the design (use auto)";
  return "";
}

// The most values a Welford lane counts exactly in float32.
inline constexpr int64_t kWelfordMaxPerLane = int64_t{1} << 24;

// Welford counts in float32, exact up to 2^24: past 2^24 values per lane the count stops growing
// and the mean drifts (a group that long needs a raised --max-elements).
inline std::string fitWarpWelford(const HostLayout& layout) {
  if (std::string why = fitReducing(layout); !why.empty()) return why;
  constexpr int64_t most = kWarpSize * kWelfordMaxPerLane;
  if (layout.group_size > most)
    return "its float32 counts are exact to 2^24 values per lane, so a group may hold at most " +
           std::to_string(most) + " values (32 lanes); these groups hold " +
           std::to_string(layout.group_size) + " (use warp-shuffle or split-reduce)";
  return "";
}

// A team of threads holds a whole row in registers as float4: contiguous rows of a multiple of 4
// floats, at most kVectorMaxRow of them.
inline std::string fitVectorRegisters(const HostLayout& layout) {
  if (std::string why = fitReducing(layout); !why.empty()) return why;
  if (!layout.rows)
    return "it needs each group to be one contiguous row; this layer's groups are gathered from " +
           std::to_string(layout.runs) + " strided runs each";
  if (layout.group_size % 4 != 0)
    return "it loads rows as float4 and needs rows of a multiple of 4 floats; these rows hold " +
           std::to_string(layout.group_size) + " floats";
  if (layout.group_size > kVectorMaxRow)
    return "registers hold rows of at most " + std::to_string(kVectorMaxRow) +
           " floats; these rows hold " + std::to_string(layout.group_size) + " floats";
  return "";
}

// ---- the table ----------------------------------------------------------------------------------

// How a design's launch follows the reduction recipe (reduce_recipe.hpp), which the trace emulator
// reproduces bit for bit: one block of B threads per group, loading V elements at a time.
enum class RecipeBlock {
  None,     // a reduction order of its own: not reproducible by the recipe
  Options,  // B = GpuOptions::block_size
  Warp,     // B = kWarpSize: one warp per group
};

struct Design {
  GpuVariant variant;
  const char* name;         // what --gpu-variant takes and results report
  const char* description;  // one line for a learner choosing a design
  std::string (*fit)(const HostLayout& layout);
  RecipeBlock recipe;
  bool split_partials;  // launch needs the partials buffer of launchSplitReduce
  // Enqueues the design's kernels. geometry: the recipe's block size and vector width (recipe
  // designs only); partials: device scratch when split_partials, else null.
  std::string (*launch)(const KernelArgs& a, const GpuRecipeGeometry& geometry, float* partials);
};

// One row per GpuVariant, in the enum's order.
inline constexpr Design kDesigns[] = {
    {.variant = GpuVariant::Auto,
     .name = "auto",
     .description = "the fastest design that runs the plan on this device",
     .fit = [](const HostLayout&) { return std::string(); },
     .recipe = RecipeBlock::None,
     .split_partials = false,
     .launch = [](const KernelArgs&, const GpuRecipeGeometry&, float*) -> std::string {
       return "auto has no kernel of its own: it is resolved to a design before launching";
     }},
    {.variant = GpuVariant::ThreadPerRow,
     .name = "thread-per-row",
     .description = "one thread walks a whole group three times: the naive design",
     .fit = fitReducing,
     .recipe = RecipeBlock::None,
     .split_partials = false,
     .launch = [](const KernelArgs& a, const GpuRecipeGeometry&,
                  float*) { return launchThreadPerRow(a); }},
    {.variant = GpuVariant::BlockTree,
     .name = "block-tree",
     .description = "one block per group, two passes, a shared-memory tree",
     .fit = fitReducing,
     .recipe = RecipeBlock::Options,
     .split_partials = false,
     .launch = [](const KernelArgs& a, const GpuRecipeGeometry& g,
                  float*) { return launchBlockTree(a, g.block_size, g.vector_width); }},
    {.variant = GpuVariant::WarpShuffle,
     .name = "warp-shuffle",
     .description = "one warp per group, two passes, a __shfl_down_sync tree",
     .fit = fitReducing,
     .recipe = RecipeBlock::Warp,
     .split_partials = false,
     .launch = [](const KernelArgs& a, const GpuRecipeGeometry& g,
                  float*) { return launchWarp(a, false, g.vector_width); }},
    {.variant = GpuVariant::WarpWelford,
     .name = "warp-welford",
     .description = "one warp per group, one pass: Welford per thread, Chan merges over shuffles",
     .fit = fitWarpWelford,
     .recipe = RecipeBlock::Warp,
     .split_partials = false,
     .launch = [](const KernelArgs& a, const GpuRecipeGeometry& g,
                  float*) { return launchWarp(a, true, g.vector_width); }},
    {.variant = GpuVariant::VectorRegisters,
     .name = "vector-registers",
     .description = "16-byte loads, the whole row held in registers: x read once",
     .fit = fitVectorRegisters,
     .recipe = RecipeBlock::None,
     .split_partials = false,
     .launch = [](const KernelArgs& a, const GpuRecipeGeometry&,
                  float*) { return launchVectorRegisters(a); }},
    {.variant = GpuVariant::SplitReduce,
     .name = "split-reduce",
     .description = "several blocks per group, Chan-merged partials (BatchNorm's few large groups)",
     .fit = fitReducing,
     .recipe = RecipeBlock::None,
     .split_partials = true,
     .launch = [](const KernelArgs& a, const GpuRecipeGeometry&,
                  float* partials) { return launchSplitReduce(a, partials); }},
};

constexpr bool designsInEnumOrder() {
  for (size_t i = 0; i < std::size(kDesigns); ++i)
    if (static_cast<size_t>(kDesigns[i].variant) != i) return false;
  return true;
}
static_assert(designsInEnumOrder(), "kDesigns holds one row per GpuVariant, in the enum's order");

// The row of v; null for a value outside the enum.
constexpr const Design* findDesign(GpuVariant v) {
  const auto i = static_cast<size_t>(v);
  return i < std::size(kDesigns) ? &kDesigns[i] : nullptr;
}

// The row of v; throws NormError for a value outside the enum.
inline const Design& designOf(GpuVariant v) {
  if (const Design* d = findDesign(v)) return *d;
  throw NormError("unknown GPU variant " + std::to_string(static_cast<int>(v)));
}

// How a recipe design launches for this layout (GpuRecipeGeometry). Throws NormError for a block
// size the design cannot use, or for a design that does not follow the recipe.
inline GpuRecipeGeometry recipeGeometry(const Design& design, const HostLayout& layout,
                                        const GpuOptions& options) {
  GpuRecipeGeometry g;
  g.vector_width = recipeVectorWidth(layout);
  switch (design.recipe) {
    case RecipeBlock::Options:
      if (!validBlockSize(options.block_size))
        throw NormError("block size " + std::to_string(options.block_size) +
                        " is not a multiple of 32 between 32 and 1024");
      g.block_size = options.block_size;
      return g;
    case RecipeBlock::Warp:
      g.block_size = kWarpSize;
      return g;
    case RecipeBlock::None:
      break;
  }
  std::string recipe_designs;
  for (const Design& d : kDesigns) {
    if (d.recipe == RecipeBlock::None) continue;
    if (!recipe_designs.empty()) recipe_designs += ", ";
    recipe_designs += d.name;
  }
  throw NormError(std::string("the ") + design.name +
                  " kernel does not follow the reduction recipe; only " + recipe_designs + " do");
}

// The design Auto stands for on a device with sm_count multiprocessors (never Auto).
inline GpuVariant resolveAuto(const HostLayout& layout, int sm_count) {
  const int64_t sms = std::max(sm_count, 1);
  if (layout.rows) {
    // Enough rows to fill the device: one pass over registers moves the fewest bytes.
    if (fitVectorRegisters(layout).empty() && layout.groups >= sms)
      return GpuVariant::VectorRegisters;
    // Few long rows: one block (or warp) per row would leave multiprocessors idle.
    if (layout.groups < 2 * sms && layout.group_size >= 8192) return GpuVariant::SplitReduce;
    return layout.group_size <= 2048 ? GpuVariant::WarpShuffle : GpuVariant::BlockTree;
  }
  // Strided groups. One element per run (channels-last LayerNorm: a group per pixel) with many
  // groups: a thread per group reads neighbouring addresses across a warp, which coalesces.
  if (layout.run_length == 1 && layout.groups >= 32 * sms) return GpuVariant::ThreadPerRow;
  return GpuVariant::SplitReduce;
}

}  // namespace NORMVIZ_KERNELS_NAMESPACE
}  // namespace normviz::gpu
