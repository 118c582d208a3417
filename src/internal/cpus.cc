#include "internal/cpus.h"

#include <sched.h>

#include <algorithm>
#include <thread>

namespace strata::internal {

uint32_t UsableCpus() {
#if defined(__linux__)
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof(mask), &mask) == 0) {
    return std::max(1, CPU_COUNT(&mask));
  }
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace strata::internal
