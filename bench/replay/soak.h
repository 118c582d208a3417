// The soak: many modules and several threads for a long time, modules
// added and removed while it runs, misbehaving guests mixed in, and a load
// at and over the memory budget. It passes when every request got a result
// or a clear error, the ledger balances at the end, the process's RSS came
// back to where it started, and the pool's counters equal what was sent.
#ifndef STRATA_BENCH_REPLAY_SOAK_H_
#define STRATA_BENCH_REPLAY_SOAK_H_

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "strata/strata.h"

namespace strata::bench {

struct SoakOptions {
  double duration_s = 600;
  int threads = 4;
  uint64_t budget_bytes = uint64_t{16} << 20;
  uint32_t max_instances = 32;
  uint64_t seed = 42;
  std::filesystem::path guest_dir;  // extractor.wasm, synth.wasm, fixtures
  std::filesystem::path pages_dir;  // NAME/source.html
  double progress_every_s = 10;     // 0: no progress lines
};

// One check of the pass condition, with what was measured.
struct SoakCheck {
  std::string name;
  bool passed = false;
  std::string detail;
};

struct SoakReport {
  double wall_s = 0;
  uint64_t requests = 0;  // acquires attempted
  uint64_t served = 0;    // acquires that returned a lease
  // Outcomes by name: "ok", or the error code of the acquire or the call
  // ("trap", "deadline_exceeded", ...), and "unexpected: ..." for any
  // outcome the request's kind does not allow.
  std::map<std::string, uint64_t> outcomes;
  uint64_t modules_added = 0, modules_removed = 0;
  uint64_t misbehaving_calls = 0;
  // Measured in the same state at both ends (see RunSoak): the process's
  // RSS, and the bytes malloc holds for live allocations.
  uint64_t rss_start_bytes = 0, rss_end_bytes = 0;
  uint64_t heap_start_bytes = 0, heap_end_bytes = 0;
  PoolMetrics final_metrics;  // after the drain
  uint64_t peak_held_bytes = 0;
  std::vector<SoakCheck> checks;
  bool passed() const;
  std::string ToText() const;
  std::string ToJson() const;
};

// Runs the soak on `engine` (which it does not otherwise use); `progress`
// receives a line every progress_every_s.
Result<SoakReport> RunSoak(Engine& engine, const SoakOptions& options,
                           const std::function<void(const std::string&)>& progress);

}  // namespace strata::bench

#endif  // STRATA_BENCH_REPLAY_SOAK_H_
