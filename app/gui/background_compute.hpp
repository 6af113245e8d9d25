// A recompute that takes longer than a frame runs on a worker thread while the window keeps
// drawing the last snapshot, so that a large layer never freezes it (GroupNorm on (8, 1024, 768)
// with the backward and the emulated device took 3.9 s to recompute on 2 cores).
#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include "app_compute.hpp"

namespace normviz {

class BackgroundCompute {
 public:
  // `wake` runs on the worker when a recompute ends (the window's loop sleeps until an event).
  explicit BackgroundCompute(std::function<void()> wake = {});
  // Waits for a running recompute: the engine's thread pool must outlive it.
  ~BackgroundCompute();
  BackgroundCompute(const BackgroundCompute&) = delete;
  BackgroundCompute& operator=(const BackgroundCompute&) = delete;

  // Once per frame, before anything reads state.shown: shows a finished recompute, then starts
  // the next one if the inputs changed meanwhile and waits up to `wait` for it, so that a small
  // layer still shows in the frame that changed it. A recompute outrun by a synchronous one (a
  // lesson step's) is dropped. state.computing names the running one ("" when none).
  void update(AppState& state, std::chrono::milliseconds wait);
  // Waits for a running recompute and shows it.
  void finish(AppState& state);
  bool busy() const { return job_.valid(); }

 private:
  void takeFinished(AppState& state);

  std::thread worker_;
  std::future<ComputeOutcome> job_;  // the worker's outcome, set before it wakes the window
  uint64_t started_version_ = 0;     // state.result_version when the running one started
  std::function<void()> wake_;
};

}  // namespace normviz
