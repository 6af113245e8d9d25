# Command-line tests: run the built normviz binary (NORMVIZ_BINARY) and check its files and output.
normviz_add_test(test_cli SOURCES test_cli.cpp LIBS nlohmann_json::nlohmann_json)
add_dependencies(test_cli normviz)
# What describes a view without the GUI (app/spec) and the lesson files' checks: also under ASan.
normviz_add_test(test_spec SOURCES test_spec.cpp LIBS normviz_spec normviz_lessons)
