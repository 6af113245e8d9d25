# Backward-pass tests: autograd fixtures, finite differences, equalities, the float32 fast path.
find_package(nlohmann_json 3 REQUIRED)
normviz_add_test(test_backward SOURCES test_backward.cpp LIBS nlohmann_json::nlohmann_json)
