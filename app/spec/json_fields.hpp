// Reading typed values out of JSON written by people (lesson files, the settings file): each reader
// refuses a wrong type or a value out of range with a NormError naming the field, so no value
// reaches a conversion that could overflow (nlohmann's get<int64_t>() of 1e30 is undefined).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace normviz {

// An integer in [lo, hi]; a float such as 2.0 is refused (a count is written 2).
int64_t jsonInt(const nlohmann::json& v, std::string_view field, int64_t lo, int64_t hi);
// A finite number in [lo, hi].
double jsonNumber(const nlohmann::json& v, std::string_view field, double lo, double hi);
bool jsonBool(const nlohmann::json& v, std::string_view field);
std::string jsonString(const nlohmann::json& v, std::string_view field);
// A list of integers as the command line writes it ("4,2,2"), from a string, one integer, or an
// array of integers. The text is not parsed here: parseShape/parseAxes say what is wrong with it.
std::string jsonListText(const nlohmann::json& v, std::string_view field);

}  // namespace normviz
