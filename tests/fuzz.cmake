# libFuzzer target for the .npy parser (-DNORMVIZ_FUZZ=ON with CMAKE_CXX_COMPILER=clang++).
# Run: fuzz_npy -max_total_time=60 <scratch corpus dir> tests/fuzz/corpus
if(NORMVIZ_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "NORMVIZ_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  set(NORMVIZ_FUZZ_SANITIZERS address,undefined)
  # The code under test needs coverage instrumentation too, or the fuzzer explores blind.
  target_compile_options(normviz_core PRIVATE
    -fsanitize=fuzzer-no-link,${NORMVIZ_FUZZ_SANITIZERS} -fno-sanitize-recover=all)
  add_executable(fuzz_npy ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_npy.cpp)
  target_link_libraries(fuzz_npy PRIVATE normviz_core normviz_warnings)
  target_compile_options(fuzz_npy PRIVATE
    -fsanitize=fuzzer,${NORMVIZ_FUZZ_SANITIZERS} -fno-sanitize-recover=all -g)
  target_link_options(fuzz_npy PRIVATE -fsanitize=fuzzer,${NORMVIZ_FUZZ_SANITIZERS})
  set(NORMVIZ_FUZZ_CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus CACHE INTERNAL "")
endif()
