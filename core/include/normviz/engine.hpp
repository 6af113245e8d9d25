// Running a plan: the float64 reference and the float32 fast path, with selectable variance strategy.
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
};

struct NormResult {
  TensorD y;                   // input shape
  TensorD mean, var, rstd;     // plan.statShape(); var is biased (divide by M)
  // BatchNorm training: the updated running statistics (running_var uses the unbiased variance).
  std::optional<TensorD> running_mean, running_var;
  std::string backend;         // "cpu-fp32 (two-pass)", "cpu-fp64 reference", "gpu ..."
  double seconds = 0;          // compute time of this path alone (no allocation of the result)
};

// Checks weight/bias/running-stat shapes against the plan; throws NormError naming the mismatch.
void validateParams(const ReductionPlan& plan, const NormParams& params);

// Runs the plan on the CPU. Throws NormError on invalid params or input shape, before any work.
// NaN/Inf in x propagate as in PyTorch.
NormResult computeNorm(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                       const ComputeOptions& options = {});

}  // namespace normviz
