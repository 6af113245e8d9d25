# GPU backend tests: value checks against the float64 CPU reference; skipped with a printed reason
# when no usable device is present, so ctest passes on machines without a GPU.
normviz_add_test(test_kernels SOURCES test_kernels.cpp LIBS normviz_gpu)
# The host-side layout (the tables the kernels address elements with) is checked against the plan
# without a device, so the test reads the kernels' internal header.
target_include_directories(test_kernels PRIVATE ${PROJECT_SOURCE_DIR}/kernels/src)
