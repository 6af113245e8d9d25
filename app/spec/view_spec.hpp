// One typed description of a view: the layer and its data, how it is shown, the lesson and the
// stepper. Everything that reproduces a view is here, and each field is named once, in a table
// (view_spec.cpp), by its command-line flag. That table converts a spec both ways to:
//   argv           --norm group --groups 2 --shape 4,6,5,5 --backward
//   JSON           {"norm": "group", "groups": 2, "shape": "4,6,5,5", "backward": true}
//                  (keys with '_' for '-': the keys of lesson steps and the settings file)
//   a URL query    norm=group&groups=2&shape=4,6,5,5&backward=true
// Only fields that differ from their defaults are written, so each form stays short; reading a form
// starts from the defaults (or a given base) and sets what it names. A malformed value is a
// NormError naming the field in the form it came in ("--groups", "\"groups\"", "groups=").
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "layer_options.hpp"
#include "normviz/stats.hpp"
#include "view_options.hpp"

namespace normviz {

struct ViewSpec {
  LayerOptions layer;  // --norm ... --seed, --input and the parameter files
  bool affine = false;
  bool backward = false;
  std::string grad_init = "randn";  // backward mode's dy: randn, ones, arange
  VarianceStrategy variance = VarianceStrategy::TwoPass;
  std::optional<Backend> backend;             // unset: the app's default (CPU float32)
  int threads = 0;                            // CPU threads; 0 = every core
  std::optional<std::vector<int64_t>> hover;  // the pinned element, one index per dim
  // How it is shown; unset: the app's default or the settings file's.
  std::optional<LayoutMode> layout;
  std::optional<DisplayMode> display;  // unset ("auto"): by size and shape (shownDisplay)
  std::optional<float> explode;        // 0 compact blocks .. 1 plates
  std::optional<ColorBy> color_by;
  std::optional<ViewPreset> view;
  std::optional<Theme> theme;
  std::optional<ColorMap> colormap;
  std::optional<float> font_scale;
  PlotKind plot = PlotKind::None;  // a plot under the tensor (plot_data.hpp)
  // A capture folder (python/normviz_capture.py) and the layer of it to open ("" = the first).
  std::string capture, capture_layer;
  // A lesson: built in by name, or a file of one's own; the step counts from 1.
  std::string lesson, lesson_file;
  int step = 1;
  bool presenter = false;
  // The kernel stepper.
  bool stepper = false;
  std::optional<int> stage;
  int lane = -1;       // -1: every lane
  int block_size = 0;  // 0: the stepper's default
  bool operator==(const ViewSpec&) const = default;
};

// One field of the spec, as the table describes it.
enum class SpecValue { Text, Integer, Number, Switch, List };
struct SpecField {
  const char*
      flag;  // "normalized-shape": --normalized-shape, normalized-shape=, "normalized_shape"
  const char* help;
  SpecValue value;
  bool layer;  // part of the layer and its data: `normviz compute` takes these
  // Sets the field from its text; throws NormError saying what is wrong (without the field name,
  // which the caller adds in the form the text came in).
  void (*parse)(ViewSpec&, const std::string&);
  // The field's text, as parse reads it back; nullopt for an optional field that is unset. The
  // writers leave out a field whose text is its default's.
  std::optional<std::string> (*print)(const ViewSpec&);
};
std::span<const SpecField> specFields();
const SpecField* findSpecField(std::string_view flag);  // by flag or JSON key; nullptr if none

// Sets one field from text; a NormError names the field as `--flag`.
void setSpecField(ViewSpec& spec, const SpecField& field, const std::string& text);

std::vector<std::string> specToArgv(const ViewSpec& spec);
// Reads "--flag value", "--flag=value" and bare switches; throws NormError on an unknown flag, a
// missing value or a bad one.
ViewSpec specFromArgv(std::span<const std::string> args, ViewSpec base = {});

nlohmann::json specToJson(const ViewSpec& spec);
// Reads an object of fields (unknown keys are errors). Integers, numbers and switches must have
// their JSON types; a list may be "4,2,2", 4 or [4, 2, 2].
ViewSpec specFromJson(const nlohmann::json& object, ViewSpec base = {});

std::string specToQuery(const ViewSpec& spec);
// Reads "norm=group&groups=2" (a leading '?' allowed; %XX and '+' decoded; a bare switch "backward"
// is true). Throws NormError naming the parameter.
ViewSpec specFromQuery(std::string_view query, ViewSpec base = {});

// The layer fields alone (a settings file's "layer"): other fields are errors.
LayerOptions layerFromJson(const nlohmann::json& object);
nlohmann::json layerToJson(const LayerOptions& layer);

// The command line that reproduces a spec: "normviz --norm group ..." with shell quoting.
std::string specCommandLine(const ViewSpec& spec);

}  // namespace normviz
