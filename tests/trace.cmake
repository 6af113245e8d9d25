# Trace tests: the emulator's invariants and numbers, the `normviz trace` command, the bitwise
# check against the executed kernels (on the emulated device always, on a GPU when present), and
# the stepper panel's screenshot under Xvfb.
find_package(nlohmann_json 3 REQUIRED)
normviz_add_test(test_trace SOURCES test_trace.cpp LIBS nlohmann_json::nlohmann_json)
normviz_add_test(test_trace_cli SOURCES test_trace_cli.cpp LIBS nlohmann_json::nlohmann_json)
add_dependencies(test_trace_cli normviz)
normviz_add_test(test_trace_gpu SOURCES test_trace_gpu.cpp LIBS normviz_gpu)
# The backward trace against the executed backwardRowsKernel, bit for bit.
normviz_add_test(test_trace_backward_gpu SOURCES test_trace_backward_gpu.cpp LIBS normviz_gpu)

# The stepper in the real window, rendered under Xvfb (needs the app and xvfb-run).
find_program(NORMVIZ_XVFB_RUN xvfb-run)
if(TARGET normviz_gui AND NORMVIZ_XVFB_RUN)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(STB REQUIRED IMPORTED_TARGET stb)
  normviz_add_test(test_trace_screenshot SOURCES test_trace_screenshot.cpp
                   LIBS nlohmann_json::nlohmann_json PkgConfig::STB)
  add_dependencies(test_trace_screenshot normviz)
  target_include_directories(test_trace_screenshot PRIVATE ${PROJECT_SOURCE_DIR}/app/gui/panels)
  set(_shots ${CMAKE_CURRENT_BINARY_DIR}/stepper-screenshots)
  file(MAKE_DIRECTORY ${_shots})
  target_compile_definitions(test_trace_screenshot PRIVATE
    NORMVIZ_XVFB_RUN="${NORMVIZ_XVFB_RUN}" NORMVIZ_SCREENSHOT_DIR="${_shots}")
  set_tests_properties(test_trace_screenshot PROPERTIES TIMEOUT 120)
else()
  message(STATUS "normviz: stepper screenshot test off (needs NORMVIZ_BUILD_APP and xvfb-run)")
endif()
