// The right panel: what the layer does in words and in PyTorch, the per-group statistics table
// (synced with hover), histograms of x and y, and the kernel stepper tab.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "app_compute.hpp"
#include "panels.hpp"

namespace normviz {

namespace {

void plotHistogram(const char* name, const ValueSummary& summary) {
  ImGui::Text("%s: %.4g .. %.4g", name, summary.lo, summary.hi);
  ImGui::PlotHistogram((std::string("##") + name).c_str(), summary.counts.data(),
                       static_cast<int>(summary.counts.size()), 0, nullptr, 0.0f, FLT_MAX,
                       ImVec2(ImGui::GetContentRegionAvail().x, ImGui::GetTextLineHeight() * 3.5f));
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

  const auto active = s.active();
  if (active) {
    ImGui::Separator();
    ImGui::PushTextWrapPos(0.0f);
    drawCubeCard(s, *active);
    ImGui::PopTextWrapPos();
    ImGui::Separator();
  }
  const std::optional<int64_t> lit =
      active ? std::optional<int64_t>(groupOfCube(plan, *active)) : std::nullopt;
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
    static std::optional<int64_t> scrolled_to;
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
              ImGui::SetTooltip("group %d: mean %.9g, var %.9g, rstd %.9g", g, snap.result.mean[g],
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

void drawStatsPanel(AppState& s, float x, float width, float height) {
  ImGui::SetNextWindowPos(ImVec2(x, 0), ImGuiCond_Always);
  ImGui::SetNextWindowSize(ImVec2(width, height), ImGuiCond_Always);
  ImGui::Begin("Statistics", nullptr,
               ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse);
  if (!s.shown) {
    ImGui::TextWrapped("No result yet: %s", s.error.c_str());
    ImGui::End();
    return;
  }
  if (ImGui::BeginTabBar("right")) {
    static bool first = true;
    const ImGuiTabItemFlags open_stepper =
        first && s.stepper.active ? ImGuiTabItemFlags_SetSelected : 0;
    first = false;
    if (ImGui::BeginTabItem("Statistics")) {
      s.stepper.active = false;
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
