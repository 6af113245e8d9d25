# GPU backward tests: value checks against the float64 CPU backward, on the emulated device in every
# build and on the CUDA device when one is usable.
normviz_add_test(test_kernels_backward SOURCES test_kernels_backward.cpp LIBS normviz_gpu)
