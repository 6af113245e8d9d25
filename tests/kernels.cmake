# GPU backend tests: value checks against the float64 CPU reference; skipped with a printed reason
# when no usable device is present, so ctest passes on machines without a GPU.
normviz_add_test(test_kernels SOURCES test_kernels.cpp LIBS normviz_gpu)
# The host-side layout (the tables the kernels address elements with) is checked against the plan
# without a device, so the test reads the kernels' internal header.
target_include_directories(test_kernels PRIVATE ${PROJECT_SOURCE_DIR}/kernels/src)

# The emulated device's checks, each proven by a kernel with a planted bug (tests/planted_kernels.cpp)
# run in a child process: a barrier not every thread reaches (every build), out-of-bounds reads
# (memcheck: AddressSanitizer builds), shared-memory races (racecheck: ThreadSanitizer builds).
add_executable(planted_kernels planted_kernels.cpp)
target_compile_definitions(planted_kernels PRIVATE NORMVIZ_DEVICE_EMULATION=1)
target_include_directories(planted_kernels PRIVATE ${PROJECT_SOURCE_DIR}/kernels/src)
target_link_libraries(planted_kernels PRIVATE normviz_gpu_emulated normviz_warnings)
target_compile_options(planted_kernels PRIVATE -ffp-contract=off)
add_test(NAME emulated_check_divergent_barrier COMMAND planted_kernels check-divergent-barrier)
if(NORMVIZ_SANITIZE)
  add_test(NAME memcheck_off_by_one COMMAND planted_kernels check-off-by-one)
  add_test(NAME memcheck_float4_past_row COMMAND planted_kernels check-float4-row)
endif()
if(NORMVIZ_SANITIZE_THREAD)
  add_test(NAME racecheck_missing_syncthreads COMMAND planted_kernels check-missing-barrier)
  add_test(NAME racecheck_missing_syncwarp COMMAND planted_kernels check-warp-sync)
endif()
