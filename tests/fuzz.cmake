# libFuzzer targets for every parser that takes outside input (-DNORMVIZ_FUZZ=ON with
# CMAKE_CXX_COMPILER=clang++): .npy files, lesson files, the settings file, the list flags
# (--shape, --normalized-shape, --axes, --hover) with the layer they describe, and a link's query
# string (the view spec). Each has a committed
# corpus in fuzz/corpus/<name>/ that scripts/test replays before exploring.
# Run: fuzz_npy -max_total_time=60 <scratch corpus dir> tests/fuzz/corpus/npy
if(NORMVIZ_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "NORMVIZ_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  set(NORMVIZ_FUZZ_SANITIZERS address,undefined)
  # The code under test needs coverage instrumentation too, or the fuzzer explores blind.
  foreach(lib normviz_core normviz_spec normviz_lessons)
    target_compile_options(${lib} PRIVATE
      -fsanitize=fuzzer-no-link,${NORMVIZ_FUZZ_SANITIZERS} -fno-sanitize-recover=all)
  endforeach()
  set(NORMVIZ_FUZZ_TARGETS npy lesson settings lists query)
  foreach(name ${NORMVIZ_FUZZ_TARGETS})
    add_executable(fuzz_${name} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_${name}.cpp)
    target_link_libraries(fuzz_${name} PRIVATE normviz_core normviz_spec normviz_lessons
                          normviz_warnings)
    target_compile_options(fuzz_${name} PRIVATE
      -fsanitize=fuzzer,${NORMVIZ_FUZZ_SANITIZERS} -fno-sanitize-recover=all -g)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,${NORMVIZ_FUZZ_SANITIZERS})
  endforeach()
  add_custom_target(fuzz_all)
  foreach(name ${NORMVIZ_FUZZ_TARGETS})
    add_dependencies(fuzz_all fuzz_${name})
  endforeach()
endif()
