// The kernels of ../backward_kernels.cu built by the host compiler for the emulated device.
#include "../backward_kernels.cu"
