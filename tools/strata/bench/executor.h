// The ways `strata bench` can hold instances between requests, all on the
// same engine and guests:
//   none         compile + instantiate per call (what naive code does)
//   instantiate  InstancePre + pooling allocator, a fresh instance per call
//                (wasmtime's own best practice)
//   fifo         a fixed-size FIFO queue of ready instances per module, no
//                tiers; the budget is split evenly across modules
//   riptide      the Pool with the seed's stratified rules
//   strata       the Pool with the default policy
// Every executor serves a request the same way: a fresh instance per call,
// so only the holding strategy differs.
//
// Thread contract: Serve() and Memory() are thread-safe; Register() and
// Maintain() are called from the driver thread only.
#ifndef STRATA_TOOLS_BENCH_EXECUTOR_H_
#define STRATA_TOOLS_BENCH_EXECUTOR_H_

#include <memory>
#include <string>
#include <vector>

#include "bench/workload.h"

namespace strata::bench {

inline constexpr const char* kPolicyNames[] = {"none", "instantiate", "fifo",
                                               "riptide", "strata"};

struct ExecutorOptions {
  uint64_t budget_bytes = uint64_t{512} << 20;
  uint32_t max_instances = 256;
  // Virtual time: the pool's clock (advanced by the driver) and no
  // interval-driven maintenance; the driver calls Maintain() each virtual
  // interval. Event-driven passes (a cold serve, a rate jump, pressure)
  // still run on the pool's maintainer thread, as they would in service.
  std::shared_ptr<ManualClock> virtual_clock;
  std::chrono::milliseconds maintain_interval{1000};
};

struct Served {
  ServedFrom from = ServedFrom::kWarm;
  std::chrono::nanoseconds acquire{0};
};

// Measured memory the executor holds now.
struct MemorySample {
  uint64_t held_bytes = 0;  // instances (hot and in use) + code in memory
  uint64_t idle_bytes = 0;  // of which held by idle instances
  uint64_t process_rss_bytes = 0;
};

// Pool-only figures (zero for the baselines).
struct PoolFigures {
  uint64_t promotions = 0, demotions = 0, evictions = 0;
  uint64_t maintainer_runs = 0;
  double maintainer_cpu_s = 0;
};

class Executor {
 public:
  virtual ~Executor() = default;
  virtual const std::string& name() const = 0;
  virtual Status Register(const WorkloadModule& module) = 0;
  // Gets an instance of module `index`, calls its export on `input`, drops
  // or returns the instance.
  virtual Result<Served> Serve(uint32_t index,
                               std::span<const uint8_t> input) = 0;
  // One maintenance pass (virtual time) and the background work it starts.
  virtual void Maintain() {}
  // Waits for background work in flight (virtual time, end of a run).
  virtual void Settle() {}
  virtual MemorySample Memory() const = 0;
  virtual PoolFigures Figures() const { return {}; }
};

// A budget: "25%" of `working_set`, or bytes with an optional K/M/G (or
// KiB/MiB/GiB) suffix; kInvalidArgument names the text otherwise.
Result<uint64_t> ParseBudget(const std::string& text, uint64_t working_set);

// Bytes to hold every module hot once: one initialised instance (resident
// pages, measured) plus its compiled code, summed over the modules.
Result<uint64_t> MeasureWorkingSet(Engine& engine, const Workload& workload);

// `policy` is one of kPolicyNames.
Result<std::unique_ptr<Executor>> MakeExecutor(const std::string& policy,
                                               Engine& engine,
                                               const ExecutorOptions& options);

}  // namespace strata::bench

#endif  // STRATA_TOOLS_BENCH_EXECUTOR_H_
