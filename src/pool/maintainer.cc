// The maintainer: applies the policy every interval and on events, ranks the
// modules for eviction, and relieves memory pressure.
#include <time.h>

#include <algorithm>
#include <cstdio>

#include "pool/pool_internal.h"

namespace strata {
namespace {

// Passes are at least this far apart, on the real clock: it bounds the
// maintainer's CPU when events arrive on every request.
constexpr auto kMinPassGap = std::chrono::milliseconds(10);

Nanos ThreadCpuTime() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + Nanos(ts.tv_nsec);
}

ModuleView ViewOf(ModuleEntry& e, uint32_t index, Nanos now) REQUIRES(e.mu) {
  ModuleView v;
  v.id = index;
  v.key = e.id;
  v.rate_per_s = e.Rate(now);
  v.idle_s = e.last_acquire.count() == 0
                 ? 1e9
                 : std::chrono::duration<double>(now - e.last_acquire).count();
  v.hot = static_cast<uint32_t>(e.hot.size());
  v.in_use = e.in_use;
  v.min_hot = e.options.min_hot;
  v.max_concurrent = e.options.max_concurrent;
  v.reuse = e.options.reuse == ReuseMode::kReuse;
  v.instantiate_s = e.InstantiateSeconds();
  v.load_s = e.LoadSeconds();
  v.compile_s = e.compile.seconds;
  v.call_s = e.call.seconds;
  // What a new instance would be charged, or what an idle one is charged if
  // that is more (it was measured before the call allowance decayed): a
  // plan that counts less than the ledger holds would overrun the pressure
  // threshold by a page per module, and relieving that only to promote the
  // same instance again next pass churns instances for nothing.
  v.instance_bytes =
      e.instance_bytes + e.call_growth_bytes + kInstanceOverheadEstimate;
  for (const auto& h : e.hot) {
    v.instance_bytes = std::max(v.instance_bytes, h->charge.bytes());
  }
  v.code_bytes = e.code_bytes;
  v.acquires = e.acquires;
  return v;
}

// Over the threshold after the plan (a policy that ignores the budget,
// leases, min_hot, growth): demote the least used modules, hot instances
// first, then their code to disk, until back under it.
void RelievePressure(PoolState& s,
                     const std::vector<std::shared_ptr<ModuleEntry>>& entries,
                     std::vector<ModuleView> views, Events& events) {
  std::sort(views.begin(), views.end(),
            [](const ModuleView& a, const ModuleView& b) {
              return a.rate_per_s < b.rate_per_s;
            });
  uint64_t threshold = s.pressure_bytes();
  for (bool drop_code : {false, true}) {
    for (const ModuleView& v : views) {
      if (s.ledger.held_bytes() <= threshold) return;
      ModuleEntry& e = *entries[v.id];
      std::vector<std::unique_ptr<HotInstance>> dropped;
      std::shared_ptr<ModuleCode> code;
      {
        MutexLock lock(e.mu);
        Tier before = std::min(e.tier, CurrentTier(e));
        if (!drop_code) {
          TakeHotLocked(e, e.options.min_hot, dropped);
          e.target_hot = std::min(e.target_hot, e.options.min_hot);
          if (e.target_hot == 0) e.tier = std::max(e.tier, Tier::kWarm);
        } else if (e.code && e.disk.held() && e.hot.empty() &&
                   e.target_hot == 0) {
          code = std::move(e.code);
          e.prepared.reset();
          e.tier = Tier::kColdDisk;
        }
        if (!dropped.empty() || code) {
          ++e.placement_gen;
          CountMove(e, before, std::min(e.tier, CurrentTier(e)), events);
        }
      }
      // Dropped here, outside the lock, so the ledger sees the bytes go.
    }
  }
}

}  // namespace

void MaintainerLoop(PoolState& s) {
  MutexLock lock(s.maintain_mu);
  while (!s.shutdown.load()) {
    Nanos due = s.clock->DeadlineAfter(s.options.maintain_interval);
    s.maintain_cv.WaitUntil(lock, *s.clock, due,
                            [&] { return s.maintain_requested || s.shutdown; });
    if (s.shutdown.load()) break;
    s.maintain_requested.store(false);
    lock.Unlock();
    Maintain(s);
    lock.Lock();
    s.maintain_cv.WaitUntil(lock, SteadyClock(),
                            SteadyClock().DeadlineAfter(kMinPassGap),
                            [&] { return s.shutdown.load(); });
  }
}

std::vector<std::shared_ptr<ModuleEntry>> Entries(const PoolState& s) {
  internal::ReaderLock lock(s.modules_mu);
  std::vector<std::shared_ptr<ModuleEntry>> out;
  out.reserve(s.modules.size());
  for (const auto& [name, entry] : s.modules) out.push_back(entry);
  return out;
}

void Pool::RunMaintenance() { Maintain(*state_); }

bool Pool::RunRequestedMaintenance() {
  if (!state_->maintain_requested.exchange(false)) return false;
  Maintain(*state_);
  return true;
}

void Maintain(PoolState& s) {
  Events events;
  {
    MutexLock plan_lock(s.plan_mu);
    Nanos cpu_start = ThreadCpuTime();
    // The maintainer must outlive any one bad pass; a failure is counted
    // and reported as an event, never swallowed.
    try {
      Nanos now = s.clock->Now();
      auto entries = Entries(s);
      std::vector<ModuleView> views;
      views.reserve(entries.size());
      for (uint32_t i = 0; i < entries.size(); ++i) {
        ModuleEntry& e = *entries[i];
        MutexLock lock(e.mu);
        views.push_back(ViewOf(e, i, now));
        e.planned_rate = views.back().rate_per_s;
      }
      PolicyLimits limits;
      limits.budget_bytes = s.pressure_bytes();
      limits.max_instances = s.options.max_instances;
      limits.hot_keep_alive = s.options.idle_timeout;
      limits.warm_keep_alive = s.options.warm_keep_alive;
      limits.now = now;

      // Pressure is reported as found, even when this pass resolves it.
      uint64_t threshold = s.pressure_bytes();
      auto usage = [&] {
        return std::to_string(s.ledger.held_bytes()) + " bytes of " +
               std::to_string(s.options.budget_bytes);
      };
      if (s.ledger.held_bytes() > threshold && !s.pressure_high.exchange(true)) {
        events.push_back({EventKind::kPressureHigh, "", usage()});
      }

      std::vector<Placement> plan = s.policy->Plan(views, limits);
      // The ranking for eviction: what the plan puts lowest goes first, and
      // within a tier the least used.
      std::vector<std::pair<Placement, double>> ranked;
      for (const Placement& p : plan) {
        if (p.id < entries.size()) ranked.push_back({p, views[p.id].rate_per_s});
      }
      std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        if (a.first.tier != b.first.tier) return a.first.tier > b.first.tier;
        if (a.first.rank != b.first.rank) return a.first.rank < b.first.rank;
        return a.second < b.second;
      });
      {
        std::vector<std::shared_ptr<ModuleEntry>> order;
        for (const auto& [p, rate] : ranked) order.push_back(entries[p.id]);
        MutexLock lock(s.order_mu);
        s.eviction_order = std::move(order);
      }
      // Demotions first, so promotions find the memory they free.
      for (const auto& [p, rate] : ranked) {
        ApplyPlacement(s, entries[p.id], p, events);
      }
      if (s.ledger.held_bytes() > threshold) {
        RelievePressure(s, entries, views, events);
      }
      if (s.ledger.held_bytes() <= threshold && s.pressure_high.exchange(false)) {
        events.push_back({EventKind::kPressureNormal, "", usage()});
      }
    } catch (const std::exception& e) {
      s.maintainer_errors.fetch_add(1, std::memory_order_relaxed);
      events.push_back({EventKind::kMaintenanceFailed, "", e.what()});
    }
    s.maintainer_runs.fetch_add(1, std::memory_order_relaxed);
    s.maintainer_cpu_ns.fetch_add((ThreadCpuTime() - cpu_start).count(),
                                  std::memory_order_relaxed);
  }
  s.events.Publish(events);
}

void PoolState::RequestMaintenance() {
  if (maintain_requested.exchange(true)) return;
  MutexLock lock(maintain_mu);
  maintain_cv.NotifyOne();
}

void PoolState::CheckPressure() {
  bool high = ledger.held_bytes() > pressure_bytes();
  if (high != pressure_high.load(std::memory_order_relaxed)) {
    RequestMaintenance();
  }
}

}  // namespace strata
