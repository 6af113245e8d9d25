// Shapes and dense row-major tensors of rank 1 to 4, the data every layer works on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace normviz {

inline constexpr int kMaxRank = 4;

// Dims of a row-major tensor, outermost first: (N, C, H, W), (N, C, L), (B, T, C), ...
struct Shape {
  std::vector<int64_t> dims;

  Shape() = default;
  Shape(std::initializer_list<int64_t> d) : dims(d) {}
  explicit Shape(std::vector<int64_t> d) : dims(std::move(d)) {}

  int rank() const { return static_cast<int>(dims.size()); }
  int64_t operator[](int axis) const { return dims[static_cast<size_t>(axis)]; }
  // Product of the dims; 1 for rank 0.
  int64_t numel() const;
  // Row-major strides in elements.
  std::vector<int64_t> strides() const;
  // "(3, 4, 2, 2)", the way PyTorch prints a size.
  std::string str() const;
  // "[4, 2, 2]", the way PyTorch's normalized_shape is written.
  std::string list() const;
  bool operator==(const Shape&) const = default;
};

// Parses "3,4,2,2" (spaces allowed). Throws NormError naming the bad token.
Shape parseShape(std::string_view text);
// Parses "0,2,3" into axis numbers. Throws NormError naming the bad token.
std::vector<int> parseAxes(std::string_view text);

// Conventional axis names for a rank: W... (N,C,H,W), (N,C,L), (N,C), (C).
std::vector<std::string> defaultAxisNames(int rank);

template <typename T>
struct BasicTensor {
  Shape shape;
  std::vector<T> data;

  BasicTensor() = default;
  BasicTensor(Shape s, std::vector<T> d) : shape(std::move(s)), data(std::move(d)) {}
  explicit BasicTensor(Shape s, T fill = T{})
      : shape(std::move(s)), data(static_cast<size_t>(shape.numel()), fill) {}

  int64_t numel() const { return static_cast<int64_t>(data.size()); }
  T& operator[](int64_t i) { return data[static_cast<size_t>(i)]; }
  const T& operator[](int64_t i) const { return data[static_cast<size_t>(i)]; }
};

using Tensor = BasicTensor<float>;    // inputs, weights: float32 as users give them
using TensorD = BasicTensor<double>;  // results: float32 results widened exactly, or float64

TensorD widen(const Tensor& t);
Tensor narrow(const TensorD& t);

}  // namespace normviz
