// `normviz bench`: times every CPU path (fp64 reference, fp32 per variance strategy) and every GPU
// kernel design on the headline shapes, with effective bandwidth, ratio to the best, ratio to a
// copy of the same tensor with the same threads, and the largest deviation of y from the fp64
// reference. Backward rows (dx, and the two sums per group, from a randn dy and the forward's saved
// statistics) follow per shape, with their ratio to their floor (reading x and dy and writing dx:
// 1.5 copies) and their dx checked against the fp64 backward, and two bounds beside them: reading x
// and dy alone, and reading them once while writing dx (a backward's traffic without its sums).
// Without a usable GPU
// the GPU rows are absent and one line says why.
#include "cli_bench.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli.hpp"
#include "headline_shapes.hpp"
#include "normviz/backward.hpp"
#include "normviz/engine.hpp"
#include "normviz/error.hpp"
#include "normviz/gpu.hpp"
#include "normviz/timing.hpp"

namespace normviz {
namespace {

struct BenchFlags {
  std::string shapes = "layer,batch,group,instance";
  int cpu_repeats = 5;
  int fp64_repeats = 3;
  int threads = 0;  // 0 = every core
  int gpu_warmup = 5;
  int gpu_repeats = 50;
  bool no_gpu = false;
  bool no_cpu = false;
  bool no_backward = false;
  uint64_t seed = 0;
  bool json = false;
};

struct Row {
  std::string shape_key, shape_title, device, path;
  std::string pass = "forward";  // or "backward"; "x best" compares rows of one shape and pass
  double ms = 0, gbs = 0, ratio = 0, copy_ratio = 0, max_err = 0;
  double floor_ratio = 0;  // backward rows: time / (kBackwardFloorCopies x the copy's time)
  bool baseline = false;   // the copy and the backward's bounds: not paths of the layer
  int repeats = 0;
  // GPU only
  double h2d_ms = 0, d2h_ms = 0, fraction_of_peak = 0, fraction_of_copy = 0;
  std::string design;  // forward rows: what the kernel design does (gpuVariantDescription)
};

// Where the bounds' results go, so that no read is optimized away.
volatile double benchmark_sink = 0;

// Bytes a backward must move at least: read x and dy, write dx, read mean/rstd and write the two
// sums per group (the GPU backend counts the same way).
double backwardTrafficBytes(const ReductionPlan& plan) {
  const double n = static_cast<double>(plan.shape().numel());
  const double g = static_cast<double>(plan.groupCount());
  return 4.0 * (3.0 * n + 4.0 * g);
}

Row cpuRowOf(const BenchShape& s, double bytes, std::string path, std::vector<double> seconds,
             const char* pass = "forward") {
  Row r;
  r.shape_key = s.key;
  r.shape_title = s.title;
  r.device = "cpu";
  r.pass = pass;
  r.path = std::move(path);
  r.repeats = static_cast<int>(seconds.size());
  r.ms = median(std::move(seconds)) * 1e3;
  r.gbs = bytes / (r.ms * 1e-3) / 1e9;
  return r;
}

// What the rows of one shape are checked against, and the statistics the backward rows start
// from: each backward from the forward of its own precision, as training would run them.
struct References {
  NormResult forward;       // fp64: every y is compared with its y
  NormResult forward32;     // fp32 two-pass: the fp32 CPU and the GPU backward start from it
  Tensor mean32, rstd32;    // its statistics in float32, as the fp32 backward takes them
  BackwardResult backward;  // fp64, from the fp64 forward: every dx is compared with its dx
};

// The float32 paths a forward row times: one per variance strategy.
std::vector<ComputeOptions> fastPaths(int threads) {
  std::vector<ComputeOptions> fast;
  for (VarianceStrategy v : kAllStrategies) {
    ComputeOptions o;
    o.variance = v;
    o.threads = threads;
    fast.push_back(o);
  }
  return fast;
}

// The timed seconds of one shape's CPU paths (forward: per fast path; backward: with its bounds).
struct CpuTimings {
  std::vector<double> copy, reference, back64, back32, read, one_pass;
  std::vector<double> copy_back;  // the copy again, in the backward's rounds
  std::vector<std::vector<double>> fast;
  std::vector<double> fast_err;
  double back32_err = 0;
};

// The rows of CpuTimings, in table order; the backward's only `with_backward`.
std::vector<Row> cpuRowsOf(const BenchShape& s, const ReductionPlan& plan,
                           const std::vector<ComputeOptions>& fast, const CpuTimings& t,
                           bool with_backward) {
  std::vector<Row> rows;
  const double bytes = normTrafficBytes(plan);
  rows.push_back(cpuRowOf(s, bytes, "cpu copy", t.copy));
  rows.back().baseline = true;
  rows.push_back(cpuRowOf(s, bytes, "cpu fp64 reference", t.reference));
  for (size_t k = 0; k < fast.size(); ++k) {
    rows.push_back(
        cpuRowOf(s, bytes, std::string("cpu fp32 ") + varianceName(fast[k].variance), t.fast[k]));
    rows.back().max_err = t.fast_err[k];
  }
  if (!with_backward) return rows;
  rows.push_back(cpuRowOf(s, bytes, "cpu copy", t.copy_back, "backward"));
  rows.back().baseline = true;
  const double back_bytes = backwardTrafficBytes(plan);
  rows.push_back(cpuRowOf(s, back_bytes, "cpu fp64 backward", t.back64, "backward"));
  rows.push_back(cpuRowOf(s, back_bytes, "cpu fp32 backward", t.back32, "backward"));
  rows.back().max_err = t.back32_err;
  const double read_bytes = 8.0 * static_cast<double>(plan.shape().numel());  // x and dy only
  rows.push_back(cpuRowOf(s, read_bytes, "cpu bound: read x, dy", t.read, "backward"));
  rows.back().baseline = true;
  rows.push_back(cpuRowOf(s, back_bytes, "cpu bound: dx one pass", t.one_pass, "backward"));
  rows.back().baseline = true;
  return rows;
}

// The CPU rows of one shape: a copy of x into a preallocated y with the same threads (the floor for
// any layer: it reads and writes as many bytes), the fp64 reference (its y is what every other row
// is compared with) and the fp32 fast path per strategy (float32 outputs); with dy, the fp64 and
// fp32 backward too (same threads). After one untimed run of each, the repeats go round robin over
// the paths, so that on a shared machine a burst of load lands on all of them alike and the ratios
// of one run stay meaningful, each round in its own shuffled order; the backward rows have their
// own rounds after the forward's, with the copy timed again among them. With cpu_rows false only
// the references run, once.
std::vector<Row> cpuRows(const BenchShape& s, const Tensor& x, const Tensor* dy,
                         const ReductionPlan& plan, const BenchFlags& f, int threads, bool cpu_rows,
                         References& refs) {
  using Clock = std::chrono::steady_clock;
  // Every path writes into outputs allocated once, as the copy does: a fresh result per call
  // would add its page faults and the write-back of its zeroed lines to the next timed call.
  TensorData<float> copy_y(static_cast<size_t>(x.numel()));  // on a cache line, as every y is
  NormResultF32 fast_out;
  BackwardResult back64_out;
  BackwardResultF32 back32_out;
  ComputeOptions fp64;
  fp64.precision = Precision::Fp64;
  fp64.threads = threads;
  const std::vector<ComputeOptions> fast = fastPaths(threads);
  ComputeOptions fp32;
  fp32.threads = threads;
  CpuTimings t;
  t.fast.resize(fast.size());
  t.fast_err.resize(fast.size());
  const int rounds = cpu_rows ? 1 + std::max(f.cpu_repeats, f.fp64_repeats) : 1;
  // The forward rows run first, then the backward rows, each pass in its own round robin.
  // Forward slots: the copy, the reference, each fast path. Timed rounds shuffle their order (the
  // same shuffles in every run), so that every row follows every other about equally often:
  // whatever runs right after the reference pays for draining its 51 MB of streamed float64
  // writes, and whatever runs right after the copy for writing back the copy's cached y. A
  // rotation kept each slot's predecessor fixed, so one path always paid (docs/benchmarks.md,
  // "Design measurements").
  // body(slot, timed, fast_round, fp64_round) for each of `slots` slots per round, round 0 (which
  // warms the pool, the pages and the caches) in order.
  auto roundRobin = [&](size_t slots, const auto& body) {
    std::mt19937 shuffler(20261127);
    std::vector<size_t> order(slots);
    for (int round = 0; round < rounds; ++round) {
      const bool timed = round > 0;
      const bool fast_round = cpu_rows && (!timed || round <= f.cpu_repeats);
      const bool fp64_round = !timed || round <= f.fp64_repeats;
      std::iota(order.begin(), order.end(), size_t{0});
      if (timed) std::shuffle(order.begin(), order.end(), shuffler);
      for (size_t slot : order) body(slot, timed, fast_round, fp64_round);
    }
  };
  // The copy, into `seconds` when timed.
  auto timeCopy = [&](bool timed, std::vector<double>& seconds) {
    const auto start = Clock::now();
    copyFloats(x.data.data(), copy_y.data(), x.numel(), threads);
    if (timed) seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  };
  roundRobin(2 + fast.size(), [&](size_t slot, bool timed, bool fast_round, bool fp64_round) {
    if (slot == 0 && fast_round) {
      timeCopy(timed, t.copy);
    } else if (slot == 1 && fp64_round) {
      computeNormInto(x, plan, {}, fp64, refs.forward);
      if (timed) t.reference.push_back(refs.forward.seconds);
    } else if (slot >= 2 && fast_round) {
      const size_t k = slot - 2;
      computeNormF32Into(x, plan, {}, fast[k], fast_out);
      if (timed) t.fast[k].push_back(fast_out.seconds);
      if (!timed) t.fast_err[k] = maxAbsDiff(fast_out.y, refs.forward.y);
    }
  });
  // Backward slots: the fp64 backward (from the fp64 forward), the fp32 backward (from the fp32
  // two-pass forward, as training would run them), the fp32 backward's two bounds (x and dy read
  // once, and x and dy read once with dx written: its traffic without its sums) and the copy again,
  // the backward rows' floor. The forward's rounds read x alone, so much of x is still in the
  // last-level cache when the copy reads it there; the backward's rounds stream x and dy, which do
  // not fit, so the copy timed among them reads x from memory as the backward does
  // (docs/benchmarks.md, "The backward's copy").
  double read_sum = 0;
  if (dy)
    roundRobin(5, [&](size_t slot, bool timed, bool fast_round, bool fp64_round) {
      if (slot == 0 && fp64_round) {
        computeNormBackwardInto(x, *dy, plan, {}, refs.forward, fp64, back64_out);
        if (timed) {
          t.back64.push_back(back64_out.seconds);
        } else {
          refs.backward = back64_out;
          refs.forward32 = computeNorm(x, plan, {}, fp32);
          refs.mean32 = narrow(refs.forward32.mean);
          refs.rstd32 = narrow(refs.forward32.rstd);
        }
      } else if (slot == 1 && fast_round) {
        computeNormBackwardF32Into(x, *dy, plan, {}, refs.mean32, refs.rstd32, fp32, back32_out);
        if (timed) t.back32.push_back(back32_out.seconds);
        if (!timed) t.back32_err = maxAbsDiff(back32_out.dx, refs.backward.dx);
      } else if (slot == 4 && fast_round) {
        timeCopy(timed, t.copy_back);
      } else if (slot >= 2 && fast_round) {
        const auto start = Clock::now();
        if (slot == 2)
          read_sum += readFloatPair(x.data.data(), dy->data.data(), x.numel(), threads);
        else
          combineFloatPair(x.data.data(), dy->data.data(), copy_y.data(), x.numel(), 0.5f, 2.0f,
                           0.25f, threads);
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        if (timed) (slot == 2 ? t.read : t.one_pass).push_back(seconds);
      }
    });
  benchmark_sink = read_sum;  // the read's result is kept, so the read itself is too
  return cpu_rows ? cpuRowsOf(s, plan, fast, t, dy != nullptr) : std::vector<Row>{};
}

Row gpuRowOf(const BenchShape& s, std::string path, int repeats, const GpuTimings& t,
             double copy_gbs) {
  Row r;
  r.shape_key = s.key;
  r.shape_title = s.title;
  r.device = "gpu";
  r.path = std::move(path);
  r.repeats = repeats;
  r.ms = t.kernel_ms;
  r.gbs = t.gbs;
  r.h2d_ms = t.h2d_ms;
  r.d2h_ms = t.d2h_ms;
  r.fraction_of_peak = t.fraction_of_peak;
  r.fraction_of_copy = copy_gbs > 0 ? t.gbs / copy_gbs : 0;
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
  Row r =
      gpuRowOf(s, std::string("gpu ") + gpuVariantName(g.variant), o.repeats, g.timings, copy_gbs);
  r.max_err = reference_y ? maxAbsDiff(g.result.y, *reference_y) : 0;
  r.design = gpuVariantDescription(g.variant);
  return r;
}

// GPU backward from the fp32 forward's statistics, timed like the forward's GPU rows.
Row gpuBackwardRow(const BenchShape& s, const Tensor& x, const Tensor& dy,
                   const ReductionPlan& plan, const References& refs, const BenchFlags& f,
                   double copy_gbs) {
  GpuOptions o;
  o.warmup = f.gpu_warmup;
  o.repeats = f.gpu_repeats;
  const GpuBackwardResult g =
      gpuBackward(x, dy, plan, {}, refs.forward32.mean, refs.forward32.rstd, o);
  // The design that ran, from the result's backend ("gpu backward channels on <device>").
  const std::string& backend = g.result.backend;
  Row r = gpuRowOf(s, backend.substr(0, backend.find(" on ")), o.repeats, g.timings, copy_gbs);
  r.pass = "backward";
  r.max_err = maxAbsDiff(g.result.dx, refs.backward.dx);
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
  std::printf("%-36s %-24s %11s %9s %8s %8s %8s %11s %7s\n", "shape", "path", "ms", "GB/s",
              "x best", "x copy", "x floor", "max|y-ref|", "repeats");
  std::string last;
  for (const Row& r : rows) {
    if (r.shape_key + r.pass != last && !last.empty()) std::printf("\n");
    last = r.shape_key + r.pass;
    char copy[16] = "-", floor[16] = "-";
    if (r.device == "cpu") std::snprintf(copy, sizeof copy, "%.2f", r.copy_ratio);
    if (r.floor_ratio > 0) std::snprintf(floor, sizeof floor, "%.2f", r.floor_ratio);
    std::printf("%-36s %-24s %11.4f %9.2f %8.2f %8s %8s %11.2e %7d", r.shape_title.c_str(),
                r.path.c_str(), r.ms, r.gbs, r.ratio, copy, floor, r.max_err, r.repeats);
    if (r.device == "gpu")
      std::printf("   %5.1f%% of peak, %5.1f%% of copy", 100 * r.fraction_of_peak,
                  100 * r.fraction_of_copy);
    std::printf("\n");
  }
}

// The rows as JSON, with the machine they ran on.
void printJson(const std::vector<Row>& rows, int threads, bool gpu, double copy_gbs,
               const std::string& gpu_absent) {
  const GpuDevice& device = gpuDevice();
  using nlohmann::json;
  json j;
  j["cpu_threads"] = threads;
  j["cpu_hardware_threads"] = std::thread::hardware_concurrency();
  j["cpu_simd"] = engineSimdTarget();
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
    if (r.device == "cpu") row["ratio_to_copy"] = r.copy_ratio;
    if (r.floor_ratio > 0) row["ratio_to_floor"] = r.floor_ratio;
    if (r.baseline) row["baseline"] = true;
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
}

// The rows as a table, with what each column means and the machine they ran on.
void printText(const std::vector<Row>& rows, const BenchFlags& f, int threads, bool gpu,
               double copy_gbs, const std::string& gpu_absent) {
  const GpuDevice& device = gpuDevice();
  std::printf(
      "normviz bench: median times; GB/s = (bytes read + written) / time; x best = time / "
      "fastest row of the shape and pass; x copy = time / cpu copy of the same tensor with the "
      "same threads, timed in the same pass's rounds; x floor (backward rows) = time / 1.5 copies "
      "(a backward reads x and dy and writes dx); max|y-ref| "
      "against the fp64 reference (backward rows: max|dx-ref| against the fp64 backward)\n");
  std::printf("CPU: %d of %u hardware threads, SIMD target %s\n", threads,
              std::thread::hardware_concurrency(), engineSimdTarget());
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
    // What each GPU row's design does, once per design.
    std::printf("\nGPU kernel designs:\n");
    std::vector<std::string> listed;
    for (const Row& r : rows)
      if (!r.design.empty() && std::find(listed.begin(), listed.end(), r.path) == listed.end()) {
        listed.push_back(r.path);
        std::printf("  %-24s %s\n", r.path.c_str(), r.design.c_str());
      }
    std::printf("\nhost<->device copies (pageable memory), per shape:\n");
    std::string last;
    for (const Row& r : rows)
      if (r.device == "gpu" && r.shape_key != last) {
        last = r.shape_key;
        std::printf("  %-36s x to device %.3f ms, y to host %.3f ms\n", r.shape_title.c_str(),
                    r.h2d_ms, r.d2h_ms);
      }
  }
}

int runBench(const BenchFlags& f) {
  if (f.cpu_repeats < 1 || f.fp64_repeats < 1 || f.gpu_repeats < 1 || f.gpu_warmup < 0)
    throw NormError("repeat counts must be at least 1 (warm-up at least 0)");
  const int threads = engineThreads(f.threads);
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
    // The copy is every row's floor on this machine; the fp64 reference (and, with backward rows,
    // the fp64 backward) always runs once: it is what every other row's y (dx) is checked against.
    const std::optional<Tensor> dy =
        f.no_backward ? std::nullopt
                      : std::optional<Tensor>(makeInput(s.shape, "randn", f.seed + 1));
    References refs;
    for (Row& r : cpuRows(s, x, dy ? &*dy : nullptr, plan, f, threads, !f.no_cpu, refs))
      rows.push_back(std::move(r));
    if (gpu) {
      for (GpuVariant v : gpuVariantsFor(plan))
        if (v != GpuVariant::Auto)
          rows.push_back(gpuRow(s, x, plan, v, f, &refs.forward.y, copy_gbs));
      if (dy && gpuBackwardUnsupported(plan).empty())
        rows.push_back(gpuBackwardRow(s, x, *dy, plan, refs, f, copy_gbs));
    }
    // Forward rows first, then backward rows, each in the order they were made.
    std::stable_partition(rows.begin() + static_cast<std::ptrdiff_t>(first), rows.end(),
                          [](const Row& r) { return r.pass == "forward"; });
    // x best compares the layer's paths of one pass (the copy is not one); x copy is for CPU rows,
    // against the copy of the same pass (GPU rows carry their fraction of the GPU's own copy).
    std::map<std::string, double> copy_ms;
    for (size_t i = first; i < rows.size(); ++i)
      if (rows[i].path == "cpu copy") copy_ms[rows[i].pass] = rows[i].ms;
    for (const char* pass : {"forward", "backward"}) {
      double best = 0;
      for (size_t i = first; i < rows.size(); ++i)
        if (rows[i].pass == pass && !rows[i].baseline && (best == 0 || rows[i].ms < best))
          best = rows[i].ms;
      for (size_t i = first; i < rows.size(); ++i)
        if (rows[i].pass == pass) rows[i].ratio = rows[i].ms / best;
    }
    for (size_t i = first; i < rows.size(); ++i) {
      const double copy = copy_ms.count(rows[i].pass) ? copy_ms[rows[i].pass] : 0;
      if (rows[i].device == "cpu" && copy > 0) {
        rows[i].copy_ratio = rows[i].ms / copy;
        if (rows[i].pass == "backward")
          rows[i].floor_ratio = rows[i].ms / (kBackwardFloorCopies * copy);
      }
    }
  }

  if (f.json) {
    printJson(rows, threads, gpu, copy_gbs, gpu_absent);
  } else {
    printText(rows, f, threads, gpu, copy_gbs, gpu_absent);
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
  cmd->add_option("--threads", flags->threads, "CPU threads (0 = every core)")
      ->capture_default_str();
  cmd->add_flag("--no-gpu", flags->no_gpu, "CPU rows only");
  cmd->add_flag("--no-cpu", flags->no_cpu, "GPU rows only (the fp64 reference still runs once)");
  cmd->add_flag("--no-backward", flags->no_backward, "forward rows only");
  cmd->add_flag("--json", flags->json, "print JSON instead of the table");
  registerCommand(cmd, [flags] { return runBench(*flags); });
}

}  // namespace normviz
