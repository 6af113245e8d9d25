// The left panel: layer and its parameters, shape and data, compute backend, and view options.
// Every edit changes AppState's inputs and sets inputs_changed; the frame loop recomputes.
#include <imgui.h>
#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "app_compute.hpp"
#include "image_input.hpp"
#include "lesson_state.hpp"
#include "normviz/error.hpp"
#include "normviz/npy.hpp"
#include "normviz/tensor_file.hpp"
#include "panels.hpp"
#include "spec_state.hpp"

namespace normviz {

PanelRects panelRects(const AppState& state, glm::vec2 display) {
  PanelRects r;
  r.scene_size = glm::max(display, glm::vec2(1.0f));
  if (!state.show_panels || state.lesson.presenter) return r;
  const float unit = state.font_scale / 1.5f;
  if (display.y > display.x && display.x < 1100.0f * unit) {
    // Portrait: side panels would leave the tensor a sliver; the panels share the bottom.
    const float below = std::round(display.y * 0.45f), half = std::round(display.x * 0.5f);
    r.scene_size = glm::vec2(display.x, std::max(display.y - below, 1.0f));
    r.controls_pos = glm::vec2(0.0f, display.y - below);
    r.controls_size = glm::vec2(half, below);
    r.stats_pos = glm::vec2(half, display.y - below);
    r.stats_size = glm::vec2(display.x - half, below);
    return r;
  }
  // Wide enough for the panels' longest lines at this font scale (their text grows with it), but
  // never so wide that the 3D view in the middle gets less than about a third of the window.
  const float left = std::min(340.0f * unit, display.x * 0.34f);
  const float right = std::min(320.0f * unit, display.x * 0.30f);
  r.controls_size = glm::vec2(left, display.y);
  r.stats_pos = glm::vec2(display.x - right, 0.0f);
  r.stats_size = glm::vec2(right, display.y);
  r.scene_pos = glm::vec2(left, 0.0f);
  r.scene_size = glm::vec2(std::max(display.x - left - right, 1.0f), display.y);
  return r;
}

namespace {

constexpr NormKind kKinds[] = {NormKind::Batch, NormKind::Layer,   NormKind::Instance,
                               NormKind::Group, NormKind::Layer2d, NormKind::RMS,
                               NormKind::Custom};
constexpr const char* kInits[] = {"worked-example", "randn",        "uniform",         "arange",
                                  "constant",       "large-offset", "outlier-features"};

constexpr double kZero = 0.0, kOne = 1.0;

void changed(AppState& s) {
  s.inputs_changed = true;
}

// A button whose place the report gives while it is on screen (PanelMemory::buttons).
bool reportedButton(AppState& s, const char* label) {
  const bool pressed = ImGui::Button(label);
  const ImVec2 min = ImGui::GetItemRectMin(), size = ImGui::GetItemRectSize();
  if (ImGui::IsItemVisible()) s.panels->buttons[label] = {min.x, min.y, size.x, size.y};
  return pressed;
}

// The path field's file: a tensor file, a photo, or photos "a.png,b.jpg" as a batch.
void loadPathField(AppState& s) {
  if (s.npy_path.find(',') == std::string::npos) return loadInputFile(s, s.npy_path);
  try {
    loadDroppedFiles(s, splitImagePaths(s.npy_path));
  } catch (const NormError& e) {
    s.error = e.what();
  }
}

// The input as a file: a path on the desktop; in the browser, the page's file picker (or a file
// dropped on the window), and Save x / Save y become downloads. Loading also takes a file dropped
// on the desktop's window.
void fileSection(AppState& s) {
  ImGui::Separator();
  const auto save = [&](const char* what, const TensorD& t, const std::string& path) {
    try {
      writeNpy(path, t, NpyDtype::Float32);
      if (s.files.downloads) {
        s.files.written.push_back(path);
      } else {
        s.notice = std::string("saved ") + what + " to " + path;
      }
    } catch (const NormError& e) {
      s.error = e.what();
    }
  };
  // The saved names: the input's own, and "_y" before ".npy" for the output (in the browser, the
  // file name alone in memory, or x.npy and y.npy for generated data).
  std::string x_path = npyPathBeside(s.npy_path);  // an array of an .npz: beside it, not over it
  if (s.files.downloads)
    x_path = "/tmp/" + (s.init == "file" ? x_path.substr(x_path.find_last_of('/') + 1) : "x.npy");
  const auto dot = x_path.rfind(".npy");
  std::string y_path = (dot == std::string::npos ? x_path : x_path.substr(0, dot)) + "_y.npy";
  if (s.files.downloads && s.init != "file") y_path = "/tmp/y.npy";
  if (s.files.downloads) {
    if (reportedButton(s, "Open files\u2026")) s.files.pick_requested = true;
    ImGui::SameLine();
    ImGui::TextDisabled("or drop one here");
  } else {
    ImGui::InputText("file", &s.npy_path);
    if (reportedButton(s, "Load x")) loadPathField(s);
    ImGui::SameLine();
  }
  if (reportedButton(s, "Save x")) save("x", widen(s.x), x_path);
  ImGui::SameLine();
  // While an error stands, the y on screen is an older input's: nothing to save under this name.
  ImGui::BeginDisabled(!s.shown || !s.error.empty());
  if (reportedButton(s, "Save y")) save("y", s.shown->result.y, y_path);
  ImGui::EndDisabled();
}

// How far the shown y is from the captured one, measured once per result.
void compareWithCaptured(AppState& s) {
  CaptureView& c = *s.capture;
  if (!s.shown || c.compared_version == s.result_version) return;
  c.compared_version = s.result_version;
  c.max_diff.reset();
  c.compare_error.clear();
  if (!showsCapturedLayer(s)) return;  // an edited layer has nothing captured to match
  try {
    c.max_diff =
        differenceFromCaptured(c.layers[static_cast<size_t>(c.index)], s.shown->result.y).max_rel;
  } catch (const NormError& e) {
    c.compare_error = e.what();
  }
}

// A model's normalization layers (normviz --capture DIR): each call of each layer, with its type,
// input shape and mode; a click shows it. The line below says how far normviz's y is from the y
// the model produced.
void captureSection(AppState& s) {
  CaptureView& c = *s.capture;
  // The model's mode once when every layer shares it (the usual case), else on each row.
  bool mixed = false;
  for (const CapturedLayer& l : c.layers) mixed |= l.training != c.layers.front().training;
  ImGui::TextDisabled("%s: %zu layer calls%s", c.dir.c_str(), c.layers.size(),
                      mixed ? "" : (c.layers.front().training ? ", training mode" : ", eval mode"));
  const float rows = static_cast<float>(std::min<size_t>(c.layers.size(), 8));
  if (ImGui::BeginListBox("##layers",
                          ImVec2(-1.0f, (rows + 0.4f) * ImGui::GetTextLineHeightWithSpacing()))) {
    for (size_t i = 0; i < c.layers.size(); ++i) {
      const CapturedLayer& l = c.layers[i];
      std::string row = l.name + "  " + l.type + " " + l.x_shape.str();
      if (mixed) row += l.training ? "  train" : "  eval";
      if (ImGui::Selectable(row.c_str(), static_cast<int>(i) == c.index))
        openCapturedLayer(s, static_cast<int>(i));
    }
    ImGui::EndListBox();
  }
  compareWithCaptured(s);
  if (c.max_diff)
    ImGui::TextWrapped("max |y - y of the model| = %.2g of the largest |y|", *c.max_diff);
  else if (!c.compare_error.empty())
    ImGui::TextWrapped("%s", c.compare_error.c_str());
  else if (!showsCapturedLayer(s))
    ImGui::TextDisabled("edited: no longer the captured layer");
}

// Two radio buttons on one line for an int choice 0/1; true when either was clicked.
bool radioPair(const char* first, const char* second, int* value) {
  bool edit = ImGui::RadioButton(first, value, 0);
  ImGui::SameLine();
  edit |= ImGui::RadioButton(second, value, 1);
  return edit;
}

// The ways of drawing the tensor, two to a line; those this shape cannot have are greyed, with the
// reason below.
void displayChoice(AppState& s) {
  const Shape& shape = s.shown ? s.shown->x.shape : s.x.shape;
  const int shown = static_cast<int>(shownDisplay(s));
  int display = shown;
  const char* labels[] = {"cubes (3D)", "sheet (2D)", "plates", "image"};
  for (int k = 0; k < 4; ++k) {
    if (k % 2 == 1) ImGui::SameLine();
    ImGui::BeginDisabled(!displayOffered(static_cast<DisplayMode>(k), shape));
    if (ImGui::RadioButton(labels[k], &display, k) && display != shown) {
      s.display = static_cast<DisplayMode>(display);
      s.display_chosen = true;
      s.reframe = true;
    }
    ImGui::EndDisabled();
  }
  if (!displayOffered(DisplayMode::Cubes, shape))
    ImGui::TextDisabled("past %lld elements no cubes",
                        static_cast<long long>(kMaxDisplayedElements));
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
  for (const std::string& why : {platesRefusal(shape), imageRefusal(shape)})
    if (!why.empty()) ImGui::TextWrapped("%s", why.c_str());
  ImGui::PopStyleColor();
}

// "[H, W]" for the trailing k axes.
std::string axisList(const std::vector<std::string>& names, int first) {
  std::string out = "[";
  for (size_t a = static_cast<size_t>(first); a < names.size(); ++a)
    out += (a > static_cast<size_t>(first) ? ", " : "") + names[a];
  return out + "]";
}

// The controls of the chosen kind: G (a divisor of C), normalized_shape, or the reduced axes.
void kindControls(AppState& s) {
  const Shape& shape = s.x.shape;
  const auto names = defaultAxisNames(shape.rank());
  switch (s.config.kind) {
    case NormKind::Group: {
      const int64_t c = shape.rank() >= 2 ? shape[1] : 1;
      const std::string current = std::to_string(s.config.groups);
      if (ImGui::BeginCombo("num_groups G", current.c_str())) {
        for (int64_t d : divisorsOf(c))  // only divisors of C are valid
          if (ImGui::Selectable(
                  (std::to_string(d) + "  (" + std::to_string(c / d) + " channels each)").c_str(),
                  d == s.config.groups)) {
            s.config.groups = d;
            changed(s);
          }
        ImGui::EndCombo();
      }
      break;
    }
    case NormKind::Layer:
    case NormKind::RMS: {
      ImGui::TextUnformatted("normalized_shape:");
      const int k_now = s.config.normalized_shape.empty()
                            ? 1
                            : static_cast<int>(s.config.normalized_shape.size());
      for (int k = 1; k <= shape.rank(); ++k) {
        const Shape trailing(std::vector<int64_t>(shape.dims.end() - k, shape.dims.end()));
        const std::string label = trailing.list() + "  " + axisList(names, shape.rank() - k);
        if (ImGui::RadioButton(label.c_str(), k == k_now)) {
          s.config.normalized_shape = trailing.dims;
          changed(s);
        }
      }
      break;
    }
    case NormKind::Custom: {
      ImGui::TextUnformatted("reduce axes:");
      for (int a = 0; a < shape.rank(); ++a) {
        bool on = std::find(s.config.axes.begin(), s.config.axes.end(), a) != s.config.axes.end();
        if (a > 0) ImGui::SameLine();
        if (ImGui::Checkbox(names[static_cast<size_t>(a)].c_str(), &on)) {
          if (on) {
            s.config.axes.push_back(a);
            std::sort(s.config.axes.begin(), s.config.axes.end());
          } else {
            std::erase(s.config.axes, a);
          }
          changed(s);
        }
      }
      break;
    }
    default:
      break;
  }
}

// BatchNorm: training or evaluation, momentum, the running statistics and a training step.
void batchControls(AppState& s) {
  int mode = s.config.training ? 0 : 1;
  if (radioPair("train", "eval", &mode)) {
    s.config.training = mode == 0;
    changed(s);
  }
  bool cumulative = !s.config.momentum.has_value();
  if (ImGui::Checkbox("momentum=None (cumulative)", &cumulative)) {
    s.config.momentum = cumulative ? std::nullopt : std::optional<double>(0.1);
    changed(s);
  }
  if (s.config.momentum) {
    double m = *s.config.momentum;
    if (ImGui::SliderScalar("momentum", ImGuiDataType_Double, &m, &kZero, &kOne, "%.3f")) {
      s.config.momentum = m;
      changed(s);
    }
  }
  ImGui::Text("batches tracked: %lld", static_cast<long long>(s.config.num_batches_tracked));
  auto show = [](const char* name, const std::optional<Tensor>& t, float fallback, int64_t c) {
    std::string line = std::string(name) + ":";
    for (int64_t i = 0; i < std::min<int64_t>(c, 8); ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, " %.4g", static_cast<double>(t ? (*t)[i] : fallback));
      line += buf;
    }
    if (c > 8) line += " ...";
    ImGui::TextUnformatted(line.c_str());
  };
  const int64_t c = s.x.shape.rank() >= 2 ? s.x.shape[1] : s.x.shape[0];
  show("running_mean", s.params.running_mean, 0.0f, c);
  show("running_var", s.params.running_var, 1.0f, c);
  ImGui::BeginDisabled(!s.config.training || !s.computing.empty());
  if (ImGui::Button("Step: one training batch")) applyTrainingStep(s);
  ImGui::EndDisabled();
  if (!s.computing.empty() && s.config.training &&
      ImGui::IsItemHovered(ImGuiHoveredFlags_AllowWhenDisabled))
    wrappedTooltip(
        "The next step carries on this batch's running statistics: it waits until "
        "the batch is computed.");
  const char* reset = "Reset running stats";
  const ImGuiStyle& style = ImGui::GetStyle();
  if (ImGui::CalcTextSize(reset).x + 2.0f * style.FramePadding.x + style.ItemSpacing.x <
      ImGui::GetContentRegionAvail().x - ImGui::GetItemRectSize().x)
    ImGui::SameLine();
  if (ImGui::Button(reset)) resetRunningStats(s);
}

// Affine weight and bias: off, ones/zeros, random, or edited value by value.
void affineControls(AppState& s) {
  if (ImGui::Checkbox("affine (weight, bias)", &s.affine)) changed(s);
  if (s.affine) {
    int init = static_cast<int>(s.affine_init);
    bool edit = ImGui::RadioButton("ones/zeros", &init, 0);
    ImGui::SameLine();
    edit |= ImGui::RadioButton("random", &init, 1);
    ImGui::SameLine();
    edit |= ImGui::RadioButton("edit", &init, 2);
    if (edit) {
      s.affine_init = static_cast<AffineInit>(init);
      if (s.affine_init == AffineInit::Random) ++s.affine_seed;
      changed(s);
    }
    if (s.affine_init == AffineInit::Edited && s.params.weight && s.params.bias) {
      const int64_t n = std::min<int64_t>(s.params.weight->numel(), 64);
      if (ImGui::BeginTable("affine", 3, ImGuiTableFlags_ScrollY | ImGuiTableFlags_RowBg,
                            ImVec2(0, ImGui::GetTextLineHeightWithSpacing() * 6))) {
        ImGui::TableSetupColumn("i");
        ImGui::TableSetupColumn("weight");
        ImGui::TableSetupColumn("bias");
        ImGui::TableHeadersRow();
        for (int64_t i = 0; i < n; ++i) {
          ImGui::PushID(static_cast<int>(i));
          ImGui::TableNextRow();
          ImGui::TableNextColumn();
          ImGui::Text("%lld", static_cast<long long>(i));
          ImGui::TableNextColumn();
          ImGui::SetNextItemWidth(-1);
          if (ImGui::InputFloat("##w", &(*s.params.weight)[i], 0, 0, "%.3f")) changed(s);
          ImGui::TableNextColumn();
          ImGui::SetNextItemWidth(-1);
          if (ImGui::InputFloat("##b", &(*s.params.bias)[i], 0, 0, "%.3f")) changed(s);
          ImGui::PopID();
        }
        ImGui::EndTable();
      }
      if (s.params.weight->numel() > 64)
        ImGui::TextDisabled("first 64 of %lld shown",
                            static_cast<long long>(s.params.weight->numel()));
    }
  }
}

void layerSection(AppState& s) {
  if (ImGui::BeginCombo("layer", normKindTitle(s.config.kind))) {
    for (NormKind k : kKinds)
      if (ImGui::Selectable(normKindTitle(k), k == s.config.kind)) {
        s.config.kind = k;
        changed(s);
      }
    ImGui::EndCombo();
  }
  kindControls(s);
  if (ImGui::InputDouble("eps", &s.config.eps, 0, 0, "%.1e")) {
    s.config.eps = std::max(s.config.eps, 0.0);
    changed(s);
  }

  if (s.config.kind == NormKind::Batch) batchControls(s);
  affineControls(s);
}

// The sample photos (assets/images, embedded), alone or as batches that show what a layer does.
void photoCombo(AppState& s) {
  struct Batch {
    const char* label;
    const char* paths;
  };
  static constexpr Batch kBatches[] = {
      {"cat", "sample:chelsea"},
      {"cat in two lights (InstanceNorm)", "sample:chelsea,sample:chelsea-dim"},
      {"four photos", "sample:coffee,sample:chelsea,sample:astronaut,sample:rocket"},
      {"cat + three photos (BatchNorm)",
       "sample:chelsea,sample:coffee,sample:astronaut,sample:rocket"},
      {"grayscale camera man", "sample:camera"},
  };
  std::string shown = "choose\u2026";
  if (s.init == "images") {
    shown.clear();
    for (const std::string& p : s.image_paths) {
      if (!shown.empty()) shown += ", ";
      shown += p.substr(p.find_last_of("/:") + 1);
    }
  }
  if (!ImGui::BeginCombo("photos", shown.c_str())) return;
  for (const Batch& b : kBatches)
    if (ImGui::Selectable(b.label)) loadImages(s, splitImagePaths(b.paths));
  ImGui::EndCombo();
}

void dataSection(AppState& s) {
  int rank = s.edit_shape.rank();
  if (ImGui::SliderInt("rank", &rank, 1, 4)) {
    std::vector<int64_t> dims = s.edit_shape.dims;
    while (static_cast<int>(dims.size()) < rank) dims.insert(dims.begin(), 2);
    while (static_cast<int>(dims.size()) > rank) dims.erase(dims.begin());
    s.edit_shape = Shape(dims);
  }
  const auto names = defaultAxisNames(s.edit_shape.rank());
  const float w =
      (ImGui::GetContentRegionAvail().x - 3.0f * ImGui::GetStyle().ItemSpacing.x) / 4.0f;
  for (int a = 0; a < s.edit_shape.rank(); ++a) {
    if (a > 0) ImGui::SameLine();
    int d = static_cast<int>(s.edit_shape[a]);
    ImGui::SetNextItemWidth(w);
    ImGui::PushID(a);
    const std::string format = names[static_cast<size_t>(a)] + "=%d";
    if (ImGui::DragInt("##dim", &d, 0.1f, 1, static_cast<int>(kMaxDim), format.c_str(),
                       ImGuiSliderFlags_AlwaysClamp))
      s.edit_shape.dims[static_cast<size_t>(a)] = std::clamp(d, 1, static_cast<int>(kMaxDim));
    ImGui::PopID();
  }
  const int64_t numel = s.edit_shape.numel();
  if (numel > kMaxSheetElements) {
    ImGui::TextColored(ImVec4(1.0f, 0.5f, 0.4f, 1.0f), "%lld elements: past the %lld the app shows",
                       static_cast<long long>(numel), static_cast<long long>(kMaxSheetElements));
  } else if (numel > kMaxDisplayedElements) {
    ImGui::Text("%lld elements (2D views: past %lld cubes)", static_cast<long long>(numel),
                static_cast<long long>(kMaxDisplayedElements));
  } else {
    ImGui::Text("%lld elements", static_cast<long long>(numel));
  }
  if (ImGui::BeginCombo("data", s.init.c_str())) {
    for (const char* name : kInits)
      if (ImGui::Selectable(name, s.init == name)) s.init = name;
    ImGui::EndCombo();
  }
  photoCombo(s);
  int seed = static_cast<int>(s.seed);
  if (ImGui::InputInt("seed", &seed)) s.seed = static_cast<uint64_t>(std::max(seed, 0));
  if (ImGui::Button("Apply shape and data")) {
    if (s.init == "worked-example") s.edit_shape = Shape{3, 4, 2, 2};
    regenerateInput(s);
  }
  ImGui::Separator();
  fileSection(s);
}

// Each backend's time and largest difference from float64 in `output` ("y", "dx"), under a first
// column headed `title`. The numbers keep their width; the backend's name takes the rest and wraps.
void runsTable(const char* title, const std::string& output, const std::vector<BackendRun>& runs) {
  const std::string diff = "|" + output + " - " + output + "64|";
  if (!ImGui::BeginTable(title, 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH)) return;
  ImGui::TableSetupColumn(title, ImGuiTableColumnFlags_WidthStretch);
  ImGui::TableSetupColumn("time", ImGuiTableColumnFlags_WidthFixed,
                          ImGui::CalcTextSize("00.000 ms").x);
  ImGui::TableSetupColumn(
      diff.c_str(), ImGuiTableColumnFlags_WidthFixed,
      std::max(ImGui::CalcTextSize("0.00e-00").x, ImGui::CalcTextSize(diff.c_str()).x));
  ImGui::TableHeadersRow();
  for (const BackendRun& run : runs) {
    ImGui::TableNextRow();
    ImGui::TableNextColumn();
    ImGui::TextWrapped("%s", run.label.c_str());
    if (!run.error.empty()) {
      // Why this backend has no result, under its name where the line is widest.
      ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.7f, 0.4f, 1.0f));
      ImGui::TextWrapped("%s", run.error.c_str());
      ImGui::PopStyleColor();
      ImGui::TableNextColumn();
      ImGui::TextDisabled("-");
      ImGui::TableNextColumn();
      ImGui::TextDisabled("-");
      continue;
    }
    if (ImGui::IsItemHovered())
      wrappedTooltip("%s: %.4f ms, max |%s - %s_float64| = %.3g", run.label.c_str(),
                     run.seconds * 1e3, output.c_str(), output.c_str(), run.max_diff_vs_fp64);
    ImGui::TableNextColumn();
    ImGui::Text("%.3f ms", run.seconds * 1e3);
    ImGui::TableNextColumn();
    ImGui::Text("%.3g", run.max_diff_vs_fp64);
  }
  ImGui::EndTable();
}

// Backward mode: each backward backend's time and largest |dx - dx_fp64|, then the floor a
// backward cannot beat, 1.5 copies of x (it reads x and dy and writes dx; the copy timed between
// the float32 backward's runs), and the float32 backward's time in floors.
void backwardTable(const Snapshot& snap) {
  if (snap.backward_runs.empty()) return;
  runsTable("backward", "dx", snap.backward_runs);
  if (snap.backward_copy_seconds <= 0) return;
  const double floor = kBackwardFloorCopies * snap.backward_copy_seconds;
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
  ImGui::TextWrapped("backward floor: %.3f ms, %.1f copies of x (it reads x and dy, writes dx)",
                     floor * 1e3, kBackwardFloorCopies);
  const BackendRun& fast = snap.backward_runs.front();  // the float32 fast path
  if (fast.error.empty() && fast.seconds > 0) {
    ImGui::TextWrapped("%s: %.2fx its floor", fast.label.c_str(), fast.seconds / floor);
    if (ImGui::IsItemHovered())
      wrappedTooltip(
          "The copy is timed between the backward's runs, so that it reads x from memory as "
          "the backward does. A small tensor's time is mostly the fixed cost of a call; "
          "`normviz bench` times the headline shapes the same way.");
  }
  ImGui::PopStyleColor();
}

void computeSection(AppState& s) {
  const GpuDevice& gpu = gpuDevice();
  int backend = static_cast<int>(s.backend);
  bool edit = ImGui::RadioButton("CPU float32", &backend, 0);
  ImGui::SameLine();
  edit |= ImGui::RadioButton("CPU float64", &backend, 1);
  ImGui::BeginDisabled(!gpu.usable);
  edit |= ImGui::RadioButton("GPU", &backend, 2);
  ImGui::EndDisabled();
  ImGui::SameLine();
  edit |= ImGui::RadioButton("GPU emulated", &backend, 3);
  if (ImGui::IsItemHovered())
    wrappedTooltip("%s: the CUDA kernels executed on the CPU, on any machine",
                   backendLabel(Backend::GpuEmulated));
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
  ImGui::TextWrapped("GPU: %s", gpu.usable ? gpu.name.c_str() : gpu.reason.c_str());
  ImGui::PopStyleColor();
  if (edit) {
    s.backend = static_cast<Backend>(backend);
    changed(s);
  }
  const bool open = ImGui::BeginCombo("variance", varianceName(s.variance));
  if (ImGui::IsItemHovered())
    wrappedTooltip("How the float32 backends accumulate the variance (float64 is exact)");
  if (open) {
    for (VarianceStrategy v : kAllStrategies)
      if (ImGui::Selectable(varianceName(v), v == s.variance)) {
        s.variance = v;
        changed(s);
      }
    ImGui::EndCombo();
  }
  if (!s.shown) return;
  runsTable("backend", "y", s.shown->runs);
  backwardTable(*s.shown);
  const int threads = engineThreads(s.threads);
  std::string engine = "CPU engine: " + std::to_string(threads) +
                       (threads == 1 ? " thread, " : " threads, ") + engineSimdTarget();
#if defined(__EMSCRIPTEN__)
  // The page's engine: WebAssembly's 128-bit SIMD for float32 (the float64 reference on the
  // portable target), threads only where the page may share memory with its workers.
  engine = "in the browser: " + std::to_string(threads) + (threads == 1 ? " thread" : " threads") +
           ", SIMD " + engineSimdTarget() + " for float32 (float64 without SIMD)";
#if !defined(__EMSCRIPTEN_PTHREADS__)
  engine +=
      "; one thread because the page is not cross-origin isolated (served without the "
      "COOP/COEP headers), so it has no shared memory for threads";
#endif
  engine += "; a native build is faster";
#endif
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
  ImGui::TextWrapped("%s", engine.c_str());
  ImGui::PopStyleColor();
}

// Export: the command line that reproduces this view (to the clipboard; the app accepts it back),
// and a PNG of the view at a chosen size, rendered offscreen in this process.
void exportSection(AppState& s) {
  ImGui::Separator();
  ImGui::TextUnformatted("Export");
  if (reportedButton(s, "Copy command")) {
    const std::string command = commandLineOf(s);
    ImGui::SetClipboardText(command.c_str());
    s.notice = "copied: " + command;
  }
  if (!s.link_base.empty()) {
    ImGui::SameLine();
    if (reportedButton(s, "Copy link")) {
      const std::string query = specToQuery(specOf(s));
      const std::string link = s.link_base + (query.empty() ? "" : "?") + query;
      ImGui::SetClipboardText(link.c_str());
      s.notice = "copied: " + link;
    }
  }
  int size[2] = {s.png.width, s.png.height};
  if (ImGui::InputInt2("PNG size", size)) {
    s.png.width = std::clamp(size[0], 64, 8192);
    s.png.height = std::clamp(size[1], 64, 8192);
  }
  ImGui::InputText("PNG path", &s.png.path);
  // Rendered by the window after this frame, offscreen at that size (Ctrl+S too).
  if (reportedButton(s, "Save PNG")) s.png.requested = true;
}

// A plot under the tensor, computed from the layer's data (plot_data.hpp).
void plotChoice(AppState& s) {
  static constexpr const char* kLabels[] = {"none", "running stats (BatchNorm)",
                                            "batch mean by batch size", "histograms of x and y",
                                            "float32 variance error"};
  const auto shown = static_cast<size_t>(s.plot);
  if (ImGui::BeginCombo("Plot", kLabels[shown])) {
    for (const auto& [value, name] : namesOf<PlotKind>()) {
      const auto i = static_cast<size_t>(value);
      if (ImGui::Selectable(kLabels[i], s.plot == value)) s.plot = value;
      if (ImGui::IsItemHovered()) wrappedTooltip("--plot %s", name);
    }
    ImGui::EndCombo();
  }
}

void viewSection(AppState& s) {
  int layout = static_cast<int>(s.layout);
  if (radioPair("x, stats, y", "compare 4 layers", &layout)) {
    s.layout = static_cast<LayoutMode>(layout);
    s.reframe = true;
  }
  if (ImGui::Checkbox("backward: dy \u2192 dx, dweight, dbias (B)", &s.backward)) {
    s.inputs_changed = true;
    s.reframe = true;
  }
  if (s.backward) {
    if (ImGui::BeginCombo("dy", s.grad_init.c_str())) {
      for (const char* name : {"randn", "ones", "arange"})
        if (ImGui::Selectable(name, s.grad_init == name))
          s.grad_init = name, s.inputs_changed = true;
      ImGui::EndCombo();
    }
  }
  displayChoice(s);
  plotChoice(s);
  if (shownDisplay(s) == DisplayMode::Cubes) {
    float explode = s.explode;
    if (ImGui::SliderFloat("explode", &explode, 0.0f, 1.0f,
                           explode < 0.5f ? "blocks %.2f" : "plates %.2f")) {
      s.explode = explode;
      s.reframe = true;
    }
  }
  int color = static_cast<int>(s.color_by);
  if (radioPair("colour by value", "all groups", &color)) s.color_by = static_cast<ColorBy>(color);
  int map = s.input_map == ColorMap::Viridis ? 0 : 1;
  if (radioPair("viridis", "cividis", &map))
    s.input_map = map == 0 ? ColorMap::Viridis : ColorMap::Cividis;
  int theme = static_cast<int>(s.theme);
  if (radioPair("dark", "light", &theme)) s.theme = static_cast<Theme>(theme);
  float scale = s.font_scale;
  if (ImGui::SliderFloat("font scale", &scale, 0.75f, 3.0f, "%.2f")) s.font_scale = scale;
  if (ImGui::Button("Front")) s.preset = ViewPreset::Front, s.reframe = true;
  ImGui::SameLine();
  if (ImGui::Button("Top")) s.preset = ViewPreset::Top, s.reframe = true;
  ImGui::SameLine();
  if (ImGui::Button("Isometric")) s.preset = ViewPreset::Isometric, s.reframe = true;
  ImGui::SameLine();
  if (ImGui::Button("Help (F1)")) s.show_help = true;
  exportSection(s);
}

}  // namespace

void drawControlsPanel(AppState& s, glm::vec2 pos, glm::vec2 size) {
  ImGui::SetNextWindowPos(ImVec2(pos.x, pos.y), ImGuiCond_Always);
  ImGui::SetNextWindowSize(ImVec2(size.x, size.y), ImGuiCond_Always);
  ImGui::Begin("normviz", nullptr,
               ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse);
  ImGui::PushItemWidth(-ImGui::GetFontSize() * 7.0f);
  if (!s.error.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.45f, 0.4f, 1.0f));
    ImGui::TextWrapped("%s", s.error.c_str());
    ImGui::PopStyleColor();
    if (s.shown) ImGui::TextDisabled("showing the last good result");
  }
  if (!s.computing.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.8f, 0.3f, 1.0f));
    ImGui::TextWrapped("Computing %s...", s.computing.c_str());
    ImGui::PopStyleColor();
    if (s.shown) {
      ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
      ImGui::TextWrapped("showing the last result until it is done");
      ImGui::PopStyleColor();
    }
  }
  if (!s.notice.empty()) ImGui::TextWrapped("%s", s.notice.c_str());
  if (s.capture && ImGui::CollapsingHeader("Model capture", ImGuiTreeNodeFlags_DefaultOpen))
    captureSection(s);
  if (ImGui::CollapsingHeader("Layer", ImGuiTreeNodeFlags_DefaultOpen)) layerSection(s);
  if (ImGui::CollapsingHeader("Shape and data", ImGuiTreeNodeFlags_DefaultOpen)) dataSection(s);
  if (ImGui::CollapsingHeader("Compute", ImGuiTreeNodeFlags_DefaultOpen)) computeSection(s);
  if (ImGui::CollapsingHeader("View")) viewSection(s);
  ImGui::PopItemWidth();
  ImGui::End();
}

}  // namespace normviz
