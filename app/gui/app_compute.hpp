// Turning the app's inputs into results: validation, the backends, and the edits that need core.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app_state.hpp"
#include "layer_options.hpp"

namespace normviz {

// Fills the inputs from command-line options (the same flags as `normviz compute`).
// Throws NormError with the flag's problem.
void initFromOptions(AppState& state, const LayerOptions& options);

// Recomputes when inputs changed: on success replaces state.shown and clears state.error; on a
// NormError keeps the last good snapshot and stores the message.
void recomputeIfChanged(AppState& state);

// A recompute in three parts, so that the long one can run on another thread
// (background_compute.hpp): what it reads, copied out of the state; the snapshot; its outcome
// shown.
struct ComputeInputs {
  ReductionPlan plan;
  Tensor x;
  NormParams params;
  Backend backend = Backend::CpuFp32;
  VarianceStrategy variance = VarianceStrategy::TwoPass;
  int threads = 0;
  bool backward = false;
  std::string grad_init;
  uint64_t seed = 0;
};
struct ComputeOutcome {
  std::optional<Snapshot> snapshot;
  std::string error;  // the NormError's message when there is no snapshot
};
// Clears inputs_changed, makes the plan and fits the affine parameters to it (both in the state);
// throws NormError when the inputs make no layer.
ComputeInputs takeComputeInputs(AppState& state);
// Every backend on the inputs (NormError on failure). Reads nothing else: safe on any thread.
Snapshot computeSnapshot(ComputeInputs inputs);
// The snapshot shown (a new shape refits the view), or the error kept beside the last one.
void applyComputeOutcome(AppState& state, ComputeOutcome&& outcome);

// Replaces x by a synthetic input of state.edit_shape made with state.init / state.seed, refusing
// shapes past kMaxDisplayedElements or dims outside 1..64 (message in state.error).
void regenerateInput(AppState& state);

// Makes the tensor file at `path` the input x (PATH[:NAME]: .npy, .npz or .safetensors, up to
// kMaxSheetElements elements; its conversion to float32 in the notice) and remembers the path; a
// file that cannot be read leaves x as it was, with the reason in state.error. The Load button, a
// file dropped on the window and the page's file picker use it.
void loadInputFile(AppState& state, const std::string& path);

// Makes photos the input x, one image per sample (readImages): images of different sizes are
// resized to the first one's, and a photo past 256 pixels on its longer side is resized to fit,
// each said in the notice. A file that cannot be read leaves x as it was, with the reason in
// state.error.
void loadImages(AppState& state, const std::vector<std::string>& paths);
// Files dropped on the window: all images make a batch (loadImages); otherwise the first file is
// loaded as a tensor (loadInputFile).
void loadDroppedFiles(AppState& state, const std::vector<std::string>& paths);

// Opens the capture folder `dir` at the layer called `name` ("" = the first) or shows layer
// `index` of the open one: its captured x, parameters and configuration become the inputs. Throws
// NormError naming the folder, the file or the layer at fault (the state is unchanged then).
void openCapture(AppState& state, const std::string& dir, const std::string& name);
void openCapturedLayer(AppState& state, int index);

// BatchNorm training: keeps the running statistics the last run produced, counts the batch, and
// moves random data on to a new seed so the next step sees a new batch.
void applyTrainingStep(AppState& state);
void resetRunningStats(AppState& state);

// Divisors of c in increasing order (GroupNorm's valid num_groups).
std::vector<int64_t> divisorsOf(int64_t c);

}  // namespace normviz
