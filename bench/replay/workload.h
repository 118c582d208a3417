// Workloads for `strata bench`: a set of real guest modules and a seeded
// schedule of arrivals. Every policy replays the same Workload object, so
// their numbers differ only by how they hold instances.
#ifndef STRATA_BENCH_REPLAY_WORKLOAD_H_
#define STRATA_BENCH_REPLAY_WORKLOAD_H_

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

// A module of the user's to replay a workload over (`--module
// FILE.wasm[:EXPORT]`): a reactor's export, or a command's _start.
struct UserModule {
  std::filesystem::path path;
  std::string export_name;  // empty: "run" for a reactor, _start for a command
};

struct WorkloadParams {
  double rate = 200;       // arrivals per second (synthetic workloads)
  double duration_s = 10;  // of arrivals; for traces, seconds of trace time
  uint32_t modules = 0;    // 0: the workload's default
  uint64_t seed = 42;
  std::filesystem::path pages_dir;   // NAME/source.html pages
  std::filesystem::path traces_dir;  // azure-functions-2019/
  std::filesystem::path guest_dir;   // extractor.wasm, synth.wasm, ...
  // If set, the workload's modules are these instead of synth ones: the
  // workload's i-th module is user module i mod n (a registration of its
  // own), called on `user_input`.
  std::vector<UserModule> user_modules;
  Bytes user_input;
};

// The names MakeWorkload accepts, for --help.
inline constexpr const char* kWorkloadNames =
    "hot-biased, uniform, cold-start, zipf:S, burst, heavy-init, readability, "
    "azure:100, azure:500, trace:PATH";

// Builds workload `spec` (one of kWorkloadNames); kInvalidArgument names a
// bad spec or trace row, kNotFound a missing guest, page or trace file.
Result<Workload> MakeWorkload(const std::string& spec,
                              const WorkloadParams& params);

}  // namespace strata::bench

#endif  // STRATA_BENCH_REPLAY_WORKLOAD_H_
