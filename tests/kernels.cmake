# GPU backend tests: value checks against the float64 CPU reference; skipped with a printed reason
# when no usable device is present, so ctest passes on machines without a GPU.
normviz_add_test(test_kernels SOURCES test_kernels.cpp LIBS normviz_gpu)
# The host-side layout (the tables the kernels address elements with) is checked against the plan
# without a device, so the test reads the kernels' internal header.
target_include_directories(test_kernels PRIVATE ${PROJECT_SOURCE_DIR}/kernels/src)

# The architectures compiled into the normviz binary, read from its fatbins: "NN-real" is SASS,
# "NN-virtual" PTX, plain "NN" both.
if(NORMVIZ_HAVE_CUDA)
  set(_sass "")
  set(_ptx "")
  foreach(_arch IN LISTS CMAKE_CUDA_ARCHITECTURES)
    string(REGEX MATCH "^[0-9]+" _number "${_arch}")
    if(NOT _arch MATCHES "-virtual$")
      list(APPEND _sass ${_number})
    endif()
    if(NOT _arch MATCHES "-real$")
      list(APPEND _ptx ${_number})
    endif()
  endforeach()
  string(REPLACE ";" "," _sass "${_sass}")
  string(REPLACE ";" "," _ptx "${_ptx}")
  normviz_add_test(test_fatbin SOURCES test_fatbin.cpp)
  add_dependencies(test_fatbin normviz)
  target_compile_definitions(test_fatbin PRIVATE NORMVIZ_EXPECTED_SASS="${_sass}"
                                                 NORMVIZ_EXPECTED_PTX="${_ptx}")
endif()

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
  # Every design under ThreadSanitizer (the whole awkward-shape sweep would take many minutes).
  add_test(NAME test_kernels_racecheck
           COMMAND test_kernels "--test-case=racecheck*,how many kernel runs*")
  add_test(NAME racecheck_missing_syncthreads COMMAND planted_kernels check-missing-barrier)
  add_test(NAME racecheck_missing_syncwarp COMMAND planted_kernels check-warp-sync)
endif()
