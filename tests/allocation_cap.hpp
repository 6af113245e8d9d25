// Include in exactly one source of a test binary: that binary then refuses any single allocation
// above 64 MiB, so a reader that allocated the size a damaged file claims before checking the
// bytes present fails with bad_alloc instead of the NormError the tests expect. Replacing new and
// delete together keeps ASan's pairing intact.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace normviz_test {
inline constexpr size_t kAllocationCap = size_t{64} << 20;
}
void* operator new(size_t n) {
  if (n > normviz_test::kAllocationCap) throw std::bad_alloc();
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
// GCC cannot see that new and delete are replaced as a pair and flags free() after inlining.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
