// Tests of `normviz compute` as a user runs it: the built binary, its .npy outputs, --json, errors.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "normviz/error.hpp"
#include "normviz/npy.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using normviz::NpyDtype;
using normviz::Shape;
using normviz::TensorD;

namespace {

const std::string kFixtures = NORMVIZ_TEST_DATA;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Single-quoted for /bin/sh, so paths with spaces or quotes pass through unchanged.
std::string shellQuote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct Run {
  int status = -1;
  std::string out, err;
};

// A scratch directory per test: `out` is the --out target (not created in advance), and the
// binary's stdout/stderr are captured beside it.
struct Sandbox {
  fs::path root, out;
  Sandbox() {
    static int counter = 0;
    root = fs::temp_directory_path() /
           ("normviz-test-cli-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(root);
    fs::create_directories(root);
    out = root / "out";
  }
  ~Sandbox() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  std::string path(const std::string& name) const { return (root / name).string(); }

  Run run(const std::string& args) const {
    const std::string cmd = shellQuote(NORMVIZ_BINARY) + " " + args + " >" +
                            shellQuote(path("stdout.txt")) + " 2>" + shellQuote(path("stderr.txt"));
    Run r;
    const int raw = std::system(cmd.c_str());
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    r.out = slurp(root / "stdout.txt");
    r.err = slurp(root / "stderr.txt");
    return r;
  }
  // `compute` with --out pointing at the sandbox's out directory.
  Run compute(const std::string& args) const {
    return run("compute " + args + " --out " + shellQuote(out.string()));
  }
  TensorD output(const std::string& name) const { return normviz::readNpy((out / name).string()); }
  std::vector<std::string> outputNames() const {
    std::vector<std::string> names;
    if (fs::exists(out)) {
      for (const auto& e : fs::directory_iterator(out))
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
};

json workedExample() {
  std::ifstream in(kFixtures + "/worked-example.json");
  REQUIRE(in.good());
  return json::parse(in);
}

std::vector<double> workedX() {
  return workedExample()["x"].get<std::vector<double>>();
}

std::string joinDims(const std::vector<int64_t>& dims) {
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(dims[i]);
  }
  return s;
}

// The worked example's flags for one of its cases.
std::string flagsFor(const json& c) {
  const std::string norm = c["norm"].get<std::string>();
  std::string flags = "--norm " + norm;
  if (c.contains("normalized_shape"))
    flags += " --normalized-shape " + joinDims(c["normalized_shape"].get<std::vector<int64_t>>());
  if (c.contains("num_groups")) flags += " --groups " + std::to_string(c["num_groups"].get<int>());
  return flags + " --shape 3,4,2,2 --init worked-example";
}

// GroupNorm(2) statistics of the worked example by hand, in double: group (n, g) holds channels
// 2g and 2g+1 of sample n, 8 consecutive values.
struct HandStats {
  normviz::TensorData<double> mean, var;
};
HandStats groupNormStats(const std::vector<double>& x) {
  HandStats s;
  for (int g = 0; g < 6; ++g) {
    double sum = 0, sq = 0;
    for (int i = 0; i < 8; ++i) sum += x[static_cast<size_t>(8 * g + i)];
    const double mean = sum / 8;
    for (int i = 0; i < 8; ++i) {
      const double d = x[static_cast<size_t>(8 * g + i)] - mean;
      sq += d * d;
    }
    s.mean.push_back(mean);
    s.var.push_back(sq / 8);
  }
  return s;
}

// BatchNorm statistics of the worked example per channel c over (n, h, w): 12 values.
HandStats batchNormStats(const std::vector<double>& x) {
  HandStats s;
  for (int c = 0; c < 4; ++c) {
    std::vector<double> v;
    for (int n = 0; n < 3; ++n)
      for (int i = 0; i < 4; ++i) v.push_back(x[static_cast<size_t>(16 * n + 4 * c + i)]);
    double sum = 0, sq = 0;
    for (double a : v) sum += a;
    const double mean = sum / 12;
    for (double a : v) sq += (a - mean) * (a - mean);
    s.mean.push_back(mean);
    s.var.push_back(sq / 12);
  }
  return s;
}

// Runs `compute args` in a fresh sandbox and checks that it failed, named `reason` on stderr and
// left nothing at --out. Returns the run for further checks.
Run expectCleanFailure(const std::string& args, const std::string& reason) {
  CAPTURE(args);
  Sandbox box;
  const Run r = box.compute(args);
  CAPTURE(r.err);
  CHECK(r.status != 0);
  CHECK(r.err.find(reason) != std::string::npos);
  CHECK(box.outputNames().empty());
  CHECK(!fs::exists(box.out));  // not even an empty directory
  return r;
}

std::string npyDescr(const fs::path& file) {
  const std::string bytes = slurp(file);
  const size_t at = bytes.find("'descr': '");
  return at == std::string::npos ? "" : bytes.substr(at + 10, 3);
}

}  // namespace

TEST_CASE("compute reproduces every layer of the worked example") {
  const json ex = workedExample();
  REQUIRE(ex["cases"].size() == 6);
  for (const json& c : ex["cases"]) {
    CAPTURE(c["module"].get<std::string>());
    Sandbox box;
    const Run r = box.compute(flagsFor(c));
    CAPTURE(r.err);
    REQUIRE(r.status == 0);
    const TensorD y = box.output("y.npy");
    REQUIRE(y.shape == Shape{3, 4, 2, 2});
    const auto want = c["y"].get<std::vector<double>>();
    // The fixture is rounded to 4 decimals.
    for (size_t i = 0; i < want.size(); ++i) CHECK(std::fabs(y.data[i] - want[i]) <= 0.5e-4 + 1e-6);
  }
}

TEST_CASE(
    "compute --device gpu-emulated runs the CUDA kernels on every layer of the worked example") {
  const json ex = workedExample();
  for (const json& c : ex["cases"]) {
    CAPTURE(c["module"].get<std::string>());
    Sandbox box;
    const Run r = box.compute(flagsFor(c) + " --device gpu-emulated --json");
    CAPTURE(r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("falling back") == std::string::npos);
    const std::string backend = json::parse(r.out)["timings"]["backend"].get<std::string>();
    CHECK(backend.find("emulated") != std::string::npos);
    CHECK(backend.rfind("gpu ", 0) == 0);
    const TensorD y = box.output("y.npy");
    const auto want = c["y"].get<std::vector<double>>();
    for (size_t i = 0; i < want.size(); ++i) CHECK(std::fabs(y.data[i] - want[i]) <= 0.5e-4 + 1e-6);
  }
  // A design that cannot run the layer is an error, not a quiet fallback.
  Sandbox box;
  const Run r = box.compute(
      "--norm batch --shape 4,3,2,2 --init randn --eval --device gpu-emulated --gpu-variant "
      "block-tree");
  CHECK(r.status != 0);
  CHECK(r.err.find("block-tree") != std::string::npos);
  CHECK(r.err.find("use auto") != std::string::npos);
  // The reason is the design's own: vector-registers loads rows of a multiple of 4 floats.
  Sandbox rows;
  const Run v = rows.compute(
      "--norm layer --shape 4,7 --init randn --device gpu-emulated --gpu-variant "
      "vector-registers");
  CHECK(v.status != 0);
  CHECK(v.err.find("vector-registers") != std::string::npos);
  CHECK(v.err.find("multiple of 4") != std::string::npos);
  Sandbox named;
  const Run n = named.compute(
      "--norm layer --shape 4,8 --init randn --device gpu-emulated --gpu-variant warp-welford "
      "--json");
  REQUIRE(n.status == 0);
  CHECK(json::parse(n.out)["timings"]["backend"].get<std::string>().find("warp-welford") !=
        std::string::npos);
}

TEST_CASE("compute --help lists every GPU kernel design with what it does") {
  Sandbox box;
  const Run r = box.run("compute --help");
  REQUIRE(r.status == 0);
  for (const char* name : {"auto", "thread-per-row", "block-tree", "warp-shuffle", "warp-welford",
                           "vector-registers", "split-reduce"}) {
    CAPTURE(name);
    CHECK(r.out.find(std::string("  ") + name + ": ") != std::string::npos);
  }
  CHECK(r.out.find("the naive design") != std::string::npos);
}

TEST_CASE("compute --norm group --groups 2 writes y, mean, var, rstd and nothing else") {
  Sandbox box;
  const Run r = box.compute("--norm group --groups 2 --shape 3,4,2,2 --init worked-example");
  CAPTURE(r.err);
  REQUIRE(r.status == 0);
  CHECK(box.outputNames() == std::vector<std::string>{"mean.npy", "rstd.npy", "var.npy", "y.npy"});
  const HandStats want = groupNormStats(workedX());
  const TensorD mean = box.output("mean.npy"), var = box.output("var.npy"),
                rstd = box.output("rstd.npy");
  REQUIRE(mean.shape == Shape{3, 2});
  REQUIRE(var.shape == Shape{3, 2});
  REQUIRE(rstd.shape == Shape{3, 2});
  for (size_t g = 0; g < 6; ++g) {
    // Sums of eighths of small integers are exact in float32.
    CHECK(mean.data[g] == want.mean[g]);
    CHECK(var.data[g] == want.var[g]);
    CHECK(rstd.data[g] == doctest::Approx(1 / std::sqrt(want.var[g] + 1e-5)).epsilon(1e-6));
  }
  // float32 results are saved as float32 ('<f4'); --precision fp64 saves float64.
  CHECK(npyDescr(box.out / "y.npy") == "<f4");
  Sandbox box64;
  REQUIRE(box64
              .compute("--norm group --groups 2 --shape 3,4,2,2 --init worked-example "
                       "--precision fp64")
              .status == 0);
  CHECK(npyDescr(box64.out / "y.npy") == "<f8");
  CHECK(box64.output("var.npy").data == want.var);
}

TEST_CASE("compute --json prints the plan, the per-group statistics and timings") {
  Sandbox box;
  const Run r = box.compute("--norm group --groups 2 --shape 3,4,2,2 --init worked-example --json");
  CAPTURE(r.err);
  REQUIRE(r.status == 0);
  CAPTURE(r.out);
  const json j = json::parse(r.out);
  CHECK(j["shape"] == json({3, 4, 2, 2}));
  CHECK(j["norm"] == "group");
  CHECK(j["pytorch"] == "nn.GroupNorm(num_groups=2, num_channels=4)");
  CHECK(j["group_count"] == 6);
  CHECK(j["group_size"] == 8);
  CHECK(j["stat_shape"] == json({3, 2}));
  REQUIRE(j["description"].is_string());
  CHECK(j["description"].get<std::string>().find("6 groups of 8") != std::string::npos);
  CHECK(j["timings"]["backend"] == "cpu-fp32 (two-pass)");
  CHECK(j["timings"]["seconds"].get<double>() >= 0);
  CHECK(j["outputs"].size() == 4);

  const HandStats want = groupNormStats(workedX());
  REQUIRE(j["groups"].size() == 6);
  for (size_t g = 0; g < 6; ++g) {
    const json& grp = j["groups"][g];
    CHECK(grp["group"] == g);
    CHECK(grp["mean"].get<double>() == want.mean[g]);
    CHECK(grp["var"].get<double>() == want.var[g]);
    CHECK(grp["rstd"].get<double>() ==
          doctest::Approx(1 / std::sqrt(want.var[g] + 1e-5)).epsilon(1e-6));
  }

  CHECK(j["threads"].get<int>() >= 1);
  const Run two = box.compute(
      "--norm group --groups 2 --shape 3,4,2,2 --init worked-example --json --threads 2");
  REQUIRE(two.status == 0);
  CHECK(json::parse(two.out)["threads"] == 2);

  // --json alone (no --out) prints the same summary and writes nothing.
  Sandbox bare;
  const Run only =
      bare.run("compute --norm group --groups 2 --shape 3,4,2,2 --init worked-example --json");
  REQUIRE(only.status == 0);
  CHECK(json::parse(only.out)["group_count"] == 6);
  CHECK(!fs::exists(bare.out));
}

TEST_CASE("BatchNorm training writes the updated running statistics") {
  const std::vector<double> x = workedX();
  const HandStats batch = batchNormStats(x);
  SUBCASE("momentum 0.1 from the initial 0 and 1") {
    Sandbox box;
    const Run r = box.compute("--norm batch --shape 3,4,2,2 --init worked-example");
    CAPTURE(r.err);
    REQUIRE(r.status == 0);
    CHECK(box.outputNames() == std::vector<std::string>{"mean.npy", "rstd.npy", "running_mean.npy",
                                                        "running_var.npy", "var.npy", "y.npy"});
    const TensorD rm = box.output("running_mean.npy"), rv = box.output("running_var.npy");
    REQUIRE(rm.shape == Shape{4});
    REQUIRE(rv.shape == Shape{4});
    for (size_t c = 0; c < 4; ++c) {
      CHECK(rm.data[c] == doctest::Approx(0.1 * batch.mean[c]).epsilon(1e-6));
      CHECK(rv.data[c] == doctest::Approx(0.9 + 0.1 * batch.var[c] * 12 / 11).epsilon(1e-6));
    }
  }
  SUBCASE("momentum none: the first batch's statistics, variance unbiased") {
    Sandbox box;
    REQUIRE(
        box.compute("--norm batch --momentum none --shape 3,4,2,2 --init worked-example").status ==
        0);
    const TensorD rm = box.output("running_mean.npy"), rv = box.output("running_var.npy");
    for (size_t c = 0; c < 4; ++c) {
      CHECK(rm.data[c] == doctest::Approx(batch.mean[c]).epsilon(1e-6));
      CHECK(rv.data[c] == doctest::Approx(batch.var[c] * 12 / 11).epsilon(1e-6));
    }
  }
}

TEST_CASE("BatchNorm --eval normalizes with the given running statistics and updates nothing") {
  Sandbox box;
  const TensorD rm(Shape{4}, {0.5, 1.0, -1.0, 2.0}), rv(Shape{4}, {1.0, 4.0, 0.25, 2.0});
  normviz::writeNpy(box.path("rm.npy"), rm, NpyDtype::Float32);
  normviz::writeNpy(box.path("rv.npy"), rv, NpyDtype::Float32);
  const Run r = box.compute("--norm batch --eval --running-mean " + shellQuote(box.path("rm.npy")) +
                            " --running-var " + shellQuote(box.path("rv.npy")) +
                            " --shape 3,4,2,2 --init worked-example --precision fp64");
  CAPTURE(r.err);
  REQUIRE(r.status == 0);
  CHECK(box.outputNames() == std::vector<std::string>{"mean.npy", "rstd.npy", "var.npy", "y.npy"});
  const std::vector<double> x = workedX();
  const TensorD y = box.output("y.npy");
  for (size_t i = 0; i < 48; ++i) {
    const size_t c = (i / 4) % 4;
    CHECK(y.data[i] ==
          doctest::Approx((x[i] - rm.data[c]) / std::sqrt(rv.data[c] + 1e-5)).epsilon(1e-12));
  }
  CHECK(box.output("mean.npy").data == rm.data);
  CHECK(box.output("var.npy").data == rv.data);
}

TEST_CASE("--input, --weight and --bias read .npy files") {
  Sandbox box;
  const std::vector<double> x = workedX();
  normviz::writeNpy(box.path("x.npy"), TensorD(Shape{3, 4, 2, 2}, x), NpyDtype::Float32);
  const TensorD w(Shape{4}, {2.0, -1.0, 0.5, 3.0}), b(Shape{4}, {0.25, 1.0, -2.0, 0.0});
  normviz::writeNpy(box.path("w.npy"), w, NpyDtype::Float32);
  normviz::writeNpy(box.path("b.npy"), b, NpyDtype::Float64);

  // The same input given as a file gives bit-identical results to the generated one.
  const Run from_file =
      box.compute("--norm group --groups 2 --input " + shellQuote(box.path("x.npy")));
  CAPTURE(from_file.err);
  REQUIRE(from_file.status == 0);
  const TensorD y_file = box.output("y.npy");
  Sandbox gen;
  REQUIRE(gen.compute("--norm group --groups 2 --shape 3,4,2,2 --init worked-example").status == 0);
  CHECK(y_file.data == gen.output("y.npy").data);

  Sandbox affine;
  const Run r = affine.compute(
      "--norm group --groups 2 --precision fp64 --input " + shellQuote(box.path("x.npy")) +
      " --weight " + shellQuote(box.path("w.npy")) + " --bias " + shellQuote(box.path("b.npy")));
  CAPTURE(r.err);
  REQUIRE(r.status == 0);
  Sandbox plain;
  REQUIRE(plain
              .compute("--norm group --groups 2 --precision fp64 --input " +
                       shellQuote(box.path("x.npy")))
              .status == 0);
  const TensorD ya = affine.output("y.npy"), yp = plain.output("y.npy");
  for (size_t i = 0; i < 48; ++i) {
    const size_t c = (i / 4) % 4;
    CHECK(ya.data[i] == doctest::Approx(yp.data[i] * w.data[c] + b.data[c]).epsilon(1e-12));
  }
}

TEST_CASE("errors exit non-zero, explain on stderr and leave no files in --out") {
  Sandbox files;
  std::ofstream(files.path("garbage.npy")) << "this is not a numpy file";
  normviz::writeNpy(files.path("w3.npy"), TensorD(Shape{3}, {1, 2, 3}), NpyDtype::Float32);
  const std::string big_endian = shellQuote(kFixtures + "/npy/big_endian_f4.npy");
  struct Case {
    std::string args, reason;
  };
  const std::vector<Case> cases = {
      {"--norm group --groups 3 --shape 3,4,2,2", "divisible by num_groups"},
      {"--norm layer --normalized-shape 4,2 --shape 3,4,2,2", "normalized_shape"},
      {"--norm group --input " + shellQuote(files.path("missing.npy")), files.path("missing.npy")},
      {"--norm group --input " + shellQuote(files.path("garbage.npy")), "bad magic"},
      {"--norm group --input " + big_endian, "big-endian"},
      {"--norm group --shape 3,4,2,2 --weight " + shellQuote(files.path("w3.npy")),
       "weight has shape (3,)"},
      {"--norm group --frobnicate", "frobnicate"},
      {"--norm wobble", "unknown norm 'wobble'"},
      {"--norm group --variance sloppy", "unknown variance strategy 'sloppy'"},
      {"--norm batch --momentum fast", "--momentum 'fast'"},
      {"--norm batch --shape 1,4,1,1", "Expected more than 1 value per channel"},
      {"--norm custom --shape 3,4,2,2", "--axes"},
      {"--norm custom --axes 0,3 --shape 3,4,2", "Dimension out of range"},
      {"--norm group --shape 3,x,2,2", "'x' is not an integer"},
      {"--norm group --shape 2,2,2,2 --init worked-example", "needs --shape 3,4,2,2"},
      {"--norm group --shape 3,4,2,2 --init sparkly", "unknown --init 'sparkly'"},
      {"--norm group --shape 3,4,2,2 --threads -1", "threads must be 0 (every core)"},
  };
  for (const Case& c : cases) expectCleanFailure(c.args, c.reason);
  SUBCASE("an --out that is a file is left alone") {
    Sandbox box;
    std::ofstream(box.out) << "keep me";
    const Run r = box.compute("--norm group --shape 3,4,2,2");
    CHECK(r.status != 0);
    CHECK(r.err.find("not a directory") != std::string::npos);
    CHECK(slurp(box.out) == "keep me");
  }
}

TEST_CASE("shapes no tensor can have: one message, exit 1, no output, from compute and the app") {
  // The .npy header libFuzzer found (tests/fuzz/corpus/npy/zero_beside_overflow.npy) and its
  // neighbours as files and as --shape.
  Sandbox files;
  auto npyWithShape = [&](const std::string& name, const std::string& shape) {
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
    header.append(63 - (10 + header.size()) % 64, ' ');
    header += '\n';
    std::ofstream out(files.path(name), std::ios::binary);
    out << std::string("\x93NUMPY\x01\x00", 8) << static_cast<char>(header.size() & 0xff)
        << static_cast<char>(header.size() >> 8) << header;
    return shellQuote(files.path(name));
  };
  struct Case {
    std::string args, reason;
  };
  const std::vector<Case> cases = {
      {"--norm batch --input " +
           npyWithShape("fuzz.npy", "(2000000400000000000, 744073709551615, 0)"),
       "(not counting its zero dims); refusing to read it"},
      {"--norm batch --input " + npyWithShape("zero.npy", "(0, 9223372036854775807)"),
       "(not counting its zero dims)"},
      {"--norm batch --input " + npyWithShape("over.npy", "(3037000500, 3037000500, 2)"),
       "refusing to read it"},
      {"--norm batch --input " + npyWithShape("neg.npy", "(-3, 4)"), "negative dimension"},
      {"--norm batch --input " + npyWithShape("word.npy", "(three, 4)"),
       "expected an integer in 'shape'"},
      {"--norm batch --shape 2000000400000000000,744073709551615,0",
       "every dim must be at least 1"},
      {"--norm batch --shape 3037000500,3037000500,2", "cannot be represented"},
      {"--norm batch --shape 99999999999999999999,2", "out of range"},
      {"--norm batch --shape -3,4", "has a dim of -3"},
      {"--norm batch --shape 3,four", "'four' is not an integer"},
      {"--norm layer --normalized-shape 3037000500,3037000500 --shape 3,4",
       "cannot be represented"},
  };
  for (const Case& c : cases) {
    const Run compute = expectCleanFailure(c.args, c.reason);
    CHECK(compute.status == 1);
    CHECK(std::count(compute.err.begin(), compute.err.end(), '\n') == 1);
    CHECK(compute.out.empty());
    // The app (or, without it, the demo) takes the same flags and refuses them before any window.
    Sandbox app;
    const Run r = app.run(c.args);
    CAPTURE(r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find(c.reason) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

// ---- compute --backward ---------------------------------------------------------------

namespace {

// The flags that rebuild a fixture case of tests/fixtures/torch from its manifest entry.
std::string torchCaseFlags(const json& c, const std::string& dir) {
  const json& files = c["files"];
  auto file = [&](const char* key) { return shellQuote(dir + files[key].get<std::string>()); };
  std::ostringstream eps;
  eps.precision(17);
  eps << c["eps"].get<double>();
  std::string flags = "--norm " + c["norm"].get<std::string>() + " --eps " + eps.str() +
                      " --input " + file("x") + " --backward --grad-output " + file("dy");
  if (c.contains("groups")) flags += " --groups " + std::to_string(c["groups"].get<int>());
  if (c.contains("normalized_shape"))
    flags += " --normalized-shape " + joinDims(c["normalized_shape"].get<std::vector<int64_t>>());
  if (c.contains("axes")) {
    std::vector<int64_t> axes;
    for (int a : c["axes"].get<std::vector<int>>()) axes.push_back(a);
    flags += " --axes " + joinDims(axes);
  }
  if (c.contains("training") && !c["training"].get<bool>()) flags += " --eval";
  if (files.contains("weight")) flags += " --weight " + file("weight");
  if (files.contains("bias")) flags += " --bias " + file("bias");
  if (files.contains("running_mean_in")) flags += " --running-mean " + file("running_mean_in");
  if (files.contains("running_var_in")) flags += " --running-var " + file("running_var_in");
  return flags;
}

}  // namespace

TEST_CASE("compute --backward matches PyTorch autograd on every fixture case to 1e-4 in float32") {
  std::ifstream in(kFixtures + "/torch/manifest.json");
  REQUIRE(in.good());
  const json manifest = json::parse(in);
  for (const json& c : manifest["cases"]) {
    const std::string name = c["name"].get<std::string>();
    CAPTURE(name);
    const std::string dir = kFixtures + "/torch/" + name + "/";
    Sandbox box;
    const Run r = box.compute(torchCaseFlags(c, dir));
    CAPTURE(r.err);
    REQUIRE(r.status == 0);
    for (const char* grad : {"dx", "dweight", "dbias"}) {
      CAPTURE(grad);
      const bool expected = c["files"].contains(grad);
      REQUIRE(fs::exists(box.out / (std::string(grad) + ".npy")) == expected);
      if (!expected) continue;
      const TensorD got = box.output(std::string(grad) + ".npy");
      const TensorD want = normviz::readNpy(dir + c["files"][grad].get<std::string>());
      REQUIRE(got.shape == want.shape);
      double err = 0, scale = 0;
      for (int64_t i = 0; i < want.numel(); ++i) {
        err = std::max(err, std::fabs(got[i] - want[i]));
        scale = std::max(scale, std::fabs(want[i]));
      }
      CHECK(err <= 1e-4 * scale);
    }
  }
}

TEST_CASE("compute --backward writes dx, and dweight/dbias in the affine shape, beside y") {
  Sandbox files;
  normviz::writeNpy(files.path("w.npy"), TensorD(Shape{4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}),
                    NpyDtype::Float32);
  normviz::writeNpy(files.path("b.npy"), TensorD(Shape{4, 2}, 0.5), NpyDtype::Float32);
  const std::string layer = "--norm layer --normalized-shape 4,2 --shape 3,4,2 --init randn";
  SUBCASE("weight and bias") {
    Sandbox box;
    const Run r =
        box.compute(layer + " --backward --grad-init randn --weight " +
                    shellQuote(files.path("w.npy")) + " --bias " + shellQuote(files.path("b.npy")));
    CAPTURE(r.err);
    REQUIRE(r.status == 0);
    CHECK(box.outputNames() == std::vector<std::string>{"dbias.npy", "dweight.npy", "dx.npy",
                                                        "mean.npy", "rstd.npy", "var.npy",
                                                        "y.npy"});
    CHECK(box.output("dx.npy").shape == Shape{3, 4, 2});
    CHECK(box.output("dweight.npy").shape == Shape{4, 2});
    CHECK(box.output("dbias.npy").shape == Shape{4, 2});
    CHECK(r.out.find("cpu-fp32 backward") != std::string::npos);
  }
  SUBCASE("weight only: no dbias") {
    Sandbox box;
    REQUIRE(box.compute(layer + " --backward --grad-init ones --weight " +
                        shellQuote(files.path("w.npy")))
                .status == 0);
    CHECK(box.outputNames() == std::vector<std::string>{"dweight.npy", "dx.npy", "mean.npy",
                                                        "rstd.npy", "var.npy", "y.npy"});
  }
  SUBCASE("no affine: dx only") {
    Sandbox box;
    REQUIRE(box.compute(layer + " --backward --grad-init arange").status == 0);
    CHECK(box.outputNames() ==
          std::vector<std::string>{"dx.npy", "mean.npy", "rstd.npy", "var.npy", "y.npy"});
  }
}

TEST_CASE("--grad-init ones, arange and randn generate dy") {
  const std::string group = "--norm group --groups 2 --shape 3,4,2,2 --init worked-example ";
  // Without affine, dy = 1 makes Σ dy·y constant in x, so dx is zero up to rounding.
  Sandbox ones;
  REQUIRE(ones.compute(group + "--backward --grad-init ones --precision fp64").status == 0);
  for (double v : ones.output("dx.npy").data) CHECK(std::fabs(v) <= 1e-12);

  // arange is 0, 1, 2, ...: the same dx as that tensor given as a file.
  Sandbox arange, file;
  std::vector<double> ramp(48);
  for (size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<double>(i);
  normviz::writeNpy(file.path("dy.npy"), TensorD(Shape{3, 4, 2, 2}, ramp), NpyDtype::Float32);
  REQUIRE(arange.compute(group + "--backward --grad-init arange").status == 0);
  REQUIRE(
      file.compute(group + "--backward --grad-output " + shellQuote(file.path("dy.npy"))).status ==
      0);
  CHECK(arange.output("dx.npy").data == file.output("dx.npy").data);
  CHECK(arange.output("dx.npy").data != ones.output("dx.npy").data);

  // randn follows --seed.
  Sandbox a, b, c;
  REQUIRE(a.compute(group + "--backward --grad-init randn --seed 3").status == 0);
  REQUIRE(b.compute(group + "--backward --grad-init randn --seed 3").status == 0);
  REQUIRE(c.compute(group + "--backward --grad-init randn --seed 4").status == 0);
  CHECK(a.output("dx.npy").data == b.output("dx.npy").data);
  CHECK(a.output("dx.npy").data != c.output("dx.npy").data);
}

TEST_CASE("compute --backward --json adds the backward's timings and per-group sums") {
  Sandbox box;
  const Run r = box.run(
      "compute --norm batch --shape 3,4,2,2 --init worked-example --backward --grad-init arange "
      "--precision fp64 --json");
  CAPTURE(r.err);
  REQUIRE(r.status == 0);
  const json j = json::parse(r.out);
  const json& b = j["backward"];
  CHECK(b["timings"]["backend"] == "cpu-fp64 backward reference");
  CHECK(b["timings"]["seconds"].get<double>() >= 0);
  CHECK(b["group_coupled"] == true);
  REQUIRE(b["groups"].size() == 4);
  // BatchNorm channel c: Σ dy over its 12 elements, dy = flat index (no affine: w = 1).
  for (int c = 0; c < 4; ++c) {
    double sum = 0;
    for (int n = 0; n < 3; ++n)
      for (int i = 0; i < 4; ++i) sum += 16 * n + 4 * c + i;
    CHECK(b["groups"][c]["group"] == c);
    CHECK(b["groups"][c]["sum_dy_w"].get<double>() == doctest::Approx(sum).epsilon(1e-12));
    CHECK(b["groups"][c]["sum_dy_w_xhat"].is_number());
  }
  CHECK(!fs::exists(box.out));
  // Evaluation mode says its gradient does not couple the batch.
  Sandbox eval;
  const Run e = eval.run(
      "compute --norm batch --eval --shape 3,4,2,2 --init worked-example --backward "
      "--grad-init ones --json");
  REQUIRE(e.status == 0);
  CHECK(json::parse(e.out)["backward"]["group_coupled"] == false);
}

TEST_CASE("backward errors: one message, non-zero exit, no output at all") {
  Sandbox files;
  std::ofstream(files.path("garbage.npy")) << "this is not a numpy file";
  normviz::writeNpy(files.path("dy_wrong.npy"), TensorD(Shape{3, 4, 4}, 1.0), NpyDtype::Float32);
  normviz::writeNpy(files.path("dy.npy"), TensorD(Shape{3, 4, 2, 2}, 1.0), NpyDtype::Float32);
  const std::string layer = "--norm group --shape 3,4,2,2 ";
  struct Case {
    std::string args, reason;
  };
  const std::vector<Case> cases = {
      {layer + "--backward --grad-output " + shellQuote(files.path("dy_wrong.npy")),
       "--grad-output: dy has shape (3, 4, 4) but the input has shape (3, 4, 2, 2)"},
      {layer + "--grad-output " + shellQuote(files.path("dy.npy")),
       "--grad-output needs --backward"},
      {layer + "--grad-init randn", "--grad-init needs --backward"},
      {layer + "--backward --grad-output " + shellQuote(files.path("garbage.npy")),
       "--grad-output: "},
      {layer + "--backward --grad-output " + shellQuote(files.path("missing.npy")),
       files.path("missing.npy")},
      {layer + "--backward", "--backward needs dy"},
      {layer + "--backward --grad-init ones --grad-output " + shellQuote(files.path("dy.npy")),
       "not both"},
      {layer + "--backward --grad-init zeros", "unknown --grad-init 'zeros'"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const Run r = expectCleanFailure(c.args, c.reason);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.out.empty());
  }
}

TEST_CASE("bench --threads: a copy row per shape and pass and every CPU row's ratio to it") {
  Sandbox box;
  const Run r = box.run(
      "bench --no-gpu --shapes instance --threads 1 --cpu-repeats 1 --fp64-repeats 1 --json");
  CAPTURE(r.err);
  REQUIRE(r.status == 0);
  const json j = json::parse(r.out);
  CHECK(j["cpu_threads"] == 1);
  std::vector<std::string> paths, passes;
  std::map<std::string, double> copy_ms;  // per pass: each pass's rounds time the copy again
  for (const json& row : j["rows"]) {
    paths.push_back(row["path"]);
    passes.push_back(row["pass"]);
    if (row["path"] == "cpu copy") copy_ms[row["pass"]] = row["ms"];
  }
  CHECK(paths == std::vector<std::string>{"cpu copy", "cpu fp64 reference", "cpu fp32 two-pass",
                                          "cpu fp32 welford", "cpu fp32 naive", "cpu fp32 pairwise",
                                          "cpu copy", "cpu fp64 backward", "cpu fp32 backward",
                                          "cpu bound: read x, dy", "cpu bound: dx one pass"});
  CHECK(passes == std::vector<std::string>{"forward", "forward", "forward", "forward", "forward",
                                           "forward", "backward", "backward", "backward",
                                           "backward", "backward"});
  REQUIRE(copy_ms.size() == 2);
  // The copy and the backward's two bounds are baselines, the other rows the layer's paths.
  for (const json& row : j["rows"]) {
    CAPTURE(row.dump());
    const std::string path = row["path"];
    CHECK(row.value("baseline", false) == (path == "cpu copy" || path.rfind("cpu bound", 0) == 0));
    if (row["pass"] == "backward")
      CHECK(row["ratio_to_floor"].get<double>() ==
            doctest::Approx(row["ms"].get<double>() / (1.5 * copy_ms["backward"])).epsilon(1e-9));
    else
      CHECK_FALSE(row.contains("ratio_to_floor"));
  }
  // The read bound moves x and dy (8 bytes an element), the one-pass bound x, dy and dx.
  const double n = 32.0 * 64 * 56 * 56;
  CHECK(j["rows"][9]["gbs"].get<double>() ==
        doctest::Approx(8 * n / (j["rows"][9]["ms"].get<double>() * 1e6)).epsilon(1e-6));
  REQUIRE(copy_ms["forward"] > 0);
  REQUIRE(copy_ms["backward"] > 0);
  // x best per pass: the fastest row of each pass (the baselines aside) has ratio 1.
  for (const std::string pass : {"forward", "backward"}) {
    double best = 0;
    for (const json& row : j["rows"])
      if (row["pass"] == pass && !row.value("baseline", false) &&
          (best == 0 || row["ms"].get<double>() < best))
        best = row["ms"];
    REQUIRE(best > 0);
    for (const json& row : j["rows"])
      if (row["pass"] == pass)
        CHECK(row["ratio_to_best"].get<double>() ==
              doctest::Approx(row["ms"].get<double>() / best).epsilon(1e-9));
  }
  for (const json& row : j["rows"]) {
    CAPTURE(row.dump());
    CHECK(row["ratio_to_copy"].get<double>() ==
          doctest::Approx(row["ms"].get<double>() / copy_ms[row["pass"]]).epsilon(1e-9));
    CHECK(row["ms"].get<double>() > 0);
    // y (backward rows: dx) against the fp64 reference; the fp64 rows are the reference.
    CHECK(row["max_abs_err"].get<double>() < 1e-5);
  }
  CHECK(j["rows"][8]["max_abs_err"].get<double>() > 0);  // the fp32 dx was compared, not skipped

  const Run forward_only = box.run(
      "bench --no-gpu --shapes instance --threads 1 --cpu-repeats 1 --fp64-repeats 1 --json "
      "--no-backward");
  CAPTURE(forward_only.err);
  REQUIRE(forward_only.status == 0);
  const json fj = json::parse(forward_only.out);
  CHECK(fj["rows"].size() == 6);
  for (const json& row : fj["rows"]) CHECK(row["pass"] == "forward");
  CHECK_FALSE(fj.contains("cpu_backward_threads"));

  const Run bad = box.run("bench --no-gpu --threads -3");
  CHECK(bad.status != 0);
  CHECK(bad.err.find("threads must be 0 (every core)") != std::string::npos);
}

TEST_CASE("lessons --check: a planted wrong answer and a wrong expect_lit, with file and line") {
  Sandbox box;
  const std::string file = box.path("planted.json");
  std::ofstream(file)
      << "{\"name\": \"planted\", \"title\": \"t\", \"steps\": [\n"
         " {\"text\": \"GroupNorm(2)\", \"set\": {\"norm\": \"group\", \"groups\": 2,"
         " \"shape\": \"2,4,3,3\", \"init\": \"randn\", \"hover\": \"0,0,0,0\"}},\n"
         " {\"text\": \"wrong lit\", \"expect_lit\": 9},\n"
         " {\"text\": \"wrong answer\", \"question\": {\"kind\": \"number\", \"prompt\":"
         " \"How many means?\", \"answer\": 2, \"answer_is\": \"means\"}}\n"
         "]}\n";
  const Run bad = box.run("lessons --check " + shellQuote(file));
  if (bad.out.find("built without the app") != std::string::npos) {
    CHECK(bad.status == 2);  // a headless build parses the file but cannot apply its steps
    return;
  }
  CHECK(bad.status == 1);
  CHECK(bad.err.find(file + ":3: step 2: expect_lit is 9 but 18 cubes are lit") !=
        std::string::npos);
  CHECK(bad.err.find(file + ":4: step 3: the answer is 2 but the layer has 4 means") !=
        std::string::npos);
  CHECK(bad.out.find("2 problems") != std::string::npos);
  const Run builtin = box.run("lessons --check-builtin");
  CHECK(builtin.status == 0);
  CHECK(builtin.err.empty());
  const Run missing = box.run("lessons --check " + shellQuote(box.path("none.json")));
  CHECK(missing.status == 1);
  CHECK(missing.err.find("cannot read the lesson file") != std::string::npos);
}
