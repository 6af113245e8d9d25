// The view spec (view_spec.hpp) and the app's state, both ways: a spec from the command line, a
// link or a lesson step becomes state, and the state becomes the spec that Copy command, Copy link
// and the settings file write.
#pragma once

#include "app_state.hpp"
#include "view_spec.hpp"

namespace normviz {

// Applies the spec's view fields to the state (not the layer, the lesson or the stepper): each
// optional field only when it is set, the others always. Throws NormError naming the field (a
// hover outside the shape, a thread count the engine refuses).
void applyViewFields(AppState& state, const ViewSpec& spec);

// Opens the view a spec describes (the command line's flags, a link's query): its layer and data
// (unless `with_layer` is false: the last session's was restored), its view fields, its lesson and
// step, then the fields a lesson step also sets, which win over the step (`grad_init_given`: the
// spec names grad-init itself), and the stepper. A lesson file that does not parse is reported in
// state.error and the app opens without it; anything else wrong throws NormError naming the field.
void openSpec(AppState& state, const ViewSpec& spec, bool with_layer, bool grad_init_given);

// Whether the layer on screen is still the open capture's layer as captured (nothing edited since):
// then links and Copy command name the capture and the layer.
bool showsCapturedLayer(const AppState& state);

// The spec that reproduces the state's layer (its data: the generator and seed, or the file).
LayerOptions layerOf(const AppState& state);

// The spec that reproduces what is on screen. With a lesson open: the lesson, its step and the
// look (theme, colour map, text size), since the step sets the rest.
ViewSpec specOf(const AppState& state);

}  // namespace normviz
