// The reduction recipe: one description of how a kernel reduces a group, compiled by nvcc for the
// CUDA kernels (kernels/) and by the host compiler for the trace emulator (core/src/trace.cpp).
//
// Everything the final mean/var depends on lives here, so the GPU and the CPU emulator perform the
// same float32 operations in the same order and agree bit for bit:
//   1. scalar ops that are never contracted into FMAs (addRn, subRn, mulRn, divRn, sqrtRn, rstdOf)
//   2. the per-strategy accumulators (SumOp, SquaredDeviationOp, NaiveOp, WelfordOp) and Welford
//   3. launch geometry: which elements thread t loads, in which order (recipeForEachLoad)
//   4. tree order: the warp shuffle step and the cross-warp step (shuffleSource,
//   crossWarpFirstOffset)
//   5. pairwise (binary) accumulation: leaves, the thread-local fold, the halving steps
//   6. finishing: mean, variance, rstd, and the normalized output
//   7. device functions (nvcc and the emulated device): shuffles of each state, warpReduce,
//   blockReduce, pairwise halving, and the emulated device's probes
//
// Reading guide for a kernel reducing group g of M elements with B threads and vector width V:
//   State s = op.identity();
//   recipeForEachLoad(t, M, B, V, [&](int64_t j) { s = op.push(s, x[element j]); });
//   s = blockReduce(op, s, shared);          // warp step (offsets 16..1), then cross-warp step
//   mean = finishMean(...)  / var = finish...(...)  / rstd = rstdOf(var, eps)
#pragma once

#include <stdint.h>

#if !defined(__CUDA_ARCH__)
#include <cmath>
#endif

#if defined(__CUDACC__)
#define NORMVIZ_HD __host__ __device__ __forceinline__
#else
#define NORMVIZ_HD inline
#endif

namespace normviz {

inline constexpr int kWarpSize = 32;
inline constexpr int kMaxBlockSize = 1024;

// ---- 1. Scalar ops ------------------------------------------------------------------------------
// On the device the _rn intrinsics are never fused into FMAs; on the host core builds with
// -ffp-contract=off, so a plain a*b followed by +c is two roundings there too.

NORMVIZ_HD float addRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

NORMVIZ_HD float subRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

NORMVIZ_HD float mulRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

NORMVIZ_HD float divRn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fdiv_rn(a, b);
#else
  return a / b;
#endif
}

// IEEE square root, correctly rounded on both sides (never rsqrtf, never -use_fast_math's sqrt).
NORMVIZ_HD float sqrtRn(float a) {
#if defined(__CUDA_ARCH__)
  return __fsqrt_rn(a);
#else
  return std::sqrt(a);
#endif
}

// rstd = 1 / sqrt(var + eps), docs/NORMS.md.
NORMVIZ_HD float rstdOf(float var, float eps) {
  return divRn(1.0f, sqrtRn(addRn(var, eps)));
}

// ---- 2. Accumulators ----------------------------------------------------------------------------
// Each op has a State, an identity (what a thread holding no element carries), push (thread-local
// accumulation of one element) and combine (merging a partner's partial in the tree: own first).

// Sum of x: the first pass of two-pass.
struct SumOp {
  using State = float;
  NORMVIZ_HD State identity() const { return 0.0f; }
  NORMVIZ_HD State push(State s, float x) const { return addRn(s, x); }
  NORMVIZ_HD State combine(State a, State b) const { return addRn(a, b); }
};

// Sum of (x - mean)^2: the second pass of two-pass. With mean 0 it is RMSNorm's sum of squares.
struct SquaredDeviationOp {
  using State = float;
  float mean;
  NORMVIZ_HD State identity() const { return 0.0f; }
  NORMVIZ_HD State push(State s, float x) const {
    const float d = subRn(x, mean);
    return addRn(s, mulRn(d, d));
  }
  NORMVIZ_HD State combine(State a, State b) const { return addRn(a, b); }
};

// Naive one pass: sum and sum of squares together (cancels when |mean| >> std; docs/NORMS.md).
struct NaiveState {
  float sum, sumsq;
};
struct NaiveOp {
  using State = NaiveState;
  NORMVIZ_HD State identity() const { return NaiveState{0.0f, 0.0f}; }
  NORMVIZ_HD State push(State s, float x) const {
    return NaiveState{addRn(s.sum, x), addRn(s.sumsq, mulRn(x, x))};
  }
  NORMVIZ_HD State combine(State a, State b) const {
    return NaiveState{addRn(a.sum, b.sum), addRn(a.sumsq, b.sumsq)};
  }
};

// Welford's online update (Welford 1962) and Chan, Golub & LeVeque's merge of two partials.
struct WelfordState {
  float count, mean, m2;
};

NORMVIZ_HD WelfordState welfordPush(WelfordState s, float x) {
  s.count = addRn(s.count, 1.0f);
  const float d = subRn(x, s.mean);
  s.mean = addRn(s.mean, divRn(d, s.count));
  s.m2 = addRn(s.m2, mulRn(d, subRn(x, s.mean)));
  return s;
}

// n = na + nb, d = mean_b - mean_a, mean = mean_a + d*(nb/n), M2 = M2_a + M2_b + d*d*(na*nb/n).
NORMVIZ_HD WelfordState welfordMerge(WelfordState a, WelfordState b) {
  if (b.count == 0.0f) return a;
  if (a.count == 0.0f) return b;
  const float n = addRn(a.count, b.count);
  const float d = subRn(b.mean, a.mean);
  WelfordState r;
  r.count = n;
  r.mean = addRn(a.mean, mulRn(d, divRn(b.count, n)));
  r.m2 = addRn(addRn(a.m2, b.m2), mulRn(mulRn(d, d), divRn(mulRn(a.count, b.count), n)));
  return r;
}

struct WelfordOp {
  using State = WelfordState;
  NORMVIZ_HD State identity() const { return WelfordState{0.0f, 0.0f, 0.0f}; }
  NORMVIZ_HD State push(State s, float x) const { return welfordPush(s, x); }
  NORMVIZ_HD State combine(State a, State b) const { return welfordMerge(a, b); }
};

// ---- 3. Launch geometry -------------------------------------------------------------------------
// A group of M elements (j = 0..M-1 in the plan's row-major element order) is reduced by one block
// of B threads (B a multiple of 32, at most 1024) loading V consecutive elements at a time
// (V = 1, 2 or 4: float, float2, float4). Warp-per-row kernels are B = 32.

NORMVIZ_HD bool validBlockSize(int block_size) {
  return block_size >= kWarpSize && block_size <= kMaxBlockSize && block_size % kWarpSize == 0;
}
NORMVIZ_HD bool validVectorWidth(int vector_width) {
  return vector_width == 1 || vector_width == 2 || vector_width == 4;
}

// Thread t's thread-local loop, in this order:
//   for (base = t*V; base < M; base += B*V) for (v = 0; v < V; ++v) if (base + v < M) f(base + v)
template <typename F>
NORMVIZ_HD void recipeForEachLoad(int thread, int64_t group_size, int block_size, int vector_width,
                                  F&& f) {
  const int64_t stride = int64_t{block_size} * vector_width;
  for (int64_t base = int64_t{thread} * vector_width; base < group_size; base += stride) {
    for (int v = 0; v < vector_width; ++v) {
      if (base + v < group_size) f(base + v);
    }
  }
}

// How many elements thread t loads.
NORMVIZ_HD int64_t recipeLoadCount(int thread, int64_t group_size, int block_size,
                                   int vector_width) {
  int64_t n = 0;
  recipeForEachLoad(thread, group_size, block_size, vector_width, [&](int64_t) { ++n; });
  return n;
}

// Which thread loads element j.
NORMVIZ_HD int recipeThreadOf(int64_t j, int block_size, int vector_width) {
  return static_cast<int>((j / vector_width) % block_size);
}

// Thread-local accumulation of `op` over thread t's elements; load(j) returns element j as float.
template <typename Op, typename Load>
NORMVIZ_HD typename Op::State threadAccumulate(const Op& op, int thread, int64_t group_size,
                                               int block_size, int vector_width, Load&& load) {
  typename Op::State s = op.identity();
  recipeForEachLoad(thread, group_size, block_size, vector_width,
                    [&](int64_t j) { s = op.push(s, load(j)); });
  return s;
}

// ---- 4. Tree order ------------------------------------------------------------------------------
// Warp step: for (offset = 16; offset > 0; offset /= 2) lane i receives from shuffleSource(...)
// and, when that is a lane (not -1), sets val = op.combine(val, received).
//   Down (__shfl_down_sync): lane i receives lane i + offset while that is < 32; only lanes below
//     offset carry a value that reaches lane 0, which ends with the warp's total.
//   Xor (__shfl_xor_sync, butterfly): lane i receives lane i ^ offset; every lane ends with a
//   total.
// Cross-warp step (B > 32): lane 0 of each warp writes shared[warp]; after __syncthreads warp 0
// loads shared[lane] for lane < B/32 (identity otherwise) and repeats the warp step, starting at
// crossWarpFirstOffset(B/32) (larger offsets would only combine identities). With one warp there
// is no cross-warp step. Thread 0 then holds the block's total; it is broadcast through shared[0].

enum class ShuffleKind { Down, Xor };

NORMVIZ_HD int shuffleSource(ShuffleKind kind, int lane, int offset) {
  if (kind == ShuffleKind::Xor) return lane ^ offset;
  return lane + offset < kWarpSize ? lane + offset : -1;
}

// Whether lane's value after this step can still reach the result (Down: lanes below offset).
NORMVIZ_HD bool shuffleLaneLive(ShuffleKind kind, int lane, int offset) {
  return kind == ShuffleKind::Xor || lane < offset;
}

// Smallest power of two >= warps, halved: the first offset of the cross-warp step (0: none).
NORMVIZ_HD int crossWarpFirstOffset(int warps) {
  int p = 1;
  while (p < warps) p *= 2;
  return p / 2;
}

// ---- 5. Pairwise (binary) accumulation ----------------------------------------------------------
// docs/NORMS.md: each term is scaled by 1/M first; the M terms are split into a main block of
// P = 2^k <= M terms and a tail of M - P; tail term P+i is added onto main term i; then the upper
// half is repeatedly added onto the lower half (h = P/2, P/4, ..., 1) until one value is left.
// On T = pairwiseThreads(B) threads (B itself when a power of two): thread t owns main positions
// t, t+T, t+2T, ... (P >= T) or position t (t < P).
// Halvings with h >= T pair positions of the same thread: they are the thread-local fold.
// Halvings with h < T pair thread t with thread t + h: one barrier-separated step each, in
// shared memory (h >= 32) or within warp 0 (h < 32; a shuffle gives the same sums).
// Only the pairing matters for the bits: float addition is commutative.

// Largest power of two <= group_size (group_size >= 1).
NORMVIZ_HD int64_t pairwiseMainBlock(int64_t group_size) {
  int64_t p = 1;
  while (p * 2 <= group_size) p *= 2;
  return p;
}

// 1/M, the scale applied to every pairwise term.
NORMVIZ_HD float pairwiseScale(int64_t group_size) {
  return divRn(1.0f, static_cast<float>(group_size));
}

// The pass-1 term (x/M, summing to the mean) and the pass-2 term ((x - mean)^2 / M, summing to the
// variance; with mean 0 RMSNorm's mean square).
NORMVIZ_HD float pairwiseMeanTerm(float x, float scale) {
  return mulRn(x, scale);
}
NORMVIZ_HD float pairwiseVarianceTerm(float x, float mean, float scale) {
  const float d = subRn(x, mean);
  return mulRn(mulRn(d, d), scale);
}

// Main-block position i after the tail fold: term(i) + term(P + i) when P + i < M.
template <typename Term>
NORMVIZ_HD float pairwiseLeaf(int64_t i, int64_t group_size, int64_t main_block, Term&& term) {
  float v = term(i);
  if (main_block + i < group_size) v = addRn(v, term(main_block + i));
  return v;
}

// The threads pairwise uses: the largest power of two <= B (all of a 256-thread block, 64 of a
// 96-thread one), so that positions t + c*threads tile the main block exactly and every halving
// pairs threads that exist. The others hold nothing.
NORMVIZ_HD int pairwiseThreads(int block_size) {
  int p = 1;
  while (p * 2 <= block_size) p *= 2;
  return p;
}

// Threads that hold a main-block position after the fold: min(P, pairwiseThreads(B)).
NORMVIZ_HD int pairwiseActiveThreads(int64_t main_block, int block_size) {
  const int threads = pairwiseThreads(block_size);
  return main_block < threads ? static_cast<int>(main_block) : threads;
}

// Thread t's value after the thread-local halvings (h >= T, T = pairwiseThreads(B)) of its
// positions t + c*T, c < P/T. Visiting the positions in bit-reversed order of c and merging like a
// binary counter gives exactly the halving tree (c pairs with c + C/2, then c + C/4, ...) with
// O(log) registers. Threads t >= min(P, T) hold nothing and return 0.
template <typename Term>
NORMVIZ_HD float pairwiseThreadFold(int thread, int64_t group_size, int block_size, Term&& term) {
  const int64_t main_block = pairwiseMainBlock(group_size);
  const int threads = pairwiseThreads(block_size);
  if (thread >= main_block || thread >= threads) return 0.0f;
  const int64_t per_thread = main_block > threads ? main_block / threads : 1;
  int bits = 0;
  while ((int64_t{1} << bits) < per_thread) ++bits;
  float stack[64];
  int top = 0;
  for (int64_t r = 0; r < per_thread; ++r) {
    int64_t c = 0;
    for (int b = 0; b < bits; ++b) c |= ((r >> b) & 1) << (bits - 1 - b);
    stack[top++] = pairwiseLeaf(thread + c * threads, group_size, main_block, term);
    for (int64_t done = r + 1; (done & 1) == 0; done >>= 1) {
      --top;
      stack[top - 1] = addRn(stack[top - 1], stack[top]);
    }
  }
  return stack[0];
}

// The cross-thread halvings: for (h = pairwiseActiveThreads(P, B) / 2; h > 0; h /= 2)
// threads t < h set v[t] = addRn(v[t], v[t + h]). Thread 0 ends with the scaled total.
NORMVIZ_HD int pairwiseFirstHalving(int64_t main_block, int block_size) {
  return pairwiseActiveThreads(main_block, block_size) / 2;
}

// ---- 6. Finishing -------------------------------------------------------------------------------

NORMVIZ_HD float finishMean(float sum, int64_t group_size) {
  return divRn(sum, static_cast<float>(group_size));
}
// Two-pass (and RMSNorm's mean square): sum of squared deviations / M.
NORMVIZ_HD float finishVariance(float sum_sq_dev, int64_t group_size) {
  return divRn(sum_sq_dev, static_cast<float>(group_size));
}
// Welford: M2 / count.
NORMVIZ_HD float finishWelfordVariance(WelfordState s) {
  return divRn(s.m2, s.count);
}
// Naive: max(sumsq/M - mean^2, 0); NaN stays NaN.
NORMVIZ_HD float finishNaiveVariance(NaiveState s, float mean, int64_t group_size) {
  const float v = subRn(divRn(s.sumsq, static_cast<float>(group_size)), mulRn(mean, mean));
  return v < 0.0f ? 0.0f : v;
}

// y = (x - mean) * rstd * weight + bias, in this order.
NORMVIZ_HD float normalizeOne(float x, float mean, float rstd, float weight, float bias) {
  return addRn(mulRn(mulRn(subRn(x, mean), rstd), weight), bias);
}

// ---- 7. Device helpers --------------------------------------------------------------------------
// Compiled by nvcc, and by the host compiler for the emulated device (kernels/src/emulated), which
// also records each thread's partial at every stage (recordPartial) for the trace check; on the
// GPU the probes compile to nothing.

// The stages a probe reports: the thread-local result, each warp step (offset), warp 0's load of
// the warp totals, each cross-warp step (offset), each pairwise halving (offset).
enum class RecipeStage { Load, Shuffle, CrossWarpLoad, CrossWarpShuffle, Halve };

#if defined(NORMVIZ_DEVICE_EMULATION)
namespace emu {
void recordPartial(int stage, int offset, const float* words, int count);
}
inline void probePartial(RecipeStage stage, int offset, float v) {
  emu::recordPartial(static_cast<int>(stage), offset, &v, 1);
}
inline void probePartial(RecipeStage stage, int offset, NaiveState v) {
  const float w[2] = {v.sum, v.sumsq};
  emu::recordPartial(static_cast<int>(stage), offset, w, 2);
}
inline void probePartial(RecipeStage stage, int offset, WelfordState v) {
  const float w[3] = {v.count, v.mean, v.m2};
  emu::recordPartial(static_cast<int>(stage), offset, w, 3);
}
#define NORMVIZ_PROBE(stage, offset, value) ::normviz::probePartial(stage, offset, value)
#else
#define NORMVIZ_PROBE(stage, offset, value) ((void)0)
#endif

// NORMVIZ_CUDA_HOST_MODEL: kernels/src/emulated/cuda_host.hpp was included first.
#if defined(__CUDACC__) || defined(NORMVIZ_CUDA_HOST_MODEL)

__device__ __forceinline__ float shuffleState(ShuffleKind kind, float v, int offset) {
  return kind == ShuffleKind::Xor ? __shfl_xor_sync(0xffffffffu, v, offset)
                                  : __shfl_down_sync(0xffffffffu, v, offset);
}
__device__ __forceinline__ NaiveState shuffleState(ShuffleKind kind, NaiveState v, int offset) {
  return NaiveState{shuffleState(kind, v.sum, offset), shuffleState(kind, v.sumsq, offset)};
}
__device__ __forceinline__ WelfordState shuffleState(ShuffleKind kind, WelfordState v, int offset) {
  return WelfordState{shuffleState(kind, v.count, offset), shuffleState(kind, v.mean, offset),
                      shuffleState(kind, v.m2, offset)};
}

// The warp step from `first_offset` down to 1. All 32 lanes must call it.
// `stage` only names the steps for the emulated device's probes.
template <typename Op>
__device__ __forceinline__ typename Op::State warpReduce(const Op& op, typename Op::State v,
                                                         ShuffleKind kind = ShuffleKind::Down,
                                                         int first_offset = kWarpSize / 2,
                                                         RecipeStage stage = RecipeStage::Shuffle) {
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  for (int offset = first_offset; offset > 0; offset /= 2) {
    const typename Op::State other = shuffleState(kind, v, offset);
    if (shuffleSource(kind, lane, offset) >= 0) v = op.combine(v, other);
    NORMVIZ_PROBE(stage, offset, v);
  }
  (void)stage;
  return v;
}

// Reduces v over the block (blockDim.x threads, a multiple of 32) and returns the block's total
// to every thread. `shared` holds at least 32 states. Ends with a barrier, so `shared` may be
// reused right after.
template <typename Op>
__device__ typename Op::State blockReduce(const Op& op, typename Op::State v,
                                          typename Op::State* shared,
                                          ShuffleKind kind = ShuffleKind::Down) {
  const int t = static_cast<int>(threadIdx.x);
  const int lane = t % kWarpSize, warp = t / kWarpSize;
  const int warps = static_cast<int>(blockDim.x) / kWarpSize;
  NORMVIZ_PROBE(RecipeStage::Load, 0, v);
  v = warpReduce(op, v, kind);
  if (warps > 1) {
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    if (warp == 0) {
      v = lane < warps ? shared[lane] : op.identity();
      NORMVIZ_PROBE(RecipeStage::CrossWarpLoad, 0, v);
      v = warpReduce(op, v, kind, crossWarpFirstOffset(warps), RecipeStage::CrossWarpShuffle);
    }
    __syncthreads();  // every read of shared[lane] is done before thread 0 overwrites shared[0]
  }
  if (t == 0) shared[0] = v;
  __syncthreads();
  const typename Op::State total = shared[0];
  __syncthreads();
  return total;
}

// Pairwise: the cross-thread halvings of the folded values v (see section 5), through `shared`
// (blockDim.x floats). Returns thread 0's total to every thread.
__device__ inline float pairwiseBlockHalve(float v, int64_t main_block, float* shared) {
  const int t = static_cast<int>(threadIdx.x);
  NORMVIZ_PROBE(RecipeStage::Load, 0, v);
  shared[t] = v;
  __syncthreads();
  for (int h = pairwiseFirstHalving(main_block, static_cast<int>(blockDim.x)); h > 0; h /= 2) {
    if (t < h) {
      shared[t] = addRn(shared[t], shared[t + h]);
      NORMVIZ_PROBE(RecipeStage::Halve, h, shared[t]);
    }
    __syncthreads();
  }
  const float total = shared[0];
  __syncthreads();
  return total;
}

#endif  // __CUDACC__ || NORMVIZ_DEVICE_EMULATION

}  // namespace normviz
