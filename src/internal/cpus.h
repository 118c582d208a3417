// How many CPUs this process may run on.
#ifndef STRATA_INTERNAL_CPUS_H_
#define STRATA_INTERNAL_CPUS_H_

#include <cstdint>

namespace strata::internal {

// The CPUs in the calling thread's affinity mask (taskset, a container's
// cpuset), at least 1; std::thread::hardware_concurrency() where the mask
// cannot be read. hardware_concurrency() alone counts every online CPU, so
// a server pinned to one core would start a thread per core of the machine
// and time-slice them on the one it has.
uint32_t UsableCpus();

}  // namespace strata::internal

#endif  // STRATA_INTERNAL_CPUS_H_
