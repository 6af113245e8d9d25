// Running a ReductionPlan on the CPU: the float64 reference and the float32 fast path.
#include "normviz/engine.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>
#include <type_traits>

#include "normviz/error.hpp"

namespace normviz {

const char* precisionName(Precision p) {
  return p == Precision::Fp32 ? "fp32" : "fp64";
}

Precision parsePrecision(std::string_view name) {
  if (name == "fp32") return Precision::Fp32;
  if (name == "fp64") return Precision::Fp64;
  throw NormError("unknown precision '" + std::string(name) + "'; expected fp32 or fp64");
}

static void checkShape(const char* what, const std::optional<Tensor>& t, const Shape& expected,
                       const char* why) {
  if (t && !(t->shape == expected))
    throw NormError(std::string(what) + " has shape " + t->shape.str() + " but " + why +
                    " needs shape " + expected.str());
  if (t && t->numel() != expected.numel())
    throw NormError(std::string(what) + " holds " + std::to_string(t->numel()) +
                    " values but its shape " + expected.str() + " needs " +
                    std::to_string(expected.numel()));
}

void validateParams(const ReductionPlan& plan, const NormParams& params) {
  std::string layer = plan.pytorchLine();
  checkShape("weight", params.weight, plan.affineShape(), layer.c_str());
  checkShape("bias", params.bias, plan.affineShape(), layer.c_str());
  const bool batch = plan.kind() == NormKind::Batch;
  if (!batch && (params.running_mean || params.running_var))
    throw NormError("running statistics only apply to BatchNorm");
  if (batch) {
    checkShape("running_mean", params.running_mean, plan.statShape(), layer.c_str());
    checkShape("running_var", params.running_var, plan.statShape(), layer.c_str());
  }
}

namespace {

// The affine index of an element is (flat / inner) % count: `inner` is the size of the dims after
// the last affine axis (1 for LayerNorm's trailing shape, H*W for a channel axis).
struct AffineMap {
  int64_t inner = 1, count = 1;
  explicit AffineMap(const ReductionPlan& plan) {
    const auto& axes = plan.affineAxes();
    count = plan.affineShape().numel();
    for (int a = axes.back() + 1; a < plan.shape().rank(); ++a) inner *= plan.shape()[a];
  }
};

// One precision's pass over every group. T is float (fast path) or double (reference).
template <typename T>
void runGroups(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
               VarianceStrategy strategy, int64_t first_group, int64_t last_group,
               std::vector<T>& y, std::vector<T>& mean, std::vector<T>& var, std::vector<T>& rstd) {
  const NormConfig& cfg = plan.config();
  const bool use_running = plan.kind() == NormKind::Batch && !cfg.training;
  const T eps = static_cast<T>(cfg.eps);
  const int64_t m = plan.groupSize();
  const AffineMap affine(plan);
  const float* w = params.weight ? params.weight->data.data() : nullptr;
  const float* b = params.bias ? params.bias->data.data() : nullptr;
  std::vector<float> gathered, scratch;
  const bool contiguous = plan.runLength() == m;
  if (!contiguous) gathered.resize(static_cast<size_t>(m));

  for (int64_t g = first_group; g < last_group; ++g) {
    T mu, v;
    if (use_running) {
      mu = params.running_mean ? static_cast<T>(params.running_mean->data[g]) : T(0);
      v = params.running_var ? static_cast<T>(params.running_var->data[g]) : T(1);
    } else {
      const float* values = x.data.data() + plan.groupBase(g);
      if (!contiguous) {
        float* out = gathered.data();
        plan.forEachRun(g, [&](int64_t offset, int64_t length) {
          std::copy_n(x.data.data() + offset, length, out);
          out += length;
        });
        values = gathered.data();
      }
      if constexpr (std::is_same_v<T, float>) {
        auto s = groupStatsF32(values, m, strategy, plan.subtractsMean(), scratch);
        mu = s.mean;
        v = s.var;
      } else {
        auto s = groupStatsF64(values, m, plan.subtractsMean());
        mu = s.mean;
        v = s.var;
      }
    }
    const T r = T(1) / std::sqrt(v + eps);
    mean[g] = mu;
    var[g] = v;
    rstd[g] = r;

    plan.forEachRun(g, [&](int64_t offset, int64_t length) {
      int64_t flat = offset;
      const int64_t end = offset + length;
      while (flat < end) {
        // Within one chunk the affine index is either constant (inner > 1) or steps by one.
        const int64_t q = flat / affine.inner;
        const int64_t chunk_end = affine.inner > 1 ? std::min(end, (q + 1) * affine.inner) : end;
        int64_t k = q % affine.count;
        for (; flat < chunk_end; ++flat) {
          T out = (static_cast<T>(x.data[flat]) - mu) * r;
          if (w) out = out * static_cast<T>(w[k]);
          if (b) out = out + static_cast<T>(b[k]);
          y[flat] = out;
          if (affine.inner == 1 && ++k == affine.count) k = 0;
        }
      }
    });
  }
}

// Splits the groups across hardware threads (groups write disjoint outputs). Small tensors stay on
// the calling thread: starting threads costs more than normalizing a few thousand values.
template <typename T>
void runAllGroups(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                  VarianceStrategy strategy, std::vector<T>& y, std::vector<T>& mean,
                  std::vector<T>& var, std::vector<T>& rstd) {
  const int64_t groups = plan.groupCount();
  const int64_t by_size = x.numel() / (int64_t{1} << 16) + 1;
  const int64_t threads = std::min<int64_t>(
      {static_cast<int64_t>(std::max(1u, std::thread::hardware_concurrency())), groups, by_size});
  if (threads <= 1) {
    runGroups<T>(x, plan, params, strategy, 0, groups, y, mean, var, rstd);
    return;
  }
  std::vector<std::thread> pool;
  for (int64_t t = 0; t < threads; ++t) {
    const int64_t first = groups * t / threads, last = groups * (t + 1) / threads;
    pool.emplace_back([&, first, last] {
      runGroups<T>(x, plan, params, strategy, first, last, y, mean, var, rstd);
    });
  }
  for (auto& th : pool) th.join();
}

// PyTorch's running-statistics update: momentum blend with the unbiased batch variance.
void updateRunning(const ReductionPlan& plan, const NormParams& params, NormResult& r) {
  const NormConfig& cfg = plan.config();
  const double m = static_cast<double>(plan.groupSize());
  const double factor =
      cfg.momentum ? *cfg.momentum : 1.0 / static_cast<double>(cfg.num_batches_tracked + 1);
  TensorD rm(plan.statShape(), 0.0), rv(plan.statShape(), 1.0);
  for (int64_t c = 0; c < plan.groupCount(); ++c) {
    double old_mean = params.running_mean ? params.running_mean->data[c] : 0.0;
    double old_var = params.running_var ? params.running_var->data[c] : 1.0;
    rm[c] = (1 - factor) * old_mean + factor * r.mean[c];
    rv[c] = (1 - factor) * old_var + factor * r.var[c] * m / (m - 1);
  }
  r.running_mean = std::move(rm);
  r.running_var = std::move(rv);
}

}  // namespace

NormResult computeNorm(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                       const ComputeOptions& options) {
  if (!(x.shape == plan.shape()) || x.numel() != plan.shape().numel())
    throw NormError("input has shape " + x.shape.str() + " but the plan was made for " +
                    plan.shape().str());
  validateParams(plan, params);

  NormResult r;
  const int64_t n = x.numel(), groups = plan.groupCount();
  auto start = std::chrono::steady_clock::now();
  if (options.precision == Precision::Fp64) {
    r.y = TensorD(x.shape);
    r.mean = TensorD(plan.statShape());
    r.var = TensorD(plan.statShape());
    r.rstd = TensorD(plan.statShape());
    start = std::chrono::steady_clock::now();
    runAllGroups<double>(x, plan, params, VarianceStrategy::TwoPass, r.y.data, r.mean.data,
                         r.var.data, r.rstd.data);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.backend = "cpu-fp64 reference";
  } else {
    std::vector<float> y(static_cast<size_t>(n)), mean(groups), var(groups), rstd(groups);
    start = std::chrono::steady_clock::now();
    runAllGroups<float>(x, plan, params, options.variance, y, mean, var, rstd);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.y = TensorD(x.shape, std::vector<double>(y.begin(), y.end()));
    r.mean = TensorD(plan.statShape(), std::vector<double>(mean.begin(), mean.end()));
    r.var = TensorD(plan.statShape(), std::vector<double>(var.begin(), var.end()));
    r.rstd = TensorD(plan.statShape(), std::vector<double>(rstd.begin(), rstd.end()));
    r.backend = std::string("cpu-fp32 (") + varianceName(options.variance) + ")";
  }
  if (plan.kind() == NormKind::Batch && plan.config().training) updateRunning(plan, params, r);
  return r;
}

}  // namespace normviz
