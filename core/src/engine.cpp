// Running a ReductionPlan on the CPU: a loop per memory layout over SIMD kernels, on a thread pool.
#include "normviz/engine.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>

#include "engine_simd.hpp"
#include "normviz/error.hpp"
#include "normviz/timing.hpp"
#include "pool.hpp"

namespace normviz {

const char* precisionName(Precision p) {
  return p == Precision::Fp32 ? "fp32" : "fp64";
}

Precision parsePrecision(std::string_view name) {
  if (name == "fp32") return Precision::Fp32;
  if (name == "fp64") return Precision::Fp64;
  throw NormError("unknown precision '" + std::string(name) + "'; expected fp32 or fp64");
}

static void checkShape(const char* what, const std::optional<Tensor>& t, const Shape& expected,
                       const char* why) {
  if (t && !(t->shape == expected))
    throw NormError(std::string(what) + " has shape " + t->shape.str() + " but " + why +
                    " needs shape " + expected.str());
  if (t && t->numel() != expected.numel())
    throw NormError(std::string(what) + " holds " + std::to_string(t->numel()) +
                    " values but its shape " + expected.str() + " needs " +
                    std::to_string(expected.numel()));
}

void validateParams(const ReductionPlan& plan, const NormParams& params) {
  std::string layer = plan.pytorchLine();
  checkShape("weight", params.weight, plan.affineShape(), layer.c_str());
  checkShape("bias", params.bias, plan.affineShape(), layer.c_str());
  const bool batch = plan.kind() == NormKind::Batch;
  if (!batch && (params.running_mean || params.running_var))
    throw NormError("running statistics only apply to BatchNorm");
  if (batch) {
    checkShape("running_mean", params.running_mean, plan.statShape(), layer.c_str());
    checkShape("running_var", params.running_var, plan.statShape(), layer.c_str());
  }
}

namespace {

using simd::chooseTraversal;
using simd::fusedGroupBytes;
using simd::streamBytes;
using simd::Traversal;

// The affine index of an element is (flat / inner) % count: `inner` is the size of the dims after
// the last affine axis (1 for LayerNorm's trailing shape, H*W for a channel axis).
struct AffineMap {
  int64_t inner = 1, count = 1;
  explicit AffineMap(const ReductionPlan& plan) {
    const auto& axes = plan.affineAxes();
    count = plan.affineShape().numel();
    for (int a = axes.back() + 1; a < plan.shape().rank(); ++a) inner *= plan.shape()[a];
  }
};

}  // namespace

// ---- plans per memory layout (shared with the backward)
// -------------------------------------------

namespace simd {

// Bytes of x a group may have for its statistics and normalization to run back to back while the
// group is still in this core's L2 (half of it: y and the neighbours need room too).
int64_t fusedGroupBytes() {
  static const int64_t bytes = [] {
#if defined(_SC_LEVEL2_CACHE_SIZE)
    const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
#else
    const long l2 = 0;  // not reported (the browser): the default below
#endif
    return l2 > 0 ? static_cast<int64_t>(l2) / 2 : int64_t{256} << 10;
  }();
  return bytes;
}

// Outputs at least this large go to memory with non-temporal stores: half of the last-level cache
// (at most 16 MiB), past which y would not stay in cache for the caller anyway.
int64_t streamBytes() {
  static const int64_t bytes = [] {
#if defined(_SC_LEVEL3_CACHE_SIZE)
    const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
#else
    const long l3 = 0;  // not reported (the browser): the default below
#endif
    const int64_t half = l3 > 0 ? static_cast<int64_t>(l3) / 2 : int64_t{8} << 20;
    return std::min(half, int64_t{16} << 20);
  }();
  return bytes;
}

Traversal chooseTraversal(const ReductionPlan& plan, int64_t affine_inner, bool has_affine) {
  const Shape& s = plan.shape();
  Traversal layout;
  // The reduced axes (dims of 1 do not matter) as one block [first, last]?
  int first = -1, last = -1;
  for (int a = 0; a < s.rank(); ++a)
    if (s[a] > 1 && plan.reducesAxis(a)) {
      if (first < 0) first = a;
      last = a;
    }
  bool block = first >= 0 && plan.groupedAxis() < 0;
  for (int a = first; block && a <= last; ++a) block = s[a] == 1 || plan.reducesAxis(a);
  if (block) {
    int64_t outer = 1, reduced = 1, inner = 1;
    for (int a = 0; a < s.rank(); ++a) (a < first ? outer : a <= last ? reduced : inner) *= s[a];
    // Along a row of inner positions the affine index must stay constant.
    if (inner > 1 && (!has_affine || affine_inner % inner == 0)) {
      layout.kind = Traversal::Strided;
      layout.outer = outer;
      layout.reduced = reduced;
      layout.inner = inner;
      return layout;
    }
  }
  // A group of many runs (a BatchNorm channel: N runs of H * W) stays in L2 between its passes as
  // well as a contiguous one, once each next run is prefetched: x is then read from memory once,
  // not twice.
  const int64_t bytes = plan.groupSize() * static_cast<int64_t>(sizeof(float));
  const bool short_runs = plan.runLength() < kMinRunElements;
  layout.kind = bytes <= fusedGroupBytes() || short_runs ? Traversal::Fused : Traversal::TwoPhase;
  return layout;
}

}  // namespace simd

namespace {

// ---- the pool -----------------------------------------------------------------------------------

using pool::parallelRange;

// Elements per task: enough that scheduling costs nothing next to the memory traffic.
constexpr int64_t kTaskElements = 32768;

int64_t grainFor(int64_t elements_per_item) {
  return std::max<int64_t>(1, kTaskElements / std::max<int64_t>(1, elements_per_item));
}

// One precision's pass over every group. T is float (fast path) or double (reference).
template <typename T>
void runEngine(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
               VarianceStrategy strategy, int threads, T* y, T* mean, T* var, T* rstd) {
  const NormConfig& cfg = plan.config();
  const AffineMap affine(plan);
  simd::Job<T> job;
  job.x = x.data.data();
  job.y = y;
  job.mean = mean;
  job.var = var;
  job.rstd = rstd;
  job.plan = &plan;
  job.weight = params.weight ? params.weight->data.data() : nullptr;
  job.bias = params.bias ? params.bias->data.data() : nullptr;
  job.affine_inner = affine.inner;
  job.affine_count = affine.count;
  job.strategy = strategy;
  job.kind = simd::partialKind(strategy, plan.subtractsMean());
  job.eps = static_cast<T>(cfg.eps);
  const int64_t run = plan.runLength();
  job.pieces_per_run = (run + simd::kPieceElements - 1) / simd::kPieceElements;
  threads = pool::threadsFor(threads, x.numel());
  job.stream = x.numel() * static_cast<int64_t>(sizeof(T)) >= streamBytes();

  const Traversal layout = chooseTraversal(plan, affine.inner, job.weight || job.bias);
  if (layout.kind == Traversal::Strided) {
    job.outer = layout.outer;
    job.reduced = layout.reduced;
    job.inner = layout.inner;
    // Blocks of positions whose rows fill half of L2, so the second and third pass hit L2 and each
    // row of a block is a long contiguous read for the prefetcher.
    const int64_t lanes = simd::floatLanes();
    const int64_t fit = fusedGroupBytes() / (4 * layout.reduced) / lanes * lanes;
    job.block = std::min(std::max(fit, lanes), (layout.inner + lanes - 1) / lanes * lanes);
  }
  const int64_t pieces = plan.shape().numel() / run * job.pieces_per_run;
  const int64_t piece_grain = grainFor(std::min(run, simd::kPieceElements));

  if (plan.kind() == NormKind::Batch && !cfg.training) {
    // Evaluation: the running statistics normalize; nothing is reduced.
    for (int64_t c = 0; c < plan.groupCount(); ++c) {
      mean[c] = params.running_mean ? static_cast<T>(params.running_mean->data[c]) : T(0);
      var[c] = params.running_var ? static_cast<T>(params.running_var->data[c]) : T(1);
      rstd[c] = T(1) / std::sqrt(var[c] + job.eps);
    }
    if (layout.kind == Traversal::Strided) {
      const int64_t tasks = layout.outer * ((layout.inner + job.block - 1) / job.block);
      parallelRange(threads, tasks, grainFor(job.block * layout.reduced),
                    [&](int64_t a, int64_t b) { simd::stridedBlocks(job, a, b, false); });
    } else {
      parallelRange(threads, pieces, piece_grain,
                    [&](int64_t a, int64_t b) { simd::normalizePieces(job, a, b); });
    }
    return;
  }

  switch (layout.kind) {
    case Traversal::Strided: {
      const int64_t tasks = layout.outer * ((layout.inner + job.block - 1) / job.block);
      parallelRange(threads, tasks, grainFor(job.block * layout.reduced),
                    [&](int64_t a, int64_t b) { simd::stridedBlocks(job, a, b, true); });
      break;
    }
    case Traversal::Fused:
      parallelRange(threads, plan.groupCount(), grainFor(plan.groupSize()),
                    [&](int64_t a, int64_t b) { simd::fusedGroups(job, a, b); });
      break;
    case Traversal::TwoPhase: {
      std::vector<simd::Moments<T>> partials(static_cast<size_t>(pieces));
      parallelRange(threads, pieces, piece_grain,
                    [&](int64_t a, int64_t b) { simd::piecePartials(job, a, b, partials.data()); });
      for (int64_t g = 0; g < plan.groupCount(); ++g) {
        simd::Moments<T> p;
        plan.forEachRun(g, [&](int64_t offset, int64_t) {
          const int64_t first = offset / run * job.pieces_per_run;
          for (int64_t c = 0; c < job.pieces_per_run; ++c)
            p = simd::merge(job.kind, p, partials[static_cast<size_t>(first + c)]);
        });
        simd::finish(job.kind, p, mean[g], var[g]);
        rstd[g] = T(1) / std::sqrt(var[g] + job.eps);
      }
      parallelRange(threads, pieces, piece_grain,
                    [&](int64_t a, int64_t b) { simd::normalizePieces(job, a, b); });
      break;
    }
  }
}

// PyTorch's running-statistics update: momentum blend with the unbiased batch variance.
template <typename Result>
void updateRunning(const ReductionPlan& plan, const NormParams& params, Result& r) {
  const NormConfig& cfg = plan.config();
  const double m = static_cast<double>(plan.groupSize());
  const double factor =
      cfg.momentum ? *cfg.momentum : 1.0 / static_cast<double>(cfg.num_batches_tracked + 1);
  TensorD rm(plan.statShape(), 0.0), rv(plan.statShape(), 1.0);
  for (int64_t c = 0; c < plan.groupCount(); ++c) {
    double old_mean = params.running_mean ? params.running_mean->data[c] : 0.0;
    double old_var = params.running_var ? params.running_var->data[c] : 1.0;
    rm[c] = (1 - factor) * old_mean + factor * r.mean[c];
    rv[c] = (1 - factor) * old_var + factor * r.var[c] * m / (m - 1);
  }
  r.running_mean = std::move(rm);
  r.running_var = std::move(rv);
}

}  // namespace

static void checkInput(const Tensor& x, const ReductionPlan& plan, const NormParams& params) {
  if (!(x.shape == plan.shape()) || x.numel() != plan.shape().numel())
    throw NormError("input has shape " + x.shape.str() + " but the plan was made for " +
                    plan.shape().str());
  validateParams(plan, params);
}

int engineThreads(int threads) {
  if (threads < 0)
    throw NormError("threads must be 0 (every core) or a positive count, got " +
                    std::to_string(threads));
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer builds check the emulated device's fibers. oneTBB's scheduler library is not
  // instrumented, so its hand-offs between workers would read as races: the engine stays on the
  // calling thread there.
  return 1;
#elif defined(__EMSCRIPTEN__)
  // A page has the workers it started with (none without threads): never more than that.
  return threads == 0 ? pool::defaultConcurrency() : std::min(threads, pool::defaultConcurrency());
#else
  return threads == 0 ? pool::defaultConcurrency() : threads;
#endif
}

const char* engineSimdTarget() {
  return simd::targetName();
}

// `t` with shape `s`, its buffer kept when the shape already matches.
template <typename T>
static void reshapeTo(BasicTensor<T>& t, const Shape& s) {
  if (!(t.shape == s) || t.numel() != s.numel()) t = BasicTensor<T>(s);
}

// Either precision's run into `r` (NormResultF32 with T = float, NormResult with T = double): its
// buffers reshaped (kept when they fit), the engine timed alone, the running statistics updated.
template <typename T, typename Result>
static void runInto(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                    VarianceStrategy strategy, int threads, Result& r) {
  reshapeTo(r.y, x.shape);
  reshapeTo(r.mean, plan.statShape());
  reshapeTo(r.var, plan.statShape());
  reshapeTo(r.rstd, plan.statShape());
  r.running_mean.reset();
  r.running_var.reset();
  const auto start = std::chrono::steady_clock::now();
  runEngine<T>(x, plan, params, strategy, threads, r.y.data.data(), r.mean.data.data(),
               r.var.data.data(), r.rstd.data.data());
  r.seconds = secondsSince(start);
  if (plan.kind() == NormKind::Batch && plan.config().training) updateRunning(plan, params, r);
}

void computeNormF32Into(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                        const ComputeOptions& options, NormResultF32& r) {
  checkInput(x, plan, params);
  runInto<float>(x, plan, params, options.variance, engineThreads(options.threads), r);
  r.backend = std::string("cpu-fp32 (") + varianceName(options.variance) + ")";
}

NormResultF32 computeNormF32(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                             const ComputeOptions& options) {
  NormResultF32 r;
  computeNormF32Into(x, plan, params, options, r);
  return r;
}

void computeNormInto(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                     const ComputeOptions& options, NormResult& r) {
  if (options.precision == Precision::Fp32) {
    r = widen(computeNormF32(x, plan, params, options));
    return;
  }
  checkInput(x, plan, params);
  runInto<double>(x, plan, params, VarianceStrategy::TwoPass, engineThreads(options.threads), r);
  r.backend = "cpu-fp64 reference";
}

NormResult widen(const NormResultF32& f) {
  NormResult r;
  r.y = widen(f.y);
  r.mean = widen(f.mean);
  r.var = widen(f.var);
  r.rstd = widen(f.rstd);
  r.running_mean = f.running_mean;
  r.running_var = f.running_var;
  r.backend = f.backend;
  r.seconds = f.seconds;
  return r;
}

NormResult computeNorm(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                       const ComputeOptions& options) {
  NormResult r;
  computeNormInto(x, plan, params, options, r);
  return r;
}

double normTrafficBytes(const ReductionPlan& plan) {
  const double n = static_cast<double>(plan.shape().numel());
  const double g = static_cast<double>(plan.groupCount());
  double bytes = 4.0 * (2.0 * n + 3.0 * g);
  if (plan.kind() == NormKind::Batch && plan.config().training) bytes += 16.0 * g;
  return bytes;
}

void copyFloats(const float* src, float* dst, int64_t n, int threads) {
  constexpr int64_t kChunk = int64_t{1} << 16;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  // Stored as a normalization of the same size stores its y.
  const bool stream = n * static_cast<int64_t>(sizeof(float)) >= streamBytes();
  parallelRange(pool::threadsFor(engineThreads(threads), n), chunks, 1, [&](int64_t a, int64_t b) {
    const int64_t begin = a * kChunk, end = std::min(n, b * kChunk);
    if (stream)
      simd::streamCopy(src + begin, dst + begin, end - begin);
    else
      std::memcpy(dst + begin, src + begin, static_cast<size_t>(end - begin) * sizeof(float));
  });
}

double readFloatPair(const float* a, const float* b, int64_t n, int threads) {
  constexpr int64_t kChunk = int64_t{1} << 16;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> sums(static_cast<size_t>(chunks), 0.0);
  parallelRange(pool::threadsFor(engineThreads(threads), n), chunks, 1,
                [&](int64_t lo, int64_t hi) {
                  for (int64_t c = lo; c < hi; ++c) {
                    const int64_t begin = c * kChunk, end = std::min(n, begin + kChunk);
                    sums[static_cast<size_t>(c)] = simd::sumPair(a + begin, b + begin, end - begin);
                  }
                });
  double total = 0;
  for (double v : sums) total += v;
  return total;
}

void combineFloatPair(const float* a, const float* b, float* out, int64_t n, float ka, float kb,
                      float kc, int threads) {
  constexpr int64_t kChunk = int64_t{1} << 16;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  parallelRange(pool::threadsFor(engineThreads(threads), n), chunks, 1,
                [&](int64_t lo, int64_t hi) {
                  const int64_t begin = lo * kChunk, end = std::min(n, hi * kChunk);
                  simd::streamCombine(a + begin, b + begin, out + begin, end - begin, ka, kb, kc);
                });
}

double measureCopyBandwidthGbs(int threads) {
  const int64_t n = int64_t{16} << 20;  // 64 MiB each way: past the last-level cache
  TensorData<float> src(static_cast<size_t>(n), 1.0f), dst(static_cast<size_t>(n), 0.0f);
  copyFloats(src.data(), dst.data(), n, threads);  // warm the pool and the pages
  std::vector<double> seconds;
  for (int i = 0; i < 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    copyFloats(src.data(), dst.data(), n, threads);
    seconds.push_back(secondsSince(start));
  }
  return 2.0 * static_cast<double>(n) * sizeof(float) / median(std::move(seconds)) / 1e9;
}

}  // namespace normviz
