// ReductionPlan: validating a layer request and mapping elements to groups, stats and affine slots.
//
// Sections: names and parsing | validation per kind | expanded-dim bookkeeping | element queries |
// descriptions and PyTorch lines.
#include "normviz/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "normviz/error.hpp"

namespace normviz {

// ---- names and parsing ---------------------------------------------------------------------

const char* normKindName(NormKind kind) {
  switch (kind) {
    case NormKind::Batch:
      return "batch";
    case NormKind::Layer:
      return "layer";
    case NormKind::Instance:
      return "instance";
    case NormKind::Group:
      return "group";
    case NormKind::Layer2d:
      return "layer2d";
    case NormKind::RMS:
      return "rms";
    case NormKind::Custom:
      return "custom";
  }
  return "?";
}

const char* normKindTitle(NormKind kind) {
  switch (kind) {
    case NormKind::Batch:
      return "BatchNorm";
    case NormKind::Layer:
      return "LayerNorm";
    case NormKind::Instance:
      return "InstanceNorm";
    case NormKind::Group:
      return "GroupNorm";
    case NormKind::Layer2d:
      return "Channels-last LayerNorm";
    case NormKind::RMS:
      return "RMSNorm";
    case NormKind::Custom:
      return "Custom axes";
  }
  return "?";
}

NormKind parseNormKind(std::string_view name) {
  for (NormKind k : {NormKind::Batch, NormKind::Layer, NormKind::Instance, NormKind::Group,
                     NormKind::Layer2d, NormKind::RMS, NormKind::Custom})
    if (name == normKindName(k)) return k;
  throw NormError("unknown norm '" + std::string(name) +
                  "'; expected batch, layer, instance, group, layer2d, rms or custom");
}

// Shortest decimal that reads back as the same double, in Python's repr style (1e-05, 0.1).
static std::string pyFloat(double v) {
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

static std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out;
}

static std::string joinInts(const std::vector<int>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
  return out;
}

// ---- validation ----------------------------------------------------------------------------

static void validateShape(const Shape& shape, const NormConfig& config) {
  if (shape.rank() < 1 || shape.rank() > kMaxRank)
    throw NormError("rank " + std::to_string(shape.rank()) +
                    " is out of range: normviz handles tensors of rank 1 to 4");
  int64_t n = 1;
  for (int64_t d : shape.dims) {
    if (d <= 0)
      throw NormError("shape " + shape.str() + " has a dim of " + std::to_string(d) +
                      "; every dim must be at least 1");
    if (n > config.max_elements / d)
      throw NormError("shape " + shape.str() + " has more than the limit of " +
                      std::to_string(config.max_elements) + " elements");
    n *= d;
  }
  if (!std::isfinite(config.eps) || config.eps <= 0)
    throw NormError("eps must be a finite number greater than 0, got " + pyFloat(config.eps));
  if (config.momentum &&
      (!std::isfinite(*config.momentum) || *config.momentum < 0 || *config.momentum > 1))
    throw NormError("momentum must be between 0 and 1 (or none), got " + pyFloat(*config.momentum));
  if (config.num_batches_tracked < 0) throw NormError("num_batches_tracked must be >= 0");
}

// The normalized_shape of LayerNorm/RMSNorm, checked to be a suffix of the input shape.
static std::vector<int64_t> checkedNormalizedShape(const Shape& shape, const NormConfig& config) {
  std::vector<int64_t> ns = config.normalized_shape;
  if (ns.empty()) ns = {shape.dims.back()};
  bool ok = ns.size() <= shape.dims.size() &&
            std::equal(ns.begin(), ns.end(), shape.dims.end() - static_cast<long>(ns.size()));
  if (!ok) {
    std::string expected = "[*";
    for (int64_t d : ns) expected += ", " + std::to_string(d);
    expected += "]";
    throw NormError("Given normalized_shape=" + Shape(ns).list() + ", expected input with shape " +
                    expected + ", but got input of size " + shape.str());
  }
  return ns;
}

// ---- building the plan ---------------------------------------------------------------------

ReductionPlan ReductionPlan::make(const Shape& shape, const NormConfig& config) {
  validateShape(shape, config);
  ReductionPlan p;
  p.shape_ = shape;
  p.config_ = config;
  const int rank = shape.rank();
  p.axis_names_ = defaultAxisNames(rank);
  std::vector<bool> reduced(rank, false);
  int channel = rank >= 2 ? 1 : 0;
  p.affine_axes_ = {channel};

  auto needRank = [&](int lo, int hi, const char* expectation) {
    if (rank < lo || rank > hi)
      throw NormError(std::string(normKindTitle(config.kind)) + " expects " + expectation +
                      ", got a " + std::to_string(rank) + "D input of size " + shape.str());
  };

  switch (config.kind) {
    case NormKind::Batch:
      needRank(2, 4, "2D (N, C), 3D (N, C, L) or 4D (N, C, H, W) input");
      for (int a = 0; a < rank; ++a) reduced[a] = a != 1;
      break;
    case NormKind::Instance:
      needRank(3, 4, "3D (N, C, L) or 4D (N, C, H, W) input");
      for (int a = 2; a < rank; ++a) reduced[a] = true;
      break;
    case NormKind::Group:
      needRank(2, 4, "an input of shape (N, C, *)");
      if (config.groups < 1 || config.groups > shape[1] || shape[1] % config.groups != 0)
        throw NormError(
            "Expected number of channels in input to be divisible by num_groups, "
            "but got input of shape " +
            Shape(shape.dims).list() + " and num_groups=" + std::to_string(config.groups));
      p.grouped_axis_ = 1;
      for (int a = 2; a < rank; ++a) reduced[a] = true;
      break;
    case NormKind::Layer2d:
      needRank(3, 4, "a channels-first input (N, C, L) or (N, C, H, W)");
      reduced[1] = true;
      break;
    case NormKind::Layer:
    case NormKind::RMS: {
      std::vector<int64_t> ns = checkedNormalizedShape(shape, config);
      p.config_.normalized_shape = ns;
      p.affine_axes_.clear();
      for (int a = rank - static_cast<int>(ns.size()); a < rank; ++a) {
        reduced[a] = true;
        p.affine_axes_.push_back(a);
      }
      break;
    }
    case NormKind::Custom: {
      if (config.axes.empty())
        throw NormError("custom mode needs at least one axis to reduce (--axes 0,2,3)");
      std::set<int> seen;
      for (int a : config.axes) {
        int axis = a < 0 ? a + rank : a;
        if (axis < 0 || axis >= rank)
          throw NormError("Dimension out of range (expected to be in range of [" +
                          std::to_string(-rank) + ", " + std::to_string(rank - 1) + "], but got " +
                          std::to_string(a) + ")");
        if (!seen.insert(axis).second)
          throw NormError("axis " + std::to_string(axis) + " appears twice in the custom axes");
        reduced[axis] = true;
      }
      p.config_.axes.assign(seen.begin(), seen.end());
      break;
    }
  }

  // Expanded dims: every axis once, except GroupNorm's channel axis as (G kept, C/G reduced).
  const std::vector<int64_t> strides = shape.strides();
  std::vector<std::string> exp_names;
  for (int a = 0; a < rank; ++a) {
    p.reduced_axis_[a] = reduced[a];
    if (a == p.grouped_axis_) {
      int64_t per = shape[a] / config.groups;
      p.exp_dim_[p.n_exp_] = config.groups;
      p.exp_stride_[p.n_exp_] = strides[a] * per;
      p.exp_reduced_[p.n_exp_++] = false;
      exp_names.push_back("G");
      p.exp_dim_[p.n_exp_] = per;
      p.exp_stride_[p.n_exp_] = strides[a];
      p.exp_reduced_[p.n_exp_++] = true;
      exp_names.push_back("C/G");
    } else {
      p.exp_dim_[p.n_exp_] = shape[a];
      p.exp_stride_[p.n_exp_] = strides[a];
      p.exp_reduced_[p.n_exp_++] = reduced[a];
      exp_names.push_back(p.axis_names_[a]);
    }
  }
  p.group_count_ = 1;
  p.group_size_ = 1;
  std::vector<int64_t> stat_dims;
  for (int e = 0; e < p.n_exp_; ++e) {
    if (p.exp_reduced_[e]) {
      p.red_[p.n_red_++] = e;
      p.group_size_ *= p.exp_dim_[e];
    } else {
      p.kept_[p.n_kept_++] = e;
      p.group_count_ *= p.exp_dim_[e];
      stat_dims.push_back(p.exp_dim_[e]);
      p.stat_names_.push_back(exp_names[e]);
    }
  }
  if (stat_dims.empty()) {  // everything reduced: one group, statistics of shape (1,)
    stat_dims = {1};
    p.stat_names_ = {"1"};
  }
  p.stat_shape_ = Shape(stat_dims);

  // Contiguous runs: the innermost expanded dims that are reduced (or of size 1) are adjacent.
  p.run_length_ = 1;
  for (int e = p.n_exp_ - 1; e >= 0 && (p.exp_reduced_[e] || p.exp_dim_[e] == 1); --e)
    if (p.exp_reduced_[e]) p.run_length_ *= p.exp_dim_[e];

  std::vector<int64_t> affine_dims;
  for (int a : p.affine_axes_) affine_dims.push_back(shape[a]);
  p.affine_shape_ = Shape(affine_dims);
  int64_t s = 1;
  for (int i = static_cast<int>(p.affine_axes_.size()) - 1; i >= 0; --i) {
    p.affine_stride_[p.affine_axes_[i]] = s;
    s *= shape[p.affine_axes_[i]];
  }

  // PyTorch's errors for statistics of a single value in training.
  if (config.kind == NormKind::Batch && config.training && p.group_size_ == 1)
    throw NormError("Expected more than 1 value per channel when training, got input size " +
                    shape.str());
  if (config.kind == NormKind::Instance && p.group_size_ == 1)
    throw NormError("Expected more than 1 spatial element when training, got input size " +
                    shape.str());
  return p;
}

// ---- element queries -----------------------------------------------------------------------

int64_t ReductionPlan::groupOf(int64_t flat) const {
  int64_t g = 0;
  for (int k = 0; k < n_kept_; ++k) {
    int e = kept_[k];
    g = g * exp_dim_[e] + (flat / exp_stride_[e]) % exp_dim_[e];
  }
  return g;
}

int64_t ReductionPlan::groupBase(int64_t group) const {
  int64_t flat = 0;
  for (int k = n_kept_ - 1; k >= 0; --k) {
    int e = kept_[k];
    flat += (group % exp_dim_[e]) * exp_stride_[e];
    group /= exp_dim_[e];
  }
  return flat;
}

int64_t ReductionPlan::elementOf(int64_t group, int64_t j) const {
  int64_t flat = groupBase(group);
  for (int r = n_red_ - 1; r >= 0; --r) {
    int e = red_[r];
    flat += (j % exp_dim_[e]) * exp_stride_[e];
    j /= exp_dim_[e];
  }
  return flat;
}

ReductionPlan::ElementIterator::ElementIterator(const ReductionPlan* plan, int64_t base, int64_t j)
    : plan_(plan), flat_(base), j_(j) {}

ReductionPlan::ElementIterator& ReductionPlan::ElementIterator::operator++() {
  ++j_;
  // Odometer over the reduced dims, innermost first.
  for (int r = plan_->n_red_ - 1; r >= 0; --r) {
    int e = plan_->red_[r];
    flat_ += plan_->exp_stride_[e];
    if (++coord_[r] < plan_->exp_dim_[e]) return *this;
    coord_[r] = 0;
    flat_ -= plan_->exp_stride_[e] * plan_->exp_dim_[e];
  }
  return *this;
}

ReductionPlan::ElementRange ReductionPlan::elementsOf(int64_t group) const {
  int64_t base = groupBase(group);
  return {ElementIterator(this, base, 0), ElementIterator(this, base, group_size_)};
}

int64_t ReductionPlan::affineIndexOf(int64_t flat) const {
  int64_t index = 0, inner = 1;
  for (int a = shape_.rank() - 1; a >= 0; --a) {
    index += ((flat / inner) % shape_[a]) * affine_stride_[a];  // stride 0 off the affine axes
    inner *= shape_[a];
  }
  return index;
}

// ---- descriptions --------------------------------------------------------------------------

std::string ReductionPlan::describe() const {
  std::vector<std::string> parts;
  for (int a = 0; a < shape_.rank(); ++a) {
    if (a == grouped_axis_) {
      int64_t per = shape_[a] / config_.groups;
      parts.push_back(axis_names_[a] + " (" + std::to_string(per) + " of " +
                      std::to_string(shape_[a]) + " channels per group)");
    } else if (reduced_axis_[a]) {
      parts.push_back(axis_names_[a]);
    }
  }
  std::string one_per;
  switch (kind()) {
    case NormKind::Batch:
      one_per = "one per channel";
      break;
    case NormKind::Instance:
      one_per = "one per (sample, channel)";
      break;
    case NormKind::Group:
      one_per = "one per (sample, group)";
      break;
    case NormKind::Layer2d:
      one_per = "one per position, across channels";
      break;
    default:
      one_per = group_count_ == 1 ? "one for the whole tensor"
                                  : "one per (" + joinNames(stat_names_) + ")";
  }
  std::string out =
      (kind() == NormKind::RMS ? "reduces (root mean square) " : "reduces ") + joinNames(parts) +
      ": " + std::to_string(group_count_) + (group_count_ == 1 ? " group of " : " groups of ") +
      std::to_string(group_size_) + (group_size_ == 1 ? " element, " : " elements, ") + one_per;
  return out;
}

std::string ReductionPlan::pytorchLine() const {
  const int rank = shape_.rank();
  const std::string eps = config_.eps == 1e-5 ? "" : ", eps=" + pyFloat(config_.eps);
  switch (kind()) {
    case NormKind::Batch: {
      std::string momentum;
      if (!config_.momentum)
        momentum = ", momentum=None";
      else if (*config_.momentum != 0.1)
        momentum = ", momentum=" + pyFloat(*config_.momentum);
      return std::string("nn.BatchNorm") + (rank == 4 ? "2d" : "1d") +
             "(num_features=" + std::to_string(shape_[1]) + eps + momentum + ")" +
             (config_.training ? "" : ".eval()");
    }
    case NormKind::Layer:
      return "nn.LayerNorm(normalized_shape=" + Shape(config_.normalized_shape).list() + eps + ")";
    case NormKind::Instance:
      return std::string("nn.InstanceNorm") + (rank == 4 ? "2d" : "1d") +
             "(num_features=" + std::to_string(shape_[1]) + eps + ")";
    case NormKind::Group:
      return "nn.GroupNorm(num_groups=" + std::to_string(config_.groups) +
             ", num_channels=" + std::to_string(shape_[1]) + eps + ")";
    case NormKind::Layer2d: {
      const char* to_last = rank == 4 ? "(0, 2, 3, 1)" : "(0, 2, 1)";
      const char* to_first = rank == 4 ? "(0, 3, 1, 2)" : "(0, 2, 1)";
      return "nn.LayerNorm(" + std::to_string(shape_[1]) + eps + ")(x.permute" + to_last +
             ").permute" + to_first;
    }
    case NormKind::RMS:
      return "nn.RMSNorm(normalized_shape=" + Shape(config_.normalized_shape).list() +
             ", eps=" + pyFloat(config_.eps) + ")";
    case NormKind::Custom: {
      std::string dims = "(" + joinInts(config_.axes) + (config_.axes.size() == 1 ? ",)" : ")");
      return "(x - x.mean(dim=" + dims + ", keepdim=True)) / torch.sqrt(x.var(dim=" + dims +
             ", unbiased=False, keepdim=True) + " + pyFloat(config_.eps) + ")";
    }
  }
  return "";
}

}  // namespace normviz
