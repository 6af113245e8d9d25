// The emulated device: runs a grid's blocks on OS threads and each block's threads as fibers
// (Boost.Context; in the browser, Emscripten's fibers on Asyncify), with __syncthreads() as a
// barrier and warp shuffles as rendezvous of 32 lanes; plus the part of the CUDA runtime API the
// host code calls (memory, copies, events, properties).
//
// A block runs on one OS thread, which runs its fibers in turn: each runs until it reaches a
// barrier, a shuffle, __syncwarp or its end, then the scheduler resumes the next ready one. A
// barrier releases when every live thread of the block waits at it (threads that returned do not
// count, as on Volta and later); a warp rendezvous completes when every lane of its mask waits at
// it. When no thread is ready and some have not finished, the block can never finish on a GPU
// either: the launch fails naming the kernel, block and threads and where each waits.
//
// Sanitizers: fiber switches are announced to AddressSanitizer (its stack bookkeeping) and to
// ThreadSanitizer, where each CUDA thread is a fiber with no happens-before between fibers except
// what __syncthreads() and __syncwarp() establish: shared-memory accesses of two threads with no
// barrier between them are reported as data races (racecheck).
//
// Sections: sanitizer hooks · fibers and stacks · the block scheduler · grids and workers ·
// probes and counters · the runtime API
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cuda_host.hpp"
#include "normviz/gpu_emulated.hpp"

// The browser: WebAssembly cannot switch stacks by itself; Emscripten's fibers unwind and rewind
// the call stack through Asyncify (linked with -sASYNCIFY, app/web/CMakeLists.txt).
#if defined(__EMSCRIPTEN__)
#define NORMVIZ_EMU_WASM 1
#include <emscripten/fiber.h>
#else
#include <boost/context/detail/fcontext.hpp>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define NORMVIZ_EMU_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
// This file is built without ThreadSanitizer's instrumentation (the scheduler hands data between
// fibers in ways that are ordered by the switches, not by synchronization TSan could see); the
// build says when the program runs under it.
#if defined(NORMVIZ_EMULATED_UNDER_TSAN)
#define NORMVIZ_EMU_TSAN 1
#include <sanitizer/tsan_interface.h>
#endif

namespace normviz::emu {

thread_local const ThreadContext* current = nullptr;

namespace {

#if !defined(NORMVIZ_EMU_WASM)
namespace bctx = boost::context::detail;
#endif

// ---- sanitizer hooks ----------------------------------------------------------------------------

// ThreadSanitizer: a release before a thread waits and an acquire after it is released make
// every access before a barrier happen before every access after it.
void tsanRelease([[maybe_unused]] void* token) {
#if defined(NORMVIZ_EMU_TSAN)
  __tsan_release(token);
#endif
}
void tsanAcquire([[maybe_unused]] void* token) {
#if defined(NORMVIZ_EMU_TSAN)
  __tsan_acquire(token);
#endif
}

// ---- fibers and stacks --------------------------------------------------------------------------

#if defined(NORMVIZ_EMU_ASAN) || defined(NORMVIZ_EMU_TSAN)
constexpr size_t kStackBytes = size_t{128} << 10;  // instrumented frames are larger
#elif defined(NORMVIZ_EMU_WASM)
// WebAssembly keeps most locals off the memory stack; what Asyncify saves of a fiber's frames at
// a switch goes to a second buffer of its own.
constexpr size_t kStackBytes = size_t{16} << 10;
constexpr size_t kAsyncifyBytes = size_t{16} << 10;
#else
constexpr size_t kStackBytes = size_t{64} << 10;
#endif

#if defined(NORMVIZ_EMU_WASM)
using Fiber = emscripten_fiber_t;
#else
using Fiber = bctx::fcontext_t;
#endif

#if defined(NORMVIZ_EMU_WASM)
// Fiber stacks for up to `count` threads, each with its Asyncify buffer. WebAssembly has no guard
// pages (mprotect does nothing there).
class StackPool {
 public:
  void reserve(size_t count) {
    if (count <= count_) return;
    memory_ = std::make_unique<Slot[]>(count);
    count_ = count;
  }
  char* bottom(size_t i) const { return memory_[i].stack; }
  char* top(size_t i) const { return bottom(i) + kStackBytes; }
  char* asyncify(size_t i) const { return memory_[i].asyncify; }
  void unpoison() {}

 private:
  struct Slot {
    alignas(16) char stack[kStackBytes];
    alignas(16) char asyncify[kAsyncifyBytes];
  };
  std::unique_ptr<Slot[]> memory_;
  size_t count_ = 0;
};
#else
// Fiber stacks for up to `count` threads, each above a PROT_NONE guard page (an overflow faults
// instead of overwriting the neighbour).
class StackPool {
 public:
  StackPool() = default;
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  ~StackPool() { release(); }
  void reserve(size_t count) {
    if (count <= count_) return;
    release();
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    stride_ = kStackBytes + page_;
    void* p = mmap(nullptr, stride_ * count, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    base_ = static_cast<char*>(p);
    count_ = count;
    for (size_t i = 0; i < count; ++i) mprotect(base_ + i * stride_, page_, PROT_NONE);
  }
  char* bottom(size_t i) const { return base_ + i * stride_ + page_; }
  char* top(size_t i) const { return bottom(i) + kStackBytes; }
  // After a faulted block its fibers are abandoned mid-call: their frames' poisoning must go.
  void unpoison() {
#if defined(NORMVIZ_EMU_ASAN)
    for (size_t i = 0; i < count_; ++i) ASAN_UNPOISON_MEMORY_REGION(bottom(i), kStackBytes);
#endif
  }

 private:
  void release() {
    if (!base_) return;
    unpoison();
    munmap(base_, stride_ * count_);
    base_ = nullptr;
    count_ = 0;
  }
  char* base_ = nullptr;
  size_t count_ = 0, page_ = 4096, stride_ = 0;
};
#endif

// ---- the block scheduler ------------------------------------------------------------------------

enum class Wait { Ready, Barrier, Warp, Done };

struct Lane {
  ThreadContext tc;
  Fiber fiber{};
  Wait wait = Wait::Ready;
  // A warp rendezvous: the lanes it waits for, and for a shuffle what it sends and asks for.
  unsigned mask = 0;
  bool exchange = false;
  ShuffleMode mode = ShuffleMode::Idx;
  int arg = 0, width = 32;
  uint64_t send = 0, recv = 0;
  const char* barrier_file = "";  // the __syncthreads() it waits at
  int barrier_line = 0;
  void* fake_stack = nullptr;  // AddressSanitizer's per-fiber bookkeeping
  void* tsan_fiber = nullptr;  // ThreadSanitizer's fiber for this thread index, kept across blocks
};

struct WarpState {
  unsigned arrived = 0, exited = 0;
  char token = 0;  // ThreadSanitizer's synchronization address for __syncwarp
};

struct Block;
thread_local Block* running_block = nullptr;

std::string dimText(uint3 v) {
  char text[48];
  std::snprintf(text, sizeof text, "(%u,%u,%u)", v.x, v.y, v.z);
  return text;
}

struct Block {
  const char* kernel = "";
  const std::function<void()>* body = nullptr;
  std::vector<Lane> lanes;
  std::vector<WarpState> warps;
  StackPool stacks;
  bool dirty = false;  // a faulted block left fibers mid-call on the stacks
  Fiber scheduler{};
#if defined(NORMVIZ_EMU_WASM)
  // What Asyncify saves of the scheduler's side (the app's whole call stack) at each switch.
  std::unique_ptr<char[]> scheduler_asyncify = std::make_unique<char[]>(kSchedulerAsyncifyBytes);
  static constexpr size_t kSchedulerAsyncifyBytes = size_t{256} << 10;
#endif
  Lane* running = nullptr;
  int live = 0, at_barrier = 0;
  std::string fault;
  char barrier_token = 0, start_token = 0, end_token = 0;
  const void* scheduler_stack_bottom = nullptr;
  size_t scheduler_stack_size = 0;
  void* scheduler_fake_stack = nullptr;
  void* tsan_scheduler = nullptr;
  // ThreadSanitizer's fibers, one per thread index, made once per OS thread: creating one per CUDA
  // thread of every block costs more than running the block. Blocks on one OS thread run one
  // after the other, ordered by start_token and end_token.
  std::vector<void*> tsan_fibers;

  Block() = default;
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;
  ~Block() {
#if defined(NORMVIZ_EMU_TSAN)
    for (void* f : tsan_fibers) __tsan_destroy_fiber(f);
#endif
  }

  std::string where(const Lane& l) const {
    return std::string(kernel) + ": block " + dimText(l.tc.block_idx) + " thread " +
           dimText(l.tc.thread_idx);
  }
  void setFault(const Lane& l, const std::string& what) {
    if (fault.empty()) fault = where(l) + ": " + what;
  }

  // Lane side: hand control back to the scheduler; returns when resumed.
  void yield([[maybe_unused]] Lane& l) {
#if defined(NORMVIZ_EMU_ASAN)
    __sanitizer_start_switch_fiber(&l.fake_stack, scheduler_stack_bottom, scheduler_stack_size);
#endif
#if defined(NORMVIZ_EMU_TSAN)
    __tsan_switch_to_fiber(tsan_scheduler, __tsan_switch_to_fiber_no_sync);
#endif
#if defined(NORMVIZ_EMU_WASM)
    emscripten_fiber_swap(&l.fiber, &scheduler);
#else
    const bctx::transfer_t t = bctx::jump_fcontext(scheduler, nullptr);
    scheduler = t.fctx;
#endif
#if defined(NORMVIZ_EMU_ASAN)
    __sanitizer_finish_switch_fiber(l.fake_stack, nullptr, nullptr);
#endif
  }

  // Scheduler side: run lane l until it yields or ends.
  void resume(size_t index) {
    Lane& l = lanes[index];
    current = &l.tc;
    running = &l;
#if defined(NORMVIZ_EMU_ASAN)
    __sanitizer_start_switch_fiber(&scheduler_fake_stack, stacks.bottom(index), kStackBytes);
#endif
#if defined(NORMVIZ_EMU_TSAN)
    __tsan_switch_to_fiber(l.tsan_fiber, __tsan_switch_to_fiber_no_sync);
#endif
#if defined(NORMVIZ_EMU_WASM)
    emscripten_fiber_swap(&scheduler, &l.fiber);
#else
    const bctx::transfer_t t = bctx::jump_fcontext(l.fiber, &l);
    l.fiber = t.fctx;
#endif
#if defined(NORMVIZ_EMU_ASAN)
    __sanitizer_finish_switch_fiber(scheduler_fake_stack, nullptr, nullptr);
#endif
    current = nullptr;
    running = nullptr;
  }

#if defined(NORMVIZ_EMU_WASM)
  static void entry(void* lane) {
    Block& b = *running_block;
    Lane& l = *static_cast<Lane*>(lane);
#else
  static void entry(bctx::transfer_t t) {
    Block& b = *running_block;
    b.scheduler = t.fctx;
    Lane& l = *static_cast<Lane*>(t.data);
#endif
#if defined(NORMVIZ_EMU_ASAN)
    __sanitizer_finish_switch_fiber(nullptr, &b.scheduler_stack_bottom, &b.scheduler_stack_size);
#endif
    tsanAcquire(&b.start_token);
    try {
      (*b.body)();
    } catch (const std::exception& e) {
      b.setFault(l, std::string("threw ") + e.what());
    } catch (...) {
      b.setFault(l, "threw an exception");
    }
    l.wait = Wait::Done;
    tsanRelease(&b.end_token);
#if defined(NORMVIZ_EMU_ASAN)
    __sanitizer_start_switch_fiber(nullptr, b.scheduler_stack_bottom, b.scheduler_stack_size);
#endif
#if defined(NORMVIZ_EMU_TSAN)
    __tsan_switch_to_fiber(b.tsan_scheduler, 0);
#endif
#if defined(NORMVIZ_EMU_WASM)
    emscripten_fiber_swap(&l.fiber, &b.scheduler);
#else
    bctx::jump_fcontext(b.scheduler, nullptr);
#endif
    std::abort();  // a finished fiber is never resumed
  }

  static std::string siteText(const Lane& l) {
    const char* slash = std::strrchr(l.barrier_file, '/');
    return std::string(slash ? slash + 1 : l.barrier_file) + ":" + std::to_string(l.barrier_line);
  }

  // Releases the barrier when every live thread waits at it. They must wait at the same
  // __syncthreads(): a GPU would let threads at different ones pass each other (undefined
  // behaviour, which compute-sanitizer's synccheck reports as a divergent barrier).
  void completeBarrierIfAll() {
    if (at_barrier == 0 || at_barrier != live) return;
    const Lane* first = nullptr;
    for (const Lane& l : lanes) {
      if (l.wait != Wait::Barrier) continue;
      if (!first) {
        first = &l;
      } else if (l.barrier_line != first->barrier_line ||
                 std::strcmp(l.barrier_file, first->barrier_file) != 0) {
        setFault(l, "divergent __syncthreads(): it waits at " + siteText(l) + " while thread " +
                        dimText(first->tc.thread_idx) + " waits at " + siteText(*first));
        return;
      }
    }
    for (Lane& l : lanes)
      if (l.wait == Wait::Barrier) l.wait = Wait::Ready;
    at_barrier = 0;
  }

  static int sourceLane(ShuffleMode mode, int lane, int arg, int width) {
    const int segment = lane & ~(width - 1), in = lane - segment;
    switch (mode) {
      case ShuffleMode::Idx:
        return segment + (arg & (width - 1));
      case ShuffleMode::Down:
        return in + arg < width ? lane + arg : lane;
      case ShuffleMode::Up:
        return in - arg >= 0 ? lane - arg : lane;
      case ShuffleMode::Xor: {
        const int to = in ^ arg;
        return to < width ? segment + to : lane;
      }
    }
    return lane;
  }

  // A lane of warp w arrived at a rendezvous (or left): complete those whose lanes are all there.
  void checkWarp(size_t w) {
    WarpState& ws = warps[w];
    const size_t first = w * 32, end = std::min(lanes.size(), first + 32);
    for (size_t i = first; i < end; ++i) {
      Lane& l = lanes[i];
      if (l.wait != Wait::Warp) continue;
      if (l.mask & ws.exited) {
        const int gone = __builtin_ctz(l.mask & ws.exited);
        setFault(l, std::string(l.exchange ? "a warp shuffle" : "__syncwarp()") + " names lane " +
                        std::to_string(gone) + ", which has returned");
        return;
      }
      if ((ws.arrived & l.mask) != l.mask) continue;
      const unsigned m = l.mask;
      for (size_t k = first; k < end; ++k) {
        Lane& o = lanes[k];
        if (!(m >> (k - first) & 1u)) continue;
        if (o.mask != m) {
          setFault(o, "lanes of one warp reach a warp operation with different masks");
          return;
        }
        if (o.exchange) {
          const int src = sourceLane(o.mode, static_cast<int>(k - first), o.arg, o.width);
          if (!(m >> src & 1u)) {
            setFault(o, "shuffle reads lane " + std::to_string(src) + ", which is not in the mask");
            return;
          }
          o.recv = lanes[first + static_cast<size_t>(src)].send;
        }
      }
      for (size_t k = first; k < end; ++k)
        if (m >> (k - first) & 1u) lanes[k].wait = Wait::Ready;
      ws.arrived &= ~m;
    }
  }

  std::string describeDeadlock() const {
    std::string s = "deadlock: no thread can go on (";
    int listed = 0;
    for (const Lane& l : lanes) {
      if (l.wait == Wait::Done || listed >= 3) continue;
      s += (listed ? "; thread " : "thread ") + dimText(l.tc.thread_idx) +
           (l.wait == Wait::Barrier ? " waits at __syncthreads() at " + siteText(l)
                                    : std::string(" waits at a warp operation for its lanes"));
      ++listed;
    }
    int finished = 0;
    for (const Lane& l : lanes) finished += l.wait == Wait::Done;
    return s + "; " + std::to_string(finished) +
           " threads returned): a barrier or warp operation " + "not reached by every thread";
  }

  // Runs one block; "" or the fault.
  std::string run(const ThreadContext& shape) {
    const size_t n = size_t{shape.block_dim.x} * shape.block_dim.y * shape.block_dim.z;
    stacks.reserve(n);
    if (dirty) {
      stacks.unpoison();
      dirty = false;
    }
    lanes.assign(n, Lane{});
    warps.assign((n + 31) / 32, WarpState{});
    live = static_cast<int>(n);
    at_barrier = 0;
    fault.clear();
#if defined(NORMVIZ_EMU_TSAN)
    tsan_scheduler = __tsan_get_current_fiber();
#endif
    tsanRelease(&start_token);
#if defined(NORMVIZ_EMU_WASM)
    emscripten_fiber_init_from_current_context(&scheduler, scheduler_asyncify.get(),
                                               kSchedulerAsyncifyBytes);
#endif
    for (size_t i = 0; i < n; ++i) {
      Lane& l = lanes[i];
      l.tc = shape;
      const unsigned bx = shape.block_dim.x, by = shape.block_dim.y;
      const unsigned t = static_cast<unsigned>(i);
      l.tc.thread_idx = uint3{t % bx, (t / bx) % by, t / (bx * by)};
#if defined(NORMVIZ_EMU_WASM)
      emscripten_fiber_init(&l.fiber, &Block::entry, &l, stacks.bottom(i), kStackBytes,
                            stacks.asyncify(i), kAsyncifyBytes);
#else
      l.fiber = bctx::make_fcontext(stacks.top(i), kStackBytes, &Block::entry);
#endif
#if defined(NORMVIZ_EMU_TSAN)
      if (tsan_fibers.size() <= i) tsan_fibers.push_back(__tsan_create_fiber(0));
      l.tsan_fiber = tsan_fibers[i];
      // Copied by ThreadSanitizer (up to 63 characters): names the thread in race reports.
      const std::string name = std::string(kernel) + " block " + dimText(l.tc.block_idx) +
                               " thread " + dimText(l.tc.thread_idx);
      __tsan_set_fiber_name(l.tsan_fiber, name.c_str());
#endif
    }
    int done = 0;
    while (done < static_cast<int>(n) && fault.empty()) {
      bool progressed = false;
      for (size_t i = 0; i < n && fault.empty(); ++i) {
        Lane& l = lanes[i];
        if (l.wait != Wait::Ready) continue;
        progressed = true;
        resume(i);
        const size_t w = i / 32;
        switch (l.wait) {
          case Wait::Done:
            ++done;
            --live;
            warps[w].exited |= 1u << (i % 32);
            completeBarrierIfAll();
            checkWarp(w);
            break;
          case Wait::Barrier:
            ++at_barrier;
            completeBarrierIfAll();
            break;
          case Wait::Warp:
            warps[w].arrived |= 1u << (i % 32);
            checkWarp(w);
            break;
          case Wait::Ready:
            break;
        }
      }
      if (!progressed && fault.empty()) fault = where(lanes[0]) + ": " + describeDeadlock();
    }
    tsanAcquire(&end_token);
    if (!fault.empty()) dirty = true;
    return fault;
  }
};

Block& blockOfThisThread() {
  thread_local Block block;
  return block;
}

#if defined(NORMVIZ_EMU_ASAN)
// memcheck's report: AddressSanitizer has printed the access, its address and the kernel's stack;
// this names the CUDA block and thread that made it.
void nameFaultingThread() {
  const Block* b = running_block;
  if (b && b->running)
    std::fprintf(stderr, "normviz emulated device: the access above was made by %s\n",
                 b->where(*b->running).c_str());
}
[[maybe_unused]] const bool g_death_callback = [] {
  __sanitizer_set_death_callback(&nameFaultingThread);
  return true;
}();
#endif

Lane& runningLane(const char* what) {
  Block* b = running_block;
  if (!b || !b->running) {
    std::fprintf(stderr, "normviz emulated device: %s called outside a kernel\n", what);
    std::abort();
  }
  return *b->running;
}

// ---- grids and workers --------------------------------------------------------------------------

std::atomic<int64_t> g_launches{0}, g_blocks{0}, g_threads{0};

std::mutex g_capture_mutex;
bool g_capturing = false;
std::vector<ProbedPartial> g_captured;

// OS threads that run blocks, made once and kept: each keeps its fiber stacks (and, under
// ThreadSanitizer, its fibers) from one launch to the next. One grid at a time.
class WorkerPool {
 public:
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  // Runs work() on `count` threads, the caller's included; returns when every one has finished.
  void run(int count, const std::function<void()>& work) {
    std::lock_guard<std::mutex> one_grid(grid_mutex_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (static_cast<int>(threads_.size()) < count - 1) {
        const int index = static_cast<int>(threads_.size());
        threads_.emplace_back([this, index] { poolLoop(index); });
      }
      job_ = &work;
      pool_threads_ = count - 1;
      finished_ = 0;
      ++generation_;
    }
    wake_.notify_all();
    work();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return finished_ == pool_threads_; });
    job_ = nullptr;
  }

 private:
  void poolLoop(int index) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      if (index >= pool_threads_) continue;
      const std::function<void()>* job = job_;
      lock.unlock();
      (*job)();
      lock.lock();
      if (++finished_ == pool_threads_) done_.notify_all();
    }
  }

  std::mutex grid_mutex_, mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  const std::function<void()>* job_ = nullptr;
  uint64_t generation_ = 0;
  int pool_threads_ = 0, finished_ = 0;
  bool stop_ = false;
};

WorkerPool& workerPool() {
  static WorkerPool pool;
  return pool;
}

int workerCount(uint64_t blocks) {
#if defined(NORMVIZ_EMU_WASM)
  // The page's blocks run one after another on the calling thread: its workers belong to the CPU
  // engine (they start with the page), and a fiber's Asyncify buffers are per thread.
  (void)blocks;
  return 1;
#endif
  static const int hardware = [] {
    if (const char* env = std::getenv("NORMVIZ_EMULATED_THREADS")) {
      const int n = std::atoi(env);
      if (n > 0) return n;
    }
    return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  }();
  return static_cast<int>(std::min<uint64_t>(blocks, static_cast<uint64_t>(hardware)));
}

}  // namespace

void syncThreads(const char* file, int line) {
  Lane& l = runningLane("__syncthreads()");
  Block& b = *running_block;
  l.wait = Wait::Barrier;
  l.barrier_file = file;
  l.barrier_line = line;
  tsanRelease(&b.barrier_token);
  b.yield(l);
  tsanAcquire(&b.barrier_token);
}

void syncWarp(unsigned mask) {
  Lane& l = runningLane("__syncwarp()");
  Block& b = *running_block;
  l.wait = Wait::Warp;
  l.mask = mask;
  l.exchange = false;
  const size_t index = static_cast<size_t>(&l - b.lanes.data());
  char* token = &b.warps[index / 32].token;
  tsanRelease(token);
  b.yield(l);
  tsanAcquire(token);
}

uint64_t shuffle(ShuffleMode mode, unsigned mask, uint64_t value, int arg, int width) {
  Lane& l = runningLane("a warp shuffle");
  Block& b = *running_block;
  if (width < 1 || width > 32 || (width & (width - 1)) != 0) {
    b.setFault(l, "shuffle width " + std::to_string(width) + " is not a power of two up to 32");
    return value;
  }
  // Shuffles move registers only: they order no memory access (that takes __syncwarp).
  l.wait = Wait::Warp;
  l.mask = mask;
  l.exchange = true;
  l.mode = mode;
  l.arg = arg;
  l.width = width;
  l.send = value;
  b.yield(l);
  return l.recv;
}

std::string runGrid(const char* kernel, dim3 grid, dim3 block, const std::function<void()>& body) {
  const uint64_t threads = uint64_t{block.x} * block.y * block.z;
  const uint64_t blocks = uint64_t{grid.x} * grid.y * grid.z;
  if (threads == 0 || threads > 1024 || block.z > 64 || blocks == 0 || grid.x > 0x7fffffffu ||
      grid.y > 65535 || grid.z > 65535)
    return std::string(kernel) + ": invalid launch configuration: grid " +
           dimText(uint3{grid.x, grid.y, grid.z}) + ", block " +
           dimText(uint3{block.x, block.y, block.z});
  ++g_launches;
  g_blocks += static_cast<int64_t>(blocks);
  g_threads += static_cast<int64_t>(blocks * threads);

  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex fault_mutex;
  std::string fault;
  auto work = [&] {
    Block& b = blockOfThisThread();
    Block* outer = running_block;
    running_block = &b;
    b.kernel = kernel;
    b.body = &body;
    ThreadContext shape;
    shape.block_dim = block;
    shape.grid_dim = grid;
    for (uint64_t i = next++; i < blocks && !failed; i = next++) {
      shape.block_idx =
          uint3{static_cast<unsigned>(i % grid.x), static_cast<unsigned>((i / grid.x) % grid.y),
                static_cast<unsigned>(i / (uint64_t{grid.x} * grid.y))};
      std::string f;
      try {
        f = b.run(shape);
      } catch (const std::bad_alloc&) {
        f = std::string(kernel) + ": out of memory for the emulated block's fiber stacks";
      }
      if (!f.empty()) {
        std::lock_guard<std::mutex> lock(fault_mutex);
        if (fault.empty()) fault = f;
        failed = true;
      }
    }
    running_block = outer;
  };
  const int workers = workerCount(blocks);
  if (workers <= 1)
    work();
  else
    workerPool().run(workers, work);
  return fault;
}

// ---- probes and counters ------------------------------------------------------------------------

void recordPartial(int stage, int offset, const float* words, int count) {
  if (!g_capturing) return;
  const Lane& l = runningLane("a recipe probe");
  ProbedPartial p;
  p.block = l.tc.block_idx.x;
  p.thread = l.tc.thread_idx.x;
  p.stage = stage;
  p.offset = offset;
  p.count = count;
  for (int i = 0; i < count && i < 3; ++i) p.words[i] = words[i];
  std::lock_guard<std::mutex> lock(g_capture_mutex);
  g_captured.push_back(p);
}

void beginCapture() {
  std::lock_guard<std::mutex> lock(g_capture_mutex);
  g_captured.clear();
  g_capturing = true;
}

std::vector<ProbedPartial> endCapture() {
  std::lock_guard<std::mutex> lock(g_capture_mutex);
  g_capturing = false;
  return std::move(g_captured);
}

Counters counters() {
  return Counters{g_launches.load(), g_blocks.load(), g_threads.load()};
}

}  // namespace normviz::emu

// ---- the runtime API ----------------------------------------------------------------------------

namespace {

thread_local cudaError_t t_last_error = cudaSuccess;
thread_local std::string t_last_fault;

}  // namespace

struct CUevent_st {
  std::chrono::steady_clock::time_point at;
};

namespace normviz::emu {
void setLaunchResult(const std::string& fault) {
  if (fault.empty()) return;
  t_last_error = fault.find("invalid launch configuration") != std::string::npos
                     ? cudaErrorInvalidConfiguration
                     : cudaErrorLaunchFailure;
  t_last_fault = fault;
}
}  // namespace normviz::emu

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration:
      return "cudaErrorInvalidConfiguration";
    case cudaErrorInsufficientDriver:
      return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice:
      return "cudaErrorNoDevice";
    case cudaErrorLaunchFailure:
      return "cudaErrorLaunchFailure";
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInvalidConfiguration:
    case cudaErrorLaunchFailure:
      return t_last_fault.c_str();
    case cudaErrorInsufficientDriver:
      return "driver too old";
    case cudaErrorNoDevice:
      return "no device";
  }
  return "unknown error";
}

cudaError_t cudaGetLastError() {
  const cudaError_t e = t_last_error;
  t_last_error = cudaSuccess;
  return e;
}

cudaError_t cudaDriverGetVersion(int* version) {
  *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0) return cudaErrorInvalidValue;
  *prop = cudaDeviceProp{};
  const int workers = normviz::emu::workerCount(1u << 30);
  std::snprintf(prop->name, sizeof prop->name, "the CPU (emulated, %d %s)", workers,
                workers == 1 ? "thread" : "threads");
  // Auto picks the kernel it would pick on an H100 SXM (compute capability 9.0, 132 SMs).
  prop->major = 9;
  prop->minor = 0;
  prop->totalGlobalMem =
      static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
  prop->multiProcessorCount = 132;
  prop->l2CacheSize = 0;  // no device cache to flush between timed repeats
  return cudaSuccess;
}

// No DRAM of its own: no bandwidth to report.
cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr, int) {
  *value = 0;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cudaSuccess : cudaErrorInvalidValue;
}

cudaError_t cudaDeviceSynchronize() {
  return cudaSuccess;
}

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  // Exactly `bytes`, 256-byte aligned like cudaMalloc: AddressSanitizer then reports any access
  // past the end (memcheck), a float4 that straddles it included.
  void* p = nullptr;
  if (posix_memalign(&p, 256, bytes == 0 ? 1 : bytes) != 0) return cudaErrorMemoryAllocation;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  std::free(ptr);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  *free_bytes = static_cast<size_t>(sysconf(_SC_AVPHYS_PAGES)) * page;
  *total_bytes = static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * page;
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
  if (bytes) std::memcpy(dst, src, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemset(void* ptr, int value, size_t bytes) {
  if (bytes) std::memset(ptr, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t) {
  return cudaMemset(ptr, value, bytes);
}

// Launches finish before they return, so an event is the host's clock when it is recorded.
cudaError_t cudaEventCreate(cudaEvent_t* event) {
  *event = new CUevent_st{};
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  event->at = std::chrono::steady_clock::now();
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t) {
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t stop) {
  *ms = std::chrono::duration<float, std::milli>(stop->at - start->at).count();
  return cudaSuccess;
}
