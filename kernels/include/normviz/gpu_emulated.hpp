// The emulated device's own facts, beyond normviz/gpu.hpp: how much it ran, and the partial every
// thread of a recipe kernel held at each stage of its reduction (to check the trace emulator
// against the executed kernel stage by stage).
#pragma once

#include <cstdint>
#include <vector>

namespace normviz::emu {

struct Counters {
  int64_t launches = 0, blocks = 0, threads = 0;  // since the program started
};
Counters counters();

// One thread's partial at one stage (reduce_recipe.hpp's RecipeStage and its offset): a float
// (count 1), NaiveState (2: sum, sum of squares) or WelfordState (3: count, mean, M2).
struct ProbedPartial {
  uint32_t block = 0, thread = 0;
  int stage = 0, offset = 0, count = 0;
  float words[3] = {0, 0, 0};
};

// Between these, every recipe probe of every emulated launch is recorded, in each thread's order.
void beginCapture();
std::vector<ProbedPartial> endCapture();

}  // namespace normviz::emu
