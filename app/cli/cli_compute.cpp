// `normviz compute`: run one layer, write y/mean/var/rstd (.npy) and optionally a JSON summary;
// with --backward also dx (and dweight/dbias) from a given or generated dy.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "capture.hpp"
#include "cli.hpp"
#include "normviz/backward.hpp"
#include "normviz/error.hpp"
#include "normviz/gpu.hpp"
#include "normviz/npy.hpp"

namespace normviz {
namespace {

struct ComputeFlags {
  SpecArgs layer;  // --norm ... --seed: the layer and its data
  std::string out;
  std::string variance = "two-pass";
  std::string precision = "fp32";
  std::string device = "cpu";
  std::string gpu_variant = "auto";
  int threads = 0;  // CPU threads; 0 = every core
  bool json = false;
  bool backward = false;
  std::string grad_output;  // dy .npy
  std::string grad_init;    // or generated: randn|ones|arange
  std::string capture;      // a capture folder (python/normviz_capture.py) instead of the flags
  std::string capture_layer;
};

// dy for --backward, from --grad-output (its conversion noted in L.notes) or --grad-init; throws
// NormError naming the flag at fault.
Tensor loadGradOutput(const ComputeFlags& f, const LayerOptions& layer, LoadedLayer& L) {
  const Tensor& x = L.x;
  if (!f.grad_init.empty()) return makeGradOutput(x.shape, f.grad_init, layer.seed);
  Tensor dy = readTensorFlag(f.grad_output, "--grad-output", layer.max_elements, L.notes);
  if (!(dy.shape == x.shape))
    throw NormError("--grad-output: dy has shape " + dy.shape.str() + " but the input has shape " +
                    x.shape.str() + "; dy must have the input's shape");
  return dy;
}

// The backward flags make sense together or not at all: checked before anything is computed.
void checkBackwardFlags(const ComputeFlags& f) {
  if (!f.backward) {
    if (!f.grad_output.empty()) throw NormError("--grad-output needs --backward");
    if (!f.grad_init.empty()) throw NormError("--grad-init needs --backward");
    return;
  }
  if (!f.grad_output.empty() && !f.grad_init.empty())
    throw NormError("--backward takes dy from --grad-output or --grad-init, not both");
  if (f.grad_output.empty() && f.grad_init.empty())
    throw NormError("--backward needs dy: give --grad-output dy.npy or --grad-init " +
                    std::string(kGradInitNames));
}

nlohmann::json backwardSummary(const ReductionPlan& plan, const BackwardResult& b) {
  using nlohmann::json;
  json groups = json::array();
  for (int64_t g = 0; g < std::min<int64_t>(plan.groupCount(), 64); ++g)
    groups.push_back(
        {{"group", g}, {"sum_dy_w", b.sum_dy_w[g]}, {"sum_dy_w_xhat", b.sum_dy_w_xhat[g]}});
  json j = {{"timings", {{"backend", b.backend}, {"seconds", b.seconds}}},
            {"group_coupled", b.group_coupled},
            {"groups", groups},
            {"groups_shown", groups.size()}};
  if (b.dweight && b.dweight->numel() <= 64) j["dweight"] = b.dweight->data;
  if (b.dbias && b.dbias->numel() <= 64) j["dbias"] = b.dbias->data;
  return j;
}

nlohmann::json summary(const LoadedLayer& L, const NormResult& r, const ComputeFlags& f,
                       const std::vector<std::string>& files, const BackwardResult* backward) {
  using nlohmann::json;
  const ReductionPlan& plan = L.plan;
  json groups = json::array();
  for (int64_t g = 0; g < std::min<int64_t>(plan.groupCount(), 64); ++g)
    groups.push_back({{"group", g}, {"mean", r.mean[g]}, {"var", r.var[g]}, {"rstd", r.rstd[g]}});
  json j = {{"shape", plan.shape().dims},
            {"norm", normKindName(plan.kind())},
            {"description", plan.describe()},
            {"pytorch", plan.pytorchLine()},
            {"group_count", plan.groupCount()},
            {"group_size", plan.groupSize()},
            {"stat_shape", plan.statShape().dims},
            {"stat_axes", plan.statAxisNames()},
            {"affine_shape", plan.affineShape().dims},
            {"eps", plan.config().eps},
            {"precision", f.precision},
            {"variance", f.variance},
            {"threads", engineThreads(f.threads)},
            {"groups", groups},
            {"groups_shown", groups.size()},
            {"timings", {{"backend", r.backend}, {"seconds", r.seconds}}},
            {"outputs", files},
            {"conversions", L.notes}};
  if (plan.kind() == NormKind::Batch) {
    j["training"] = plan.config().training;
    if (r.running_mean) {
      j["running_mean"] = r.running_mean->data.size() <= 64 ? json(r.running_mean->data) : json();
      j["running_var"] = r.running_var->data.size() <= 64 ? json(r.running_var->data) : json();
    }
  }
  if (backward) j["backward"] = backwardSummary(plan, *backward);
  return j;
}

// Writes every output or none: on any failure the files already written are removed again.
// x.npy too when `x` is given (the decoded photos of --input-image).
std::vector<std::string> writeOutputs(const std::string& dir, const NormResult& r,
                                      const BackwardResult* backward, const TensorD* x,
                                      NpyDtype dtype) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, const TensorD*>> outputs = {
      {"y.npy", &r.y}, {"mean.npy", &r.mean}, {"var.npy", &r.var}, {"rstd.npy", &r.rstd}};
  if (x) outputs.insert(outputs.begin(), {"x.npy", x});
  if (r.running_mean) outputs.push_back({"running_mean.npy", &*r.running_mean});
  if (r.running_var) outputs.push_back({"running_var.npy", &*r.running_var});
  if (backward) {
    outputs.push_back({"dx.npy", &backward->dx});
    if (backward->dweight) outputs.push_back({"dweight.npy", &*backward->dweight});
    if (backward->dbias) outputs.push_back({"dbias.npy", &*backward->dbias});
  }

  std::error_code ec;
  const bool created = !fs::exists(dir, ec);
  if (created && !fs::create_directories(dir, ec))
    throw NormError("--out: cannot create directory '" + dir + "': " + ec.message());
  if (!fs::is_directory(dir, ec)) throw NormError("--out: '" + dir + "' is not a directory");
  std::vector<std::string> written;
  try {
    for (const auto& [name, tensor] : outputs) {
      std::string path = (fs::path(dir) / name).string();
      writeNpy(path, *tensor, dtype);
      written.push_back(path);
    }
  } catch (...) {
    for (const auto& path : written) fs::remove(path, ec);
    if (created) fs::remove(dir, ec);
    throw;
  }
  return written;
}

// The forward on --device: the CPU, the GPU (the CPU with a message when there is none) or the
// emulated device (its errors end the command).
NormResult computeForward(const ComputeFlags& f, const LoadedLayer& L,
                          const ComputeOptions& options) {
  NormResult r;
  if (f.device == "gpu") {
    const GpuDevice& dev = gpuDevice();
    GpuOptions g;
    g.variant = parseGpuVariant(f.gpu_variant);
    std::string why = dev.reason;
    bool done = false;
    if (dev.usable) {
      try {
        r = gpuCompute(L.x, L.plan, L.params, g).result;
        done = true;
      } catch (const NormError& e) {
        why = e.what();  // out of memory, a launch failure: the CPU still has the answer
      }
    }
    if (!done) {
      std::fprintf(stderr, "normviz: GPU unavailable (%s); computing on the CPU instead\n",
                   why.c_str());
      r = computeNorm(L.x, L.plan, L.params, options);
    }
  } else if (f.device == "gpu-emulated") {
    // The CUDA kernels executed on the CPU. Never a fallback: it runs the kernels or the error
    // (an unsupported variant, a kernel fault naming block and thread) ends the command.
    GpuOptions g;
    g.variant = parseGpuVariant(f.gpu_variant);
    g.device = GpuDeviceKind::Emulated;
    g.warmup = 0;
    g.repeats = 1;
    r = gpuCompute(L.x, L.plan, L.params, g).result;
  } else if (f.device == "cpu") {
    r = computeNorm(L.x, L.plan, L.params, options);
  } else {
    throw NormError("unknown --device '" + f.device + "'; expected cpu, gpu or gpu-emulated");
  }
  return r;
}

int runCompute(const ComputeFlags& f) {
  if (f.out.empty() && !f.json)
    throw NormError("nothing to do: give --out DIR to write .npy files, --json, or both");
  checkBackwardFlags(f);
  if (f.capture.empty() && !f.capture_layer.empty())
    throw NormError("--layer picks a layer of --capture DIR");
  std::optional<CapturedLayer> captured;
  if (!f.capture.empty()) captured = capturedLayer(readCapture(f.capture), f.capture_layer);
  const LayerOptions layer = captured ? captured->layer : f.layer.layer();
  LoadedLayer L = loadLayer(layer);
  std::optional<Tensor> dy;
  if (f.backward) dy = loadGradOutput(f, layer, L);
  for (const std::string& note : L.notes) std::fprintf(stderr, "normviz: %s\n", note.c_str());
  ComputeOptions options;
  options.precision = parsePrecision(f.precision);
  options.variance = parseVariance(f.variance);
  options.threads = engineThreads(f.threads);  // refuses a negative count before any work
  const NormResult r = computeForward(f, L, options);
  // The backward starts from the forward's saved statistics, whichever device made them; on the
  // GPU (or the emulated device) where a backward kernel runs the plan, else on the CPU with a line
  // saying why. As for the forward, an emulated kernel's error ends the command.
  std::optional<BackwardResult> back;
  const bool emulated = f.device == "gpu-emulated";
  if (dy && (emulated || (f.device == "gpu" && gpuDevice().usable))) {
    std::string why = gpuBackwardUnsupported(L.plan);
    GpuOptions g;
    if (emulated) {
      g.device = GpuDeviceKind::Emulated;
      g.warmup = 0;
      g.repeats = 1;
    }
    if (why.empty() && emulated) {
      back = gpuBackward(L.x, *dy, L.plan, L.params, r.mean, r.rstd, g).result;
    } else if (why.empty()) {
      try {
        back = gpuBackward(L.x, *dy, L.plan, L.params, r.mean, r.rstd, g).result;
      } catch (const NormError& e) {
        why = e.what();
      }
    }
    if (!back)
      std::fprintf(stderr, "normviz: GPU backward unavailable (%s); computing on the CPU instead\n",
                   why.c_str());
  }
  if (dy && !back) back = computeNormBackward(L.x, *dy, L.plan, L.params, r, options);
  std::optional<CaptureDifference> difference;
  if (captured) difference = differenceFromCaptured(*captured, r.y);
  std::vector<std::string> files;
  if (!f.out.empty()) {
    NpyDtype dtype = options.precision == Precision::Fp64 ? NpyDtype::Float64 : NpyDtype::Float32;
    const std::optional<TensorD> photos =
        layer.input_images.empty() ? std::nullopt : std::optional<TensorD>(widen(L.x));
    files = writeOutputs(f.out, r, back ? &*back : nullptr, photos ? &*photos : nullptr, dtype);
  }
  if (f.json) {
    nlohmann::json j = summary(L, r, f, files, back ? &*back : nullptr);
    if (captured)
      j["capture"] = {{"dir", f.capture},
                      {"layer", captured->name},
                      {"type", captured->type},
                      {"training", captured->training},
                      {"max_abs_diff", difference->max_abs},
                      {"max_rel_diff", difference->max_rel}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    if (captured)
      std::printf("%s (%s, %s mode) from %s\n", captured->name.c_str(), captured->type.c_str(),
                  captured->training ? "training" : "eval", f.capture.c_str());
    std::printf("%s\n%s\n%s: %.3f ms", L.plan.pytorchLine().c_str(), L.plan.describe().c_str(),
                r.backend.c_str(), r.seconds * 1e3);
    if (back) std::printf("; %s: %.3f ms", back->backend.c_str(), back->seconds * 1e3);
    std::printf("; wrote %zu files to %s\n", files.size(), f.out.c_str());
    if (captured)
      std::printf("captured y: max |y - y_captured| = %.3g (%.3g of the largest |y_captured|)\n",
                  difference->max_abs, difference->max_rel);
  }
  return 0;
}

// --gpu-variant's help: every design's name with what it does.
std::string gpuVariantHelp() {
  std::string help = "GPU kernel design (normviz bench times each):";
  for (GpuVariant v : allGpuVariants()) {
    help += "\n  ";
    help += gpuVariantName(v);
    help += ": ";
    help += gpuVariantDescription(v);
  }
  return help;
}

}  // namespace

void addComputeCommand(CLI::App& cli) {
  auto flags = std::make_shared<ComputeFlags>();
  CLI::App* cmd =
      cli.add_subcommand("compute", "Run one normalization layer and write the results");
  flags->layer.add(*cmd, SpecArgs::Fields::Layer);
  cmd->add_option("--out", flags->out, "directory for y.npy, mean.npy, var.npy, rstd.npy");
  cmd->add_option("--variance", flags->variance, "fp32 variance: two-pass|welford|naive|pairwise")
      ->capture_default_str();
  cmd->add_option("--precision", flags->precision, "fp32 (fast path) or fp64 (reference)")
      ->capture_default_str();
  cmd->add_option("--device", flags->device,
                  "cpu, gpu (falls back to cpu with a message) or gpu-emulated (the CUDA kernels "
                  "executed on the CPU; CPU times, not GPU times)")
      ->capture_default_str();
  cmd->add_option("--gpu-variant", flags->gpu_variant, gpuVariantHelp())->capture_default_str();
  cmd->add_option("--threads", flags->threads, "CPU threads (0 = every core)")
      ->capture_default_str();
  cmd->add_flag("--json", flags->json, "print a JSON summary to stdout");
  cmd->add_flag("--backward", flags->backward,
                "also run the backward: write dx.npy (and dweight.npy/dbias.npy with "
                "--weight/--bias)");
  cmd->add_option("--grad-output", flags->grad_output,
                  "--backward: dy, the input's shape: .npy, or FILE.npz:NAME or "
                  "FILE.safetensors:NAME (float32, float64, float16 or bfloat16)");
  cmd->add_option("--grad-init", flags->grad_init,
                  std::string("--backward: generate dy instead: ") + kGradInitNames +
                      " (randn uses --seed + 1)");
  cmd->add_option("--capture", flags->capture,
                  "a capture folder (python/normviz_capture.py): recompute one of its layers from "
                  "its captured x and configuration, and report max |y - captured y|; it replaces "
                  "the layer and input flags");
  cmd->add_option("--layer", flags->capture_layer,
                  "--capture: the layer's name as the manifest lists it (\"features.1\")");
  registerCommand(cmd, [flags] { return runCompute(*flags); });
}

}  // namespace normviz
