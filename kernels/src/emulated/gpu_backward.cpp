// ../gpu_backward.cpp built against the emulated device: the GPU backward with its kernels on the
// CPU.
#include "../gpu_backward.cpp"
