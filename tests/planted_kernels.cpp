// Kernels with a planted bug, run on the emulated device, proving that each of its checks fires:
// memcheck (AddressSanitizer builds: an off-by-one read, a float4 read past the end of a row),
// racecheck (ThreadSanitizer builds: a missing __syncthreads(), warp-synchronous shared memory
// without __syncwarp()), and in every build a __syncthreads() that not every thread reaches.
//
// `planted_kernels KERNEL` runs one kernel; `planted_kernels check-NAME` runs the buggy kernel and
// its fixed twin as child processes and exits 0 only when the check reported the bug (naming the
// kernel, block and thread) and stayed quiet on the fixed one.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cuda_api.hpp"

namespace {

using normviz::gpu::launchKernel;

// ---- the kernels --------------------------------------------------------------------------------

// Each thread stores its element in shared memory and reads its right neighbour's. Without the
// barrier, thread t reads tile[t + 1] while thread t + 1 may not have written it yet.
__global__ void missingBarrierKernel(const float* in, float* out, bool barrier) {
  __shared__ float tile[256];
  const int t = static_cast<int>(threadIdx.x);
  tile[t] = in[t];
  if (barrier) __syncthreads();
  out[t] = tile[(t + 1) % static_cast<int>(blockDim.x)];
}

// Lane 0 of each warp publishes a value in shared memory and the other lanes read it. A shuffle
// between them synchronizes registers, not memory: only __syncwarp() orders the accesses.
__global__ void warpSyncKernel(const float* in, float* out, bool syncwarp) {
  __shared__ float slot[32];
  const int t = static_cast<int>(threadIdx.x), warp = t / 32, lane = t % 32;
  if (lane == 0) slot[warp] = in[warp];
  const float ready = __shfl_sync(0xffffffffu, 1.0f, 0);
  if (syncwarp) __syncwarp();
  out[t] = slot[warp] * ready;
}

// y[t] = x[t] + x[t + 1]: the last thread reads one float past the buffer unless it stops early.
__global__ void offByOneKernel(const float* in, float* out, int n, bool fixed) {
  const int t = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (t >= n) return;
  out[t] = in[t] + ((fixed && t + 1 >= n) ? 0.0f : in[t + 1]);
}

// Rows of 6 floats, 8 apart (16-byte aligned), the last row without padding: reading a row as two
// float4 (a vectorized kernel on a row length that is not a multiple of 4) reaches 2 floats past
// the end of the buffer in the last row.
__global__ void float4RowKernel(const float* in, float* out, int rows, bool fixed) {
  const int r = static_cast<int>(threadIdx.x);
  if (r >= rows) return;
  const float* row = in + r * 8;
  float s = 0;
  if (fixed) {
    for (int i = 0; i < 6; ++i) s += row[i];
  } else {
    for (int i = 0; i < 2; ++i) {
      const float4 q = *reinterpret_cast<const float4*>(row + 4 * i);
      s += q.x + q.y + q.z + q.w;
    }
  }
  out[r] = s;
}

// Threads 48-63 return early (fine: returned threads do not count). Of the others, warp 0 waits
// at one __syncthreads() and threads 32-47 at another: a GPU would let them pass each other,
// which is undefined behaviour (the fixed kernel has one barrier that all of them reach).
__global__ void divergentBarrierKernel(float* out, bool fixed) {
  const int t = static_cast<int>(threadIdx.x);
  if (t >= 48) return;
  if (fixed) {
    __syncthreads();
  } else if (t < 32) {
    out[t] = 1.0f;
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[t] = 2.0f;
}

// ---- running one ------------------------------------------------------------------------------

struct Buffer {
  explicit Buffer(size_t floats, float fill = 1.0f) : n(floats) {
    cudaMalloc(reinterpret_cast<void**>(&p), floats * sizeof(float));
    std::vector<float> host(floats, fill);
    cudaMemcpy(p, host.data(), floats * sizeof(float), cudaMemcpyHostToDevice);
  }
  ~Buffer() { cudaFree(p); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  float* p = nullptr;
  size_t n;
};

// Runs one kernel; prints the launch error if any. Exit status 0 when the launch succeeded.
int runKernel(const std::string& name) {
  const bool fixed = name.rfind("fixed-", 0) == 0;
  const std::string kernel = fixed ? name.substr(6) : name;
  if (kernel == "missing-barrier") {
    Buffer in(256), out(256);
    launchKernel("missingBarrierKernel", missingBarrierKernel, 1, 256, in.p, out.p, fixed);
  } else if (kernel == "warp-sync") {
    Buffer in(4), out(128);
    launchKernel("warpSyncKernel", warpSyncKernel, 1, 128, in.p, out.p, fixed);
  } else if (kernel == "off-by-one") {
    Buffer in(64), out(64);
    launchKernel("offByOneKernel", offByOneKernel, 2, 32, in.p, out.p, 64, fixed);
  } else if (kernel == "float4-row") {
    Buffer in(5 * 8 - 2), out(5);
    launchKernel("float4RowKernel", float4RowKernel, 1, 32, in.p, out.p, 5, fixed);
  } else if (kernel == "divergent-barrier") {
    Buffer out(64);
    launchKernel("divergentBarrierKernel", divergentBarrierKernel, 1, 64, out.p, fixed);
  } else {
    std::fprintf(stderr, "unknown kernel '%s'\n", name.c_str());
    return 2;
  }
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) {
    std::printf("launch failed: %s: %s\n", cudaGetErrorName(e), cudaGetErrorString(e));
    return 1;
  }
  std::printf("launch succeeded\n");
  return 0;
}

// ---- checking a check ---------------------------------------------------------------------------

struct Outcome {
  int status = -1;
  std::string output;
};

Outcome runChild(const char* self, const std::string& kernel) {
  Outcome o;
  const std::string command = std::string("'") + self + "' " + kernel + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return o;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) o.output.append(buf, n);
  const int raw = pclose(pipe);
  o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
  return o;
}

// The buggy kernel must fail with every one of `expected` in its output; its fixed twin must
// succeed with none of `forbidden`.
int check(const char* self, const std::string& kernel, const std::vector<std::string>& expected,
          const std::string& forbidden) {
  int failures = 0;
  const Outcome bad = runChild(self, kernel);
  std::printf("---- %s (planted bug): exit %d\n%s", kernel.c_str(), bad.status, bad.output.c_str());
  if (bad.status == 0) {
    std::printf("FAIL: %s exited 0; the check did not fire\n", kernel.c_str());
    ++failures;
  }
  for (const std::string& e : expected)
    if (bad.output.find(e) == std::string::npos) {
      std::printf("FAIL: the report does not contain \"%s\"\n", e.c_str());
      ++failures;
    }
  const Outcome good = runChild(self, "fixed-" + kernel);
  std::printf("---- fixed-%s: exit %d\n%s", kernel.c_str(), good.status, good.output.c_str());
  if (good.status != 0 || good.output.find(forbidden) != std::string::npos) {
    std::printf("FAIL: the fixed kernel did not run cleanly\n");
    ++failures;
  }
  std::printf("%s: %s\n", kernel.c_str(), failures ? "FAILED" : "the check fired");
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: planted_kernels KERNEL | check-KERNEL\n");
    return 2;
  }
  const std::string arg = argv[1];
  if (arg == "check-divergent-barrier")
    return check(argv[0], "divergent-barrier",
                 {"cudaErrorLaunchFailure", "divergentBarrierKernel: block (0,0,0) thread",
                  "divergent __syncthreads()", "planted_kernels.cpp:"},
                 "launch failed");
  if (arg == "check-off-by-one" || arg == "check-float4-row") {
    const std::string kernel = arg.substr(6);
    const bool off = kernel == "off-by-one";
    return check(argv[0], kernel,
                 {"AddressSanitizer: heap-buffer-overflow",
                  off ? "READ of size 4" : "READ of size",  // a float4 load may be split in four
                  off ? "offByOneKernel" : "float4RowKernel",
                  off ? "made by offByOneKernel: block (1,0,0) thread (31,0,0)"
                      : "made by float4RowKernel: block (0,0,0) thread (4,0,0)"},
                 "AddressSanitizer");
  }
  if (arg == "check-missing-barrier" || arg == "check-warp-sync") {
    const std::string kernel = arg.substr(6);
    const bool barrier = kernel == "missing-barrier";
    return check(
        argv[0], kernel,
        {"ThreadSanitizer: data race", barrier ? "missingBarrierKernel block (0,0,0) thread"
                                               : "warpSyncKernel block "
                                                 "(0,0,0) thread"},
        "ThreadSanitizer");
  }
  return runKernel(arg);
}
