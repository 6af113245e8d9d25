// Registering the view spec's fields with CLI11 and reading back the ones given.
#include "spec_args.hpp"

namespace normviz {

void SpecArgs::add(CLI::App& cmd, Fields fields) {
  const ViewSpec defaults;
  for (const SpecField& f : specFields()) {
    if (fields == Fields::Layer && !f.layer) continue;
    Entry& e = entries_.emplace_back();
    e.field = &f;
    const std::string name = std::string("--") + f.flag;
    if (f.value == SpecValue::Switch) {
      e.option = cmd.add_flag(name, e.on, f.help);
    } else {
      e.option = cmd.add_option(name, e.text, f.help);
      if (const auto text = f.print(defaults)) e.option->default_str(*text);
    }
  }
}

ViewSpec SpecArgs::spec(ViewSpec base) const {
  for (const Entry& e : entries_)
    if (e.option->count() > 0)
      setSpecField(base, *e.field, e.field->value == SpecValue::Switch ? "true" : e.text);
  return base;
}

bool SpecArgs::layerGiven() const {
  for (const Entry& e : entries_)
    if (e.field->layer && e.option->count() > 0) return true;
  return false;
}

bool SpecArgs::given(std::string_view flag) const {
  for (const Entry& e : entries_)
    if (flag == e.field->flag) return e.option->count() > 0;
  return false;
}

}  // namespace normviz
