// The Azure Functions 2019 trace samples (data/traces/azure-functions-2019)
// and their mapping onto synth modules. Each function becomes a distinct
// synth module whose costs are scaled from the trace:
//   call work   = Average duration / 1000   (1 s of trace -> 1 ms here)
//   start-up    = (Maximum - Average) / 4000 (the FaasCache cold cost)
//   memory      = AverageAllocatedMb / 256 dirtied at start-up
// with the clamps of kAzureMapping. Arrivals spread each minute's count
// uniformly at random (seeded) within the minute.
#ifndef STRATA_TOOLS_BENCH_AZURE_TRACE_H_
#define STRATA_TOOLS_BENCH_AZURE_TRACE_H_

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "bench/workload.h"

namespace strata::bench {

inline constexpr const char* kAzureMapping =
    "call = avg/1000 in [1 us, 2 ms], start-up = (max-avg)/4000 up to 5 ms, "
    "memory = MB/256 in [64 KiB, 4 MiB]";

struct AzureFunction {
  std::string hash;
  double average_ms = 0, maximum_ms = 0, memory_mb = 0;
  std::vector<uint32_t> per_minute;  // invocations in each trace minute
};

struct AzureTrace {
  std::vector<AzureFunction> functions;
  uint32_t minutes = 0;
};

// Reads invocations.csv, durations.csv and memory.csv from `dir`, joined on
// HashFunction; a function missing from durations or memory is an error.
Result<AzureTrace> LoadAzureTrace(const std::filesystem::path& dir);

SynthParams SynthFor(const AzureFunction& f);

// Arrivals over the first `duration_s` seconds of trace time; arrival
// modules index trace.functions.
std::vector<Arrival> AzureArrivals(const AzureTrace& trace, double duration_s,
                                   std::mt19937_64& rng);

}  // namespace strata::bench

#endif  // STRATA_TOOLS_BENCH_AZURE_TRACE_H_
