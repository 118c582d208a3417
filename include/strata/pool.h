// The stratified instance pool.
//
// Pool keeps each registered module in one of the physical tiers of
// policy.h and serves Acquire() from the most prepared state that exists:
// a hot instance (pop), the warm InstancePre (instantiate), cold code
// (link, or deserialize from disk, then instantiate), or the bytes
// (compile first). A maintainer thread applies the policy every interval and
// on events; a refill thread instantiates hot instances off the request
// path. Memory is measured (page tables of each instance's linear memory,
// sizes of compiled code) and kept under a budget.
//
// Thread contract: thread-safe. A Lease is used by one thread at a time; it
// may outlive the Pool (it is then dropped when returned), not the Engine.
//
// Example:
//   auto pool = strata::Pool::Create(engine.get(), {}).value();
//   pool->AddModule("extractor", bytes, {}).IgnoreError();
//   auto lease = pool->Acquire("extractor", 100ms).value();
//   auto json = lease.Call("extract", input);
#ifndef STRATA_POOL_H_
#define STRATA_POOL_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "strata/clock.h"
#include "strata/engine.h"
#include "strata/histogram.h"
#include "strata/instance.h"
#include "strata/policy.h"
#include "strata/status.h"

namespace strata {

class Pool;
struct ModuleEntry;
struct PoolState;

enum class ReuseMode {
  kFresh,  // one call per instance: no state survives a call (default)
  kReuse,  // the instance returns to hot after a call (trusted modules)
};

struct ModuleOptions {
  ReuseMode reuse = ReuseMode::kFresh;
  uint32_t max_uses = 1000;  // reuse: retire after this many calls
  std::chrono::seconds max_age{300};  // reuse: retire when older
  // reuse: retire when linear memory grew by more than this since creation.
  uint64_t max_growth_bytes = 16 << 20;
  InstanceLimits limits;               // memory limit, init export, ...
  std::chrono::milliseconds call_timeout{10000};
  uint32_t max_concurrent = 0;  // leased at once; 0: the pool's cap
  uint32_t min_hot = 0;         // hot instances kept whatever the policy
  // WASI grants for every RunCommand of a command module, merged before
  // each call's own (strata/wasi.h). Reactors get none: their WASI context
  // is fixed when the instance is made, before any call.
  WasiCapabilities wasi;
};

struct PoolOptions {
  uint64_t budget_bytes = uint64_t{512} << 20;
  double pressure_threshold = 0.8;  // of the budget
  // 0 disables the hard limit: a request that cannot be served within the
  // budget still runs (instantiate, call, drop).
  bool hard_budget = false;
  uint32_t max_instances = 64;  // leased + hot, pool-wide
  std::string policy = "strata";
  std::chrono::milliseconds maintain_interval{5000};
  std::chrono::seconds hot_keep_alive{120};
  std::chrono::seconds warm_keep_alive{600};
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds rate_half_life{30};
  std::filesystem::path cache_dir;  // cold-on-disk; empty: a temp dir
  bool background = true;  // maintainer + refill threads
  std::shared_ptr<Clock> clock;  // default: SteadyClock
};

enum class EventKind {
  kPressureHigh,
  kPressureNormal,
  kPromoted,
  kDemoted,
  kEvicted,
  kInstanceRetired,
  kLeakSuspected,
  kPoolExhausted,
};
const char* EventKindName(EventKind kind);

struct Event {
  EventKind kind;
  std::string module;  // empty for pool-wide events
  std::string detail;
};

// Receives events synchronously on the thread that caused them; must not
// call back into the pool.
class EventListener {
 public:
  virtual ~EventListener() = default;
  virtual void OnEvent(const Event& event) = 0;
};

// Which state served an acquire.
enum class ServedFrom { kHot, kWarm, kColdMemory, kColdDisk, kCompile };
inline constexpr int kServedFromCount = 5;
const char* ServedFromName(ServedFrom from);

struct ModuleMetrics {
  std::string name;
  Tier tier = Tier::kAbsent;
  uint32_t hot = 0, in_use = 0, target_hot = 0;
  double rate_per_s = 0;
  uint64_t served[kServedFromCount] = {};
  uint64_t promotions = 0, demotions = 0, evictions = 0;
  uint64_t instantiations_foreground = 0, instantiations_background = 0;
  uint64_t traps = 0, timeouts = 0, retired = 0;
  uint64_t hot_resident_bytes = 0, code_bytes = 0;
  double instantiate_ms = 0, load_ms = 0, compile_ms = 0;
};

struct PoolMetrics {
  std::vector<ModuleMetrics> modules;
  uint64_t served[kServedFromCount] = {};
  uint64_t acquires = 0, exhausted = 0;
  uint32_t acquires_in_progress = 0;  // waiting for capacity or building
  uint64_t promotions = 0, demotions = 0, evictions = 0;
  uint64_t budget_bytes = 0, used_bytes = 0, process_rss_bytes = 0;
  uint64_t bytes_by_tier[kTierCount] = {};
  uint32_t instances_by_tier[kTierCount] = {};  // hot instances, modules
  uint64_t maintainer_runs = 0;
  double maintainer_cpu_s = 0;
  Histogram::Summary acquire, call;
  Histogram::Summary acquire_by_source[kServedFromCount];
  // Derived.
  double hit_rate(ServedFrom from) const;
  double pressure() const;

  std::string ToPrometheus() const;
  std::string ToJson() const;
};

// A borrowed instance. Moving transfers it; destruction gives it back to
// the pool (reuse) or drops it (fresh, or after a failure).
class Lease {
 public:
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;
  ~Lease();

  Result<Bytes> Call(std::string_view export_name,
                     std::span<const uint8_t> input);
  Result<CommandOutput> RunCommand(CommandRequest request);
  Instance& instance() { return *instance_; }
  ServedFrom served_from() const { return served_from_; }

 private:
  friend class Pool;
  Lease(std::shared_ptr<PoolState> state, std::shared_ptr<ModuleEntry> entry,
        std::unique_ptr<Instance> instance, ServedFrom from,
        std::chrono::nanoseconds created, uint64_t counted_bytes,
        uint64_t measured_calls);
  void Release();

  std::shared_ptr<PoolState> state_;
  std::shared_ptr<ModuleEntry> entry_;
  std::unique_ptr<Instance> instance_;
  ServedFrom served_from_ = ServedFrom::kHot;
  std::chrono::nanoseconds created_{0};
  uint64_t counted_bytes_ = 0;  // this instance's share of the pool's usage
  uint64_t measured_calls_ = 0;  // calls() when counted_bytes_ was measured
};

class Pool {
 public:
  static Result<std::unique_ptr<Pool>> Create(Engine* engine,
                                              PoolOptions options);
  ~Pool();  // Shutdown()

  // Wakes every waiting Acquire with kShutdown, waits for acquires in
  // progress to return, stops the background threads. Leases still out stay
  // usable and are dropped when returned. Idempotent.
  void Shutdown();

  Status AddModule(const std::string& name, Bytes bytes,
                   const ModuleOptions& options);
  Status AddModuleFile(const std::string& name,
                       const std::filesystem::path& path,
                       const ModuleOptions& options);
  // Stops new acquires of `name`, waits up to `drain` for its leases.
  Status RemoveModule(const std::string& name,
                      std::chrono::milliseconds drain);

  // An instance of `name`, waiting at most `timeout` for capacity.
  Result<Lease> Acquire(const std::string& name,
                        std::chrono::milliseconds timeout);

  // Applies the policy now (the maintainer does this every interval).
  void RunMaintenance();
  // Blocks until the refill thread has nothing queued (tests, benchmarks).
  void WaitForRefills();
  // Moves a module down to `tier` now (tests, operators).
  Status Demote(const std::string& name, Tier tier);

  PoolMetrics Metrics() const;
  void AddListener(std::shared_ptr<EventListener> listener);
  const Policy& policy() const;
  Engine& engine() { return *engine_; }

 private:
  Pool(Engine* engine, PoolOptions options, std::unique_ptr<Policy> policy);

  Engine* engine_;
  std::shared_ptr<PoolState> state_;  // shared with leases
};

}  // namespace strata

#endif  // STRATA_POOL_H_
