// The view spec's fields as command-line flags: each is registered with CLI11 from the spec's table
// (view_spec.hpp), so the flags, their help and their parsing cannot drift from the spec.
#pragma once

#include <CLI/CLI.hpp>
#include <deque>
#include <string>
#include <string_view>

#include "view_spec.hpp"

namespace normviz {

class SpecArgs {
 public:
  enum class Fields { Layer, All };
  // Registers the layer's fields (`normviz compute`, `trace`) or all of them (the app) on `cmd`.
  void add(CLI::App& cmd, Fields fields);
  // `base` with the flags that were given applied in the table's order. Throws NormError naming
  // the flag whose value is wrong.
  ViewSpec spec(ViewSpec base = {}) const;
  LayerOptions layer() const { return spec().layer; }
  // Whether any of the layer's flags was given; whether --flag was.
  bool layerGiven() const;
  bool given(std::string_view flag) const;

 private:
  struct Entry {
    const SpecField* field = nullptr;
    CLI::Option* option = nullptr;
    std::string text;
    bool on = false;
  };
  std::deque<Entry> entries_;  // CLI11 writes into them: their addresses must not move
};

}  // namespace normviz
