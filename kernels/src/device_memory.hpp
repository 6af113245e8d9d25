// Device memory and errors, shared by the forward and backward runtimes (gpu_runtime.cpp,
// gpu_backward.cpp): one lock for the one CUDA context, one error check (a fault that loses the
// context marks the device unusable, with the fault as the reason), one buffer type. Built against
// the CUDA runtime and against the emulated device, as those files are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "cuda_api.hpp"

namespace normviz::gpu {
inline namespace NORMVIZ_KERNELS_NAMESPACE {

// One CUDA context, used by one call at a time: the app's UI thread and a worker may both call.
std::mutex& deviceMutex();

// Throws NormError "CUDA error during WHAT: ..." unless `e` is cudaSuccess. After a fault that
// loses the context (illegal address, assertion, ...) every later call would fail the same way:
// the device then reports itself unusable, with the fault as the reason.
void check(cudaError_t e, const std::string& what);

// A device allocation freed on scope exit. Out of memory is reported with what was asked and free.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(size_t bytes, const char* what);
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_) { o.ptr_ = nullptr; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(ptr_, o.ptr_);
    return *this;
  }
  ~DeviceBuffer();
  float* f() const { return static_cast<float*>(ptr_); }
  int32_t* i() const { return static_cast<int32_t*>(ptr_); }
  void* raw() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
};

// Copies a host vector (a tensor's data or a host table) to `dst`.
template <typename Vector>
void upload(const DeviceBuffer& dst, const Vector& src, const char* what) {
  if (!src.empty())
    check(cudaMemcpy(dst.raw(), src.data(), src.size() * sizeof(src[0]), cudaMemcpyHostToDevice),
          std::string("copying ") + what + " to the GPU");
}

// `count` floats of `src` back to the host.
inline std::vector<float> download(const DeviceBuffer& src, size_t count, const char* what) {
  std::vector<float> out(count);
  if (count)
    check(cudaMemcpy(out.data(), src.raw(), count * sizeof(float), cudaMemcpyDeviceToHost),
          std::string("copying ") + what + " back");
  return out;
}

}  // namespace NORMVIZ_KERNELS_NAMESPACE
}  // namespace normviz::gpu
