// Running a plan: the float64 reference and the float32 fast path, with selectable variance
// strategy.
#pragma once

#include <optional>
#include <string>

#include "normviz/plan.hpp"
#include "normviz/stats.hpp"
#include "normviz/tensor.hpp"

namespace normviz {

enum class Precision { Fp32, Fp64 };
const char* precisionName(Precision p);  // "fp32", "fp64"
Precision parsePrecision(std::string_view name);

// Learned and tracked parameters. Absent weight/bias mean 1 and 0 (affine off).
// running_mean/running_var: BatchNorm's tracked statistics; absent means PyTorch's initial 0 and 1.
struct NormParams {
  std::optional<Tensor> weight, bias;
  std::optional<Tensor> running_mean, running_var;
};

struct ComputeOptions {
  Precision precision = Precision::Fp32;
  VarianceStrategy variance = VarianceStrategy::TwoPass;  // fast path only; fp64 is always two-pass
  int threads = 0;  // worker threads from the engine's pool; 0 = every core
};

struct NormResult {
  TensorD y;                // input shape
  TensorD mean, var, rstd;  // plan.statShape(); var is biased (divide by M)
  // BatchNorm training: the updated running statistics (running_var uses the unbiased variance).
  std::optional<TensorD> running_mean, running_var;
  std::string backend;  // "cpu-fp32 (two-pass)", "cpu-fp64 reference", "gpu ..."
  double seconds = 0;   // compute time of this path alone (no allocation of the result)
};

// The fast path's own result: float32 throughout, as computed (no widening per call).
struct NormResultF32 {
  Tensor y;
  Tensor mean, var, rstd;
  std::optional<TensorD> running_mean, running_var;
  std::string backend;  // "cpu-fp32 (two-pass)"
  double seconds = 0;   // compute time alone (the result is allocated before the clock starts)
};

// Checks weight/bias/running-stat shapes against the plan; throws NormError naming the mismatch.
void validateParams(const ReductionPlan& plan, const NormParams& params);

// Runs the plan on the CPU. Throws NormError on invalid params or input shape, before any work.
// NaN/Inf in x propagate as in PyTorch.
NormResult computeNorm(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                       const ComputeOptions& options = {});

// The float32 fast path with float32 outputs (options.precision is ignored). computeNorm's fp32
// path is this result widened to float64.
NormResultF32 computeNormF32(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                             const ComputeOptions& options = {});

// A float32 result widened exactly to float64 (what computeNorm's fp32 path returns).
NormResult widen(const NormResultF32& f);

// The same two paths into `out`, reusing its buffers where they already have the right shape:
// repeated calls (a benchmark's repeats, an app's recomputes) then touch no fresh memory, as a
// layer writing into its preallocated output does. Anything else in `out` is replaced.
void computeNormInto(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                     const ComputeOptions& options, NormResult& out);
void computeNormF32Into(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                        const ComputeOptions& options, NormResultF32& out);

// Threads the engine uses for a request of `threads` (0 = every core); throws NormError below 0.
int engineThreads(int threads);
// The SIMD target picked at run time for this CPU: "AVX3", "AVX2", "SSE4", "NEON", ...
const char* engineSimdTarget();

// Bytes a float32 forward pass must move at least: read x, write y and the statistics (BatchNorm
// training also reads and writes its running statistics). Effective GB/s = this / time.
double normTrafficBytes(const ReductionPlan& plan);

// dst = src with `threads` threads of the engine's pool: the bandwidth a normalization can reach.
// A copy as large as the outputs a normalization streams is stored the same way (non-temporal
// stores, each page's translation made ahead); give dst on a cache line, as tensors are.
void copyFloats(const float* src, float* dst, int64_t n, int threads = 0);
// The two bounds a float32 backward is measured against beside the copy (`normviz bench`), with
// `threads` threads as copyFloats: reading a and b once (a backward must read x and dy; returns
// Σ a + Σ b, in chunk order), and out = ka·a + kb·b + kc written as a large dx is (what a backward
// would cost if its two sums per group were free: x and dy read once, dx written once).
double readFloatPair(const float* a, const float* b, int64_t n, int threads = 0);
void combineFloatPair(const float* a, const float* b, float* out, int64_t n, float ka, float kb,
                      float kc, int threads = 0);
// This machine's copy bandwidth in GB/s (bytes read + written per second; median of a few copies of
// 64 MiB, larger than the caches) with `threads` threads. Takes about a quarter of a second.
double measureCopyBandwidthGbs(int threads = 0);

}  // namespace normviz
