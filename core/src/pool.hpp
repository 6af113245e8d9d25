// The engine's thread pool, shared by the forward and the backward pass: oneTBB's workers start
// once per process, and an arena per thread count caps how many a call uses.
#pragma once

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <cstdint>

namespace normviz::pool {

// The arena of `threads` threads (made on first use; --threads above the core count raises
// oneTBB's limit rather than silently running fewer).
tbb::task_arena& arenaFor(int threads);

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
  arenaFor(threads).execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<int64_t>(0, count, grain),
        [&](const tbb::blocked_range<int64_t>& r) { body(r.begin(), r.end()); },
        tbb::static_partitioner());
  });
}

}  // namespace normviz::pool
