// The backward's reduction stepped through: backward_kernels.cu's backwardRowsKernel emulated for
// one group (256 threads, both sums at once through blockSum2, then dx), recording every stage.
//
// Sections: gathering a group's inputs; the emulated block (load, xor shuffles, shared write,
// cross-warp sum, dx).
#include <algorithm>
#include <cstdio>
#include <iterator>
#include <string>

#include "normviz/error.hpp"
#include "normviz/trace.hpp"

namespace normviz {

namespace {

using Cover = std::vector<int32_t>;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Whether the group's flat indices are one contiguous run, as backwardRowsKernel addresses it.
bool contiguous(const std::vector<int64_t>& elements) {
  for (size_t j = 1; j < elements.size(); ++j)
    if (elements[j] != elements[0] + static_cast<int64_t>(j)) return false;
  return true;
}

// What the real kernel does differently for a group that is not one row, appended to the load
// stage's explanation ("" for rows).
std::string layoutNote(const ReductionPlan& plan, bool rows) {
  if (plan.kind() == NormKind::Batch)
    return " The real BatchNorm kernel splits each channel across blocks of 4096 elements and "
           "merges their partials; this shows one block reducing the whole channel in j order.";
  if (!rows)
    return " No GPU backward kernel reads this layer's groups as rows; this shows one block "
           "reducing the gathered group in j order.";
  return "";
}

// The trace's stages, each with one lane per thread of the block.
struct Stages {
  ReductionTrace& trace;

  TraceStage& add(StageKind kind, std::string name, std::string explanation, int offset = 0) {
    TraceStage s;
    s.kind = kind;
    s.name = std::move(name);
    s.explanation = std::move(explanation);
    s.offset = offset;
    s.lanes.resize(static_cast<size_t>(trace.block_size));
    trace.stages.push_back(std::move(s));
    return trace.stages.back();
  }
  // Lanes from both sums and their coverage: a lane that covers nothing is idle.
  void fill(TraceStage& stage, const std::vector<float>& s1, const std::vector<float>& s2,
            const std::vector<Cover>& cov, const std::vector<int>* sources = nullptr) {
    for (size_t t = 0; t < stage.lanes.size(); ++t) {
      TraceLane& lane = stage.lanes[t];
      lane.idle = cov[t].empty();
      if (lane.idle) continue;
      lane.value = s1[t];
      lane.value2 = s2[t];
      lane.covers = cov[t];
      if (sources) lane.source = (*sources)[t];
    }
  }
};

}  // namespace

// ---- Gathering ----------------------------------------------------------------------------------

BackwardGroupInput backwardGroupInput(const Tensor& x, const Tensor& dy, const ReductionPlan& plan,
                                      const NormParams& params, const TensorD& mean,
                                      const TensorD& rstd, int64_t group) {
  BackwardGroupInput in;
  in.x = groupValues(x, plan, group);  // checks the group and x's shape
  if (dy.shape != x.shape)
    throw NormError("dy's shape " + dy.shape.str() + " does not match the input's " +
                    x.shape.str());
  const size_t groups = static_cast<size_t>(plan.groupCount());
  if (mean.data.size() != groups || rstd.data.size() != groups)
    throw NormError("the saved mean and rstd need one value per group (" + std::to_string(groups) +
                    ")");
  if (params.weight && params.weight->shape != plan.affineShape())
    throw NormError("the weight's shape " + params.weight->shape.str() +
                    " does not match the layer's " + plan.affineShape().str());
  in.dy.reserve(in.x.size());
  for (int64_t flat : plan.elementsOf(group)) {
    in.dy.push_back(dy[flat]);
    if (params.weight) in.weight.push_back((*params.weight)[plan.affineIndexOf(flat)]);
  }
  in.mean = static_cast<float>(mean.data[static_cast<size_t>(group)]);
  in.rstd = static_cast<float>(rstd.data[static_cast<size_t>(group)]);
  return in;
}

// ---- The emulated block -------------------------------------------------------------------------

ReductionTrace traceBackwardGroup(const BackwardGroupInput& in, const ReductionPlan& plan,
                                  int64_t group, int64_t max_coverage) {
  const int64_t M = plan.groupSize();
  constexpr int B = kBackwardBlockSize, warps = B / kWarpSize;
  const auto size = [](const std::vector<float>& v) { return static_cast<int64_t>(v.size()); };
  if (group < 0 || group >= plan.groupCount() || size(in.x) != M || size(in.dy) != M ||
      (!in.weight.empty() && size(in.weight) != M))
    throw NormError("group " + std::to_string(group) + " with " + std::to_string(in.x.size()) +
                    " values of x and " + std::to_string(in.dy.size()) +
                    " of dy does not match the layer (" + std::to_string(plan.groupCount()) +
                    " groups of " + std::to_string(M) + ")");
  if (M * B > max_coverage)
    throw NormError("a group of " + std::to_string(M) + " elements on the backward's " +
                    std::to_string(B) +
                    " threads is too large to list every lane's coverage (at most " +
                    std::to_string(max_coverage / B) + " elements): pick a smaller shape");
  ReductionTrace trace;
  trace.group = group;
  trace.block_size = B;
  trace.shuffle = ShuffleKind::Xor;
  trace.subtracts_mean = plan.subtractsMean();
  trace.backward = true;
  for (int64_t flat : plan.elementsOf(group)) trace.elements.push_back(flat);
  trace.rows = plan.kind() != NormKind::Batch && contiguous(trace.elements);
  trace.thread_of.resize(static_cast<size_t>(M));
  for (int64_t j = 0; j < M; ++j) trace.thread_of[static_cast<size_t>(j)] = static_cast<int>(j % B);
  const float mean = in.mean, rstd = in.rstd;
  trace.mean = mean;
  trace.rstd = rstd;
  const auto weightAt = [&](int64_t j) {
    return in.weight.empty() ? 1.f : in.weight[static_cast<size_t>(j)];
  };
  Stages rec{trace};

  // Load: thread t accumulates elements t, t + B, ... (backwardRowsKernel's first loop).
  std::vector<float> s1(B, 0.f), s2(B, 0.f);
  std::vector<Cover> cov(B);
  for (int t = 0; t < B; ++t)
    for (int64_t j = t; j < M; j += B) {
      const size_t u = static_cast<size_t>(t), k = static_cast<size_t>(j);
      const float gw = in.dy[k] * weightAt(j);
      s1[u] += gw;
      s2[u] += gw * ((in.x[k] - mean) * rstd);
      cov[u].push_back(static_cast<int32_t>(j));
    }
  const int64_t busy = std::min<int64_t>(B, M);
  std::string e =
      "Each thread forms two partial sums at once over its elements: Σg and Σg·x̂, "
      "with g = dy·w and x̂ = (x - mean)·rstd from the forward's saved mean and rstd; "
      "thread t reads element t, then steps by " +
      std::to_string(B) + " (" + std::to_string(M) + " elements over " + std::to_string(B) +
      " threads" +
      (busy < B
           ? "; threads " + std::to_string(busy) + "-" + std::to_string(B - 1) + " hold nothing)."
           : ").") +
      layoutNote(plan, trace.rows);
  rec.fill(rec.add(StageKind::Load, "load Σg, Σg·x̂", e), s1, s2, cov);

  // blockSum2: xor shuffles 16 .. 1 on both sums; every lane ends with its warp's totals.
  std::vector<int> src(B, -1);
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) {
    std::vector<float> n1 = s1, n2 = s2;
    std::vector<Cover> next(B);
    for (int t = 0; t < B; ++t) {
      const size_t u = static_cast<size_t>(t);
      const size_t p = static_cast<size_t>((t & ~(kWarpSize - 1)) | ((t % kWarpSize) ^ offset));
      n1[u] = s1[u] + s1[p];
      n2[u] = s2[u] + s2[p];
      std::merge(cov[u].begin(), cov[u].end(), cov[p].begin(), cov[p].end(),
                 std::back_inserter(next[u]));
      src[u] = cov[p].empty() ? -1 : static_cast<int>(p);
    }
    s1 = std::move(n1);
    s2 = std::move(n2);
    cov = std::move(next);
    const std::string o = std::to_string(offset);
    e = "__shfl_xor_sync offset " + o + " on both sums: every lane i adds lane i^" + o +
        "'s Σg and Σg·x̂ in each of the " + std::to_string(warps) + " warps, so " +
        (offset > 1 ? "each partial now covers the elements of both."
                    : "every lane of a warp now holds its warp's two totals.");
    rec.fill(rec.add(StageKind::Shuffle, "shuffle " + o, e, offset), s1, s2, cov, &src);
  }

  // Lane 0 of each warp writes both totals to shared memory.
  std::vector<float> shm(2 * kWarpSize, 0.f);
  for (int w = 0; w < warps; ++w) {
    shm[static_cast<size_t>(w)] = s1[static_cast<size_t>(w * kWarpSize)];
    shm[static_cast<size_t>(kWarpSize + w)] = s2[static_cast<size_t>(w * kWarpSize)];
  }
  for (int t = 0; t < B; ++t)
    if (t % kWarpSize != 0) cov[static_cast<size_t>(t)].clear();
  rec.fill(rec.add(StageKind::SharedWrite, "shared write",
                   "Lane 0 of each of the " + std::to_string(warps) +
                       " warps writes its warp's Σg to shm[warp] and Σg·x̂ to shm[32 + warp]; "
                       "__syncthreads() then waits for all of them."),
           s1, s2, cov);

  // Every thread adds the warp totals in warp order: all of them hold the same two sums.
  float ta = 0.f, tb = 0.f;
  for (int w = 0; w < warps; ++w) {
    ta += shm[static_cast<size_t>(w)];
    tb += shm[static_cast<size_t>(kWarpSize + w)];
  }
  trace.sum_g = ta;
  trace.sum_g_xhat = tb;
  Cover all(static_cast<size_t>(M));
  for (int64_t j = 0; j < M; ++j) all[static_cast<size_t>(j)] = static_cast<int32_t>(j);
  s1.assign(B, ta);
  s2.assign(B, tb);
  cov.assign(B, all);
  rec.fill(rec.add(StageKind::CrossWarpSum, "cross-warp sum",
                   "Every thread adds the " + std::to_string(warps) +
                       " warp totals from shared memory in warp order, so all of them hold the "
                       "same Σg = " +
                       num(ta) + " and Σg·x̂ = " + num(tb) + "; thread 0 stores both."),
           s1, s2, cov);

  // dx = rstd·(g - c.x - x̂·c.y) per element (couplingTerms, dxOf).
  const bool coupled = !(plan.kind() == NormKind::Batch && !plan.config().training);
  const float m = static_cast<float>(M);
  const float cx = coupled && plan.subtractsMean() ? ta / m : 0.f;
  const float cy = coupled ? tb / m : 0.f;
  trace.dx.resize(static_cast<size_t>(M));
  TraceStage& dx = rec.add(
      StageKind::InputGradient, "dx",
      !coupled ? "BatchNorm in evaluation mode uses running statistics, so nothing couples the "
                 "group: each thread writes dx = rstd·g for its elements; shown: its first dx."
               : "Each thread writes dx = rstd·(g - " +
                     (plan.subtractsMean() ? "mean(g) - " : std::string()) +
                     "x̂·mean(g·x̂)) for its elements, with " +
                     (plan.subtractsMean()
                          ? "mean(g) = Σg/" + std::to_string(M) + " = " + num(cx) + " and "
                          : std::string("no mean(g) (RMSNorm subtracts no mean) "
                                        "and ")) +
                     "mean(g·x̂) = Σg·x̂/" + std::to_string(M) + " = " + num(cy) +
                     "; shown: its first dx.");
  for (int64_t j = 0; j < M; ++j) {
    const size_t k = static_cast<size_t>(j);
    const float xhat = (in.x[k] - mean) * rstd;
    const float d = rstd * (in.dy[k] * weightAt(j) - cx - xhat * cy);
    trace.dx[k] = d;
    TraceLane& lane = dx.lanes[static_cast<size_t>(j % B)];
    if (lane.covers.empty()) lane.value = d;
    lane.covers.push_back(static_cast<int32_t>(j));
    lane.idle = false;
  }
  return trace;
}

}  // namespace normviz
