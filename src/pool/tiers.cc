// Moving one module between tiers: loading code, making instances, dropping
// what the policy or a waiting request no longer allows. Everything loaded
// is charged to the ledger before it exists and committed at its measured
// size once it does.
#include <algorithm>

#include "internal/cycle_clock.h"
#include "pool/pool_internal.h"

namespace strata {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

Result<memory::Charge> Admit(PoolState& s, ModuleEntry& e, memory::Need need,
                             const Admission& admission) {
  if (admission.background) {
    memory::Charge charge = s.ledger.TryReserve(e.account, need);
    if (!charge.held()) {
      return Status(ErrorCode::kMemoryLimit,
                    "module '" + e.name + "': no room for background work (" +
                        std::to_string(need.bytes) + " bytes, " +
                        std::to_string(need.slots) + " slots)");
    }
    return charge;
  }
  return s.ledger.Reserve(e.account, need, admission.deadline,
                          ReclaimerFor(s, admission));
}

// Limits for a new instance: the module's, with linear memory capped at the
// budget, so one guest can never hold more than the pool may.
InstanceLimits LimitsFor(const PoolState& s, const ModuleEntry& e) {
  InstanceLimits limits = e.options.limits;
  if (limits.max_memory_bytes == 0 ||
      limits.max_memory_bytes > s.options.budget_bytes) {
    limits.max_memory_bytes = s.options.budget_bytes;
  }
  return limits;
}

// Commits a measured size. Growth that does not fit now is admitted like
// any other need: a request's evicts idle holdings, then waits in line until
// its deadline; background work does not wait.
bool CommitGrowth(PoolState& s, ModuleEntry& e, memory::Charge& charge,
                  uint64_t measured, const Admission& admission) {
  if (charge.Commit(measured)) return true;
  auto growth = Admit(s, e, {measured - charge.bytes(), 0}, admission);
  if (!growth.ok()) return false;
  charge.Absorb(std::move(*growth));
  return true;
}

// An instance needs its code held beside it: if the two cannot fit the
// budget together, no eviction or wait can help, so the request fails now
// rather than at its deadline.
Status FitsBesideItsCode(const PoolState& s, const ModuleEntry& e,
                         const Prepared& p, uint64_t instance_bytes) {
  uint64_t code = p.code ? p.code->charge.bytes() : 0;
  if (code + instance_bytes <= s.options.budget_bytes) return OkStatus();
  return Status(ErrorCode::kMemoryLimit,
                "module '" + e.name + "': an instance needs " +
                    std::to_string(instance_bytes) + " bytes beside its " +
                    std::to_string(code) + " bytes of code, more than the "
                    "budget of " + std::to_string(s.options.budget_bytes) +
                    " bytes");
}

// What a new instance of `e` is charged before it exists: its last measured
// size (or its declared memory), the growth its calls were seen to need, and
// the engine's overhead; one slot.
memory::Need InstanceNeed(ModuleEntry& e) EXCLUDES(e.mu) {
  MutexLock lock(e.mu);
  uint64_t estimate = e.instance_bytes > 0 ? e.instance_bytes : e.initial_memory_bytes;
  return {estimate + e.call_growth_bytes + kInstanceOverheadEstimate, 1};
}

}  // namespace

Nanos Since(SteadyTime start) {
  return std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now() -
                                           start);
}

bool StoreOnDisk(PoolState& s, ModuleEntry& e, const Module& module) {
  {
    MutexLock lock(e.mu);
    if (e.disk.held()) return true;
  }
  // Pinned before it is written, so a holder of the same bytes that lets
  // go meanwhile cannot prune the file we just wrote.
  ModuleCache::Pin pin = s.cache->PinEntry(e.hash);
  if (!s.cache->Store(module).ok()) return false;
  MutexLock lock(e.mu);
  if (!e.disk.held() && !e.removed) e.disk = std::move(pin);
  return true;
}

Result<Prepared> EnsurePrepared(PoolState& s, ModuleEntry& e,
                                const Admission& admission, ServedFrom* from) {
  std::shared_ptr<ModuleCode> code;
  uint64_t gen = 0;
  bool on_disk = false;
  uint64_t estimate = 0;
  {
    MutexLock lock(e.mu);
    // Another load of this module goes first; this one then finds its code.
    // A background load waits as long as it takes.
    const Nanos until = admission.background ? Nanos::max() : admission.deadline;
    if (e.loading && !e.load_cv.WaitUntil(lock, *s.clock, until,
                                          [&]() NO_THREAD_SAFETY_ANALYSIS {
                                            return !e.loading;
                                          })) {
      return Status(ErrorCode::kPoolExhausted,
                    "module '" + e.name +
                        "': another request's load of its code did not "
                        "finish within this request's acquire timeout");
    }
    if (e.prepared && e.code) {
      *from = ServedFrom::kWarm;
      return Prepared{e.code, e.prepared};
    }
    e.loading = true;
    // Code an instance still maps is reused rather than loaded twice.
    code = e.code ? e.code : e.last_code.lock();
    gen = e.placement_gen;
    on_disk = e.disk.held();
    estimate = e.code_bytes;
  }
  // Whatever happens from here, the next load may go.
  struct Loaded {
    ModuleEntry& e;
    ~Loaded() {
      MutexLock lock(e.mu);
      e.loading = false;
      e.load_cv.NotifyAll();
    }
  } loaded_guard{e};
  auto start = std::chrono::steady_clock::now();
  if (code) {
    *from = ServedFrom::kColdMemory;
  } else {
    memory::Need instance{0, 0};
    if (admission.instance_reserve) instance = InstanceNeed(e);
    auto charge = Admit(s, e, {estimate + instance.bytes, instance.slots}, admission);
    if (!charge.ok()) return charge.status();
    if (admission.instance_reserve) *admission.instance_reserve = charge->Split(instance);
    Result<std::shared_ptr<const Module>> loaded =
        Status(ErrorCode::kNotFound, "not on disk");
    if (on_disk) {
      *from = ServedFrom::kColdDisk;
      loaded = s.cache->Load(e.name, e.hash);
    }
    if (!loaded.ok()) {  // absent, or the disk entry was unreadable
      *from = ServedFrom::kCompile;
      if (on_disk) {
        MutexLock lock(e.mu);
        e.disk.Reset();
      }
      loaded = s.engine->Compile(e.name, e.bytes);
      if (!loaded.ok()) return loaded.status();
      {
        MutexLock lock(e.mu);
        e.compile.Add((*loaded)->load_time());
      }
      StoreOnDisk(s, e, **loaded);
    }
    uint64_t measured = (*loaded)->ResidentImageBytes();
    if (!charge->Commit(measured)) {
      return Status(ErrorCode::kMemoryLimit,
                    "module '" + e.name + "': its code measured " +
                        std::to_string(measured) + " bytes resident, " +
                        std::to_string(measured - charge->bytes()) +
                        " more than reserved, and the budget of " +
                        std::to_string(s.options.budget_bytes) +
                        " bytes has no room for them");
    }
    code = std::make_shared<ModuleCode>(std::move(*loaded), std::move(*charge));
    MutexLock lock(e.mu);
    e.code_bytes = measured;
  }
  auto prepared = s.engine->Prepare(code->module);
  if (!prepared.ok()) return prepared.status();
  MutexLock lock(e.mu);
  if (*from != ServedFrom::kCompile) e.load.Add(Since(start));
  e.last_code = code;
  // Keep what the latest placement allows. A request that found nothing
  // hot leaves its module warm (the maintainer decides whether it stays);
  // but if a placement moved the module while we loaded, this request is
  // served and the code leaves with its instance.
  bool unchanged = e.placement_gen == gen;
  if (!e.removed && (unchanged || e.tier <= Tier::kColdMemory)) e.code = code;
  if (!e.removed && (unchanged || e.tier <= Tier::kWarm)) e.prepared = *prepared;
  return Prepared{code, *prepared};
}

Result<std::unique_ptr<HotInstance>> MakeInstance(PoolState& s, ModuleEntry& e,
                                                  const Prepared& p,
                                                  const Admission& admission) {
  uint64_t allowance = 0;
  {
    MutexLock lock(e.mu);
    allowance = e.call_growth_bytes;
  }
  // Reserved with the code it loaded, or now.
  Result<memory::Charge> charge = Status(ErrorCode::kInternal, "not reserved");
  if (admission.instance_reserve && admission.instance_reserve->held()) {
    charge = std::move(*admission.instance_reserve);
  } else {
    memory::Need need = InstanceNeed(e);
    if (Status s2 = FitsBesideItsCode(s, e, p, need.bytes); !s2.ok()) return s2;
    charge = Admit(s, e, need, admission);
    if (!charge.ok()) return charge.status();
  }
  auto start = std::chrono::steady_clock::now();
  auto instance = p.prepared->Instantiate(LimitsFor(s, e));
  Nanos took = Since(start);
  if (!instance.ok()) return instance.status();
  uint64_t resident = (*instance)->ResidentBytes();
  uint64_t measured = resident + allowance + kInstanceOverheadEstimate;
  if (Status s2 = FitsBesideItsCode(s, e, p, measured); !s2.ok()) return s2;
  if (!CommitGrowth(s, e, *charge, measured, admission)) {
    return Status(ErrorCode::kMemoryLimit,
                  "module '" + e.name + "': a new instance measured " +
                      std::to_string(resident) +
                      " bytes resident, more than reserved, and the budget "
                      "of " +
                      std::to_string(s.options.budget_bytes) +
                      " bytes has no room for the difference (after "
                      "evicting idle holdings and waiting in line)");
  }
  bool first = !p.code->instantiated.exchange(true);
  {
    MutexLock lock(e.mu);
    (first ? e.first_instantiate : e.instantiate).Add(took);
    e.instance_bytes = resident;
    ++(admission.background ? e.counters.instantiations_background
                            : e.counters.instantiations_foreground);
  }
  auto held = std::make_unique<HotInstance>();
  held->code = p.code;
  held->instance = std::move(*instance);
  held->charge = std::move(*charge);
  held->created = s.clock->Now();
  held->resident = resident;
  held->sized_bytes = held->instance->memory_bytes();
  return held;
}

void TakeHotLocked(ModuleEntry& e, size_t keep,
                   std::vector<std::unique_ptr<HotInstance>>& out) {
  if (e.hot.size() <= keep) return;
  // The bottom of the LIFO stack is the least recently used.
  size_t n = e.hot.size() - keep;
  std::move(e.hot.begin(), e.hot.begin() + n, std::back_inserter(out));
  e.hot.erase(e.hot.begin(), e.hot.begin() + n);
}

Tier CurrentTier(const ModuleEntry& e) {
  if (!e.hot.empty()) return Tier::kHot;
  if (e.prepared) return Tier::kWarm;
  if (e.code) return Tier::kColdMemory;
  if (e.disk.held()) return Tier::kColdDisk;
  return Tier::kAbsent;
}

void CountMove(ModuleEntry& e, Tier before, Tier after, Events& events) {
  if (after == before) return;
  std::string detail =
      std::string(TierName(before)) + " -> " + TierName(after);
  if (after < before) {
    ++e.counters.promotions;
    events.push_back({EventKind::kPromoted, e.name, std::move(detail)});
    return;
  }
  ++e.counters.demotions;
  if (after == Tier::kAbsent) ++e.counters.evictions;
  events.push_back({after == Tier::kAbsent ? EventKind::kEvicted
                                           : EventKind::kDemoted,
                    e.name, std::move(detail)});
}

void ApplyPlacement(PoolState& s, const std::shared_ptr<ModuleEntry>& entry,
                    const Placement& p, Events& events) {
  ModuleEntry& e = *entry;
  std::vector<std::unique_ptr<HotInstance>> dropped;
  std::shared_ptr<ModuleCode> to_disk;
  Tier before;
  bool load = false;
  {
    MutexLock lock(e.mu);
    if (e.removed) return;
    // The better of where the policy last put it and where it physically
    // is: a hot module whose stock is momentarily used up is still hot.
    before = std::min(e.tier, CurrentTier(e));
    e.tier = p.tier;
    ++e.placement_gen;
    e.target_hot = p.tier == Tier::kHot ? std::max(p.target_hot, 1u) : 0;
    TakeHotLocked(e, e.target_hot, dropped);
    if (p.tier >= Tier::kColdMemory) e.prepared.reset();
    if (p.tier >= Tier::kColdDisk) {
      // Cold-disk needs the code on disk before it leaves memory.
      if (p.tier == Tier::kColdDisk && !e.disk.held() && e.code) {
        to_disk = e.code;
      }
      e.code.reset();
    }
    if (p.tier == Tier::kAbsent) e.disk.Reset();
    load = p.tier <= Tier::kWarm && !e.prepared;
  }
  dropped.clear();  // outside the lock: unmapping takes time
  if (to_disk) {
    StoreOnDisk(s, e, *to_disk->module);  // if it fails, the module is absent
    to_disk.reset();
  }
  // Linking code in memory is quick and done now; loading it from disk or
  // compiling goes to the loader thread (inline without background threads).
  bool queued = false;
  if (load) {
    bool in_memory;
    {
      MutexLock lock(e.mu);
      in_memory = e.code || !e.last_code.expired();
    }
    if (in_memory || !s.options.background) {
      ServedFrom from;
      (void)EnsurePrepared(s, e, {.background = true}, &from);
    } else {
      s.QueueLoad(entry);
      queued = true;
    }
  }
  bool refill = false;
  {
    MutexLock lock(e.mu);
    // A queued load will bring the module up to its planned tier.
    Tier after = e.target_hot > 0 ? Tier::kHot
                 : queued         ? e.tier
                                  : CurrentTier(e);
    CountMove(e, before, after, events);
    refill = e.prepared && e.BelowHotTarget();
  }
  if (!refill) return;
  if (s.options.background) {
    s.QueueRefill(entry);
  } else {
    // No threads: stock the hot tier now, so tiers move only when the
    // caller moves them (tests, benchmarks, virtual time).
    while (RefillOne(s, entry)) {
    }
  }
}

bool Reclaim(PoolState& s, const memory::Need& shortfall, Events& events) {
  std::vector<std::shared_ptr<ModuleEntry>> order;
  {
    MutexLock lock(s.order_mu);
    order = s.eviction_order;
  }
  if (order.empty()) order = Entries(s);
  uint64_t bytes = shortfall.bytes;
  uint32_t slots = shortfall.slots;
  auto covered = [&] { return bytes == 0 && slots == 0; };
  std::vector<std::unique_ptr<HotInstance>> victims;
  std::vector<std::shared_ptr<ModuleCode>> codes;

  // Idle hot instances first, least valuable module first: they are the
  // cheapest holdings to recreate.
  for (const auto& entry : order) {
    if (covered()) break;
    ModuleEntry& e = *entry;
    MutexLock lock(e.mu);
    size_t before = victims.size();
    while (!covered() && e.hot.size() > e.options.min_hot) {
      bytes -= std::min(bytes, e.hot.front()->charge.bytes());
      slots -= std::min(slots, 1u);
      TakeHotLocked(e, e.hot.size() - 1, victims);
    }
    if (size_t n = victims.size() - before; n > 0) {
      e.counters.evictions += n;
      events.push_back({EventKind::kEvicted, e.name,
                        std::to_string(n) +
                            " idle hot instance(s) freed to admit a request"});
    }
  }
  // Then the code of modules with nothing live whose code is on disk.
  for (const auto& entry : order) {
    if (bytes == 0) break;
    ModuleEntry& e = *entry;
    MutexLock lock(e.mu);
    if (!e.code || !e.hot.empty() || e.in_use > 0 || e.building > 0 ||
        !e.disk.held() || e.code.use_count() > 1) {
      continue;
    }
    Tier before = std::min(e.tier, CurrentTier(e));
    bytes -= std::min(bytes, e.code->charge.bytes());
    codes.push_back(std::move(e.code));
    e.prepared.reset();
    e.tier = Tier::kColdDisk;
    e.target_hot = 0;
    ++e.placement_gen;
    CountMove(e, before, Tier::kColdDisk, events);
  }
  bool freed = !victims.empty() || !codes.empty();
  victims.clear();  // their charges go back to the ledger, outside any lock
  codes.clear();
  return freed;
}

memory::Ledger::Reclaimer ReclaimerFor(PoolState& s,
                                       const Admission& admission) {
  Events* events = admission.events;
  return [&s, events](const memory::Need& shortfall) {
    Events local;
    bool freed = Reclaim(s, shortfall, events ? *events : local);
    s.events.Publish(local);
    return freed;
  };
}

void RecordAcquire(PoolState& s, ServedFrom from, uint64_t start_ticks) {
  s.acquire_by_source[int(from)].Record(
      internal::CycleClock::Between(start_ticks, internal::CycleClock::Now()));
}

}  // namespace strata
