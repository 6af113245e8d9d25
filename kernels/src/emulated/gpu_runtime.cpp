// ../gpu_runtime.cpp built against the emulated device: the GPU interface with the kernels on the
// CPU.
#include "../gpu_runtime.cpp"
