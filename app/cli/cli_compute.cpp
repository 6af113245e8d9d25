// `normviz compute`: run one layer, write y/mean/var/rstd (.npy) and optionally a JSON summary.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "cli.hpp"
#include "normviz/error.hpp"
#include "normviz/gpu.hpp"
#include "normviz/npy.hpp"

namespace normviz {
namespace {

struct ComputeFlags {
  LayerOptions layer;
  std::string out;
  std::string variance = "two-pass";
  std::string precision = "fp32";
  std::string device = "cpu";
  std::string gpu_variant = "auto";
  bool json = false;
};

nlohmann::json summary(const LoadedLayer& L, const NormResult& r, const ComputeFlags& f,
                       const std::vector<std::string>& files) {
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
            {"groups", groups},
            {"groups_shown", groups.size()},
            {"timings", {{"backend", r.backend}, {"seconds", r.seconds}}},
            {"outputs", files}};
  if (plan.kind() == NormKind::Batch) {
    j["training"] = plan.config().training;
    if (r.running_mean) {
      j["running_mean"] = r.running_mean->data.size() <= 64 ? json(r.running_mean->data) : json();
      j["running_var"] = r.running_var->data.size() <= 64 ? json(r.running_var->data) : json();
    }
  }
  return j;
}

// Writes every output or none: on any failure the files already written are removed again.
std::vector<std::string> writeOutputs(const std::string& dir, const NormResult& r, NpyDtype dtype) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, const TensorD*>> outputs = {
      {"y.npy", &r.y}, {"mean.npy", &r.mean}, {"var.npy", &r.var}, {"rstd.npy", &r.rstd}};
  if (r.running_mean) outputs.push_back({"running_mean.npy", &*r.running_mean});
  if (r.running_var) outputs.push_back({"running_var.npy", &*r.running_var});

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

int runCompute(const ComputeFlags& f) {
  if (f.out.empty() && !f.json)
    throw NormError("nothing to do: give --out DIR to write .npy files, --json, or both");
  LoadedLayer L = loadLayer(f.layer);
  ComputeOptions options;
  options.precision = parsePrecision(f.precision);
  options.variance = parseVariance(f.variance);
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
  std::vector<std::string> files;
  if (!f.out.empty()) {
    NpyDtype dtype = options.precision == Precision::Fp64 ? NpyDtype::Float64 : NpyDtype::Float32;
    files = writeOutputs(f.out, r, dtype);
  }
  if (f.json)
    std::printf("%s\n", summary(L, r, f, files).dump(2).c_str());
  else
    std::printf("%s\n%s\n%s: %.3f ms; wrote %zu files to %s\n", L.plan.pytorchLine().c_str(),
                L.plan.describe().c_str(), r.backend.c_str(), r.seconds * 1e3, files.size(),
                f.out.c_str());
  return 0;
}

}  // namespace

void addComputeCommand(CLI::App& cli) {
  auto flags = std::make_shared<ComputeFlags>();
  CLI::App* cmd =
      cli.add_subcommand("compute", "Run one normalization layer and write the results");
  addLayerOptions(*cmd, flags->layer);
  cmd->add_option("--out", flags->out, "directory for y.npy, mean.npy, var.npy, rstd.npy");
  cmd->add_option("--variance", flags->variance, "fp32 variance: two-pass|welford|naive|pairwise")
      ->capture_default_str();
  cmd->add_option("--precision", flags->precision, "fp32 (fast path) or fp64 (reference)")
      ->capture_default_str();
  cmd->add_option("--device", flags->device,
                  "cpu, gpu (falls back to cpu with a message) or gpu-emulated (the CUDA kernels "
                  "executed on the CPU; CPU times, not GPU times)")
      ->capture_default_str();
  cmd->add_option("--gpu-variant", flags->gpu_variant, "GPU kernel design (see normviz bench)")
      ->capture_default_str();
  cmd->add_flag("--json", flags->json, "print a JSON summary to stdout");
  registerCommand(cmd, [flags] { return runCompute(*flags); });
}

}  // namespace normviz
