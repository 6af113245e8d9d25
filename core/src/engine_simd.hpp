// Internal interface of the CPU engine: the job the layout drivers hand to the SIMD kernels.
//
// A group's statistics are built from partials of pieces (a run of the plan, or a cache-sized chunk
// of a long run), each computed with the chosen strategy over data in cache, then merged. Merging
// uses Chan, Golub & LeVeque's formula for (count, mean, M2), so a piecewise two-pass or Welford is
// as accurate as one over the whole group; naive E[x^2]-E[x]^2 merges its plain sums.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "normviz/plan.hpp"
#include "normviz/stats.hpp"

namespace normviz::simd {

// Elements of one piece: 16 KiB of float32, so a second pass over it hits L1.
inline constexpr int64_t kPieceElements = 4096;
// Floats in one 64-byte cache line: the prefetch step.
inline constexpr int64_t kFloatsPerLine = 16;
// Contiguous groups shorter than this (8 KiB) run in blocks of rows (see shortRowsT).
inline constexpr int64_t kNearGroupElements = 2048;
// Elements of x in one block of short rows, at most (at least one row): 12 KiB, four rows of
// LayerNorm(768), the best of the block sizes timed (docs/benchmarks.md, "Design measurements").
inline constexpr int64_t kRowBlockElements = 3072;
// Runs shorter than this are gathered into a buffer before reducing (calls per run cost more).
inline constexpr int64_t kMinRunElements = 16;

// ---- plans per memory layout (engine.cpp; the forward's and the backward's loops) ---------------

// How a plan's groups lie in memory, which decides the loop that runs them:
//   Fused     groups that fit in half of L2 (LayerNorm, GroupNorm, InstanceNorm rows; BatchNorm's
//             channels up to that size, each a set of runs): x read from memory once, y written
//             while the group is in cache: short rows a block at a time, larger groups with y of
//             one group interleaved with the next group's statistics, the next data prefetched
//             while a pass works on cached data; short runs (custom axes) go through the run
//             iterator into a buffer.
//   TwoPhase  groups too large for L2: the partials of every piece (a run or a chunk of one) for
//             all groups in one pass over x, merged per group, then one normalize pass.
//   Strided   the reduced axes are one block with kept axes inside it (channels-last LayerNorm,
//             BatchNorm1d on (N, C)): x is (outer, reduced, inner) and vectors run across inner.
struct Traversal {
  enum Kind { Fused, TwoPhase, Strided } kind = Fused;
  int64_t outer = 1, reduced = 1, inner = 1;
};

// The layout of `plan`; with `has_affine`, Strided only where the affine index is constant along a
// row of inner positions (affine_inner, the size of the dims after the last affine axis, a
// multiple of inner).
Traversal chooseTraversal(const ReductionPlan& plan, int64_t affine_inner, bool has_affine);

// Bytes of x a group may have for its passes to run back to back while it is still in this core's
// L2 (half of it).
int64_t fusedGroupBytes();
// Outputs at least this large go to memory with non-temporal stores.
int64_t streamBytes();

// What a partial holds depends on the strategy:
//   MeanM2  (two-pass, Welford, pairwise with the mean subtracted): a = mean, b = sum of (x-mean)^2
//   Sums    (naive with the mean subtracted): a = sum x, b = sum x^2
//   MeanSq  (RMSNorm, every strategy): a = mean of x^2
enum class PartialKind { MeanM2, Sums, MeanSq };

inline PartialKind partialKind(VarianceStrategy s, bool subtract_mean) {
  if (!subtract_mean) return PartialKind::MeanSq;
  return s == VarianceStrategy::Naive ? PartialKind::Sums : PartialKind::MeanM2;
}

template <typename T>
struct Moments {
  T n = 0, a = 0, b = 0;
};

// Chan, Golub & LeVeque (1979): the (count, mean, M2) of the union of two disjoint sets.
template <typename T>
Moments<T> merge(PartialKind kind, const Moments<T>& p, const Moments<T>& q) {
  if (p.n == 0) return q;
  if (q.n == 0) return p;
  Moments<T> r;
  r.n = p.n + q.n;
  switch (kind) {
    case PartialKind::MeanM2: {
      const T delta = q.a - p.a;
      r.a = p.a + delta * (q.n / r.n);
      r.b = p.b + q.b + delta * delta * (p.n * q.n / r.n);
      break;
    }
    case PartialKind::Sums:
      r.a = p.a + q.a;
      r.b = p.b + q.b;
      break;
    case PartialKind::MeanSq:
      r.a = p.a + (q.a - p.a) * (q.n / r.n);
      break;
  }
  return r;
}

// Biased mean and variance of a merged partial (mean 0 and the mean square for RMSNorm).
template <typename T>
void finish(PartialKind kind, const Moments<T>& p, T& mean, T& var) {
  switch (kind) {
    case PartialKind::MeanM2:
      mean = p.a;
      var = p.b / p.n;
      return;
    case PartialKind::Sums:
      mean = p.a / p.n;
      // E[x^2] - E[x]^2 can come out negative after cancellation; clamp as kernels must.
      var = std::max(p.b / p.n - mean * mean, T(0));
      return;
    case PartialKind::MeanSq:
      mean = 0;
      var = p.a;
      return;
  }
}

// One precision's pass. T is float (the fast path) or double (the reference); x is always float32.
template <typename T>
struct Job {
  const float* x = nullptr;
  T* y = nullptr;
  T* mean = nullptr;  // per group; filled by the statistics phase, or beforehand (BatchNorm eval)
  T* var = nullptr;
  T* rstd = nullptr;
  const ReductionPlan* plan = nullptr;
  const float* weight = nullptr;  // null: affine off
  const float* bias = nullptr;
  // The affine index of flat element f is (f / affine_inner) % affine_count.
  int64_t affine_inner = 1, affine_count = 1;
  VarianceStrategy strategy = VarianceStrategy::TwoPass;
  PartialKind kind = PartialKind::MeanM2;
  T eps = 0;
  bool stream = false;  // y written with non-temporal stores (outputs larger than the caches)
  // Pieces per run for the two-phase layout: a run of run_length is split into this many chunks.
  int64_t pieces_per_run = 1;
  // Strided layout: x viewed as (outer, reduced, inner), one group per (outer, inner) coordinate.
  int64_t outer = 0, reduced = 0, inner = 0;
  int64_t block = 0;  // positions per strided block (a multiple of the vector width)
};

// Contiguous or run-based groups small enough for the cache: the statistics and y of each group in
// [first, last) while its data is still in L1/L2 (short rows in blocks, larger groups with y of
// one interleaved with the statistics of the next: see engine_simd.cpp).
void fusedGroups(const Job<float>& job, int64_t first, int64_t last);
void fusedGroups(const Job<double>& job, int64_t first, int64_t last);

// Two-phase layout, phase 1: the partial of each piece in [first, last) (piece p is chunk
// p % pieces_per_run of memory run p / pieces_per_run), one pass over x in memory order.
void piecePartials(const Job<float>& job, int64_t first, int64_t last, Moments<float>* out);
void piecePartials(const Job<double>& job, int64_t first, int64_t last, Moments<double>* out);

// Normalizes the pieces in [first, last) with the statistics already in job.mean / job.rstd.
void normalizePieces(const Job<float>& job, int64_t first, int64_t last);
void normalizePieces(const Job<double>& job, int64_t first, int64_t last);

// Strided layout: blocks [first, last) of (outer index, block of job.block inner positions),
// vectors across the inner positions, reducing down the `reduced` axis. With stats false the
// statistics are read from job.mean / job.rstd (BatchNorm eval).
void stridedBlocks(const Job<float>& job, int64_t first, int64_t last, bool stats);
void stridedBlocks(const Job<double>& job, int64_t first, int64_t last, bool stats);

// dst = src over n floats with streaming stores, as a large y is written (the copy that measures
// the bandwidth a normalization can reach).
void streamCopy(const float* src, float* dst, int64_t n);
// Σ a + Σ b over n floats (a backward's reading of x and dy, alone).
float sumPair(const float* a, const float* b, int64_t n);
// out = ka·a + kb·b + kc over n floats with streaming stores (a backward's traffic in one pass).
void streamCombine(const float* a, const float* b, float* out, int64_t n, float ka, float kb,
                   float kc);

// Vector width in float32 lanes of the target chosen at run time; its name ("AVX3", "AVX2", ...).
int64_t floatLanes();
const char* targetName();

}  // namespace normviz::simd
