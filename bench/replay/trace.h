// Invocation traces a user can replay (`strata bench --workload
// trace:PATH`), and the bundled Azure samples (`azure:100`, `azure:500`)
// through the same loader. Two formats, told apart by their header:
//
//   Azure Functions 2019, per minute: HashOwner,HashApp,HashFunction,
//     Trigger, then one column per minute holding that minute's
//     invocations. Durations and memory come from the CSVs beside it when
//     present (the file's name with "invocations" replaced by "durations"
//     and "memory", or durations.csv / memory.csv in the same folder),
//     joined on HashFunction.
//   Azure Functions 2021, per invocation: app,func,end_timestamp,duration
//     (seconds); an invocation starts at end_timestamp - duration.
//
// A bad file or row is an error naming the file, the line and the column.
#ifndef STRATA_BENCH_REPLAY_TRACE_H_
#define STRATA_BENCH_REPLAY_TRACE_H_

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "replay/workload.h"

namespace strata::bench {

// How a function's trace figures become a synth module's costs:
//   call work  = average duration / 1000  (1 s of trace -> 1 ms here)
//   start-up   = (maximum - average) / 4000 (FaasCache's cold cost)
//   memory     = allocated MB / 256, dirtied at start-up
inline constexpr const char* kTraceMapping =
    "call = avg/4000 in [1 us, 2 ms], start-up = (max-avg)/4000 up to 5 ms, "
    "memory = MB/256 in [64 KiB, 4 MiB]";

struct TraceFunction {
  std::string name;  // HashFunction, or app/func
  double average_ms = 1, maximum_ms = 1, memory_mb = 16;
  bool has_durations = false, has_memory = false;
  std::vector<uint32_t> per_minute;  // 2019: invocations in each minute
  std::vector<double> starts_s;      // 2021: each invocation's start
};

struct Trace {
  std::filesystem::path path;
  std::string format;  // "azure-2019-per-minute" or "azure-2021-per-invocation"
  std::vector<TraceFunction> functions;
  double span_s = 0;  // from the first minute or invocation to the last
  uint64_t invocations = 0;
  // "azure-2019-per-minute trace 'invocations.csv': 100 functions, ..."
  std::string Describe() const;
};

Result<Trace> LoadTrace(const std::filesystem::path& path);

SynthParams SynthFor(const TraceFunction& f);

// Arrivals over the first `duration_s` seconds of the trace; per-minute
// counts are spread uniformly at random (seeded) within their minute.
// Arrival modules index trace.functions.
std::vector<Arrival> TraceArrivals(const Trace& trace, double duration_s,
                                   std::mt19937_64& rng);

}  // namespace strata::bench

#endif  // STRATA_BENCH_REPLAY_TRACE_H_
