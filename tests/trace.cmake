# Trace tests: the emulator's invariants and numbers, the `normviz trace` command, the GPU bitwise
# check (skipped without a device), and the stepper panel's screenshot under Xvfb.
find_package(nlohmann_json 3 REQUIRED)
normviz_add_test(test_trace SOURCES test_trace.cpp LIBS nlohmann_json::nlohmann_json)
normviz_add_test(test_trace_cli SOURCES test_trace_cli.cpp LIBS nlohmann_json::nlohmann_json)
add_dependencies(test_trace_cli normviz)
normviz_add_test(test_trace_gpu SOURCES test_trace_gpu.cpp LIBS normviz_gpu)
set_tests_properties(test_trace_gpu PROPERTIES SKIP_REGULAR_EXPRESSION "SKIPPED:")
