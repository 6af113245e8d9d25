// `normviz trace`: the kernel-reduction trace of one group, as a stage-by-stage summary or JSON.
#include "cli_trace.hpp"

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli.hpp"
#include "normviz/error.hpp"
#include "normviz/trace.hpp"

namespace normviz {
namespace {

struct TraceFlags {
  SpecArgs layer;  // --norm ... --seed: the layer and its data
  int64_t group = 0;
  std::string strategy = "two-pass";
  int block_size = 32;
  int vector_width = 1;
  std::string shuffle = "down";
  bool json = false;
};

nlohmann::json laneJson(const TraceLane& lane, int index, const ReductionTrace& trace) {
  using nlohmann::json;
  json covers = json::array();
  for (int32_t j : lane.covers) covers.push_back(trace.elements[static_cast<size_t>(j)]);
  json l = {{"lane", index},
            {"warp", index / kWarpSize},
            {"idle", lane.idle},
            {"value", lane.idle ? json() : json(lane.value)},
            {"covers", covers}};
  if (!lane.idle && lane.source >= 0) l["source"] = lane.source;
  if (trace.strategy == VarianceStrategy::Welford && trace.subtracts_mean) {
    l["count"] = lane.idle ? json() : json(lane.welford.count);
    l["mean"] = lane.idle ? json() : json(lane.welford.mean);
    l["m2"] = lane.idle ? json() : json(lane.welford.m2);
  }
  if (trace.strategy == VarianceStrategy::Naive && trace.subtracts_mean)
    l["sumsq"] = lane.idle ? json() : json(lane.sumsq);
  return l;
}

nlohmann::json traceJson(const LoadedLayer& L, const ReductionTrace& t) {
  using nlohmann::json;
  json stages = json::array();
  for (const TraceStage& s : t.stages) {
    json lanes = json::array();
    for (size_t i = 0; i < s.lanes.size(); ++i)
      lanes.push_back(laneJson(s.lanes[i], static_cast<int>(i), t));
    stages.push_back({{"name", s.name},
                      {"kind", stageKindName(s.kind)},
                      {"pass", s.pass},
                      {"offset", s.offset},
                      {"explanation", s.explanation},
                      {"lanes", lanes}});
  }
  const std::vector<float> values = groupValues(L.x, L.plan, t.group);
  const GroupStats<double> ref =
      groupStatsF64(values.data(), static_cast<int64_t>(values.size()), t.subtracts_mean);
  return {{"group", t.group},
          {"norm", normKindName(L.plan.kind())},
          {"shape", L.plan.shape().dims},
          {"stat_shape", L.plan.statShape().dims},
          {"strategy", varianceName(t.strategy)},
          {"block_size", t.block_size},
          {"vector_width", t.vector_width},
          {"shuffle", shuffleName(t.shuffle)},
          {"elements", t.elements},
          {"thread_of", t.thread_of},
          {"stages", stages},
          {"result", {{"mean", t.mean}, {"var", t.var}, {"rstd", t.rstd}}},
          {"reference", {{"mean", ref.mean}, {"var", ref.var}}}};
}

// "0-3, 8" style list of covered positions j, short enough for a terminal line.
std::string ranges(const std::vector<int32_t>& js) {
  std::string out;
  size_t i = 0, shown = 0;
  while (i < js.size()) {
    size_t k = i;
    while (k + 1 < js.size() && js[k + 1] == js[k] + 1) ++k;
    if (shown == 6) {
      out += ", ...";
      break;
    }
    if (!out.empty()) out.push_back(',');
    out.append(std::to_string(js[i]));
    if (k > i) {
      out.push_back('-');
      out.append(std::to_string(js[k]));
    }
    ++shown;
    i = k + 1;
  }
  return out;
}

void printText(const LoadedLayer& L, const ReductionTrace& t) {
  std::printf(
      "%s\ngroup %lld of %lld (%lld elements), strategy %s, block of %d threads (%d warps), "
      "vector width %d, shuffle %s\n",
      L.plan.pytorchLine().c_str(), static_cast<long long>(t.group),
      static_cast<long long>(L.plan.groupCount()), static_cast<long long>(t.elements.size()),
      varianceName(t.strategy), t.block_size, t.warps(), t.vector_width, shuffleName(t.shuffle));
  std::printf("positions j below index the group's elements in row-major order\n\n");
  for (size_t i = 0; i < t.stages.size(); ++i) {
    const TraceStage& s = t.stages[i];
    int busy = 0;
    for (const TraceLane& lane : s.lanes) busy += lane.idle ? 0 : 1;
    std::printf("[%2zu] %s\n     %s\n", i, s.name.c_str(), s.explanation.c_str());
    int printed = 0;
    for (size_t l = 0; l < s.lanes.size() && printed < 8; ++l) {
      const TraceLane& lane = s.lanes[l];
      if (lane.idle) continue;
      std::printf("     lane %3zu: %-13.7g covers %zu: j %s\n", l, static_cast<double>(lane.value),
                  lane.covers.size(), ranges(lane.covers).c_str());
      ++printed;
    }
    if (busy > printed) std::printf("     ... %d more busy lanes\n", busy - printed);
    std::printf("     %d of %zu lanes idle\n", static_cast<int>(s.lanes.size()) - busy,
                s.lanes.size());
  }
  std::printf("\nresult: mean %.9g  var %.9g  rstd %.9g\n", static_cast<double>(t.mean),
              static_cast<double>(t.var), static_cast<double>(t.rstd));
}

int runTrace(const TraceFlags& f) {
  LoadedLayer L = loadLayer(f.layer.layer());
  for (const std::string& note : L.notes) std::fprintf(stderr, "normviz: %s\n", note.c_str());
  TraceOptions o;
  o.strategy = parseVariance(f.strategy);
  o.block_size = f.block_size;
  o.vector_width = f.vector_width;
  o.shuffle = parseShuffle(f.shuffle);
  const ReductionTrace t = traceReduction(L.x, L.plan, f.group, o);
  if (f.json)
    std::printf("%s\n", traceJson(L, t).dump().c_str());
  else
    printText(L, t);
  return 0;
}

}  // namespace

void addTraceCommand(CLI::App& cli) {
  auto flags = std::make_shared<TraceFlags>();
  CLI::App* cmd = cli.add_subcommand(
      "trace", "Step through a GPU kernel's reduction of one group, stage by stage");
  flags->layer.add(*cmd, SpecArgs::Fields::Layer);
  cmd->add_option("--group", flags->group,
                  "which group: row-major over the mean's shape (GroupNorm: (n, g))")
      ->capture_default_str();
  cmd->add_option("--strategy", flags->strategy, "two-pass|welford|naive|pairwise")
      ->capture_default_str();
  cmd->add_option("--block-size", flags->block_size,
                  "threads per block: a multiple of 32 up to 1024 (32 = one warp per group)")
      ->capture_default_str();
  cmd->add_option("--vector-width", flags->vector_width, "elements per load: 1, 2 or 4")
      ->capture_default_str();
  cmd->add_option("--shuffle", flags->shuffle,
                  "warp step: down (__shfl_down_sync) or xor (__shfl_xor_sync)")
      ->capture_default_str();
  cmd->add_flag("--json", flags->json, "print the whole trace as one JSON object");
  registerCommand(cmd, [flags] { return runTrace(*flags); });
}

}  // namespace normviz
