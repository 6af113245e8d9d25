// The GPU backend's host side: probing the device, moving tensors, launching the chosen kernel,
// and timing it honestly (CUDA events, warm-up, L2 flushed, median of repeats).
//
// Built twice by the C++ compiler: against the CUDA runtime (linked statically: libcudart_static
// loads the driver library at run time, so a machine without an NVIDIA driver runs the program and
// gets a reason instead of a crash), and against the emulated device (emulated/cuda_host.hpp),
// where the same calls run the kernel sources on the CPU.
//
// Sections: probe · device memory and errors · timing · gpuCompute · copy bandwidth · one group
#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "backends.hpp"
#include "cuda_api.hpp"
#include "designs.hpp"
#include "device_memory.hpp"
#include "host_layout.hpp"
#include "launch.hpp"
#include "normviz/error.hpp"
#include "normviz/gpu.hpp"
#include "normviz/timing.hpp"

namespace normviz {

using gpu::check;
using gpu::DeviceBuffer;
using gpu::deviceMutex;
using gpu::upload;

namespace {

// ---- probe --------------------------------------------------------------------------------------

std::string cudaErrorWords(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
}

std::string cudaVersionText(int v) {
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

GpuDevice probeDevice() {
  GpuDevice d;
  int driver = 0;
  // Reports 0 (and success) when no driver library can be loaded.
  const cudaError_t driver_error = cudaDriverGetVersion(&driver);
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    if (driver_error == cudaSuccess && driver == 0) {
      d.reason =
          "no NVIDIA driver found (libcuda.so.1 could not be loaded; " + cudaErrorWords(e) + ")";
    } else if (e == cudaErrorInsufficientDriver) {
      d.reason = "NVIDIA driver too old: it supports CUDA " + cudaVersionText(driver) +
                 ", this build needs CUDA " + cudaVersionText(CUDART_VERSION) +
                 " (update the driver)";
    } else if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) {
      d.reason = "no CUDA device found (the driver reports no GPU; check CUDA_VISIBLE_DEVICES)";
    } else {
      d.reason = "CUDA is unusable: " + cudaErrorWords(e);
    }
    cudaGetLastError();  // the probe's error is reported, not left pending
    return d;
  }
  cudaDeviceProp prop{};
  if (cudaError_t pe = cudaGetDeviceProperties(&prop, 0); pe != cudaSuccess) {
    d.reason = "cannot read device 0's properties: " + cudaErrorWords(pe);
    return d;
  }
  d.name = prop.name;
  d.sm_major = prop.major;
  d.sm_minor = prop.minor;
  d.memory_bytes = prop.totalGlobalMem;
  d.sm_count = prop.multiProcessorCount;
  d.l2_bytes = static_cast<size_t>(prop.l2CacheSize);
  int clock_khz = 0, bus_bits = 0;
  // A query the driver refuses leaves its error pending, and the next kernel launch would report
  // it as its own failure: a failed query means "peak unknown" (0), with the error cleared.
  if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, 0) != cudaSuccess ||
      cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0) != cudaSuccess) {
    cudaGetLastError();
    clock_khz = bus_bits = 0;
  }
  // Double data rate: two transfers per clock over the whole bus.
  d.peak_bandwidth_gbs = 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;
  // Creating the context and finding a kernel image for this device are the last things that fail.
  if (cudaError_t ce = cudaSetDevice(0); ce != cudaSuccess) {
    d.reason = "cannot use " + d.name + ": " + cudaErrorWords(ce);
    return d;
  }
  if (cudaError_t ce = cudaFree(nullptr); ce != cudaSuccess) {
    d.reason = "cannot create a CUDA context on " + d.name + ": " + cudaErrorWords(ce);
    return d;
  }
  if (std::string image = gpu::probeKernelImage(); !image.empty()) {
    d.reason = "the kernels were not built for " + d.name + " (sm_" + std::to_string(prop.major) +
               std::to_string(prop.minor) + "): " + image +
               "; reconfigure with -DCMAKE_CUDA_ARCHITECTURES=" + std::to_string(prop.major) +
               std::to_string(prop.minor);
    return d;
  }
  d.usable = true;
#if defined(NORMVIZ_DEVICE_EMULATION)
  d.emulated = true;
#endif
  return d;
}

// ---- device memory and errors -------------------------------------------------------------------

// After a kernel faults (illegal address, assertion, ...) the CUDA context is lost: every later
// call fails with the same error until the process ends. The device then reports itself unusable
// with the fault as the reason, instead of offering a GPU that can only fail.
std::atomic<const GpuDevice*>& currentDevice() {
  static std::atomic<const GpuDevice*> device{nullptr};
  return device;
}

void markFaultedIfSticky([[maybe_unused]] cudaError_t e, [[maybe_unused]] const std::string& what) {
#if !defined(NORMVIZ_DEVICE_EMULATION)
  switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorLaunchTimeout:
    case cudaErrorAssert:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorInvalidPc:
      break;
    default:
      return;
  }
  const GpuDevice* before = currentDevice().load();
  if (!before || !before->usable) return;
  // Kept for the life of the program: callers may hold a reference to either.
  auto* faulted = new GpuDevice(*before);
  faulted->usable = false;
  faulted->reason = "a kernel faulted during " + what + " (" + cudaErrorWords(e) +
                    "); the GPU is unusable until the program restarts";
  currentDevice().store(faulted);
#endif
}

void checkLaunch(const std::string& error) {
  if (!error.empty()) throw NormError("GPU kernel: " + error);
}

// ---- timing -------------------------------------------------------------------------------------

class EventPair {
 public:
  EventPair() {
    check(cudaEventCreate(&start_), "creating a CUDA event");
    // A throwing constructor runs no destructor: the first event must not leak.
    if (const cudaError_t e = cudaEventCreate(&stop_); e != cudaSuccess) {
      cudaEventDestroy(start_);
      check(e, "creating a CUDA event");
    }
  }
  EventPair(const EventPair&) = delete;
  EventPair& operator=(const EventPair&) = delete;
  ~EventPair() {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  void start() { check(cudaEventRecord(start_), "recording an event"); }
  // Milliseconds between start() and now, waiting for the work in between.
  double stop() {
    check(cudaEventRecord(stop_), "recording an event");
    check(cudaEventSynchronize(stop_), "waiting for the GPU");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start_, stop_), "reading an event timer");
    return ms;
  }

 private:
  cudaEvent_t start_{}, stop_{};
};

// Writing a buffer twice the L2 size evicts the input, so every timed repeat reads x from DRAM as
// a real forward pass would (H100's 50 MB L2 would otherwise hold the whole 25 MB headline input).
// A device without L2 (the emulated one) has nothing to flush.
class L2Flusher {
 public:
  explicit L2Flusher(size_t l2_bytes)
      : bytes_(l2_bytes ? std::max<size_t>(2 * l2_bytes, size_t{64} << 20) : 0),
        buffer_(bytes_, "the L2 flush") {}
  void flush() {
    if (bytes_ == 0) return;
    check(cudaMemsetAsync(buffer_.raw(), static_cast<int>(++value_ & 0xff), bytes_), "flushing L2");
  }

 private:
  size_t bytes_;
  DeviceBuffer buffer_;
  unsigned value_ = 0;
};

TensorD widenToTensor(const Shape& shape, const std::vector<float>& v) {
  return TensorD(shape, std::vector<double>(v.begin(), v.end()));
}

}  // namespace

namespace gpu {
inline namespace NORMVIZ_KERNELS_NAMESPACE {

std::mutex& deviceMutex() {
  static std::mutex m;
  return m;
}

void check(cudaError_t e, const std::string& what) {
  if (e != cudaSuccess) {
    cudaGetLastError();
    markFaultedIfSticky(e, what);
    throw NormError("CUDA error during " + what + ": " + cudaErrorWords(e));
  }
}

DeviceBuffer::DeviceBuffer(size_t bytes, const char* what) {
  if (bytes == 0) return;
  const cudaError_t e = cudaMalloc(&ptr_, bytes);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_bytes = 0, total = 0;
    cudaMemGetInfo(&free_bytes, &total);
    throw NormError("out of GPU memory: " + std::string(what) + " needs " +
                    std::to_string(bytes >> 20) + " MiB, " + std::to_string(free_bytes >> 20) +
                    " MiB of " + std::to_string(total >> 20) + " MiB free");
  }
  check(e, std::string("allocating ") + what);
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_) cudaFree(ptr_);
}

const GpuDevice& backendDevice() {
  static const GpuDevice probed = [] {
    std::lock_guard<std::mutex> lock(deviceMutex());
    return probeDevice();
  }();
  const GpuDevice* expected = nullptr;
  currentDevice().compare_exchange_strong(expected, &probed);
  return *currentDevice().load();
}

// ---- gpuCompute ---------------------------------------------------------------------------------

GpuResult backendCompute(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                         const GpuOptions& options) {
  const GpuDevice& device = backendDevice();
  if (!device.usable) throw NormError("GPU backend unavailable: " + device.reason);
  if (!(x.shape == plan.shape()) || x.numel() != plan.shape().numel())
    throw NormError("input has shape " + x.shape.str() + " but the plan was made for " +
                    plan.shape().str());
  validateParams(plan, params);
  if (options.warmup < 0 || options.repeats < 0)
    throw NormError("GPU warm-up and repeat counts must not be negative");

  const gpu::HostLayout L = gpu::describeLayout(plan);
  const gpu::Design& requested = gpu::designOf(options.variant);
  if (const std::string why = requested.fit(L); !why.empty())
    throw NormError(std::string("the ") + requested.name + " kernel does not run " +
                    plan.pytorchLine() + ": " + why);
  // Auto becomes the design resolveAuto picks, except for evaluation-mode BatchNorm: its one
  // elementwise kernel runs whatever the design (and only auto fits it).
  const gpu::Design& design = requested.variant == GpuVariant::Auto && !L.eval_running
                                  ? gpu::designOf(gpu::resolveAuto(L, device.sm_count))
                                  : requested;
  GpuRecipeGeometry geometry;
  if (design.recipe != gpu::RecipeBlock::None) geometry = gpu::recipeGeometry(design, L, options);

  std::lock_guard<std::mutex> lock(deviceMutex());
  check(cudaSetDevice(0), "selecting the GPU");
  const NormConfig& cfg = plan.config();
  const size_t n = static_cast<size_t>(L.numel), groups = static_cast<size_t>(L.groups);
  const size_t affine = static_cast<size_t>(L.affine_count);
  const bool batch = plan.kind() == NormKind::Batch;
  const bool train_running = batch && cfg.training;

  // Host-side parameters in float32, PyTorch's defaults for absent running statistics.
  std::vector<float> running_mean(groups, 0.f), running_var(groups, 1.f);
  if (params.running_mean)
    running_mean.assign(params.running_mean->data.begin(), params.running_mean->data.end());
  if (params.running_var)
    running_var.assign(params.running_var->data.begin(), params.running_var->data.end());

  DeviceBuffer d_x(n * 4, "the input"), d_y(n * 4, "the output");
  DeviceBuffer d_stats(3 * groups * 4, "the statistics");
  DeviceBuffer d_weight(params.weight ? affine * 4 : 0, "the weight");
  DeviceBuffer d_bias(params.bias ? affine * 4 : 0, "the bias");
  DeviceBuffer d_rm(batch ? groups * 4 : 0, "the running mean");
  DeviceBuffer d_rv(batch ? groups * 4 : 0, "the running variance");
  DeviceBuffer d_base(L.group_base.size() * 4, "the group table");
  DeviceBuffer d_offset(L.run_offset.size() * 4, "the run table");
  const size_t partial_floats =
      design.split_partials ? 3 * groups * static_cast<size_t>(gpu::splitChunks(L.group_size)) : 0;
  DeviceBuffer d_partials(partial_floats * 4, "the split partials");
  L2Flusher flusher(device.l2_bytes);
  EventPair events;

  GpuTimings timings;
  events.start();
  check(cudaMemcpyAsync(d_x.raw(), x.data.data(), n * 4, cudaMemcpyHostToDevice),
        "copying the input to the GPU");
  timings.h2d_ms = events.stop();
  if (params.weight) upload(d_weight, params.weight->data, "the weight");
  if (params.bias) upload(d_bias, params.bias->data, "the bias");
  if (batch) {
    upload(d_rm, running_mean, "the running mean");
    upload(d_rv, running_var, "the running variance");
  }
  upload(d_base, L.group_base, "the group table");
  upload(d_offset, L.run_offset, "the run table");

  gpu::KernelArgs a;
  a.x = d_x.f();
  a.y = d_y.f();
  a.mean = d_stats.f();
  a.var = d_stats.f() + groups;
  a.rstd = d_stats.f() + 2 * groups;
  a.weight = params.weight ? d_weight.f() : nullptr;
  a.bias = params.bias ? d_bias.f() : nullptr;
  a.affine = {static_cast<int32_t>(L.affine_inner), static_cast<int32_t>(L.affine_count),
              L.affine_per_element};
  a.layout.groups = static_cast<int32_t>(L.groups);
  a.layout.group_size = static_cast<int32_t>(L.group_size);
  a.layout.run_length = static_cast<int32_t>(L.run_length);
  a.layout.runs = static_cast<int32_t>(L.runs);
  a.layout.group_base = d_base.i();
  a.layout.run_offset = d_offset.i();
  a.layout.rows = L.rows;
  a.layout.vec4 = L.vec4;
  a.eps = static_cast<float>(cfg.eps);
  a.subtract_mean = plan.subtractsMean();
  if (train_running) {
    a.running_mean = d_rm.f();
    a.running_var = d_rv.f();
    a.running_factor = static_cast<float>(
        cfg.momentum ? *cfg.momentum : 1.0 / static_cast<double>(cfg.num_batches_tracked + 1));
  }

  auto launch = [&]() -> std::string {
    if (L.eval_running) return gpu::launchEvalRunning(a, d_rm.f(), d_rv.f());
    return design.launch(a, geometry, d_partials.f());
  };

  // Correctness run on poisoned outputs: all-ones bytes are NaN floats, so any element a kernel
  // fails to write comes back as NaN instead of a plausible stale value.
  check(cudaMemset(d_y.raw(), 0xff, n * 4), "poisoning the output");
  check(cudaMemset(d_stats.raw(), 0xff, 3 * groups * 4), "poisoning the statistics");
  flusher.flush();
  events.start();
  checkLaunch(launch());
  const double first_ms = events.stop();
  check(cudaGetLastError(), "running the kernel");

  std::vector<float> y(n), stats(3 * groups), rm_out, rv_out;
  events.start();
  check(cudaMemcpyAsync(y.data(), d_y.raw(), n * 4, cudaMemcpyDeviceToHost),
        "copying the output back");
  timings.d2h_ms = events.stop();
  check(cudaMemcpy(stats.data(), d_stats.raw(), stats.size() * 4, cudaMemcpyDeviceToHost),
        "copying the statistics back");
  if (train_running) {
    rm_out.resize(groups);
    rv_out.resize(groups);
    check(cudaMemcpy(rm_out.data(), d_rm.raw(), groups * 4, cudaMemcpyDeviceToHost),
          "copying the running mean back");
    check(cudaMemcpy(rv_out.data(), d_rv.raw(), groups * 4, cudaMemcpyDeviceToHost),
          "copying the running variance back");
  }

  // Timed repeats: warm-up, then L2 flushed before each repeat, kernel alone between the events.
  // (Training BatchNorm keeps folding into the device copy of the running statistics; the
  // result above was already copied out.)
  for (int i = 0; i < options.warmup; ++i) checkLaunch(launch());
  std::vector<double> times;
  for (int i = 0; i < options.repeats; ++i) {
    flusher.flush();
    events.start();
    checkLaunch(launch());
    times.push_back(events.stop());
  }
  timings.kernel_ms = times.empty() ? first_ms : median(times);

  // The least traffic the layer needs: read x, write y, the statistics, parameters.
  double bytes = 4.0 * (2.0 * static_cast<double>(n) + 3.0 * static_cast<double>(groups));
  if (params.weight) bytes += 4.0 * static_cast<double>(affine);
  if (params.bias) bytes += 4.0 * static_cast<double>(affine);
  if (train_running) bytes += 16.0 * static_cast<double>(groups);  // read and write both
  if (L.eval_running) bytes += 8.0 * static_cast<double>(groups);
  timings.bytes_moved = bytes;
  timings.gbs = timings.kernel_ms > 0 ? bytes / (timings.kernel_ms * 1e-3) / 1e9 : 0;
  timings.fraction_of_peak =
      device.peak_bandwidth_gbs > 0 ? timings.gbs / device.peak_bandwidth_gbs : 0;

  GpuResult out;
  out.variant = design.variant;  // auto for evaluation-mode BatchNorm
  out.timings = timings;
  NormResult& r = out.result;
  r.y = widenToTensor(x.shape, y);
  const Shape& stat_shape = plan.statShape();
  r.mean = widenToTensor(stat_shape, {stats.begin(), stats.begin() + groups});
  r.var = widenToTensor(stat_shape, {stats.begin() + groups, stats.begin() + 2 * groups});
  r.rstd = widenToTensor(stat_shape, {stats.begin() + 2 * groups, stats.end()});
  if (train_running) {
    r.running_mean = widenToTensor(stat_shape, rm_out);
    r.running_var = widenToTensor(stat_shape, rv_out);
  }
  r.backend = std::string("gpu ") +
              (L.eval_running ? "elementwise (running statistics)" : design.name) + " on " +
              device.name;
  r.seconds = timings.kernel_ms * 1e-3;
  return out;
}

// ---- copy bandwidth -----------------------------------------------------------------------------

double backendCopyBandwidthGbs() {
  static double measured = -1;
  const GpuDevice& device = backendDevice();
  if (!device.usable) return 0;
  std::lock_guard<std::mutex> lock(deviceMutex());
  if (measured >= 0) return measured;
  check(cudaSetDevice(0), "selecting the GPU");
  size_t free_bytes = 0, total = 0;
  check(cudaMemGetInfo(&free_bytes, &total), "reading free GPU memory");
  const size_t bytes = std::min<size_t>(size_t{256} << 20, free_bytes / 4);
  DeviceBuffer src(bytes, "the copy benchmark"), dst(bytes, "the copy benchmark");
  check(cudaMemset(src.raw(), 1, bytes), "filling the copy benchmark");
  EventPair events;
  for (int i = 0; i < 3; ++i)
    check(cudaMemcpyAsync(dst.raw(), src.raw(), bytes, cudaMemcpyDeviceToDevice), "copying");
  std::vector<double> times;
  for (int i = 0; i < 20; ++i) {
    events.start();
    check(cudaMemcpyAsync(dst.raw(), src.raw(), bytes, cudaMemcpyDeviceToDevice), "copying");
    times.push_back(events.stop());
  }
  const double ms = median(times);
  measured = ms > 0 ? 2.0 * static_cast<double>(bytes) / (ms * 1e-3) / 1e9 : 0;
  return measured;
}

// ---- one group ----------------------------------------------------------------------------------

bool backendReduceOneGroup(const float* values, int64_t m, int block_size, int vector_width,
                           VarianceStrategy strategy, bool subtract_mean, ShuffleKind shuffle,
                           float* mean_out, float* var_out, std::string* error) {
  auto fail = [&](const std::string& why) {
    if (error) *error = why;
    return false;
  };
  const GpuDevice& device = backendDevice();
  if (!device.usable) return fail(device.reason);
  if (m < 1 || m > gpu::kMaxGpuElements) return fail("group size out of range");
  try {
    std::lock_guard<std::mutex> lock(deviceMutex());
    check(cudaSetDevice(0), "selecting the GPU");
    DeviceBuffer d_values(static_cast<size_t>(m) * 4, "the group"), d_out(8, "the result");
    check(cudaMemcpy(d_values.raw(), values, static_cast<size_t>(m) * 4, cudaMemcpyHostToDevice),
          "copying the group to the GPU");
    const std::string launch_error = gpu::launchReduceOneGroup(
        d_values.f(), static_cast<int32_t>(m), block_size, vector_width, static_cast<int>(strategy),
        subtract_mean, static_cast<int>(shuffle), d_out.f());
    if (!launch_error.empty()) return fail(launch_error);
    float out[2] = {0, 0};
    check(cudaMemcpy(out, d_out.raw(), 8, cudaMemcpyDeviceToHost), "copying the result back");
    *mean_out = out[0];
    *var_out = out[1];
    return true;
  } catch (const NormError& e) {
    return fail(e.what());
  }
}

}  // namespace NORMVIZ_KERNELS_NAMESPACE
}  // namespace gpu

}  // namespace normviz
