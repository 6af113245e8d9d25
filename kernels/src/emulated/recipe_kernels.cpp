// The recipe kernels of ../recipe_kernels.cu built by the host compiler for the emulated device.
#include "../recipe_kernels.cu"
