// The kernels of ../norm_kernels.cu built by the host compiler for the emulated device.
#include "../norm_kernels.cu"
