// libFuzzer target for a link's query string (the view spec, view_spec.hpp): any text either reads
// or throws NormError, never crashes; what reads writes back, in every form, to the same spec.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "normviz/error.hpp"
#include "view_spec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view query(reinterpret_cast<const char*>(data), size);
  normviz::ViewSpec spec;
  try {
    spec = normviz::specFromQuery(query);
  } catch (const normviz::NormError&) {
    return 0;
  }
  if (!(normviz::specFromQuery(normviz::specToQuery(spec)) == spec)) std::abort();
  if (!(normviz::specFromArgv(normviz::specToArgv(spec)) == spec)) std::abort();
  if (!(normviz::specFromJson(nlohmann::json::parse(normviz::specToJson(spec).dump())) == spec))
    std::abort();
  return 0;
}
