// Device helpers every forward kernel shares: element addressing, the affine step, writing a
// group's statistics (and BatchNorm's running update), and turning CUDA errors into words.
#pragma once

#include <string>

#include "cuda_api.hpp"
#include "launch.hpp"
#include "normviz/reduce_recipe.hpp"

namespace normviz::gpu {
inline namespace NORMVIZ_KERNELS_NAMESPACE {

// Flat index of element j of group g (see GroupAddress).
__device__ __forceinline__ int32_t elementFlat(const GroupAddress& l, int32_t g, int32_t j) {
  if (l.rows) return g * l.group_size + j;
  const int32_t r = j / l.run_length;
  return l.group_base[g] + l.run_offset[r] + (j - r * l.run_length);
}

// y of flat element f (j within its group): the recipe's normalizeOne with the weight/bias slot
// (f / inner) % count, or j within a LayerNorm row; absent weight/bias are 1 and 0.
__device__ __forceinline__ float normalizedOut(const KernelArgs& a, float x, float mean, float rstd,
                                               int32_t f, int32_t j) {
  float w = 1.f, b = 0.f;
  if (a.weight || a.bias) {
    const int32_t k = a.affine.per_element ? j : (f / a.affine.inner) % a.affine.count;
    if (a.weight) w = a.weight[k];
    if (a.bias) b = a.bias[k];
  }
  return normalizeOne(x, mean, rstd, w, b);
}

// Statistics of group g; BatchNorm training also folds them into the running statistics
// (PyTorch: running_var takes the unbiased variance var * M / (M - 1)).
__device__ __forceinline__ void writeGroupStats(const KernelArgs& a, int32_t g, float mean,
                                                float var, float rstd) {
  a.mean[g] = mean;
  a.var[g] = var;
  a.rstd[g] = rstd;
  if (a.running_mean) {
    const float m = static_cast<float>(a.layout.group_size);
    const float unbiased = a.layout.group_size > 1 ? var * (m / (m - 1.f)) : var;
    const float f = a.running_factor;
    a.running_mean[g] = (1.f - f) * a.running_mean[g] + f * mean;
    a.running_var[g] = (1.f - f) * a.running_var[g] + f * unbiased;
  }
}

// "cudaErrorNoDevice: no CUDA-capable device is detected"
inline std::string errorText(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

// The launch error, if any, named after the kernel; "" when the launch was accepted.
inline std::string lastError(const char* kernel) {
  const cudaError_t e = cudaGetLastError();
  if (e == cudaSuccess) return "";
  return std::string(kernel) + " launch failed: " + errorText(e);
}

}  // namespace NORMVIZ_KERNELS_NAMESPACE
}  // namespace normviz::gpu
