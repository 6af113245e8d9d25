// The float32 backward's SIMD kernels (Google Highway, runtime dispatch like engine_simd.cpp).
//
// Sections: chunks and their dweight/dbias partials | sums over a span | dx over a span |
// groups of runs | run order | strided blocks | dispatch.
//
// Every group takes two passes (backward_simd.hpp): the sums, then dx while the group is in cache.
// Groups that fit in L2 (LayerNorm's rows, InstanceNorm's planes, GroupNorm's groups) take their
// two passes back to back; larger contiguous groups interleave dx of group g with the sums of group
// g + 1 piece by piece, as the forward interleaves y and the next statistics; larger groups of
// several runs (BatchNorm's channels) take each pass over the whole tensor in memory order.

// The same targets as the forward (engine_simd.cpp).
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS (HWY_SSSE3 | HWY_AVX3_DL)
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "backward_simd.cpp"
#include "backward_simd.hpp"

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <vector>

#include "engine_simd.hpp"
#include "simd_memory-inl.h"

HWY_BEFORE_NAMESPACE();
namespace normviz::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ---- chunks and their dweight/dbias partials ----------------------------------------------------

// Float32 running sums are folded into the chunk's float64 partials every this many groups, so that
// a sum over thousands of rows does not drift.
constexpr int kFlushGroups = 32;

// The partials of the chunk the current item belongs to. at(i) before each item, done() after;
// items come in increasing order and never split a chunk between two calls, so where the running
// sums are folded depends on the chunk alone.
class ChunkPartials {
 public:
  explicit ChunkPartials(const BackwardJob& job) : job_(job) {}
  ~ChunkPartials() { flush(); }

  void at(int64_t item) {
    if (chunk_ >= 0 && item < end_) return;
    flush();
    chunk_ = ((item + 1) * job_.chunks - 1) / job_.items;
    end_ = job_.items * (chunk_ + 1) / job_.chunks;
    const int64_t offset = chunk_ * job_.affine_count;
    dw = job_.dw_total + offset;
    db = job_.db_total + offset;
    dw_run = job_.dw_run ? job_.dw_run + offset : nullptr;
    db_run = job_.db_run ? job_.db_run + offset : nullptr;
  }
  void done() {
    if (++pending_ == kFlushGroups) flush();
  }

  double* dw = nullptr;  // the chunk's float64 partials
  double* db = nullptr;
  float* dw_run = nullptr;  // its float32 running sums (per-element weights)
  float* db_run = nullptr;

 private:
  void flush() {
    pending_ = 0;
    if (chunk_ < 0 || !job_.affine_grads || !dw_run) return;
    for (int64_t k = 0; k < job_.affine_count; ++k) {
      dw[k] += static_cast<double>(dw_run[k]);
      db[k] += static_cast<double>(db_run[k]);
      dw_run[k] = 0;
      db_run[k] = 0;
    }
  }

  const BackwardJob& job_;
  int64_t chunk_ = -1, end_ = 0;
  int pending_ = 0;
};

// ---- sums over a span ---------------------------------------------------------------------------

using DF = hn::ScalableTag<float>;

template <class D>
HWY_INLINE float sumLanes(D d, hn::Vec<D> v) {
  return hn::GetLane(hn::SumOfLanes(d, v));
}

// The read-ahead of twoPassGroups: the lines of x and dy `lead` elements past [i, i + n) of a span,
// prefetched into L1 (nothing when lead is 0).
HWY_INLINE void prefetchLead(const float* x, const float* dy, int64_t lead, int64_t i, int64_t n) {
  if (lead <= 0) return;
  prefetchLines(x + lead, i, n);
  prefetchLines(dy + lead, i, n);
}

// Σ dy and Σ dy·(x - mean) over n elements that share one weight (it and rstd are applied once to
// the totals), reading `lead` elements ahead (prefetchLead).
HWY_INLINE void sumsConst(DF d, const float* x, const float* dy, int64_t n, float mean,
                          float& sum_dy, float& sum_dy_xc, int64_t lead) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const auto mv = hn::Set(d, mean);
  auto a0 = hn::Zero(d), a1 = a0, b0 = a0, b1 = a0;
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    prefetchLead(x, dy, lead, i, 2 * L);
    const auto d0 = hn::LoadU(d, dy + i), d1 = hn::LoadU(d, dy + i + L);
    a0 = hn::Add(a0, d0);
    a1 = hn::Add(a1, d1);
    b0 = hn::MulAdd(d0, hn::Sub(hn::LoadU(d, x + i), mv), b0);
    b1 = hn::MulAdd(d1, hn::Sub(hn::LoadU(d, x + i + L), mv), b1);
  }
  for (; i + L <= n; i += L) {
    const auto d0 = hn::LoadU(d, dy + i);
    a0 = hn::Add(a0, d0);
    b0 = hn::MulAdd(d0, hn::Sub(hn::LoadU(d, x + i), mv), b0);
  }
  float ta = 0, tb = 0;
  for (; i < n; ++i) {
    ta += dy[i];
    tb += dy[i] * (x[i] - mean);
  }
  sum_dy = sumLanes(d, hn::Add(a0, a1)) + ta;
  sum_dy_xc = sumLanes(d, hn::Add(b0, b1)) + tb;
}

// A span whose weight steps with the element (LayerNorm's trailing axes): Σ dy·w and Σ dy·w·x̂
// added to s1, s2, and with kGrads each element's dy·x̂ and dy added to its own running sums;
// `lead` as for sumsConst.
template <bool kGrads>
HWY_INLINE void sumsStepping(DF d, const float* x, const float* dy, const float* w, int64_t n,
                             float mean, float rstd, float& s1, float& s2, float* dw, float* db,
                             int64_t lead) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const auto mv = hn::Set(d, mean), rv = hn::Set(d, rstd);
  auto a = hn::Zero(d), b = a;
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    prefetchLead(x, dy, lead, i, L);
    const auto dv = hn::LoadU(d, dy + i);
    const auto xh = hn::Mul(hn::Sub(hn::LoadU(d, x + i), mv), rv);
    const auto g = hn::Mul(dv, hn::LoadU(d, w + i));
    a = hn::Add(a, g);
    b = hn::MulAdd(g, xh, b);
    if constexpr (kGrads) {
      hn::StoreU(hn::MulAdd(dv, xh, hn::LoadU(d, dw + i)), d, dw + i);
      hn::StoreU(hn::Add(hn::LoadU(d, db + i), dv), d, db + i);
    }
  }
  float ta = 0, tb = 0;
  for (; i < n; ++i) {
    const float xh = (x[i] - mean) * rstd, g = dy[i] * w[i];
    ta += g;
    tb += g * xh;
    if constexpr (kGrads) {
      dw[i] += dy[i] * xh;
      db[i] += dy[i];
    }
  }
  s1 += sumLanes(d, a) + ta;
  s2 += sumLanes(d, b) + tb;
}

// One group's state between its two passes.
struct GroupSums {
  float mean = 0, rstd = 0, s1 = 0, s2 = 0;
};

// Calls f(flat, n, k, stepping) over [flat, flat + n) cut into spans of one weight k (stepping
// false) or of weights k, k + 1, ... (stepping true); without a weight, one span of weight 1.
template <typename F>
HWY_INLINE void forEachSpan(const BackwardJob& job, int64_t flat, int64_t n, const F& f) {
  if (!job.weight) {
    f(flat, n, int64_t{-1}, false);
    return;
  }
  const int64_t end = flat + n, inner = job.affine_inner, count = job.affine_count;
  while (flat < end) {
    const int64_t q = flat / inner, k = q % count;
    const int64_t span_end =
        inner > 1 ? std::min(end, (q + 1) * inner) : std::min(end, flat + (count - k));
    f(flat, span_end - flat, k, inner == 1);
    flat = span_end;
  }
}

// Pass 1 over a piece [flat, flat + n) of a group: its sums added to `s`, its dweight/dbias terms
// to the chunk's partials.
HWY_INLINE void pieceSums(DF d, const BackwardJob& job, int64_t flat, int64_t n, GroupSums& s,
                          ChunkPartials& p, int64_t lead = 0) {
  forEachSpan(job, flat, n, [&](int64_t f, int64_t len, int64_t k, bool stepping) {
    const float* x = job.x + f;
    const float* dy = job.dy + f;
    if (stepping) {
      if (job.affine_grads)
        sumsStepping<true>(d, x, dy, job.weight + k, len, s.mean, s.rstd, s.s1, s.s2, p.dw_run + k,
                           p.db_run + k, lead);
      else
        sumsStepping<false>(d, x, dy, job.weight + k, len, s.mean, s.rstd, s.s1, s.s2, nullptr,
                            nullptr, lead);
      return;
    }
    float sum_dy = 0, sum_dy_xc = 0;
    sumsConst(d, x, dy, len, s.mean, sum_dy, sum_dy_xc, lead);
    const float sum_dy_xhat = sum_dy_xc * s.rstd, w = k < 0 ? 1.0f : job.weight[k];
    s.s1 += w * sum_dy;
    s.s2 += w * sum_dy_xhat;
    if (job.affine_grads) {
      p.dw[k] += static_cast<double>(sum_dy_xhat);
      p.db[k] += static_cast<double>(sum_dy);
    }
  });
}

// ---- dx over a span -----------------------------------------------------------------------------

// dx = a·dy + b·(x - mean) + c over n elements: a = rstd·w for one weight (w null), rstd·w[i] for
// weights that step (w non-null). With job.stream, dx goes to memory with non-temporal stores.
// `ahead` (or -1): the flat offset of the n elements of x and dy read next, prefetched into L2 in
// step, so that memory stays busy while this pass works on cached data; `lead` as for sumsConst.
HWY_INLINE void dxSpan(DF d, const BackwardJob& job, int64_t flat, int64_t n, const DxTerms& t,
                       float a, const float* w, int64_t ahead, int64_t lead = 0) {
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const float* x = job.x + flat;
  const float* dy = job.dy + flat;
  float* dx = job.dx + flat;
  const float* ahead_x = ahead >= 0 ? job.x + ahead : nullptr;
  const float* ahead_dy = ahead >= 0 ? job.dy + ahead : nullptr;
  const auto mv = hn::Set(d, t.mean), rv = hn::Set(d, t.rstd), av = hn::Set(d, a);
  const auto bv = hn::Set(d, t.b), cv = hn::Set(d, t.c);
  auto scalar = [&](int64_t i) {
    const float ai = w ? t.rstd * w[i] : a;
    return ai * dy[i] + (t.b * (x[i] - t.mean) + t.c);
  };
  int64_t i = 0;
  if (job.stream)
    for (const int64_t head = headToAlign(d, dx, n); i < head; ++i) dx[i] = scalar(i);
  for (; i + L <= n; i += L) {
    prefetchLines(ahead_x, i, L, true);
    prefetchLines(ahead_dy, i, L, true);
    prefetchLead(x, dy, lead, i, L);
    const auto ai = w ? hn::Mul(rv, hn::LoadU(d, w + i)) : av;
    const auto xc = hn::Sub(hn::LoadU(d, x + i), mv);
    const auto out = hn::MulAdd(ai, hn::LoadU(d, dy + i), hn::MulAdd(bv, xc, cv));
    if (job.stream) {
      translateAhead(dx + i);
      hn::Stream(out, d, dx + i);
    } else {
      hn::StoreU(out, d, dx + i);
    }
  }
  for (; i < n; ++i) dx[i] = scalar(i);
}

// Pass 2 over a piece [flat, flat + n) of a group; `ahead` and `lead` as for dxSpan.
HWY_INLINE void pieceDx(DF d, const BackwardJob& job, int64_t flat, int64_t n, const DxTerms& t,
                        int64_t ahead, int64_t lead = 0) {
  const int64_t start = flat;
  forEachSpan(job, flat, n, [&](int64_t f, int64_t len, int64_t k, bool stepping) {
    const int64_t span_ahead = ahead >= 0 ? ahead + (f - start) : -1;
    if (stepping)
      dxSpan(d, job, f, len, t, 0.0f, job.weight + k, span_ahead, lead);
    else
      dxSpan(d, job, f, len, t, t.rstd * (k < 0 ? 1.0f : job.weight[k]), nullptr, span_ahead, lead);
  });
}

// ---- groups of runs -----------------------------------------------------------------------------

// A contiguous stretch of a group: a run, or a piece of one.
struct Piece {
  int64_t offset, length;
};

// Group g's runs cut into pieces of at most kPieceElements, in order (none when g is past last).
void collectPieces(const ReductionPlan& plan, int64_t g, int64_t last, std::vector<Piece>& out) {
  out.clear();
  if (g >= last) return;
  plan.forEachRun(g, [&](int64_t offset, int64_t length) {
    for (int64_t c = 0; c < length; c += kPieceElements)
      out.push_back({offset + c, std::min(kPieceElements, length - c)});
  });
}

GroupSums startGroup(const BackwardJob& job, int64_t g) {
  GroupSums s;
  s.mean = job.mean[g];
  s.rstd = job.rstd[g];
  return s;
}

// Contiguous groups [first, last) larger than half of L2 (a LayerNorm over large trailing axes):
// dx of piece k of group g, then the sums of piece k of group g + 1, whose x and dy the dx pass
// prefetched. A group's pieces are summed in memory order whatever the threads.
void interleavedGroups(const BackwardJob& job, int64_t first, int64_t last) {
  const DF d;
  const ReductionPlan& plan = *job.plan;
  ChunkPartials partials(job);
  std::vector<Piece> pieces, next, after;
  collectPieces(plan, first, last, pieces);
  collectPieces(plan, first + 1, last, next);
  GroupSums sums = startGroup(job, first);
  partials.at(first);
  for (const Piece& q : pieces) pieceSums(d, job, q.offset, q.length, sums, partials);
  partials.done();
  DxTerms terms = groupTerms(job, first, sums.s1, sums.s2);
  for (int64_t g = first; g < last; ++g) {
    collectPieces(plan, g + 2, last, after);
    GroupSums next_sums;
    if (!next.empty()) {
      next_sums = startGroup(job, g + 1);
      partials.at(g + 1);
    }
    for (size_t k = 0; k < std::max(pieces.size(), next.size()); ++k) {
      const bool has_next = k < next.size();
      if (k < pieces.size())
        pieceDx(d, job, pieces[k].offset, pieces[k].length, terms,
                has_next ? next[k].offset : int64_t{-1});
      if (has_next) pieceSums(d, job, next[k].offset, next[k].length, next_sums, partials);
    }
    if (!next.empty()) {
      partials.done();
      terms = groupTerms(job, g + 1, next_sums.s1, next_sums.s2);
    }
    std::swap(pieces, next);
    std::swap(next, after);
  }
}

// Between one group's sums and the next's, the dx pass reads only cache and memory sits idle until
// the hardware prefetcher finds the next group's stream again; on this project's VM that gap cost
// up to half the backward's time in some processes. So while a group fits in L1, its dx pass
// prefetches a later group into L1, at least kReadAheadElements ahead of the read position (6 KiB
// of x and of dy), and the sums pass of groups that long runs as far ahead (docs/benchmarks.md,
// "Backward read-ahead"). Larger groups (GroupNorm's, 200 KB) gained nothing from it.
constexpr int64_t kReadAheadElements = 1536;
constexpr int64_t kL1GroupBytes = 32 * 1024;

// Groups [first, last) one after the other: the sums over the group's pieces in memory order, then
// dx over the same pieces from L1 or L2. Memory reads x and dy in one forward stream, which the
// hardware prefetcher (and, for groups that fit in L1, the read-ahead above) keeps running ahead
// while dx is written from cache. For groups that fit in L2 this was faster than interleaving
// (LayerNorm's rows of 768 by 28% at one thread, GroupNorm's groups of 25088 by 17%;
// docs/benchmarks.md, "Backward design measurements").
void twoPassGroups(const BackwardJob& job, int64_t first, int64_t last) {
  const DF d;
  const ReductionPlan& plan = *job.plan;
  const int64_t m = plan.groupSize();
  const bool contiguous = plan.runLength() == m;  // group g is [g·m, (g + 1)·m)
  // Read-ahead for contiguous groups whose x and dy fit in L1 (see kReadAheadElements): the dx
  // pass of group g prefetches group g + k, the first at least kReadAheadElements on; groups that
  // long also lead their sums pass by as much.
  const bool read_ahead =
      contiguous && m * 2 * static_cast<int64_t>(sizeof(float)) <= kL1GroupBytes;
  const int64_t k = std::max<int64_t>(1, (kReadAheadElements + m - 1) / m);
  const int64_t sum_lead = read_ahead && k == 1 ? kReadAheadElements : 0;
  const int64_t dx_lead = read_ahead ? k * m : 0;
  ChunkPartials partials(job);
  std::vector<Piece> pieces;
  for (int64_t g = first; g < last; ++g) {
    if (contiguous) {
      pieces.clear();
      for (int64_t c = 0; c < m; c += kPieceElements)
        pieces.push_back({g * m + c, std::min(kPieceElements, m - c)});
    } else {
      collectPieces(plan, g, last, pieces);
    }
    GroupSums sums = startGroup(job, g);
    partials.at(g);
    for (const Piece& q : pieces) pieceSums(d, job, q.offset, q.length, sums, partials, sum_lead);
    partials.done();
    const DxTerms terms = groupTerms(job, g, sums.s1, sums.s2);
    for (const Piece& q : pieces) pieceDx(d, job, q.offset, q.length, terms, -1, dx_lead);
  }
}

void BackwardGroups(const BackwardJob& job, int64_t first, int64_t last) {
  const int64_t begin = job.items * first / job.chunks, end = job.items * last / job.chunks;
  // Groups whose x and dy fit in half of L2 go in two passes; larger ones interleave (contiguous
  // groups only: larger groups of several runs take the run order).
  if (begin < end) {
    if (groupFitsHalfL2(*job.plan))
      twoPassGroups(job, begin, end);
    else
      interleavedGroups(job, begin, end);
  }
  if (job.stream) hwy::FlushStream();  // dx visible to the thread that waits for this task
}

// ---- run order ----------------------------------------------------------------------------------

// A group of several runs that does not fit in L2 (BatchNorm's channels: 32 runs of 3136 floats
// 800 KB apart at (32, 64, 56, 56)) was read run by run, a new stream every 12.5 KB, and each
// group twice from memory. In memory order both passes read one forward stream, which the
// hardware prefetcher follows: BatchNorm2d(64) took about 0.75 of the interleaved groups' time at
// one thread (docs/benchmarks.md, "Backward in run order"). Pass 1 sums each piece on its own, and
// runOrderTerms adds them per group between the passes.

// Item `item` of the run order: piece item % run_pieces of run item / run_pieces.
Piece runPiece(const BackwardJob& job, int64_t item) {
  const int64_t length = job.plan->runLength();
  const int64_t start = item % job.run_pieces * kPieceElements;
  return {item / job.run_pieces * length + start, std::min(kPieceElements, length - start)};
}

void BackwardRunSums(const BackwardJob& job, int64_t first, int64_t last) {
  const DF d;
  const int64_t begin = job.items * first / job.chunks, end = job.items * last / job.chunks;
  ChunkPartials partials(job);
  for (int64_t i = begin; i < end; ++i) {
    const Piece q = runPiece(job, i);
    GroupSums sums = startGroup(job, job.plan->groupOf(q.offset));
    partials.at(i);
    pieceSums(d, job, q.offset, q.length, sums, partials);
    partials.done();
    job.piece_s1[i] = sums.s1;
    job.piece_s2[i] = sums.s2;
  }
}

void BackwardRunDx(const BackwardJob& job, int64_t first, int64_t last) {
  const DF d;
  const int64_t begin = job.items * first / job.chunks, end = job.items * last / job.chunks;
  for (int64_t i = begin; i < end; ++i) {
    const Piece q = runPiece(job, i);
    pieceDx(d, job, q.offset, q.length, job.terms[job.plan->groupOf(q.offset)], -1);
  }
  if (job.stream) hwy::FlushStream();  // dx visible to the thread that waits for this task
}

// ---- strided blocks -----------------------------------------------------------------------------

// Rows are taken kRowChunk at a time, so that a position's running sums stay in registers across
// them.
constexpr int64_t kRowChunk = 8;

// Both passes for `width` positions (a multiple of d's lanes) from i0 of outer index o: per
// position, sums down the `reduced` rows (inner apart), then dx. The weight is the row's (constant
// along a row) or, with job.position_weights, the position's.
template <class D>
void stridedSpan(D d, const BackwardJob& job, int64_t o, int64_t i0, int64_t width,
                 ChunkPartials& p) {
  using V = hn::Vec<D>;
  const int64_t L = static_cast<int64_t>(hn::Lanes(d)), R = job.reduced, inner = job.inner;
  const int64_t row_base = o * R * inner, g0 = o * inner + i0;
  const float* x = job.x + row_base + i0;
  const float* dy = job.dy + row_base + i0;
  float* dx = job.dx + row_base + i0;
  const float* mean = job.mean + g0;
  const float* rstd = job.rstd + g0;
  const bool rows_weighted = job.weight && !job.position_weights;
  const bool grads = job.affine_grads;
  // Per position: Σ g, Σ g·(x - mean), and with position weights the dweight/dbias terms; then the
  // dx constants b and c.
  thread_local std::vector<float> scratch;
  scratch.resize(static_cast<size_t>(6 * width));
  float* s1 = scratch.data();
  float* s2 = s1 + width;
  float* pdw = s2 + width;
  float* pdb = pdw + width;
  float* cb = pdb + width;
  float* cc = cb + width;
  const V zero = hn::Zero(d), one = hn::Set(d, 1.0f);
  for (int64_t i = 0; i < 4 * width; i += L) hn::StoreU(zero, d, s1 + i);
  auto rowWeight = [&](int64_t j) {
    return ((row_base + j * inner) / job.affine_inner) % job.affine_count;
  };
  for (int64_t j0 = 0; j0 < R; j0 += kRowChunk) {
    const int64_t j1 = std::min(R, j0 + kRowChunk);
    V wv[kRowChunk], dwv[kRowChunk], dbv[kRowChunk];
    for (int64_t j = j0; j < j1; ++j) {
      wv[j - j0] = rows_weighted ? hn::Set(d, job.weight[rowWeight(j)]) : one;
      dwv[j - j0] = dbv[j - j0] = zero;
    }
    for (int64_t i = 0; i < width; i += L) {
      const V m = hn::LoadU(d, mean + i), r = hn::LoadU(d, rstd + i);
      const V pw = job.position_weights ? hn::LoadU(d, job.weight + i0 + i) : one;
      V a = hn::LoadU(d, s1 + i), b = hn::LoadU(d, s2 + i);
      V qw = hn::LoadU(d, pdw + i), qb = hn::LoadU(d, pdb + i);
      for (int64_t j = j0; j < j1; ++j) {
        const V dv = hn::LoadU(d, dy + j * inner + i);
        const V xc = hn::Sub(hn::LoadU(d, x + j * inner + i), m);
        const V g = hn::Mul(dv, job.position_weights ? pw : wv[j - j0]);
        a = hn::Add(a, g);
        b = hn::MulAdd(g, xc, b);
        if (grads) {
          const V xh = hn::Mul(xc, r);
          if (job.position_weights) {
            qw = hn::MulAdd(dv, xh, qw);
            qb = hn::Add(qb, dv);
          } else {
            dwv[j - j0] = hn::MulAdd(dv, xh, dwv[j - j0]);
            dbv[j - j0] = hn::Add(dbv[j - j0], dv);
          }
        }
      }
      hn::StoreU(a, d, s1 + i);
      hn::StoreU(b, d, s2 + i);
      hn::StoreU(qw, d, pdw + i);
      hn::StoreU(qb, d, pdb + i);
    }
    if (grads && rows_weighted)
      for (int64_t j = j0; j < j1; ++j) {
        const int64_t k = rowWeight(j);
        p.dw[k] += static_cast<double>(hn::GetLane(hn::SumOfLanes(d, dwv[j - j0])));
        p.db[k] += static_cast<double>(hn::GetLane(hn::SumOfLanes(d, dbv[j - j0])));
      }
  }
  const float count = static_cast<float>(R);
  for (int64_t i = 0; i < width; ++i) {
    const float r = rstd[i], sum_g = s1[i], sum_g_xhat = s2[i] * r;
    job.sum_dy_w[g0 + i] = sum_g;
    job.sum_dy_w_xhat[g0 + i] = sum_g_xhat;
    const float c1 = job.coupled && job.subtract_mean ? sum_g / count : 0.0f;
    const float c2 = job.coupled ? sum_g_xhat / count : 0.0f;
    cb[i] = -r * r * c2;
    cc[i] = -r * c1;
    if (grads && job.position_weights) {
      p.dw[i0 + i] += static_cast<double>(pdw[i]);
      p.db[i0 + i] += static_cast<double>(pdb[i]);
    }
  }
  for (int64_t j0 = 0; j0 < R; j0 += kRowChunk) {
    const int64_t j1 = std::min(R, j0 + kRowChunk);
    V wv[kRowChunk];
    for (int64_t j = j0; j < j1; ++j)
      wv[j - j0] = rows_weighted ? hn::Set(d, job.weight[rowWeight(j)]) : one;
    for (int64_t i = 0; i < width; i += L) {
      const V m = hn::LoadU(d, mean + i), r = hn::LoadU(d, rstd + i);
      const V b = hn::LoadU(d, cb + i), c = hn::LoadU(d, cc + i);
      const V rp = job.position_weights ? hn::Mul(r, hn::LoadU(d, job.weight + i0 + i)) : r;
      for (int64_t j = j0; j < j1; ++j) {
        const V a = job.position_weights ? rp : hn::Mul(r, wv[j - j0]);
        const V xc = hn::Sub(hn::LoadU(d, x + j * inner + i), m);
        hn::StoreU(hn::MulAdd(a, hn::LoadU(d, dy + j * inner + i), hn::MulAdd(b, xc, c)), d,
                   dx + j * inner + i);
      }
    }
  }
}

void BackwardStrided(const BackwardJob& job, int64_t first, int64_t last) {
  const DF d;
  const hn::CappedTag<float, 1> d1;  // the last positions, fewer than a vector: one at a time
  const int64_t L = static_cast<int64_t>(hn::Lanes(d));
  const int64_t blocks = (job.inner + job.block - 1) / job.block;
  ChunkPartials partials(job);
  const int64_t begin = job.items * first / job.chunks, end = job.items * last / job.chunks;
  for (int64_t t = begin; t < end; ++t) {
    partials.at(t);
    const int64_t o = t / blocks, i0 = (t % blocks) * job.block;
    const int64_t width = std::min(job.block, job.inner - i0), full = width / L * L;
    if (full > 0) stridedSpan(d, job, o, i0, full, partials);
    for (int64_t i = i0 + full; i < i0 + width; ++i) stridedSpan(d1, job, o, i, 1, partials);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace normviz::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace normviz::simd {

// ---- dispatch -----------------------------------------------------------------------------------

#if defined(NORMVIZ_SIMD_STATIC)
// The browser: the build's own target (float32 only, so WebAssembly's SIMD target serves).
#define NORMVIZ_BWD(FUNC) HWY_STATIC_DISPATCH(FUNC)
#else
#define NORMVIZ_BWD(FUNC) HWY_DYNAMIC_DISPATCH(FUNC)
HWY_EXPORT(BackwardGroups);
HWY_EXPORT(BackwardRunSums);
HWY_EXPORT(BackwardRunDx);
HWY_EXPORT(BackwardStrided);
#endif

bool groupFitsHalfL2(const ReductionPlan& plan) {
  return plan.groupSize() * 2 * static_cast<int64_t>(sizeof(float)) <= fusedGroupBytes();
}

DxTerms groupTerms(const BackwardJob& job, int64_t g, float s1, float s2) {
  job.sum_dy_w[g] = s1;
  job.sum_dy_w_xhat[g] = s2;
  const float m = static_cast<float>(job.plan->groupSize());
  // Without coupling (BatchNorm evaluation) the statistics are constants: dx = dy·w·rstd.
  const float c1 = job.coupled && job.subtract_mean ? s1 / m : 0.0f;
  const float c2 = job.coupled ? s2 / m : 0.0f;
  const float rstd = job.rstd[g];
  return {job.mean[g], rstd, -rstd * rstd * c2, -rstd * c1};
}

void runOrderTerms(const BackwardJob& job, DxTerms* terms) {
  const ReductionPlan& plan = *job.plan;
  const int64_t length = plan.runLength();
  for (int64_t g = 0; g < plan.groupCount(); ++g) {
    double s1 = 0, s2 = 0;
    plan.forEachRun(g, [&](int64_t offset, int64_t) {
      const int64_t first = offset / length * job.run_pieces;
      for (int64_t k = first; k < first + job.run_pieces; ++k) {
        s1 += static_cast<double>(job.piece_s1[k]);
        s2 += static_cast<double>(job.piece_s2[k]);
      }
    });
    terms[g] = groupTerms(job, g, static_cast<float>(s1), static_cast<float>(s2));
  }
}

void backwardGroups(const BackwardJob& job, int64_t first, int64_t last) {
  NORMVIZ_BWD(BackwardGroups)(job, first, last);
}
void backwardRunSums(const BackwardJob& job, int64_t first, int64_t last) {
  NORMVIZ_BWD(BackwardRunSums)(job, first, last);
}
void backwardRunDx(const BackwardJob& job, int64_t first, int64_t last) {
  NORMVIZ_BWD(BackwardRunDx)(job, first, last);
}
void backwardStrided(const BackwardJob& job, int64_t first, int64_t last) {
  NORMVIZ_BWD(BackwardStrided)(job, first, last);
}

}  // namespace normviz::simd
#endif  // HWY_ONCE
