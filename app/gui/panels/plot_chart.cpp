// The plotting helper (plot_chart.hpp): a chart's layout, axes, legend and series on an ImDrawList.
//
// Sections: colours · ticks · text · marks · legend · the chart.
#include "plot_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace normviz {

// ---- Colours ------------------------------------------------------------------------------------

ImU32 plotColor(int index, Theme theme, float alpha) {
  // Okabe and Ito (2008), "Color Universal Design": distinct under every common colour blindness.
  // An index keeps its hue in both themes, but the blues trade places: the sky blue on dark
  // backgrounds, the deep blue on light ones; the yellow, which vanishes on white, comes last
  // there.
  static constexpr unsigned kDark[] = {0x56B4E9, 0xE69F00, 0x009E73, 0xCC79A7,
                                       0xF0E442, 0xD55E00, 0x0072B2};
  static constexpr unsigned kLight[] = {0x0072B2, 0xE69F00, 0x009E73, 0xCC79A7,
                                        0x56B4E9, 0xD55E00, 0xF0E442};
  const auto a = static_cast<int>(std::lround(std::clamp(alpha, 0.0f, 1.0f) * 255.0f));
  if (index < 0)
    return theme == Theme::Dark ? IM_COL32(160, 160, 170, a) : IM_COL32(105, 105, 110, a);
  const unsigned rgb = (theme == Theme::Dark ? kDark : kLight)[index % 7];
  return IM_COL32((rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF, a);
}

namespace {

ImU32 withAlpha(ImU32 color, float alpha) {
  const auto a = static_cast<ImU32>(static_cast<float>((color >> IM_COL32_A_SHIFT) & 0xFF) * alpha);
  return (color & ~IM_COL32_A_MASK) | (a << IM_COL32_A_SHIFT);
}

// ---- Ticks --------------------------------------------------------------------------------------

struct Tick {
  double value;
  std::string label;
};

std::string linearLabel(double v, double step) {
  char buf[32];
  if (std::abs(v) < step * 1e-6) return "0";  // never "-0"
  const double size = std::max(std::abs(v), step);
  if (size >= 1e5 || size < 1e-3) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  } else {
    const int decimals = std::clamp(static_cast<int>(-std::floor(std::log10(step) + 1e-9)), 0, 6);
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  }
  return buf;
}

// Steps of 1, 2 or 5 times a power of ten, about `spacing` pixels apart.
std::vector<Tick> linearTicks(const Axis& a, float pixels, float spacing) {
  const int target = std::max(2, static_cast<int>(pixels / spacing));
  const double raw = (a.hi - a.lo) / target;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * power;
  for (double m : {1.0, 2.0, 5.0})
    if (m * power >= raw) {
      step = m * power;
      break;
    }
  std::vector<Tick> ticks;
  for (double v = std::ceil(a.lo / step) * step; v <= a.hi + step * 1e-9; v += step)
    ticks.push_back({v, linearLabel(v, step)});
  return ticks;
}

// Decades (every second or third when they would crowd): 0.01 .. 1000 in plain figures, 1e-9.
std::vector<Tick> logTicks(const Axis& a, float pixels, float spacing) {
  const int k0 = static_cast<int>(std::ceil(std::log10(a.lo) - 1e-9));
  const int k1 = static_cast<int>(std::floor(std::log10(a.hi) + 1e-9));
  const int target = std::max(2, static_cast<int>(pixels / spacing));
  const int every = std::max(1, (k1 - k0 + target) / target);
  std::vector<Tick> ticks;
  for (int k = k0; k <= k1; ++k) {
    if ((k - k0) % every != 0) continue;
    char buf[32];
    if (k >= -2 && k <= 3) {
      std::snprintf(buf, sizeof buf, "%g", std::pow(10.0, k));
    } else {
      std::snprintf(buf, sizeof buf, "1e%d", k);
    }
    ticks.push_back({std::pow(10.0, k), buf});
  }
  return ticks;
}

std::vector<Tick> ticksOf(const Axis& a, float pixels, float spacing) {
  if (a.ticks.empty())
    return a.log ? logTicks(a, pixels, spacing) : linearTicks(a, pixels, spacing);
  std::vector<Tick> ticks;
  for (const auto& [value, label] : a.ticks)
    if (value >= a.lo && value <= a.hi) ticks.push_back({value, label});
  return ticks;
}

// The x axis' ticks as close as their labels allow, with some space between labels.
std::vector<Tick> xTicks(const Axis& a, float pixels) {
  const float font = ImGui::GetFontSize();
  std::vector<Tick> ticks;
  for (float spacing = font * 2.0f; spacing < pixels; spacing *= 1.3f) {
    ticks = ticksOf(a, pixels, spacing);
    if (!a.ticks.empty() || ticks.size() < 2) break;
    float widest = 0.0f;
    for (const Tick& t : ticks) widest = std::max(widest, ImGui::CalcTextSize(t.label.c_str()).x);
    if (pixels / static_cast<float>(ticks.size() - 1) >= widest + font * 0.6f) break;
  }
  return ticks;
}

// Where `v` falls on the axis, 0 at lo and 1 at hi.
float axisFraction(const Axis& a, double v) {
  if (a.log) {
    const double lo = std::log10(a.lo), hi = std::log10(a.hi);
    return static_cast<float>((std::log10(std::max(v, 1e-300)) - lo) / (hi - lo));
  }
  return static_cast<float>((v - a.lo) / (a.hi - a.lo));
}

// ---- Text ---------------------------------------------------------------------------------------

// Text centred on `center`, turned to read upwards (the y axis' label): ImGui draws text upright
// only, so the glyphs' vertices are rotated after they are written.
void addUpwardText(ImDrawList* dl, ImVec2 center, ImU32 color, const char* text) {
  const ImVec2 size = ImGui::CalcTextSize(text);
  // Unclipped while written: the upright text may reach past the window before it is turned.
  dl->PushClipRect(ImVec2(-1e5f, -1e5f), ImVec2(1e5f, 1e5f), false);
  const int first = dl->VtxBuffer.Size;
  dl->AddText(ImVec2(center.x - size.x * 0.5f, center.y - size.y * 0.5f), color, text);
  for (int i = first; i < dl->VtxBuffer.Size; ++i) {
    ImDrawVert& v = dl->VtxBuffer[i];
    const float dx = v.pos.x - center.x, dy = v.pos.y - center.y;
    v.pos = ImVec2(center.x + dy, center.y - dx);
  }
  dl->PopClipRect();
}

// ---- Marks --------------------------------------------------------------------------------------

void addMarker(ImDrawList* dl, ImVec2 p, float r, MarkerShape shape, ImU32 color) {
  switch (shape) {
    case MarkerShape::Circle:
      dl->AddCircleFilled(p, r, color, 16);
      break;
    case MarkerShape::Square:
      dl->AddRectFilled(ImVec2(p.x - r * 0.9f, p.y - r * 0.9f),
                        ImVec2(p.x + r * 0.9f, p.y + r * 0.9f), color);
      break;
    case MarkerShape::Triangle:
      dl->AddTriangleFilled(ImVec2(p.x, p.y - r * 1.2f), ImVec2(p.x + r * 1.1f, p.y + r * 0.8f),
                            ImVec2(p.x - r * 1.1f, p.y + r * 0.8f), color);
      break;
    case MarkerShape::Diamond:
      dl->AddQuadFilled(ImVec2(p.x, p.y - r * 1.3f), ImVec2(p.x + r * 1.1f, p.y),
                        ImVec2(p.x, p.y + r * 1.3f), ImVec2(p.x - r * 1.1f, p.y), color);
      break;
  }
}

// A polyline, solid or in dashes of `dash` pixels.
void addLine(ImDrawList* dl, const std::vector<ImVec2>& points, ImU32 color, float width,
             bool dashed, float dash) {
  if (points.size() < 2) return;
  if (!dashed) {
    dl->AddPolyline(points.data(), static_cast<int>(points.size()), color, 0, width);
    return;
  }
  const float period = dash * 1.7f;
  float phase = 0.0f;  // distance along the line, modulo the period
  for (size_t i = 1; i < points.size(); ++i) {
    const ImVec2 a = points[i - 1], b = points[i];
    const float len = std::hypot(b.x - a.x, b.y - a.y);
    float t = 0.0f;
    while (t < len) {
      const float in = std::fmod(phase + t, period);
      const float run = in < dash ? std::min(dash - in, len - t) : std::min(period - in, len - t);
      if (in < dash) {
        const float u0 = t / len, u1 = (t + run) / len;
        dl->AddLine(ImVec2(a.x + (b.x - a.x) * u0, a.y + (b.y - a.y) * u0),
                    ImVec2(a.x + (b.x - a.x) * u1, a.y + (b.y - a.y) * u1), color, width);
      }
      t += std::max(run, 0.01f);
    }
    phase = std::fmod(phase + len, period);
  }
}

// The data area of a chart and its mapping from values to pixels.
struct Frame {
  ImVec2 min, max;
  const Chart* chart;
  float px(double x) const { return min.x + axisFraction(chart->x, x) * (max.x - min.x); }
  float py(double y) const { return max.y - axisFraction(chart->y, y) * (max.y - min.y); }
};

void drawSeries(ImDrawList* dl, const Frame& f, const Series& s, Theme theme, ImU32 background) {
  const float font = ImGui::GetFontSize();
  const float width = std::max(2.0f, font * 0.15f) * s.size;
  const float radius = std::max(3.0f, font * 0.26f) * s.size;
  const ImU32 color = plotColor(s.color, theme, s.alpha);
  std::vector<ImVec2> points;
  for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i)
    if (std::isfinite(s.x[i]) && std::isfinite(s.y[i]))
      points.emplace_back(f.px(s.x[i]), f.py(s.y[i]));
  switch (s.mark) {
    case Mark::Line:
    case Mark::LinePoints:
      addLine(dl, points, color, width, s.dashed, font * 0.6f);
      if (s.mark == Mark::LinePoints)
        for (const ImVec2& p : points) {
          addMarker(dl, p, radius * 1.35f, s.marker, background);  // a halo between markers
          addMarker(dl, p, radius, s.marker, color);
        }
      break;
    case Mark::Points:
      for (const ImVec2& p : points) addMarker(dl, p, radius, s.marker, color);
      break;
    case Mark::Bars:
      for (size_t b = 0; b + 1 < s.x.size() && b < s.y.size(); ++b)
        if (s.y[b] > 0)
          dl->AddRectFilled(ImVec2(f.px(s.x[b]) + 0.5f, f.py(s.y[b])),
                            ImVec2(std::max(f.px(s.x[b + 1]) - 0.5f, f.px(s.x[b]) + 1.0f), f.py(0)),
                            withAlpha(color, 0.85f));
      break;
    case Mark::HLine:
      if (!s.y.empty())
        addLine(dl, {ImVec2(f.min.x, f.py(s.y[0])), ImVec2(f.max.x, f.py(s.y[0]))}, color, width,
                s.dashed, font * 0.6f);
      break;
    case Mark::VLine:
      if (!s.x.empty())
        addLine(dl, {ImVec2(f.px(s.x[0]), f.min.y), ImVec2(f.px(s.x[0]), f.max.y)}, color, width,
                s.dashed, font * 0.4f);
      break;
    case Mark::ErrorBars:
      for (size_t i = 0; i < points.size() && i < s.lo.size() && i < s.hi.size(); ++i) {
        const float x = points[i].x, cap = font * 0.45f;
        const float top = f.py(s.hi[i]), bottom = f.py(s.lo[i]);
        dl->AddLine(ImVec2(x, top), ImVec2(x, bottom), color, width);
        dl->AddLine(ImVec2(x - cap, top), ImVec2(x + cap, top), color, width);
        dl->AddLine(ImVec2(x - cap, bottom), ImVec2(x + cap, bottom), color, width);
        addMarker(dl, points[i], radius * 1.35f, s.marker, background);
        addMarker(dl, points[i], radius, s.marker, color);
      }
      break;
  }
}

// ---- Legend -------------------------------------------------------------------------------------

// A series' swatch in a box of w x h at `p`.
void drawSwatch(ImDrawList* dl, ImVec2 p, float w, float h, const Series& s, Theme theme,
                ImU32 background) {
  const float font = ImGui::GetFontSize();
  const ImU32 color = plotColor(s.color, theme, std::max(s.alpha, 0.8f));
  const ImVec2 mid(p.x + w * 0.5f, p.y + h * 0.5f);
  const float width = std::max(2.0f, font * 0.15f) * s.size;
  const float radius = std::max(3.0f, font * 0.26f);
  switch (s.mark) {
    case Mark::Bars:
      dl->AddRectFilled(ImVec2(p.x + w * 0.2f, p.y + h * 0.2f), ImVec2(p.x + w * 0.8f, p.y + h),
                        color);
      break;
    case Mark::Points:
      addMarker(dl, mid, radius, s.marker, color);
      break;
    case Mark::ErrorBars:
      dl->AddLine(ImVec2(mid.x, p.y + h * 0.05f), ImVec2(mid.x, p.y + h * 0.95f), color, width);
      addMarker(dl, mid, radius, s.marker, color);
      break;
    default:
      addLine(dl, {ImVec2(p.x, mid.y), ImVec2(p.x + w, mid.y)}, color, width,
              s.dashed || s.mark == Mark::HLine, font * 0.45f);
      if (s.mark == Mark::LinePoints) {
        addMarker(dl, mid, radius * 1.35f, s.marker, background);
        addMarker(dl, mid, radius, s.marker, color);
      }
      break;
  }
}

// The named series in rows from (x, y) within `width`; returns the y below the last row.
float drawLegend(ImDrawList* dl, float x, float y, float width, const Chart& chart, Theme theme,
                 ImU32 background) {
  const float font = ImGui::GetFontSize(), swatch = font * 1.8f, gap = font * 0.35f;
  const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
  float cx = x;
  bool any = false;
  for (const Series& s : chart.series) {
    if (s.name.empty()) continue;
    const float item = swatch + gap + ImGui::CalcTextSize(s.name.c_str()).x;
    if (any && cx + item > x + width) cx = x, y += font * 1.25f;
    drawSwatch(dl, ImVec2(cx, y), swatch, font, s, theme, background);
    dl->AddText(ImVec2(cx + swatch + gap, y), text, s.name.c_str());
    cx += item + font * 1.1f;
    any = true;
  }
  return any ? y + font * 1.35f : y;
}

// ---- The chart ----------------------------------------------------------------------------------

int lineCount(const std::string& text) {
  return 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// The grid, the frame, the tick labels and the axes' labels around the data area `f`.
void drawAxes(ImDrawList* dl, const Frame& f, const std::vector<Tick>& xt,
              const std::vector<Tick>& yt, const ChartParts& parts, float left) {
  const float font = ImGui::GetFontSize();
  const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
  const ImU32 grid = withAlpha(text, 0.13f), axis = withAlpha(text, 0.55f);
  const Chart& c = *f.chart;
  for (const Tick& t : yt) {
    const float y = f.py(t.value);
    dl->AddLine(ImVec2(f.min.x, y), ImVec2(f.max.x, y), grid, 1.0f);
    if (!parts.y_ticks) continue;
    const ImVec2 size = ImGui::CalcTextSize(t.label.c_str());
    dl->AddText(ImVec2(f.min.x - font * 0.3f - size.x, y - size.y * 0.5f), text, t.label.c_str());
  }
  for (const Tick& t : xt) {
    const float x = f.px(t.value);
    dl->AddLine(ImVec2(x, f.min.y), ImVec2(x, f.max.y), grid, 1.0f);
    if (!parts.x_ticks) continue;
    // Each line of a label centred under its tick.
    float y = f.max.y + font * 0.2f;
    for (size_t start = 0; start <= t.label.size();) {
      const size_t end = std::min(t.label.find('\n', start), t.label.size());
      const std::string line = t.label.substr(start, end - start);
      const float w = ImGui::CalcTextSize(line.c_str()).x;
      dl->AddText(ImVec2(x - w * 0.5f, y), text, line.c_str());
      y += font;
      start = end + 1;
    }
  }
  dl->AddRect(f.min, f.max, axis, 0.0f, 0, 1.5f);
  if (parts.x_label && !c.x.label.empty()) {
    const float w = ImGui::CalcTextSize(c.x.label.c_str()).x;
    const int lines = parts.x_ticks && !xt.empty() ? lineCount(xt.front().label) : 0;
    dl->AddText(ImVec2((f.min.x + f.max.x - w) * 0.5f, f.max.y + font * (0.35f + lines)), text,
                c.x.label.c_str());
  }
  // The y axis' label, turned, where it fits along the axis.
  if (parts.y_label && !c.y.label.empty() &&
      ImGui::CalcTextSize(c.y.label.c_str()).x <= f.max.y - f.min.y + font)
    addUpwardText(dl, ImVec2(left + font * 0.55f, (f.min.y + f.max.y) * 0.5f), text,
                  c.y.label.c_str());
}

}  // namespace

float drawChartLegend(ImDrawList* dl, ImVec2 at, float width, const Chart& chart, Theme theme) {
  return drawLegend(dl, at.x, at.y, width, chart, theme, ImGui::GetColorU32(ImGuiCol_WindowBg));
}

void drawChart(ImDrawList* dl, ImVec2 min, ImVec2 max, const Chart& chart, Theme theme,
               ChartParts parts) {
  const float font = ImGui::GetFontSize();
  const ImU32 text = ImGui::GetColorU32(ImGuiCol_Text);
  const ImU32 background = ImGui::GetColorU32(ImGuiCol_WindowBg);
  float top = min.y;
  if (parts.title && !chart.title.empty()) {
    dl->AddText(ImVec2(min.x, top), text, chart.title.c_str());
    top += font * 1.2f;
  }
  if (parts.title && !chart.note.empty()) {
    dl->AddText(ImVec2(min.x, top), ImGui::GetColorU32(ImGuiCol_TextDisabled), chart.note.c_str());
    top += font * 1.2f;
  }
  if (parts.legend) top = drawLegend(dl, min.x, top, max.x - min.x, chart, theme, background);
  // Bottom up: the x axis' label and tick labels; then the y tick labels' width on the left.
  // The x axis' label gives way where the data would get less than three lines' height.
  const int x_lines = chart.x.ticks.empty() ? 1 : lineCount(chart.x.ticks.front().second);
  const float ticks = parts.x_ticks ? font * (static_cast<float>(x_lines) + 0.3f) : font * 0.2f;
  if (parts.make_room && max.y - top - ticks - font * 1.7f < font * 3.0f) parts.x_label = false;
  const float below = ticks + (parts.x_label && !chart.x.label.empty() ? font * 1.2f : 0.0f);
  Frame f{ImVec2(0, top + (parts.y_ticks ? font * 0.5f : font * 0.1f)), ImVec2(0, max.y - below),
          &chart};
  if (f.max.y - f.min.y < font) return;  // no room for data
  const std::vector<Tick> yt = ticksOf(chart.y, f.max.y - f.min.y, font * 2.4f);
  float tick_width = 0.0f;
  for (const Tick& t : yt)
    tick_width = std::max(tick_width, ImGui::CalcTextSize(t.label.c_str()).x);
  const float left = min.x;
  f.min.x = left + (parts.y_label && !chart.y.label.empty() ? font * 1.3f : 0.0f) +
            (parts.y_ticks ? tick_width + font * 0.45f : font * 0.1f);
  f.max.x = max.x - font * 0.9f;  // room for the last tick's label (alike in small multiples)
  if (f.max.x - f.min.x < font * 2.0f) return;
  const std::vector<Tick> xt = xTicks(chart.x, f.max.x - f.min.x);
  drawAxes(dl, f, xt, yt, parts, left);
  dl->PushClipRect(f.min, f.max, true);
  for (const Series& s : chart.series) drawSeries(dl, f, s, theme, background);
  dl->PopClipRect();
}

}  // namespace normviz
