// The backward pass: PyTorch autograd fixtures, finite differences of the float64 forward,
// equalities between layers, BatchNorm evaluation's elementwise dx, the float32 fast path.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>

#include "normviz/backward.hpp"
#include "normviz/error.hpp"
#include "normviz/npy.hpp"
#include "test_util.hpp"

using nlohmann::json;
using namespace normviz;

namespace {

using test::scaledError;

const std::string kTorchDir = std::string(NORMVIZ_TEST_DATA) + "/torch/";

NormConfig cfg(NormKind kind) {
  NormConfig c;
  c.kind = kind;
  return c;
}

ComputeOptions fp64() {
  ComputeOptions o;
  o.precision = Precision::Fp64;
  return o;
}

// Forward then backward through the public API, both in the options' precision.
BackwardResult backward(const Tensor& x, const Tensor& dy, const NormConfig& c,
                        const NormParams& p = {}, ComputeOptions o = {}) {
  const ReductionPlan plan = ReductionPlan::make(x.shape, c);
  return computeNormBackward(x, dy, plan, p, computeNorm(x, plan, p, o), o);
}

// Values k/64 for integer k in [-256, 256] (weights: in [0.5, 1.5]): x ± 2^-12 is exact in
// float32, so a central difference perturbs exactly the value it divides by.
Tensor dyadic(const Shape& s, uint64_t seed, double lo = -4, double hi = 4) {
  Tensor t(s);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> k(static_cast<int>(lo * 64), static_cast<int>(hi * 64));
  for (float& v : t.data) v = static_cast<float>(k(rng)) / 64.0f;
  return t;
}

// Σ dy·y of the float64 forward: its gradient is (dx, dweight, dbias).
double loss(const Tensor& x, const ReductionPlan& plan, const NormParams& p, const Tensor& dy) {
  const NormResult r = computeNorm(x, plan, p, fp64());
  double l = 0;
  for (int64_t i = 0; i < x.numel(); ++i) l += static_cast<double>(dy[i]) * r.y[i];
  return l;
}

// Central differences of `loss` in every element of `t` (x, weight or bias, changed in place).
std::vector<double> numericGradient(Tensor& t, const std::function<double()>& f) {
  const float h = 1.0f / 4096.0f;
  std::vector<double> grad(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float keep = t[i];
    t[i] = keep + h;
    const double up = f();
    t[i] = keep - h;
    const double down = f();
    t[i] = keep;
    grad[static_cast<size_t>(i)] = (up - down) / (2.0 * static_cast<double>(h));
  }
  return grad;
}

struct FdCase {
  const char* name;
  Shape shape;
  NormConfig config;
  bool running = false;  // BatchNorm evaluation: pass running statistics
};

std::vector<FdCase> fdCases() {
  NormConfig bn_eval = cfg(NormKind::Batch);
  bn_eval.training = false;
  NormConfig layer_all = cfg(NormKind::Layer);
  layer_all.normalized_shape = {4, 2, 2};
  NormConfig layer_last = cfg(NormKind::Layer);
  NormConfig group = cfg(NormKind::Group);
  group.groups = 2;
  NormConfig rms = cfg(NormKind::RMS);
  rms.normalized_shape = {2, 2};
  NormConfig custom = cfg(NormKind::Custom);
  custom.axes = {0, 2};
  return {{"BatchNorm training", {3, 4, 2, 2}, cfg(NormKind::Batch)},
          {"BatchNorm training (N, C)", {5, 3}, cfg(NormKind::Batch)},
          {"BatchNorm evaluation", {3, 4, 2, 2}, bn_eval, true},
          {"LayerNorm [4, 2, 2]", {3, 4, 2, 2}, layer_all},
          {"LayerNorm last dim", {2, 3, 5}, layer_last},
          {"InstanceNorm", {2, 3, 2, 3}, cfg(NormKind::Instance)},
          {"GroupNorm G=2", {2, 4, 2, 2}, group},
          {"channels-last LayerNorm", {2, 3, 2, 2}, cfg(NormKind::Layer2d)},
          {"RMSNorm [2, 2]", {2, 3, 2, 2}, rms},
          {"custom axes 0, 2", {3, 4, 2, 3}, custom}};
}

}  // namespace

TEST_CASE("every PyTorch case: dx, dweight and dbias agree with autograd in float64 and float32") {
  std::ifstream in(kTorchDir + "manifest.json");
  REQUIRE(in.good());
  const json manifest = json::parse(in);
  std::set<std::string> kinds_affine, kinds_plain;
  for (const json& spec : manifest["cases"]) {
    const std::string name = spec["name"].get<std::string>();
    CAPTURE(name);
    const std::string dir = kTorchDir + name + "/";
    const json& files = spec["files"];
    REQUIRE(files.contains("dx"));
    auto file = [&](const char* key) { return dir + files[key].get<std::string>(); };

    NormConfig c = cfg(parseNormKind(spec["norm"].get<std::string>()));
    c.eps = spec["eps"].get<double>();
    if (spec.contains("groups")) c.groups = spec["groups"].get<int64_t>();
    if (spec.contains("normalized_shape"))
      c.normalized_shape = spec["normalized_shape"].get<std::vector<int64_t>>();
    if (spec.contains("axes")) c.axes = spec["axes"].get<std::vector<int>>();
    if (spec.contains("training")) c.training = spec["training"].get<bool>();
    const Tensor x = readNpyF32(file("x")), dy = readNpyF32(file("dy"));
    NormParams p;
    if (files.contains("weight")) p.weight = readNpyF32(file("weight"));
    if (files.contains("bias")) p.bias = readNpyF32(file("bias"));
    if (files.contains("running_mean_in")) p.running_mean = readNpyF32(file("running_mean_in"));
    if (files.contains("running_var_in")) p.running_var = readNpyF32(file("running_var_in"));
    (p.weight ? kinds_affine : kinds_plain).insert(spec["norm"].get<std::string>());

    for (const char* precision : {"backward_fp64", "backward_fp32"}) {
      CAPTURE(precision);
      const json& tol = spec["tolerance"][precision];
      const double atol = tol["atol"].get<double>(), rtol = tol["rtol"].get<double>();
      ComputeOptions o;
      o.precision = std::string(precision) == "backward_fp64" ? Precision::Fp64 : Precision::Fp32;
      const BackwardResult r = backward(x, dy, c, p, o);
      auto check = [&](const char* what, const TensorD& got) {
        CAPTURE(what);
        const TensorD want = readNpy(file(what));
        REQUIRE(got.shape == want.shape);
        for (int64_t i = 0; i < want.numel(); ++i) {
          CAPTURE(i);
          CHECK(std::fabs(got[i] - want[i]) <= atol + rtol * std::fabs(want[i]));
        }
      };
      check("dx", r.dx);
      REQUIRE(r.dweight.has_value() == files.contains("dweight"));
      REQUIRE(r.dbias.has_value() == files.contains("dbias"));
      if (r.dweight) check("dweight", *r.dweight);
      if (r.dbias) check("dbias", *r.dbias);
    }
  }
  const std::set<std::string> all{"batch",   "layer", "instance", "group",
                                  "layer2d", "rms",   "custom"};
  CHECK(kinds_affine == all);
  CHECK(kinds_plain == all);
}

TEST_CASE("float64 backward equals central differences of the float64 forward") {
  for (const FdCase& fc : fdCases()) {
    CAPTURE(fc.name);
    Tensor x = dyadic(fc.shape, 11);
    const Tensor dy = test::randomTensor(fc.shape, 12);
    const ReductionPlan plan = ReductionPlan::make(fc.shape, fc.config);
    NormParams p;
    p.weight = dyadic(plan.affineShape(), 13, 0.5, 1.5);
    p.bias = dyadic(plan.affineShape(), 14, -1, 1);
    if (fc.running) {
      p.running_mean = dyadic(plan.statShape(), 15, -0.5, 0.5);
      p.running_var = dyadic(plan.statShape(), 16, 0.5, 2);
    }
    const BackwardResult r =
        computeNormBackward(x, dy, plan, p, computeNorm(x, plan, p, fp64()), fp64());
    CHECK(r.group_coupled == !fc.running);
    const double tol = 1e-6;
    CHECK(scaledError(r.dx.data, numericGradient(x, [&] { return loss(x, plan, p, dy); })) <= tol);
    CHECK(scaledError(r.dweight->data,
                      numericGradient(*p.weight, [&] { return loss(x, plan, p, dy); })) <= tol);
    CHECK(scaledError(r.dbias->data,
                      numericGradient(*p.bias, [&] { return loss(x, plan, p, dy); })) <= tol);
  }
}

TEST_CASE("the per-group sums are Σ dy·w and Σ dy·w·x̂ over each group") {
  const Tensor x = test::randomTensor({2, 6, 3, 2}, 21), dy = test::randomTensor({2, 6, 3, 2}, 22);
  NormConfig c = cfg(NormKind::Group);
  c.groups = 3;
  const ReductionPlan plan = ReductionPlan::make(x.shape, c);
  NormParams p;
  p.weight = test::randomTensor({6}, 23, 1.0f, 0.5f);
  const NormResult f = computeNorm(x, plan, p, fp64());
  const BackwardResult r = computeNormBackward(x, dy, plan, p, f, fp64());
  REQUIRE(r.sum_dy_w.shape == plan.statShape());
  REQUIRE(r.sum_dy_w_xhat.shape == plan.statShape());
  for (int64_t g = 0; g < plan.groupCount(); ++g) {
    double s1 = 0, s2 = 0;
    for (int64_t flat : plan.elementsOf(g)) {
      const double gw = double{dy[flat]} * p.weight->data[plan.affineIndexOf(flat)];
      s1 += gw;
      s2 += gw * (x[flat] - f.mean[g]) * f.rstd[g];
    }
    CHECK(r.sum_dy_w[g] == doctest::Approx(s1).epsilon(1e-12));
    CHECK(r.sum_dy_w_xhat[g] == doctest::Approx(s2).epsilon(1e-12));
  }
}

TEST_CASE("GroupNorm with G = C equals InstanceNorm: dx, dweight, dbias") {
  const Shape s{3, 4, 3, 5};
  const Tensor x = test::randomTensor(s, 31), dy = test::randomTensor(s, 32);
  NormParams p;
  p.weight = test::randomTensor({4}, 33, 1.0f, 0.5f);
  p.bias = test::randomTensor({4}, 34);
  NormConfig group = cfg(NormKind::Group);
  group.groups = 4;
  for (ComputeOptions o : {fp64(), ComputeOptions{}}) {
    CAPTURE(precisionName(o.precision));
    const BackwardResult a = backward(x, dy, group, p, o);
    const BackwardResult b = backward(x, dy, cfg(NormKind::Instance), p, o);
    const double tol = o.precision == Precision::Fp64 ? 1e-12 : 1e-6;
    CHECK(scaledError(a.dx.data, b.dx.data) <= tol);
    CHECK(scaledError(a.dweight->data, b.dweight->data) <= tol);
    CHECK(scaledError(a.dbias->data, b.dbias->data) <= tol);
  }
}

TEST_CASE("GroupNorm with G = 1 equals LayerNorm over [C, H, W]: dx, dweight, dbias") {
  const int64_t N = 3, C = 4, H = 3, W = 2;
  const Shape s{N, C, H, W};
  const Tensor x = test::randomTensor(s, 41), dy = test::randomTensor(s, 42);
  NormParams gp;
  gp.weight = test::randomTensor({C}, 43, 1.0f, 0.5f);
  gp.bias = test::randomTensor({C}, 44);
  // LayerNorm's per-element weight holding the channel's value at every (h, w).
  NormParams lp;
  lp.weight = Tensor(Shape{C, H, W});
  lp.bias = Tensor(Shape{C, H, W});
  for (int64_t i = 0; i < C * H * W; ++i) {
    lp.weight->data[i] = gp.weight->data[i / (H * W)];
    lp.bias->data[i] = gp.bias->data[i / (H * W)];
  }
  NormConfig group = cfg(NormKind::Group);
  group.groups = 1;
  NormConfig layer = cfg(NormKind::Layer);
  layer.normalized_shape = {C, H, W};
  for (ComputeOptions o : {fp64(), ComputeOptions{}}) {
    CAPTURE(precisionName(o.precision));
    const BackwardResult a = backward(x, dy, group, gp, o);
    const BackwardResult b = backward(x, dy, layer, lp, o);
    const double tol = o.precision == Precision::Fp64 ? 1e-12 : 1e-6;
    CHECK(scaledError(a.dx.data, b.dx.data) <= tol);
    CHECK(scaledError(a.sum_dy_w.data, b.sum_dy_w.data) <= tol);
    CHECK(scaledError(a.sum_dy_w_xhat.data, b.sum_dy_w_xhat.data) <= tol);
    // GroupNorm's dweight[c] sums what LayerNorm keeps apart per (h, w).
    std::vector<double> dw(C, 0.0), db(C, 0.0);
    for (int64_t i = 0; i < C * H * W; ++i) {
      dw[static_cast<size_t>(i / (H * W))] += b.dweight->data[i];
      db[static_cast<size_t>(i / (H * W))] += b.dbias->data[i];
    }
    CHECK(scaledError(a.dweight->data, dw) <= tol);
    CHECK(scaledError(a.dbias->data, db) <= tol);
  }
}

TEST_CASE("BatchNorm evaluation: dx = dy·weight·rstd elementwise; training couples the batch") {
  const Shape s{3, 4, 2, 2};
  const Tensor x = test::randomTensor(s, 51);
  Tensor dy = test::randomTensor(s, 52);
  NormParams p;
  p.weight = test::randomTensor({4}, 53, 1.0f, 0.5f);
  p.running_mean = test::randomTensor({4}, 54);
  p.running_var = test::randomTensor({4}, 55, 2.0f, 0.5f);
  NormConfig eval = cfg(NormKind::Batch);
  eval.training = false;
  const BackwardResult r = backward(x, dy, eval, p, fp64());
  CHECK_FALSE(r.group_coupled);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t c = (i / 4) % 4;
    const double rstd = 1.0 / std::sqrt(double{p.running_var->data[c]} + 1e-5);
    CHECK(r.dx[i] == doctest::Approx(double{dy[i]} * p.weight->data[c] * rstd).epsilon(1e-14));
  }
  // Changing one element's dy moves only that element's dx in evaluation, and the whole
  // channel's dx in training.
  const BackwardResult train_before = backward(x, dy, cfg(NormKind::Batch), p, fp64());
  dy[5] += 1.0f;
  const BackwardResult eval_after = backward(x, dy, eval, p, fp64());
  const BackwardResult train_after = backward(x, dy, cfg(NormKind::Batch), p, fp64());
  int eval_changed = 0, train_changed = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    eval_changed += eval_after.dx[i] != r.dx[i];
    train_changed += train_after.dx[i] != train_before.dx[i];
  }
  CHECK(eval_changed == 1);
  CHECK(train_changed == 12);  // channel 1: 3 samples x 2 x 2
}

TEST_CASE("the float64 backward into a result reuses its buffers and replaces every field") {
  const Shape s{3, 4, 2, 2};
  const Tensor x = test::randomTensor(s, 61);
  const Tensor dy = test::randomTensor(s, 62);
  NormParams p;
  p.weight = test::randomTensor({4}, 63, 1.0f, 0.5f);
  p.bias = test::randomTensor({4}, 64);
  const ReductionPlan batch = ReductionPlan::make(s, cfg(NormKind::Batch));
  NormConfig two_groups = cfg(NormKind::Group);
  two_groups.groups = 2;
  const ReductionPlan group = ReductionPlan::make(s, two_groups);
  const NormResult fb = computeNorm(x, batch, p, fp64());
  const NormResult fg = computeNorm(x, group, {}, fp64());
  BackwardResult out;
  computeNormBackwardInto(x, dy, batch, p, fb, fp64(), out);
  const double* kept = out.dx.data.data();
  CHECK(out.dweight.has_value());
  // Same shape, another layer without affine parameters: dx stays where it was, every field is
  // this call's (no dweight left over from the last one).
  computeNormBackwardInto(x, dy, group, {}, fg, fp64(), out);
  CHECK(out.dx.data.data() == kept);
  const BackwardResult fresh = computeNormBackward(x, dy, group, {}, fg, fp64());
  CHECK(out.dx.data == fresh.dx.data);
  CHECK(out.sum_dy_w.shape == fresh.sum_dy_w.shape);
  CHECK(out.sum_dy_w.data == fresh.sum_dy_w.data);
  CHECK(out.sum_dy_w_xhat.data == fresh.sum_dy_w_xhat.data);
  CHECK_FALSE(out.dweight.has_value());
  CHECK_FALSE(out.dbias.has_value());
  // Another shape: resized to it.
  const Tensor small = test::randomTensor(Shape{2, 4, 3}, 65);
  const ReductionPlan layer = ReductionPlan::make(small.shape, cfg(NormKind::Layer));
  computeNormBackwardInto(small, test::randomTensor(small.shape, 66), layer, {},
                          computeNorm(small, layer, {}, fp64()), fp64(), out);
  CHECK(out.dx.shape == small.shape);
  CHECK(out.sum_dy_w.shape == layer.statShape());
}

TEST_CASE(
    "float32 fast path agrees with float64 on tensors large enough to use threads, with the same "
    "bits on any thread count") {
  struct Big {
    const char* name;
    Shape shape;
    NormConfig config;
  };
  NormConfig layer = cfg(NormKind::Layer);
  NormConfig group = cfg(NormKind::Group);
  group.groups = 8;
  NormConfig rms = cfg(NormKind::RMS);
  NormConfig custom = cfg(NormKind::Custom);
  custom.axes = {0, 3};
  NormConfig custom_short = cfg(NormKind::Custom);  // runs of one element: the reference's loops
  custom_short.axes = {0, 2};
  NormConfig layer_chw = cfg(NormKind::Layer);  // large groups with a weight per element
  layer_chw.normalized_shape = {16, 24, 40};
  NormConfig layer_chw_large = cfg(NormKind::Layer);  // contiguous, 768 KB of x and dy a group
  layer_chw_large.normalized_shape = {96, 1000};
  NormConfig batch_eval = cfg(NormKind::Batch);
  batch_eval.training = false;
  const std::vector<Big> cases = {
      {"LayerNorm(256)", {4, 128, 256}, layer},
      {"BatchNorm", {8, 16, 24, 40}, cfg(NormKind::Batch)},
      // Channels of 163840 elements: x and dy 1.3 MB, past half of any core's L2, so they take the
      // run order rather than the back-to-back two passes; then runs of 10000, longer than a
      // piece, and groups of 4096-element runs under custom axes.
      {"BatchNorm, channels larger than L2", {32, 2, 80, 64}, cfg(NormKind::Batch)},
      {"BatchNorm, channels larger than L2 in runs of 10000",
       {9, 3, 100, 100},
       cfg(NormKind::Batch)},
      {"custom axes 0, 3, groups larger than L2", {40, 3, 2, 4096}, custom},
      {"LayerNorm over a contiguous group larger than L2", {3, 96, 1000}, layer_chw_large},
      {"GroupNorm(8)", {8, 16, 24, 40}, group},
      {"InstanceNorm", {8, 16, 24, 40}, cfg(NormKind::Instance)},
      {"channels-last LayerNorm", {4, 16, 32, 32}, cfg(NormKind::Layer2d)},
      {"RMSNorm(256)", {4, 128, 256}, rms},
      {"custom axes 0, 3", {8, 16, 24, 40}, custom},
      {"custom axes 0, 2", {8, 16, 24, 40}, custom_short},
      {"LayerNorm [16, 24, 40]", {8, 16, 24, 40}, layer_chw},
      {"BatchNorm evaluation", {8, 16, 24, 40}, batch_eval},
      // Strided with the weight per position, 40 positions: two vectors and a scalar tail.
      {"BatchNorm1d (N, C)", {2048, 40}, cfg(NormKind::Batch)}};
  for (const Big& b : cases) {
    CAPTURE(b.name);
    const Tensor x = test::randomTensor(b.shape, 61, 0.5f, 2.0f);
    const Tensor dy = test::randomTensor(b.shape, 62);
    const ReductionPlan plan = ReductionPlan::make(b.shape, b.config);
    NormParams p;
    p.weight = test::randomTensor(plan.affineShape(), 63, 1.0f, 0.5f);
    p.bias = test::randomTensor(plan.affineShape(), 64);
    const BackwardResult ref = backward(x, dy, b.config, p, fp64());
    const BackwardResult fast = backward(x, dy, b.config, p);
    CHECK(fast.backend == "cpu-fp32 backward");
    CHECK(scaledError(fast.dx.data, ref.dx.data) <= 1e-4);
    CHECK(scaledError(fast.dweight->data, ref.dweight->data) <= 1e-4);
    CHECK(scaledError(fast.dbias->data, ref.dbias->data) <= 1e-4);
    CHECK(scaledError(fast.sum_dy_w.data, ref.sum_dy_w.data) <= 1e-4);
    CHECK(scaledError(fast.sum_dy_w_xhat.data, ref.sum_dy_w_xhat.data) <= 1e-4);
    for (int threads : {1, 2, 3}) {
      CAPTURE(threads);
      ComputeOptions o;
      o.threads = threads;
      const BackwardResult t = backward(x, dy, b.config, p, o);
      CHECK(t.dx.data == fast.dx.data);
      CHECK(t.dweight->data == fast.dweight->data);
      CHECK(t.dbias->data == fast.dbias->data);
      CHECK(t.sum_dy_w_xhat.data == fast.sum_dy_w_xhat.data);
    }
  }
}

TEST_CASE("backward rejects a dy or saved statistics of the wrong shape") {
  const Tensor x = test::randomTensor({3, 4, 2, 2}, 71);
  const ReductionPlan plan = ReductionPlan::make(x.shape, cfg(NormKind::Group));
  const NormResult f = computeNorm(x, plan, {});
  const Tensor wrong_dy = test::randomTensor({3, 4, 4}, 72);
  CHECK_THROWS_WITH_AS(computeNormBackward(x, wrong_dy, plan, {}, f),
                       doctest::Contains("grad_output (dy) has shape (3, 4, 4)"), NormError);
  const TensorD wrong_mean(Shape{4});
  CHECK_THROWS_WITH_AS(computeNormBackward(x, x, plan, {}, wrong_mean, f.rstd),
                       doctest::Contains("saved mean has shape (4,)"), NormError);
  NormParams p;
  p.weight = Tensor(Shape{3});
  CHECK_THROWS_WITH_AS(computeNormBackward(x, x, plan, p, f),
                       doctest::Contains("weight has shape (3,)"), NormError);
}
