// Variants of the bundled `synth` guest: one build of guests/synth/synth.c,
// with its parameter block patched, yields any number of distinct modules
// (different bytes, so different hashes and cache entries) whose
// initialisation and per-call costs are chosen by benchmarks and tests.
#ifndef STRATA_SYNTH_H_
#define STRATA_SYNTH_H_

#include <cstdint>
#include <span>

#include "strata/status.h"

namespace strata {

struct SynthParams {
  uint32_t variant = 0;         // only makes the bytes distinct
  uint32_t init_pages = 1;      // 64 KiB pages dirtied by _initialize
  uint64_t init_cpu_iters = 0;  // ~1 ns hash rounds in _initialize
  uint32_t call_iters = 1000;   // hash rounds per `run`
  uint32_t call_touch_bytes = 4096;  // bytes written per `run`
};

// Copies `synth_wasm` with its parameter block set to `params`; kInvalidArgument
// if the bytes hold no (or more than one) parameter block.
Result<Bytes> MakeSynthVariant(std::span<const uint8_t> synth_wasm,
                               const SynthParams& params);

}  // namespace strata

#endif  // STRATA_SYNTH_H_
