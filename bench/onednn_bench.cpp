// oneDNN's forward training normalization on the headline shapes, timed the way `normviz bench`
// times the CPU (median of repeats after one untimed run), printed as JSON for
// scripts/bench-vs-torch. oneDNN has LayerNorm and BatchNorm; GroupNorm and InstanceNorm arrived
// after the version Debian ships. Threads follow OMP_NUM_THREADS (Debian's oneDNN runs on OpenMP).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <string>
#include <vector>

namespace {

using dnnl::memory;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void fillRandn(memory& m) {
  float* p = static_cast<float*>(m.get_data_handle());
  const size_t n = m.get_desc().get_size() / sizeof(float);
  std::mt19937 rng(0);
  std::normal_distribution<float> d(0, 1);
  for (size_t i = 0; i < n; ++i) p[i] = d(rng);
}

// The largest |mean| and |var - 1| over the first rows of y: a normalization that ran, checked.
double worstRowDeviation(const memory& y, int64_t rows, int64_t row_length, int64_t stride) {
  const float* p = static_cast<const float*>(y.get_data_handle());
  double worst = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double s = 0, ss = 0;
    for (int64_t i = 0; i < row_length; ++i) s += p[r * stride + i];
    const double mean = s / static_cast<double>(row_length);
    for (int64_t i = 0; i < row_length; ++i)
      ss += (p[r * stride + i] - mean) * (p[r * stride + i] - mean);
    worst = std::max({worst, std::fabs(mean), std::fabs(ss / static_cast<double>(row_length) - 1)});
  }
  return worst;
}

template <typename Run>
double timeMs(dnnl::stream& s, int repeats, Run&& run) {
  run();
  s.wait();
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    run();
    s.wait();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  return median(ms);
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 9;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--repeats" && i + 1 < argc) {
      repeats = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--repeats N]   (threads: OMP_NUM_THREADS)\n", argv[0]);
      return 2;
    }
  }
  if (repeats < 1) {
    std::fprintf(stderr, "normviz_onednn_bench: --repeats must be at least 1\n");
    return 2;
  }
  try {
    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream s(eng);
    nlohmann::json rows = nlohmann::json::array();
    {
      // LayerNorm(768) on (8, 1024, 768): statistics over the last axis, mean and variance out.
      memory::desc md({8, 1024, 768}, memory::data_type::f32, memory::format_tag::tnc);
      dnnl::layer_normalization_forward::primitive_desc pd(
          dnnl::layer_normalization_forward::desc(dnnl::prop_kind::forward_training, md, 1e-5f,
                                                  dnnl::normalization_flags::none),
          eng);
      memory x(md, eng), y(pd.dst_desc(), eng), mean(pd.mean_desc(), eng),
          var(pd.variance_desc(), eng);
      fillRandn(x);
      dnnl::layer_normalization_forward prim(pd);
      const double ms = timeMs(s, repeats, [&] {
        prim.execute(s, {{DNNL_ARG_SRC, x},
                         {DNNL_ARG_DST, y},
                         {DNNL_ARG_MEAN, mean},
                         {DNNL_ARG_VARIANCE, var}});
      });
      rows.push_back(
          {{"shape", "layer"}, {"ms", ms}, {"check", worstRowDeviation(y, 4, 768, 768)}});
    }
    {
      // BatchNorm2d(64) training on (32, 64, 56, 56) NCHW: per-channel statistics.
      memory::desc md({32, 64, 56, 56}, memory::data_type::f32, memory::format_tag::nchw);
      dnnl::batch_normalization_forward::primitive_desc pd(
          dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_training, md, 1e-5f,
                                                  dnnl::normalization_flags::none),
          eng);
      memory x(md, eng), y(pd.dst_desc(), eng), mean(pd.mean_desc(), eng),
          var(pd.variance_desc(), eng);
      fillRandn(x);
      dnnl::batch_normalization_forward prim(pd);
      const double ms = timeMs(s, repeats, [&] {
        prim.execute(s, {{DNNL_ARG_SRC, x},
                         {DNNL_ARG_DST, y},
                         {DNNL_ARG_MEAN, mean},
                         {DNNL_ARG_VARIANCE, var}});
      });
      // One channel of one image is not normalized by itself; the check is the channel's mean
      // over the batch, which must be 0.
      const float* p = static_cast<const float*>(y.get_data_handle());
      double s0 = 0;
      for (int64_t n = 0; n < 32; ++n)
        for (int64_t i = 0; i < 56 * 56; ++i) s0 += p[n * 64 * 56 * 56 + i];
      rows.push_back({{"shape", "batch"}, {"ms", ms}, {"check", std::fabs(s0 / (32.0 * 56 * 56))}});
    }
    const dnnl_version_t* v = dnnl_version();
    nlohmann::json out = {
        {"onednn_version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                               std::to_string(v->patch)},
        {"repeats", repeats},
        {"rows", rows}};
    std::printf("%s\n", out.dump(2).c_str());
  } catch (const dnnl::error& e) {
    std::fprintf(stderr, "normviz_onednn_bench: oneDNN failed: %s\n", e.what());
    return 1;
  }
  return 0;
}
