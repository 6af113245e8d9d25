# .npy reader/writer tests, and the PyTorch-agreement test that reads the committed torch fixtures
# (the CPU engine and every GPU kernel design).
normviz_add_test(test_npy SOURCES test_npy.cpp)
normviz_add_test(test_torch_fixtures SOURCES test_torch_fixtures.cpp
                 LIBS nlohmann_json::nlohmann_json normviz_gpu)
