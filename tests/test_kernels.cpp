// The GPU backend: every kernel design against the float64 CPU reference on awkward shapes, and the
// device-free parts (variant lists, launch geometry, the reason given when there is no GPU). The
// kernels run on the emulated device (the same sources executed on the CPU) in every build, and on
// the CUDA device too when one is usable.
//
// Bound: every float32 result r from the GPU must satisfy |r - ref| <= 1e-4 * (|ref| + 1) for y and
// the mean (y is O(1) after normalization; the mean's error scales with the data's spread), and
// |r - ref| <= 1e-4 * |ref| for var, rstd and the running statistics. Float32 sums over at most
// ~135k elements of O(1) data stay inside that (a sequential float32 sum drifts by about
// 2^-24 * sqrt(n) relative: ~2e-5 at 135k, the thread-per-row worst case). Outputs are poisoned
// with NaN before each kernel runs (gpuCompute does it), and NaN fails every comparison, so an
// element a kernel forgets to write fails the test.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "emulated_runs.hpp"
#include "host_layout.hpp"
#include "normviz/engine.hpp"
#include "normviz/error.hpp"
#include "normviz/gpu.hpp"
#include "normviz/gpu_emulated.hpp"
#include "normviz/plan.hpp"
#include "test_util.hpp"

using namespace normviz;

namespace {

// One untimed run of a design (no warm-up, `repeats` timed repeats) on a device.
GpuOptions untimed(GpuVariant v, int block_size, GpuDeviceKind device, int repeats) {
  GpuOptions o;
  o.variant = v;
  o.block_size = block_size;
  o.warmup = 0;
  o.repeats = repeats;
  o.device = device;
  return o;
}

constexpr double kTol = 1e-4;

Tensor randomTensor(const Shape& shape, uint64_t seed, float offset = 0.5f, float scale = 2.0f) {
  return test::randomTensor(shape, seed, offset, scale);
}

Tensor positiveTensor(const Shape& shape, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(0.5f, 2.0f);
  Tensor t(shape);
  for (float& v : t.data) v = uniform(rng);
  return t;
}

// Counts elements outside the bound; reports the first few.
int64_t countBad(const char* what, const TensorD& got, const TensorD& ref, bool absolute_floor) {
  if (got.numel() != ref.numel()) {
    MESSAGE(what << ": " << got.numel() << " values, expected " << ref.numel());
    return ref.numel() + 1;
  }
  int64_t bad = 0;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    const double bound = kTol * (std::fabs(ref[i]) + (absolute_floor ? 1.0 : 0.0));
    const double err = std::fabs(got[i] - ref[i]);
    if (!(err <= bound)) {  // NaN (an unwritten, poisoned element) lands here too
      if (bad < 3) MESSAGE(what << "[" << i << "] = " << got[i] << ", reference " << ref[i]);
      ++bad;
    }
  }
  return bad;
}

struct Case {
  const char* name;
  Shape shape;
  NormConfig config;
  bool affine = false;
  bool running = false;  // BatchNorm: give running statistics
};

NormConfig layer(NormKind kind, std::vector<int64_t> normalized_shape = {}) {
  NormConfig c;
  c.kind = kind;
  c.normalized_shape = std::move(normalized_shape);
  return c;
}
NormConfig group(int64_t groups) {
  NormConfig c;
  c.kind = NormKind::Group;
  c.groups = groups;
  return c;
}
NormConfig custom(std::vector<int> axes) {
  NormConfig c;
  c.kind = NormKind::Custom;
  c.axes = std::move(axes);
  return c;
}
NormConfig batch(bool training, std::optional<double> momentum = 0.1) {
  NormConfig c;
  c.kind = NormKind::Batch;
  c.training = training;
  c.momentum = momentum;
  c.num_batches_tracked = 3;
  return c;
}

std::vector<Case> cases() {
  return {
      {"LayerNorm odd rows (3,5,7) [7]", {3, 5, 7}, layer(NormKind::Layer), true},
      {"LayerNorm (2,3,5) [3,5]", {2, 3, 5}, layer(NormKind::Layer, {3, 5}), true},
      {"LayerNorm rows of 1030, not a multiple of 4", {4, 1030}, layer(NormKind::Layer), true},
      {"LayerNorm (37,768), rows of 768", {37, 768}, layer(NormKind::Layer), true},
      {"LayerNorm rows of 6000 (> one split chunk)", {3, 6000}, layer(NormKind::Layer), false},
      {"LayerNorm a single element per row", {9, 1}, layer(NormKind::Layer), true},
      {"RMSNorm (3,10,12) [12]", {3, 10, 12}, layer(NormKind::RMS), true},
      {"RMSNorm (2,3,64) [3,64]", {2, 3, 64}, layer(NormKind::RMS, {3, 64}), false},
      {"GroupNorm (2,6,5,7) G=3", {2, 6, 5, 7}, group(3), true},
      {"GroupNorm groups larger than a block (2,64,33,33) G=2", {2, 64, 33, 33}, group(2), true},
      {"GroupNorm (3,8,4,4) G=8 (one channel per group)", {3, 8, 4, 4}, group(8), true},
      {"GroupNorm (2,8,64,64) G=2, rows of 32768 (vector-registers team of 1024)",
       {2, 8, 64, 64},
       group(2),
       true},
      {"InstanceNorm (3,4,9,11)", {3, 4, 9, 11}, layer(NormKind::Instance), true},
      {"InstanceNorm1d (2,3,17)", {2, 3, 17}, layer(NormKind::Instance), false},
      {"Channels-last LayerNorm (2,6,5,3)", {2, 6, 5, 3}, layer(NormKind::Layer2d), true},
      {"Channels-last LayerNorm (2,8,4,4)", {2, 8, 4, 4}, layer(NormKind::Layer2d), true},
      {"Custom axes 0,2 of (3,4,5,6)", {3, 4, 5, 6}, custom({0, 2}), true},
      {"Custom axes 1,3 of (3,4,5,8)", {3, 4, 5, 8}, custom({1, 3}), true},
      {"Custom axis 0 of (7,5)", {7, 5}, custom({0}), false},
      {"BatchNorm train (5,3,7,9)", {5, 3, 7, 9}, batch(true), true, true},
      {"BatchNorm train (4,3,8,8), aligned runs", {4, 3, 8, 8}, batch(true), true, false},
      {"BatchNorm train large groups (9,2,41,41)", {9, 2, 41, 41}, batch(true), false, true},
      {"BatchNorm1d train (7,5), momentum None", {7, 5}, batch(true, std::nullopt), true, true},
      {"BatchNorm train (8,2,130,130), more than 32 split chunks per group",
       {8, 2, 130, 130},
       batch(true),
       false,
       true},
      {"BatchNorm eval (4,3,5,5)", {4, 3, 5, 5}, batch(false), true, true},
      {"BatchNorm eval without running statistics (0 and 1)", {3, 4, 5, 5}, batch(false), true},
      {"BatchNorm eval single-element groups (1,5,1,1)", {1, 5, 1, 1}, batch(false), true, true},
  };
}

// The devices the kernels run on here: the emulated one always, the GPU when usable.
std::vector<GpuDeviceKind> devices() {
  std::vector<GpuDeviceKind> kinds = {GpuDeviceKind::Emulated};
  if (gpuDevice(GpuDeviceKind::Cuda).usable) kinds.push_back(GpuDeviceKind::Cuda);
  return kinds;
}

NormParams paramsFor(const Case& c, const ReductionPlan& plan, uint64_t seed) {
  NormParams p;
  if (c.affine) {
    p.weight = randomTensor(plan.affineShape(), seed + 1, 1.0f, 0.5f);
    p.bias = randomTensor(plan.affineShape(), seed + 2, 0.0f, 0.5f);
  }
  if (c.running) {
    p.running_mean = randomTensor(plan.statShape(), seed + 3, 0.2f, 0.5f);
    p.running_var = positiveTensor(plan.statShape(), seed + 4);
  }
  return p;
}

}  // namespace

TEST_CASE("every GPU design has a unique name and a description, and its name round-trips") {
  const std::vector<GpuVariant> all = allGpuVariants();
  // The design table has a row for every enumerator, in the enum's order.
  CHECK(all == std::vector<GpuVariant>{GpuVariant::Auto, GpuVariant::ThreadPerRow,
                                       GpuVariant::BlockTree, GpuVariant::WarpShuffle,
                                       GpuVariant::WarpWelford, GpuVariant::VectorRegisters,
                                       GpuVariant::SplitReduce});
  std::set<std::string> names;
  for (GpuVariant v : all) {
    CAPTURE(gpuVariantName(v));
    CHECK(names.insert(gpuVariantName(v)).second);
    CHECK(std::string(gpuVariantName(v)) != "?");
    CHECK(std::string(gpuVariantDescription(v)).size() > 10);
    CHECK(parseGpuVariant(gpuVariantName(v)) == v);
  }
  CHECK(std::string(gpuVariantName(GpuVariant::VectorRegisters)) == "vector-registers");
  CHECK(std::string(gpuVariantName(GpuVariant::SplitReduce)) == "split-reduce");
  try {
    parseGpuVariant("warp-magic");
    FAIL("expected NormError");
  } catch (const NormError& e) {
    // The error lists every valid name.
    for (GpuVariant v : all)
      CHECK(std::string(e.what()).find(gpuVariantName(v)) != std::string::npos);
  }
}

TEST_CASE("gpuVariantsFor offers vector-registers only for rows of a multiple of 4") {
  auto has = [](const std::vector<GpuVariant>& v, GpuVariant x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  const auto ln768 = gpuVariantsFor(ReductionPlan::make({8, 16, 768}, layer(NormKind::Layer)));
  CHECK(ln768.size() == 7);
  CHECK(has(ln768, GpuVariant::VectorRegisters));
  const auto ln7 = gpuVariantsFor(ReductionPlan::make({3, 7}, layer(NormKind::Layer)));
  CHECK_FALSE(has(ln7, GpuVariant::VectorRegisters));
  CHECK(has(ln7, GpuVariant::WarpWelford));
  const auto bn = gpuVariantsFor(ReductionPlan::make({4, 3, 8, 8}, batch(true)));
  CHECK_FALSE(has(bn, GpuVariant::VectorRegisters));  // a channel's elements are strided
  CHECK(has(bn, GpuVariant::SplitReduce));
  const auto eval = gpuVariantsFor(ReductionPlan::make({4, 3, 8, 8}, batch(false)));
  CHECK(eval == std::vector<GpuVariant>{GpuVariant::Auto});
  // Warp-welford counts each lane's values in float32, exact to 2^24: a row of more than 32 * 2^24
  // values (possible with a raised --max-elements) would stall its counts, so it is not offered.
  NormConfig huge = layer(NormKind::Layer);
  huge.max_elements = int64_t{1} << 31;
  CHECK(
      has(gpuVariantsFor(ReductionPlan::make({int64_t{32} << 24}, huge)), GpuVariant::WarpWelford));
  CHECK_FALSE(has(gpuVariantsFor(ReductionPlan::make({(int64_t{32} << 24) + 1}, huge)),
                  GpuVariant::WarpWelford));
  // GroupNorm (2,64,33,33) G=2: rows of 34848 floats exceed what registers hold.
  CHECK_FALSE(has(gpuVariantsFor(ReductionPlan::make({2, 64, 33, 33}, group(2))),
                  GpuVariant::VectorRegisters));
}

TEST_CASE("recipe geometry: vector width follows the row length, gathers load one at a time") {
  GpuOptions o;
  o.block_size = 128;
  const auto ln = ReductionPlan::make({8, 768}, layer(NormKind::Layer));
  CHECK(gpuRecipeGeometry(ln, GpuVariant::BlockTree, o).block_size == 128);
  CHECK(gpuRecipeGeometry(ln, GpuVariant::BlockTree, o).vector_width == 4);
  CHECK(gpuRecipeGeometry(ln, GpuVariant::WarpWelford, o).block_size == 32);
  const auto ln_even = ReductionPlan::make({8, 770}, layer(NormKind::Layer));
  CHECK(gpuRecipeGeometry(ln_even, GpuVariant::WarpShuffle).vector_width == 2);
  const auto ln_odd = ReductionPlan::make({8, 771}, layer(NormKind::Layer));
  CHECK(gpuRecipeGeometry(ln_odd, GpuVariant::WarpShuffle).vector_width == 1);
  const auto bn = ReductionPlan::make({4, 3, 8, 8}, batch(true));
  CHECK(gpuRecipeGeometry(bn, GpuVariant::BlockTree).vector_width == 1);
  o.block_size = 100;
  CHECK_THROWS_AS(gpuRecipeGeometry(ln, GpuVariant::BlockTree, o), NormError);
  CHECK_THROWS_AS(gpuRecipeGeometry(ln, GpuVariant::VectorRegisters), NormError);
  try {
    gpuRecipeGeometry(ln, GpuVariant::SplitReduce);
    FAIL("expected NormError");
  } catch (const NormError& e) {
    const std::string what = e.what();
    CHECK(what.find("split-reduce") != std::string::npos);
    for (const char* recipe : {"block-tree", "warp-shuffle", "warp-welford"})
      CHECK(what.find(recipe) != std::string::npos);
  }
}

TEST_CASE("a design that does not fit the plan is refused with a reason a user can act on") {
  // The reason gpuCompute gives, for a layer it refuses on the emulated device.
  auto refusal = [](const Shape& shape, const NormConfig& config, GpuVariant v) -> std::string {
    const ReductionPlan plan = ReductionPlan::make(shape, config);
    const std::string why = gpuVariantUnsupported(plan, v);
    CHECK_FALSE(why.empty());
    try {
      gpuCompute(randomTensor(shape, 3), plan, {}, untimed(v, 256, GpuDeviceKind::Emulated, 0));
    } catch (const NormError& e) {
      const std::string what = e.what();
      CHECK(what.find(std::string("the ") + gpuVariantName(v) + " kernel does not run") !=
            std::string::npos);
      CHECK(what.find(why) != std::string::npos);
      return what;
    }
    FAIL("expected NormError");
    return "";
  };
  auto says = [](const std::string& what, const char* part) {
    CAPTURE(what);
    CHECK(what.find(part) != std::string::npos);
  };
  // Vector-registers loads float4: rows of a multiple of 4 floats, at most kVectorMaxRow.
  const std::string rows_of_7 =
      refusal({3, 7}, layer(NormKind::Layer), GpuVariant::VectorRegisters);
  says(rows_of_7, "multiple of 4");
  says(rows_of_7, "hold 7 floats");
  says(refusal({2, 64, 33, 33}, group(2), GpuVariant::VectorRegisters), "at most 32768");
  // Channels-last LayerNorm and BatchNorm gather their groups: not rows.
  says(refusal({2, 6, 5, 3}, layer(NormKind::Layer2d), GpuVariant::VectorRegisters),
       "contiguous row");
  says(refusal({4, 3, 8, 8}, batch(true), GpuVariant::VectorRegisters), "contiguous row");
  // Evaluation-mode BatchNorm runs one elementwise kernel: only auto.
  for (GpuVariant v : allGpuVariants()) {
    if (v == GpuVariant::Auto) continue;
    CAPTURE(gpuVariantName(v));
    says(refusal({4, 3, 5, 5}, batch(false), v), "use auto");
  }
  // Warp-welford's float32 counts are exact to 2^24 per lane: at most 32 * 2^24 values per group
  // (a plan only; no tensor that large is made).
  NormConfig huge = layer(NormKind::Layer);
  huge.max_elements = int64_t{1} << 31;
  CHECK(gpuVariantUnsupported(ReductionPlan::make({int64_t{32} << 24}, huge),
                              GpuVariant::WarpWelford) == "");
  says(gpuVariantUnsupported(ReductionPlan::make({(int64_t{32} << 24) + 1}, huge),
                             GpuVariant::WarpWelford),
       "at most 536870912 values");
  // Past 32-bit indexing nothing runs, auto included.
  huge.max_elements = int64_t{1} << 32;
  says(gpuVariantUnsupported(ReductionPlan::make({int64_t{1} << 31}, huge), GpuVariant::Auto),
       "too large");
  // What fits has no reason.
  CHECK(gpuVariantUnsupported(ReductionPlan::make({3, 8}, layer(NormKind::Layer)),
                              GpuVariant::VectorRegisters) == "");
}

TEST_CASE("the kernels' element and affine addressing equals the plan's, for every test shape") {
  // What elementFlat() and normalizedOut() compute on the device, done here on the host tables.
  for (const Case& c : cases()) {
    CAPTURE(c.name);
    const ReductionPlan plan = ReductionPlan::make(c.shape, c.config);
    const gpu::HostLayout l = gpu::describeLayout(plan);
    REQUIRE(l.groups * l.group_size == plan.shape().numel());
    REQUIRE(l.runs * l.run_length == l.group_size);
    int64_t mismatches = 0;
    for (int64_t g = 0; g < l.groups; ++g) {
      for (int64_t j = 0; j < l.group_size; ++j) {
        const int64_t r = j / l.run_length;
        const int64_t flat = l.rows ? g * l.group_size + j
                                    : l.group_base[static_cast<size_t>(g)] +
                                          l.run_offset[static_cast<size_t>(r)] + j % l.run_length;
        const int64_t slot = l.affine_per_element ? j : (flat / l.affine_inner) % l.affine_count;
        if (flat != plan.elementOf(g, j) || slot != plan.affineIndexOf(flat)) ++mismatches;
        // vec4: an aligned quadruple is 4 adjacent floats starting on a multiple of 4.
        if (l.vec4 && j % 4 == 0 && (flat % 4 != 0 || plan.elementOf(g, j + 3) != flat + 3))
          ++mismatches;
      }
    }
    CHECK(mismatches == 0);
    // BatchNorm evaluation finds a channel's statistics through the affine map.
    if (l.eval_running)
      for (int64_t f = 0; f < plan.shape().numel(); ++f)
        if ((f / l.affine_inner) % l.affine_count != plan.groupOf(f)) ++mismatches;
    CHECK(mismatches == 0);
  }
  // Rows: LayerNorm, GroupNorm and InstanceNorm groups are contiguous; BatchNorm's are not.
  CHECK(gpu::describeLayout(ReductionPlan::make({3, 5, 7}, layer(NormKind::Layer))).rows);
  CHECK(gpu::describeLayout(ReductionPlan::make({2, 6, 5, 7}, group(3))).rows);
  CHECK_FALSE(gpu::describeLayout(ReductionPlan::make({4, 3, 8, 8}, batch(true))).rows);
  CHECK(gpu::describeLayout(ReductionPlan::make({4, 3, 8, 8}, batch(true))).vec4);
  CHECK_FALSE(gpu::describeLayout(ReductionPlan::make({5, 3, 7, 9}, batch(true))).vec4);
}

TEST_CASE("without a usable GPU every entry point says why") {
  const GpuDevice& device = gpuDevice();
  if (device.usable) {
    MESSAGE("a GPU is present (" << device.name << "); the no-device path is not exercised");
    return;
  }
  REQUIRE_FALSE(device.reason.empty());
#if defined(NORMVIZ_HAVE_CUDA)
  // Built with CUDA on a machine without a working device: the reason names what is missing.
  const bool named = device.reason.find("driver") != std::string::npos ||
                     device.reason.find("no CUDA device") != std::string::npos ||
                     device.reason.find("CUDA is unusable") != std::string::npos;
  CHECK(named);
#else
  CHECK(device.reason == "built without CUDA (nvcc was not found at configure time)");
#endif
  const auto plan = ReductionPlan::make({2, 8}, layer(NormKind::Layer));
  try {
    gpuCompute(Tensor({2, 8}, 1.0f), plan, {});
    FAIL("expected NormError");
  } catch (const NormError& e) {
    CHECK(std::string(e.what()).find(device.reason) != std::string::npos);
  }
  std::string error;
  float mean = 0, var = 0;
  const float values[4] = {1, 2, 3, 4};
  CHECK_FALSE(
      gpuReduceOneGroup(values, 4, 32, 1, VarianceStrategy::TwoPass, true, &mean, &var, &error));
  CHECK(error == device.reason);
  CHECK(gpuCopyBandwidthGbs() == 0);
}

TEST_CASE("the emulated device is always usable and says it is emulated") {
  const GpuDevice& device = gpuDevice(GpuDeviceKind::Emulated);
  CHECK(device.usable);
  CHECK(device.emulated);
  CHECK(device.name.find("emulated") != std::string::npos);
  CHECK_FALSE(gpuDevice(GpuDeviceKind::Cuda).emulated);
  CHECK(std::string(gpuDeviceKindName(GpuDeviceKind::Emulated)) == "gpu-emulated");
}

TEST_CASE("every GPU kernel matches the float64 reference on awkward shapes") {
  for (GpuDeviceKind kind : devices()) {
    CAPTURE(gpuDeviceKindName(kind));
    uint64_t seed = 100;
    for (const Case& c : cases()) {
      const ReductionPlan plan = ReductionPlan::make(c.shape, c.config);
      const Tensor x = randomTensor(c.shape, seed);
      const NormParams params = paramsFor(c, plan, seed);
      seed += 10;
      ComputeOptions ref_options;
      ref_options.precision = Precision::Fp64;
      const NormResult ref = computeNorm(x, plan, params, ref_options);
      // The designs gpuVariantsFor leaves out are exactly the ones gpuCompute refuses, each with
      // its reason (refused before any work, so checked on the emulated device only).
      const std::vector<GpuVariant> offered = gpuVariantsFor(plan);
      for (GpuVariant v : allGpuVariants()) {
        if (kind != GpuDeviceKind::Emulated) break;
        CAPTURE(c.name);
        CAPTURE(gpuVariantName(v));
        const std::string why = gpuVariantUnsupported(plan, v);
        const bool runs = std::find(offered.begin(), offered.end(), v) != offered.end();
        CHECK(runs == why.empty());
        if (runs) continue;
        try {
          gpuCompute(x, plan, params, untimed(v, 256, kind, 0));
          FAIL("expected NormError");
        } catch (const NormError& e) {
          CHECK(std::string(e.what()).find(why) != std::string::npos);
        }
      }
      for (GpuVariant v : offered) {
        // Block-tree also at the smallest and the largest block (1024 threads, 32 warps).
        for (int block_size : {256, 96, 32, 1024}) {
          if (block_size != 256 && v != GpuVariant::BlockTree) continue;
          CAPTURE(c.name);
          CAPTURE(gpuVariantName(v));
          CAPTURE(block_size);
          const GpuOptions o = untimed(v, block_size, kind, 1);
          const GpuResult g = gpuCompute(x, plan, params, o);
          CHECK(countBad("y", g.result.y, ref.y, true) == 0);
          CHECK(countBad("mean", g.result.mean, ref.mean, true) == 0);
          CHECK(countBad("var", g.result.var, ref.var, false) == 0);
          CHECK(countBad("rstd", g.result.rstd, ref.rstd, false) == 0);
          CHECK(g.result.running_mean.has_value() == ref.running_mean.has_value());
          if (ref.running_mean && g.result.running_mean) {
            CHECK(countBad("running_mean", *g.result.running_mean, *ref.running_mean, true) == 0);
            CHECK(countBad("running_var", *g.result.running_var, *ref.running_var, false) == 0);
          }
          CHECK(g.result.y.shape == x.shape);
          CHECK(g.result.mean.shape == plan.statShape());
          CHECK(g.timings.kernel_ms > 0);
          CHECK(g.timings.gbs ==
                doctest::Approx(g.timings.bytes_moved / (g.timings.kernel_ms * 1e6)));
          if (v != GpuVariant::Auto) CHECK(g.variant == v);
          // The backend names the design that ran (auto only for evaluation-mode BatchNorm, whose
          // elementwise kernel is no design).
          if (g.variant != GpuVariant::Auto)
            CHECK(g.result.backend.find(gpuVariantName(g.variant)) != std::string::npos);
          if (kind == GpuDeviceKind::Emulated)
            CHECK(g.result.backend.find("emulated") != std::string::npos);
        }
      }
    }
  }
}

TEST_CASE("bytes moved count the input, output and statistics") {
  const ReductionPlan plan = ReductionPlan::make({64, 768}, layer(NormKind::Layer));
  for (GpuDeviceKind kind : devices()) {
    CAPTURE(gpuDeviceKindName(kind));
    GpuOptions o;
    o.repeats = 3;
    o.device = kind;
    const GpuResult g = gpuCompute(randomTensor({64, 768}, 5), plan, {}, o);
    CHECK(g.timings.bytes_moved == 4.0 * (2.0 * 64 * 768 + 3.0 * 64));
    CHECK(g.timings.kernel_ms > 0);
    if (kind == GpuDeviceKind::Cuda) {
      // Copies and the device's bandwidth exist only on a GPU.
      const GpuDevice& device = gpuDevice(kind);
      CHECK(g.timings.fraction_of_peak ==
            doctest::Approx(g.timings.gbs / device.peak_bandwidth_gbs));
      CHECK(g.timings.h2d_ms > 0);
      CHECK(g.timings.d2h_ms > 0);
      CHECK(gpuCopyBandwidthGbs() > 0);
    } else {
      CHECK(g.timings.fraction_of_peak == 0);  // the emulated device has no DRAM peak
    }
  }
}

TEST_CASE("one group through the recipe kernel: every strategy near float64, deterministic") {
  for (GpuDeviceKind kind : devices())
    for (int64_t m : {1, 5, 32, 33, 1000, 4099}) {
      const Tensor x = randomTensor({m}, static_cast<uint64_t>(m));
      for (bool subtract : {true, false}) {
        const GroupStats<double> ref = groupStatsF64(x.data.data(), m, subtract);
        for (VarianceStrategy s : kAllStrategies) {
          for (int v : {1, 2, 4}) {
            CAPTURE(m);
            CAPTURE(varianceName(s));
            CAPTURE(v);
            CAPTURE(subtract);
            float mean = NAN, var = NAN, mean2 = NAN, var2 = NAN;
            std::string error;
            CAPTURE(gpuDeviceKindName(kind));
            REQUIRE(gpuReduceOneGroup(x.data.data(), m, 128, v, s, subtract, &mean, &var, &error,
                                      kind));
            REQUIRE(gpuReduceOneGroup(x.data.data(), m, 128, v, s, subtract, &mean2, &var2, &error,
                                      kind));
            CHECK(std::fabs(mean - ref.mean) <= kTol * (std::fabs(ref.mean) + 1));
            // Naive cancels: its variance is only good to the data's mean square times eps.
            const double var_tol = s == VarianceStrategy::Naive ? 1e-3 : kTol;
            CHECK(std::fabs(var - ref.var) <= var_tol * (ref.var + 1e-30));
            CHECK(std::memcmp(&mean, &mean2, sizeof mean) == 0);
            CHECK(std::memcmp(&var, &var2, sizeof var) == 0);
          }
        }
      }
    }
}

// The racecheck run (ThreadSanitizer build, scripts/test) executes this case alone: every design
// on a few shapes that reach each code path (rows of a multiple of 4 and not, groups larger than a
// block, more than 32 split chunks, gathered groups, BatchNorm evaluation), with the smallest and
// the largest block. Under ThreadSanitizer a shared-memory access without a barrier fails it.
TEST_CASE("racecheck: every design on shapes that reach each code path") {
  const std::vector<Case> shapes = {
      {"LayerNorm (5,768)", {5, 768}, layer(NormKind::Layer), true},
      {"LayerNorm rows of 1030", {2, 1030}, layer(NormKind::Layer), true},
      {"RMSNorm (3,2,64) [2,64]", {3, 2, 64}, layer(NormKind::RMS, {2, 64}), false},
      {"GroupNorm (1,8,64,64) G=2", {1, 8, 64, 64}, group(2), true},
      {"Channels-last LayerNorm (2,6,5,3)", {2, 6, 5, 3}, layer(NormKind::Layer2d), true},
      {"BatchNorm train (4,2,96,96), 36 split chunks", {4, 2, 96, 96}, batch(true), false, true},
      {"BatchNorm train (5,3,7,9)", {5, 3, 7, 9}, batch(true), true, true},
      {"BatchNorm eval (4,3,5,5)", {4, 3, 5, 5}, batch(false), true, true},
  };
  uint64_t seed = 500;
  for (const Case& c : shapes) {
    const ReductionPlan plan = ReductionPlan::make(c.shape, c.config);
    const Tensor x = randomTensor(c.shape, seed);
    const NormParams params = paramsFor(c, plan, seed++);
    ComputeOptions ref_options;
    ref_options.precision = Precision::Fp64;
    const NormResult ref = computeNorm(x, plan, params, ref_options);
    for (GpuVariant v : gpuVariantsFor(plan))
      for (int block_size : {32, 1024}) {
        if (block_size != 32 && v != GpuVariant::BlockTree) continue;
        CAPTURE(c.name);
        CAPTURE(gpuVariantName(v));
        CAPTURE(block_size);
        const GpuOptions o = untimed(v, block_size, GpuDeviceKind::Emulated, 0);
        const GpuResult g = gpuCompute(x, plan, params, o);
        CHECK(countBad("y", g.result.y, ref.y, true) == 0);
      }
  }
}

TEST_CASE("BatchNorm on the headline (32,64,56,56) input runs on the emulated device") {
  // 6.4 million elements, 64 groups of 100352: split-reduce's 1568 blocks of 256 fibers each, the
  // shape the benchmarks time on a GPU.
  const Shape shape{32, 64, 56, 56};
  const ReductionPlan plan = ReductionPlan::make(shape, batch(true));
  const Tensor x = randomTensor(shape, 7);
  Case c{"headline", shape, batch(true), true, true};
  const NormParams params = paramsFor(c, plan, 7);
  ComputeOptions ref_options;
  ref_options.precision = Precision::Fp64;
  const NormResult ref = computeNorm(x, plan, params, ref_options);
  GpuOptions o;
  o.device = GpuDeviceKind::Emulated;
  o.warmup = 0;
  o.repeats = 0;
  const GpuResult g = gpuCompute(x, plan, params, o);
  CHECK(g.variant == GpuVariant::SplitReduce);
  CHECK(countBad("y", g.result.y, ref.y, true) == 0);
  CHECK(countBad("var", g.result.var, ref.var, false) == 0);
  CHECK(countBad("running_var", *g.result.running_var, *ref.running_var, false) == 0);
}

TEST_CASE("how many kernel runs the emulated device executed") {
  CHECK(printEmulatedRuns() > 0);
}
