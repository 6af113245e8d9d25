// Which CUDA the kernel sources and the runtime code see: nvcc's and the CUDA runtime's, or the
// host execution model of the emulated device (emulated/cuda_host.hpp); and the launch function
// that stands for kernel<<<grid, block>>>(args...) under both compilers.
#pragma once

#if defined(NORMVIZ_DEVICE_EMULATION)
#include "emulated/cuda_host.hpp"
#else
#include <cuda_runtime.h>
#endif

#include "launch.hpp"

#if defined(__CUDACC__) || defined(NORMVIZ_DEVICE_EMULATION)
namespace normviz::gpu {
inline namespace NORMVIZ_KERNELS_NAMESPACE {

// kernel<<<grid, block>>>(args...). The emulated device runs the grid before returning and keeps
// any fault (named after `name`, with block and thread) for cudaGetLastError().
template <typename... Params, typename... Args>
void launchKernel([[maybe_unused]] const char* name, void (*kernel)(Params...), dim3 grid,
                  dim3 block, Args... args) {
#if defined(NORMVIZ_DEVICE_EMULATION)
  emu::setLaunchResult(emu::runGrid(name, grid, block, [&] { kernel(args...); }));
#else
  // clang-format off
  kernel<<<grid, block>>>(args...);
  // clang-format on
#endif
}

}  // namespace NORMVIZ_KERNELS_NAMESPACE
}  // namespace normviz::gpu
#endif
