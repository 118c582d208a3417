// Cheap timestamps for measuring durations on the request path. A vDSO
// clock_gettime costs ~37 ns on our 2-core machines, the CPU's time-stamp
// counter ~15 ns; a hot acquire records two. On x86-64 (whose CPUs of the
// last fifteen years have an invariant TSC) this reads the TSC and converts
// with a rate calibrated once against steady_clock; elsewhere it is
// steady_clock. Only for durations: never compare it with a Clock.
#ifndef STRATA_INTERNAL_CYCLE_CLOCK_H_
#define STRATA_INTERNAL_CYCLE_CLOCK_H_

#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace strata::internal {

class CycleClock {
 public:
  static uint64_t Now() {
#if defined(__x86_64__)
    return __rdtsc();
#else
    return static_cast<uint64_t>(
        std::chrono::steady_clock::now().time_since_epoch().count());
#endif
  }
  // The duration between two Now() readings.
  static std::chrono::nanoseconds Between(uint64_t start, uint64_t end) {
    if (end <= start) return std::chrono::nanoseconds(0);
    return std::chrono::nanoseconds(
        static_cast<int64_t>(static_cast<double>(end - start) * NanosPerTick()));
  }
  // Calibrates on first use (about a millisecond); call early to keep that
  // off the request path.
  static double NanosPerTick();
};

}  // namespace strata::internal

#endif  // STRATA_INTERNAL_CYCLE_CLOCK_H_
