// ReductionPlan: group membership, element iteration, shapes, descriptions and every invalid
// request.
#include <doctest/doctest.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <string>

#include "normviz/error.hpp"
#include "normviz/plan.hpp"

using namespace normviz;

static NormConfig cfg(NormKind kind) {
  NormConfig c;
  c.kind = kind;
  return c;
}

static std::vector<std::pair<Shape, NormConfig>> sampleRequests() {
  std::vector<std::pair<Shape, NormConfig>> out;
  Shape s4{3, 4, 2, 5};
  out.push_back({s4, cfg(NormKind::Batch)});
  out.push_back({s4, cfg(NormKind::Instance)});
  for (int64_t g : {1, 2, 4}) {
    auto c = cfg(NormKind::Group);
    c.groups = g;
    out.push_back({s4, c});
  }
  for (auto ns : std::vector<std::vector<int64_t>>{{5}, {2, 5}, {4, 2, 5}, {3, 4, 2, 5}}) {
    auto c = cfg(NormKind::Layer);
    c.normalized_shape = ns;
    out.push_back({s4, c});
    c.kind = NormKind::RMS;
    out.push_back({s4, c});
  }
  out.push_back({s4, cfg(NormKind::Layer2d)});
  out.push_back({Shape{2, 3, 7}, cfg(NormKind::Layer2d)});
  for (auto axes : std::vector<std::vector<int>>{{0, 2, 3}, {1}, {0, 1, 2, 3}, {-1}, {0}}) {
    auto c = cfg(NormKind::Custom);
    c.axes = axes;
    out.push_back({s4, c});
  }
  auto c = cfg(NormKind::Custom);
  c.axes = {0};
  out.push_back({Shape{6}, c});
  out.push_back({Shape{2, 6}, cfg(NormKind::Batch)});
  out.push_back({Shape{2, 6, 3}, cfg(NormKind::Instance)});
  return out;
}

TEST_CASE("every element is in exactly one group, and elementsOf/forEachRun/groupOf agree") {
  for (const auto& [shape, config] : sampleRequests()) {
    ReductionPlan plan = ReductionPlan::make(shape, config);
    CAPTURE(plan.pytorchLine());
    CHECK(plan.groupCount() * plan.groupSize() == shape.numel());
    CHECK(plan.statShape().numel() == plan.groupCount());
    std::vector<int> seen(static_cast<size_t>(shape.numel()), 0);
    for (int64_t g = 0; g < plan.groupCount(); ++g) {
      int64_t j = 0;
      std::vector<int64_t> listed;
      for (int64_t flat : plan.elementsOf(g)) {
        REQUIRE(flat >= 0);
        REQUIRE(flat < shape.numel());
        CHECK(plan.groupOf(flat) == g);
        CHECK(plan.elementOf(g, j++) == flat);
        ++seen[flat];
        listed.push_back(flat);
      }
      CHECK(j == plan.groupSize());
      std::vector<int64_t> from_runs;
      plan.forEachRun(g, [&](int64_t offset, int64_t length) {
        for (int64_t i = 0; i < length; ++i) from_runs.push_back(offset + i);
      });
      CHECK(from_runs == listed);
    }
    for (int count : seen) CHECK(count == 1);
  }
}

TEST_CASE("statistics and affine shapes follow PyTorch") {
  Shape s{3, 4, 2, 2};
  auto shapeOf = [&](NormConfig c) { return ReductionPlan::make(s, c).statShape(); };
  CHECK(shapeOf(cfg(NormKind::Batch)) == Shape{4});
  CHECK(shapeOf(cfg(NormKind::Instance)) == Shape{3, 4});
  auto g = cfg(NormKind::Group);
  g.groups = 2;
  CHECK(shapeOf(g) == Shape{3, 2});
  CHECK(ReductionPlan::make(s, g).statAxisNames() == std::vector<std::string>{"N", "G"});
  auto ln = cfg(NormKind::Layer);
  ln.normalized_shape = {2, 2};
  CHECK(shapeOf(ln) == Shape{3, 4});
  CHECK(ReductionPlan::make(s, ln).affineShape() == Shape{2, 2});
  CHECK(shapeOf(cfg(NormKind::Layer2d)) == Shape{3, 2, 2});
  CHECK(ReductionPlan::make(s, cfg(NormKind::Layer2d)).affineShape() == Shape{4});
  auto all = cfg(NormKind::Custom);
  all.axes = {0, 1, 2, 3};
  CHECK(shapeOf(all) == Shape{1});
  // (B, T, C) with LayerNorm(C): one group per token.
  auto tok = cfg(NormKind::Layer);
  tok.normalized_shape = {8};
  CHECK(ReductionPlan::make(Shape{2, 5, 8}, tok).groupCount() == 10);
}

TEST_CASE("GroupNorm numbering is row-major over (n, g) and the affine index is the channel") {
  auto c = cfg(NormKind::Group);
  c.groups = 2;
  ReductionPlan plan = ReductionPlan::make(Shape{3, 4, 2, 2}, c);
  // Element (n=1, c=3, h=0, w=1): flat 1*16 + 3*4 + 1 = 29, group n*G + c/(C/G) = 1*2 + 1 = 3.
  CHECK(plan.groupOf(29) == 3);
  CHECK(plan.affineIndexOf(29) == 3);
  CHECK(plan.groupBase(3) == 16 + 8);
  auto ln = cfg(NormKind::Layer);
  ln.normalized_shape = {2, 2};
  CHECK(ReductionPlan::make(Shape{3, 4, 2, 2}, ln).affineIndexOf(29) == 1);
}

TEST_CASE("descriptions and PyTorch lines") {
  Shape s{3, 4, 2, 2};
  CHECK(ReductionPlan::make(s, cfg(NormKind::Batch)).describe() ==
        "reduces N, H, W: 4 groups of 12 elements, one per channel");
  auto g = cfg(NormKind::Group);
  g.groups = 2;
  CHECK(ReductionPlan::make(s, g).pytorchLine() == "nn.GroupNorm(num_groups=2, num_channels=4)");
  auto ln = cfg(NormKind::Layer);
  ln.normalized_shape = {4, 2, 2};
  ln.eps = 1e-3;
  CHECK(ReductionPlan::make(s, ln).pytorchLine() ==
        "nn.LayerNorm(normalized_shape=[4, 2, 2], eps=0.001)");
  auto b = cfg(NormKind::Batch);
  b.momentum = std::nullopt;
  b.training = false;
  CHECK(ReductionPlan::make(Shape{5, 3}, b).pytorchLine() ==
        "nn.BatchNorm1d(num_features=3, momentum=None).eval()");
}

TEST_CASE("every invalid request throws a clear NormError") {
  auto throwsWith = [](const Shape& s, const NormConfig& c, const std::string& fragment) {
    CAPTURE(fragment);
    try {
      ReductionPlan::make(s, c);
      FAIL("expected an error");
    } catch (const NormError& e) {
      CHECK(std::string(e.what()).find(fragment) != std::string::npos);
    }
  };
  Shape s{3, 4, 2, 2};
  auto g = cfg(NormKind::Group);
  g.groups = 3;
  throwsWith(s, g, "divisible by num_groups");
  g.groups = 0;
  throwsWith(s, g, "divisible by num_groups");
  auto ln = cfg(NormKind::Layer);
  ln.normalized_shape = {4, 2};
  throwsWith(s, ln, "Given normalized_shape=[4, 2], expected input with shape [*, 4, 2]");
  ln.normalized_shape = {1, 3, 4, 2, 2};
  throwsWith(s, ln, "Given normalized_shape");
  throwsWith(Shape{3, 0, 2}, cfg(NormKind::Batch), "every dim must be at least 1");
  throwsWith(Shape{3, -2, 2}, cfg(NormKind::Batch), "every dim must be at least 1");
  throwsWith(Shape{1, 2, 3, 4, 5}, cfg(NormKind::Batch), "rank 5 is out of range");
  throwsWith(Shape{}, cfg(NormKind::Batch), "rank 0 is out of range");
  auto e = cfg(NormKind::Batch);
  e.eps = 0;
  throwsWith(s, e, "eps must be");
  e.eps = -1;
  throwsWith(s, e, "eps must be");
  e.eps = std::numeric_limits<double>::infinity();
  throwsWith(s, e, "eps must be");
  e.eps = std::numeric_limits<double>::quiet_NaN();
  throwsWith(s, e, "eps must be");
  throwsWith(Shape{1, 4}, cfg(NormKind::Batch), "Expected more than 1 value per channel");
  throwsWith(Shape{1, 4, 1, 1}, cfg(NormKind::Batch), "Expected more than 1 value per channel");
  throwsWith(Shape{2, 4, 1, 1}, cfg(NormKind::Instance), "Expected more than 1 spatial element");
  throwsWith(Shape{4}, cfg(NormKind::Batch), "expects 2D");
  throwsWith(Shape{4, 3}, cfg(NormKind::Instance), "expects 3D");
  auto big = cfg(NormKind::Batch);
  big.max_elements = 1000;
  throwsWith(Shape{10, 10, 10, 2}, big, "more than the limit of 1000 elements");
  auto cu = cfg(NormKind::Custom);
  throwsWith(s, cu, "at least one axis");
  cu.axes = {4};
  throwsWith(s, cu, "Dimension out of range");
  cu.axes = {1, -3};
  throwsWith(s, cu, "appears twice");
  auto mom = cfg(NormKind::Batch);
  mom.momentum = 1.5;
  throwsWith(s, mom, "momentum");
  // BatchNorm eval with one value per channel is fine (running statistics are used).
  auto ev = cfg(NormKind::Batch);
  ev.training = false;
  CHECK_NOTHROW(ReductionPlan::make(Shape{1, 4}, ev));
}

TEST_CASE("parseShape and parseAxes name the bad token") {
  CHECK(parseShape(" 3, 4,2 ,2") == Shape{3, 4, 2, 2});
  CHECK_THROWS_WITH_AS(parseShape("3,x,2"), doctest::Contains("'x' is not an integer"), NormError);
  CHECK_THROWS_WITH_AS(parseShape("3,,2"), doctest::Contains("is not an integer"), NormError);
  CHECK_THROWS_WITH_AS(parseShape("3,0"), doctest::Contains("at least 1"), NormError);
  CHECK_THROWS_AS(parseShape(""), NormError);
  CHECK(parseAxes("0,-1") == std::vector<int>{0, -1});
  CHECK_THROWS_AS(parseAxes("9"), NormError);
  CHECK_THROWS_AS(parseNormKind("batchnorm"), NormError);
}

// The flags of the mapping of this process that holds `address`, as /proc/self/smaps lists them
// ("" where there is no such file or mapping).
static std::string mappingFlags(const void* address) {
  const auto at = reinterpret_cast<uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> lo >> dash >> hi && dash == '-' && line.find(':') > line.find(' ')) {
      inside = lo <= at && at < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

TEST_CASE("tensor storage starts on a cache line, and large tensors on advised huge pages") {
  const TensorD small(Shape{3, 5});
  CHECK(reinterpret_cast<uintptr_t>(small.data.data()) % 64 == 0);
  const Tensor large(Shape{int64_t{3} << 20});  // 12 MiB, past kHugeTensorBytes
  const auto at = reinterpret_cast<uintptr_t>(large.data.data());
  CHECK(at % 64 == 0);
#if defined(__linux__)
  CHECK(at % (size_t{2} << 20) == 0);
  // Where the kernel offers transparent huge pages, the advice shows as the mapping's "hg" flag.
  std::ifstream mode("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(mode, modes);
  if (!modes.empty() && modes.find("[never]") == std::string::npos) {
    const std::string flags = mappingFlags(large.data.data());
    CAPTURE(flags);
    CHECK(flags.find(" hg") != std::string::npos);
  }
#endif
  // Every element was value-initialized through the allocator, as any vector's.
  CHECK(large.data.front() == 0.0f);
  CHECK(large.data.back() == 0.0f);
}
