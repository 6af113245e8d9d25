// Per-target memory helpers shared by the forward and backward SIMD kernels: prefetching the data
// read next, making a page's address translation ahead of streaming stores, and the scalar head
// before a vector-aligned store. Included once per Highway target (the -inl.h toggle below).
#if defined(NORMVIZ_SIMD_MEMORY_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef NORMVIZ_SIMD_MEMORY_INL_H_
#undef NORMVIZ_SIMD_MEMORY_INL_H_
#else
#define NORMVIZ_SIMD_MEMORY_INL_H_
#endif

#include <hwy/cache_control.h>
#include <hwy/highway.h>

#include <algorithm>
#include <cstdint>

#include "engine_simd.hpp"

HWY_BEFORE_NAMESPACE();
namespace normviz::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Prefetches the cache lines of ahead[i, i + n), floats of x read next (nothing when null), into
// L1 or, with `into_l2`, into L2 only.
HWY_INLINE void prefetchLines(const float* ahead, int64_t i, int64_t n, bool into_l2 = false) {
  if (!ahead) return;
  for (int64_t k = 0; k < n; k += kFloatsPerLine) {
    if (into_l2)
      __builtin_prefetch(ahead + i + k, 0, 2);
    else
      hwy::Prefetch(ahead + i + k);
  }
}

// A streaming store that starts a 4 KiB page of y first needs the page's address translation; on
// a virtual machine with nested paging that walk is slow and stalls the stores behind it. When a
// store starts a page, a prefetch of a line kTranslateAhead pages further on makes that walk
// early, while the stores of the pages between still run (docs/benchmarks.md, "Design
// measurements").
inline constexpr uintptr_t kPageBytes = 4096;
inline constexpr uintptr_t kTranslateAhead = 8;

template <typename T>
HWY_INLINE void translateAhead(const T* y) {
  const uintptr_t at = reinterpret_cast<uintptr_t>(y);
  // A prefetch never faults, so pages past the end of y are harmless.
  if (at % kPageBytes == 0)
    __builtin_prefetch(reinterpret_cast<const void*>(at + kTranslateAhead * kPageBytes), 0, 0);
}

// Scalar elements before y + i is aligned to a whole vector (so that streaming stores write whole
// cache lines), at most n.
template <class D>
HWY_INLINE int64_t headToAlign(D d, const hn::TFromD<D>* y, int64_t n) {
  const uintptr_t bytes = hn::Lanes(d) * sizeof(hn::TFromD<D>);
  const uintptr_t mis = reinterpret_cast<uintptr_t>(y) % bytes;
  const int64_t head = mis == 0 ? 0 : static_cast<int64_t>((bytes - mis) / sizeof(hn::TFromD<D>));
  return std::min(head, n);
}

}  // namespace HWY_NAMESPACE
}  // namespace normviz::simd
HWY_AFTER_NAMESPACE();

#endif  // NORMVIZ_SIMD_MEMORY_INL_H_
