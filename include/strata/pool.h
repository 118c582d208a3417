// The stratified instance pool.
//
// Pool keeps each registered module in one of the physical tiers of
// policy.h and serves Acquire() from the most prepared state that exists:
// a hot instance (pop), the warm InstancePre (instantiate), cold code
// (link, or deserialize from disk, then instantiate), or the bytes
// (compile first). A maintainer thread applies the policy every interval and
// on events; a refill thread instantiates hot instances and a loader thread
// loads code, off the request path.
//
// Capacity has one owner, the pool's memory ledger: every live instance
// takes a slot of `max_instances`, and every instance and every compiled
// module in memory is charged its measured bytes against `budget_bytes`.
// The budget is hard: a request that does not fit first evicts the least
// valuable idle holdings, then waits in one FIFO line until its deadline,
// then fails with kMemoryLimit (or kPoolExhausted for slots).
//
// Thread contract: thread-safe. A Lease is used by one thread at a time; it
// may outlive the Pool (it is then dropped when returned), not the Engine.
// Listeners are called outside the pool's locks and may call back into it.
//
// Example:
//   auto pool = strata::Pool::Create(engine.get(), {}).value();
//   if (auto s = pool->AddModule("extractor", bytes, {}); !s.ok()) ...;
//   auto lease = pool->Acquire("extractor", 100ms);
//   if (lease.ok()) auto json = lease->Call("extract", input);
#ifndef STRATA_POOL_H_
#define STRATA_POOL_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "strata/clock.h"
#include "strata/engine.h"
#include "strata/histogram.h"
#include "strata/instance.h"
#include "strata/module_cache.h"
#include "strata/policy.h"
#include "strata/status.h"

namespace strata {

class Pool;
struct HotInstance;
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
  size_t max_input_bytes = 64 << 20;   // per Call; over it: kInvalidArgument
  size_t max_output_bytes = 64 << 20;  // per Call; over it: kOutputTooLarge
  uint32_t max_concurrent = 0;  // leased at once; 0: the pool's cap
  uint32_t min_hot = 0;         // hot instances kept whatever the policy
  // WASI grants for every RunCommand of a command module, merged before
  // each call's own (strata/wasi.h). Reactors get none: their WASI context
  // is fixed when the instance is made, before any call.
  WasiCapabilities wasi;
  // Pre-initialise (strata/snapshot.h): run start-up once at registration
  // and hold the snapshot in every tier, so no instance runs start-up
  // again. The value names the init function; empty picks
  // `wizer.initialize`, else a reactor's `_initialize`. Start-up gets the
  // module's own WASI grants, read-only. Snapshots are cached on disk next
  // to compiled code. A module that cannot be snapshotted is registered
  // without one: the kSnapshotFailed event and ModuleMetrics say why.
  std::optional<std::string> snapshot;
};

struct PoolOptions {
  // What instances and code in memory may hold, measured; never exceeded.
  uint64_t budget_bytes = uint64_t{512} << 20;
  double pressure_threshold = 0.8;  // of the budget: the policy plans below
  // Live instances (hot, leased, being made), pool-wide; at most the
  // engine's pool slots.
  uint32_t max_instances = 64;
  std::string policy = "strata";  // or pass a Policy to Create()
  std::chrono::milliseconds maintain_interval{5000};
  // A module idle this long keeps no hot instances (10 minutes: the fixed
  // keep-alive serverless platforms use); this long, no warm code. Under
  // pressure the budget evicts sooner, by value per byte.
  std::chrono::seconds idle_timeout{600};
  std::chrono::seconds warm_keep_alive{1800};
  std::chrono::seconds rate_half_life{30};
  // Cold-on-disk: `cache` if set (pools may share one), else a cache in
  // `cache_dir`, else a private temporary directory.
  std::shared_ptr<ModuleCache> cache;
  std::filesystem::path cache_dir;
  bool background = true;  // maintainer, refill, loader and reaper threads
  // With background threads, whether the maintainer is one of them; without
  // it, the host runs passes (RunMaintenance, RunRequestedMaintenance), as
  // a simulation that charges their cost to its own timeline does.
  bool maintainer_thread = true;
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
  kMaintenanceFailed,  // a maintenance pass threw; detail says what
  kSnapshotFailed,     // registered without its snapshot; detail says why
};
const char* EventKindName(EventKind kind);

struct Event {
  EventKind kind;
  std::string module;  // empty for pool-wide events
  std::string detail;
};

// Receives events synchronously on the thread that caused them, after the
// pool has released its locks: it may call back into the pool (Metrics(),
// even Shutdown()). An exception it throws is caught and counted
// (PoolMetrics::listener_errors), never fatal.
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
  // Measured: resident pages of the hot instances' linear memories, and of
  // the compiled image the module holds in memory.
  uint64_t hot_resident_bytes = 0, code_bytes = 0;
  // The ledger's account: every byte and slot charged to the module (hot
  // and leased instances, code, reservations in flight).
  uint64_t held_bytes = 0;
  uint32_t held_slots = 0;
  // The charges of what its tiers hold now (hot instances and code in
  // memory): equal to held_bytes whenever no lease is out and nothing is
  // being built. A difference would be a leak in the accounting.
  uint64_t holdings_bytes = 0;
  // Latest measured instance, and the allowance each lease is charged for
  // what a call dirties (the largest growth measured, decaying).
  uint64_t instance_bytes = 0, call_growth_bytes = 0;
  double instantiate_ms = 0, load_ms = 0, compile_ms = 0;
  // The pre-initialisation snapshot its tiers hold (ModuleOptions::snapshot):
  // its size as a module, the function that ran, and how long building it
  // took (0 when it came from the disk cache); or why there is none.
  uint64_t snapshot_bytes = 0;
  std::string snapshot_init;
  double snapshot_build_ms = 0;
  std::string snapshot_error;
};

// The memory ledger's state (see the class comment of Pool).
struct LedgerMetrics {
  uint64_t budget_bytes = 0, held_bytes = 0, peak_bytes = 0;
  uint32_t max_slots = 0, slots = 0, peak_slots = 0;
  uint32_t waiting = 0;           // in the line now
  uint64_t waits = 0;             // reservations that had to wait
  uint64_t wait_timeouts = 0;     // of which failed at their deadline
  uint64_t reclaims = 0;          // idle holdings freed to admit a request
  uint64_t violations = 0;        // times a limit would have been passed: 0
  // Of held_bytes, estimated rather than measured: each live instance's
  // store, instance record and tables (kInstanceOverheadEstimate).
  uint64_t estimated_bytes = 0;
};

struct PoolMetrics {
  std::vector<ModuleMetrics> modules;
  uint64_t served[kServedFromCount] = {};
  // Pool-wide, since creation (modules removed since included): acquires
  // served, by tier in served[]; acquires that returned an error; and of
  // those, the ones that found no capacity (kPoolExhausted, kMemoryLimit).
  uint64_t acquires = 0, acquire_errors = 0, exhausted = 0;
  // Acquires waiting now, in the ledger's line or a module's own cap line.
  uint32_t acquires_waiting = 0;
  uint64_t promotions = 0, demotions = 0, evictions = 0;
  uint64_t budget_bytes = 0, used_bytes = 0, process_rss_bytes = 0;
  uint64_t bytes_by_tier[kTierCount] = {};
  uint32_t instances_by_tier[kTierCount] = {};  // hot instances, modules
  uint64_t maintainer_runs = 0, maintainer_errors = 0;
  double maintainer_cpu_s = 0;
  uint64_t listener_errors = 0;
  LedgerMetrics ledger;
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

  // kInvalidArgument on a lease that was moved from. `timeout`, if set,
  // shortens this call's deadline below the module's call_timeout (a longer
  // one is capped at it).
  Result<Bytes> Call(std::string_view export_name,
                     std::span<const uint8_t> input,
                     std::chrono::milliseconds timeout = {});
  // As Call: request.timeout, if set, shortens the module's call_timeout.
  Result<CommandOutput> RunCommand(CommandRequest request);
  // A wasi:http proxy component serves `request`; its timeout as for Call,
  // and a response body over the module's max_output_bytes is an error.
  Result<HttpResponse> HandleHttp(HttpRequest request);
  // False once moved from; instance() must not be called then.
  bool valid() const { return held_ != nullptr; }
  Instance& instance();
  ServedFrom served_from() const { return served_from_; }

 private:
  friend class Pool;
  Lease(std::shared_ptr<PoolState> state, std::shared_ptr<ModuleEntry> entry,
        std::unique_ptr<HotInstance> held, ServedFrom from);
  void Release();

  std::shared_ptr<PoolState> state_;
  std::shared_ptr<ModuleEntry> entry_;
  std::unique_ptr<HotInstance> held_;  // the instance and its ledger charge
  ServedFrom served_from_ = ServedFrom::kHot;
};

class Pool {
 public:
  // The policy named by options.policy.
  static Result<std::unique_ptr<Pool>> Create(Engine* engine,
                                              PoolOptions options);
  // A policy of the caller's (options.policy is ignored); the pool owns it
  // and calls it from its maintainer only.
  static Result<std::unique_ptr<Pool>> Create(Engine* engine,
                                              PoolOptions options,
                                              std::unique_ptr<Policy> policy);
  // Shutdown(), then joins the background threads. Listeners run on those
  // threads, so a listener may call Shutdown() but must not destroy the
  // pool: the destructor would wait for the thread it runs on.
  ~Pool();

  // Wakes every waiting Acquire with kShutdown and stops the background
  // threads; acquires already past their wait finish normally. Leases still
  // out stay usable and are dropped when returned. Idempotent, and safe to
  // call from a listener.
  void Shutdown();

  Status AddModule(const std::string& name, Bytes bytes,
                   const ModuleOptions& options);
  // As above, with `compiled` already compiled from `bytes` by this pool's
  // engine (so registering does not compile again).
  Status AddModule(const std::string& name, Bytes bytes,
                   std::shared_ptr<const Module> compiled,
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
  // Runs a pass if an event asked for one since the last pass (what the
  // maintainer thread would do); true if it ran.
  bool RunRequestedMaintenance();
  // Blocks until the refill and loader threads have nothing queued (tests,
  // benchmarks).
  void WaitForRefills();
  // Moves a module to `tier` now, up or down (tests, operators); the policy
  // may move it again at its next pass. Hot keeps max(min_hot, 1) instances.
  Status MoveTo(const std::string& name, Tier tier);

  PoolMetrics Metrics() const;
  // The ledger alone: cheap enough to read on every request.
  LedgerMetrics LedgerNow() const;
  void AddListener(std::shared_ptr<EventListener> listener);
  const Policy& policy() const;
  Engine& engine() { return *engine_; }

 private:
  Pool(Engine* engine, PoolOptions options, std::unique_ptr<Policy> policy);
  // Moves `state` into the lease it returns, and only then.
  static Result<Lease> AcquireFrom(std::shared_ptr<PoolState>& state,
                                   const std::string& name,
                                   std::chrono::milliseconds timeout);

  Engine* engine_;
  std::shared_ptr<PoolState> state_;  // shared with leases
};

// Per live instance, the bytes the ledger charges for what is not measured:
// the Store, the instance record and its tables (LedgerMetrics::
// estimated_bytes reports the sum).
inline constexpr uint64_t kInstanceOverheadEstimate = 16 * 1024;

}  // namespace strata

#endif  // STRATA_POOL_H_
