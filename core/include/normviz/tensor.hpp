// Shapes and dense row-major tensors of rank 1 to 4, the data every layer works on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <span>
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
  // Product of the dims; 1 for rank 0. Throws NormError when a dim is negative or the product
  // does not fit in int64 (see checkedProduct).
  int64_t numel() const;
  // Row-major strides in elements. Throws NormError as numel() does.
  std::vector<int64_t> strides() const;
  // "(3, 4, 2, 2)", the way PyTorch prints a size.
  std::string str() const;
  // "[4, 2, 2]", the way PyTorch's normalized_shape is written.
  std::string list() const;
  bool operator==(const Shape&) const = default;
};

// The product of `dims`, or nullopt when a dim is negative or the product (of every dim, and of
// every dim but the zeros) does not fit in int64. A zero dim beside huge ones is refused too: such
// a shape has no element, but its strides cannot be represented.
std::optional<int64_t> checkedProduct(std::span<const int64_t> dims);

// Throws NormError naming `what` and the shape when checkedProduct refuses its dims.
void checkRepresentable(std::span<const int64_t> dims, const std::string& what);

// Parses "3, 4,2" into integers; `what` names the list in error messages ("hover '1,x': 'x' is not
// an integer"). Throws NormError on an empty list, a token that is not an integer or is out of
// int64's range.
std::vector<int64_t> parseIntegers(std::string_view text, const char* what);

// Parses "3,4,2,2" (spaces allowed). Every dim must be at least 1 and their product must fit in
// int64; the rank is checked by the layer's plan. Throws NormError naming the bad token.
Shape parseShape(std::string_view text);
// Parses "0,2,3" into axis numbers. Throws NormError naming the bad token.
std::vector<int> parseAxes(std::string_view text);

// Conventional axis names for a rank: W... (N,C,H,W), (N,C,L), (N,C), (C).
std::vector<std::string> defaultAxisNames(int rank);

// A tensor's storage: `bytes` starting on a 64-byte cache line, or, from kHugeTensorBytes on where
// the system takes the advice (Linux), on a 2 MiB boundary with its whole 2 MiB pages advised as
// transparent huge pages (ordinary pages where the kernel declines). Freed with the same count.
inline constexpr size_t kHugeTensorBytes = size_t{8} << 20;
void* allocateTensorBytes(size_t bytes);
void freeTensorBytes(void* p, size_t bytes) noexcept;

// Allocates whole cache lines: a tensor's first element starts a 64-byte line, so vector loads
// and streaming stores over it stay within lines (glibc puts large allocations 16 bytes past a
// page, which a normalization pays for on every line: docs/benchmarks.md, "Design measurements").
// Large tensors also get huge pages (allocateTensorBytes): a pass over 25 MB in 4 KiB pages makes
// a page walk every 4 KiB of each stream, which on a virtual machine costs a nested walk.
template <typename T>
struct LineAllocator {
  using value_type = T;

  LineAllocator() = default;
  template <typename U>
  LineAllocator(const LineAllocator<U>&) noexcept {}

  T* allocate(size_t n) { return static_cast<T*>(allocateTensorBytes(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { freeTensorBytes(p, n * sizeof(T)); }
  template <typename U>
  bool operator==(const LineAllocator<U>&) const noexcept {
    return true;
  }
};

// A tensor's elements, line-aligned.
template <typename T>
using TensorData = std::vector<T, LineAllocator<T>>;

template <typename T>
struct BasicTensor {
  Shape shape;
  TensorData<T> data;

  BasicTensor() = default;
  BasicTensor(Shape s, const std::vector<T>& d) : shape(std::move(s)), data(d.begin(), d.end()) {}
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
