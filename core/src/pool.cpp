// The engine's oneTBB arenas, one per thread count.
#include "pool.hpp"

#include <tbb/global_control.h>

#include <map>
#include <memory>
#include <mutex>

namespace normviz::pool {

tbb::task_arena& arenaFor(int threads) {
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<tbb::task_arena>> arenas;
  static std::unique_ptr<tbb::global_control> limit;
  std::lock_guard<std::mutex> lock(mutex);
  // oneTBB keeps one worker per core unless told otherwise; --threads above the core count is the
  // caller's choice (oversubscription), so raise the limit instead of silently running fewer.
  if (static_cast<size_t>(threads) >
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism))
    limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                  static_cast<size_t>(threads));
  std::unique_ptr<tbb::task_arena>& arena = arenas[threads];
  if (!arena) {
    arena = std::make_unique<tbb::task_arena>(threads);
    arena->initialize();
  }
  return *arena;
}

}  // namespace normviz::pool
