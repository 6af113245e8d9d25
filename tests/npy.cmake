# .npy reader/writer tests, and the PyTorch-agreement test that reads the committed torch fixtures
# (the CPU engine and every GPU kernel design).
normviz_add_test(test_npy SOURCES test_npy.cpp)
normviz_add_test(test_torch_fixtures SOURCES test_torch_fixtures.cpp
                 LIBS nlohmann_json::nlohmann_json normviz_gpu)
# Tensors from .npz and .safetensors files (and .npy through the same reader): numpy- and
# torch-written fixtures (tests/fixtures/tensor_files/make.py), damaged files of every kind, and
# each file flag through `normviz compute`.
normviz_add_test(test_tensor_file SOURCES test_tensor_file.cpp LIBS nlohmann_json::nlohmann_json)
add_dependencies(test_tensor_file normviz)
