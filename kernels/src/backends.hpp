// The two implementations behind normviz/gpu.hpp: the CUDA runtime (gpu_runtime.cpp built with
// nvcc's runtime, or gpu_unavailable.cpp without CUDA) and the emulated device (the same
// gpu_runtime.cpp and kernel sources built against emulated/cuda_host.hpp). gpu_common.cpp picks
// one per call from GpuDeviceKind.
#pragma once

#include <string>

#include "normviz/gpu.hpp"

namespace normviz::gpu {

inline namespace cuda {
const GpuDevice& backendDevice();
GpuResult backendCompute(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                         const GpuOptions& options);
double backendCopyBandwidthGbs();
bool backendReduceOneGroup(const float* values, int64_t m, int block_size, int vector_width,
                           VarianceStrategy strategy, bool subtract_mean, ShuffleKind shuffle,
                           float* mean_out, float* var_out, std::string* error);
GpuBackwardResult backendBackward(const Tensor& x, const Tensor& dy, const ReductionPlan& plan,
                                  const NormParams& params, const TensorD& mean,
                                  const TensorD& rstd, const GpuOptions& options);
}  // namespace cuda

inline namespace emulated {
const GpuDevice& backendDevice();
GpuResult backendCompute(const Tensor& x, const ReductionPlan& plan, const NormParams& params,
                         const GpuOptions& options);
double backendCopyBandwidthGbs();
bool backendReduceOneGroup(const float* values, int64_t m, int block_size, int vector_width,
                           VarianceStrategy strategy, bool subtract_mean, ShuffleKind shuffle,
                           float* mean_out, float* var_out, std::string* error);
GpuBackwardResult backendBackward(const Tensor& x, const Tensor& dy, const ReductionPlan& plan,
                                  const NormParams& params, const TensorD& mean,
                                  const TensorD& rstd, const GpuOptions& options);
}  // namespace emulated

}  // namespace normviz::gpu
