// The line scripts/test counts: how many kernel runs the emulated device executed in this test
// binary. Printed by each kernel suite's last test case (doctest runs cases in file order).
#pragma once

#include <cstdio>

#include "normviz/gpu_emulated.hpp"

inline long long printEmulatedRuns() {
  const normviz::emu::Counters n = normviz::emu::counters();
  std::printf("emulated device: %lld kernel runs executed (%lld blocks, %lld threads)\n",
              static_cast<long long>(n.launches), static_cast<long long>(n.blocks),
              static_cast<long long>(n.threads));
  return static_cast<long long>(n.launches);
}
