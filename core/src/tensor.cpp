// Shapes, parsing of shape/axis lists, and float32 <-> float64 tensor conversion.
#include "normviz/tensor.hpp"

#include <charconv>
#include <limits>
#include <new>

#if defined(__linux__) && !defined(__EMSCRIPTEN__)
#include <sys/mman.h>
#endif

#include "normviz/error.hpp"

namespace normviz {

namespace {

#if defined(MADV_HUGEPAGE)
constexpr bool kHugePages = true;
#else
constexpr bool kHugePages = false;  // the browser, and systems without the advice
#endif
constexpr size_t kHugePageBytes = size_t{2} << 20;

bool onHugePages(size_t bytes) {
  return kHugePages && bytes >= kHugeTensorBytes;
}

std::align_val_t tensorAlignment(size_t bytes) {
  return std::align_val_t{onHugePages(bytes) ? kHugePageBytes : size_t{64}};
}

}  // namespace

// Only the whole 2 MiB pages inside the allocation are advised, so huge pages add no memory: the
// alignment's lead is never touched. Measured in docs/benchmarks.md, "Tensors on huge pages".
void* allocateTensorBytes(size_t bytes) {
  void* p = ::operator new(bytes, tensorAlignment(bytes));
#if defined(MADV_HUGEPAGE)
  // Advice only, given before the first touch: where it fails, the pages stay ordinary.
  if (onHugePages(bytes)) madvise(p, bytes / kHugePageBytes * kHugePageBytes, MADV_HUGEPAGE);
#endif
  return p;
}

void freeTensorBytes(void* p, size_t bytes) noexcept {
  ::operator delete(p, tensorAlignment(bytes));
}

std::optional<int64_t> checkedProduct(std::span<const int64_t> dims) {
  int64_t nonzero = 1;
  bool zero = false;
  for (int64_t d : dims) {
    if (d < 0) return std::nullopt;
    if (d == 0) {
      zero = true;
      continue;
    }
    if (__builtin_mul_overflow(nonzero, d, &nonzero)) return std::nullopt;
  }
  return zero ? 0 : nonzero;
}

void checkRepresentable(std::span<const int64_t> dims, const std::string& what) {
  if (checkedProduct(dims)) return;
  const Shape shape{std::vector<int64_t>(dims.begin(), dims.end())};
  for (int64_t d : dims)
    if (d < 0)
      throw NormError(what + " " + shape.str() + " has a negative dim (" + std::to_string(d) + ")");
  throw NormError(what + " " + shape.str() +
                  " cannot be represented: the product of its dims is more than 2^63 - 1");
}

int64_t Shape::numel() const {
  checkRepresentable(dims, "shape");
  return *checkedProduct(dims);
}

std::vector<int64_t> Shape::strides() const {
  // A stride is 0 or a product of nonzero dims, so checkedProduct bounds every one.
  checkRepresentable(dims, "shape");
  std::vector<int64_t> s(dims.size(), 1);
  for (int i = rank() - 2; i >= 0; --i) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

static std::string joined(const std::vector<int64_t>& dims, const char* open, const char* close,
                          bool trailing_comma_for_one) {
  std::string out = open;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(dims[i]);
  }
  if (trailing_comma_for_one && dims.size() == 1) out += ",";
  return out + close;
}

std::string Shape::str() const {
  return joined(dims, "(", ")", true);
}
std::string Shape::list() const {
  return joined(dims, "[", "]", false);
}

std::vector<int64_t> parseIntegers(std::string_view text, const char* what) {
  std::vector<int64_t> out;
  size_t pos = 0;
  if (text.find_first_not_of(" \t") == std::string_view::npos)
    throw NormError(std::string(what) + " is empty; expected a comma-separated list like 3,4,2,2");
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view token = text.substr(pos, comma - pos);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
      token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    int64_t value = 0;
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (ec == std::errc::result_out_of_range && end == token.data() + token.size())
      throw NormError(std::string(what) + " '" + std::string(text) + "': '" + std::string(token) +
                      "' is out of range (more than 2^63 - 1)");
    if (token.empty() || ec != std::errc() || end != token.data() + token.size())
      throw NormError(std::string(what) + " '" + std::string(text) + "': '" + std::string(token) +
                      "' is not an integer");
    out.push_back(value);
    pos = comma + 1;
  }
  return out;
}

Shape parseShape(std::string_view text) {
  Shape s(parseIntegers(text, "shape"));
  for (int64_t d : s.dims)
    if (d <= 0)
      throw NormError("shape " + s.str() + " has a dim of " + std::to_string(d) +
                      "; every dim must be at least 1");
  checkRepresentable(s.dims, "shape");
  return s;
}

std::vector<int> parseAxes(std::string_view text) {
  std::vector<int> axes;
  for (int64_t a : parseIntegers(text, "axes")) {
    if (a < -kMaxRank || a >= kMaxRank)
      throw NormError("axis " + std::to_string(a) + " is out of range for a tensor of rank <= 4");
    axes.push_back(static_cast<int>(a));
  }
  return axes;
}

std::vector<std::string> defaultAxisNames(int rank) {
  switch (rank) {
    case 1:
      return {"C"};
    case 2:
      return {"N", "C"};
    case 3:
      return {"N", "C", "L"};
    default:
      return {"N", "C", "H", "W"};
  }
}

TensorD widen(const Tensor& t) {
  TensorD out;
  out.shape = t.shape;
  out.data.assign(t.data.begin(), t.data.end());
  return out;
}

Tensor narrow(const TensorD& t) {
  Tensor out;
  out.shape = t.shape;
  out.data.resize(t.data.size());
  for (size_t i = 0; i < t.data.size(); ++i) out.data[i] = static_cast<float>(t.data[i]);
  return out;
}

}  // namespace normviz
