// The kernels that reduce exactly as core/include/normviz/reduce_recipe.hpp describes: block-tree,
// warp-shuffle, warp-welford, and the one-group kernel the trace emulator is checked against.
// Every float operation that decides mean/var comes from the recipe header, so the CPU emulator
// of these kernels reproduces their statistics bit for bit.
//
// Sections: loads in recipe order · block-tree · warp-shuffle / warp-welford · one group

#include <string>

#include "kernel_common.cuh"
#include "launch.hpp"
#include "normviz/reduce_recipe.hpp"

namespace normviz::gpu {
inline namespace NORMVIZ_KERNELS_NAMESPACE {

namespace {

// ---- loads in recipe order ----------------------------------------------------------------------

// Calls f(j, x_j) for thread t's elements of group g in the recipe's order (recipeForEachLoad):
// bases t*V, t*V + B*V, ..., and within a base v = 0..V-1. When the group is a contiguous row whose
// length is a multiple of V, the V values of a base are one aligned float2/float4 load; otherwise
// they are gathered one by one. Either way the values reach f in the same order.
template <int V, typename F>
__device__ __forceinline__ void forEachLoad(const KernelArgs& a, int32_t g, int t, int block,
                                            F&& f) {
  const int32_t m = a.layout.group_size;
  const bool vector = a.layout.rows && m % V == 0;
  // 64-bit: for a group of nearly INT32_MAX elements, base + block * V passes INT32_MAX.
  for (int64_t base = int64_t{t} * V; base < m; base += int64_t{block} * V) {
    const int32_t j = static_cast<int32_t>(base);  // < m
    if constexpr (V > 1) {
      if (vector) {
        const float* p = a.x + static_cast<int64_t>(g) * m + base;
        if constexpr (V == 4) {
          const float4 q = *reinterpret_cast<const float4*>(p);
          f(j, q.x);
          f(j + 1, q.y);
          f(j + 2, q.z);
          f(j + 3, q.w);
        } else {
          const float2 q = *reinterpret_cast<const float2*>(p);
          f(j, q.x);
          f(j + 1, q.y);
        }
        continue;
      }
    }
#pragma unroll
    for (int v = 0; v < V; ++v)
      if (j + v < m) f(j + v, a.x[elementFlat(a.layout, g, j + v)]);
  }
}

// Writes y for thread t's elements of group g (any order would do; the loads' order is reused).
template <int V>
__device__ __forceinline__ void writeOutputs(const KernelArgs& a, int32_t g, int t, int block,
                                             float mean, float rstd) {
  const int32_t m = a.layout.group_size;
  if constexpr (V == 4) {
    if (a.layout.rows && m % 4 == 0 && a.affine.per_element) {
      const int64_t row = static_cast<int64_t>(g) * m;
      for (int64_t base = int64_t{t} * 4; base < m; base += int64_t{block} * 4) {
        const float4 q = *reinterpret_cast<const float4*>(a.x + row + base);
        float4 w = make_float4(1.f, 1.f, 1.f, 1.f), b = make_float4(0.f, 0.f, 0.f, 0.f);
        if (a.weight) w = *reinterpret_cast<const float4*>(a.weight + base);
        if (a.bias) b = *reinterpret_cast<const float4*>(a.bias + base);
        *reinterpret_cast<float4*>(a.y + row + base) = make_float4(
            normalizeOne(q.x, mean, rstd, w.x, b.x), normalizeOne(q.y, mean, rstd, w.y, b.y),
            normalizeOne(q.z, mean, rstd, w.z, b.z), normalizeOne(q.w, mean, rstd, w.w, b.w));
      }
      return;
    }
  }
  forEachLoad<V>(a, g, t, block, [&](int32_t j, float x) {
    const int32_t f = elementFlat(a.layout, g, j);
    a.y[f] = normalizedOut(a, x, mean, rstd, f, j);
  });
}

// ---- block-tree ---------------------------------------------------------------------------------

// One block per group, two-pass: each thread sums its elements, the block reduces through the
// warp step and the cross-warp step in shared memory, and the same again for the squared
// deviations. Threads re-read their own elements in pass 2 and for y (from L1/L2 for short rows).
template <int V>
__global__ void __launch_bounds__(kMaxBlockSize) blockTreeKernel(KernelArgs a) {
  __shared__ float shared[kWarpSize];
  const int32_t g = static_cast<int32_t>(blockIdx.x);
  const int t = static_cast<int>(threadIdx.x), block = static_cast<int>(blockDim.x);
  const int32_t m = a.layout.group_size;

  float mean = 0.f;
  if (a.subtract_mean) {
    const SumOp sum_op;
    float s = sum_op.identity();
    forEachLoad<V>(a, g, t, block, [&](int32_t, float x) { s = sum_op.push(s, x); });
    mean = finishMean(blockReduce(sum_op, s, shared), m);
  }
  const SquaredDeviationOp sq_op{mean};
  float s2 = sq_op.identity();
  forEachLoad<V>(a, g, t, block, [&](int32_t, float x) { s2 = sq_op.push(s2, x); });
  const float var = finishVariance(blockReduce(sq_op, s2, shared), m);
  const float rstd = rstdOf(var, a.eps);
  if (t == 0) writeGroupStats(a, g, mean, var, rstd);
  writeOutputs<V>(a, g, t, block, mean, rstd);
}

// ---- warp-shuffle / warp-welford ----------------------------------------------------------------

constexpr int kWarpsPerBlock = 8;

// Every lane gets lane 0's value (the warp step leaves the total there).
__device__ __forceinline__ float fromLane0(float v) {
  return __shfl_sync(0xffffffffu, v, 0);
}

// One warp per group: the recipe's thread-local loop with B = 32 and only the warp step (no
// shared memory, no barrier). Two-pass: two reductions; Welford: one pass, Chan merges in the tree.
template <int V, bool kWelford>
__global__ void warpKernel(KernelArgs a) {
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int32_t g = static_cast<int32_t>(blockIdx.x) * kWarpsPerBlock +
                    static_cast<int32_t>(threadIdx.x) / kWarpSize;
  if (g >= a.layout.groups) return;  // whole warps leave together; no barrier follows
  const int32_t m = a.layout.group_size;
  float mean = 0.f, var = 0.f;
  if (kWelford && a.subtract_mean) {
    const WelfordOp op;
    WelfordState s = op.identity();
    forEachLoad<V>(a, g, lane, kWarpSize, [&](int32_t, float x) { s = op.push(s, x); });
    s = warpReduce(op, s);
    s = WelfordState{fromLane0(s.count), fromLane0(s.mean), fromLane0(s.m2)};
    mean = s.mean;
    var = finishWelfordVariance(s);
  } else {
    // Two-pass; RMSNorm (either variant) is the sum of squares alone, mean 0.
    if (a.subtract_mean) {
      const SumOp sum_op;
      float s = sum_op.identity();
      forEachLoad<V>(a, g, lane, kWarpSize, [&](int32_t, float x) { s = sum_op.push(s, x); });
      mean = finishMean(fromLane0(warpReduce(sum_op, s)), m);
    }
    const SquaredDeviationOp sq_op{mean};
    float s2 = sq_op.identity();
    forEachLoad<V>(a, g, lane, kWarpSize, [&](int32_t, float x) { s2 = sq_op.push(s2, x); });
    var = finishVariance(fromLane0(warpReduce(sq_op, s2)), m);
  }
  const float rstd = rstdOf(var, a.eps);
  if (lane == 0) writeGroupStats(a, g, mean, var, rstd);
  writeOutputs<V>(a, g, lane, kWarpSize, mean, rstd);
}

// ---- one group ----------------------------------------------------------------------------------

// One block reduces m contiguous values with the given strategy, exactly as the kernels above do
// (two-pass, Welford) or as the recipe defines the others (naive, pairwise), and writes mean/var.
// With subtract_mean false every strategy but pairwise is the plain sum of squares (the recipe's
// RMSNorm), and pairwise sums the terms x*x/M. shuffle 1 makes the warp steps __shfl_xor_sync
// butterflies instead of __shfl_down_sync (the trace emulator offers both).
template <int V>
__global__ void __launch_bounds__(kMaxBlockSize)
    reduceOneGroupKernel(const float* values, int32_t m, int strategy, bool subtract_mean,
                         int shuffle, float* out) {
  __shared__ float shared[kMaxBlockSize];
  __shared__ WelfordState shared_welford[kWarpSize];
  __shared__ NaiveState shared_naive[kWarpSize];
  KernelArgs a;
  a.x = values;
  a.layout.groups = 1;
  a.layout.group_size = m;
  a.layout.run_length = m;
  a.layout.runs = 1;
  a.layout.rows = true;
  const int t = static_cast<int>(threadIdx.x), block = static_cast<int>(blockDim.x);
  const ShuffleKind kind = shuffle == 1 ? ShuffleKind::Xor : ShuffleKind::Down;
  float mean = 0.f, var = 0.f;
  if (strategy == 3) {  // pairwise
    const int64_t main_block = pairwiseMainBlock(m);
    const float scale = pairwiseScale(m);
    if (subtract_mean) {
      const float folded = pairwiseThreadFold(
          t, m, block, [&](int64_t i) { return pairwiseMeanTerm(values[i], scale); });
      mean = pairwiseBlockHalve(folded, main_block, shared);
    }
    const float folded = pairwiseThreadFold(
        t, m, block, [&](int64_t i) { return pairwiseVarianceTerm(values[i], mean, scale); });
    var = pairwiseBlockHalve(folded, main_block, shared);
  } else if (subtract_mean && strategy == 1) {  // Welford
    const WelfordOp op;
    WelfordState s = op.identity();
    forEachLoad<V>(a, 0, t, block, [&](int32_t, float x) { s = op.push(s, x); });
    s = blockReduce(op, s, shared_welford, kind);
    mean = s.mean;
    var = finishWelfordVariance(s);
  } else if (subtract_mean && strategy == 2) {  // naive
    const NaiveOp op;
    NaiveState s = op.identity();
    forEachLoad<V>(a, 0, t, block, [&](int32_t, float x) { s = op.push(s, x); });
    s = blockReduce(op, s, shared_naive, kind);
    mean = finishMean(s.sum, m);
    var = finishNaiveVariance(s, mean, m);
  } else {  // two-pass, and the sum of squares when the mean is not subtracted
    if (subtract_mean) {
      const SumOp sum_op;
      float s = sum_op.identity();
      forEachLoad<V>(a, 0, t, block, [&](int32_t, float x) { s = sum_op.push(s, x); });
      mean = finishMean(blockReduce(sum_op, s, shared, kind), m);
    }
    const SquaredDeviationOp sq_op{mean};
    float s2 = sq_op.identity();
    forEachLoad<V>(a, 0, t, block, [&](int32_t, float x) { s2 = sq_op.push(s2, x); });
    var = finishVariance(blockReduce(sq_op, s2, shared, kind), m);
  }
  if (t == 0) {
    out[0] = mean;
    out[1] = var;
  }
}

}  // namespace

std::string launchBlockTree(const KernelArgs& a, int block_size, int vector_width) {
  if (!validBlockSize(block_size) || !validVectorWidth(vector_width))
    return "block-tree: block size must be a multiple of 32 up to 1024 and vector width 1, 2 or 4";
  const unsigned grid = static_cast<unsigned>(a.layout.groups);
  switch (vector_width) {
    case 4:
      launchKernel("blockTreeKernel<4>", blockTreeKernel<4>, grid, block_size, a);
      break;
    case 2:
      launchKernel("blockTreeKernel<2>", blockTreeKernel<2>, grid, block_size, a);
      break;
    default:
      launchKernel("blockTreeKernel<1>", blockTreeKernel<1>, grid, block_size, a);
      break;
  }
  return lastError("block-tree");
}

std::string launchWarp(const KernelArgs& a, bool welford, int vector_width) {
  if (!validVectorWidth(vector_width)) return "warp kernels: vector width must be 1, 2 or 4";
  const unsigned grid =
      static_cast<unsigned>((int64_t{a.layout.groups} + kWarpsPerBlock - 1) / kWarpsPerBlock);
  const int block = kWarpsPerBlock * kWarpSize;
  if (welford) {
    switch (vector_width) {
      case 4:
        launchKernel("warpKernel<4, true>", warpKernel<4, true>, grid, block, a);
        break;
      case 2:
        launchKernel("warpKernel<2, true>", warpKernel<2, true>, grid, block, a);
        break;
      default:
        launchKernel("warpKernel<1, true>", warpKernel<1, true>, grid, block, a);
        break;
    }
  } else {
    switch (vector_width) {
      case 4:
        launchKernel("warpKernel<4, false>", warpKernel<4, false>, grid, block, a);
        break;
      case 2:
        launchKernel("warpKernel<2, false>", warpKernel<2, false>, grid, block, a);
        break;
      default:
        launchKernel("warpKernel<1, false>", warpKernel<1, false>, grid, block, a);
        break;
    }
  }
  return lastError(welford ? "warp-welford" : "warp-shuffle");
}

std::string launchReduceOneGroup(const float* values, int32_t m, int block_size, int vector_width,
                                 int strategy, bool subtract_mean, int shuffle, float* out) {
  if (!validBlockSize(block_size) || !validVectorWidth(vector_width))
    return "block size must be a multiple of 32 up to 1024 and vector width 1, 2 or 4";
  if (m < 1) return "a group needs at least one element";
  switch (vector_width) {
    case 4:
      launchKernel("reduceOneGroupKernel<4>", reduceOneGroupKernel<4>, 1, block_size, values, m,
                   strategy, subtract_mean, shuffle, out);
      break;
    case 2:
      launchKernel("reduceOneGroupKernel<2>", reduceOneGroupKernel<2>, 1, block_size, values, m,
                   strategy, subtract_mean, shuffle, out);
      break;
    default:
      launchKernel("reduceOneGroupKernel<1>", reduceOneGroupKernel<1>, 1, block_size, values, m,
                   strategy, subtract_mean, shuffle, out);
      break;
  }
  return lastError("reduce-one-group");
}

}  // namespace NORMVIZ_KERNELS_NAMESPACE
}  // namespace normviz::gpu
