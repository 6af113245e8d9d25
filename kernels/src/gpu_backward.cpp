// The GPU backward's host side: moving x, dy and the saved statistics, launching the backward
// kernels for the plan, and timing them (CUDA events, warm-up, L2 flushed, median).
//
// Built twice, as gpu_runtime.cpp is: against the CUDA runtime, and against the emulated device
// (emulated/gpu_backward.cpp), where the same calls run backward_kernels.cu on the CPU.
#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "backends.hpp"
#include "backward_launch.hpp"
#include "cuda_api.hpp"
#include "device_memory.hpp"
#include "host_layout.hpp"
#include "normviz/error.hpp"
#include "normviz/gpu.hpp"
#include "normviz/timing.hpp"

namespace normviz {

using gpu::check;
using gpu::DeviceBuffer;
using gpu::deviceMutex;
using gpu::upload;

namespace {

std::vector<float> fromDevice(const float* src, size_t count, const char* what) {
  std::vector<float> out(count);
  if (count)
    check(cudaMemcpy(out.data(), src, count * sizeof(float), cudaMemcpyDeviceToHost),
          std::string("copying ") + what + " back");
  return out;
}

TensorD widened(const Shape& shape, const std::vector<float>& v) {
  return TensorD(shape, std::vector<double>(v.begin(), v.end()));
}

}  // namespace

namespace gpu {
inline namespace NORMVIZ_KERNELS_NAMESPACE {

GpuBackwardResult backendBackward(const Tensor& x, const Tensor& dy, const ReductionPlan& plan,
                                  const NormParams& params, const TensorD& mean,
                                  const TensorD& rstd, const GpuOptions& options) {
  gpu::checkGpuRequest(x, plan, params, options);
  validateBackward(plan, dy, mean, rstd);
  if (const std::string why = gpuBackwardUnsupported(plan); !why.empty()) throw NormError(why);
  const GpuDevice& device = backendDevice();

  const gpu::HostLayout L = gpu::describeLayout(plan);
  const bool split = plan.kind() == NormKind::Batch;
  const size_t n = static_cast<size_t>(L.numel), groups = static_cast<size_t>(L.groups);
  const size_t affine = static_cast<size_t>(L.affine_count);
  const bool affine_grads = params.weight.has_value() || params.bias.has_value();

  std::lock_guard<std::mutex> lock(deviceMutex());
  check(cudaSetDevice(0), "selecting the GPU");
  DeviceBuffer d_x(n * sizeof(float), "the input"), d_dy(n * sizeof(float), "dy");
  DeviceBuffer d_dx(n * sizeof(float), "dx");
  DeviceBuffer d_stats(4 * groups * sizeof(float), "the statistics and sums");
  DeviceBuffer d_weight((params.weight ? affine : 0) * sizeof(float), "the weight");
  DeviceBuffer d_affine((affine_grads ? 2 * affine : 0) * sizeof(float), "dweight and dbias");
  DeviceBuffer d_tables((L.group_base.size() + L.run_offset.size()) * sizeof(float), "the tables");

  gpu::BackwardArgs a;
  a.x = d_x.f();
  a.dy = d_dy.f();
  a.mean = d_stats.f();
  a.rstd = d_stats.f() + groups;
  a.sum_dy_w = d_stats.f() + 2 * groups;
  a.sum_dy_w_xhat = d_stats.f() + 3 * groups;
  a.weight = params.weight ? d_weight.f() : nullptr;
  a.dx = d_dx.f();
  a.dweight = affine_grads ? d_affine.f() : nullptr;
  a.dbias = affine_grads ? d_affine.f() + affine : nullptr;
  const auto* tables = reinterpret_cast<const int32_t*>(d_tables.f());
  a.affine = gpu::kernelAffine(L);
  a.layout = gpu::kernelLayout(L, L.rows ? nullptr : tables,
                               L.rows ? nullptr : tables + L.group_base.size());
  a.subtract_mean = plan.subtractsMean();
  a.coupled = !(plan.kind() == NormKind::Batch && !plan.config().training);

  // InstanceNorm and GroupNorm: one block per channel of a sample (backward_launch.hpp).
  const bool channels = !split && gpu::backwardChannelsApplies(a);
  const size_t scratch =
      static_cast<size_t>(split      ? 2 * L.groups * gpu::backwardSplitChunks(L.group_size)
                          : channels ? gpu::backwardChannelsScratch(a)
                                     : gpu::backwardRowsScratch(a));
  DeviceBuffer d_scratch(scratch * sizeof(float), "the backward partials");
  // Writing twice the L2 size between timed repeats: every repeat reads x and dy from DRAM. The
  // emulated device has no L2 to flush.
  const size_t flush_bytes =
      device.emulated ? 0 : std::max<size_t>(2 * device.l2_bytes, size_t{64} << 20);
  DeviceBuffer d_flush(flush_bytes, "the L2 flush");

  upload(d_x, x.data, "the input");
  upload(d_dy, dy.data, "dy");
  std::vector<float> saved(2 * groups);
  std::copy(mean.data.begin(), mean.data.end(), saved.begin());
  std::copy(rstd.data.begin(), rstd.data.end(), saved.begin() + static_cast<long>(groups));
  upload(d_stats, saved, "the saved statistics");
  if (params.weight) upload(d_weight, params.weight->data, "the weight");
  if (!L.rows) {
    std::vector<int32_t> tables(L.group_base);
    tables.insert(tables.end(), L.run_offset.begin(), L.run_offset.end());
    upload(d_tables, tables, "the group tables");
  }

  auto launch = [&] {
    const std::string error = split      ? gpu::launchBackwardSplit(a, d_scratch.f())
                              : channels ? gpu::launchBackwardChannels(a, d_scratch.f())
                                         : gpu::launchBackwardRows(a, d_scratch.f());
    if (!error.empty()) throw NormError("GPU kernel: " + error);
  };
  cudaEvent_t start{}, stop{};
  check(cudaEventCreate(&start), "creating a CUDA event");
  std::unique_ptr<CUevent_st, decltype(&cudaEventDestroy)> start_guard(start, cudaEventDestroy);
  check(cudaEventCreate(&stop), "creating a CUDA event");
  std::unique_ptr<CUevent_st, decltype(&cudaEventDestroy)> stop_guard(stop, cudaEventDestroy);
  auto timed = [&] {
    if (flush_bytes) check(cudaMemsetAsync(d_flush.f(), 0, flush_bytes), "flushing L2");
    check(cudaEventRecord(start), "recording an event");
    launch();
    check(cudaEventRecord(stop), "recording an event");
    check(cudaEventSynchronize(stop), "waiting for the GPU");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start, stop), "reading an event timer");
    return static_cast<double>(ms);
  };

  // Correctness run on poisoned outputs (all-ones bytes are NaN): an unwritten element shows.
  check(cudaMemset(d_dx.f(), 0xff, n * sizeof(float)), "poisoning dx");
  check(cudaMemset(d_stats.f() + 2 * groups, 0xff, 2 * groups * sizeof(float)),
        "poisoning the sums");
  const double first_ms = timed();
  GpuBackwardResult out;
  BackwardResult& r = out.result;
  r.dx = widened(x.shape, fromDevice(d_dx.f(), n, "dx"));
  const std::vector<float> sums = fromDevice(d_stats.f() + 2 * groups, 2 * groups, "the sums");
  r.sum_dy_w = widened(plan.statShape(), {sums.begin(), sums.begin() + static_cast<long>(groups)});
  r.sum_dy_w_xhat =
      widened(plan.statShape(), {sums.begin() + static_cast<long>(groups), sums.end()});
  if (affine_grads) {
    const std::vector<float> grads = fromDevice(d_affine.f(), 2 * affine, "dweight and dbias");
    const auto mid = grads.begin() + static_cast<long>(affine);
    if (params.weight) r.dweight = widened(plan.affineShape(), {grads.begin(), mid});
    if (params.bias) r.dbias = widened(plan.affineShape(), {mid, grads.end()});
  }
  r.group_coupled = a.coupled;

  for (int i = 0; i < options.warmup; ++i) launch();
  std::vector<double> times;
  for (int i = 0; i < options.repeats; ++i) times.push_back(timed());
  GpuTimings& t = out.timings;
  t.kernel_ms = times.empty() ? first_ms : median(times);
  // The least traffic: read x and dy, write dx; the statistics and sums; the affine vectors.
  double bytes = 4.0 * (3.0 * static_cast<double>(n) + 4.0 * static_cast<double>(groups));
  if (params.weight) bytes += 4.0 * static_cast<double>(affine);
  if (affine_grads) bytes += 8.0 * static_cast<double>(affine);
  t.bytes_moved = bytes;
  t.gbs = t.kernel_ms > 0 ? bytes / (t.kernel_ms * 1e-3) / 1e9 : 0;
  t.fraction_of_peak = device.peak_bandwidth_gbs > 0 ? t.gbs / device.peak_bandwidth_gbs : 0;
  r.backend = std::string("gpu backward ") +
              (split      ? "split"
               : channels ? "channels"
                          : "rows") +
              " on " + device.name;
  r.seconds = t.kernel_ms * 1e-3;
  return out;
}

}  // namespace NORMVIZ_KERNELS_NAMESPACE
}  // namespace gpu

}  // namespace normviz
