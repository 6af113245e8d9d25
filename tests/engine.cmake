# Engine tests: plans, the worked example, equalities between layers, numerics, errors.
find_package(nlohmann_json 3 REQUIRED)
normviz_add_test(test_engine SOURCES test_plan.cpp test_engine.cpp test_engine_layouts.cpp LIBS nlohmann_json::nlohmann_json)
