// The pool's public operations: creating it, registering and removing
// modules, and serving Acquire from the most prepared tier there is.
#include "strata/pool.h"

#include <unistd.h>

#include "internal/cycle_clock.h"
#include "internal/sha256.h"
#include "pool/pool_internal.h"

namespace strata {
namespace {

Result<std::shared_ptr<ModuleEntry>> FindEntry(const PoolState& s,
                                               const std::string& name) {
  internal::ReaderLock lock(s.modules_mu);
  auto it = s.modules.find(name);
  if (it == s.modules.end()) {
    return Status(ErrorCode::kNotFound, "pool: no module '" + name + "'");
  }
  return it->second;
}

std::filesystem::path TempCacheDir() {
  static std::atomic<int> counter{0};
  return std::filesystem::temp_directory_path() /
         ("strata-pool-" + std::to_string(getpid()) + "-" +
          std::to_string(counter.fetch_add(1)));
}

std::shared_ptr<ModuleCache> CacheFor(Engine& engine,
                                      const PoolOptions& options) {
  if (options.cache) return options.cache;
  if (!options.cache_dir.empty()) {
    // A directory the caller names may be shared with other processes:
    // never prune it (pins are counted in this process only).
    return std::make_shared<ModuleCache>(engine, options.cache_dir);
  }
  return std::make_shared<ModuleCache>(
      engine, TempCacheDir(),
      ModuleCache::Options{.prune_unpinned = true,
                           .remove_dir_on_destroy = true});
}

// Waits, in the module's FIFO line, until the module is below its lease cap;
// then takes a lease (in_use). kPoolExhausted at the deadline.
Status TakeModuleLease(PoolState& s, ModuleEntry& e, MutexLock& lock,
                       Nanos deadline, std::chrono::milliseconds timeout)
    REQUIRES(e.mu) {
  auto stop = [&]() NO_THREAD_SAFETY_ANALYSIS {
    return s.shutdown.load() || e.removed;
  };
  if (!stop() && (!e.cap_line.empty() || e.in_use >= e.module_cap)) {
    int ticket = 0;  // its address identifies this waiter in the line
    e.cap_line.push_back(&ticket);
    e.cap_cv.WaitUntil(lock, *s.clock, deadline, [&]() NO_THREAD_SAFETY_ANALYSIS {
      return stop() ||
             (e.cap_line.front() == &ticket && e.in_use < e.module_cap);
    });
    bool head = e.cap_line.front() == &ticket;
    e.cap_line.erase(std::find(e.cap_line.begin(), e.cap_line.end(), &ticket));
    if (!stop() && !(head && e.in_use < e.module_cap)) {
      if (!e.cap_line.empty()) e.cap_cv.NotifyAll();  // the next may go
      return Status(ErrorCode::kPoolExhausted,
                    "module '" + e.name + "': no instance within " +
                        std::to_string(timeout.count()) + " ms (" +
                        std::to_string(e.in_use) + " in use, module limit " +
                        std::to_string(e.module_cap) + ")");
    }
  }
  if (s.shutdown.load()) {
    return Status(ErrorCode::kShutdown, "pool is shutting down");
  }
  if (e.removed) {
    return Status(ErrorCode::kNotFound, "module '" + e.name + "' was removed");
  }
  ++e.in_use;
  if (!e.cap_line.empty() && e.in_use < e.module_cap) e.cap_cv.NotifyAll();
  return OkStatus();
}

// Nothing hot: builds an instance from the most prepared tier there is
// (`from` says which), its code and then its slot and bytes admitted by the
// ledger, for a request that already holds a module lease (e.building
// counted); on failure the lease is given back.
Result<std::unique_ptr<HotInstance>> BuildLeasedInstance(PoolState& s,
                                                         ModuleEntry& e,
                                                         Nanos deadline,
                                                         ServedFrom* from) {
  Events events;
  memory::Charge instance_reserve;
  Admission admission{.background = false, .deadline = deadline,
                      .events = &events, .instance_reserve = &instance_reserve};
  auto prepared = EnsurePrepared(s, e, admission, from);
  Result<std::unique_ptr<HotInstance>> made =
      prepared.ok() ? MakeInstance(s, e, *prepared, admission)
                    : Result<std::unique_ptr<HotInstance>>(prepared.status());
  {
    MutexLock lock(e.mu);
    --e.building;
    if (made.ok()) {
      ++e.counters.served[int(*from)];
      (*made)->leased_gen = e.placement_gen;
    } else {
      e.ReleaseLease();
    }
  }
  if (!made.ok()) {
    ErrorCode code = made.status().code();
    if (code == ErrorCode::kPoolExhausted || code == ErrorCode::kMemoryLimit) {
      s.exhausted.fetch_add(1, std::memory_order_relaxed);
      events.push_back({EventKind::kPoolExhausted, e.name, made.status().message()});
    }
  }
  s.events.Publish(events);
  return made;
}

}  // namespace

const char* ServedFromName(ServedFrom from) {
  switch (from) {
    case ServedFrom::kHot: return "hot";
    case ServedFrom::kWarm: return "warm";
    case ServedFrom::kColdMemory: return "cold-memory";
    case ServedFrom::kColdDisk: return "cold-disk";
    case ServedFrom::kCompile: return "compile";
  }
  return "unknown";
}

const char* EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kPressureHigh: return "pressure_high";
    case EventKind::kPressureNormal: return "pressure_normal";
    case EventKind::kPromoted: return "promoted";
    case EventKind::kDemoted: return "demoted";
    case EventKind::kEvicted: return "evicted";
    case EventKind::kInstanceRetired: return "instance_retired";
    case EventKind::kLeakSuspected: return "leak_suspected";
    case EventKind::kPoolExhausted: return "pool_exhausted";
    case EventKind::kMaintenanceFailed: return "maintenance_failed";
    case EventKind::kSnapshotFailed: return "snapshot_failed";
  }
  return "unknown";
}

PoolState::PoolState(Engine* engine, PoolOptions options,
                     std::unique_ptr<Policy> policy,
                     std::shared_ptr<Clock> clock,
                     std::shared_ptr<ModuleCache> cache)
    : engine(engine),
      options(std::move(options)),
      policy(std::move(policy)),
      clock(std::move(clock)),
      cache(std::move(cache)),
      ledger({this->options.budget_bytes, this->options.max_instances},
             this->clock) {}

Result<std::unique_ptr<Pool>> Pool::Create(Engine* engine,
                                           PoolOptions options) {
  auto policy = MakePolicy(options.policy);
  if (!policy) {
    return Status(ErrorCode::kInvalidArgument,
                  "pool: unknown policy '" + options.policy +
                      "' (expected riptide or strata)");
  }
  return Create(engine, std::move(options), std::move(policy));
}

Result<std::unique_ptr<Pool>> Pool::Create(Engine* engine, PoolOptions options,
                                           std::unique_ptr<Policy> policy) {
  if (engine == nullptr) {
    return Status(ErrorCode::kInvalidArgument, "pool: engine is null");
  }
  if (policy == nullptr) {
    return Status(ErrorCode::kInvalidArgument, "pool: policy is null");
  }
  if (!(options.pressure_threshold > 0 && options.pressure_threshold <= 1)) {
    return Status(ErrorCode::kInvalidArgument,
                  "pool: pressure_threshold must be in (0, 1], got " +
                      std::to_string(options.pressure_threshold));
  }
  if (options.max_instances == 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "pool: max_instances must be at least 1");
  }
  if (engine->pooling_enabled() &&
      options.max_instances > engine->options().pool_slots) {
    return Status(ErrorCode::kInvalidArgument,
                  "pool: max_instances " +
                      std::to_string(options.max_instances) +
                      " is more than the engine's " +
                      std::to_string(engine->options().pool_slots) +
                      " pooled instance slots");
  }
  if (options.budget_bytes == 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "pool: budget_bytes must be positive");
  }
  return std::unique_ptr<Pool>(
      new Pool(engine, std::move(options), std::move(policy)));
}

Pool::Pool(Engine* engine, PoolOptions options, std::unique_ptr<Policy> policy)
    : engine_(engine) {
  std::shared_ptr<Clock> clock =
      options.clock ? options.clock : std::make_shared<SteadyClock>();
  auto cache = CacheFor(*engine, options);
  state_ = std::make_shared<PoolState>(engine, std::move(options),
                                       std::move(policy), std::move(clock),
                                       std::move(cache));
  internal::CycleClock::NanosPerTick();  // calibrated here, not on a request
  if (state_->options.background) StartBackground(*state_);
}

Pool::~Pool() {
  Shutdown();
  JoinBackground(*state_);
}

void Pool::Shutdown() {
  PoolState& s = *state_;
  if (s.shutdown.exchange(true)) return;
  // Every waiter re-checks the flag under the lock its wait uses, so these
  // notifications cannot be missed. Acquires past their wait finish; the
  // leases they return keep the state alive.
  s.ledger.Close();
  for (const auto& entry : Entries(s)) {
    MutexLock lock(entry->mu);
    entry->cap_cv.NotifyAll();
  }
  StopBackground(s);
}

Status Pool::AddModule(const std::string& name, Bytes bytes,
                       const ModuleOptions& options) {
  // Validate now so a bad module fails at registration, not on first use.
  auto compiled = engine_->Compile(name, bytes);
  if (!compiled.ok()) return compiled.status();
  return AddModule(name, std::move(bytes), std::move(*compiled), options);
}

Status Pool::AddModule(const std::string& name, Bytes bytes,
                       std::shared_ptr<const Module> compiled,
                       const ModuleOptions& options) {
  PoolState& s = *state_;
  if (name.empty()) {
    return Status(ErrorCode::kInvalidArgument, "pool: module name is empty");
  }
  if (compiled == nullptr || compiled->hash() != internal::Sha256Hex(bytes)) {
    return Status(ErrorCode::kInvalidArgument,
                  "module '" + name +
                      "': the compiled module was not compiled from these bytes");
  }
  if (compiled->convention() == CallingConvention::kCommand &&
      options.reuse == ReuseMode::kReuse) {
    return Status(ErrorCode::kInvalidArgument,
                  "module '" + name +
                      "' is a WASI command; its _start runs once, so it "
                      "cannot use reuse mode");
  }
  if (compiled->convention() != CallingConvention::kCommand &&
      !options.wasi.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "module '" + name +
                      "' is not a WASI command; WASI grants (directories, "
                      "env, args) apply to commands only");
  }
  // Snapshotted, the module's own bytes are the snapshot's: every tier,
  // absent included, holds it.
  ModuleEntry::Snapshot snapshot;
  if (options.snapshot) {
    auto made = SnapshotForPool(s, name, bytes, *compiled, options);
    if (made.ok()) {
      snapshot.bytes = made->wasm.size();
      snapshot.init_func = made->init_func;
      snapshot.build_time = made->build_time;
      bytes = std::move(made->wasm);
      compiled = std::move(made->module);
    } else {
      snapshot.error = made.status().message();
      s.events.Publish({{EventKind::kSnapshotFailed, name,
                         snapshot.error + "; served without a snapshot"}});
    }
  }
  uint64_t code_bytes = compiled->ResidentImageBytes();
  if (code_bytes > s.options.budget_bytes) {
    return Status(ErrorCode::kMemoryLimit,
                  "module '" + name + "': its compiled code needs " +
                      std::to_string(code_bytes) +
                      " bytes, more than the whole budget of " +
                      std::to_string(s.options.budget_bytes) + " bytes");
  }
  uint32_t cap = options.max_concurrent > 0
                     ? std::min(options.max_concurrent, s.options.max_instances)
                     : s.options.max_instances;
  std::shared_ptr<ModuleEntry> entry;
  {
    internal::WriterLock lock(s.modules_mu);
    if (s.modules.count(name)) {
      return Status(ErrorCode::kInvalidArgument,
                    "pool: module '" + name + "' is already registered");
    }
    entry = std::make_shared<ModuleEntry>(
        s.next_id++, name, std::move(bytes), compiled->hash(), options, cap,
        s.options.rate_half_life);
    s.modules.emplace(name, entry);
  }
  ModuleEntry& e = *entry;
  {
    MutexLock lock(e.mu);
    e.snapshot = std::move(snapshot);
    // A snapshot's memory begins as its image, mapped copy-on-write and
    // measured with its code: an instance owns only the pages it dirties,
    // learned when it is first measured; until then, one page.
    e.initial_memory_bytes = e.snapshot.bytes > 0
                                 ? kWasmPageBytes
                                 : compiled->InitialMemoryBytes();
    e.code_bytes = code_bytes;
    e.compile.Add(compiled->load_time());
  }
  // The compile we just paid for leaves the module cold in memory if the
  // budget has room for its code now, and on disk in any case.
  StoreOnDisk(s, e, *compiled);
  memory::Charge charge = s.ledger.TryReserve(e.account, {code_bytes, 0});
  if (charge.held()) {
    auto code = std::make_shared<ModuleCode>(std::move(compiled), std::move(charge));
    MutexLock lock(e.mu);
    e.code = code;
    e.last_code = code;
    e.tier = Tier::kColdMemory;
  } else {
    MutexLock lock(e.mu);
    e.tier = CurrentTier(e);
  }
  if (options.min_hot > 0) s.RequestMaintenance();
  s.CheckPressure();
  return OkStatus();
}

Status Pool::AddModuleFile(const std::string& name,
                           const std::filesystem::path& path,
                           const ModuleOptions& options) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  return AddModule(name, std::move(*bytes), options);
}

Status Pool::RemoveModule(const std::string& name,
                          std::chrono::milliseconds drain) {
  PoolState& s = *state_;
  std::shared_ptr<ModuleEntry> entry;
  {
    internal::WriterLock lock(s.modules_mu);
    auto it = s.modules.find(name);
    if (it == s.modules.end()) {
      return Status(ErrorCode::kNotFound, "pool: no module '" + name + "'");
    }
    entry = it->second;
    s.modules.erase(it);
  }
  {
    MutexLock lock(s.order_mu);
    std::erase(s.eviction_order, entry);
  }
  ModuleEntry& e = *entry;
  std::vector<std::unique_ptr<HotInstance>> dropped;
  bool drained;
  uint32_t still_out;
  {
    MutexLock lock(e.mu);
    e.removed = true;
    e.target_hot = 0;
    TakeHotLocked(e, 0, dropped);
    e.cap_cv.NotifyAll();  // waiters for its cap fail with kNotFound
    drained = e.cap_cv.WaitUntil(lock, *s.clock, s.clock->DeadlineAfter(drain),
                                 [&]() NO_THREAD_SAFETY_ANALYSIS {
                                   return e.in_use == 0;
                                 });
    still_out = e.in_use;
    // Code still mapped by a lease stays charged until that lease returns.
    e.prepared.reset();
    e.code.reset();
    e.disk.Reset();  // the file goes unless another holder pins it
  }
  dropped.clear();
  s.CheckPressure();
  if (!drained) {
    return Status(ErrorCode::kDeadlineExceeded,
                  "module '" + name + "': " + std::to_string(still_out) +
                      " leases still out after the " +
                      std::to_string(drain.count()) +
                      " ms drain; they are dropped when returned");
  }
  return OkStatus();
}

Result<Lease> Pool::Acquire(const std::string& name,
                            std::chrono::milliseconds timeout) {
  // Our own reference: the pool may be shut down or destroyed while we
  // wait (so `this` is not touched after the wait), and the lease we
  // return keeps the state alive.
  std::shared_ptr<PoolState> state = state_;
  Result<Lease> lease = AcquireFrom(state, name, timeout);
  // On success the lease took `state`; on failure we still hold it.
  if (!lease.ok()) state->acquire_errors.fetch_add(1, std::memory_order_relaxed);
  return lease;
}

Result<Lease> Pool::AcquireFrom(std::shared_ptr<PoolState>& state,
                                const std::string& name,
                                std::chrono::milliseconds timeout) {
  PoolState& s = *state;
  if (s.shutdown.load()) {
    return Status(ErrorCode::kShutdown, "pool is shutting down");
  }
  uint64_t start = internal::CycleClock::Now();
  auto found = FindEntry(s, name);
  if (!found.ok()) return found.status();
  std::shared_ptr<ModuleEntry> entry = std::move(*found);
  ModuleEntry& e = *entry;
  Nanos now = s.clock->Now();  // the one reading of the pool's clock
  Nanos deadline = Clock::SaturatingAdd(now, timeout);
  {
    MutexLock lock(e.mu);
    e.last_acquire = now;
    ++e.acquires;
    // A rate that doubled since the last pass deserves a new plan now.
    e.rate_long.Record(now);
    if (double rate = e.rate.Record(now); rate > 2 * e.planned_rate + 1) {
      e.planned_rate = rate;
      s.RequestMaintenance();
    }
    Status admitted = TakeModuleLease(s, e, lock, deadline, timeout);
    if (!admitted.ok()) {
      lock.Unlock();
      if (admitted.code() == ErrorCode::kPoolExhausted) {
        s.exhausted.fetch_add(1, std::memory_order_relaxed);
        s.events.Publish({{EventKind::kPoolExhausted, name, admitted.message()}});
      }
      return admitted;
    }
    if (!e.hot.empty()) {
      std::unique_ptr<HotInstance> held = std::move(e.hot.back());
      e.hot.pop_back();
      held->leased_at = now;
      held->leased_gen = e.placement_gen;
      ++e.counters.served[int(ServedFrom::kHot)];
      bool refill = e.BelowHotTarget();
      lock.Unlock();
      if (refill) s.QueueRefill(entry);
      RecordAcquire(s, ServedFrom::kHot, start);
      return Lease(std::move(state), std::move(entry), std::move(held),
                   ServedFrom::kHot);
    }
    ++e.building;
  }

  ServedFrom from = ServedFrom::kWarm;
  auto made = BuildLeasedInstance(s, e, deadline, &from);
  if (!made.ok()) return made.status();
  (*made)->leased_at = now;
  // Served below hot: the tier ran dry or the module is not hot yet; the
  // policy decides whether that changes its placement (and sees pressure).
  s.RequestMaintenance();
  RecordAcquire(s, from, start);
  return Lease(std::move(state), std::move(entry), std::move(*made), from);
}

Status Pool::MoveTo(const std::string& name, Tier tier) {
  PoolState& s = *state_;
  Events events;
  {
    // After any pass in flight: its plan, made before this move, must not
    // undo it.
    MutexLock plan_lock(s.plan_mu);
    auto found = FindEntry(s, name);
    if (!found.ok()) return found.status();
    std::shared_ptr<ModuleEntry> entry = std::move(*found);
    ApplyPlacement(s, entry, Placement{entry->id, tier, entry->options.min_hot},
                   events);
  }
  s.events.Publish(events);
  s.CheckPressure();
  return OkStatus();
}

void Pool::AddListener(std::shared_ptr<EventListener> listener) {
  state_->events.Add(std::move(listener));
}

const Policy& Pool::policy() const { return *state_->policy; }

}  // namespace strata
