// The lesson card at the top of the scene: the step's text, its question with immediate feedback,
// the way forward and back, and the score at the end. In presenter mode it is the only panel.
// Also the marks of a "click every cube" question (the marked cube, the selection, misses, extras).
#include <imgui.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "lesson_state.hpp"
#include "panels.hpp"

namespace normviz {

namespace {

ImVec4 feedbackColor(bool right) {
  return right ? ImVec4(0.16f, 0.62f, 0.30f, 1.0f) : ImVec4(0.80f, 0.25f, 0.20f, 1.0f);
}

void questionWidgets(AppState& s, const LessonQuestion& q) {
  LessonProgress& p = s.lesson;
  ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.85f, 0.35f, 1.0f));
  ImGui::TextWrapped("%s", q.prompt.c_str());
  ImGui::PopStyleColor();
  switch (q.kind) {
    case LessonQuestion::Kind::Choice: {
      // Options side by side while they fit, so the card leaves the tensor its room.
      const ImGuiStyle& style = ImGui::GetStyle();
      const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
      for (size_t i = 0; i < q.options.size(); ++i) {
        const std::string label = std::to_string(i + 1) + ". " + q.options[i];
        const float w = ImGui::CalcTextSize(label.c_str()).x + 2.0f * style.FramePadding.x;
        if (i > 0 && ImGui::GetItemRectMax().x + style.ItemSpacing.x * 2.0f + w < right)
          ImGui::SameLine(0.0f, style.ItemSpacing.x * 2.0f);
        if (ImGui::Button(label.c_str())) answerChoice(s, static_cast<int>(i));
      }
      ImGui::TextDisabled("keys 1-%zu answer", q.options.size());
      break;
    }
    case LessonQuestion::Kind::Number: {
      ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6.0f);
      char buf[32] = {};
      std::snprintf(buf, sizeof buf, "%s", p.number.c_str());
      const bool enter =
          ImGui::InputText("##answer", buf, sizeof buf,
                           ImGuiInputTextFlags_CharsDecimal | ImGuiInputTextFlags_EnterReturnsTrue);
      p.number = buf;
      ImGui::SameLine();
      if ((ImGui::Button("Check") || enter) && !p.number.empty())
        answerNumber(s, std::strtoll(p.number.c_str(), nullptr, 10));
      break;
    }
    case LessonQuestion::Kind::Select:
      ImGui::Text("%zu cubes selected (click a cube to add or remove it)", p.selection.size());
      if (ImGui::Button("Check (Enter)")) checkSelection(s);
      ImGui::SameLine();
      if (ImGui::Button("Clear")) p.selection.clear(), p.misses.clear(), p.extras.clear();
      break;
  }
  if (!p.feedback.empty()) {
    // A coloured bar, so right and wrong read at a glance from the back of the room.
    const ImVec2 at = ImGui::GetCursorScreenPos();
    const float w = ImGui::GetContentRegionAvail().x;
    const float h = ImGui::GetTextLineHeightWithSpacing() * 1.3f;
    ImGui::GetWindowDrawList()->AddRectFilled(at, ImVec2(at.x + w, at.y + h),
                                              ImGui::GetColorU32(feedbackColor(p.answered)), 4.0f);
    ImGui::SetCursorScreenPos(ImVec2(at.x + 8.0f, at.y + h * 0.12f));
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 1, 1, 1));
    ImGui::TextUnformatted(p.feedback.c_str());
    ImGui::PopStyleColor();
    ImGui::SetCursorScreenPos(ImVec2(at.x, at.y + h + 4.0f));
    ImGui::Dummy(ImVec2(w, 1.0f));
  }
}

}  // namespace

void drawLessonPanel(AppState& s, const SceneView& view) {
  LessonProgress& p = s.lesson;
  if (!p.lesson) return;
  const Lesson& lesson = *p.lesson;
  const float width =
      std::min(view.size.x - 20.0f, ImGui::GetFontSize() * (p.presenter ? 40.0f : 30.0f));
  ImGui::SetNextWindowPos(ImVec2(view.pos.x + view.size.x * 0.5f, view.pos.y + 4.0f),
                          ImGuiCond_Always, ImVec2(0.5f, 0.0f));
  ImGui::SetNextWindowSizeConstraints(ImVec2(width, 0.0f), ImVec2(width, view.size.y * 0.5f));
  ImGui::SetNextWindowBgAlpha(0.94f);
  const ImGuiWindowFlags flags = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize |
                                 ImGuiWindowFlags_NoCollapse | ImGuiWindowFlags_AlwaysAutoResize |
                                 ImGuiWindowFlags_NoSavedSettings;
  const std::string title = lesson.title + " - step " + std::to_string(p.step + 1) + " of " +
                            std::to_string(lesson.steps.size()) + "###lesson";
  if (ImGui::Begin(title.c_str(), nullptr, flags)) {
    ImGui::PushTextWrapPos(0.0f);
    const LessonStep& step = lesson.steps[static_cast<size_t>(p.step)];
    ImGui::TextWrapped("%s", step.text.c_str());
    if (step.question) {
      ImGui::Separator();
      questionWidgets(s, *step.question);
    }
    if (!p.error.empty()) {
      ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.45f, 0.4f, 1.0f));
      ImGui::TextWrapped("%s", p.error.c_str());
      ImGui::PopStyleColor();
    }
    ImGui::Separator();
    const bool last = p.step + 1 == static_cast<int>(lesson.steps.size());
    ImGui::BeginDisabled(p.step == 0);
    if (ImGui::Button("< Back (PgUp)")) goToStep(s, p.step - 1);
    ImGui::EndDisabled();
    ImGui::SameLine();
    ImGui::BeginDisabled(last);
    if (ImGui::Button("Next > (PgDn)")) goToStep(s, p.step + 1);
    ImGui::EndDisabled();
    ImGui::SameLine();
    if (ImGui::Button(p.presenter ? "Leave presenter (F5)" : "Present (F5)"))
      p.presenter = !p.presenter;
    ImGui::SameLine();
    if (ImGui::Button("Close")) closeLesson(s);
    if (last && p.lesson && p.questions() > 0)
      ImGui::Text("Score: %d of %d questions right the first time", p.score(), p.questions());
    ImGui::PopTextWrapPos();
    // The scene is framed below the card: refit when the card's height changes.
    const float h = ImGui::GetWindowSize().y + 8.0f;
    if (std::abs(h - p.card_height) > 6.0f) p.card_height = h, s.reframe = true;
  }
  ImGui::End();
}

void drawLessonMarks(const AppState& s, const SceneView& view,
                     const std::function<std::optional<glm::vec2>(int64_t)>& screen_of) {
  const LessonProgress& p = s.lesson;
  // The marked element while its group is withheld (a select or a predict question).
  if (!p.litWithheld()) return;
  ImDrawList* dl = ImGui::GetForegroundDrawList();
  dl->PushClipRect(ImVec2(view.pos.x, view.pos.y),
                   ImVec2(view.pos.x + view.size.x, view.pos.y + view.size.y), true);
  const float r = 5.0f * s.font_scale / 1.5f;
  if (s.pinned)
    if (const auto at = screen_of(s.pinned->index))
      dl->AddCircle(ImVec2(at->x, at->y), r * 1.8f, IM_COL32(255, 230, 60, 255), 0, 3.0f);
  for (int64_t flat : p.selection)
    if (const auto at = screen_of(flat))
      dl->AddCircleFilled(ImVec2(at->x, at->y), r * 0.7f, IM_COL32(80, 220, 255, 255));
  for (int64_t flat : p.misses)
    if (const auto at = screen_of(flat))
      dl->AddCircle(ImVec2(at->x, at->y), r * 1.3f, IM_COL32(235, 60, 50, 255), 0, 2.5f);
  for (int64_t flat : p.extras)
    if (const auto at = screen_of(flat)) {
      dl->AddLine(ImVec2(at->x - r, at->y - r), ImVec2(at->x + r, at->y + r),
                  IM_COL32(255, 150, 30, 255), 2.5f);
      dl->AddLine(ImVec2(at->x - r, at->y + r), ImVec2(at->x + r, at->y - r),
                  IM_COL32(255, 150, 30, 255), 2.5f);
    }
  dl->PopClipRect();
}

}  // namespace normviz
