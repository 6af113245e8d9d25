// The engine's thread pool (see pool.hpp): oneTBB's arenas, one per thread count, or the
// std::thread pool of builds without oneTBB.
#include "pool.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

#if !defined(NORMVIZ_POOL_STD)
#include <tbb/global_control.h>
#include <tbb/info.h>
#else
#include <condition_variable>
#include <thread>
#include <vector>
#endif

namespace normviz::pool {

#if !defined(NORMVIZ_POOL_STD)

int defaultConcurrency() {
  return std::max(1, tbb::info::default_concurrency());
}

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

#else

int defaultConcurrency() {
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
  return 1;  // a build without threads (a page that is not cross-origin isolated)
#elif defined(__EMSCRIPTEN__)
  // The page starts its workers up front (PTHREAD_POOL_SIZE in app/web/CMakeLists.txt: up to 16
  // for the engine, and a few more for the rest); a browser cannot start one while the engine
  // waits.
  return std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, 16);
#else
  return std::max(1u, std::thread::hardware_concurrency());
#endif
}

namespace {

// Workers made on first use and kept; each call hands every worker one share and waits for all.
class SharePool {
 public:
  ~SharePool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  void run(int shares, const std::function<void(int)>& share) {
    std::lock_guard<std::mutex> one_call(call_);
    while (static_cast<int>(workers_.size()) < shares - 1)
      workers_.emplace_back([this, k = static_cast<int>(workers_.size()) + 1] { work(k); });
    {
      std::lock_guard<std::mutex> lock(mutex_);
      share_ = &share;
      shares_ = shares;
      pending_ = shares - 1;
      ++generation_;
    }
    wake_.notify_all();
    share(0);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return pending_ == 0; });
    share_ = nullptr;
  }

 private:
  void work(int k) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int)>* share = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || (generation_ != seen && k < shares_); });
        if (stop_) return;
        seen = generation_;
        share = share_;
      }
      (*share)(k);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex call_, mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* share_ = nullptr;
  int shares_ = 0, pending_ = 0;
  uint64_t generation_ = 0;
  bool stop_ = false;
};

}  // namespace

void runShares(int shares, const std::function<void(int)>& share) {
  if (shares <= 1) {
    if (shares == 1) share(0);
    return;
  }
  static SharePool pool;
  pool.run(shares, share);
}

#endif

}  // namespace normviz::pool
