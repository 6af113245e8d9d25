// Every normalization as a reduction plan: which axes share one mean/variance, and where the affine runs.
//
// The idea: BatchNorm, LayerNorm, InstanceNorm, GroupNorm, channels-last LayerNorm, RMSNorm and a
// custom mode differ only in (1) which axes are reduced, (2) for GroupNorm, a split of the channel
// axis into (G, C/G) with G kept and C/G reduced, and (3) the axes the affine weight/bias run along.
// ReductionPlan holds that explicitly as an "expanded" shape of up to 5 dims (the channel axis split
// in two when grouped); a group is one coordinate of the kept expanded dims, its elements are all
// coordinates of the reduced ones. Groups are numbered row-major over the kept dims, i.e. in the
// row-major order of the mean tensor.
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "normviz/tensor.hpp"

namespace normviz {

enum class NormKind { Batch, Layer, Instance, Group, Layer2d, RMS, Custom };

// "batch", "layer", "instance", "group", "layer2d", "rms", "custom"
const char* normKindName(NormKind kind);
// Display name: "BatchNorm", "LayerNorm", ..., "Channels-last LayerNorm", "RMSNorm", "Custom axes".
const char* normKindTitle(NormKind kind);
// Parses the CLI spelling; throws NormError listing the valid names.
NormKind parseNormKind(std::string_view name);

inline constexpr int64_t kDefaultMaxElements = int64_t{1} << 27;  // 134M floats, 512 MiB

struct NormConfig {
  NormKind kind = NormKind::Group;
  int64_t groups = 2;                      // GroupNorm: num_groups
  std::vector<int64_t> normalized_shape;   // LayerNorm/RMSNorm; empty = the last dim
  std::vector<int> axes;                   // Custom: the reduced axes (negative counts from the end)
  double eps = 1e-5;
  std::optional<double> momentum = 0.1;    // BatchNorm; nullopt = cumulative moving average
  bool training = true;                    // BatchNorm: batch statistics + running update
  int64_t num_batches_tracked = 0;         // BatchNorm: batches seen before this one (for momentum=None)
  int64_t max_elements = kDefaultMaxElements;
};

class ReductionPlan {
 public:
  static constexpr int kMaxExpanded = kMaxRank + 1;

  // Validates shape and config together; throws NormError with PyTorch-like messages.
  static ReductionPlan make(const Shape& shape, const NormConfig& config);

  const Shape& shape() const { return shape_; }
  const NormConfig& config() const { return config_; }
  NormKind kind() const { return config_.kind; }
  // RMSNorm divides by the root mean square and subtracts nothing.
  bool subtractsMean() const { return config_.kind != NormKind::RMS; }

  int64_t groupCount() const { return group_count_; }
  int64_t groupSize() const { return group_size_; }

  // Which group flat input index `flat` belongs to.
  int64_t groupOf(int64_t flat) const;
  // Flat input index of the j-th element (0 <= j < groupSize) of group `group`, row-major within the group.
  int64_t elementOf(int64_t group, int64_t j) const;
  // Flat index of the group's first element.
  int64_t groupBase(int64_t group) const;

  // Iterates a group's flat input indices in row-major order without allocating.
  class ElementIterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = int64_t;
    using difference_type = std::ptrdiff_t;
    using pointer = const int64_t*;
    using reference = int64_t;
    ElementIterator() = default;
    ElementIterator(const ReductionPlan* plan, int64_t base, int64_t j);
    int64_t operator*() const { return flat_; }
    ElementIterator& operator++();
    ElementIterator operator++(int) { auto t = *this; ++*this; return t; }
    bool operator==(const ElementIterator& o) const { return j_ == o.j_; }
   private:
    const ReductionPlan* plan_ = nullptr;
    int64_t flat_ = 0, j_ = 0;
    int64_t coord_[kMaxExpanded] = {};
  };
  struct ElementRange {
    ElementIterator b, e;
    ElementIterator begin() const { return b; }
    ElementIterator end() const { return e; }
  };
  ElementRange elementsOf(int64_t group) const;

  // The group as maximal contiguous runs of flat indices: f(offset, length) in row-major order.
  // LayerNorm is one run per group, BatchNorm N runs of H*W, channels-last LayerNorm C runs of 1.
  int64_t runLength() const { return run_length_; }
  template <typename F>
  void forEachRun(int64_t group, F&& f) const {
    const int64_t runs = group_size_ / run_length_;
    for (int64_t r = 0; r < runs; ++r) f(elementOf(group, r * run_length_), run_length_);
  }

  // Mean/var/rstd shape: the kept axes (BatchNorm (C), GroupNorm (N, G), LayerNorm the leading axes).
  const Shape& statShape() const { return stat_shape_; }
  // Names of statShape's dims: {"C"}, {"N", "G"}, {"N", "C", "H"}, ...
  const std::vector<std::string>& statAxisNames() const { return stat_names_; }

  // Per original axis: fully reduced? (GroupNorm's C is partly reduced: see groupedAxis.)
  bool reducesAxis(int axis) const { return reduced_axis_[axis]; }
  // GroupNorm: the channel axis that is split into (G, C/G); -1 otherwise.
  int groupedAxis() const { return grouped_axis_; }

  // Affine weight/bias: the axes they run along, their shape, and the weight index of an element.
  const std::vector<int>& affineAxes() const { return affine_axes_; }
  const Shape& affineShape() const { return affine_shape_; }
  int64_t affineIndexOf(int64_t flat) const;

  // Axis names used in descriptions: N,C,H,W by rank.
  const std::vector<std::string>& axisNames() const { return axis_names_; }
  // "reduces N, H, W: 4 groups of 12 elements, one per channel"
  std::string describe() const;
  // "nn.GroupNorm(num_groups=2, num_channels=4)"
  std::string pytorchLine() const;

 private:
  Shape shape_;
  NormConfig config_;
  int n_exp_ = 0;
  int64_t exp_dim_[kMaxExpanded] = {};
  int64_t exp_stride_[kMaxExpanded] = {};
  bool exp_reduced_[kMaxExpanded] = {};
  // Reduced expanded dims in order (for element coords) and kept ones (for group coords).
  int n_red_ = 0, n_kept_ = 0;
  int red_[kMaxExpanded] = {}, kept_[kMaxExpanded] = {};
  int64_t group_count_ = 0, group_size_ = 0, run_length_ = 1;
  bool reduced_axis_[kMaxRank] = {};
  int grouped_axis_ = -1;
  Shape stat_shape_;
  std::vector<std::string> stat_names_;
  std::vector<int> affine_axes_;
  Shape affine_shape_;
  int64_t affine_stride_[kMaxRank] = {};  // per original axis: weight stride (0 if not an affine axis)
  std::vector<std::string> axis_names_;

  friend class ElementIterator;
};

}  // namespace normviz
