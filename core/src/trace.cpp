// The reduction emulator: one block reducing one group with reduce_recipe.hpp's arithmetic,
// recording each stage's lanes (value, coverage, idleness) when asked to.
//
// Sections: names and parsing; coverage recording; the block tree (warp step, cross-warp step);
// pairwise halving; the strategies end to end; the public entry points.
#include "normviz/trace.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <string>

#include "normviz/error.hpp"

namespace normviz {

// ---- Names --------------------------------------------------------------------------------------

const char* shuffleName(ShuffleKind kind) {
  return kind == ShuffleKind::Xor ? "xor" : "down";
}

ShuffleKind parseShuffle(std::string_view name) {
  if (name == "down") return ShuffleKind::Down;
  if (name == "xor") return ShuffleKind::Xor;
  throw NormError("unknown shuffle '" + std::string(name) + "'; expected down or xor");
}

const char* stageKindName(StageKind kind) {
  switch (kind) {
    case StageKind::Load:
      return "load";
    case StageKind::Shuffle:
      return "shuffle";
    case StageKind::SharedWrite:
      return "shared-write";
    case StageKind::CrossWarpLoad:
      return "cross-warp-load";
    case StageKind::Halve:
      return "halve";
    case StageKind::Mean:
      return "mean";
    case StageKind::Broadcast:
      return "broadcast";
    case StageKind::Variance:
      return "variance";
    case StageKind::Rstd:
      return "rstd";
    case StageKind::Normalize:
      return "normalize";
    case StageKind::CrossWarpSum:
      return "cross-warp-sum";
    case StageKind::InputGradient:
      return "dx";
  }
  return "?";
}

namespace {

using Cover = std::vector<int32_t>;

Cover unite(const Cover& a, const Cover& b) {
  Cover out;
  out.reserve(a.size() + b.size());
  std::merge(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// ---- Recording ----------------------------------------------------------------------------------
// Null when only the final values are wanted (emulateGroupStats): then nothing is allocated per
// lane.

struct Recorder {
  ReductionTrace* trace;
  int64_t group_size;

  Cover all() const {
    Cover c(static_cast<size_t>(group_size));
    for (int64_t j = 0; j < group_size; ++j) c[static_cast<size_t>(j)] = static_cast<int32_t>(j);
    return c;
  }
  TraceStage& add(StageKind kind, std::string name, std::string explanation, int pass,
                  int offset = 0) {
    TraceStage s;
    s.kind = kind;
    s.name = (pass == 2 ? "pass 2: " : "") + std::move(name);
    s.explanation = std::move(explanation);
    s.pass = pass;
    s.offset = offset;
    s.lanes.resize(static_cast<size_t>(trace->block_size));
    trace->stages.push_back(std::move(s));
    return trace->stages.back();
  }
  // A stage where only thread 0 holds a value covering the whole group.
  void threadZero(StageKind kind, std::string name, std::string explanation, int pass,
                  float value) {
    TraceStage& s = add(kind, std::move(name), std::move(explanation), pass);
    s.lanes[0].idle = false;
    s.lanes[0].value = value;
    s.lanes[0].covers = all();
  }
  // A stage where every thread holds the same value covering the whole group.
  void everyThread(StageKind kind, std::string name, std::string explanation, int pass,
                   float value) {
    TraceStage& s = add(kind, std::move(name), std::move(explanation), pass);
    const Cover c = all();
    for (TraceLane& lane : s.lanes) {
      lane.idle = false;
      lane.value = value;
      lane.covers = c;
    }
  }
};

void setValue(TraceLane& lane, float s) {
  lane.value = s;
}
void setValue(TraceLane& lane, const NaiveState& s) {
  lane.value = s.sum;
  lane.sumsq = s.sumsq;
}
void setValue(TraceLane& lane, const WelfordState& s) {
  lane.value = s.mean;
  lane.welford = s;
}

// Fills a stage's lanes from states and coverage; a lane with no coverage is idle and holds
// nothing.
template <typename State>
void fillLanes(TraceStage& stage, const std::vector<State>& states, std::vector<Cover>& covers,
               const std::vector<int>* sources = nullptr) {
  for (size_t t = 0; t < stage.lanes.size(); ++t) {
    TraceLane& lane = stage.lanes[t];
    lane.idle = covers[t].empty();
    if (lane.idle) continue;
    setValue(lane, states[t]);
    lane.covers = covers[t];
    if (sources) lane.source = (*sources)[t];
  }
}

// What one pass accumulates, in a learner's words.
struct PassText {
  std::string load_name;    // "sum x"
  std::string load_action;  // "sums its elements"
  std::string combine;      // "adds", "merges (Chan's formula)"
};

// ---- The block tree -----------------------------------------------------------------------------

struct Geometry {
  int block_size, vector_width;
  ShuffleKind shuffle;
};

std::string shuffleIntrinsic(ShuffleKind kind) {
  return kind == ShuffleKind::Xor ? "__shfl_xor_sync" : "__shfl_down_sync";
}

// One warp step at `offset` over the lanes of `warps` warps starting at thread 0.
template <typename Op>
void warpStep(const Op& op, std::vector<typename Op::State>& s, std::vector<Cover>* covers,
              std::vector<int>* sources, int warps, int offset, ShuffleKind kind) {
  std::vector<typename Op::State> next = s;
  std::vector<Cover> next_cover;
  if (covers) {
    next_cover.assign(covers->size(), Cover{});
    sources->assign(covers->size(), -1);
  }
  for (int w = 0; w < warps; ++w) {
    for (int lane = 0; lane < kWarpSize; ++lane) {
      const size_t t = static_cast<size_t>(w * kWarpSize + lane);
      const int src = shuffleSource(kind, lane, offset);
      if (src < 0) continue;
      const size_t from = static_cast<size_t>(w * kWarpSize + src);
      next[t] = op.combine(s[t], s[from]);
      if (covers && shuffleLaneLive(kind, lane, offset)) {
        next_cover[t] = unite((*covers)[t], (*covers)[from]);
        if (!(*covers)[from].empty()) (*sources)[t] = static_cast<int>(from);
      }
    }
  }
  s = std::move(next);
  if (covers) *covers = std::move(next_cover);
}

// Emulates load + blockReduce for `op` over values v[0..M); returns thread 0's total.
template <typename Op>
typename Op::State reduceBlock(const Op& op, const float* v, int64_t M, const Geometry& g,
                               Recorder* rec, int pass, const PassText& text) {
  const int B = g.block_size, V = g.vector_width, warps = B / kWarpSize;
  std::vector<typename Op::State> s(static_cast<size_t>(B));
  for (int t = 0; t < B; ++t)
    s[static_cast<size_t>(t)] = threadAccumulate(op, t, M, B, V, [&](int64_t j) { return v[j]; });

  std::vector<Cover> cov;
  std::vector<int> src;
  if (rec) {
    cov.resize(static_cast<size_t>(B));
    for (int t = 0; t < B; ++t)
      recipeForEachLoad(t, M, B, V, [&](int64_t j) {
        cov[static_cast<size_t>(t)].push_back(static_cast<int32_t>(j));
      });
    const int64_t busy = std::min<int64_t>(B, (M + V - 1) / V);
    std::string e = "Each thread " + text.load_action + ": thread t reads " +
                    (V == 1 ? std::string("element t")
                            : "elements t*" + std::to_string(V) + " to t*" + std::to_string(V) +
                                  "+" + std::to_string(V - 1)) +
                    ", then steps by " + std::to_string(int64_t{B} * V) + " (" + std::to_string(M) +
                    " elements over " + std::to_string(B) + " threads";
    e += busy < B
             ? "; threads " + std::to_string(busy) + "-" + std::to_string(B - 1) + " hold nothing)."
             : ").";
    fillLanes(rec->add(StageKind::Load, text.load_name, e, pass), s, cov);
  }

  auto shuffleStages = [&](int warps_in_step, int first_offset, bool cross) {
    for (int offset = first_offset; offset > 0; offset /= 2) {
      warpStep(op, s, rec ? &cov : nullptr, &src, warps_in_step, offset, g.shuffle);
      if (!rec) continue;
      // Threads outside the warps taking part hold nothing that reaches the result.
      for (size_t t = static_cast<size_t>(warps_in_step * kWarpSize); t < cov.size(); ++t)
        cov[t].clear();
      const bool grew = std::any_of(src.begin(), src.end(), [](int from) { return from >= 0; });
      std::string e = shuffleIntrinsic(g.shuffle) + " offset " + std::to_string(offset) + ": " +
                      (g.shuffle == ShuffleKind::Down
                           ? "lane i < " + std::to_string(offset) + " " + text.combine +
                                 " the partial of lane i+" + std::to_string(offset)
                           : "every lane i " + text.combine + " the partial of lane i^" +
                                 std::to_string(offset)) +
                      (cross        ? " in warp 0 (the warp totals)"
                       : warps == 1 ? ""
                                    : " in each of the " + std::to_string(warps) + " warps") +
                      (grew ? ", so each partial now covers the elements of both."
                            : "; those lanes hold nothing of the group, so no partial changes.");
      fillLanes(rec->add(StageKind::Shuffle,
                         (cross ? "cross-warp shuffle " : "shuffle ") + std::to_string(offset), e,
                         pass, offset),
                s, cov, &src);
    }
  };
  shuffleStages(warps, kWarpSize / 2, false);

  if (warps > 1) {
    std::vector<typename Op::State> shared(static_cast<size_t>(warps));
    std::vector<Cover> shared_cov(rec ? static_cast<size_t>(warps) : 0);
    for (int w = 0; w < warps; ++w) {
      shared[static_cast<size_t>(w)] = s[static_cast<size_t>(w * kWarpSize)];
      if (rec) shared_cov[static_cast<size_t>(w)] = cov[static_cast<size_t>(w * kWarpSize)];
    }
    if (rec) {
      for (int t = 0; t < B; ++t)
        if (t % kWarpSize != 0) cov[static_cast<size_t>(t)].clear();
      fillLanes(rec->add(StageKind::SharedWrite, "shared write",
                         "Lane 0 of each of the " + std::to_string(warps) +
                             " warps writes its warp's total to shared[warp], then "
                             "__syncthreads() waits for all of them.",
                         pass),
                s, cov);
    }
    for (int lane = 0; lane < kWarpSize; ++lane)
      s[static_cast<size_t>(lane)] =
          lane < warps ? shared[static_cast<size_t>(lane)] : op.identity();
    if (rec) {
      for (int t = 0; t < B; ++t)
        cov[static_cast<size_t>(t)] = t < warps ? shared_cov[static_cast<size_t>(t)] : Cover{};
      fillLanes(rec->add(StageKind::CrossWarpLoad, "cross-warp load",
                         "Warp 0 loads the warp totals: lane i < " + std::to_string(warps) +
                             " reads shared[i], the other lanes start from nothing.",
                         pass),
                s, cov);
    }
    shuffleStages(1, crossWarpFirstOffset(warps), true);
  }
  return s[0];
}

// ---- Pairwise -----------------------------------------------------------------------------------

template <typename Term>
float reducePairwise(int64_t M, const Geometry& g, Term&& term, Recorder* rec, int pass,
                     const PassText& text) {
  const int B = g.block_size;
  const int64_t P = pairwiseMainBlock(M);
  const int active = pairwiseActiveThreads(P, B);
  std::vector<float> s(static_cast<size_t>(B));
  for (int t = 0; t < B; ++t) s[static_cast<size_t>(t)] = pairwiseThreadFold(t, M, B, term);

  std::vector<Cover> cov;
  std::vector<int> src;
  if (rec) {
    cov.resize(static_cast<size_t>(B));
    const int T = pairwiseThreads(B);
    const int64_t per_thread = P > T ? P / T : 1;
    for (int t = 0; t < active; ++t) {
      Cover& c = cov[static_cast<size_t>(t)];
      for (int64_t k = 0; k < per_thread; ++k) {
        const int64_t i = t + k * T;
        c.push_back(static_cast<int32_t>(i));
        if (P + i < M) c.push_back(static_cast<int32_t>(P + i));
      }
      std::sort(c.begin(), c.end());
    }
    std::string e = "Each thread " + text.load_action + " of main-block positions t, t+" +
                    std::to_string(T) + ", ... (main block " + std::to_string(P) + " = 2^k";
    e += P < M ? ", the tail of " + std::to_string(M - P) + " added onto its start" : "";
    e += T < B ? "; halving needs a power of two of threads, so threads " + std::to_string(T) +
                     "-" + std::to_string(B - 1) + " hold nothing"
               : "";
    e += per_thread > 1 ? ", its " + std::to_string(per_thread) + " positions folded in halves)."
                        : ").";
    fillLanes(rec->add(StageKind::Load, text.load_name, e, pass), s, cov);
  }
  for (int h = pairwiseFirstHalving(P, B); h > 0; h /= 2) {
    for (int t = 0; t < h; ++t)
      s[static_cast<size_t>(t)] = addRn(s[static_cast<size_t>(t)], s[static_cast<size_t>(t + h)]);
    if (!rec) continue;
    src.assign(static_cast<size_t>(B), -1);
    for (int t = 0; t < B; ++t) {
      if (t < h) {
        cov[static_cast<size_t>(t)] =
            unite(cov[static_cast<size_t>(t)], cov[static_cast<size_t>(t + h)]);
        src[static_cast<size_t>(t)] = t + h;
      }
    }
    for (int t = h; t < B; ++t) cov[static_cast<size_t>(t)].clear();
    fillLanes(rec->add(StageKind::Halve, "halve " + std::to_string(h),
                       "Threads t < " + std::to_string(h) + " add the value of thread t+" +
                           std::to_string(h) +
                           " (shared memory, then __syncthreads()): the upper half folds onto "
                           "the lower half and each value covers twice as many elements.",
                       pass, h),
              s, cov, &src);
  }
  return s[0];
}

// ---- Strategies end to end ----------------------------------------------------------------------

void validateGeometry(const TraceOptions& o, int64_t group_size) {
  if (!validBlockSize(o.block_size))
    throw NormError("block size " + std::to_string(o.block_size) +
                    " is not a multiple of 32 between 32 and 1024");
  if (!validVectorWidth(o.vector_width))
    throw NormError("vector width " + std::to_string(o.vector_width) + " must be 1, 2 or 4");
  if (o.strategy == VarianceStrategy::Pairwise && o.vector_width != 1)
    throw NormError(
        "pairwise accumulation pairs single elements (i with i + h), so it loads one element at "
        "a time: use vector width 1");
  if (group_size < 1) throw NormError("the group has no elements");
  if (group_size > (int64_t{1} << 24))
    throw NormError("a group of " + std::to_string(group_size) +
                    " elements is more than float32 counts exactly (2^24)");
}

// The thread that loads element j: the recipe's load order, or for pairwise the owner of main-block
// position j (or of the position its tail element is folded onto).
int loaderOf(int64_t j, int64_t M, const TraceOptions& o) {
  if (o.strategy != VarianceStrategy::Pairwise)
    return recipeThreadOf(j, o.block_size, o.vector_width);
  const int64_t P = pairwiseMainBlock(M);
  return static_cast<int>((j < P ? j : j - P) % pairwiseThreads(o.block_size));
}

KernelStats emulate(const float* v, int64_t M, bool subtract_mean, float eps, const TraceOptions& o,
                    Recorder* rec) {
  validateGeometry(o, M);
  const Geometry g{o.block_size, o.vector_width, o.shuffle};
  const bool warp_only = o.block_size == kWarpSize;
  const std::string share = warp_only ? "shares it with __shfl_sync(..., 0)"
                                      : "writes it to shared memory and after __syncthreads() "
                                        "every thread reads it";
  const bool two_pass =
      o.strategy == VarianceStrategy::TwoPass || o.strategy == VarianceStrategy::Pairwise;
  KernelStats r;
  auto meanStages = [&](const std::string& how) {
    if (!rec) return;
    rec->threadZero(StageKind::Mean, "mean",
                    "Lane 0 holds the group's mean: " + how + " = " + num(r.mean) + ".", 1, r.mean);
    rec->everyThread(StageKind::Broadcast, "broadcast mean",
                     "Lane 0 " + share + ": every thread now holds the mean " + num(r.mean) +
                         (two_pass ? ", which the second pass and the normalization need."
                                   : ", which the normalization needs."),
                     1, r.mean);
  };
  auto varianceStage = [&](const std::string& how, int pass) {
    if (rec)
      rec->threadZero(StageKind::Variance, "variance",
                      "Lane 0 holds the group's " +
                          std::string(subtract_mean ? "variance" : "mean square") + ": " + how +
                          " = " + num(r.var) + ".",
                      pass, r.var);
  };
  if (o.strategy == VarianceStrategy::Pairwise) {
    const float scale = pairwiseScale(M);
    if (subtract_mean) {
      r.mean =
          reducePairwise(M, g, [&](int64_t j) { return pairwiseMeanTerm(v[j], scale); }, rec, 1,
                         {"sum x/M pairwise", "scales x by 1/M and adds its pairs", "adds"});
      meanStages("the sum of x/M, already divided");
    }
    const float mean = r.mean;
    const int pass = subtract_mean ? 2 : 1;
    r.var = reducePairwise(M, g, [&](int64_t j) { return pairwiseVarianceTerm(v[j], mean, scale); },
                           rec, pass,
                           {subtract_mean ? "sum (x-mean)^2/M pairwise" : "sum x^2/M pairwise",
                            subtract_mean ? "scales (x - mean)^2 by 1/M and adds its pairs"
                                          : "scales x^2 by 1/M and adds its pairs",
                            "adds"});
    varianceStage("the pairwise sum, already divided by M", pass);
  } else if (!subtract_mean) {
    // RMSNorm: every strategy is one pass of x^2 (nothing is subtracted, so nothing can cancel).
    const float total = reduceBlock(SquaredDeviationOp{0.0f}, v, M, g, rec, 1,
                                    {"sum x^2", "sums the squares of its elements", "adds"});
    r.var = finishVariance(total, M);
    varianceStage("sum of x^2 / " + std::to_string(M), 1);
  } else if (o.strategy == VarianceStrategy::TwoPass) {
    const float sum = reduceBlock(SumOp{}, v, M, g, rec, 1, {"sum x", "sums its elements", "adds"});
    r.mean = finishMean(sum, M);
    meanStages("sum " + num(sum) + " / " + std::to_string(M));
    const float total =
        reduceBlock(SquaredDeviationOp{r.mean}, v, M, g, rec, 2,
                    {"sum (x-mean)^2", "sums (x - mean)^2 over its elements", "adds"});
    r.var = finishVariance(total, M);
    varianceStage("sum of (x - mean)^2 " + num(total) + " / " + std::to_string(M), 2);
  } else if (o.strategy == VarianceStrategy::Welford) {
    const WelfordState w =
        reduceBlock(WelfordOp{}, v, M, g, rec, 1,
                    {"Welford", "runs Welford's update (count, mean, M2) over its elements",
                     "merges (Chan's formula)"});
    r.mean = w.mean;
    meanStages("the merged Welford mean");
    r.var = finishWelfordVariance(w);
    varianceStage("M2 " + num(w.m2) + " / count " + num(w.count), 1);
  } else {
    const NaiveState n =
        reduceBlock(NaiveOp{}, v, M, g, rec, 1,
                    {"sum x and x^2", "sums its elements and their squares", "adds"});
    r.mean = finishMean(n.sum, M);
    meanStages("sum " + num(n.sum) + " / " + std::to_string(M));
    r.var = finishNaiveVariance(n, r.mean, M);
    varianceStage("max(sum of x^2 / M - mean^2, 0), which cancels when |mean| >> std", 1);
  }
  r.rstd = rstdOf(r.var, eps);

  if (rec) {
    const int last_pass = rec->trace->stages.back().pass;
    rec->everyThread(StageKind::Rstd, "rstd",
                     "Every thread reads the variance and computes rstd = 1/sqrt(var + eps) = " +
                         num(r.rstd) + ".",
                     last_pass, r.rstd);
    TraceStage& s = rec->add(
        StageKind::Normalize, "normalize",
        "Each thread writes y = (x - mean) * rstd for the elements it loaded (before the affine "
        "weight and bias); shown: its first y.",
        last_pass);
    for (int64_t j = 0; j < M; ++j) {
      TraceLane& lane = s.lanes[static_cast<size_t>(loaderOf(j, M, o))];
      if (lane.covers.empty()) lane.value = normalizeOne(v[j], r.mean, r.rstd, 1.0f, 0.0f);
      lane.covers.push_back(static_cast<int32_t>(j));
      lane.idle = false;
    }
  }
  return r;
}

}  // namespace

// ---- Entry points -------------------------------------------------------------------------------

std::vector<float> groupValues(const Tensor& x, const ReductionPlan& plan, int64_t group) {
  if (group < 0 || group >= plan.groupCount())
    throw NormError("group " + std::to_string(group) + " is out of range: this layer has " +
                    std::to_string(plan.groupCount()) + " groups (0.." +
                    std::to_string(plan.groupCount() - 1) +
                    "), numbered row-major over the mean's shape " + plan.statShape().str());
  if (x.shape != plan.shape())
    throw NormError("input shape " + x.shape.str() + " does not match the layer's " +
                    plan.shape().str());
  std::vector<float> values;
  values.reserve(static_cast<size_t>(plan.groupSize()));
  for (int64_t flat : plan.elementsOf(group)) values.push_back(x[flat]);
  return values;
}

KernelStats emulateGroupStats(const float* values, int64_t group_size, bool subtract_mean,
                              float eps, const TraceOptions& options) {
  return emulate(values, group_size, subtract_mean, eps, options, nullptr);
}

ReductionTrace traceReduction(const Tensor& x, const ReductionPlan& plan, int64_t group,
                              const TraceOptions& options) {
  return traceGroupValues(groupValues(x, plan, group), plan, group, options);
}

ReductionTrace traceGroupValues(const std::vector<float>& values, const ReductionPlan& plan,
                                int64_t group, const TraceOptions& options) {
  const int64_t M = plan.groupSize();
  if (group < 0 || group >= plan.groupCount() || static_cast<int64_t>(values.size()) != M)
    throw NormError("group " + std::to_string(group) + " with " + std::to_string(values.size()) +
                    " values does not match the layer (" + std::to_string(plan.groupCount()) +
                    " groups of " + std::to_string(M) + ")");
  validateGeometry(options, M);
  if (M * options.block_size > options.max_coverage)
    throw NormError("a group of " + std::to_string(M) + " elements on " +
                    std::to_string(options.block_size) +
                    " threads is too large to list every lane's coverage (block size x group "
                    "size must be at most " +
                    std::to_string(options.max_coverage) + "): pick a smaller shape or block size");
  ReductionTrace trace;
  trace.group = group;
  trace.strategy = options.strategy;
  trace.block_size = options.block_size;
  trace.vector_width = options.vector_width;
  trace.shuffle = options.shuffle;
  trace.subtracts_mean = plan.subtractsMean();
  for (int64_t flat : plan.elementsOf(group)) trace.elements.push_back(flat);
  trace.thread_of.resize(static_cast<size_t>(M));
  for (int64_t j = 0; j < M; ++j) trace.thread_of[static_cast<size_t>(j)] = loaderOf(j, M, options);
  Recorder rec{&trace, M};
  const KernelStats r = emulate(values.data(), M, plan.subtractsMean(),
                                static_cast<float>(plan.config().eps), options, &rec);
  trace.mean = r.mean;
  trace.var = r.var;
  trace.rstd = r.rstd;
  return trace;
}

StrategyComparison compareStrategies(const float* values, int64_t group_size, bool subtract_mean,
                                     float eps, int block_size, int vector_width) {
  StrategyComparison c;
  const GroupStats<double> ref = groupStatsF64(values, group_size, subtract_mean);
  c.ref_mean = ref.mean;
  c.ref_var = ref.var;
  auto rel = [](double got, double want) {
    const double err = std::fabs(got - want);
    return want == 0 ? err : err / std::fabs(want);
  };
  for (VarianceStrategy s : kAllStrategies) {
    TraceOptions o;
    o.strategy = s;
    o.block_size = block_size;
    o.vector_width = s == VarianceStrategy::Pairwise ? 1 : vector_width;
    const KernelStats k = emulateGroupStats(values, group_size, subtract_mean, eps, o);
    c.results.push_back({s, k.mean, k.var, rel(k.mean, ref.mean), rel(k.var, ref.var)});
  }
  return c;
}

}  // namespace normviz
