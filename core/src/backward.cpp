// The backward pass on the CPU: the float64 reference (plain loops, obviously the formula) and the
// float32 fast path (the SIMD kernels of backward_simd.cpp, per memory layout), both threaded over
// the engine's pool.
//
// Sections: validation · the reference: walking a group in spans of one weight pattern · the two
// passes per group · threads and the dweight/dbias merge · the fast path · entry points.
//
// Per group, pass 1 reads x and dy once and forms both sums Σ dy·w and Σ dy·w·x̂ (and the group's
// share of dweight/dbias); pass 2 reads them again and writes dx. The second read hits cache for
// every group that fits in it, which is what PyTorch's CPU kernels rely on too.
#include "normviz/backward.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "backward_simd.hpp"
#include "engine_simd.hpp"
#include "normviz/engine.hpp"
#include "normviz/error.hpp"
#include "normviz/timing.hpp"
#include "pool.hpp"

namespace normviz {

// ---- validation ------------------------------------------------------------------------------

template <typename T>
static void checkBackward(const ReductionPlan& plan, const Tensor& dy, const BasicTensor<T>& mean,
                          const BasicTensor<T>& rstd) {
  if (!(dy.shape == plan.shape()) || dy.numel() != plan.shape().numel())
    throw NormError("grad_output (dy) has shape " + dy.shape.str() + " but the input has shape " +
                    plan.shape().str() + "; dy must have the input's shape");
  for (const auto& [name, t] : {std::pair<const char*, const BasicTensor<T>*>{"mean", &mean},
                                std::pair<const char*, const BasicTensor<T>*>{"rstd", &rstd}})
    if (!(t->shape == plan.statShape()) || t->numel() != plan.statShape().numel())
      throw NormError(std::string("saved ") + name + " has shape " + t->shape.str() +
                      " but the plan's statistics have shape " + plan.statShape().str());
}

void validateBackward(const ReductionPlan& plan, const Tensor& dy, const TensorD& mean,
                      const TensorD& rstd) {
  checkBackward(plan, dy, mean, rstd);
}

static void checkInput(const Tensor& x, const ReductionPlan& plan, const NormParams& params) {
  if (!(x.shape == plan.shape()) || x.numel() != plan.shape().numel())
    throw NormError("input has shape " + x.shape.str() + " but the plan was made for " +
                    plan.shape().str());
  validateParams(plan, params);
}

namespace {

// ---- the reference: walking a group -------------------------------------------------------

// The weight slot of flat element f is (f / inner) % count: `inner` is the size of the dims after
// the last affine axis (1 for LayerNorm's trailing shape, H*W for a channel axis).
struct AffineSlots {
  int64_t inner = 1, count = 1;
  explicit AffineSlots(const ReductionPlan& plan) {
    count = plan.affineShape().numel();
    for (int a = plan.affineAxes().back() + 1; a < plan.shape().rank(); ++a)
      inner *= plan.shape()[a];
  }
};

// Calls f(flat, length, k, per_element) for a group cut into contiguous spans over which the
// weight slot is constant k (per_element false: a channel's run) or steps k, k+1, ...
// (per_element true: LayerNorm's trailing axes).
template <typename F>
void forEachSpan(const ReductionPlan& plan, const AffineSlots& slots, int64_t group, F&& f) {
  plan.forEachRun(group, [&](int64_t offset, int64_t length) {
    const int64_t end = offset + length;
    for (int64_t flat = offset; flat < end;) {
      const int64_t q = flat / slots.inner, k = q % slots.count;
      const int64_t span_end = slots.inner > 1 ? std::min(end, (q + 1) * slots.inner)
                                               : std::min(end, flat + (slots.count - k));
      f(flat, span_end - flat, k, slots.inner == 1);
      flat = span_end;
    }
  });
}

// ---- the two passes --------------------------------------------------------------------------

// Interleaved accumulators: the lanes fit one SIMD register and the compiler needs no
// reassociation to use it; error grows like n / kLanes.
constexpr int kLanes = 8;

// Σ dy and Σ dy·(x - mean) over a span with one weight: the weight and rstd are applied once to
// the totals instead of per element.
template <typename T>
void constantSpanSums(const float* x, const float* dy, int64_t n, T mean, T& sum_dy, T& sum_dy_xc) {
  T a[kLanes] = {}, b[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const T d = static_cast<T>(dy[i + l]);
      a[l] += d;
      b[l] += d * (static_cast<T>(x[i + l]) - mean);
    }
  for (int l = 0; i < n; ++i, ++l) {
    const T d = static_cast<T>(dy[i]);
    a[l] += d;
    b[l] += d * (static_cast<T>(x[i]) - mean);
  }
  sum_dy = 0;
  sum_dy_xc = 0;
  for (int l = 0; l < kLanes; ++l) {
    sum_dy += a[l];
    sum_dy_xc += b[l];
  }
}

// A span whose weights step with the element (LayerNorm): both sums, and each element's dy·x̂
// and dy added into the dweight/dbias slots it owns. The pointers never overlap (__restrict lets
// the compiler vectorize without a run-time overlap check per block of lanes).
template <typename T, bool kAffineGrads>
void perElementSpanSums(const float* __restrict x, const float* __restrict dy,
                        const float* __restrict w, int64_t n, T mean, T rstd, T& s1, T& s2,
                        T* __restrict dw, T* __restrict db) {
  T a[kLanes] = {}, b[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const T d = static_cast<T>(dy[i + l]);
      const T xh = (static_cast<T>(x[i + l]) - mean) * rstd;
      const T g = d * static_cast<T>(w[i + l]);
      a[l] += g;
      b[l] += g * xh;
      if constexpr (kAffineGrads) {
        dw[i + l] += d * xh;
        db[i + l] += d;
      }
    }
  for (int l = 0; i < n; ++i, ++l) {
    const T d = static_cast<T>(dy[i]);
    const T xh = (static_cast<T>(x[i]) - mean) * rstd;
    const T g = d * static_cast<T>(w[i]);
    a[l] += g;
    b[l] += g * xh;
    if constexpr (kAffineGrads) {
      dw[i] += d * xh;
      db[i] += d;
    }
  }
  for (int l = 0; l < kLanes; ++l) {
    s1 += a[l];
    s2 += b[l];
  }
}

// dx = rstd · (dy·w - c1 - x̂·c2) with c1 = mean(g), c2 = mean(g·x̂); w_stride 0 for one weight.
template <typename T, int kWStride>
void dxSpan(const float* __restrict x, const float* __restrict dy, const float* __restrict w,
            int64_t n, T mean, T rstd, T c1, T c2, T* __restrict dx) {
  for (int64_t i = 0; i < n; ++i) {
    const T xh = (static_cast<T>(x[i]) - mean) * rstd;
    const T g = static_cast<T>(dy[i]) * static_cast<T>(w[i * kWStride]);
    dx[i] = rstd * (g - c1 - xh * c2);
  }
}

// Everything a thread needs to run its groups.
template <typename T>
struct Job {
  const ReductionPlan* plan;
  AffineSlots slots;
  const float* x;
  const float* dy;
  const float* w;  // the weight, or ones when there is none
  const T* mean;
  const T* rstd;
  T* dx;
  T* sum_dy_w;
  T* sum_dy_w_xhat;
  bool coupled, subtract_mean;
};

// A thread's share of dweight/dbias: accumulated in T per group, folded into double every
// kFlushGroups groups so that a float32 sum over thousands of rows does not drift.
template <typename T>
struct AffinePartials {
  static constexpr int kFlushGroups = 32;
  std::vector<T> dw, db;
  std::vector<double> dw_total, db_total;
  int pending = 0;
  explicit AffinePartials(int64_t count)
      : dw(count, T(0)), db(count, T(0)), dw_total(count, 0.0), db_total(count, 0.0) {}
  void flush() {
    for (size_t k = 0; k < dw.size(); ++k) {
      dw_total[k] += static_cast<double>(dw[k]);
      db_total[k] += static_cast<double>(db[k]);
      dw[k] = T(0);
      db[k] = T(0);
    }
    pending = 0;
  }
};

template <typename T, bool kAffineGrads>
void backwardGroups(const Job<T>& job, int64_t first_group, int64_t last_group,
                    AffinePartials<T>& partials) {
  const ReductionPlan& plan = *job.plan;
  const T m = static_cast<T>(plan.groupSize());
  for (int64_t g = first_group; g < last_group; ++g) {
    const T mu = job.mean[g], r = job.rstd[g];
    T s1 = 0, s2 = 0;
    forEachSpan(plan, job.slots, g, [&](int64_t flat, int64_t n, int64_t k, bool per_element) {
      if (per_element) {
        perElementSpanSums<T, kAffineGrads>(job.x + flat, job.dy + flat, job.w + k, n, mu, r, s1,
                                            s2, partials.dw.data() + k, partials.db.data() + k);
        return;
      }
      T sum_dy, sum_dy_xc;
      constantSpanSums<T>(job.x + flat, job.dy + flat, n, mu, sum_dy, sum_dy_xc);
      const T sum_dy_xhat = sum_dy_xc * r, wk = static_cast<T>(job.w[k]);
      s1 += wk * sum_dy;
      s2 += wk * sum_dy_xhat;
      if constexpr (kAffineGrads) {
        partials.dw[k] += sum_dy_xhat;
        partials.db[k] += sum_dy;
      }
    });
    job.sum_dy_w[g] = s1;
    job.sum_dy_w_xhat[g] = s2;
    // Without coupling (BatchNorm evaluation) the statistics are constants: dx = dy·w·rstd.
    const T c1 = job.coupled && job.subtract_mean ? s1 / m : T(0);
    const T c2 = job.coupled ? s2 / m : T(0);
    forEachSpan(plan, job.slots, g, [&](int64_t flat, int64_t n, int64_t k, bool per_element) {
      if (per_element)
        dxSpan<T, 1>(job.x + flat, job.dy + flat, job.w + k, n, mu, r, c1, c2, job.dx + flat);
      else
        dxSpan<T, 0>(job.x + flat, job.dy + flat, job.w + k, n, mu, r, c1, c2, job.dx + flat);
    });
    if constexpr (kAffineGrads)
      if (++partials.pending == AffinePartials<T>::kFlushGroups) partials.flush();
  }
  if constexpr (kAffineGrads) partials.flush();
}

// ---- threads ---------------------------------------------------------------------------------

// Splits the groups into at most kChunks contiguous chunks, run over the engine's pool with
// `threads` threads (groups write disjoint dx and sums). Each chunk keeps its own dweight/dbias
// partials, added in chunk order afterwards, so the result does not depend on the thread count.
constexpr int64_t kChunks = 64;

template <typename T>
void backwardAllGroups(const Job<T>& job, bool affine_grads, int threads,
                       std::vector<double>& dweight, std::vector<double>& dbias) {
  const ReductionPlan& plan = *job.plan;
  const int64_t groups = plan.groupCount(), count = job.slots.count;
  const int64_t chunks = std::min(groups, kChunks);
  std::vector<AffinePartials<T>> partials;
  partials.reserve(static_cast<size_t>(chunks));
  for (int64_t c = 0; c < chunks; ++c) partials.emplace_back(affine_grads ? count : 0);
  pool::parallelRange(
      pool::threadsFor(threads, plan.shape().numel()), chunks, 1, [&](int64_t a, int64_t b) {
        for (int64_t c = a; c < b; ++c) {
          const int64_t first = groups * c / chunks, last = groups * (c + 1) / chunks;
          if (affine_grads)
            backwardGroups<T, true>(job, first, last, partials[static_cast<size_t>(c)]);
          else
            backwardGroups<T, false>(job, first, last, partials[static_cast<size_t>(c)]);
        }
      });
  dweight.assign(affine_grads ? count : 0, 0.0);
  dbias.assign(affine_grads ? count : 0, 0.0);
  for (const auto& p : partials)
    for (size_t k = 0; k < dweight.size(); ++k) {
      dweight[k] += p.dw_total[k];
      dbias[k] += p.db_total[k];
    }
}

// ---- the fast path ---------------------------------------------------------------------------

// Chunks of a layout's items whose dweight/dbias partials are kept apart (the most a call splits
// into, whatever its thread count).
constexpr int64_t kSimdChunks = 64;

template <typename T>
void reshapeTo(BasicTensor<T>& t, const Shape& s) {
  if (!(t.shape == s) || t.numel() != s.numel()) t = BasicTensor<T>(s);
}

}  // namespace

void computeNormBackwardF32Into(const Tensor& x, const Tensor& dy, const ReductionPlan& plan,
                                const NormParams& params, const Tensor& mean, const Tensor& rstd,
                                const ComputeOptions& options, BackwardResultF32& out) {
  checkInput(x, plan, params);
  checkBackward(plan, dy, mean, rstd);
  const int threads = pool::threadsFor(engineThreads(options.threads), x.numel());
  const AffineSlots slots(plan);
  const bool affine_grads = params.weight.has_value() || params.bias.has_value();
  reshapeTo(out.dx, x.shape);
  reshapeTo(out.sum_dy_w, plan.statShape());
  reshapeTo(out.sum_dy_w_xhat, plan.statShape());
  out.group_coupled = !(plan.kind() == NormKind::Batch && !plan.config().training);
  out.backend = "cpu-fp32 backward";
  // With bias alone the weight is 1, and dbias still needs the spans of each slot.
  const std::vector<float> ones(params.weight || !affine_grads ? 0 : slots.count, 1.0f);

  simd::BackwardJob job;
  job.plan = &plan;
  job.x = x.data.data();
  job.dy = dy.data.data();
  job.dx = out.dx.data.data();
  job.weight = params.weight ? params.weight->data.data() : affine_grads ? ones.data() : nullptr;
  job.mean = mean.data.data();
  job.rstd = rstd.data.data();
  job.sum_dy_w = out.sum_dy_w.data.data();
  job.sum_dy_w_xhat = out.sum_dy_w_xhat.data.data();
  job.affine_inner = slots.inner;
  job.affine_count = slots.count;
  job.coupled = out.group_coupled;
  job.subtract_mean = plan.subtractsMean();
  job.affine_grads = affine_grads;
  job.stream = x.numel() * static_cast<int64_t>(sizeof(float)) >= simd::streamBytes();

  // The layout: strided where the reduced axes are one block and the weight is constant along a
  // row of positions or is the position's own (BatchNorm1d); groups of runs where runs are long
  // enough for vectors; the reference's loops, in float32, for groups of short runs.
  const simd::Traversal layout = simd::chooseTraversal(plan, slots.inner, false);
  const bool row_weights = !job.weight || slots.inner % layout.inner == 0;
  const bool position_weights = slots.inner == 1 && slots.count == layout.inner;
  enum { Strided, Groups, RunOrder, Plain } kind = Groups;
  if (layout.kind == simd::Traversal::Strided && (row_weights || position_weights)) {
    kind = Strided;
    const int64_t lanes = simd::floatLanes();
    // Blocks of positions whose rows of x and dy fill half of L2, as the forward's.
    const int64_t fit = simd::fusedGroupBytes() / (8 * layout.reduced) / lanes * lanes;
    job.outer = layout.outer;
    job.reduced = layout.reduced;
    job.inner = layout.inner;
    job.block = std::min(std::max(fit, lanes), (layout.inner + lanes - 1) / lanes * lanes);
    job.position_weights = !row_weights;
    job.items = layout.outer * ((layout.inner + job.block - 1) / job.block);
  } else if (plan.runLength() == plan.groupSize() || plan.runLength() >= simd::kMinRunElements) {
    job.items = plan.groupCount();
    // Groups of several runs past half of L2 (BatchNorm's channels) go in run order
    // (backward_simd.hpp): the items are the runs' pieces in memory order.
    const int64_t run = plan.runLength();
    if (run < plan.groupSize() && !simd::groupFitsHalfL2(plan)) {
      kind = RunOrder;
      job.run_pieces = (run + simd::kPieceElements - 1) / simd::kPieceElements;
      job.items = x.numel() / run * job.run_pieces;
    }
  } else {
    kind = Plain;
  }

  std::vector<double> dweight, dbias;
  const auto start = std::chrono::steady_clock::now();
  if (kind == Plain) {
    const std::vector<float> plain_ones(params.weight ? 0 : slots.count, 1.0f);
    Job<float> plain{&plan,
                     slots,
                     job.x,
                     job.dy,
                     params.weight ? job.weight : plain_ones.data(),
                     job.mean,
                     job.rstd,
                     job.dx,
                     job.sum_dy_w,
                     job.sum_dy_w_xhat,
                     job.coupled,
                     job.subtract_mean};
    backwardAllGroups<float>(plain, affine_grads, threads, dweight, dbias);
  } else if (job.items > 0) {
    job.chunks = std::min(job.items, kSimdChunks);
    const size_t partial_values = affine_grads ? static_cast<size_t>(job.chunks * slots.count) : 0;
    std::vector<double> dw_total(partial_values, 0.0), db_total(partial_values, 0.0);
    std::vector<float> dw_run(partial_values, 0.0f), db_run(partial_values, 0.0f);
    job.dw_total = dw_total.data();
    job.db_total = db_total.data();
    job.dw_run = dw_run.data();
    job.db_run = db_run.data();
    if (kind == RunOrder) {
      std::vector<float> piece_s1(static_cast<size_t>(job.items)), piece_s2(piece_s1.size());
      std::vector<simd::DxTerms> terms(static_cast<size_t>(plan.groupCount()));
      job.piece_s1 = piece_s1.data();
      job.piece_s2 = piece_s2.data();
      job.terms = terms.data();
      pool::parallelRange(threads, job.chunks, 1,
                          [&](int64_t a, int64_t b) { simd::backwardRunSums(job, a, b); });
      simd::runOrderTerms(job, terms.data());
      pool::parallelRange(threads, job.chunks, 1,
                          [&](int64_t a, int64_t b) { simd::backwardRunDx(job, a, b); });
    } else {
      pool::parallelRange(threads, job.chunks, 1, [&](int64_t a, int64_t b) {
        if (kind == Strided)
          simd::backwardStrided(job, a, b);
        else
          simd::backwardGroups(job, a, b);
      });
    }
    // The chunks' partials in chunk order: the same bits on any thread count.
    dweight.assign(affine_grads ? slots.count : 0, 0.0);
    dbias.assign(affine_grads ? slots.count : 0, 0.0);
    for (int64_t c = 0; c < job.chunks && affine_grads; ++c)
      for (int64_t k = 0; k < slots.count; ++k) {
        dweight[static_cast<size_t>(k)] += dw_total[static_cast<size_t>(c * slots.count + k)];
        dbias[static_cast<size_t>(k)] += db_total[static_cast<size_t>(c * slots.count + k)];
      }
  }
  out.seconds = secondsSince(start);
  out.dweight.reset();
  out.dbias.reset();
  if (params.weight) out.dweight = TensorD(plan.affineShape(), dweight);
  if (params.bias) out.dbias = TensorD(plan.affineShape(), dbias);
}

BackwardResult widen(const BackwardResultF32& b) {
  BackwardResult r;
  r.dx = widen(b.dx);
  r.dweight = b.dweight;
  r.dbias = b.dbias;
  r.sum_dy_w = widen(b.sum_dy_w);
  r.sum_dy_w_xhat = widen(b.sum_dy_w_xhat);
  r.group_coupled = b.group_coupled;
  r.backend = b.backend;
  r.seconds = b.seconds;
  return r;
}

// ---- entry point -----------------------------------------------------------------------------

void computeNormBackwardInto(const Tensor& x, const Tensor& dy, const ReductionPlan& plan,
                             const NormParams& params, const TensorD& mean, const TensorD& rstd,
                             const ComputeOptions& options, BackwardResult& r) {
  checkInput(x, plan, params);
  validateBackward(plan, dy, mean, rstd);
  if (options.precision == Precision::Fp32) {
    BackwardResultF32 f;
    computeNormBackwardF32Into(x, dy, plan, params, narrow(mean), narrow(rstd), options, f);
    r = widen(f);
    return;
  }

  const int threads = engineThreads(options.threads);
  const AffineSlots slots(plan);
  const std::vector<float> ones(params.weight ? 0 : static_cast<size_t>(slots.count), 1.0f);
  const bool affine_grads = params.weight.has_value() || params.bias.has_value();
  r.group_coupled = !(plan.kind() == NormKind::Batch && !plan.config().training);
  reshapeTo(r.dx, x.shape);
  reshapeTo(r.sum_dy_w, plan.statShape());
  reshapeTo(r.sum_dy_w_xhat, plan.statShape());
  Job<double> job{&plan,
                  slots,
                  x.data.data(),
                  dy.data.data(),
                  params.weight ? params.weight->data.data() : ones.data(),
                  mean.data.data(),
                  rstd.data.data(),
                  r.dx.data.data(),
                  r.sum_dy_w.data.data(),
                  r.sum_dy_w_xhat.data.data(),
                  r.group_coupled,
                  plan.subtractsMean()};
  std::vector<double> dweight, dbias;
  const auto start = std::chrono::steady_clock::now();
  backwardAllGroups<double>(job, affine_grads, threads, dweight, dbias);
  r.seconds = secondsSince(start);
  r.backend = "cpu-fp64 backward reference";
  r.dweight.reset();
  r.dbias.reset();
  if (params.weight) r.dweight = TensorD(plan.affineShape(), dweight);
  if (params.bias) r.dbias = TensorD(plan.affineShape(), dbias);
}

BackwardResult computeNormBackward(const Tensor& x, const Tensor& dy, const ReductionPlan& plan,
                                   const NormParams& params, const TensorD& mean,
                                   const TensorD& rstd, const ComputeOptions& options) {
  BackwardResult r;
  computeNormBackwardInto(x, dy, plan, params, mean, rstd, options, r);
  return r;
}

}  // namespace normviz
