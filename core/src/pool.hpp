// The engine's thread pool, shared by the forward and the backward pass. Two backends behind the
// same parallelRange, chosen at build time: oneTBB (native builds: its workers start once per
// process, and an arena per thread count caps how many a call uses), or, where oneTBB has no port
// (the browser), a small pool of std::threads (NORMVIZ_POOL_STD).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>

#if !defined(NORMVIZ_POOL_STD)
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#endif

namespace normviz::pool {

// The threads the machine offers (1 where the build has no threads).
int defaultConcurrency();

#if !defined(NORMVIZ_POOL_STD)
// The arena of `threads` threads (made on first use; --threads above the core count raises
// oneTBB's limit rather than silently running fewer).
tbb::task_arena& arenaFor(int threads);
#else
// Runs share(k) for k in [0, shares) on the pool's threads and the caller, and returns when all
// are done. One call at a time.
void runShares(int shares, const std::function<void(int)>& share);
#endif

// Below this many elements a call stays on the calling thread: a hand-off costs more than its work.
inline constexpr int64_t kParallelElements = int64_t{1} << 16;

// The threads a call over `elements` elements uses when `threads` are asked for.
inline int threadsFor(int threads, int64_t elements) {
  return elements < kParallelElements ? 1 : threads;
}

// body(first, last) over [0, count) in chunks of at least `grain`, on up to `threads` threads.
// One contiguous share per thread (static partition): each thread streams through its own part
// of the data with its prefetches running ahead, instead of stolen pieces that restart the
// stream (measured in docs/benchmarks.md, "Design measurements").
template <typename F>
void parallelRange(int threads, int64_t count, int64_t grain, const F& body) {
  if (count <= 0) return;
  if (threads <= 1 || count <= grain) {
    body(int64_t{0}, count);
    return;
  }
#if !defined(NORMVIZ_POOL_STD)
  arenaFor(threads).execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<int64_t>(0, count, grain),
        [&](const tbb::blocked_range<int64_t>& r) { body(r.begin(), r.end()); },
        tbb::static_partitioner());
  });
#else
  // The same static partition: `shares` contiguous parts of at least `grain` each.
  const int64_t most = (count + grain - 1) / grain;
  const int shares = static_cast<int>(std::min<int64_t>(threads, most));
  runShares(shares, [&](int k) {
    const int64_t first = count * k / shares, last = count * (k + 1) / shares;
    if (first < last) body(first, last);
  });
#endif
}

}  // namespace normviz::pool
