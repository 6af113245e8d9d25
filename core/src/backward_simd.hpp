// Internal interface of the float32 backward: the job backward.cpp hands to the SIMD kernels.
//
// Per group, with x̂ = (x - mean)·rstd and g = dy·w (docs/NORMS.md):
//   pass 1 reads x and dy once for Σ g and Σ g·x̂ (and the group's share of dweight/dbias);
//   pass 2 reads them again while the group is still in cache and writes
//   dx = rstd·w·dy - rstd·c1 - rstd²·c2·(x - mean), with c1 = mean(g), c2 = mean(g·x̂).
// Groups of several runs too large for L2 (BatchNorm's channels) take the two passes over the whole
// tensor in memory order instead (run order, below), with the groups' sums gathered between them.
// The work is cut into a fixed number of chunks whatever the thread count; each chunk keeps its own
// dweight/dbias partials, which backward.cpp adds in chunk order, so no bit depends on threads.
#pragma once

#include <cstdint>

#include "normviz/plan.hpp"

namespace normviz::simd {

// The constants of a group's dx = rstd·w·dy + b·(x - mean) + c: b = -rstd²·c2, c = -rstd·c1.
struct DxTerms {
  float mean, rstd, b, c;
};

struct BackwardJob {
  const ReductionPlan* plan = nullptr;
  const float* x = nullptr;
  const float* dy = nullptr;
  float* dx = nullptr;
  const float* weight = nullptr;   // null: no weight and no dweight/dbias (w = 1 everywhere)
  const float* mean = nullptr;     // per group, saved by the forward (0 for RMSNorm)
  const float* rstd = nullptr;     // per group
  float* sum_dy_w = nullptr;       // per group: Σ dy·w
  float* sum_dy_w_xhat = nullptr;  // per group: Σ dy·w·x̂
  // The affine index of flat element f is (f / affine_inner) % affine_count.
  int64_t affine_inner = 1, affine_count = 1;
  bool coupled = true;        // false: BatchNorm evaluation, dx = dy·w·rstd (no c1, c2)
  bool subtract_mean = true;  // false: RMSNorm (no c1)
  bool affine_grads = false;  // dweight/dbias wanted (weight is then non-null: ones for bias only)
  bool stream = false;        // dx stored with non-temporal stores (outputs larger than caches)
  // The items (groups; strided layout: blocks of positions) in `chunks` chunks: chunk c is items
  // [items * c / chunks, items * (c + 1) / chunks).
  int64_t items = 0, chunks = 1;
  // Per chunk, affine_count values each: dweight/dbias partials in float64, and float32 running
  // sums of the per-element terms (LayerNorm's trailing weights) folded into them every few groups.
  double* dw_total = nullptr;
  double* db_total = nullptr;
  float* dw_run = nullptr;
  float* db_run = nullptr;
  // Strided layout: x viewed as (outer, reduced, inner), one group per (outer, inner position),
  // `block` positions per item (a multiple of the vector width).
  int64_t outer = 0, reduced = 0, inner = 0, block = 0;
  bool position_weights = false;  // strided: the affine index is the inner position (BatchNorm1d)
  // Run order: the items are the pieces of x's runs (runLength each, in memory order), cut at most
  // kPieceElements long, `run_pieces` a run. Pass 1 leaves each piece's Σ g and Σ g·x̂ in
  // piece_s1/piece_s2; pass 2 takes each group's dx terms from `terms`.
  int64_t run_pieces = 1;
  float* piece_s1 = nullptr;
  float* piece_s2 = nullptr;
  const DxTerms* terms = nullptr;
};

// Groups made of runs of at least kMinRunElements (contiguous rows, BatchNorm's channels, custom
// axes with long runs): the groups of chunks [first, last).
void backwardGroups(const BackwardJob& job, int64_t first, int64_t last);

// Run order, for groups of several runs whose x and dy do not fit in half of L2: the two passes
// over the pieces of chunks [first, last), each reading x and dy in one forward stream.
void backwardRunSums(const BackwardJob& job, int64_t first, int64_t last);
void backwardRunDx(const BackwardJob& job, int64_t first, int64_t last);
// Between them, once: each group's sums from its pieces' in the group's own order (in float64), its
// Σ g and Σ g·x̂ stored, and its dx terms.
void runOrderTerms(const BackwardJob& job, DxTerms* terms);

// Whether a group's x and dy fit in half of L2: such groups take their two passes back to back.
bool groupFitsHalfL2(const ReductionPlan& plan);

// Group g's dx terms from its sums s1 = Σ g and s2 = Σ g·x̂, which are also stored in the job.
DxTerms groupTerms(const BackwardJob& job, int64_t g, float s1, float s2);

// Strided layout: the blocks of positions of chunks [first, last), vectors across positions.
void backwardStrided(const BackwardJob& job, int64_t first, int64_t last);

}  // namespace normviz::simd
