// Backward kernels: dx, the two per-group sums, dweight and dbias from dy and the saved mean/rstd.
// The CPU reference is core/src/backward.cpp; the formulas are docs/NORMS.md's:
//   dx = rstd · (g - mean(g) - x̂ · mean(g·x̂)),  g = dy·w,  x̂ = (x - mean)·rstd.
//
// Sections: device helpers · rows (one block per group) · affine gradients of rows · channels
// (InstanceNorm, GroupNorm: one block per channel of a sample) · split (BatchNorm)

#include <algorithm>
#include <string>

#include "backward_launch.hpp"
#include "kernel_common.cuh"

namespace normviz::gpu {
inline namespace NORMVIZ_KERNELS_NAMESPACE {

// ---- device helpers ---------------------------------------------------------------------------

namespace {

constexpr int kBackwardBlock = 256;

// Two sums over the block at once; every thread gets both totals, added in warp order so the
// result is deterministic. Every thread of the block must call it. shm: 64 floats.
__device__ __forceinline__ float2 blockSum2(float a, float b, float* shm) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    a += __shfl_xor_sync(0xffffffffu, a, offset);
    b += __shfl_xor_sync(0xffffffffu, b, offset);
  }
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int warps = static_cast<int>(blockDim.x) >> 5;
  __syncthreads();  // an earlier call's readers are done with shm
  if (lane == 0) {
    shm[warp] = a;
    shm[32 + warp] = b;
  }
  __syncthreads();
  float ta = 0.f, tb = 0.f;
  for (int w = 0; w < warps; ++w) {
    ta += shm[w];
    tb += shm[32 + w];
  }
  return make_float2(ta, tb);
}

// The weight of flat element f (j within its group); 1 without a weight.
__device__ __forceinline__ float weightAt(const BackwardArgs& a, int64_t f, int32_t j) {
  if (!a.weight) return 1.f;
  return a.weight[a.affine.per_element ? j : (f / a.affine.inner) % a.affine.count];
}

// mean(g) and mean(g·x̂) that dx subtracts: none without coupling (BatchNorm evaluation), no
// mean(g) without a subtracted mean (RMSNorm).
__device__ __forceinline__ float2 couplingTerms(const BackwardArgs& a, float s1, float s2) {
  if (!a.coupled) return make_float2(0.f, 0.f);
  const float m = static_cast<float>(a.layout.group_size);
  return make_float2(a.subtract_mean ? s1 / m : 0.f, s2 / m);
}

__device__ __forceinline__ float dxOf(float dy, float x, float w, float mean, float rstd,
                                      float2 c) {
  const float xhat = (x - mean) * rstd;
  return rstd * (dy * w - c.x - xhat * c.y);
}

}  // namespace

// ---- rows ---------------------------------------------------------------------------------------

// Block g owns group g = elements g*M .. g*M + M-1. One pass over x and dy forms both sums (the
// second pass, for dx, reads them again mostly from L2 for rows of a few thousand floats).
__global__ void backwardRowsKernel(BackwardArgs a) {
  __shared__ float shm[64];
  const int32_t g = static_cast<int32_t>(blockIdx.x), m = a.layout.group_size;
  const int64_t base = int64_t{g} * m;
  const float mean = a.mean[g], rstd = a.rstd[g];
  float s1 = 0.f, s2 = 0.f;
  for (int32_t j = static_cast<int32_t>(threadIdx.x); j < m; j += blockDim.x) {
    const int64_t f = base + j;
    const float gw = a.dy[f] * weightAt(a, f, j);
    s1 += gw;
    s2 += gw * ((a.x[f] - mean) * rstd);
  }
  const float2 s = blockSum2(s1, s2, shm);
  if (threadIdx.x == 0) {
    a.sum_dy_w[g] = s.x;
    a.sum_dy_w_xhat[g] = s.y;
  }
  const float2 c = couplingTerms(a, s.x, s.y);
  for (int32_t j = static_cast<int32_t>(threadIdx.x); j < m; j += blockDim.x) {
    const int64_t f = base + j;
    a.dx[f] = dxOf(a.dy[f], a.x[f], weightAt(a, f, j), mean, rstd, c);
  }
}

// ---- affine gradients of rows -------------------------------------------------------------------

// LayerNorm/RMSNorm: weight slot k is column k of the (groups, M) matrix. Thread k of block
// (bx, chunk) sums rows chunk, chunk + chunks, ... of column k: adjacent threads read adjacent
// floats. Partials per chunk go to scratch; columnFinishKernel adds them in chunk order.
__global__ void columnPartialKernel(BackwardArgs a, int32_t chunks, float* scratch) {
  const int32_t m = a.layout.group_size;
  const int32_t k = static_cast<int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  if (k >= m) return;
  const int32_t chunk = static_cast<int32_t>(blockIdx.y);
  float dw = 0.f, db = 0.f;
  for (int32_t r = chunk; r < a.layout.groups; r += chunks) {
    const int64_t f = int64_t{r} * m + k;
    const float d = a.dy[f];
    dw += d * ((a.x[f] - a.mean[r]) * a.rstd[r]);
    db += d;
  }
  scratch[int64_t{chunk} * m + k] = dw;
  scratch[int64_t{chunks + chunk} * m + k] = db;
}

// Adds `chunks` partial rows of `count` slots: out[k] = Σ_c partials[c][k] (dweight, then dbias).
__global__ void sumPartialRowsKernel(const float* partials, int32_t chunks, int32_t count,
                                     float* dweight, float* dbias) {
  const int32_t k = static_cast<int32_t>(blockIdx.x * blockDim.x + threadIdx.x);
  if (k >= count) return;
  float dw = 0.f, db = 0.f;
  for (int32_t c = 0; c < chunks; ++c) {
    dw += partials[int64_t{c} * count + k];
    db += partials[int64_t{chunks + c} * count + k];
  }
  if (dweight) dweight[k] = dw;
  if (dbias) dbias[k] = db;
}

// InstanceNorm/GroupNorm: a group holds whole channels, each a contiguous run of `inner` floats.
// Block (g, local channel cl) sums its channel's run; the partial of (n, c) lands at n*C + c, so
// dweight[c] is the sum over n of column c (sumPartialRowsKernel with N rows).
__global__ void channelPartialKernel(BackwardArgs a, float* scratch) {
  __shared__ float shm[64];
  const int32_t inner = a.affine.inner, count = a.affine.count;
  const int32_t per_group = a.layout.group_size / inner;
  const int32_t g = static_cast<int32_t>(blockIdx.x) / per_group;
  const int32_t cl = static_cast<int32_t>(blockIdx.x) % per_group;
  const int64_t base = int64_t{g} * a.layout.group_size + int64_t{cl} * inner;
  const float mean = a.mean[g], rstd = a.rstd[g];
  float dw = 0.f, db = 0.f;
  for (int32_t i = static_cast<int32_t>(threadIdx.x); i < inner; i += blockDim.x) {
    const float d = a.dy[base + i];
    dw += d * ((a.x[base + i] - mean) * rstd);
    db += d;
  }
  const float2 s = blockSum2(dw, db, shm);
  if (threadIdx.x == 0) {
    const int64_t slot = int64_t{blockIdx.x};  // g * per_group + cl = n * C + c
    const int64_t rows = int64_t{gridDim.x} / count;
    scratch[slot] = s.x;
    scratch[rows * count + slot] = s.y;
  }
}

// Per-element weights: 2 * chunks * count floats (chunks = min(64, groups)); channel weights:
// 2 * N * C, one partial per (sample, channel).
int64_t backwardRowsScratch(const BackwardArgs& a) {
  if (!a.dweight && !a.dbias) return 0;
  if (a.affine.per_element)
    return 2 * int64_t{std::min<int32_t>(64, a.layout.groups)} * a.affine.count;
  return 2 * int64_t{a.layout.groups} * (a.layout.group_size / a.affine.inner);
}

std::string launchBackwardRows(const BackwardArgs& a, float* scratch) {
  if (!a.layout.rows) return "backward rows: the groups are not contiguous rows";
  launchKernel("backwardRowsKernel", backwardRowsKernel, static_cast<unsigned>(a.layout.groups),
               kBackwardBlock, a);
  std::string error = lastError("backward rows");
  if (!error.empty() || (!a.dweight && !a.dbias)) return error;
  const int32_t count = a.affine.count;
  const unsigned slot_blocks = static_cast<unsigned>((count + kBackwardBlock - 1) / kBackwardBlock);
  int32_t chunks = 0;
  if (a.affine.per_element) {
    chunks = std::min<int32_t>(64, a.layout.groups);
    launchKernel("columnPartialKernel", columnPartialKernel,
                 dim3(slot_blocks, static_cast<unsigned>(chunks)), kBackwardBlock, a, chunks,
                 scratch);
    error = lastError("backward column partials");
  } else {
    const int32_t per_group = a.layout.group_size / a.affine.inner;
    const int64_t blocks = int64_t{a.layout.groups} * per_group;  // N * C
    chunks = static_cast<int32_t>(blocks / count);                // N
    launchKernel("channelPartialKernel", channelPartialKernel, static_cast<unsigned>(blocks),
                 kBackwardBlock, a, scratch);
    error = lastError("backward channel partials");
  }
  if (!error.empty()) return error;
  launchKernel("sumPartialRowsKernel", sumPartialRowsKernel, slot_blocks, kBackwardBlock, scratch,
               chunks, count, a.dweight, a.dbias);
  return lastError("backward affine sums");
}

// ---- channels (InstanceNorm, GroupNorm) ---------------------------------------------------------

// One block per (sample, channel) run of `inner` floats instead of one per group: N·C blocks keep
// the GPU busy where N·G blocks of whole groups do not, and the per-channel sums that dweight and
// dbias need are the same partials the group's two sums are made of, so x and dy are read once for
// both. channelPartialKernel (above) writes, per run n·C + c, Σ dy·x̂ and Σ dy; this kernel merges
// the C/G runs of its group in a fixed order (every block of the group forms identical sums), then
// writes dx for its own run.
__global__ void channelApplyKernel(BackwardArgs a, const float* partials) {
  __shared__ float s_sums[2];
  const int32_t inner = a.affine.inner, count = a.affine.count;
  const int32_t per_group = a.layout.group_size / inner;
  const int32_t g = static_cast<int32_t>(blockIdx.x) / per_group;
  const int32_t cl = static_cast<int32_t>(blockIdx.x) % per_group;
  const int64_t runs = int64_t{gridDim.x};
  const float mean = a.mean[g], rstd = a.rstd[g];
  if (threadIdx.x < 32) {
    // Lane l: runs l, l + 32, ... of the group, each scaled by its channel's weight; then the warp
    // tree. Σ g = Σ_c w_c·Σ dy and Σ g·x̂ = Σ_c w_c·Σ dy·x̂, as the channel's weight is one number.
    float s1 = 0.f, s2 = 0.f;
    for (int32_t k = static_cast<int32_t>(threadIdx.x); k < per_group; k += 32) {
      const int64_t run = int64_t{g} * per_group + k;
      const float w = a.weight ? a.weight[run % count] : 1.f;
      s1 += w * partials[runs + run];
      s2 += w * partials[run];
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
      s1 += __shfl_xor_sync(0xffffffffu, s1, offset);
      s2 += __shfl_xor_sync(0xffffffffu, s2, offset);
    }
    if (threadIdx.x == 0) {
      s_sums[0] = s1;
      s_sums[1] = s2;
      if (cl == 0) {
        a.sum_dy_w[g] = s1;
        a.sum_dy_w_xhat[g] = s2;
      }
    }
  }
  __syncthreads();
  const float2 c = couplingTerms(a, s_sums[0], s_sums[1]);
  const int64_t base = int64_t{g} * a.layout.group_size + int64_t{cl} * inner;
  const float w = a.weight ? a.weight[int64_t{blockIdx.x} % count] : 1.f;
  for (int32_t i = static_cast<int32_t>(threadIdx.x); i < inner; i += blockDim.x)
    a.dx[base + i] = dxOf(a.dy[base + i], a.x[base + i], w, mean, rstd, c);
}

bool backwardChannelsApplies(const BackwardArgs& a) {
  return a.layout.rows && !a.affine.per_element && a.affine.inner > 0 &&
         a.layout.group_size % a.affine.inner == 0;
}

int64_t backwardChannelsScratch(const BackwardArgs& a) {
  return 2 * int64_t{a.layout.groups} * (a.layout.group_size / a.affine.inner);
}

std::string launchBackwardChannels(const BackwardArgs& a, float* partials) {
  if (!backwardChannelsApplies(a)) return "backward channels: the groups are not whole channels";
  const int32_t per_group = a.layout.group_size / a.affine.inner;
  const int64_t runs = int64_t{a.layout.groups} * per_group;  // N * C
  if (runs > 0x7fffffff) return "backward channels: too many blocks for one launch";
  launchKernel("channelPartialKernel", channelPartialKernel, static_cast<unsigned>(runs),
               kBackwardBlock, a, partials);
  std::string error = lastError("backward channel partials");
  if (!error.empty()) return error;
  launchKernel("channelApplyKernel", channelApplyKernel, static_cast<unsigned>(runs),
               kBackwardBlock, a, static_cast<const float*>(partials));
  error = lastError("backward channels (apply)");
  if (!error.empty() || (!a.dweight && !a.dbias)) return error;
  // dweight[c] = Σ_n of run n·C + c's Σ dy·x̂, dbias[c] of its Σ dy: N rows of C partials.
  const int32_t count = a.affine.count;
  const unsigned slot_blocks = static_cast<unsigned>((count + kBackwardBlock - 1) / kBackwardBlock);
  launchKernel("sumPartialRowsKernel", sumPartialRowsKernel, slot_blocks, kBackwardBlock,
               static_cast<const float*>(partials), static_cast<int32_t>(runs / count), count,
               a.dweight, a.dbias);
  return lastError("backward affine sums");
}

// ---- split (BatchNorm) --------------------------------------------------------------------------

constexpr int32_t kBackwardChunk = 4096;

int64_t backwardSplitChunks(int64_t group_size) {
  return (group_size + kBackwardChunk - 1) / kBackwardChunk;
}

// Block b sums chunk b % chunks of group b / chunks: (Σ dy, Σ dy·(x - mean)).
__global__ void splitBackwardPartialKernel(BackwardArgs a, int32_t chunks, float* partials) {
  __shared__ float shm[64];
  const int32_t g = static_cast<int32_t>(blockIdx.x) / chunks;
  const int32_t c = static_cast<int32_t>(blockIdx.x) % chunks;
  const int64_t j0 = int64_t{c} * kBackwardChunk,
                j1 = min(int64_t{a.layout.group_size}, j0 + kBackwardChunk);
  const float mean = a.mean[g];
  float sd = 0.f, sdx = 0.f;
  for (int64_t j = j0 + threadIdx.x; j < j1; j += blockDim.x) {
    const int32_t f = elementFlat(a.layout, g, static_cast<int32_t>(j));
    const float d = a.dy[f];
    sd += d;
    sdx += d * (a.x[f] - mean);
  }
  const float2 s = blockSum2(sd, sdx, shm);
  if (threadIdx.x == 0) {
    partials[2 * int64_t{blockIdx.x}] = s.x;
    partials[2 * int64_t{blockIdx.x} + 1] = s.y;
  }
}

// Every block of a group merges the same partials in the same order (lane l: chunks l, l+32, ...,
// then the warp tree), so all of them use identical sums; the first chunk's block writes them.
__global__ void splitBackwardApplyKernel(BackwardArgs a, int32_t chunks, const float* partials) {
  __shared__ float s_sums[2];
  const int32_t g = static_cast<int32_t>(blockIdx.x) / chunks;
  const int32_t c = static_cast<int32_t>(blockIdx.x) % chunks;
  const float mean = a.mean[g], rstd = a.rstd[g];
  const float w = a.weight ? a.weight[g] : 1.f;  // BatchNorm: the weight slot is the group
  if (threadIdx.x < 32) {
    float sd = 0.f, sdx = 0.f;
    for (int32_t k = static_cast<int32_t>(threadIdx.x); k < chunks; k += 32) {
      const float* p = partials + 2 * (int64_t{g} * chunks + k);
      sd += p[0];
      sdx += p[1];
    }
    for (int offset = 16; offset > 0; offset >>= 1) {
      sd += __shfl_xor_sync(0xffffffffu, sd, offset);
      sdx += __shfl_xor_sync(0xffffffffu, sdx, offset);
    }
    if (threadIdx.x == 0) {
      const float sum_dy_xhat = sdx * rstd;
      s_sums[0] = w * sd;
      s_sums[1] = w * sum_dy_xhat;
      if (c == 0) {
        a.sum_dy_w[g] = s_sums[0];
        a.sum_dy_w_xhat[g] = s_sums[1];
        if (a.dweight) a.dweight[g] = sum_dy_xhat;
        if (a.dbias) a.dbias[g] = sd;
      }
    }
  }
  __syncthreads();
  const float2 terms = couplingTerms(a, s_sums[0], s_sums[1]);
  const int64_t j0 = int64_t{c} * kBackwardChunk,
                j1 = min(int64_t{a.layout.group_size}, j0 + kBackwardChunk);
  for (int64_t j = j0 + threadIdx.x; j < j1; j += blockDim.x) {
    const int32_t f = elementFlat(a.layout, g, static_cast<int32_t>(j));
    a.dx[f] = dxOf(a.dy[f], a.x[f], w, mean, rstd, terms);
  }
}

std::string launchBackwardSplit(const BackwardArgs& a, float* partials) {
  const int64_t chunks = backwardSplitChunks(a.layout.group_size);
  const int64_t blocks = chunks * a.layout.groups;
  if (blocks > 0x7fffffff) return "backward split: too many blocks for one launch";
  launchKernel("splitBackwardPartialKernel", splitBackwardPartialKernel,
               static_cast<unsigned>(blocks), kBackwardBlock, a, static_cast<int32_t>(chunks),
               partials);
  std::string error = lastError("backward split (partials)");
  if (!error.empty()) return error;
  launchKernel("splitBackwardApplyKernel", splitBackwardApplyKernel, static_cast<unsigned>(blocks),
               kBackwardBlock, a, static_cast<int32_t>(chunks), partials);
  return lastError("backward split (apply)");
}

}  // namespace NORMVIZ_KERNELS_NAMESPACE
}  // namespace normviz::gpu
