// Agreement with PyTorch: every case in tests/fixtures/torch/manifest.json, through the core API,
// in float64 and in float32 with each stable variance strategy, and through every GPU kernel
// design that runs the layer (on the emulated device, and on the GPU when one is usable).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "normviz/engine.hpp"
#include "normviz/gpu.hpp"
#include "normviz/npy.hpp"
#include "normviz/plan.hpp"

using nlohmann::json;
using namespace normviz;

namespace {

const std::string kTorchDir = std::string(NORMVIZ_TEST_DATA) + "/torch/";

json loadManifest() {
  std::ifstream in(kTorchDir + "manifest.json");
  REQUIRE_MESSAGE(in.good(), "missing " << kTorchDir << "manifest.json");
  return json::parse(in);
}

struct Tolerance {
  double atol = 0, rtol = 0;
};

// The worst |got - want| / (atol + rtol |want|) over all elements: <= 1 means within tolerance.
// NaN anywhere counts as a failure.
double worstRatio(const TensorD& got, const TensorD& want, Tolerance tol) {
  double worst = 0;
  for (int64_t i = 0; i < want.numel(); ++i) {
    const double err = std::fabs(got[i] - want[i]);
    const double ratio = err / (tol.atol + tol.rtol * std::fabs(want[i]));
    if (!(ratio <= worst)) worst = std::isnan(ratio) ? INFINITY : ratio;
  }
  return worst;
}

void checkClose(const std::string& what, const TensorD& got, const TensorD& want, Tolerance tol) {
  CAPTURE(what);
  REQUIRE(got.shape == want.shape);
  REQUIRE(got.numel() == want.numel());
  const double worst = worstRatio(got, want, tol);
  CAPTURE(worst);
  CHECK(worst <= 1.0);
}

struct Case {
  json spec;
  std::string dir;
  NormConfig config;
  Tensor x;
  NormParams params;

  bool has(const char* file) const { return spec["files"].contains(file); }
  std::string path(const char* file) const { return dir + spec["files"][file].get<std::string>(); }
  TensorD expected(const char* file) const { return readNpy(path(file)); }
};

Case loadCase(const json& spec) {
  Case c;
  c.spec = spec;
  c.dir = kTorchDir + spec["name"].get<std::string>() + "/";
  NormConfig& cfg = c.config;
  cfg.kind = parseNormKind(spec["norm"].get<std::string>());
  cfg.eps = spec["eps"].get<double>();
  if (spec.contains("groups")) cfg.groups = spec["groups"].get<int64_t>();
  if (spec.contains("normalized_shape"))
    cfg.normalized_shape = spec["normalized_shape"].get<std::vector<int64_t>>();
  if (spec.contains("axes")) cfg.axes = spec["axes"].get<std::vector<int>>();
  if (spec.contains("momentum")) {
    cfg.momentum = spec["momentum"].is_null()
                       ? std::nullopt
                       : std::optional<double>(spec["momentum"].get<double>());
  }
  if (spec.contains("training")) cfg.training = spec["training"].get<bool>();
  if (spec.contains("num_batches_tracked"))
    cfg.num_batches_tracked = spec["num_batches_tracked"].get<int64_t>();

  c.x = readNpyF32(c.path("x"));
  if (c.has("weight")) c.params.weight = readNpyF32(c.path("weight"));
  if (c.has("bias")) c.params.bias = readNpyF32(c.path("bias"));
  if (c.has("running_mean_in")) c.params.running_mean = readNpyF32(c.path("running_mean_in"));
  if (c.has("running_var_in")) c.params.running_var = readNpyF32(c.path("running_var_in"));
  return c;
}

void checkResult(const Case& c, const NormResult& r, Tolerance tol) {
  checkClose("y", r.y, c.expected("y"), tol);
  checkClose("mean", r.mean, c.expected("mean"), tol);
  checkClose("var", r.var, c.expected("var"), tol);
  checkClose("rstd", r.rstd, c.expected("rstd"), tol);
  // Running statistics come back exactly when PyTorch updates them: BatchNorm in training.
  REQUIRE(r.running_mean.has_value() == c.has("running_mean"));
  REQUIRE(r.running_var.has_value() == c.has("running_var"));
  if (c.has("running_mean")) {
    checkClose("running_mean", *r.running_mean, c.expected("running_mean"), tol);
    checkClose("running_var", *r.running_var, c.expected("running_var"), tol);
  }
}

Tolerance toleranceOf(const json& spec, const char* precision) {
  const json& t = spec["tolerance"][precision];
  return {t["atol"].get<double>(), t["rtol"].get<double>()};
}

}  // namespace

TEST_CASE("the PyTorch manifest covers every layer kind and both BatchNorm modes") {
  const json manifest = loadManifest();
  std::set<std::string> kinds;
  bool train = false, eval = false, cumulative = false;
  for (const json& spec : manifest["cases"]) {
    kinds.insert(spec["norm"].get<std::string>());
    if (spec["norm"] == "batch") {
      (spec["training"].get<bool>() ? train : eval) = true;
      cumulative = cumulative || spec["momentum"].is_null();
    }
  }
  CHECK(manifest["cases"].size() >= 26);
  CHECK(kinds ==
        std::set<std::string>{"batch", "layer", "instance", "group", "layer2d", "rms", "custom"});
  CHECK(train);
  CHECK(eval);
  CHECK(cumulative);
}

TEST_CASE("every PyTorch case: float64 reference and float32 fast path agree with torch") {
  const json manifest = loadManifest();
  for (const json& spec : manifest["cases"]) {
    const std::string name = spec["name"].get<std::string>();
    CAPTURE(name);
    const Case c = loadCase(spec);
    REQUIRE(c.x.shape.dims == spec["shape"].get<std::vector<int64_t>>());
    const ReductionPlan plan = ReductionPlan::make(c.x.shape, c.config);
    CHECK(plan.statShape() == c.expected("mean").shape);

    {
      const std::string strategy = "fp64 reference";
      CAPTURE(strategy);
      ComputeOptions options;
      options.precision = Precision::Fp64;
      checkResult(c, computeNorm(c.x, plan, c.params, options), toleranceOf(spec, "fp64"));
    }
    // Naive E[x^2] - E[x]^2 is left out on purpose: it is the strategy that is allowed to be wrong.
    for (VarianceStrategy s :
         {VarianceStrategy::TwoPass, VarianceStrategy::Welford, VarianceStrategy::Pairwise}) {
      const std::string strategy = varianceName(s);
      CAPTURE(strategy);
      ComputeOptions options;
      options.precision = Precision::Fp32;
      options.variance = s;
      checkResult(c, computeNorm(c.x, plan, c.params, options), toleranceOf(spec, "fp32"));
    }
  }
}

TEST_CASE("every PyTorch case: every GPU kernel design agrees with torch") {
  const json manifest = loadManifest();
  std::vector<GpuDeviceKind> kinds = {GpuDeviceKind::Emulated};
  if (gpuDevice(GpuDeviceKind::Cuda).usable) kinds.push_back(GpuDeviceKind::Cuda);
  for (GpuDeviceKind kind : kinds) {
    for (const json& spec : manifest["cases"]) {
      const std::string name = spec["name"].get<std::string>();
      CAPTURE(name);
      CAPTURE(gpuDeviceKindName(kind));
      const Case c = loadCase(spec);
      const ReductionPlan plan = ReductionPlan::make(c.x.shape, c.config);
      for (GpuVariant v : gpuVariantsFor(plan)) {
        CAPTURE(gpuVariantName(v));
        GpuOptions o;
        o.variant = v;
        o.device = kind;
        o.warmup = 0;
        o.repeats = 1;
        checkResult(c, gpuCompute(c.x, plan, c.params, o).result, toleranceOf(spec, "fp32"));
      }
    }
  }
}
