// Drawn over the 3D view with ImGui: axis arrows with names and sizes, section titles, the active
// cube's tooltip, compare panel titles, and the colour legend. All follow the camera every frame.
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "app_compute.hpp"
#include "lit_region.hpp"
#include "panels.hpp"
#include "scene_colors.hpp"

namespace normviz {

namespace {

ImVec2 im(glm::vec2 v) {
  return ImVec2(v.x, v.y);
}

ImU32 textColor(const AppState& s) {
  return s.theme == Theme::Dark ? IM_COL32(235, 235, 235, 255) : IM_COL32(20, 20, 20, 255);
}

// "[0, 1, 0, 0]" for a flat index of `shape`.
std::string indexText(const Shape& shape, int64_t flat) {
  std::string out = "]";
  for (int a = shape.rank() - 1; a >= 0; --a) {
    out = std::to_string(flat % shape[a]) + (a == shape.rank() - 1 ? "" : ", ") + out;
    flat /= shape[a];
  }
  return "[" + out;
}

// "n=0, g=1" for a group of the plan, named by the statistics' axes.
std::string groupText(const ReductionPlan& plan, int64_t group) {
  const Shape& shape = plan.statShape();
  const auto& names = plan.statAxisNames();
  std::string out;
  for (int a = shape.rank() - 1; a >= 0; --a) {
    std::string name = a < static_cast<int>(names.size()) ? names[static_cast<size_t>(a)] : "?";
    for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    out = name + "=" + std::to_string(group % shape[a]) + (out.empty() ? "" : ", ") + out;
    group /= shape[a];
  }
  return out.empty() ? "the whole tensor" : out;
}

void drawArrow(ImDrawList* dl, ImVec2 a, ImVec2 b, ImU32 color, float thickness) {
  dl->AddLine(a, b, color, thickness);
  const float dx = b.x - a.x, dy = b.y - a.y, len = std::sqrt(dx * dx + dy * dy);
  if (len < 1.0f) return;
  const float ux = dx / len, uy = dy / len, head = 6.0f + 2.0f * thickness;
  dl->AddTriangleFilled(
      b, ImVec2(b.x - ux * head - uy * head * 0.5f, b.y - uy * head + ux * head * 0.5f),
      ImVec2(b.x - ux * head + uy * head * 0.5f, b.y - uy * head - ux * head * 0.5f), color);
}

// Beside the mouse while hovering; a pinned group's card is drawn in the statistics panel instead,
// so it never covers the cubes.
void drawTooltip(const AppState& s, CubeRef ref) {
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  ImGui::SetNextWindowPos(ImVec2(mouse.x + 24.0f, mouse.y + 24.0f), ImGuiCond_Always);
  ImGui::SetNextWindowBgAlpha(0.92f);
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_AlwaysAutoResize |
                                 ImGuiWindowFlags_NoSavedSettings |
                                 ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoInputs |
                                 ImGuiWindowFlags_NoNav;
  if (ImGui::Begin("##cube_tooltip", nullptr, flags)) {
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 24.0f);
    drawCubeCard(s, ref);
    ImGui::PopTextWrapPos();
  }
  ImGui::End();
}

}  // namespace

std::string sectionLabel(const Snapshot& snap, Section section) {
  if (!snap.grad) return sectionName(section);
  // Backward mode: the same places hold the gradient's tensors.
  const char* names[] = {
      "dy",   "\u03a3 dy\u00b7\u03b3", "\u03a3 dy\u00b7\u03b3\u00b7x\u0302", "dx", "dweight",
      "dbias"};
  return names[static_cast<int>(section)];
}

std::string sectionTitle(const Snapshot& snap, Section section) {
  const bool stat = section == Section::Mean || section == Section::Rstd;
  const bool param = section == Section::DWeight || section == Section::DBias;
  const Shape& shape = stat    ? snap.plan.statShape()
                       : param ? snap.plan.affineShape()
                               : snap.x.shape;
  return sectionLabel(snap, section) + " " + shape.str();
}

void drawCubeCard(const AppState& s, CubeRef ref) {
  const Snapshot& snap = *s.shown;
  const BackwardResult* grad = snap.grad ? &*snap.grad : nullptr;
  if (ref.section == Section::DWeight || ref.section == Section::DBias) {
    const bool weight = ref.section == Section::DWeight;
    const std::optional<TensorD>& t = grad == nullptr ? std::nullopt
                                      : weight        ? grad->dweight
                                                      : grad->dbias;
    if (!t || ref.index >= t->numel()) return;
    ImGui::Text("%s%s = %.6g", weight ? "dweight" : "dbias",
                indexText(snap.plan.affineShape(), ref.index).c_str(), (*t)[ref.index]);
    const long long count =
        static_cast<long long>(snap.x.numel() / snap.plan.affineShape().numel());
    ImGui::TextWrapped(weight ? "sums dy·x̂ over the %lld elements this weight scales (lit)"
                              : "sums dy over the %lld elements this bias shifts (lit)",
                       count);
    if (s.pinned && *s.pinned == ref) ImGui::TextDisabled("pinned: Esc to unpin");
    return;
  }
  const int64_t g = groupOfCube(snap.plan, ref);
  if (ref.section == Section::Input || ref.section == Section::Output) {
    const std::string idx = indexText(snap.x.shape, ref.index);
    ImGui::Text("x%s = %.6g", idx.c_str(), static_cast<double>(snap.x[ref.index]));
    if (grad != nullptr) {
      ImGui::Text("dy%s = %.6g", idx.c_str(), static_cast<double>((*snap.dy)[ref.index]));
      ImGui::Text("dx%s = %.6g", idx.c_str(), grad->dx[ref.index]);
    } else {
      ImGui::Text("y%s = %.6g", idx.c_str(), snap.result.y[ref.index]);
    }
  } else {
    ImGui::Text("%s%s", sectionLabel(snap, ref.section).c_str(),
                indexText(snap.plan.statShape(), ref.index).c_str());
  }
  if (s.lesson.questionOpen()) {
    ImGui::TextDisabled("its group and statistics: after the question");
    return;
  }
  ImGui::Text("group %lld (%s): %lld elements", static_cast<long long>(g),
              groupText(snap.plan, g).c_str(), static_cast<long long>(snap.plan.groupSize()));
  if (grad != nullptr) {
    ImGui::Text("Σ dy·γ %.6g   Σ dy·γ·x̂ %.6g", grad->sum_dy_w[g], grad->sum_dy_w_xhat[g]);
    if (grad->group_coupled) {
      ImGui::TextWrapped("dx of every element here depends on every dy and x of the group (lit)");
    } else {
      ImGui::TextWrapped("evaluation: dx = dy·γ·rstd of this element alone (lit)");
    }
  } else if (snap.plan.subtractsMean()) {
    ImGui::Text("mean %.6g   var %.6g", snap.result.mean[g], snap.result.var[g]);
  } else {
    ImGui::Text("mean square %.6g (RMSNorm subtracts no mean)", snap.result.var[g]);
  }
  if (grad == nullptr) ImGui::Text("rstd %.6g", snap.result.rstd[g]);
  if (s.pinned && *s.pinned == ref) ImGui::TextDisabled("pinned: Esc to unpin");
}

void drawComparePanelHeader(const AppState& s, const SceneView& view) {
  ImDrawList* dl = ImGui::GetBackgroundDrawList();
  const ImU32 text = textColor(s);
  const ComparePanel& panel = s.compare[static_cast<size_t>(view.compare_panel)];
  const ImVec2 corner = im(view.pos + glm::vec2(10.0f, 8.0f));
  const float line = ImGui::GetTextLineHeightWithSpacing();
  // Two lines, so that the panel's tensor keeps the room (kCompareHeaderLines): the layer and its
  // groups, then what is lit or what went wrong.
  std::string title = panel.title;
  if (panel.plan && panel.error.empty())
    title += s.lesson.questionOpen() ? "  \u00b7  groups: ?"
                                     : "  \u00b7  " + std::to_string(panel.plan->groupCount()) +
                                           " groups of " + std::to_string(panel.plan->groupSize());
  dl->AddText(corner, text, title.c_str());
  if (!panel.error.empty()) {
    dl->AddText(nullptr, 0.0f, ImVec2(corner.x, corner.y + line), IM_COL32(230, 90, 80, 255),
                panel.error.c_str(), nullptr, view.size.x - 20.0f);
  } else if (panel.plan) {
    if (const auto lit_group = compareLit(s, view.compare_panel)) {
      const int64_t g = *lit_group;
      const std::string lit =
          "lit: group " + std::to_string(g) + " (" + groupText(*panel.plan, g) + ")";
      dl->AddText(ImVec2(corner.x, corner.y + line), text, lit.c_str());
    }
  }
  const ImU32 frame =
      s.theme == Theme::Dark ? IM_COL32(90, 90, 100, 255) : IM_COL32(180, 180, 180, 255);
  dl->AddRect(im(view.pos), im(view.pos + view.size), frame);
}

void drawHoverTooltip(const AppState& s) {
  if (s.hovered) drawTooltip(s, *s.hovered);
}

namespace {

// A section's title; while a lesson's question is open, the statistics' sections are not drawn and
// their titles give nothing away; while a "click every cube" question frames x alone, the other
// sections (cut by the view's edge) go untitled ("").
std::string shownSectionTitle(const AppState& s, Section section) {
  if (s.lesson.selecting() && section != Section::Input) return "";
  const bool withheld =
      s.lesson.questionOpen() && (section == Section::Mean || section == Section::Rstd);
  return withheld ? sectionLabel(*s.shown, section) + ": ?" : sectionTitle(*s.shown, section);
}

}  // namespace

void drawSceneOverlay(const AppState& s, const SceneLayout& layout, const SceneView& view) {
  ImDrawList* dl = ImGui::GetBackgroundDrawList();
  const ImU32 text = textColor(s);
  const float scale = s.font_scale;
  dl->PushClipRect(im(view.pos), im(view.pos + view.size), true);

  // Arrows first; an axis seen end-on (C from the front, H from the top) has no arrow to label.
  struct Arrow {
    const AxisLabel* label;
    glm::vec2 a, b, center;
  };
  std::vector<Arrow> arrows;
  float header_y = 1e30f;  // the top of the header stack so far
  for (const AxisLabel& label : layout.labels) {
    auto a = view.project(label.from), b = view.project(label.to);
    const auto center = view.project(label.block_center);
    if (!a || !b || !center || glm::length(*b - *a) < 12.0f * scale) continue;
    if (label.header) {
      // Stacked above the section: arrow, then its name above it, then the next header.
      const float y = std::min(header_y, std::min(a->y, b->y)) - 6.0f * scale;
      a->y = b->y = y;
      header_y = y - ImGui::GetTextLineHeight() - 4.0f * scale;
    }
    arrows.push_back({&label, *a, *b, *center});
    drawArrow(dl, im(*a), im(*b), text, 1.5f * scale);
  }
  // Then each name beside its arrow, on the side away from the block, nudged further out until it
  // clears every arrow and the names placed before it.
  struct Rect {
    glm::vec2 lo, hi;
    bool overlaps(const Rect& o, float pad) const {
      return lo.x < o.hi.x + pad && o.lo.x < hi.x + pad && lo.y < o.hi.y + pad &&
             o.lo.y < hi.y + pad;
    }
  };
  std::vector<Rect> placed;
  auto clear = [&](const Rect& r) {
    for (const Rect& o : placed)
      if (r.overlaps(o, 3.0f)) return false;
    for (const Arrow& arrow : arrows)
      for (int k = 0; k <= 16; ++k) {
        const glm::vec2 q = arrow.a + (arrow.b - arrow.a) * (static_cast<float>(k) / 16.0f);
        if (r.overlaps(Rect{q, q}, 2.0f)) return false;
      }
    return true;
  };
  for (const Arrow& arrow : arrows) {
    const ImVec2 size = ImGui::CalcTextSize(arrow.label->text.c_str());
    const glm::vec2 half(size.x * 0.5f, size.y * 0.5f);
    glm::vec2 c, out;
    if (arrow.label->header) {
      // Just above the arrow, from its start.
      c = glm::vec2(std::min(arrow.a.x, arrow.b.x) + half.x, arrow.a.y - half.y - 2.0f * scale);
      out = glm::vec2(0.0f, -1.0f);
    } else {
      const glm::vec2 along = arrow.b - arrow.a, mid = (arrow.a + arrow.b) * 0.5f;
      out = glm::vec2(-along.y, along.x) / glm::length(along);
      if (glm::dot(out, mid - arrow.center) < 0.0f) out = -out;
      const float reach = std::fabs(out.x) * half.x + std::fabs(out.y) * half.y;
      c = mid + out * (reach + 3.0f * scale);
    }
    for (int step = 0; step < 100 && !clear(Rect{c - half, c + half}); ++step) c += out * 2.0f;
    placed.push_back(Rect{c - half, c + half});
    dl->AddText(im(placed.back().lo), text, arrow.label->text.c_str());
  }
  // Sample names under their samples, where the sample is wide enough on screen.
  for (const SampleTag& tag : layout.tags) {
    const auto a = view.project(tag.anchor);
    const auto b = view.project(tag.anchor + glm::vec3(tag.width, 0.0f, 0.0f));
    if (!a || !b) continue;
    const ImVec2 size = ImGui::CalcTextSize(tag.text.c_str());
    if (b->x - a->x < size.x + 4.0f) continue;
    const Rect r{*a + glm::vec2(0.0f, 3.0f * scale), *a + glm::vec2(size.x, 3.0f * scale + size.y)};
    if (!clear(r)) continue;
    placed.push_back(r);
    dl->AddText(im(r.lo), text, tag.text.c_str());
  }

  if (view.compare_panel < 0) {
    for (int k = 0; k < kSectionCount; ++k) {
      const Box& b = layout.bounds[static_cast<size_t>(k)];
      if (b.empty()) continue;
      const std::string title = shownSectionTitle(s, static_cast<Section>(k));
      if (title.empty()) continue;
      // Above the section's top left corner, moved up until it clears arrows and other titles.
      const auto p = view.project(glm::vec3(b.lo.x, b.hi.y, b.hi.z));
      if (!p) continue;
      const ImVec2 size = ImGui::CalcTextSize(title.c_str());
      const float y0 = p->y - size.y - 4.0f * scale;
      Rect r{glm::vec2(p->x, y0), glm::vec2(p->x + size.x, y0 + size.y)};
      for (int step = 0; step < 200 && !clear(r); ++step) r.lo.y -= 2.0f, r.hi.y -= 2.0f;
      placed.push_back(r);
      dl->AddText(im(r.lo), text, title.c_str());
    }
    if (s.hovered) drawTooltip(s, *s.hovered);
  } else {
    drawComparePanelHeader(s, view);
  }
  dl->PopClipRect();
}

namespace {

// The image view's legend: the intensity each value gets on screen, black to full, for x and y.
void imageLegend(const AppState& s) {
  const double lo = s.shown->x_summary.lo, hi = s.shown->x_summary.hi;
  const bool as_is = lo >= 0.0 && hi <= 1.0;
  char x_range[64];
  std::snprintf(x_range, sizeof x_range, "%.3g .. %.3g", as_is ? 0.0 : lo, as_is ? 1.0 : hi);
  const float names = ImGui::CalcTextSize("y").x + ImGui::GetStyle().ItemSpacing.x * 2.0f;
  const float width = 8.0f * ImGui::GetFontSize(), height = ImGui::GetTextLineHeight() * 0.8f;
  auto bar = [&](const char* name, const char* range) {
    ImGui::TextUnformatted(name);
    ImGui::SameLine(names);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    ImGui::GetWindowDrawList()->AddRectFilledMultiColor(
        p, ImVec2(p.x + width, p.y + height), IM_COL32(0, 0, 0, 255), IM_COL32(255, 255, 255, 255),
        IM_COL32(255, 255, 255, 255), IM_COL32(0, 0, 0, 255));
    ImGui::Dummy(ImVec2(width, height));
    ImGui::SameLine();
    ImGui::TextUnformatted(range);
  };
  ImGui::TextUnformatted("per channel (R, G, B or gray):");
  bar("x", x_range);
  bar("y", "-2 .. 2 (0.5 + y/4)");
}

}  // namespace

void drawLegend(const AppState& s, glm::vec2 bottom_right, float max_width) {
  if (!s.shown) return;
  ImGui::SetNextWindowPos(ImVec2(bottom_right.x - 10.0f, bottom_right.y - 10.0f), ImGuiCond_Always,
                          ImVec2(1.0f, 1.0f));
  ImGui::SetNextWindowBgAlpha(0.85f);
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_AlwaysAutoResize |
                                 ImGuiWindowFlags_NoSavedSettings |
                                 ImGuiWindowFlags_NoFocusOnAppearing | ImGuiWindowFlags_NoNav;
  if (!ImGui::Begin("##legend", nullptr, flags)) {
    ImGui::End();
    return;
  }
  if (shownDisplay(s) == DisplayMode::Image) {
    imageLegend(s);
  } else if (s.color_by == ColorBy::Groups) {
    const int64_t groups = s.shown->plan.groupCount();
    if (s.lesson.questionOpen())
      ImGui::TextUnformatted("colour = group");
    else
      ImGui::Text("colour = group (%lld groups)", static_cast<long long>(groups));
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const float box = ImGui::GetTextLineHeight();
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const int64_t shown = std::min<int64_t>(groups, 16);
    for (int64_t g = 0; g < shown; ++g) {
      const glm::vec3 c = categoricalColor(g);
      dl->AddRectFilled(ImVec2(p.x + static_cast<float>(g) * (box + 3.0f), p.y),
                        ImVec2(p.x + static_cast<float>(g) * (box + 3.0f) + box, p.y + box),
                        ImGui::GetColorU32(ImVec4(c.r, c.g, c.b, 1.0f)));
    }
    ImGui::Dummy(ImVec2(static_cast<float>(shown) * (box + 3.0f), box));
  } else {
    const ValueScales scales = valueScales(*s.shown, s.input_map);
    const char* first =
        s.layout == LayoutMode::Single ? (s.shown->grad ? "\u03a3, dw, db" : "x, mean") : "x";
    const ImGuiStyle& style = ImGui::GetStyle();
    const float names_width = ImGui::CalcTextSize(first).x + style.ItemSpacing.x * 2.0f;
    // The bars take what the 3D view leaves after the names and the widest range.
    auto range = [](const ValueScale& scale) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.3g .. %.3g", scale.lo, scale.hi);
      return std::string(buf);
    };
    float range_width = 0.0f;
    for (const ValueScale* scale : {&scales.x, &scales.rstd, &scales.y})
      range_width = std::max(range_width, ImGui::CalcTextSize(range(*scale).c_str()).x);
    const float room = max_width - 20.0f - 2.0f * style.WindowPadding.x - names_width -
                       style.ItemSpacing.x - range_width;
    const float width = std::clamp(room, 3.0f * ImGui::GetFontSize(), 220.0f * s.font_scale / 1.5f);
    const float height = ImGui::GetTextLineHeight() * 0.8f;
    auto bar = [&](const char* name, const ValueScale& scale) {
      ImGui::TextUnformatted(name);
      ImGui::SameLine(names_width);
      ImDrawList* dl = ImGui::GetWindowDrawList();
      const ImVec2 p = ImGui::GetCursorScreenPos();
      constexpr int kSteps = 32;
      for (int i = 0; i < kSteps; ++i) {
        const glm::vec3 c = sampleColorMap(scale.map, (static_cast<float>(i) + 0.5f) / kSteps);
        dl->AddRectFilled(
            ImVec2(p.x + width * static_cast<float>(i) / kSteps, p.y),
            ImVec2(p.x + width * static_cast<float>(i + 1) / kSteps + 0.5f, p.y + height),
            ImGui::GetColorU32(ImVec4(c.r, c.g, c.b, 1.0f)));
      }
      ImGui::Dummy(ImVec2(width, height));
      ImGui::SameLine();
      ImGui::TextUnformatted(range(scale).c_str());
    };
    if (s.shown->grad && s.layout == LayoutMode::Single) {
      bar("dy", scales.dy);
      bar("dx", scales.dx);
      bar("\u03a3, dw, db", scales.reduced);
    } else {
      bar(first, scales.x);
      if (s.layout == LayoutMode::Single) {
        bar("rstd", scales.rstd);
        bar("y", scales.y);
      }
    }
  }
  ImGui::End();
}

}  // namespace normviz
