// Forward kernels that do not follow the shared reduction recipe: thread-per-row (naive),
// vectorized rows held in registers, the split reduction for few large groups (BatchNorm), and
// BatchNorm evaluation with running statistics. The recipe kernels live in recipe_kernels.cu.
//
// Sections: device helpers · thread-per-row · vector-registers · split-reduce · eval · probe

#include <algorithm>
#include <string>

#include "kernel_common.cuh"
#include "launch.hpp"

namespace normviz::gpu {
inline namespace NORMVIZ_KERNELS_NAMESPACE {

// ---- device helpers ---------------------------------------------------------------------------

namespace {

// Sum over a warp; every lane gets the total (xor butterfly).
__device__ __forceinline__ float warpAllSum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// Sum over a team of `team` consecutive threads (a multiple of 32). Every thread of the block must
// call it (it may hold a barrier); every thread of a team gets its team's total, summed in warp
// order, so the result is deterministic. shm: 32 floats of shared memory.
__device__ __forceinline__ float teamSum(float v, int team, float* shm) {
  v = warpAllSum(v);
  if (team == 32) return v;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, team_warps = team >> 5;
  __syncthreads();  // an earlier call's readers are done with shm
  if (lane == 0) shm[warp] = v;
  __syncthreads();
  const int first = warp - warp % team_warps;
  float total = 0.f;
  for (int w = 0; w < team_warps; ++w) total += shm[first + w];
  return total;
}

// (count, mean, M2) of a set of values; merged with Chan et al.'s formula (docs/NORMS.md).
struct WelfordPartial {
  float n, mean, m2;
};

__device__ __forceinline__ WelfordPartial mergePartial(WelfordPartial a, WelfordPartial b) {
  if (b.n == 0.f) return a;
  if (a.n == 0.f) return b;
  const float n = a.n + b.n;
  const float d = b.mean - a.mean;
  return {n, a.mean + d * (b.n / n), a.m2 + b.m2 + d * d * (a.n * b.n / n)};
}

__device__ __forceinline__ WelfordPartial shflDownPartial(WelfordPartial p, int offset) {
  return {__shfl_down_sync(0xffffffffu, p.n, offset), __shfl_down_sync(0xffffffffu, p.mean, offset),
          __shfl_down_sync(0xffffffffu, p.m2, offset)};
}

// Lane 0 gets the merge of the warp's partials (lanes past 31 contribute nothing).
__device__ __forceinline__ WelfordPartial warpMerge(WelfordPartial p) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    const WelfordPartial other = shflDownPartial(p, offset);
    if ((threadIdx.x & 31) + offset < 32) p = mergePartial(p, other);
  }
  return p;
}

// The partial of up to four values: exact two-pass over registers (mean 0 and M2 = sum of squares
// when the mean is not subtracted, so that merges add the squares).
__device__ __forceinline__ WelfordPartial partialOf(const float* v, int count, bool subtract_mean) {
  if (count == 0) return {0.f, 0.f, 0.f};
  float mean = 0.f;
  if (subtract_mean) {
    float s = 0.f;
    for (int i = 0; i < count; ++i) s += v[i];
    mean = s / static_cast<float>(count);
  }
  float m2 = 0.f;
  for (int i = 0; i < count; ++i) {
    const float d = v[i] - mean;
    m2 += d * d;
  }
  return {static_cast<float>(count), mean, m2};
}

}  // namespace

// ---- thread-per-row ---------------------------------------------------------------------------

// The first design anyone writes: thread g owns group g and walks it three times. Neighbouring
// threads read addresses a whole row apart, so loads do not coalesce for LayerNorm rows; for
// channels-last LayerNorm (one group per pixel) neighbours are adjacent and it coalesces well.
__global__ void threadPerRowKernel(KernelArgs a) {
  // 64-bit: with nearly INT32_MAX groups the last block's thread numbers pass INT32_MAX.
  const int64_t thread = int64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (thread >= a.layout.groups) return;
  const int32_t g = static_cast<int32_t>(thread);
  const int32_t m = a.layout.group_size;
  float mean = 0.f;
  if (a.subtract_mean) {
    float sum = 0.f;
    for (int32_t j = 0; j < m; ++j) sum += a.x[elementFlat(a.layout, g, j)];
    mean = sum / static_cast<float>(m);
  }
  float sq = 0.f;
  for (int32_t j = 0; j < m; ++j) {
    const float d = a.x[elementFlat(a.layout, g, j)] - mean;
    sq += d * d;
  }
  const float var = sq / static_cast<float>(m);
  const float rstd = rstdOf(var, a.eps);
  writeGroupStats(a, g, mean, var, rstd);
  for (int32_t j = 0; j < m; ++j) {
    const int32_t f = elementFlat(a.layout, g, j);
    a.y[f] = normalizedOut(a, a.x[f], mean, rstd, f, j);
  }
}

std::string launchThreadPerRow(const KernelArgs& a) {
  const int block = 128;
  const auto grid = static_cast<unsigned>((int64_t{a.layout.groups} + block - 1) / block);
  launchKernel("threadPerRowKernel", threadPerRowKernel, grid, block, a);
  return lastError("thread-per-row");
}

// ---- vector-registers -------------------------------------------------------------------------

// A team of `team` threads owns one row of m = 4q floats. Thread t loads float4 number t + k*team
// for k < K: adjacent threads read adjacent 16-byte words, so every load is a full coalesced
// transaction. The row stays in registers: x is read from memory once, y written once, which is
// the least traffic a forward LayerNorm can have. Both passes of two-pass run over registers.
template <int K>
__global__ void __launch_bounds__(1024) vectorRegistersKernel(KernelArgs a, int team) {
  __shared__ float shm[32];
  const int rows_per_block = static_cast<int>(blockDim.x) / team;
  const int t = static_cast<int>(threadIdx.x) % team;
  const int32_t row =
      static_cast<int32_t>(blockIdx.x) * rows_per_block + static_cast<int32_t>(threadIdx.x) / team;
  const bool active = row < a.layout.groups;
  const int32_t m = a.layout.group_size, q = m / 4;
  const int32_t row_base = active ? row * m : 0;
  const float4* xr = reinterpret_cast<const float4*>(a.x + row_base);

  float4 v[K];
  float sum = 0.f;
#pragma unroll
  for (int k = 0; k < K; ++k) {
    const int32_t i = t + k * team;
    v[k] = (active && i < q) ? xr[i] : make_float4(0.f, 0.f, 0.f, 0.f);
    sum += (v[k].x + v[k].y) + (v[k].z + v[k].w);
  }
  float mean = 0.f;
  if (a.subtract_mean) mean = teamSum(sum, team, shm) / static_cast<float>(m);
  float sq = 0.f;
#pragma unroll
  for (int k = 0; k < K; ++k) {
    if (t + k * team < q) {
      const float dx = v[k].x - mean, dy = v[k].y - mean, dz = v[k].z - mean, dw = v[k].w - mean;
      sq += (dx * dx + dy * dy) + (dz * dz + dw * dw);
    }
  }
  const float var = teamSum(sq, team, shm) / static_cast<float>(m);
  const float rstd = rstdOf(var, a.eps);
  if (!active) return;  // after the last barrier
  if (t == 0) writeGroupStats(a, row, mean, var, rstd);

  float4* yr = reinterpret_cast<float4*>(a.y + row_base);
#pragma unroll
  for (int k = 0; k < K; ++k) {
    const int32_t i = t + k * team;
    if (i >= q) continue;
    const int32_t j = 4 * i;
    float4 w = make_float4(1.f, 1.f, 1.f, 1.f), b = make_float4(0.f, 0.f, 0.f, 0.f);
    if (a.affine.per_element) {  // LayerNorm: weight/bias are rows too, read as float4
      if (a.weight) w = reinterpret_cast<const float4*>(a.weight)[i];
      if (a.bias) b = reinterpret_cast<const float4*>(a.bias)[i];
    } else if (a.weight || a.bias) {
      const int32_t f = row_base + j;
      const int32_t k0 = (f / a.affine.inner) % a.affine.count,
                    k1 = ((f + 1) / a.affine.inner) % a.affine.count,
                    k2 = ((f + 2) / a.affine.inner) % a.affine.count,
                    k3 = ((f + 3) / a.affine.inner) % a.affine.count;
      if (a.weight) w = make_float4(a.weight[k0], a.weight[k1], a.weight[k2], a.weight[k3]);
      if (a.bias) b = make_float4(a.bias[k0], a.bias[k1], a.bias[k2], a.bias[k3]);
    }
    const float4 o = make_float4(
        normalizeOne(v[k].x, mean, rstd, w.x, b.x), normalizeOne(v[k].y, mean, rstd, w.y, b.y),
        normalizeOne(v[k].z, mean, rstd, w.z, b.z), normalizeOne(v[k].w, mean, rstd, w.w, b.w));
    yr[i] = o;
  }
}

std::string launchVectorRegisters(const KernelArgs& a) {
  const int32_t m = a.layout.group_size;
  if (!a.layout.rows || m % 4 != 0 || m > kVectorMaxRow)
    return "vector-registers needs contiguous rows of a multiple of 4 floats, at most " +
           std::to_string(kVectorMaxRow);
  const int32_t q = m / 4;
  // The fewest float4 per thread that keeps a team at 128 threads or fewer; long rows (GroupNorm,
  // InstanceNorm on images) take up to 8 per thread and a team of up to 1024.
  int k = 8;
  for (int candidate : {1, 2, 4, 8})
    if ((q + candidate - 1) / candidate <= 128) {
      k = candidate;
      break;
    }
  const int team = ((q + k - 1) / k + 31) / 32 * 32;
  const int rows_per_block = std::max(1, 256 / team);
  const int block = team * rows_per_block;
  const int grid = (a.layout.groups + rows_per_block - 1) / rows_per_block;
  switch (k) {
    case 1:
      launchKernel("vectorRegistersKernel<1>", vectorRegistersKernel<1>, grid, block, a, team);
      break;
    case 2:
      launchKernel("vectorRegistersKernel<2>", vectorRegistersKernel<2>, grid, block, a, team);
      break;
    case 4:
      launchKernel("vectorRegistersKernel<4>", vectorRegistersKernel<4>, grid, block, a, team);
      break;
    default:
      launchKernel("vectorRegistersKernel<8>", vectorRegistersKernel<8>, grid, block, a, team);
      break;
  }
  return lastError("vector-registers");
}

// ---- split-reduce -----------------------------------------------------------------------------

// BatchNorm on (32, 64, 56, 56) has 64 groups of 100352 elements: one block per group would leave
// half of an H100 idle. Instead each group is cut into chunks of kSplitChunk elements; block b
// handles chunk b % chunks of group b / chunks. Pass 1 writes a (count, mean, M2) partial per
// block; pass 2 merges its group's partials (Chan) and writes y for its chunk, so x is read twice
// (the second read mostly from L2) and y written once.
constexpr int32_t kSplitChunk = 4096;
constexpr int kSplitBlock = 256;

// Whether 4 consecutive elements j..j+3 (j % 4 == 0) are always 4 adjacent, 16-byte-aligned floats.
__device__ __forceinline__ bool splitVectorizable(const GroupAddress& l) {
  return l.vec4;
}

__global__ void splitPartialKernel(KernelArgs a, int32_t chunks, float* partials) {
  __shared__ WelfordPartial warp_partials[32];
  const int32_t g = static_cast<int32_t>(blockIdx.x) / chunks;
  const int32_t c = static_cast<int32_t>(blockIdx.x) % chunks;
  const int32_t m = a.layout.group_size;
  // 64-bit: for a group of nearly INT32_MAX elements, j0 + kSplitChunk and j + step pass INT32_MAX.
  const int64_t j0 = int64_t{c} * kSplitChunk, j1 = min(int64_t{m}, j0 + kSplitChunk);
  WelfordPartial p{0.f, 0.f, 0.f};
  if (splitVectorizable(a.layout)) {
    for (int64_t j = j0 + 4 * int64_t{threadIdx.x}; j < j1; j += 4 * blockDim.x) {
      const float4 q =
          *reinterpret_cast<const float4*>(a.x + elementFlat(a.layout, g, static_cast<int32_t>(j)));
      const float v[4] = {q.x, q.y, q.z, q.w};
      p = mergePartial(p, partialOf(v, 4, a.subtract_mean));
    }
  } else {
    for (int64_t j = j0 + threadIdx.x; j < j1; j += blockDim.x) {
      const float v = a.x[elementFlat(a.layout, g, static_cast<int32_t>(j))];
      p = mergePartial(p, partialOf(&v, 1, a.subtract_mean));
    }
  }
  p = warpMerge(p);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  if (lane == 0) warp_partials[warp] = p;
  __syncthreads();
  if (warp == 0) {
    const int warps = static_cast<int>(blockDim.x) >> 5;
    p = lane < warps ? warp_partials[lane] : WelfordPartial{0.f, 0.f, 0.f};
    p = warpMerge(p);
    if (lane == 0) {
      float* out = partials + 3 * int64_t{blockIdx.x};  // 3 * blockIdx.x can pass 2^32
      out[0] = p.n;
      out[1] = p.mean;
      out[2] = p.m2;
    }
  }
}

__global__ void splitApplyKernel(KernelArgs a, int32_t chunks, const float* partials) {
  __shared__ float s_mean, s_rstd;
  const int32_t g = static_cast<int32_t>(blockIdx.x) / chunks;
  const int32_t c = static_cast<int32_t>(blockIdx.x) % chunks;
  if (threadIdx.x < 32) {
    // Lane l merges chunks l, l+32, ... in order; then the warp tree. Every block of the group
    // merges the same partials in the same order, so all of them see identical statistics.
    WelfordPartial p{0.f, 0.f, 0.f};
    for (int32_t k = static_cast<int32_t>(threadIdx.x); k < chunks; k += 32) {
      const float* q = partials + 3 * (static_cast<int64_t>(g) * chunks + k);
      p = mergePartial(p, WelfordPartial{q[0], q[1], q[2]});
    }
    p = warpMerge(p);
    if (threadIdx.x == 0) {
      const float mean = a.subtract_mean ? p.mean : 0.f;
      const float var = p.m2 / p.n;
      const float rstd = rstdOf(var, a.eps);
      s_mean = mean;
      s_rstd = rstd;
      if (c == 0) writeGroupStats(a, g, mean, var, rstd);
    }
  }
  __syncthreads();
  const float mean = s_mean, rstd = s_rstd;
  const int64_t j0 = int64_t{c} * kSplitChunk,
                j1 = min(int64_t{a.layout.group_size}, j0 + kSplitChunk);
  if (splitVectorizable(a.layout)) {
    for (int64_t jj = j0 + 4 * int64_t{threadIdx.x}; jj < j1; jj += 4 * blockDim.x) {
      const int32_t j = static_cast<int32_t>(jj);
      const int32_t f = elementFlat(a.layout, g, j);
      const float4 q = *reinterpret_cast<const float4*>(a.x + f);
      *reinterpret_cast<float4*>(a.y + f) = make_float4(
          normalizedOut(a, q.x, mean, rstd, f, j), normalizedOut(a, q.y, mean, rstd, f + 1, j + 1),
          normalizedOut(a, q.z, mean, rstd, f + 2, j + 2),
          normalizedOut(a, q.w, mean, rstd, f + 3, j + 3));
    }
  } else {
    for (int64_t jj = j0 + threadIdx.x; jj < j1; jj += blockDim.x) {
      const int32_t j = static_cast<int32_t>(jj);
      const int32_t f = elementFlat(a.layout, g, j);
      a.y[f] = normalizedOut(a, a.x[f], mean, rstd, f, j);
    }
  }
}

int64_t splitChunks(int64_t group_size) {
  return (group_size + kSplitChunk - 1) / kSplitChunk;
}

std::string launchSplitReduce(const KernelArgs& a, float* partials) {
  const int64_t chunks = splitChunks(a.layout.group_size);
  const int64_t blocks = chunks * a.layout.groups;
  if (blocks > 0x7fffffff) return "split-reduce: too many blocks for one launch";
  launchKernel("splitPartialKernel", splitPartialKernel, static_cast<unsigned>(blocks), kSplitBlock,
               a, static_cast<int32_t>(chunks), partials);
  std::string error = lastError("split-reduce (partials)");
  if (!error.empty()) return error;
  launchKernel("splitApplyKernel", splitApplyKernel, static_cast<unsigned>(blocks), kSplitBlock, a,
               static_cast<int32_t>(chunks), partials);
  return lastError("split-reduce (apply)");
}

// ---- BatchNorm evaluation ---------------------------------------------------------------------

// No reduction: the statistics are the running ones, so y is elementwise. Group (channel) of f is
// the affine map's index, since BatchNorm's groups are its affine channels.
__global__ void evalRunningKernel(KernelArgs a, const float* running_mean, const float* running_var,
                                  int32_t numel) {
  // 64-bit: f + stride passes INT32_MAX when numel is within one grid's stride of it.
  const int64_t stride = int64_t{gridDim.x} * blockDim.x;
  for (int64_t ff = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; ff < numel; ff += stride) {
    const int32_t f = static_cast<int32_t>(ff);
    const int32_t ch = (f / a.affine.inner) % a.affine.count;
    const float rstd = rstdOf(running_var[ch], a.eps);
    a.y[f] = normalizedOut(a, a.x[f], running_mean[ch], rstd, f, 0);
    if (f < a.layout.groups) {
      a.mean[f] = running_mean[f];
      a.var[f] = running_var[f];
      a.rstd[f] = rstdOf(running_var[f], a.eps);
    }
  }
}

std::string launchEvalRunning(const KernelArgs& a, const float* running_mean,
                              const float* running_var) {
  const int32_t numel = a.layout.groups * a.layout.group_size;
  const int block = 256;
  const int grid = static_cast<int>(std::min<int64_t>((int64_t{numel} + block - 1) / block, 65536));
  launchKernel("evalRunningKernel", evalRunningKernel, grid, block, a, running_mean, running_var,
               numel);
  return lastError("eval (running statistics)");
}

// ---- probe ------------------------------------------------------------------------------------

__global__ void probeKernel(int* out) {
  *out = 42;
}

std::string probeKernelImage() {
  cudaFuncAttributes attributes{};
  const cudaError_t e = cudaFuncGetAttributes(&attributes, probeKernel);
  if (e != cudaSuccess) return errorText(e);
  return "";
}

}  // namespace NORMVIZ_KERNELS_NAMESPACE
}  // namespace normviz::gpu
