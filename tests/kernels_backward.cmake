# GPU backward tests: value checks against the float64 CPU backward; skipped with a printed reason
# when no usable device is present.
normviz_add_test(test_kernels_backward SOURCES test_kernels_backward.cpp LIBS normviz_gpu)
