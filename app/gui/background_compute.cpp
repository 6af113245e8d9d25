// The recompute on a worker thread (background_compute.hpp).
#include "background_compute.hpp"

#include <exception>
#include <new>
#include <utility>

#include "normviz/error.hpp"

namespace normviz {

namespace {

// "GroupNorm on (32, 64, 56, 56), with the backward": what the panel says is being computed.
std::string describe(const ComputeInputs& in) {
  std::string text = std::string(normKindTitle(in.plan.config().kind)) + " on " + in.x.shape.str();
  if (in.backward) text += ", with the backward";
  return text;
}

}  // namespace

BackgroundCompute::BackgroundCompute(std::function<void()> wake) : wake_(std::move(wake)) {}

BackgroundCompute::~BackgroundCompute() {
  if (worker_.joinable()) worker_.join();
}

void BackgroundCompute::takeFinished(AppState& state) {
  ComputeOutcome outcome = job_.get();
  worker_.join();
  state.computing.clear();
  if (state.result_version == started_version_) applyComputeOutcome(state, std::move(outcome));
}

void BackgroundCompute::update(AppState& state, std::chrono::milliseconds wait) {
  if (job_.valid()) {
    if (job_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
    takeFinished(state);
  }
  if (!state.inputs_changed) return;
  ComputeInputs inputs;
  try {
    inputs = takeComputeInputs(state);
  } catch (const NormError& e) {
    state.error = e.what();
    return;
  }
  state.computing = describe(inputs);
  started_version_ = state.result_version;
  std::promise<ComputeOutcome> promise;
  job_ = promise.get_future();
  worker_ = std::thread(
      [promise = std::move(promise), inputs = std::move(inputs), wake = wake_]() mutable {
        ComputeOutcome outcome;
        try {
          outcome.snapshot = computeSnapshot(std::move(inputs));
        } catch (const NormError& e) {
          outcome.error = e.what();
        } catch (const std::bad_alloc&) {
          outcome.error = "not enough memory for this layer; make the tensor smaller";
        }
        promise.set_value(std::move(outcome));
        if (wake) wake();
      });
  if (job_.wait_for(wait) == std::future_status::ready) takeFinished(state);
}

void BackgroundCompute::finish(AppState& state) {
  if (job_.valid()) takeFinished(state);
}

}  // namespace normviz
