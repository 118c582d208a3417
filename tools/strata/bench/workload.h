// Workloads for `strata bench`: a set of real guest modules and a seeded
// schedule of arrivals. Every policy replays the same Workload object, so
// their numbers differ only by how they hold instances.
#ifndef STRATA_TOOLS_BENCH_WORKLOAD_H_
#define STRATA_TOOLS_BENCH_WORKLOAD_H_

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "strata/strata.h"

namespace strata::bench {

struct WorkloadModule {
  std::string name;
  Bytes bytes;
  std::string export_name = "run";
  std::vector<Bytes> inputs;  // an arrival names one of these
};

struct Arrival {
  std::chrono::nanoseconds at{0};  // since the start of the replay
  uint32_t module = 0;
  uint32_t input = 0;
};

struct Workload {
  std::string name;
  std::string description;  // one line, for reports
  std::vector<WorkloadModule> modules;
  std::vector<Arrival> arrivals;  // sorted by `at`
  std::chrono::nanoseconds length{0};
};

struct WorkloadParams {
  double rate = 200;       // arrivals per second (synthetic workloads)
  double duration_s = 10;  // of arrivals; for azure, seconds of trace time
  uint32_t modules = 0;    // 0: the workload's default
  uint64_t seed = 42;
  std::filesystem::path pages_dir;   // NAME/source.html pages
  std::filesystem::path traces_dir;  // azure-functions-2019/
  std::filesystem::path guest_dir;   // extractor.wasm, synth.wasm
};

// The names MakeWorkload accepts, for --help.
inline constexpr const char* kWorkloadNames =
    "hot-biased, uniform, cold-start, zipf:S, burst, heavy-init, azure:100, "
    "azure:500";

// Builds workload `spec` (one of kWorkloadNames); kInvalidArgument names a
// bad spec, kNotFound a missing guest, page or trace file.
Result<Workload> MakeWorkload(const std::string& spec,
                              const WorkloadParams& params);

}  // namespace strata::bench

#endif  // STRATA_TOOLS_BENCH_WORKLOAD_H_
