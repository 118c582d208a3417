#include "strata/synth.h"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace strata {
namespace {

// The layout documented in guests/synth/synth.c.
constexpr std::string_view kMagic("STRATA-SYNTH-P1\0", 16);
constexpr size_t kVersion = 16, kVariant = 20, kInitPages = 24,
                 kInitCpuLo = 28, kInitCpuHi = 32, kCallIters = 36,
                 kCallTouch = 40, kBlockBytes = 44;

void PutU32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}

}  // namespace

Result<Bytes> MakeSynthVariant(std::span<const uint8_t> synth_wasm,
                               const SynthParams& params) {
  auto find = [&](auto from) {
    return std::search(from, synth_wasm.end(), kMagic.begin(), kMagic.end());
  };
  auto at = find(synth_wasm.begin());
  if (at == synth_wasm.end() ||
      static_cast<size_t>(synth_wasm.end() - at) < kBlockBytes ||
      find(at + 1) != synth_wasm.end()) {
    return Status(ErrorCode::kInvalidArgument,
                  "synth: expected exactly one parameter block in the "
                  "module's " + std::to_string(synth_wasm.size()) + " bytes");
  }
  Bytes out(synth_wasm.begin(), synth_wasm.end());
  uint8_t* block = out.data() + (at - synth_wasm.begin());
  if (block[kVersion] != 1) {
    return Status(ErrorCode::kInvalidArgument,
                  "synth: parameter block version " +
                      std::to_string(block[kVersion]) + ", expected 1");
  }
  PutU32(block + kVariant, params.variant);
  PutU32(block + kInitPages, params.init_pages);
  PutU32(block + kInitCpuLo, uint32_t(params.init_cpu_iters));
  PutU32(block + kInitCpuHi, uint32_t(params.init_cpu_iters >> 32));
  PutU32(block + kCallIters, params.call_iters);
  PutU32(block + kCallTouch, params.call_touch_bytes);
  return out;
}

}  // namespace strata
