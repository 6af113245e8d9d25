// The right panel: what the layer does in words and in PyTorch, each backend's memory traffic
// against this machine's copy bandwidth, the per-group statistics table (synced with hover),
// histograms of x and y, and the kernel stepper tab.
#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <vector>

#include "app_compute.hpp"
#include "normviz/engine.hpp"
#include "panels.hpp"

namespace normviz {

namespace {

void plotHistogram(const char* name, const ValueSummary& summary) {
  ImGui::Text("%s: %.4g .. %.4g", name, summary.lo, summary.hi);
  ImGui::PlotHistogram((std::string("##") + name).c_str(), summary.counts.data(),
                       static_cast<int>(summary.counts.size()), 0, nullptr, 0.0f, FLT_MAX,
                       ImVec2(ImGui::GetContentRegionAvail().x, ImGui::GetTextLineHeight() * 3.5f));
}

// This machine's copy bandwidth with the app's CPU threads, measured once in the background from
// the first frame on (a quarter of a second): the yardstick that shows a normalization is
// memory-bound and how close each backend comes. 0 when it could not be measured.
std::optional<double> copyBandwidthGbs(const AppState& s) {
  std::shared_future<double>& copy_measurement = s.panels->copy_measurement;
  const int threads = s.threads;
  auto measure = [threads] {
    try {
      return measureCopyBandwidthGbs(threads);
    } catch (const std::exception&) {
      return 0.0;  // out of memory for the 2 x 64 MiB buffers
    }
  };
#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
  // A page without threads: measured on the frame after the first, which shows "measuring".
  if (!copy_measurement.valid()) {
    copy_measurement = std::async(std::launch::deferred, measure).share();
    return std::nullopt;
  }
  return copy_measurement.get();
#else
  if (!copy_measurement.valid()) copy_measurement = std::async(std::launch::async, measure).share();
  if (copy_measurement.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    return std::nullopt;
  return copy_measurement.get();
#endif
}

// Effective GB/s of each backend (the bytes a float32 pass must move / its time) and, for the CPU
// backends, the fraction of what a copy of this tensor reaches with the same threads (as `normviz
// bench` compares them). The machine's copy bandwidth, on buffers larger than the caches, is the
// line below: a tensor that fits in the last-level cache can pass it.
void trafficTable(const AppState& s) {
  const Snapshot& snap = *s.shown;
  const double bytes = normTrafficBytes(snap.plan);
  const std::optional<double> machine = copyBandwidthGbs(s);
  const double copy_bytes = 2.0 * static_cast<double>(snap.x.numel()) * sizeof(float);
  const double copy = snap.copy_seconds > 0 ? copy_bytes / snap.copy_seconds / 1e9 : 0;  // GB/s
  if (ImGui::BeginTable("traffic", 3, ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH)) {
    ImGui::TableSetupColumn("backend", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn("GB/s", ImGuiTableColumnFlags_WidthFixed,
                            ImGui::CalcTextSize("00000.0").x);
    ImGui::TableSetupColumn("of copy", ImGuiTableColumnFlags_WidthFixed,
                            ImGui::CalcTextSize("of copy").x);
    ImGui::TableHeadersRow();
    for (const BackendRun& run : snap.runs) {
      if (!run.error.empty() || run.seconds <= 0) continue;
      const double gbs = bytes / run.seconds / 1e9;
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      ImGui::TextWrapped("%s", run.label.c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%.3g", gbs);
      ImGui::TableNextColumn();
      if (run.backend != Backend::Gpu && copy > 0) {
        ImGui::Text("%.0f%%", 100 * gbs / copy);
        if (ImGui::IsItemHovered())
          wrappedTooltip(
              "%.1f GB/s of the %.1f GB/s a copy of this tensor reaches with the same threads. "
              "A small tensor's time is mostly the fixed cost of a call.",
              gbs, copy);
      } else {
        ImGui::TextDisabled("-");
        if (ImGui::IsItemHovered() && run.backend == Backend::Gpu)
          wrappedTooltip("The GPU has its own memory: normviz bench compares it with a GPU copy");
      }
    }
    ImGui::EndTable();
  }
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
  const int threads = engineThreads(s.threads);
  if (copy > 0)
    ImGui::TextWrapped("copy of this tensor: %.1f GB/s with %d threads; %.2f MB moved per pass",
                       copy, threads, bytes / 1e6);
  if (!machine)
    ImGui::TextWrapped("measuring this machine's copy bandwidth (%d threads)...", threads);
  else if (*machine > 0)
    ImGui::TextWrapped("this machine's copy bandwidth: %.1f GB/s (64 MiB buffers, past the caches)",
                       *machine);
  else
    ImGui::TextWrapped("this machine's copy bandwidth could not be measured");
  ImGui::PopStyleColor();
}

// While a lesson's question is open, the layer's description, its PyTorch line, the groups and
// the histograms would give the answer away: they wait until it is answered.
void withheldStatistics(AppState& s) {
  ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.85f, 0.35f, 1.0f));
  ImGui::TextWrapped(
      "Answer the lesson's question first: the statistics, the groups and the "
      "PyTorch line appear once it is answered.");
  ImGui::PopStyleColor();
  ImGui::Separator();
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
  ImGui::TextWrapped("%s, %.2f ms", s.shown->result.backend.c_str(), s.shown->result.seconds * 1e3);
  ImGui::PopStyleColor();
  trafficTable(s);
}

void statisticsTab(AppState& s) {
  const Snapshot& snap = *s.shown;
  const ReductionPlan& plan = snap.plan;
  ImGui::TextWrapped("%s", plan.describe().c_str());
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
  ImGui::TextWrapped("click a row or a cube to pin its group");
  ImGui::PopStyleColor();
  const std::string line = plan.pytorchLine();
  ImGui::PushStyleColor(ImGuiCol_Text, s.theme == Theme::Dark ? ImVec4(0.55f, 0.85f, 1.0f, 1.0f)
                                                              : ImVec4(0.0f, 0.3f, 0.6f, 1.0f));
  ImGui::TextWrapped("%s", line.c_str());
  ImGui::PopStyleColor();
  if (ImGui::SmallButton("Copy PyTorch line")) ImGui::SetClipboardText(line.c_str());
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
  ImGui::TextWrapped("%s, %.2f ms", snap.result.backend.c_str(), snap.result.seconds * 1e3);
  ImGui::PopStyleColor();
  trafficTable(s);

  const auto active = s.active();
  if (active) {
    ImGui::Separator();
    ImGui::PushTextWrapPos(0.0f);
    drawCubeCard(s, *active);
    ImGui::PopTextWrapPos();
    ImGui::Separator();
  }
  // The row of the group the view lights (none while a question hides it).
  const std::optional<int64_t> lit = singleLit(s, nullptr, false).tag;
  const auto& names = plan.statAxisNames();
  const int rank = plan.statShape().rank();
  const float rows_height = ImGui::GetTextLineHeightWithSpacing() * 9.0f;
  if (ImGui::BeginTable(
          "groups", rank + 3,
          ImGuiTableFlags_ScrollY | ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV,
          ImVec2(0, rows_height))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    // Index columns as wide as their largest index; the statistics share the rest.
    for (int a = 0; a < rank; ++a) {
      const std::string widest = std::to_string(plan.statShape()[a] - 1);
      const std::string& name = names[static_cast<size_t>(a)];
      ImGui::TableSetupColumn(
          name.c_str(), ImGuiTableColumnFlags_WidthFixed,
          std::max(ImGui::CalcTextSize(widest.c_str()).x, ImGui::CalcTextSize(name.c_str()).x));
    }
    ImGui::TableSetupColumn(plan.subtractsMean() ? "mean" : "mean (0)",
                            ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn(plan.subtractsMean() ? "var" : "mean sq",
                            ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn("rstd", ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableHeadersRow();
    // Keep the lit group in view as the mouse moves over the cubes.
    std::optional<int64_t>& scrolled_to = s.panels->stats_scrolled_to;
    ImGuiListClipper clipper;
    clipper.Begin(static_cast<int>(plan.groupCount()));
    if (lit) clipper.ForceDisplayRangeByIndices(static_cast<int>(*lit), static_cast<int>(*lit) + 1);
    while (clipper.Step())
      for (int g = clipper.DisplayStart; g < clipper.DisplayEnd; ++g) {
        ImGui::TableNextRow();
        const bool is_lit = lit && *lit == g;
        if (is_lit) {
          ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0,
                                 ImGui::GetColorU32(ImGuiCol_TextSelectedBg));
          if (scrolled_to != lit) ImGui::SetScrollHereY(0.5f);
        }
        int64_t rest = g;
        std::vector<int64_t> coord(static_cast<size_t>(rank));
        for (int a = rank - 1; a >= 0; --a) {
          coord[static_cast<size_t>(a)] = rest % plan.statShape()[a];
          rest /= plan.statShape()[a];
        }
        for (int a = 0; a < rank; ++a) {
          ImGui::TableNextColumn();
          const std::string label =
              std::to_string(coord[static_cast<size_t>(a)]) + "##g" + std::to_string(g);
          // The first cell spans the row: clicking a row pins its group.
          if (a == 0) {
            if (ImGui::Selectable(label.c_str(), false, ImGuiSelectableFlags_SpanAllColumns))
              s.pinned = CubeRef{Section::Mean, g};
            if (ImGui::IsItemHovered())
              wrappedTooltip("group %d: mean %.9g, var %.9g, rstd %.9g", g, snap.result.mean[g],
                             snap.result.var[g], snap.result.rstd[g]);
          }
          if (a > 0) ImGui::Text("%lld", static_cast<long long>(coord[static_cast<size_t>(a)]));
        }
        // Four significant digits fit the column at any font scale; the row's tooltip has more.
        ImGui::TableNextColumn();
        ImGui::Text("%.4g", snap.result.mean[g]);
        ImGui::TableNextColumn();
        ImGui::Text("%.4g", snap.result.var[g]);
        ImGui::TableNextColumn();
        ImGui::Text("%.4g", snap.result.rstd[g]);
      }
    scrolled_to = lit;
    ImGui::EndTable();
  }
  plotHistogram("x", snap.x_summary);
  plotHistogram("y", snap.y_summary);
}

}  // namespace

// A measurement still running when main returned would copy through the engine's thread-pool
// arenas while static destruction tore them down (the measurement creates them, so they go first):
// the app ended with a segmentation fault after --screenshot in 3 of some hundreds of test renders.
void finishStatsBackgroundWork(const AppState& s) {
  if (s.panels->copy_measurement.valid()) s.panels->copy_measurement.wait();
}

void drawStatsPanel(AppState& s, glm::vec2 pos, glm::vec2 size) {
  ImGui::SetNextWindowPos(ImVec2(pos.x, pos.y), ImGuiCond_Always);
  ImGui::SetNextWindowSize(ImVec2(size.x, size.y), ImGuiCond_Always);
  ImGui::Begin("Statistics", nullptr,
               ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse);
  if (!s.shown) {
    if (!s.computing.empty())
      ImGui::TextWrapped("Computing %s...", s.computing.c_str());
    else
      ImGui::TextWrapped("No result yet: %s", s.error.c_str());
    ImGui::End();
    return;
  }
  if (ImGui::BeginTabBar("right")) {
    bool& first = s.panels->stats_first_frame;
    const ImGuiTabItemFlags open_stepper =
        first && s.stepper.active ? ImGuiTabItemFlags_SetSelected : 0;
    first = false;
    if (ImGui::BeginTabItem("Statistics")) {
      s.stepper.active = false;
      if (s.lesson.questionOpen())
        withheldStatistics(s);
      else
        statisticsTab(s);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem("Kernel stepper", nullptr, open_stepper)) {
      s.stepper.active = true;
      drawStepperTab(s);
      ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
  }
  ImGui::End();
}

}  // namespace normviz
