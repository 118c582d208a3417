// Moving one module between tiers: loading code, making instances, dropping
// what the policy or the budget no longer allows.
#include <algorithm>

#include "pool/pool_internal.h"

namespace strata {
namespace {

using Nanos = std::chrono::nanoseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

Nanos Since(SteadyTime start) {
  return std::chrono::duration_cast<Nanos>(std::chrono::steady_clock::now() -
                                           start);
}

}  // namespace

void InstallCompiled(PoolState& s, ModuleEntry& e,
                     std::shared_ptr<const Module> module) {
  bool need_disk = false;
  {
    std::lock_guard<std::mutex> lock(e.mu);
    need_disk = !e.on_disk;
  }
  uint64_t size = 0;
  if (need_disk && s.cache->Store(*module).ok()) {
    std::error_code ec;
    size = std::filesystem::file_size(s.cache->PathFor(e.hash), ec);
  }
  std::lock_guard<std::mutex> lock(e.mu);
  if (size > 0) {
    e.on_disk = true;
    e.code_bytes = size;
  }
  if (e.compiled == nullptr) {
    e.compiled = std::move(module);
    s.used_bytes.fetch_add(static_cast<int64_t>(e.code_bytes));
  }
}

Result<std::shared_ptr<const PreparedModule>> EnsurePrepared(
    PoolState& s, ModuleEntry& e, ServedFrom* from) {
  std::lock_guard<std::mutex> load_lock(e.load_mu);
  std::shared_ptr<const Module> compiled;
  bool on_disk = false;
  {
    std::lock_guard<std::mutex> lock(e.mu);
    if (e.prepared) {
      *from = ServedFrom::kWarm;
      return e.prepared;
    }
    compiled = e.compiled;
    on_disk = e.on_disk;
  }
  auto start = std::chrono::steady_clock::now();
  if (compiled) {
    *from = ServedFrom::kColdMemory;
  } else {
    Result<std::shared_ptr<const Module>> loaded =
        Status(ErrorCode::kNotFound, "");
    if (on_disk) {
      loaded = s.cache->Load(e.name, e.hash);
      *from = ServedFrom::kColdDisk;
    }
    if (!loaded.ok()) {  // absent, or the disk entry was rejected
      *from = ServedFrom::kCompile;
      {
        std::lock_guard<std::mutex> lock(e.mu);
        e.on_disk = false;
      }
      loaded = s.engine->Compile(e.name, e.bytes);
      if (!loaded.ok()) return loaded.status();
      std::lock_guard<std::mutex> lock(e.mu);
      e.compile.Add((*loaded)->load_time());
    }
    compiled = *loaded;
    InstallCompiled(s, e, compiled);
  }
  auto prepared = s.engine->Prepare(compiled);
  if (!prepared.ok()) return prepared.status();
  std::lock_guard<std::mutex> lock(e.mu);
  if (*from != ServedFrom::kCompile) e.load.Add(Since(start));
  e.prepared = *prepared;
  return e.prepared;
}

Result<HotInstance> MakeInstance(PoolState& s, ModuleEntry& e,
                                 const PreparedModule& prepared,
                                 bool background) {
  auto start = std::chrono::steady_clock::now();
  auto instance = prepared.Instantiate(e.options.limits);
  Nanos took = Since(start);
  if (!instance.ok()) return instance.status();
  uint64_t resident = (*instance)->ResidentBytes();
  std::lock_guard<std::mutex> lock(e.mu);
  e.instantiate.Add(took);
  e.instance_bytes = resident;
  ++(background ? e.counters.instantiations_background
                : e.counters.instantiations_foreground);
  return HotInstance{std::move(*instance), s.clock->Now(), resident};
}

std::string ReuseVerdict(PoolState& s, ModuleEntry& e,
                         const Instance& instance, Nanos created,
                         uint64_t resident) {
  const ModuleOptions& o = e.options;
  if (o.reuse == ReuseMode::kFresh) return "fresh";
  if (e.removed || s.shutdown.load()) return "module removed";
  if (instance.poisoned()) return "failed call (trap, timeout or exit)";
  if (instance.calls() >= o.max_uses) {
    return "served " + std::to_string(instance.calls()) +
           " calls (max_uses " + std::to_string(o.max_uses) + ")";
  }
  if (s.clock->Now() - created > o.max_age) {
    return "older than max_age " + std::to_string(o.max_age.count()) + " s";
  }
  uint64_t grown = instance.memory_bytes() - std::min(instance.memory_bytes(),
                                                      instance.initial_memory_bytes());
  if (grown > o.max_growth_bytes) {
    return "memory grew by " + std::to_string(grown) + " bytes (limit " +
           std::to_string(o.max_growth_bytes) + ")";
  }
  uint32_t capacity = std::max(e.target_hot, o.min_hot);
  if (e.hot.size() >= capacity) return "hot tier full";
  if (static_cast<uint64_t>(s.used_bytes.load()) + resident >
      s.options.budget_bytes) {
    return "memory budget full";
  }
  return "";
}

uint32_t DropHot(PoolState& s, ModuleEntry& e, uint32_t keep) {
  uint32_t dropped = 0;
  while (e.hot.size() > keep) {
    // The bottom of the LIFO stack is the least recently used.
    s.used_bytes.fetch_sub(static_cast<int64_t>(e.hot.front().resident_bytes));
    e.hot.erase(e.hot.begin());
    s.instances.fetch_sub(1);
    ++dropped;
  }
  return dropped;
}

void ReleaseCode(PoolState& s, ModuleEntry& e) {
  e.prepared.reset();
  if (e.compiled) {
    e.compiled.reset();
    s.used_bytes.fetch_sub(static_cast<int64_t>(e.code_bytes));
  }
}

bool EvictOneIdle(PoolState& s, const std::string& except) {
  std::shared_lock lock(s.modules_mu);
  std::shared_ptr<ModuleEntry> victim;
  double lowest = 0;
  Nanos now = s.clock->Now();
  for (auto& [name, entry] : s.modules) {
    if (name == except) continue;
    std::unique_lock l(entry->mu, std::try_to_lock);
    if (!l.owns_lock() || entry->hot.empty() || entry->hot.size() <= entry->options.min_hot) continue;
    double rate = entry->rate.PerSecond(now);
    if (!victim || rate < lowest) {
      victim = entry;
      lowest = rate;
    }
  }
  if (!victim) return false;
  std::unique_lock l(victim->mu, std::try_to_lock);
  if (!l.owns_lock() || victim->hot.empty()) return false;
  DropHot(s, *victim, static_cast<uint32_t>(victim->hot.size() - 1));
  ++victim->counters.evictions;
  return true;
}

Tier CurrentTier(const ModuleEntry& e) {
  if (!e.hot.empty()) return Tier::kHot;
  if (e.prepared) return Tier::kWarm;
  if (e.compiled) return Tier::kColdMemory;
  if (e.on_disk) return Tier::kColdDisk;
  return Tier::kAbsent;
}

void ApplyPlacement(PoolState& s, const std::shared_ptr<ModuleEntry>& entry,
                    const Placement& p) {
  ModuleEntry& e = *entry;
  Tier before;
  {
    std::lock_guard<std::mutex> lock(e.mu);
    if (e.removed) return;
    // The better of where the policy last put it and where it physically
    // is: a hot module whose stock is momentarily used up is still hot, so
    // placing it hot again is no promotion.
    before = std::min(e.tier, CurrentTier(e));
    e.tier = p.tier;
    e.target_hot = p.tier == Tier::kHot ? std::max(p.target_hot, 1u) : 0;
    DropHot(s, e, e.target_hot);
    if (p.tier >= Tier::kColdMemory) e.prepared.reset();
    if (p.tier >= Tier::kColdDisk) ReleaseCode(s, e);
    if (p.tier == Tier::kAbsent && e.on_disk) {
      s.cache->Remove(e.hash);
      e.on_disk = false;
    }
  }
  if (p.tier <= Tier::kWarm) {
    ServedFrom from;
    if (!EnsurePrepared(s, e, &from).ok()) return;
  }
  Tier after;
  bool refill;
  {
    std::lock_guard<std::mutex> lock(e.mu);
    after = e.target_hot > 0 ? Tier::kHot : CurrentTier(e);
    refill = e.BelowHotTarget();
    if (after < before) ++e.counters.promotions;
    if (after > before) {
      ++e.counters.demotions;
      if (after == Tier::kAbsent) ++e.counters.evictions;
    }
  }
  if (after < before) {
    s.Emit(EventKind::kPromoted, e.name,
           std::string(TierName(before)) + " -> " + TierName(after));
  } else if (after > before) {
    s.Emit(after == Tier::kAbsent ? EventKind::kEvicted : EventKind::kDemoted,
           e.name, std::string(TierName(before)) + " -> " + TierName(after));
  }
  if (refill) s.QueueRefill(entry);
}

void RecordAcquire(PoolState& s, ServedFrom from, SteadyTime start) {
  Nanos took = Since(start);
  s.acquire_latency.Record(took);
  s.acquire_by_source[int(from)].Record(took);
}

void RecordCall(PoolState& s, ModuleEntry& e, const Status& status,
                SteadyTime start) {
  Nanos took = Since(start);
  s.call_latency.Record(took);
  std::lock_guard<std::mutex> lock(e.mu);
  e.call.Add(took);
  if (status.code() == ErrorCode::kTrap) ++e.counters.traps;
  if (status.code() == ErrorCode::kDeadlineExceeded) ++e.counters.timeouts;
}

}  // namespace strata
