# .npy reader/writer tests.
normviz_add_test(test_npy SOURCES test_npy.cpp)
