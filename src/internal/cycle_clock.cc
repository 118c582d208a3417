#include "internal/cycle_clock.h"

namespace strata::internal {

double CycleClock::NanosPerTick() {
#if defined(__x86_64__)
  static const double rate = [] {
    using Steady = std::chrono::steady_clock;
    auto t0 = Steady::now();
    uint64_t c0 = __rdtsc();
    while (Steady::now() - t0 < std::chrono::milliseconds(1)) {
    }
    auto t1 = Steady::now();
    uint64_t c1 = __rdtsc();
    double ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
    return c1 > c0 ? ns / static_cast<double>(c1 - c0) : 1.0;
  }();
  return rate;
#else
  return 1.0;  // Now() is steady_clock nanoseconds
#endif
}

}  // namespace strata::internal
