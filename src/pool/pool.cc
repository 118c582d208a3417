#include "strata/pool.h"

#include <unistd.h>

#include <thread>

#include "internal/sha256.h"
#include "pool/pool_internal.h"
#include "pool/pool_state.h"

namespace strata {
namespace {

using Nanos = std::chrono::nanoseconds;

Result<std::shared_ptr<ModuleEntry>> FindEntry(const PoolState& s,
                                               const std::string& name) {
  std::shared_lock lock(s.modules_mu);
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
  }
  return "unknown";
}

Result<std::unique_ptr<Pool>> Pool::Create(Engine* engine,
                                           PoolOptions options) {
  auto policy = MakePolicy(options.policy);
  if (!policy) {
    return Status(ErrorCode::kInvalidArgument,
                  "pool: unknown policy '" + options.policy +
                      "' (expected riptide or strata)");
  }
  if (options.pressure_threshold <= 0 || options.pressure_threshold > 1) {
    return Status(ErrorCode::kInvalidArgument,
                  "pool: pressure_threshold must be in (0, 1], got " +
                      std::to_string(options.pressure_threshold));
  }
  if (options.max_instances == 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "pool: max_instances must be at least 1");
  }
  return std::unique_ptr<Pool>(
      new Pool(engine, std::move(options), std::move(policy)));
}

Pool::Pool(Engine* engine, PoolOptions options, std::unique_ptr<Policy> policy)
    : engine_(engine), state_(std::make_shared<PoolState>()) {
  PoolState& s = *state_;
  s.engine = engine;
  s.options = std::move(options);
  s.policy = std::move(policy);
  s.clock = s.options.clock ? s.options.clock : std::make_shared<SteadyClock>();
  if (s.options.cache_dir.empty()) {
    s.options.cache_dir = TempCacheDir();
    s.own_cache_dir = true;
  }
  s.cache = std::make_unique<ModuleCache>(*engine_, s.options.cache_dir);
  if (s.options.background) StartBackground(s);
}

Pool::~Pool() {
  Shutdown();
  PoolState& s = *state_;
  if (s.own_cache_dir) {
    std::error_code ec;
    std::filesystem::remove_all(s.options.cache_dir, ec);
  }
}

void Pool::Shutdown() {
  PoolState& s = *state_;
  if (s.shutdown.exchange(true)) return;
  StopBackground(s);
  // Every waiter re-checks its predicate under its module's lock, so a
  // notify under that lock cannot be missed.
  for (const auto& entry : Entries(s)) {
    std::lock_guard<std::mutex> l(entry->mu);
    entry->capacity_cv.notify_all();
  }
  // An acquire past its wait finishes building its instance; the lease it
  // returns keeps the state alive.
  while (s.acquiring.load() > 0) std::this_thread::yield();
}

Status Pool::AddModule(const std::string& name, Bytes bytes,
                       const ModuleOptions& options) {
  PoolState& s = *state_;
  if (name.empty()) {
    return Status(ErrorCode::kInvalidArgument, "pool: module name is empty");
  }
  // Validate now so a bad module fails at registration, not on first use.
  auto compiled = engine_->Compile(name, bytes);
  if (!compiled.ok()) return compiled.status();
  if ((*compiled)->convention() == CallingConvention::kCommand &&
      options.reuse == ReuseMode::kReuse) {
    return Status(ErrorCode::kInvalidArgument,
                  "module '" + name +
                      "' is a WASI command; its _start runs once, so it "
                      "cannot use reuse mode");
  }
  if ((*compiled)->convention() != CallingConvention::kCommand &&
      !options.wasi.empty()) {
    return Status(ErrorCode::kInvalidArgument,
                  "module '" + name +
                      "' is not a WASI command; WASI grants (directories, "
                      "env, args) apply to commands only");
  }
  std::string hash = (*compiled)->hash();
  std::unique_lock lock(s.modules_mu);
  if (s.modules.count(name)) {
    return Status(ErrorCode::kInvalidArgument,
                  "pool: module '" + name + "' is already registered");
  }
  auto entry = std::make_shared<ModuleEntry>(
      s.next_id++, name, std::move(bytes), std::move(hash), options,
      s.options.rate_half_life);
  s.modules.emplace(name, entry);
  lock.unlock();
  // The compile we just paid for leaves the module cold in memory.
  InstallCompiled(s, *entry, *compiled);
  if (options.min_hot > 0) s.RequestMaintenance();
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
    std::unique_lock lock(s.modules_mu);
    auto it = s.modules.find(name);
    if (it == s.modules.end()) {
      return Status(ErrorCode::kNotFound, "pool: no module '" + name + "'");
    }
    entry = it->second;
    s.modules.erase(it);
  }
  std::unique_lock lock(entry->mu);
  entry->removed = true;
  entry->target_hot = 0;
  DropHot(s, *entry, 0);
  entry->capacity_cv.notify_all();
  bool drained = entry->capacity_cv.wait_for(
      lock, drain, [&] { return entry->in_use == 0; });
  ReleaseCode(s, *entry);
  s.cache->Remove(entry->hash);
  s.CheckPressure();
  if (!drained) {
    return Status(ErrorCode::kDeadlineExceeded,
                  "module '" + name + "': " + std::to_string(entry->in_use) +
                      " leases still out after the " +
                      std::to_string(drain.count()) +
                      " ms drain; they are dropped when returned");
  }
  return OkStatus();
}

Result<Lease> Pool::Acquire(const std::string& name,
                            std::chrono::milliseconds timeout) {
  PoolState& s = *state_;
  // Counted before the shutdown check, so Shutdown() waits for us.
  s.acquiring.fetch_add(1);
  struct Done {
    PoolState& s;
    ~Done() { s.acquiring.fetch_sub(1); }
  } done{s};
  if (s.shutdown.load()) {
    return Status(ErrorCode::kShutdown, "pool is shutting down");
  }
  auto start = std::chrono::steady_clock::now();
  auto found = FindEntry(s, name);
  if (!found.ok()) return found.status();
  std::shared_ptr<ModuleEntry> entry = std::move(*found);
  ModuleEntry& e = *entry;
  std::unique_lock lock(e.mu);
  Nanos now = s.clock->Now();
  e.rate.Record(now);
  e.last_acquire = now;
  // A rate that doubled since the last pass deserves a new plan now.
  if (double rate = e.rate.PerSecond(now); rate > 2 * e.planned_rate + 1) {
    e.planned_rate = rate;
    s.RequestMaintenance();
  }

  uint32_t module_cap = e.options.max_concurrent > 0 ? e.options.max_concurrent
                                                     : s.options.max_instances;
  auto has_capacity = [&] {
    if (s.shutdown.load() || e.removed) return true;
    if (e.in_use >= module_cap) return false;
    // A hot instance is already counted in the pool-wide total.
    return !e.hot.empty() || s.instances.load() < s.options.max_instances ||
           EvictOneIdle(s, e.name);
  };
  if (!e.capacity_cv.wait_until(lock, start + timeout, has_capacity)) {
    s.exhausted.fetch_add(1, std::memory_order_relaxed);
    s.Emit(EventKind::kPoolExhausted, name, "");
    return Status(ErrorCode::kPoolExhausted,
                  "module '" + name + "': no instance within " +
                      std::to_string(timeout.count()) + " ms (" +
                      std::to_string(e.in_use) + " in use, module limit " +
                      std::to_string(module_cap) + ", pool limit " +
                      std::to_string(s.options.max_instances) + ")");
  }
  if (s.shutdown.load()) {
    return Status(ErrorCode::kShutdown, "pool is shutting down");
  }
  if (e.removed) {
    return Status(ErrorCode::kNotFound, "module '" + name + "' was removed");
  }
  ++e.in_use;

  if (!e.hot.empty()) {
    HotInstance hot = std::move(e.hot.back());
    e.hot.pop_back();
    ++e.counters.served[int(ServedFrom::kHot)];
    bool refill = e.BelowHotTarget();
    lock.unlock();
    if (refill) s.QueueRefill(entry);
    RecordAcquire(s, ServedFrom::kHot, start);
    return Lease(state_, std::move(entry), std::move(hot.instance),
                 ServedFrom::kHot, hot.created, hot.resident_bytes,
                 hot.measured_calls);
  }
  s.instances.fetch_add(1);
  lock.unlock();

  // Nothing hot: build an instance from the most prepared tier there is.
  auto fail = [&](Status status) {
    std::lock_guard<std::mutex> l(e.mu);
    --e.in_use;
    s.instances.fetch_sub(1);
    e.capacity_cv.notify_one();
    return status;
  };
  if (s.options.hard_budget && e.instance_bytes > s.budget_left()) {
    return fail(Status(ErrorCode::kMemoryLimit,
                       "module '" + name + "': an instance needs " +
                           std::to_string(e.instance_bytes) +
                           " bytes; the budget of " +
                           std::to_string(s.options.budget_bytes) +
                           " bytes has " + std::to_string(s.budget_left()) +
                           " left"));
  }
  ServedFrom from = ServedFrom::kWarm;
  auto prepared = EnsurePrepared(s, e, &from);
  if (!prepared.ok()) return fail(prepared.status());
  auto made = MakeInstance(s, e, **prepared, /*background=*/false);
  if (!made.ok()) return fail(made.status());
  {
    std::lock_guard<std::mutex> l(e.mu);
    ++e.counters.served[int(from)];
  }
  s.used_bytes.fetch_add(static_cast<int64_t>(made->resident_bytes));
  // Served below hot: the tier ran dry or the module is not hot yet; the
  // policy decides whether that changes its placement (and sees pressure).
  s.RequestMaintenance();
  RecordAcquire(s, from, start);
  return Lease(state_, std::move(entry), std::move(made->instance), from,
               made->created, made->resident_bytes, made->measured_calls);
}

void ReturnInstance(PoolState& s, std::shared_ptr<ModuleEntry> entry,
                    std::unique_ptr<Instance> instance, Nanos created,
                    uint64_t counted_bytes, uint64_t measured_calls) {
  ModuleEntry& e = *entry;
  // Re-reading the page tables costs more than the rest of a return, so a
  // reused instance is measured after its first call and then every 16
  // calls; growth in between is caught from the memory's size (ReuseVerdict).
  uint64_t resident = counted_bytes;
  uint64_t calls = instance->calls();
  bool measure = measured_calls == 0 ? calls > 0 : calls - measured_calls >= 16;
  if (e.options.reuse == ReuseMode::kReuse && measure) {
    resident = instance->ResidentBytes();
    measured_calls = calls;
  }
  s.used_bytes.fetch_sub(static_cast<int64_t>(counted_bytes));
  std::unique_lock lock(e.mu);
  --e.in_use;
  std::string retire_reason = ReuseVerdict(s, e, *instance, created, resident);
  bool keep = retire_reason.empty();
  if (keep) {
    e.hot.push_back({std::move(instance), created, resident, measured_calls});
    s.used_bytes.fetch_add(static_cast<int64_t>(resident));
  } else {
    if (e.options.reuse == ReuseMode::kReuse && retire_reason != "fresh") {
      ++e.counters.retired;
    }
    s.instances.fetch_sub(1);
  }
  bool refill = !keep && e.BelowHotTarget();
  e.capacity_cv.notify_one();
  lock.unlock();
  if (!keep && retire_reason != "fresh") {
    s.Emit(retire_reason.rfind("memory grew", 0) == 0
               ? EventKind::kLeakSuspected
               : EventKind::kInstanceRetired,
           e.name, retire_reason);
  }
  instance.reset();  // drop outside the lock: unmapping takes time
  if (refill) s.QueueRefill(entry);
  s.CheckPressure();
}

Status Pool::Demote(const std::string& name, Tier tier) {
  PoolState& s = *state_;
  auto found = FindEntry(s, name);
  if (!found.ok()) return found.status();
  std::shared_ptr<ModuleEntry> entry = std::move(*found);
  ApplyPlacement(s, entry, Placement{entry->id, tier, 0});
  return OkStatus();
}

void Pool::AddListener(std::shared_ptr<EventListener> listener) {
  std::lock_guard<std::mutex> lock(state_->listeners_mu);
  state_->listeners.push_back(std::move(listener));
}

const Policy& Pool::policy() const { return *state_->policy; }

// --- Lease ---

Lease::Lease(std::shared_ptr<PoolState> state,
             std::shared_ptr<ModuleEntry> entry,
             std::unique_ptr<Instance> instance, ServedFrom from,
             Nanos created, uint64_t counted_bytes, uint64_t measured_calls)
    : state_(std::move(state)),
      entry_(std::move(entry)),
      instance_(std::move(instance)),
      served_from_(from),
      created_(created),
      counted_bytes_(counted_bytes),
      measured_calls_(measured_calls) {}

Lease::Lease(Lease&& other) noexcept
    : state_(std::move(other.state_)),
      entry_(std::move(other.entry_)),
      instance_(std::move(other.instance_)),
      served_from_(other.served_from_),
      created_(other.created_),
      counted_bytes_(other.counted_bytes_),
      measured_calls_(other.measured_calls_) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    state_ = std::move(other.state_);
    entry_ = std::move(other.entry_);
    instance_ = std::move(other.instance_);
    served_from_ = other.served_from_;
    created_ = other.created_;
    counted_bytes_ = other.counted_bytes_;
    measured_calls_ = other.measured_calls_;
  }
  return *this;
}

Lease::~Lease() { Release(); }

void Lease::Release() {
  if (state_ != nullptr && instance_ != nullptr) {
    ReturnInstance(*state_, std::move(entry_), std::move(instance_), created_,
                   counted_bytes_, measured_calls_);
  }
  state_.reset();
}

Result<Bytes> Lease::Call(std::string_view export_name,
                          std::span<const uint8_t> input) {
  CallOptions options;
  options.timeout = entry_->options.call_timeout;
  auto start = std::chrono::steady_clock::now();
  auto out = instance_->Call(export_name, input, options);
  RecordCall(*state_, *entry_, out.status(), start);
  return out;
}

Result<CommandOutput> Lease::RunCommand(CommandRequest request) {
  if (request.timeout.count() == 0) request.timeout = entry_->options.call_timeout;
  request.wasi = MergeCapabilities(entry_->options.wasi, request.wasi);
  auto start = std::chrono::steady_clock::now();
  auto out = instance_->RunCommand(request);
  RecordCall(*state_, *entry_, out.status(), start);
  return out;
}

}  // namespace strata
