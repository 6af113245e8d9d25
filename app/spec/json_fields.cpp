// Typed, range-checked reads of JSON values.
#include "json_fields.hpp"

#include <cmath>
#include <limits>

#include "normviz/error.hpp"

namespace normviz {

namespace {

[[noreturn]] void wrong(std::string_view field, const nlohmann::json& v, const std::string& want) {
  std::string shown = v.dump();
  if (shown.size() > 40) {
    shown.resize(37);
    shown += "...";
  }
  throw NormError("\"" + std::string(field) + "\" is " + shown + "; expected " + want);
}

}  // namespace

int64_t jsonInt(const nlohmann::json& v, std::string_view field, int64_t lo, int64_t hi) {
  const std::string want = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(hi) || (lo > 0 && u < static_cast<uint64_t>(lo)))
      wrong(field, v, want);
    return static_cast<int64_t>(u);
  }
  if (!v.is_number_integer()) wrong(field, v, want);
  const auto i = v.get<int64_t>();
  if (i < lo || i > hi) wrong(field, v, want);
  return i;
}

double jsonNumber(const nlohmann::json& v, std::string_view field, double lo, double hi) {
  const std::string want =
      "a number from " + nlohmann::json(lo).dump() + " to " + nlohmann::json(hi).dump();
  if (!v.is_number()) wrong(field, v, want);
  const double d = v.get<double>();
  if (!std::isfinite(d) || d < lo || d > hi) wrong(field, v, want);
  return d;
}

bool jsonBool(const nlohmann::json& v, std::string_view field) {
  if (!v.is_boolean()) wrong(field, v, "true or false");
  return v.get<bool>();
}

std::string jsonString(const nlohmann::json& v, std::string_view field) {
  if (!v.is_string()) wrong(field, v, "a string");
  return v.get<std::string>();
}

std::string jsonListText(const nlohmann::json& v, std::string_view field) {
  const char* want = "a list of integers: \"4,2,2\" or [4, 2, 2]";
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return std::to_string(jsonInt(v, field, kMin, kMax));
  if (!v.is_array()) wrong(field, v, want);
  std::string out;
  for (const auto& e : v) {
    if (!e.is_number_integer()) wrong(field, v, want);
    if (!out.empty()) out += ',';
    out += std::to_string(jsonInt(e, field, kMin, kMax));
  }
  if (out.empty()) wrong(field, v, want);
  return out;
}

}  // namespace normviz
