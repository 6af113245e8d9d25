// `normviz trace` end to end: the JSON object's layout and values, the text summary, and errors.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

namespace {

struct Run {
  int status;
  std::string out;
};

// Runs the normviz binary with `args`, capturing stdout and stderr together.
Run normviz(const std::string& args) {
  const std::string cmd = std::string(NORMVIZ_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int raw = pclose(p);
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, out};
}

}  // namespace

TEST_CASE("trace --json: GroupNorm worked example, group 1, 32 threads") {
  const Run r = normviz(
      "trace --norm group --groups 2 --shape 3,4,2,2 --init worked-example "
      "--group 1 --strategy two-pass --block-size 32 --json");
  REQUIRE(r.status == 0);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  CHECK(j["group"] == 1);
  CHECK(j["elements"] == nlohmann::json({8, 9, 10, 11, 12, 13, 14, 15}));
  CHECK(j["result"]["mean"] == 0.375);
  CHECK(j["result"]["var"] == 0.234375);
  const auto& stages = j["stages"];
  REQUIRE(stages.size() == 17);
  CHECK(stages[0]["name"] == "sum x");
  CHECK(stages[6]["name"] == "mean");
  for (const auto& s : stages) {
    REQUIRE(s["lanes"].size() == 32);
    CHECK(s["explanation"].get<std::string>().size() > 20);
    for (const auto& lane : s["lanes"]) {
      // Idle lanes hold nothing: no value and no coverage; covers are flat input indices.
      if (lane["idle"].get<bool>()) {
        CHECK(lane["value"].is_null());
        CHECK(lane["covers"].empty());
      } else {
        CHECK(lane["value"].is_number());
        for (const auto& f : lane["covers"]) CHECK((f.get<int>() >= 8 && f.get<int>() <= 15));
      }
    }
  }
  // shuffle 4: lane 0 = x[8] + x[12] covering flat 8 and 12, received from lane 4.
  const auto& lane0 = stages[3]["lanes"][0];
  CHECK(lane0["value"] == 1.0);
  CHECK(lane0["covers"] == nlohmann::json({8, 12}));
  CHECK(lane0["source"] == 4);
  CHECK(stages[6]["lanes"][0]["value"] == 0.375);
  CHECK(stages[6]["lanes"][0]["covers"].size() == 8);
}

TEST_CASE("trace --json: Welford lanes carry count, mean, m2; groups are row-major (n, g)") {
  const Run r = normviz(
      "trace --norm group --groups 2 --init worked-example --group 5 "
      "--strategy welford --block-size 64 --json");
  REQUIRE(r.status == 0);
  const nlohmann::json j = nlohmann::json::parse(r.out);
  // Group 5 = (n 2, g 1): channels 2-3 of sample 2, flat 40..47.
  CHECK(j["elements"] == nlohmann::json({40, 41, 42, 43, 44, 45, 46, 47}));
  const auto& lane = j["stages"][0]["lanes"][3];
  CHECK(lane["count"] == 1.0);
  CHECK(lane["m2"] == 0.0);
  CHECK(lane["mean"] == lane["value"]);
  CHECK(j["stages"][0]["lanes"][40]["count"].is_null());
  CHECK(std::abs(j["result"]["var"].get<double>() - j["reference"]["var"].get<double>()) < 1e-6);
}

TEST_CASE("trace without --json prints the stages in order") {
  const Run r = normviz("trace --norm group --init worked-example --group 1 --block-size 32");
  REQUIRE(r.status == 0);
  const size_t load = r.out.find("Each thread sums its elements");
  const size_t mean = r.out.find("Lane 0 holds the group's mean");
  CHECK(load != std::string::npos);
  CHECK(mean != std::string::npos);
  CHECK(load < mean);
  CHECK(r.out.find("result: mean 0.375  var 0.234375") != std::string::npos);
}

TEST_CASE("trace: bad group or block size is a clear error with a non-zero exit") {
  Run r = normviz("trace --norm group --init worked-example --group 6 --json");
  CHECK(r.status == 1);
  CHECK(r.out.find("group 6 is out of range") != std::string::npos);
  r = normviz("trace --norm group --init worked-example --group 0 --block-size 48");
  CHECK(r.status == 1);
  CHECK(r.out.find("block size 48 is not a multiple of 32") != std::string::npos);
  r = normviz("trace --norm group --init worked-example --strategy fastest");
  CHECK(r.status == 1);
  CHECK(r.out.find("unknown variance strategy") != std::string::npos);
  r = normviz("trace --norm group --shape 3,5,2,2 --group 0");
  CHECK(r.status == 1);
}
