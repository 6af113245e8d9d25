// The CUDA execution model for the host compiler: the kernel sources in kernels/src compile against
// this header instead of <cuda_runtime.h> and run on the CPU (the emulated device).
//
// Each block runs on one OS thread; each of its threads is a fiber. __syncthreads() is a real
// barrier over the block's live threads, the warp shuffles exchange values among the 32 lanes of a
// warp when all lanes of the mask have arrived, __shared__ variables are per block (thread_local
// storage of the OS thread running the block, one block at a time), and device memory is host
// memory. Arithmetic is the host's IEEE float32 with -ffp-contract=off, which is what the __f*_rn
// intrinsics compute on the device. Faults (a barrier or shuffle some threads never reach, a lane
// that left before a shuffle naming it) end the launch with an error naming the kernel, block and
// thread. device.cpp implements the scheduler.
#pragma once

#define NORMVIZ_CUDA_HOST_MODEL 1

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <type_traits>

// ---- qualifiers ---------------------------------------------------------------------------------

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
// Per block: the OS thread running a block runs no other block until this one ends.
#define __shared__ static thread_local

// ---- vector types -------------------------------------------------------------------------------

struct uint3 {
  unsigned int x = 0, y = 0, z = 0;
};
struct dim3 {
  unsigned int x = 1, y = 1, z = 1;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1)
      : x(vx), y(vy), z(vz) {}
};
struct alignas(8) float2 {
  float x, y;
};
struct alignas(16) float4 {
  float x, y, z, w;
};
inline float2 make_float2(float x, float y) {
  return float2{x, y};
}
inline float4 make_float4(float x, float y, float z, float w) {
  return float4{x, y, z, w};
}

// Device min/max of the integer and float types the kernels use.
template <typename T>
inline T min(T a, T b) {
  return b < a ? b : a;
}
template <typename T>
inline T max(T a, T b) {
  return a < b ? b : a;
}

namespace normviz::emu {

// What one CUDA thread sees of itself; the scheduler points `current` at the running fiber's.
struct ThreadContext {
  uint3 thread_idx, block_idx;
  dim3 block_dim, grid_dim;
};
extern thread_local const ThreadContext* current;

enum class ShuffleMode { Idx, Down, Xor, Up };
uint64_t shuffle(ShuffleMode mode, unsigned mask, uint64_t value, int arg, int width);
void syncWarp(unsigned mask);
// file:line says which __syncthreads() a thread waits at: all must wait at the same one.
void syncThreads(const char* file, int line);

// Runs body once per thread of the grid. Returns "" or the fault, naming kernel, block and thread.
std::string runGrid(const char* kernel, dim3 grid, dim3 block, const std::function<void()>& body);

}  // namespace normviz::emu

#define threadIdx (::normviz::emu::current->thread_idx)
#define blockIdx (::normviz::emu::current->block_idx)
#define blockDim (::normviz::emu::current->block_dim)
#define gridDim (::normviz::emu::current->grid_dim)

// ---- synchronization and warp shuffles ----------------------------------------------------------

// A macro, so that a barrier knows its place in the source (synccheck: every thread of a block
// must reach the same __syncthreads(), or none).
#define __syncthreads() ::normviz::emu::syncThreads(__FILE__, __LINE__)
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  ::normviz::emu::syncWarp(mask);
}

namespace normviz::emu {
template <typename T>
T shuffleAs(ShuffleMode mode, unsigned mask, T v, int arg, int width) {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "a shuffle moves 4 or 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  bits = shuffle(mode, mask, bits, arg, width);
  T out;
  std::memcpy(&out, &bits, sizeof(T));
  return out;
}
}  // namespace normviz::emu

template <typename T>
T __shfl_sync(unsigned mask, T v, int src_lane, int width = 32) {
  return ::normviz::emu::shuffleAs(::normviz::emu::ShuffleMode::Idx, mask, v, src_lane, width);
}
template <typename T>
T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return ::normviz::emu::shuffleAs(::normviz::emu::ShuffleMode::Down, mask, v,
                                   static_cast<int>(delta), width);
}
template <typename T>
T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
  return ::normviz::emu::shuffleAs(::normviz::emu::ShuffleMode::Up, mask, v,
                                   static_cast<int>(delta), width);
}
template <typename T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  return ::normviz::emu::shuffleAs(::normviz::emu::ShuffleMode::Xor, mask, v, lane_mask, width);
}

// ---- round-to-nearest intrinsics: single IEEE operations, never contracted ----------------------

inline float __fadd_rn(float a, float b) {
  return a + b;
}
inline float __fsub_rn(float a, float b) {
  return a - b;
}
inline float __fmul_rn(float a, float b) {
  return a * b;
}
inline float __fdiv_rn(float a, float b) {
  return a / b;
}
inline float __fsqrt_rn(float a) {
  return std::sqrt(a);
}

// ---- the runtime API the host code uses ---------------------------------------------------------

#define CUDART_VERSION 13000

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInsufficientDriver = 35,
  cudaErrorNoDevice = 100,
  cudaErrorLaunchFailure = 719,
};
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
};
enum cudaDeviceAttr {
  cudaDevAttrMemoryClockRate = 36,
  cudaDevAttrGlobalMemoryBusWidth = 37,
};
struct cudaDeviceProp {
  char name[256];
  int major, minor;
  size_t totalGlobalMem;
  int multiProcessorCount;
  int l2CacheSize;
};
struct cudaFuncAttributes {
  int numRegs;
};
struct CUevent_st;
using cudaEvent_t = CUevent_st*;
using cudaStream_t = void*;

namespace normviz::emu {
// launchKernel's way in: records the fault of a launch as the thread's last error.
void setLaunchResult(const std::string& fault);
}  // namespace normviz::emu

const char* cudaGetErrorName(cudaError_t e);
// For cudaErrorLaunchFailure: the last fault's description (kernel, block, thread, what happened).
const char* cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetLastError();
cudaError_t cudaDriverGetVersion(int* version);
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device);
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaMalloc(void** ptr, size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream = nullptr);
cudaError_t cudaMemset(void* ptr, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream = nullptr);
cudaError_t cudaEventCreate(cudaEvent_t* event);
cudaError_t cudaEventDestroy(cudaEvent_t event);
cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream = nullptr);
cudaError_t cudaEventSynchronize(cudaEvent_t event);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t stop);

// Every kernel the sources define has an image on the emulated device.
template <typename F>
cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attributes, F*) {
  attributes->numRegs = 0;
  return cudaSuccess;
}
