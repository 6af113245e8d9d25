// GPU backward kernels: which plans they run, and their dx, sums, dweight and dbias against the
// float64 CPU backward. The kernels run on the emulated device (the same sources executed on the
// CPU) in every build, and on the CUDA device too when one is usable.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "emulated_runs.hpp"
#include "normviz/backward.hpp"
#include "normviz/error.hpp"
#include "normviz/gpu.hpp"
#include "normviz/gpu_emulated.hpp"
#include "test_util.hpp"

using namespace normviz;

namespace {

NormConfig cfg(NormKind kind) {
  NormConfig c;
  c.kind = kind;
  return c;
}

// test::scaledError of two tensors of one shape.
double scaledError(const TensorD& got, const TensorD& want) {
  REQUIRE(got.shape == want.shape);
  return test::scaledError(got.data, want.data);
}

struct GpuCase {
  const char* name;
  Shape shape;
  NormConfig config;
};

std::vector<GpuCase> supportedCases() {
  NormConfig eval = cfg(NormKind::Batch);
  eval.training = false;
  NormConfig layer_chw = cfg(NormKind::Layer);
  layer_chw.normalized_shape = {6, 5, 7};
  NormConfig group = cfg(NormKind::Group);
  group.groups = 3;
  NormConfig wide_group = cfg(NormKind::Group);
  wide_group.groups = 2;  // 40 channels a group: more runs than a warp's lanes to merge
  return {{"BatchNorm training", {4, 6, 5, 7}, cfg(NormKind::Batch)},
          {"BatchNorm training, groups over 4096 elements", {3, 2, 64, 40}, cfg(NormKind::Batch)},
          {"BatchNorm training (N, C)", {37, 5}, cfg(NormKind::Batch)},
          {"BatchNorm evaluation", {4, 6, 5, 7}, eval},
          {"LayerNorm(768) (2, 70, 768)", {2, 70, 768}, cfg(NormKind::Layer)},
          {"LayerNorm [6, 5, 7]", {3, 6, 5, 7}, layer_chw},
          {"RMSNorm(33)", {5, 9, 33}, cfg(NormKind::RMS)},
          {"InstanceNorm", {3, 6, 5, 7}, cfg(NormKind::Instance)},
          {"GroupNorm(3, 6)", {3, 6, 5, 7}, group},
          {"GroupNorm(2, 80), channels of 300", {2, 80, 15, 20}, wide_group},
          {"InstanceNorm (N, C, L)", {2, 3, 513}, cfg(NormKind::Instance)}};
}

// The devices the kernels run on here: the emulated one always, the GPU when usable.
std::vector<GpuDeviceKind> devices() {
  std::vector<GpuDeviceKind> kinds = {GpuDeviceKind::Emulated};
  if (gpuDevice(GpuDeviceKind::Cuda).usable) kinds.push_back(GpuDeviceKind::Cuda);
  return kinds;
}

}  // namespace

TEST_CASE("GPU backward kernels cover BatchNorm and the row layers; others say why") {
  for (const GpuCase& c : supportedCases()) {
    CAPTURE(c.name);
    CHECK(gpuBackwardUnsupported(ReductionPlan::make(c.shape, c.config)) == "");
  }
  NormConfig custom = cfg(NormKind::Custom);
  custom.axes = {0, 2};
  CHECK(gpuBackwardUnsupported(ReductionPlan::make({2, 3, 4, 5}, cfg(NormKind::Layer2d)))
            .find("no GPU backward kernel for Channels-last LayerNorm") != std::string::npos);
  CHECK(gpuBackwardUnsupported(ReductionPlan::make({2, 3, 4, 5}, custom))
            .find("the CPU backward computes it") != std::string::npos);
}

TEST_CASE("without a usable GPU the backward says why") {
  const GpuDevice& device = gpuDevice();
  if (device.usable) {
    MESSAGE("a GPU is present (" << device.name << "); the no-device path is not exercised");
    return;
  }
  const Tensor x = test::randomTensor({2, 4, 3, 3}, 1);
  const ReductionPlan plan = ReductionPlan::make(x.shape, cfg(NormKind::Group));
  const NormResult f = computeNorm(x, plan, {});
  CHECK_THROWS_WITH_AS(gpuBackward(x, x, plan, {}, f.mean, f.rstd),
                       doctest::Contains(device.reason.c_str()), NormError);
}

TEST_CASE("GPU backward equals the float64 CPU backward on every supported layer") {
  if (!gpuDevice(GpuDeviceKind::Cuda).usable)
    MESSAGE("CUDA device absent (" << gpuDevice(GpuDeviceKind::Cuda).reason
                                   << "); the kernels run on the emulated device only");
  for (const GpuDeviceKind kind : devices()) {
    for (const GpuCase& c : supportedCases()) {
      for (const bool affine : {false, true}) {
        CAPTURE(gpuDeviceKindName(kind));
        CAPTURE(c.name);
        CAPTURE(affine);
        const Tensor x = test::randomTensor(c.shape, 3, 0.5f, 2.0f);
        const Tensor dy = test::randomTensor(c.shape, 4);
        const ReductionPlan plan = ReductionPlan::make(c.shape, c.config);
        NormParams p;
        if (affine) {
          p.weight = test::randomTensor(plan.affineShape(), 5, 1.0f, 0.5f);
          p.bias = test::randomTensor(plan.affineShape(), 6);
        }
        if (plan.kind() == NormKind::Batch && !plan.config().training) {
          p.running_mean = test::randomTensor(plan.statShape(), 7);
          p.running_var = test::randomTensor(plan.statShape(), 8, 2.0f, 0.5f);
        }
        // Both from the float32 forward's statistics, so the difference is the backward's alone.
        const NormResult f = computeNorm(x, plan, p);
        ComputeOptions fp64;
        fp64.precision = Precision::Fp64;
        const BackwardResult want = computeNormBackward(x, dy, plan, p, f, fp64);
        GpuOptions o;
        o.warmup = 0;
        o.repeats = 1;
        o.device = kind;
        const GpuBackwardResult got = gpuBackward(x, dy, plan, p, f.mean, f.rstd, o);
        CHECK(got.result.group_coupled == want.group_coupled);
        CHECK(scaledError(got.result.dx, want.dx) <= 1e-4);
        CHECK(scaledError(got.result.sum_dy_w, want.sum_dy_w) <= 1e-4);
        CHECK(scaledError(got.result.sum_dy_w_xhat, want.sum_dy_w_xhat) <= 1e-4);
        REQUIRE(got.result.dweight.has_value() == affine);
        REQUIRE(got.result.dbias.has_value() == affine);
        if (affine) {
          CHECK(scaledError(*got.result.dweight, *want.dweight) <= 1e-4);
          CHECK(scaledError(*got.result.dbias, *want.dbias) <= 1e-4);
        }
        CHECK(got.timings.kernel_ms > 0);
        // The design each layer runs: BatchNorm's split, one block per channel of a sample for
        // InstanceNorm and GroupNorm, one block per row for LayerNorm and RMSNorm.
        const NormKind k = plan.kind();
        const char* design = k == NormKind::Batch                              ? "split"
                             : k == NormKind::Group || k == NormKind::Instance ? "channels"
                             : k == NormKind::Layer || k == NormKind::RMS      ? "rows"
                                                                               : "";
        CHECK(got.result.backend.find(std::string("gpu backward ") + design) != std::string::npos);
        CHECK((got.result.backend.find("emulated") != std::string::npos) ==
              (kind == GpuDeviceKind::Emulated));
      }
    }
  }
}

TEST_CASE("the emulated backward refuses a plan without a kernel, naming why") {
  const Tensor x = test::randomTensor({2, 3, 4, 5}, 1);
  const ReductionPlan plan = ReductionPlan::make(x.shape, cfg(NormKind::Layer2d));
  const NormResult f = computeNorm(x, plan, {});
  GpuOptions o;
  o.device = GpuDeviceKind::Emulated;
  CHECK_THROWS_WITH_AS(gpuBackward(x, x, plan, {}, f.mean, f.rstd, o),
                       doctest::Contains("no GPU backward kernel for Channels-last LayerNorm"),
                       NormError);
}

// Last in the file (doctest runs the cases in file order): the count covers every case above.
TEST_CASE("how many kernel runs the emulated device executed") {
  CHECK(printEmulatedRuns() > 0);
}
