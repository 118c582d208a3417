// The ways `strata bench` can hold instances between requests, all on the
// same engine and guests, every request served from a fresh instance (only
// what is held between requests differs):
//   none         compile + instantiate per call (what naive code does)
//   instantiate  an InstancePre of every module, a fresh instance per call:
//                wasmtime's own advice; it keeps every module's code and
//                has no budget
//   fifo, keepalive[:TTL], gdsf, histogram
//                the keep-alive baselines (bench/baselines) on the Pool
//   riptide      the Pool with the seed's rules
//   strata       the Pool with the default policy
// The pool-based ones share the pool's engine use, tiers, memory ledger,
// budget, refills and measurements; they differ only in their policy.
//
// Thread contract: Serve(), Held() and Memory() are thread-safe;
// Register() and Settle() are called from the driver thread only.
#ifndef STRATA_BENCH_REPLAY_EXECUTOR_H_
#define STRATA_BENCH_REPLAY_EXECUTOR_H_

#include <memory>
#include <string>
#include <vector>

#include "replay/workload.h"

namespace strata::bench {

inline constexpr const char* kPolicyNames[] = {
    "none", "instantiate", "fifo", "keepalive", "gdsf", "histogram",
    "riptide", "strata"};

struct ExecutorOptions {
  uint64_t budget_bytes = uint64_t{512} << 20;
  uint32_t max_instances = 256;
  // The pool's clock: trace time (a ScaledClock) for a replay at a
  // speed-up, a ManualClock in virtual time, else the steady clock.
  std::shared_ptr<Clock> clock;
  std::chrono::milliseconds maintain_interval{1000};  // on that clock
  // Virtual time: the replay runs the pool's maintenance passes itself
  // (FinishBackground, Maintain) so it can charge their cost.
  bool host_maintenance = false;
  // The pool's modules: a fresh instance per call (the default), or
  // instances reused across calls, as a FaaS platform reuses a warm
  // container. `instantiate` and `none` make one per call either way.
  ReuseMode reuse = ReuseMode::kFresh;
  // The cold tier's directory, if shared (the nodes of a simulated cluster
  // share one, as nodes on one host share a directory); else the pool's own.
  std::shared_ptr<ModuleCache> cache;
};

struct Served {
  ServedFrom from = ServedFrom::kWarm;
  std::chrono::nanoseconds acquire{0};
};

// What the executor holds now, measured (pool: its ledger).
struct MemorySample {
  uint64_t held_bytes = 0;  // instances (idle and in use) + code in memory
  uint64_t idle_bytes = 0;  // of which held while serving nothing
  uint64_t process_rss_bytes = 0;
};

// Pool-only figures (zero for the others).
struct PoolFigures {
  uint64_t promotions = 0, demotions = 0, evictions = 0;
  uint64_t maintainer_runs = 0;
  double maintainer_cpu_s = 0;
  uint64_t peak_held_bytes = 0;  // the ledger's, over every tier change
  uint64_t ledger_violations = 0;
  // The pool's own count of acquires served, and the same read back from
  // its Prometheus exposition.
  uint64_t acquires = 0, exposed_acquires = 0;
  uint64_t instantiations_background = 0, instantiations_foreground = 0;
  // Most hot instances, and most modules warm, seen at the memory samples.
  uint32_t peak_hot_instances = 0, peak_warm_modules = 0;
  // Each module's share, to see where a policy's cold starts come from.
  std::vector<ModuleMetrics> modules;
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual const std::string& name() const = 0;
  // Whether it holds to the budget (the pool does; none and instantiate
  // have none).
  virtual bool budgeted() const { return false; }
  // `compiled` was compiled from module.bytes by the same engine.
  virtual Status Register(const WorkloadModule& module,
                          std::shared_ptr<const Module> compiled) = 0;
  // Gets an instance of module `index`, calls its export on `input` (a
  // command: runs _start with `input` as stdin), drops or returns it.
  virtual Result<Served> Serve(uint32_t index, std::span<const uint8_t> input) = 0;
  // Waits for background work in flight (before a run).
  virtual void Settle() {}
  // Virtual time: lets the background work the last request started finish
  // (a maintenance pass it asked for, refills, loads, drops).
  virtual void FinishBackground() {}
  // Virtual time: one interval's maintenance pass, and what it starts.
  virtual void Maintain() {}
  // Bytes held now; cheap enough to read at every arrival.
  virtual uint64_t Held() const = 0;
  virtual MemorySample Memory() const = 0;
  virtual PoolFigures Figures() const { return {}; }
};

// A budget: "25%" of `working_set`, or bytes with an optional K/M/G (or
// KiB/MiB/GiB) suffix; kInvalidArgument names the text otherwise.
Result<uint64_t> ParseBudget(const std::string& text, uint64_t working_set);

// Every module of the workload compiled once, for every executor to
// register (compiling is not what the executors are compared on).
Result<std::vector<std::shared_ptr<const Module>>> CompileWorkload(
    Engine& engine, const Workload& workload);

// Bytes to hold every module hot once: one initialised instance (resident
// pages, measured) plus its code (the resident image), summed.
Result<uint64_t> MeasureWorkingSet(
    Engine& engine, const Workload& workload,
    const std::vector<std::shared_ptr<const Module>>& compiled);

// The median latency of an acquire served hot, measured the way the
// executors measure acquires, on `module` in a pool of its own with the
// replays' reuse mode: the reference of the cold-start cost
// (bench/replay/replay.h).
Result<std::chrono::nanoseconds> MeasureHotAcquireP50(
    Engine& engine, const WorkloadModule& module,
    std::shared_ptr<const Module> compiled, ReuseMode reuse);

// `policy` is one of kPolicyNames, or keepalive:TTL.
Result<std::unique_ptr<Executor>> MakeExecutor(const std::string& policy,
                                               Engine& engine,
                                               const ExecutorOptions& options);

}  // namespace strata::bench

#endif  // STRATA_BENCH_REPLAY_EXECUTOR_H_
