// The CPU engine's SIMD kernels (Google Highway, one binary with runtime dispatch to the best
// target).
//
// Sections: loads and lane sums | piece partials per strategy | normalizing a span |
// fused groups | two-phase pieces | strided blocks | the copy | dispatch.
//
// Every kernel reads float32 x and computes in T: float for the fast path, double for the
// reference (the same loops, so the reference follows the same layout plans).

// Targets worth compiling: SSE4 for old x86, AVX2, AVX-512; NEON/SVE on ARM. SSSE3 and AVX3_DL add
// nothing for float arithmetic but compile time.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_AVX3_DL)
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "engine_simd.cpp"
#include "engine_simd.hpp"

#include <hwy/cache_control.h>
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <type_traits>
#include <vector>

#include "simd_memory-inl.h"

HWY_BEFORE_NAMESPACE();
namespace normviz::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <typename T>
using Tag = hn::ScalableTag<T>;

// ---- loads and lane sums ------------------------------------------------------------------------

template <class D>
HWY_INLINE hn::Vec<D> load(D d, const float* p) {
  if constexpr (std::is_same_v<hn::TFromD<D>, float>) {
    return hn::LoadU(d, p);
  } else {
    return hn::PromoteTo(d, hn::LoadU(hn::Rebind<float, D>(), p));
  }
}

template <class D>
HWY_INLINE hn::TFromD<D> sumLanes(D d, hn::Vec<D> v) {
  return hn::GetLane(hn::SumOfLanes(d, v));
}

// Terms summed over a piece: each works on a vector and on one scalar (the tail).
template <class D>
struct Identity {
  using T = hn::TFromD<D>;
  hn::Vec<D> operator()(hn::Vec<D> v) const { return v; }
  T operator()(T v) const { return v; }
};

// The scaled terms of pairwise sums end in a fused multiply-add, as SquaredDeviation does.
template <class D>
struct ScaledSquare {  // x^2 * s
  using T = hn::TFromD<D>;
  hn::Vec<D> sv;
  T s;
  hn::Vec<D> accumulate(hn::Vec<D> acc, hn::Vec<D> v) const {
    return hn::MulAdd(hn::Mul(v, v), sv, acc);
  }
  T operator()(T v) const { return v * v * s; }
};

template <class D>
struct ScaledDeviation {  // (x - m)^2 * s
  using T = hn::TFromD<D>;
  hn::Vec<D> mv, sv;
  T m, s;
  hn::Vec<D> accumulate(hn::Vec<D> acc, hn::Vec<D> v) const {
    const hn::Vec<D> dv = hn::Sub(v, mv);
    return hn::MulAdd(hn::Mul(dv, dv), sv, acc);
  }
  T operator()(T v) const { return (v - m) * (v - m) * s; }
};

template <class D>
struct SquaredDeviation {  // (x - m)^2, accumulated with one fused multiply-add per vector
  using T = hn::TFromD<D>;
  hn::Vec<D> mv;
  T m;
  hn::Vec<D> accumulate(hn::Vec<D> acc, hn::Vec<D> v) const {
    const hn::Vec<D> dv = hn::Sub(v, mv);
    return hn::MulAdd(dv, dv, acc);
  }
  T operator()(T v) const { return (v - m) * (v - m); }
};

template <class D>
struct Scaled {  // x * s
  using T = hn::TFromD<D>;
  hn::Vec<D> sv;
  T s;
  hn::Vec<D> accumulate(hn::Vec<D> acc, hn::Vec<D> v) const { return hn::MulAdd(v, sv, acc); }
  T operator()(T v) const { return v * s; }
};

// acc + term(v); a term with its own accumulate (a fused multiply-add) uses it instead.
template <class F, class V>
HWY_INLINE V accumulate(const F& term, V acc, V v) {
  if constexpr (requires { term.accumulate(acc, v); })
    return term.accumulate(acc, v);
  else
    return hn::Add(acc, term(v));
}

// Sum of term(x[i]) per lane in four vector accumulators (4 x lanes partial sums, added into one
// vector); the scalar tail (the last n % lanes elements) is added to `tail`.
// `ahead` (or null): data read next, prefetched in step (see normalizeConst). A pass over cached
// data has nothing to overlap, so its operation count is its time: (x - mean)^2 takes one
// subtraction and one fused multiply-add per vector (SquaredDeviation).
template <class D, class F>
HWY_INLINE hn::Vec<D> laneSums(D d, const float* x, int64_t n, const F& term, const float* ahead,
                               hn::TFromD<D>& tail) {
  using T = hn::TFromD<D>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  auto a0 = hn::Zero(d), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    prefetchLines(ahead, i, 4 * L);
    a0 = accumulate(term, a0, load(d, x + i));
    a1 = accumulate(term, a1, load(d, x + i + L));
    a2 = accumulate(term, a2, load(d, x + i + 2 * L));
    a3 = accumulate(term, a3, load(d, x + i + 3 * L));
  }
  for (; i + L <= n; i += L) a0 = accumulate(term, a0, load(d, x + i));
  for (; i < n; ++i) tail += term(static_cast<T>(x[i]));
  return hn::Add(hn::Add(a0, a1), hn::Add(a2, a3));
}

// Sum of term(x[i]) over n elements.
template <class D, class F>
HWY_INLINE hn::TFromD<D> laneSum(D d, const float* x, int64_t n, const F& term,
                                 const float* ahead = nullptr) {
  hn::TFromD<D> tail = 0;
  const hn::Vec<D> sums = laneSums(d, x, n, term, ahead, tail);
  return sumLanes(d, sums) + tail;
}

// Pairwise (binary) summation in every lane: halves (each a whole number of vectors but the last)
// until a leaf of at most 16 vectors, summed lane-wise in 4 accumulators; the halves' vectors are
// added up the tree, and the lanes are summed once at the end. A lane's error grows like log2(n),
// as in the scalar halving of docs/NORMS.md, and a piece pays for one sum across lanes instead of
// one per leaf (BatchNorm2d train on (32,64,56,56): 512 leaves a channel).
// The top kInline levels of the tree are inlined into their caller and deeper ones are calls, so a
// short row pays for no call (LayerNorm(768): four leaves a row; pairwise took 1.12-1.20x the time
// of two-pass, against 1.32-1.41x with a call per node). The tree, and so the sum, is the same.
template <int kInline, class D, class F>
HWY_INLINE hn::Vec<D> pairwiseLanes(D d, const float* x, int64_t n, const F& term,
                                    const float* ahead, hn::TFromD<D>& tail);

template <class D, class F>
HWY_NOINLINE hn::Vec<D> pairwiseLanesCall(D d, const float* x, int64_t n, const F& term,
                                          const float* ahead, hn::TFromD<D>& tail) {
  return pairwiseLanes<0>(d, x, n, term, ahead, tail);
}

template <int kInline, class D, class F>
HWY_INLINE hn::Vec<D> pairwiseLanes(D d, const float* x, int64_t n, const F& term,
                                    const float* ahead, hn::TFromD<D>& tail) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  if (n <= 16 * L) return laneSums(d, x, n, term, ahead, tail);
  const int64_t half = (n / 2) / L * L;
  const float* ahead_right = ahead ? ahead + half : nullptr;
  if constexpr (kInline > 0) {
    const hn::Vec<D> left = pairwiseLanes<kInline - 1>(d, x, half, term, ahead, tail);
    return hn::Add(left,
                   pairwiseLanes<kInline - 1>(d, x + half, n - half, term, ahead_right, tail));
  } else {
    const hn::Vec<D> left = pairwiseLanesCall(d, x, half, term, ahead, tail);
    return hn::Add(left, pairwiseLanesCall(d, x + half, n - half, term, ahead_right, tail));
  }
}

template <class D, class F>
hn::TFromD<D> pairwiseSum(D d, const float* x, int64_t n, const F& term,
                          const float* ahead = nullptr) {
  hn::TFromD<D> tail = 0;
  const hn::Vec<D> sums = pairwiseLanes<2>(d, x, n, term, ahead, tail);
  return sumLanes(d, sums) + tail;
}

// ---- piece partials per strategy ----------------------------------------------------------------

// Two-pass and pairwise read a piece twice: its mean, then the deviations from it. The second pass
// reads cached data: `ahead` is prefetched meanwhile.
template <class D>
hn::TFromD<D> twoPassMean(D d, const float* x, int64_t n) {
  return laneSum(d, x, n, Identity<D>{}) / static_cast<hn::TFromD<D>>(n);
}

template <class D>
Moments<hn::TFromD<D>> twoPassDeviations(D d, const float* x, int64_t n, hn::TFromD<D> mean,
                                         const float* ahead) {
  const hn::TFromD<D> m2 = laneSum(d, x, n, SquaredDeviation<D>{hn::Set(d, mean), mean}, ahead);
  return {static_cast<hn::TFromD<D>>(n), mean, m2};
}

template <class D>
Moments<hn::TFromD<D>> twoPassPiece(D d, const float* x, int64_t n, const float* ahead) {
  return twoPassDeviations(d, x, n, twoPassMean(d, x, n), ahead);
}

// Welford's update in every lane of four independent vectors (four chains hide the latency), then
// the 4 x lanes states merged by Chan's formula: all have the same count c, so the merged mean is
// the mean of the lane means and M2 = sum of M2 + c * sum (lane mean - mean)^2. The tail is a
// scalar Welford state merged the same way.
template <class D>
Moments<hn::TFromD<D>> welfordPiece(D d, const float* x, int64_t n, bool subtract_mean) {
  using T = hn::TFromD<D>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d)), step = 4 * L;
  const int64_t rounds = n / step;
  const PartialKind kind = subtract_mean ? PartialKind::MeanM2 : PartialKind::MeanSq;
  Moments<T> body;
  if (rounds > 0) {
    hn::Vec<D> m[4], q[4];
    for (int k = 0; k < 4; ++k) m[k] = q[k] = hn::Zero(d);
    for (int64_t s = 0; s < rounds; ++s) {
      const auto inv = hn::Set(d, T(1) / static_cast<T>(s + 1));
      const float* p = x + s * step;
      for (int k = 0; k < 4; ++k) {
        auto v = load(d, p + k * L);
        if (!subtract_mean) v = hn::Mul(v, v);  // RMSNorm: the running mean of x^2
        const auto delta = hn::Sub(v, m[k]);
        m[k] = hn::MulAdd(delta, inv, m[k]);
        q[k] = hn::MulAdd(delta, hn::Sub(v, m[k]), q[k]);
      }
    }
    const T states = static_cast<T>(step);
    const T mean = sumLanes(d, hn::Add(hn::Add(m[0], m[1]), hn::Add(m[2], m[3]))) / states;
    body.n = static_cast<T>(rounds * step);
    body.a = mean;
    if (subtract_mean) {
      const auto mv = hn::Set(d, mean);
      auto spread = hn::Zero(d), within = hn::Zero(d);
      for (int k = 0; k < 4; ++k) {
        const auto dev = hn::Sub(m[k], mv);
        spread = hn::MulAdd(dev, dev, spread);
        within = hn::Add(within, q[k]);
      }
      body.b = sumLanes(d, within) + static_cast<T>(rounds) * sumLanes(d, spread);
    }
  }
  Moments<T> tail;
  for (int64_t i = rounds * step; i < n; ++i) {
    const T v = subtract_mean ? static_cast<T>(x[i]) : static_cast<T>(x[i]) * x[i];
    tail.n += 1;
    const T delta = v - tail.a;
    tail.a += delta / tail.n;
    if (subtract_mean) tail.b += delta * (v - tail.a);
  }
  return merge(kind, body, tail);
}

// E[x^2] - E[x]^2's ingredients in one read: the sum and the sum of squares.
template <class D>
Moments<hn::TFromD<D>> naivePiece(D d, const float* x, int64_t n) {
  using T = hn::TFromD<D>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  auto s0 = hn::Zero(d), s1 = s0, q0 = s0, q1 = s0;
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    const auto a = load(d, x + i), b = load(d, x + i + L);
    s0 = hn::Add(s0, a);
    s1 = hn::Add(s1, b);
    q0 = hn::Add(q0, hn::Mul(a, a));
    q1 = hn::Add(q1, hn::Mul(b, b));
  }
  T s = 0, q = 0;
  for (; i < n; ++i) {
    s += x[i];
    q += static_cast<T>(x[i]) * x[i];
  }
  return {static_cast<T>(n), sumLanes(d, hn::Add(s0, s1)) + s, sumLanes(d, hn::Add(q0, q1)) + q};
}

// Pairwise accumulation of x/M (the mean), then of (x - mean)^2 / M, scaled first so that partial
// sums cannot overflow; M2 is that mean square times M.
template <class D>
hn::TFromD<D> pairwiseMean(D d, const float* x, int64_t n) {
  using T = hn::TFromD<D>;
  const T inv = T(1) / static_cast<T>(n);
  return pairwiseSum(d, x, n, Scaled<D>{hn::Set(d, inv), inv});
}

template <class D>
Moments<hn::TFromD<D>> pairwiseDeviations(D d, const float* x, int64_t n, hn::TFromD<D> mean,
                                          const float* ahead) {
  using T = hn::TFromD<D>;
  const T count = static_cast<T>(n), inv = T(1) / count;
  const T ms =
      pairwiseSum(d, x, n, ScaledDeviation<D>{hn::Set(d, mean), hn::Set(d, inv), mean, inv}, ahead);
  return {count, mean, ms * count};
}

template <class D>
Moments<hn::TFromD<D>> pairwisePiece(D d, const float* x, int64_t n, const float* ahead) {
  return pairwiseDeviations(d, x, n, pairwiseMean(d, x, n), ahead);
}

// `ahead` (or null): data read next, prefetched by the strategies that read x twice.
template <class D>
Moments<hn::TFromD<D>> piecePartial(D d, VarianceStrategy strategy, PartialKind kind,
                                    const float* x, int64_t n, const float* ahead = nullptr) {
  using T = hn::TFromD<D>;
  if (kind == PartialKind::MeanSq) {  // RMSNorm: the mean of x^2, accumulated per strategy
    const T inv = T(1) / static_cast<T>(n);
    switch (strategy) {
      case VarianceStrategy::Welford:
        return welfordPiece(d, x, n, false);
      case VarianceStrategy::Pairwise:
        return {static_cast<T>(n), pairwiseSum(d, x, n, ScaledSquare<D>{hn::Set(d, inv), inv}), 0};
      default:
        return {static_cast<T>(n), laneSum(d, x, n, ScaledSquare<D>{hn::Set(d, T(1)), T(1)}) * inv,
                0};
    }
  }
  switch (strategy) {
    case VarianceStrategy::TwoPass:
      return twoPassPiece(d, x, n, ahead);
    case VarianceStrategy::Welford:
      return welfordPiece(d, x, n, true);
    case VarianceStrategy::Naive:
      return naivePiece(d, x, n);
    case VarianceStrategy::Pairwise:
      return pairwisePiece(d, x, n, ahead);
  }
  return {};
}

// Moments of a contiguous span of any length (a gathered group): cache-sized pieces merged in
// order.
template <class D>
Moments<hn::TFromD<D>> spanPartial(D d, VarianceStrategy strategy, PartialKind kind, const float* x,
                                   int64_t n) {
  Moments<hn::TFromD<D>> p;
  for (int64_t c = 0; c < n; c += kPieceElements)
    p = merge(kind, p, piecePartial(d, strategy, kind, x + c, std::min(kPieceElements, n - c)));
  return p;
}

// ---- normalizing a span -------------------------------------------------------------------------

// y = (x - mean) * scale + shift over n contiguous elements; scale is rstd times the weight.
// With `stream`, y goes to memory with non-temporal stores: no read for ownership of y's lines and
// no eviction of x from the cache (large outputs only: the caller reads y much later). `ahead`
// (or null) is read next: its lines are prefetched into L2 in step, so that memory stays busy
// while this pass works on cached data, and L1 keeps the group being normalized (prefetching into
// L1 instead was slower: docs/benchmarks.md, "Design measurements").
template <class D>
void normalizeConst(D d, const float* x, hn::TFromD<D>* y, int64_t n, hn::TFromD<D> mean,
                    hn::TFromD<D> scale, hn::TFromD<D> shift, bool stream, const float* ahead) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const auto mv = hn::Set(d, mean), sv = hn::Set(d, scale), bv = hn::Set(d, shift);
  int64_t i = 0;
  if (stream) {
    for (const int64_t head = headToAlign(d, y, n); i < head; ++i)
      y[i] = (x[i] - mean) * scale + shift;
    for (; i + L <= n; i += L) {
      prefetchLines(ahead, i, L, true);
      translateAhead(y + i);
      hn::Stream(hn::MulAdd(hn::Sub(load(d, x + i), mv), sv, bv), d, y + i);
    }
  }
  for (; i + 2 * L <= n; i += 2 * L) {
    prefetchLines(ahead, i, 2 * L, true);
    hn::StoreU(hn::MulAdd(hn::Sub(load(d, x + i), mv), sv, bv), d, y + i);
    hn::StoreU(hn::MulAdd(hn::Sub(load(d, x + i + L), mv), sv, bv), d, y + i + L);
  }
  for (; i + L <= n; i += L) hn::StoreU(hn::MulAdd(hn::Sub(load(d, x + i), mv), sv, bv), d, y + i);
  for (; i < n; ++i) y[i] = (x[i] - mean) * scale + shift;
}

// y = (x - mean) * rstd * w[i] + b[i]: the affine index steps with the element (LayerNorm).
template <class D>
void normalizeStepping(D d, const float* x, hn::TFromD<D>* y, int64_t n, hn::TFromD<D> mean,
                       hn::TFromD<D> rstd, const float* w, const float* b, bool stream,
                       const float* ahead) {
  using T = hn::TFromD<D>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const auto mv = hn::Set(d, mean), rv = hn::Set(d, rstd), one = hn::Set(d, T(1));
  const auto zero = hn::Zero(d);
  auto scalar = [&](int64_t k) {
    return (x[k] - mean) * rstd * (w ? T(w[k]) : T(1)) + (b ? T(b[k]) : T(0));
  };
  int64_t i = 0;
  if (stream)
    for (const int64_t head = headToAlign(d, y, n); i < head; ++i) y[i] = scalar(i);
  for (; i + L <= n; i += L) {
    prefetchLines(ahead, i, L, true);
    const auto wv = w ? load(d, w + i) : one, bv = b ? load(d, b + i) : zero;
    const auto out = hn::MulAdd(hn::Mul(hn::Sub(load(d, x + i), mv), rv), wv, bv);
    if (stream) {
      translateAhead(y + i);
      hn::Stream(out, d, y + i);
    } else {
      hn::StoreU(out, d, y + i);
    }
  }
  for (; i < n; ++i) y[i] = scalar(i);
}

// One contiguous span [flat, flat + n) of a group, with the affine parameters of each element;
// `ahead` as for normalizeConst.
template <class D>
void normalizeSpan(D d, const Job<hn::TFromD<D>>& job, int64_t flat, int64_t n, hn::TFromD<D> mean,
                   hn::TFromD<D> rstd, const float* ahead = nullptr) {
  using T = hn::TFromD<D>;
  if (!job.weight && !job.bias) {
    normalizeConst(d, job.x + flat, job.y + flat, n, mean, rstd, T(0), job.stream, ahead);
    return;
  }
  const int64_t start = flat, end = flat + n, inner = job.affine_inner, count = job.affine_count;
  while (flat < end) {
    const float* chunk_ahead = ahead ? ahead + (flat - start) : nullptr;
    if (inner > 1) {  // the affine index is constant over chunks of `inner` elements
      const int64_t q = flat / inner, chunk_end = std::min(end, (q + 1) * inner), k = q % count;
      const T scale = rstd * (job.weight ? T(job.weight[k]) : T(1));
      const T shift = job.bias ? T(job.bias[k]) : T(0);
      normalizeConst(d, job.x + flat, job.y + flat, chunk_end - flat, mean, scale, shift,
                     job.stream, chunk_ahead);
      flat = chunk_end;
    } else {  // the affine index steps by one and wraps at count
      const int64_t k = flat % count, chunk_end = std::min(end, flat + (count - k));
      normalizeStepping(d, job.x + flat, job.y + flat, chunk_end - flat, mean, rstd,
                        job.weight ? job.weight + k : nullptr, job.bias ? job.bias + k : nullptr,
                        job.stream, chunk_ahead);
      flat = chunk_end;
    }
  }
}

template <typename T>
void storeStats(const Job<T>& job, int64_t g, const Moments<T>& p, T& mean, T& rstd) {
  T var = 0;
  finish(job.kind, p, mean, var);
  rstd = T(1) / std::sqrt(var + job.eps);
  job.mean[g] = mean;
  job.var[g] = var;
  job.rstd[g] = rstd;
}

// ---- fused groups -------------------------------------------------------------------------------

// A contiguous stretch of x: a run of a group, or a piece of one.
struct Run {
  int64_t offset, length;
};

// Group g's runs cut into pieces of at most kPieceElements, in order (none when g is past last).
inline void collectPieces(const ReductionPlan& plan, int64_t g, int64_t last,
                          std::vector<Run>& out) {
  out.clear();
  if (g >= last) return;
  plan.forEachRun(g, [&](int64_t offset, int64_t length) {
    for (int64_t c = 0; c < length; c += kPieceElements)
      out.push_back({offset + c, std::min(kPieceElements, length - c)});
  });
}

// Short contiguous groups (LayerNorm rows of 768 floats), group g at g * m, a block of rows at a
// time (kRowBlockElements): the statistics of every row in the block (in L1 after the first pass),
// then their y. Rows' statistics do not depend on each other, so their chains of latency (lane
// sums, the division and the square root) overlap, where one row at a time made each normalize wait
// for its own; LayerNorm(768) on (8,1024,768) spent a quarter of its time there. Per row these are
// the same calls as for one group at a time, with the same bits.
template <typename T>
void shortRowsT(const Job<T>& job, int64_t first, int64_t last) {
  const Tag<T> d;
  const int64_t m = job.plan->groupSize(), rows = std::max<int64_t>(1, kRowBlockElements / m);
  static thread_local std::vector<T> means, rstds;
  means.resize(static_cast<size_t>(rows));
  rstds.resize(static_cast<size_t>(rows));
  // The strategies that take a mean, then the deviations from it (as piecePartial runs them).
  const bool pairwise = job.strategy == VarianceStrategy::Pairwise;
  const bool two_passes =
      job.kind == PartialKind::MeanM2 && (pairwise || job.strategy == VarianceStrategy::TwoPass);
  for (int64_t b = first; b < last; b += rows) {
    const int64_t n = std::min(rows, last - b);
    const int64_t next = std::clamp<int64_t>(last - b - rows, 0, rows);
    const int64_t after = std::clamp<int64_t>(last - b - 2 * rows, 0, rows);
    const float* x = job.x + b * m;
    // The statistics' second passes prefetch the next block into L1, the normalizing the block
    // after it into L2.
    auto ahead = [&](int64_t r) { return r < next ? x + (rows + r) * m : nullptr; };
    if (two_passes) {
      // Every row's mean first, then every row's deviations: no row's second pass waits for its
      // own first.
      for (int64_t r = 0; r < n; ++r)
        means[static_cast<size_t>(r)] =
            pairwise ? pairwiseMean(d, x + r * m, m) : twoPassMean(d, x + r * m, m);
      for (int64_t r = 0; r < n; ++r) {
        const T mean = means[static_cast<size_t>(r)];
        const Moments<T> p = pairwise ? pairwiseDeviations(d, x + r * m, m, mean, ahead(r))
                                      : twoPassDeviations(d, x + r * m, m, mean, ahead(r));
        storeStats(job, b + r, p, means[static_cast<size_t>(r)], rstds[static_cast<size_t>(r)]);
      }
    } else {
      for (int64_t r = 0; r < n; ++r) {
        const Moments<T> p = piecePartial(d, job.strategy, job.kind, x + r * m, m, ahead(r));
        storeStats(job, b + r, p, means[static_cast<size_t>(r)], rstds[static_cast<size_t>(r)]);
      }
    }
    for (int64_t r = 0; r < n; ++r)
      normalizeSpan(d, job, (b + r) * m, m, means[static_cast<size_t>(r)],
                    rstds[static_cast<size_t>(r)], r < after ? x + (2 * rows + r) * m : nullptr);
  }
}

// Groups of a piece or more read straight from x (InstanceNorm planes, GroupNorm's 100 KB groups,
// BatchNorm's channels of N runs), with y of group g and the statistics of g + 1 interleaved piece
// by piece: normalize piece k of g, then both passes over piece k of g + 1. Memory alternates
// between a piece of writes and a piece of reads, instead of a whole group of each (docs/
// benchmarks.md, "Design measurements"). Each group's pieces merge in memory order whatever the
// thread count.
template <typename T>
void interleavedGroupsT(const Job<T>& job, int64_t first, int64_t last) {
  const Tag<T> d;
  const ReductionPlan& plan = *job.plan;
  static thread_local std::vector<Run> pieces, next_pieces, after_pieces;
  // Piece k of a group, and the piece read after it (none past the task's last group).
  auto partialOf = [&](const std::vector<Run>& ps, size_t k, const std::vector<Run>& then) {
    const float* following = k + 1 < ps.size() ? job.x + ps[k + 1].offset
                             : then.empty()    ? nullptr
                                               : job.x + then[0].offset;
    return piecePartial(d, job.strategy, job.kind, job.x + ps[k].offset, ps[k].length, following);
  };
  collectPieces(plan, first, last, pieces);
  collectPieces(plan, first + 1, last, next_pieces);
  Moments<T> p;
  for (size_t k = 0; k < pieces.size(); ++k)
    p = merge(job.kind, p, partialOf(pieces, k, next_pieces));
  T mean = 0, rstd = 0;
  storeStats(job, first, p, mean, rstd);
  for (int64_t g = first; g < last; ++g) {
    collectPieces(plan, g + 2, last, after_pieces);
    Moments<T> q;
    for (size_t k = 0; k < pieces.size(); ++k) {
      // Normalizing piece k prefetches the piece whose statistics come next into L2.
      const bool next = k < next_pieces.size();
      normalizeSpan(d, job, pieces[k].offset, pieces[k].length, mean, rstd,
                    next ? job.x + next_pieces[k].offset : nullptr);
      if (next) q = merge(job.kind, q, partialOf(next_pieces, k, after_pieces));
    }
    if (!next_pieces.empty()) storeStats(job, g + 1, q, mean, rstd);
    std::swap(pieces, next_pieces);
    std::swap(next_pieces, after_pieces);
  }
}

// Groups of short runs (custom axes): each gathered through the run iterator into a buffer, its
// statistics taken there, then y written run by run.
template <typename T>
void gatheredGroupsT(const Job<T>& job, int64_t first, int64_t last) {
  const Tag<T> d;
  const ReductionPlan& plan = *job.plan;
  const int64_t m = plan.groupSize();
  static thread_local std::vector<float> gathered;
  gathered.resize(static_cast<size_t>(m));
  for (int64_t g = first; g < last; ++g) {
    float* out = gathered.data();
    plan.forEachRun(g, [&](int64_t offset, int64_t length) {
      std::copy_n(job.x + offset, length, out);
      out += length;
    });
    T mean = 0, rstd = 0;
    storeStats(job, g, spanPartial(d, job.strategy, job.kind, gathered.data(), m), mean, rstd);
    plan.forEachRun(g, [&](int64_t offset, int64_t length) {
      normalizeSpan(d, job, offset, length, mean, rstd);
    });
  }
}

template <typename T>
void fusedGroupsT(const Job<T>& job, int64_t first, int64_t last) {
  const ReductionPlan& plan = *job.plan;
  const int64_t m = plan.groupSize(), run = plan.runLength();
  if (run == m && m < kNearGroupElements)
    shortRowsT(job, first, last);
  else if (run == m || run >= kMinRunElements)
    interleavedGroupsT(job, first, last);
  else
    gatheredGroupsT(job, first, last);
  if (job.stream) hwy::FlushStream();  // y visible to the thread that waits for this task
}

// ---- two-phase pieces ---------------------------------------------------------------------------

template <typename T>
void piecePartialsT(const Job<T>& job, int64_t first, int64_t last, Moments<T>* out) {
  const Tag<T> d;
  const int64_t run = job.plan->runLength(), ppr = job.pieces_per_run;
  for (int64_t p = first; p < last; ++p) {
    const int64_t begin = (p / ppr) * run + (p % ppr) * kPieceElements;
    const int64_t length = std::min(kPieceElements, run - (p % ppr) * kPieceElements);
    // Pieces lie in memory in order: the next one is prefetched during a second pass over this.
    out[p] = piecePartial(d, job.strategy, job.kind, job.x + begin, length,
                          p + 1 < last ? job.x + begin + length : nullptr);
  }
}

template <typename T>
void normalizePiecesT(const Job<T>& job, int64_t first, int64_t last) {
  const Tag<T> d;
  const int64_t run = job.plan->runLength(), ppr = job.pieces_per_run;
  for (int64_t p = first; p < last; ++p) {
    const int64_t begin = (p / ppr) * run + (p % ppr) * kPieceElements;
    const int64_t length = std::min(kPieceElements, run - (p % ppr) * kPieceElements);
    const int64_t g = job.plan->groupOf(begin);
    normalizeSpan(d, job, begin, length, job.mean[g], job.rstd[g],
                  p + 1 < last ? job.x + begin + length : nullptr);
  }
  if (job.stream) hwy::FlushStream();
}

// ---- strided blocks -----------------------------------------------------------------------------

// acc[i] = sum over rows j in [j0, j0 + n) of term(x[j * stride + i], i), halving over the rows
// until 8 are left (pairwise across the reduced axis). `levels` holds one buffer of width per
// level.
template <class D, class F>
void pairwiseRows(D d, const float* x, int64_t stride, int64_t j0, int64_t n, int64_t width,
                  const F& term, hn::TFromD<D>* acc, hn::TFromD<D>* levels) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  if (n <= 8) {
    for (int64_t i = 0; i < width; i += L) {
      auto s = hn::Zero(d);
      for (int64_t j = j0; j < j0 + n; ++j) s = hn::Add(s, term(load(d, x + j * stride + i), i));
      hn::StoreU(s, d, acc + i);
    }
    return;
  }
  const int64_t half = n / 2;
  pairwiseRows(d, x, stride, j0, half, width, term, acc, levels + width);
  pairwiseRows(d, x, stride, j0 + half, n - half, width, term, levels, levels + width);
  for (int64_t i = 0; i < width; i += L)
    hn::StoreU(hn::Add(hn::LoadU(d, acc + i), hn::LoadU(d, levels + i)), d, acc + i);
}

// Rows are taken kRowChunk at a time so that a position's accumulators stay in registers across
// them (one load and store of the running value per chunk, not per row).
constexpr int64_t kRowChunk = 8;

// Statistics (unless given) and y for `width` positions (a multiple of the lanes) of one outer
// index: x rows are `xstride` apart, y rows `ystride` apart. mean/var/rstd hold one value per
// position. `row_base` is the flat index of row 0's first position, for the affine index.
template <class D>
void stridedSpan(D d, const Job<hn::TFromD<D>>& job, const float* x, int64_t xstride,
                 hn::TFromD<D>* y, int64_t ystride, int64_t width, int64_t row_base, bool stats,
                 hn::TFromD<D>* mean, hn::TFromD<D>* var, hn::TFromD<D>* rstd) {
  using T = hn::TFromD<D>;
  using V = hn::Vec<D>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d)), R = job.reduced;
  const T count = static_cast<T>(R), inv = T(1) / count;
  const auto invv = hn::Set(d, inv), zero = hn::Zero(d);
  const bool subtract = job.kind != PartialKind::MeanSq;
  static thread_local std::vector<T> scratch;
  // acc[i] = sum over rows of term(x, i): running sums kept in registers over a chunk of rows.
  auto rowSum = [&](T* acc, const auto& term) {
    for (int64_t i = 0; i < width; i += L) hn::StoreU(zero, d, acc + i);
    for (int64_t j0 = 0; j0 < R; j0 += kRowChunk) {
      const int64_t j1 = std::min(R, j0 + kRowChunk);
      for (int64_t i = 0; i < width; i += L) {
        V s = hn::LoadU(d, acc + i);
        for (int64_t j = j0; j < j1; ++j) s = hn::Add(s, term(load(d, x + j * xstride + i), i));
        hn::StoreU(s, d, acc + i);
      }
    }
  };
  const auto square = [&](V v, int64_t) { return hn::Mul(v, v); };
  const auto deviation = [&](V v, int64_t i) {
    const V dv = hn::Sub(v, hn::LoadU(d, mean + i));
    return hn::Mul(dv, dv);
  };
  if (stats) {
    if (job.strategy == VarianceStrategy::Pairwise) {
      int64_t depth = 2;
      for (int64_t r = R; r > 8; r = (r + 1) / 2) ++depth;
      scratch.resize(static_cast<size_t>(width * depth));
      if (subtract) {
        pairwiseRows(
            d, x, xstride, 0, R, width, [&](V v, int64_t) { return hn::Mul(v, invv); }, mean,
            scratch.data());
      } else {
        for (int64_t i = 0; i < width; i += L) hn::StoreU(zero, d, mean + i);
      }
      pairwiseRows(
          d, x, xstride, 0, R, width,
          [&](V v, int64_t i) { return hn::Mul(subtract ? deviation(v, i) : square(v, i), invv); },
          var, scratch.data());
    } else if (job.strategy == VarianceStrategy::Welford && subtract) {
      // Every lane is its own group here: Welford's update down the rows, nothing to merge.
      for (int64_t i = 0; i < width; i += L) {
        hn::StoreU(zero, d, mean + i);
        hn::StoreU(zero, d, var + i);
      }
      for (int64_t j0 = 0; j0 < R; j0 += kRowChunk) {
        const int64_t j1 = std::min(R, j0 + kRowChunk);
        V step[kRowChunk];
        for (int64_t j = j0; j < j1; ++j) step[j - j0] = hn::Set(d, T(1) / static_cast<T>(j + 1));
        for (int64_t i = 0; i < width; i += L) {
          V m = hn::LoadU(d, mean + i), q = hn::LoadU(d, var + i);
          for (int64_t j = j0; j < j1; ++j) {
            const V v = load(d, x + j * xstride + i);
            const V delta = hn::Sub(v, m);
            m = hn::MulAdd(delta, step[j - j0], m);
            q = hn::MulAdd(delta, hn::Sub(v, m), q);
          }
          hn::StoreU(m, d, mean + i);
          hn::StoreU(q, d, var + i);
        }
      }
      for (int64_t i = 0; i < width; i += L)
        hn::StoreU(hn::Mul(hn::LoadU(d, var + i), invv), d, var + i);
    } else if (job.strategy == VarianceStrategy::Naive || !subtract) {
      // Sums and sums of squares in one read, then E[x^2] - E[x]^2 (clamped at 0).
      for (int64_t i = 0; i < width; i += L) {
        hn::StoreU(zero, d, mean + i);
        hn::StoreU(zero, d, var + i);
      }
      for (int64_t j0 = 0; j0 < R; j0 += kRowChunk) {
        const int64_t j1 = std::min(R, j0 + kRowChunk);
        for (int64_t i = 0; i < width; i += L) {
          V sum = hn::LoadU(d, mean + i), sq = hn::LoadU(d, var + i);
          for (int64_t j = j0; j < j1; ++j) {
            const V v = load(d, x + j * xstride + i);
            sum = hn::Add(sum, v);
            sq = hn::MulAdd(v, v, sq);
          }
          hn::StoreU(sum, d, mean + i);
          hn::StoreU(sq, d, var + i);
        }
      }
      for (int64_t i = 0; i < width; i += L) {
        const V m = subtract ? hn::Mul(hn::LoadU(d, mean + i), invv) : zero;
        const V ms = hn::Mul(hn::LoadU(d, var + i), invv);
        hn::StoreU(m, d, mean + i);
        // Clamped at 0 the way std::max(v, 0) does it: a NaN stays NaN (hn::Max may drop it).
        const V v = hn::Sub(ms, hn::Mul(m, m));
        hn::StoreU(hn::IfThenElse(hn::Lt(v, zero), zero, v), d, var + i);
      }
    } else {  // two-pass: the means, then the squared deviations from them
      rowSum(mean, [](V v, int64_t) { return v; });
      for (int64_t i = 0; i < width; i += L)
        hn::StoreU(hn::Mul(hn::LoadU(d, mean + i), invv), d, mean + i);
      rowSum(var, deviation);
      for (int64_t i = 0; i < width; i += L)
        hn::StoreU(hn::Mul(hn::LoadU(d, var + i), invv), d, var + i);
    }
    const auto one = hn::Set(d, T(1)), eps = hn::Set(d, job.eps);
    for (int64_t i = 0; i < width; i += L)
      hn::StoreU(hn::Div(one, hn::Sqrt(hn::Add(hn::LoadU(d, var + i), eps))), d, rstd + i);
  }
  for (int64_t j0 = 0; j0 < R; j0 += kRowChunk) {
    const int64_t j1 = std::min(R, j0 + kRowChunk);
    V wv[kRowChunk], bv[kRowChunk];
    for (int64_t j = j0; j < j1; ++j) {
      // The affine index is constant along a row: affine_inner is a multiple of the inner size.
      const int64_t k = ((row_base + j * job.inner) / job.affine_inner) % job.affine_count;
      wv[j - j0] = hn::Set(d, job.weight ? T(job.weight[k]) : T(1));
      bv[j - j0] = hn::Set(d, job.bias ? T(job.bias[k]) : T(0));
    }
    for (int64_t i = 0; i < width; i += L) {
      const V m = hn::LoadU(d, mean + i), r = hn::LoadU(d, rstd + i);
      for (int64_t j = j0; j < j1; ++j) {
        const V norm = hn::Mul(hn::Sub(load(d, x + j * xstride + i), m), r);
        hn::StoreU(hn::MulAdd(norm, wv[j - j0], bv[j - j0]), d, y + j * ystride + i);
      }
    }
  }
}

template <typename T>
void stridedBlocksT(const Job<T>& job, int64_t first, int64_t last, bool stats) {
  const Tag<T> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d)), R = job.reduced, inner = job.inner;
  const int64_t blocks = (inner + job.block - 1) / job.block;
  static thread_local std::vector<T> pad_y, pad_stats;
  static thread_local std::vector<float> pad_x;
  for (int64_t t = first; t < last; ++t) {
    const int64_t o = t / blocks, i0 = (t % blocks) * job.block;
    const int64_t width = std::min(job.block, inner - i0), full = width / L * L;
    const int64_t row_base = o * R * inner, g0 = o * inner + i0;
    if (full > 0)
      stridedSpan(d, job, job.x + row_base + i0, inner, job.y + row_base + i0, inner, full,
                  row_base, stats, job.mean + g0, job.var + g0, job.rstd + g0);
    const int64_t rest = width - full;
    if (rest == 0) continue;
    // The last positions, fewer than a vector: padded copies of their rows, L apart.
    pad_x.assign(static_cast<size_t>(R * L), 0.0f);
    pad_y.resize(static_cast<size_t>(R * L));
    pad_stats.assign(static_cast<size_t>(3 * L), T(1));
    T* mean = pad_stats.data();
    T* var = mean + L;
    T* rstd = var + L;
    const int64_t i1 = i0 + full, g1 = g0 + full;
    for (int64_t j = 0; j < R; ++j)
      std::copy_n(job.x + row_base + j * inner + i1, rest, pad_x.data() + j * L);
    if (!stats)
      for (int64_t i = 0; i < rest; ++i) {
        mean[i] = job.mean[g1 + i];
        rstd[i] = job.rstd[g1 + i];
      }
    stridedSpan(d, job, pad_x.data(), L, pad_y.data(), L, L, row_base, stats, mean, var, rstd);
    for (int64_t j = 0; j < R; ++j)
      std::copy_n(pad_y.data() + j * L, rest, job.y + row_base + j * inner + i1);
    if (stats)
      for (int64_t i = 0; i < rest; ++i) {
        job.mean[g1 + i] = mean[i];
        job.var[g1 + i] = var[i];
        job.rstd[g1 + i] = rstd[i];
      }
  }
}

// ---- the copy -----------------------------------------------------------------------------------

// dst = src with the stores of a large y: streamed, each page's translation made ahead.
void StreamCopy(const float* src, float* dst, int64_t n) {
  const Tag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = headToAlign(d, dst, n);
  std::copy_n(src, i, dst);
  for (; i + L <= n; i += L) {
    translateAhead(dst + i);
    hn::Stream(hn::LoadU(d, src + i), d, dst + i);
  }
  std::copy(src + i, src + n, dst + i);
  hwy::FlushStream();
}

// Σ a + Σ b over n floats: both read once, as a backward's first pass reads x and dy (the
// backward's bound on reading, timed beside the copy).
float SumPair(const float* a, const float* b, int64_t n) {
  const Tag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  auto s0 = hn::Zero(d), s1 = s0;
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    s0 = hn::Add(s0, hn::LoadU(d, a + i));
    s1 = hn::Add(s1, hn::LoadU(d, b + i));
  }
  float tail = 0;
  for (; i < n; ++i) tail += a[i] + b[i];
  return hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1))) + tail;
}

// out = ka·a + kb·b + kc over n floats, stored as a large dx is: a backward's traffic (read x and
// dy, write dx) in one pass, without its sums.
void StreamCombine(const float* a, const float* b, float* out, int64_t n, float ka, float kb,
                   float kc) {
  const Tag<float> d;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const auto va = hn::Set(d, ka), vb = hn::Set(d, kb), vc = hn::Set(d, kc);
  auto scalar = [&](int64_t i) { out[i] = ka * a[i] + (kb * b[i] + kc); };
  int64_t i = 0;
  for (const int64_t head = headToAlign(d, out, n); i < head; ++i) scalar(i);
  for (; i + L <= n; i += L) {
    translateAhead(out + i);
    hn::Stream(hn::MulAdd(va, hn::LoadU(d, a + i), hn::MulAdd(vb, hn::LoadU(d, b + i), vc)), d,
               out + i);
  }
  for (; i < n; ++i) scalar(i);
  hwy::FlushStream();
}

// ---- dispatch entry points (one per precision) --------------------------------------------------

void FusedGroupsF32(const Job<float>& job, int64_t first, int64_t last) {
  fusedGroupsT(job, first, last);
}
void PiecePartialsF32(const Job<float>& job, int64_t first, int64_t last, Moments<float>* out) {
  piecePartialsT(job, first, last, out);
}
void NormalizePiecesF32(const Job<float>& job, int64_t first, int64_t last) {
  normalizePiecesT(job, first, last);
}
void StridedBlocksF32(const Job<float>& job, int64_t first, int64_t last, bool stats) {
  stridedBlocksT(job, first, last, stats);
}
#if HWY_HAVE_FLOAT64  // not on WebAssembly's SIMD target (the browser takes EMU128's, below)
void FusedGroupsF64(const Job<double>& job, int64_t first, int64_t last) {
  fusedGroupsT(job, first, last);
}
void PiecePartialsF64(const Job<double>& job, int64_t first, int64_t last, Moments<double>* out) {
  piecePartialsT(job, first, last, out);
}
void NormalizePiecesF64(const Job<double>& job, int64_t first, int64_t last) {
  normalizePiecesT(job, first, last);
}
void StridedBlocksF64(const Job<double>& job, int64_t first, int64_t last, bool stats) {
  stridedBlocksT(job, first, last, stats);
}
#endif
int64_t FloatLanes() {
  return static_cast<int64_t>(hn::Lanes(Tag<float>()));
}
const char* TargetName() {
  return hwy::TargetName(HWY_TARGET);
}

}  // namespace HWY_NAMESPACE
}  // namespace normviz::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace normviz::simd {

#if defined(NORMVIZ_SIMD_STATIC)
// The browser: one build for every machine, with no runtime dispatch (no libhwy for WebAssembly).
// float32 runs on the build's target (WASM with -msimd128); float64, which WebAssembly's SIMD
// target lacks, on the portable EMU128 target compiled beside it.
#define NORMVIZ_F32(FUNC) HWY_STATIC_DISPATCH(FUNC)
#define NORMVIZ_F64(FUNC) N_EMU128::FUNC
#define NORMVIZ_ANY(FUNC) HWY_STATIC_DISPATCH(FUNC)
#else
#define NORMVIZ_F32(FUNC) HWY_DYNAMIC_DISPATCH(FUNC)
#define NORMVIZ_F64(FUNC) HWY_DYNAMIC_DISPATCH(FUNC)
#define NORMVIZ_ANY(FUNC) HWY_DYNAMIC_DISPATCH(FUNC)
HWY_EXPORT(FusedGroupsF32);
HWY_EXPORT(FusedGroupsF64);
HWY_EXPORT(PiecePartialsF32);
HWY_EXPORT(PiecePartialsF64);
HWY_EXPORT(NormalizePiecesF32);
HWY_EXPORT(NormalizePiecesF64);
HWY_EXPORT(StridedBlocksF32);
HWY_EXPORT(StridedBlocksF64);
HWY_EXPORT(StreamCopy);
HWY_EXPORT(SumPair);
HWY_EXPORT(StreamCombine);
HWY_EXPORT(FloatLanes);
HWY_EXPORT(TargetName);
#endif

void fusedGroups(const Job<float>& job, int64_t first, int64_t last) {
  NORMVIZ_F32(FusedGroupsF32)(job, first, last);
}
void fusedGroups(const Job<double>& job, int64_t first, int64_t last) {
  NORMVIZ_F64(FusedGroupsF64)(job, first, last);
}
void piecePartials(const Job<float>& job, int64_t first, int64_t last, Moments<float>* out) {
  NORMVIZ_F32(PiecePartialsF32)(job, first, last, out);
}
void piecePartials(const Job<double>& job, int64_t first, int64_t last, Moments<double>* out) {
  NORMVIZ_F64(PiecePartialsF64)(job, first, last, out);
}
void normalizePieces(const Job<float>& job, int64_t first, int64_t last) {
  NORMVIZ_F32(NormalizePiecesF32)(job, first, last);
}
void normalizePieces(const Job<double>& job, int64_t first, int64_t last) {
  NORMVIZ_F64(NormalizePiecesF64)(job, first, last);
}
void stridedBlocks(const Job<float>& job, int64_t first, int64_t last, bool stats) {
  NORMVIZ_F32(StridedBlocksF32)(job, first, last, stats);
}
void stridedBlocks(const Job<double>& job, int64_t first, int64_t last, bool stats) {
  NORMVIZ_F64(StridedBlocksF64)(job, first, last, stats);
}
void streamCopy(const float* src, float* dst, int64_t n) {
  NORMVIZ_ANY(StreamCopy)(src, dst, n);
}
float sumPair(const float* a, const float* b, int64_t n) {
  return NORMVIZ_ANY(SumPair)(a, b, n);
}
void streamCombine(const float* a, const float* b, float* out, int64_t n, float ka, float kb,
                   float kc) {
  NORMVIZ_ANY(StreamCombine)(a, b, out, n, ka, kb, kc);
}
int64_t floatLanes() {
  return NORMVIZ_ANY(FloatLanes)();
}
const char* targetName() {
  return NORMVIZ_ANY(TargetName)();
}

}  // namespace normviz::simd
#endif  // HWY_ONCE
