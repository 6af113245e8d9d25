// `normviz bench`: times every CPU path (fp64 reference, fp32 per variance strategy) and every GPU
// kernel design on the headline shapes, with effective bandwidth, ratio to the best, and the
// largest deviation of y from the fp64 reference. Backward rows (dx, dweight, dbias from a randn dy
// and the forward's saved statistics) follow per shape, their dx checked against the fp64
// backward. Without a usable GPU the GPU rows are absent and one line says why.
#include "cli_bench.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli.hpp"
#include "normviz/backward.hpp"
#include "normviz/engine.hpp"
#include "normviz/error.hpp"
#include "normviz/gpu.hpp"

namespace normviz {
namespace {

struct BenchFlags {
  std::string shapes = "layer,batch,group,instance";
  int cpu_repeats = 3;
  int fp64_repeats = 1;
  int gpu_warmup = 5;
  int gpu_repeats = 50;
  bool no_gpu = false;
  bool no_cpu = false;
  bool no_backward = false;
  uint64_t seed = 0;
  bool json = false;
};

// The headline shapes of docs/NORMS.md: GPT-2 small activations for LayerNorm, a ResNet-stage
// feature map for the convolution-shaped norms.
struct BenchShape {
  std::string key, title;
  Shape shape;
  NormConfig config;
};

std::vector<BenchShape> headlineShapes() {
  NormConfig ln;
  ln.kind = NormKind::Layer;
  NormConfig bn;
  bn.kind = NormKind::Batch;
  NormConfig gn;
  gn.kind = NormKind::Group;
  gn.groups = 8;
  NormConfig in;
  in.kind = NormKind::Instance;
  return {{"layer", "LayerNorm(768) (8,1024,768)", {8, 1024, 768}, ln},
          {"batch", "BatchNorm2d(64) train (32,64,56,56)", {32, 64, 56, 56}, bn},
          {"group", "GroupNorm(8,64) (32,64,56,56)", {32, 64, 56, 56}, gn},
          {"instance", "InstanceNorm2d(64) (32,64,56,56)", {32, 64, 56, 56}, in}};
}

struct Row {
  std::string shape_key, shape_title, device, path;
  std::string pass = "forward";  // or "backward"; "x best" compares rows of one shape and pass
  double ms = 0, gbs = 0, ratio = 0, max_err = 0;
  int repeats = 0;
  // GPU only
  double h2d_ms = 0, d2h_ms = 0, fraction_of_peak = 0, fraction_of_copy = 0;
};

// Bytes a forward pass must move at least: read x, write y and the statistics (BatchNorm training
// also reads and writes its running statistics). The GPU backend counts the same way.
double minimumBytes(const ReductionPlan& plan) {
  const double n = static_cast<double>(plan.shape().numel());
  const double g = static_cast<double>(plan.groupCount());
  double bytes = 4.0 * (2.0 * n + 3.0 * g);
  if (plan.kind() == NormKind::Batch && plan.config().training) bytes += 16.0 * g;
  return bytes;
}

// The backward reads x and dy, writes dx, and reads mean/rstd and writes the two sums per group.
double minimumBackwardBytes(const ReductionPlan& plan) {
  const double n = static_cast<double>(plan.shape().numel());
  const double g = static_cast<double>(plan.groupCount());
  return 4.0 * (3.0 * n + 4.0 * g);
}

double maxAbsDiff(const TensorD& a, const TensorD& b) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double d = std::fabs(a[i] - b[i]);
    if (!(d <= m)) m = d;  // NaN propagates as the maximum
  }
  return m;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// CPU path: median of `repeats` runs of computeNorm's own compute time. The fp64 run's result is
// kept as the reference the other rows' y is compared with.
Row cpuRow(const BenchShape& s, const Tensor& x, const ReductionPlan& plan,
           const ComputeOptions& options, int repeats, const TensorD* reference_y,
           NormResult* keep) {
  std::vector<double> seconds;
  NormResult last;
  for (int i = 0; i < std::max(repeats, 1); ++i) {
    last = computeNorm(x, plan, {}, options);
    seconds.push_back(last.seconds);
  }
  Row r;
  r.shape_key = s.key;
  r.shape_title = s.title;
  r.device = "cpu";
  r.path = options.precision == Precision::Fp64
               ? "cpu fp64 reference"
               : std::string("cpu fp32 ") + varianceName(options.variance);
  r.repeats = static_cast<int>(seconds.size());
  r.ms = median(seconds) * 1e3;
  r.gbs = minimumBytes(plan) / (r.ms * 1e-3) / 1e9;
  r.max_err = reference_y ? maxAbsDiff(last.y, *reference_y) : 0;
  if (keep) *keep = std::move(last);
  return r;
}

// CPU backward: median of `repeats` runs from the forward's saved statistics; dx compared with
// the fp64 backward's.
Row cpuBackwardRow(const BenchShape& s, const Tensor& x, const Tensor& dy,
                   const ReductionPlan& plan, const NormResult& forward,
                   const ComputeOptions& options, int repeats, const TensorD* reference_dx,
                   BackwardResult* keep) {
  std::vector<double> seconds;
  BackwardResult last;
  for (int i = 0; i < std::max(repeats, 1); ++i) {
    last = computeNormBackward(x, dy, plan, {}, forward, options);
    seconds.push_back(last.seconds);
  }
  Row r;
  r.shape_key = s.key;
  r.shape_title = s.title;
  r.device = "cpu";
  r.pass = "backward";
  r.path = options.precision == Precision::Fp64 ? "cpu fp64 backward" : "cpu fp32 backward";
  r.repeats = static_cast<int>(seconds.size());
  r.ms = median(seconds) * 1e3;
  r.gbs = minimumBackwardBytes(plan) / (r.ms * 1e-3) / 1e9;
  r.max_err = reference_dx ? maxAbsDiff(last.dx, *reference_dx) : 0;
  if (keep) *keep = std::move(last);
  return r;
}

// GPU design: one untimed-for-the-table run first; designs slower than 20 ms (thread-per-row on
// big groups) get 5 repeats instead of the full count so the benchmark stays short.
Row gpuRow(const BenchShape& s, const Tensor& x, const ReductionPlan& plan, GpuVariant variant,
           const BenchFlags& f, const TensorD* reference_y, double copy_gbs) {
  GpuOptions o;
  o.variant = variant;
  o.warmup = 0;
  o.repeats = 1;
  const GpuResult probe = gpuCompute(x, plan, {}, o);
  o.warmup = f.gpu_warmup;
  o.repeats = probe.timings.kernel_ms > 20 ? std::min(f.gpu_repeats, 5) : f.gpu_repeats;
  const GpuResult g = gpuCompute(x, plan, {}, o);
  Row r;
  r.shape_key = s.key;
  r.shape_title = s.title;
  r.device = "gpu";
  r.path = std::string("gpu ") + gpuVariantName(g.variant);
  r.repeats = o.repeats;
  r.ms = g.timings.kernel_ms;
  r.gbs = g.timings.gbs;
  r.h2d_ms = g.timings.h2d_ms;
  r.d2h_ms = g.timings.d2h_ms;
  r.fraction_of_peak = g.timings.fraction_of_peak;
  r.fraction_of_copy = copy_gbs > 0 ? g.timings.gbs / copy_gbs : 0;
  r.max_err = reference_y ? maxAbsDiff(g.result.y, *reference_y) : 0;
  return r;
}

// GPU backward from the float32 forward's statistics, timed like the forward's GPU rows.
Row gpuBackwardRow(const BenchShape& s, const Tensor& x, const Tensor& dy,
                   const ReductionPlan& plan, const NormResult& forward, const BenchFlags& f,
                   const TensorD* reference_dx, double copy_gbs) {
  GpuOptions o;
  o.warmup = f.gpu_warmup;
  o.repeats = f.gpu_repeats;
  const GpuBackwardResult g = gpuBackward(x, dy, plan, {}, forward.mean, forward.rstd, o);
  Row r;
  r.shape_key = s.key;
  r.shape_title = s.title;
  r.device = "gpu";
  r.pass = "backward";
  r.path = plan.kind() == NormKind::Batch ? "gpu backward split" : "gpu backward rows";
  r.repeats = o.repeats;
  r.ms = g.timings.kernel_ms;
  r.gbs = g.timings.gbs;
  r.fraction_of_peak = g.timings.fraction_of_peak;
  r.fraction_of_copy = copy_gbs > 0 ? g.timings.gbs / copy_gbs : 0;
  r.max_err = reference_dx ? maxAbsDiff(g.result.dx, *reference_dx) : 0;
  return r;
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

void printTable(const std::vector<Row>& rows) {
  std::printf("%-36s %-24s %11s %9s %8s %11s %7s\n", "shape", "path", "ms", "GB/s", "x best",
              "max|y-ref|", "repeats");
  std::string last;
  for (const Row& r : rows) {
    if (r.shape_key + r.pass != last && !last.empty()) std::printf("\n");
    last = r.shape_key + r.pass;
    std::printf("%-36s %-24s %11.4f %9.2f %8.2f %11.2e %7d", r.shape_title.c_str(), r.path.c_str(),
                r.ms, r.gbs, r.ratio, r.max_err, r.repeats);
    if (r.device == "gpu")
      std::printf("   %5.1f%% of peak, %5.1f%% of copy", 100 * r.fraction_of_peak,
                  100 * r.fraction_of_copy);
    std::printf("\n");
  }
}

int runBench(const BenchFlags& f) {
  if (f.cpu_repeats < 1 || f.fp64_repeats < 1 || f.gpu_repeats < 1 || f.gpu_warmup < 0)
    throw NormError("repeat counts must be at least 1 (warm-up at least 0)");
  std::vector<BenchShape> shapes;
  const std::vector<BenchShape> all = headlineShapes();
  for (const std::string& key : splitList(f.shapes)) {
    auto it =
        std::find_if(all.begin(), all.end(), [&](const BenchShape& s) { return s.key == key; });
    if (it == all.end())
      throw NormError("unknown bench shape '" + key + "'; expected layer, batch, group, instance");
    shapes.push_back(*it);
  }

  const GpuDevice& device = gpuDevice();
  const bool gpu = device.usable && !f.no_gpu;
  const std::string gpu_absent =
      f.no_gpu ? "GPU rows skipped (--no-gpu)" : "GPU rows absent: " + device.reason;
  const double copy_gbs = gpu ? gpuCopyBandwidthGbs() : 0;

  std::vector<Row> rows;
  for (const BenchShape& s : shapes) {
    const ReductionPlan plan = ReductionPlan::make(s.shape, s.config);
    const Tensor x = makeInput(s.shape, "randn", f.seed);
    const size_t first = rows.size();
    // The fp64 reference always runs once: it is what every other row's y is checked against.
    NormResult reference;
    ComputeOptions fp64;
    fp64.precision = Precision::Fp64;
    Row ref_row = cpuRow(s, x, plan, fp64, f.no_cpu ? 1 : f.fp64_repeats, nullptr, &reference);
    if (!f.no_cpu) {
      rows.push_back(ref_row);
      for (VarianceStrategy v : kAllStrategies) {
        ComputeOptions o;
        o.variance = v;
        rows.push_back(cpuRow(s, x, plan, o, f.cpu_repeats, &reference.y, nullptr));
      }
    }
    if (gpu)
      for (GpuVariant v : gpuVariantsFor(plan))
        if (v != GpuVariant::Auto) rows.push_back(gpuRow(s, x, plan, v, f, &reference.y, copy_gbs));
    if (!f.no_backward) {
      // Each backward from the forward of its own precision, as training would run them. The
      // fp64 backward always runs once: the other rows' dx is checked against it.
      const Tensor dy = makeInput(s.shape, "randn", f.seed + 1);
      BackwardResult reference_back;
      const Row ref_back_row = cpuBackwardRow(
          s, x, dy, plan, reference, fp64, f.no_cpu ? 1 : f.fp64_repeats, nullptr, &reference_back);
      const NormResult forward32 = computeNorm(x, plan, {}, ComputeOptions{});
      if (!f.no_cpu) {
        rows.push_back(ref_back_row);
        rows.push_back(cpuBackwardRow(s, x, dy, plan, forward32, ComputeOptions{}, f.cpu_repeats,
                                      &reference_back.dx, nullptr));
      }
      if (gpu && gpuBackwardUnsupported(plan).empty())
        rows.push_back(gpuBackwardRow(s, x, dy, plan, forward32, f, &reference_back.dx, copy_gbs));
    }
    for (const char* pass : {"forward", "backward"}) {
      double best = 0;
      for (size_t i = first; i < rows.size(); ++i)
        if (rows[i].pass == pass && (best == 0 || rows[i].ms < best)) best = rows[i].ms;
      for (size_t i = first; i < rows.size(); ++i)
        if (rows[i].pass == pass) rows[i].ratio = rows[i].ms / best;
    }
  }

  if (f.json) {
    using nlohmann::json;
    json j;
    j["cpu_threads"] = std::thread::hardware_concurrency();
    if (gpu) {
      j["gpu"] = {{"name", device.name},
                  {"sm", std::to_string(device.sm_major) + std::to_string(device.sm_minor)},
                  {"sm_count", device.sm_count},
                  {"memory_bytes", device.memory_bytes},
                  {"l2_bytes", device.l2_bytes},
                  {"peak_bandwidth_gbs", device.peak_bandwidth_gbs},
                  {"copy_bandwidth_gbs", copy_gbs}};
    } else {
      j["gpu"] = nullptr;
      j["gpu_absent_reason"] = gpu_absent;
    }
    json list = json::array();
    for (const Row& r : rows) {
      json row = {{"shape", r.shape_key}, {"title", r.shape_title},   {"device", r.device},
                  {"pass", r.pass},       {"path", r.path},           {"ms", r.ms},
                  {"gbs", r.gbs},         {"ratio_to_best", r.ratio}, {"max_abs_err", r.max_err},
                  {"repeats", r.repeats}};
      if (r.device == "gpu") {
        row["h2d_ms"] = r.h2d_ms;
        row["d2h_ms"] = r.d2h_ms;
        row["fraction_of_peak"] = r.fraction_of_peak;
        row["fraction_of_copy"] = r.fraction_of_copy;
      }
      list.push_back(row);
    }
    j["rows"] = list;
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }

  std::printf(
      "normviz bench: median times; GB/s = (bytes read + written) / time; x best = time / "
      "fastest row of the shape and pass; max|y-ref| against the fp64 reference (backward rows: "
      "max|dx-ref| against the fp64 backward)\n");
  std::printf("CPU: %u hardware threads (the engine splits groups across all of them)\n",
              std::thread::hardware_concurrency());
  if (gpu)
    std::printf(
        "GPU: %s (sm_%d%d, %d SMs, %.0f MiB L2), peak %.0f GB/s, measured copy %.0f GB/s; "
        "kernel times from CUDA events after %d warm-up runs, L2 flushed between "
        "repeats\n",
        device.name.c_str(), device.sm_major, device.sm_minor, device.sm_count,
        static_cast<double>(device.l2_bytes) / (1 << 20), device.peak_bandwidth_gbs, copy_gbs,
        f.gpu_warmup);
  else
    std::printf("%s\n", gpu_absent.c_str());
  std::printf("\n");
  printTable(rows);
  if (gpu) {
    std::printf("\nhost<->device copies (pageable memory), per shape:\n");
    std::string last;
    for (const Row& r : rows)
      if (r.device == "gpu" && r.shape_key != last) {
        last = r.shape_key;
        std::printf("  %-36s x to device %.3f ms, y to host %.3f ms\n", r.shape_title.c_str(),
                    r.h2d_ms, r.d2h_ms);
      }
  }
  return 0;
}

}  // namespace

void addBenchCommand(CLI::App& cli) {
  auto flags = std::make_shared<BenchFlags>();
  CLI::App* cmd = cli.add_subcommand(
      "bench", "Time every CPU path and GPU kernel on the headline shapes (table or --json)");
  cmd->add_option("--shapes", flags->shapes, "comma list of layer, batch, group, instance")
      ->capture_default_str();
  cmd->add_option("--cpu-repeats", flags->cpu_repeats, "repeats per fp32 CPU path")
      ->capture_default_str();
  cmd->add_option("--fp64-repeats", flags->fp64_repeats, "repeats of the fp64 reference")
      ->capture_default_str();
  cmd->add_option("--gpu-warmup", flags->gpu_warmup, "untimed GPU runs before timing")
      ->capture_default_str();
  cmd->add_option("--gpu-repeats", flags->gpu_repeats, "timed GPU repeats (median)")
      ->capture_default_str();
  cmd->add_option("--seed", flags->seed, "seed of the randn input")->capture_default_str();
  cmd->add_flag("--no-gpu", flags->no_gpu, "CPU rows only");
  cmd->add_flag("--no-cpu", flags->no_cpu, "GPU rows only (the fp64 reference still runs once)");
  cmd->add_flag("--no-backward", flags->no_backward, "forward rows only");
  cmd->add_flag("--json", flags->json, "print JSON instead of the table");
  registerCommand(cmd, [flags] { return runBench(*flags); });
}

}  // namespace normviz
