// Background work: the maintainer applies the policy every interval and on
// events; the refill thread keeps hot tiers stocked off the request path.
#include <time.h>

#include <algorithm>

#include "internal/residency.h"
#include "pool/pool_internal.h"

namespace strata {
namespace {

using Nanos = std::chrono::nanoseconds;
constexpr Nanos kMinPassGap = std::chrono::milliseconds(10);

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

void MaintainerLoop(PoolState& s) {
  std::unique_lock lock(s.maintain_mu);
  while (!s.shutdown.load()) {
    s.maintain_cv.wait_for(lock, s.options.maintain_interval, [&] {
      return s.maintain_requested || s.shutdown.load();
    });
    if (s.shutdown.load()) break;
    s.maintain_requested.store(false);
    lock.unlock();
    // The maintainer must outlive any one bad pass.
    try {
      Maintain(s);
    } catch (const std::exception&) {
    }
    lock.lock();
    // Events can arrive on every acquire; a short gap between passes bounds
    // the maintainer's CPU while still reacting within milliseconds.
    s.maintain_cv.wait_for(lock, std::min<Nanos>(s.options.maintain_interval,
                                                 kMinPassGap),
                           [&] { return s.shutdown.load(); });
  }
}

// Instantiates one hot instance for `e` if it is still below target and
// the pool has room; true if more are needed.
bool RefillOne(PoolState& s, const std::shared_ptr<ModuleEntry>& entry) {
  ModuleEntry& e = *entry;
  {
    std::lock_guard<std::mutex> lock(e.mu);
    if (!e.BelowHotTarget()) return false;
    if (s.instances.load() >= s.options.max_instances) return false;
    if (static_cast<uint64_t>(std::max<int64_t>(s.used_bytes.load(), 0)) +
            e.instance_bytes > s.options.budget_bytes) {
      return false;
    }
    ++e.refilling;
    s.instances.fetch_add(1);
  }
  ServedFrom from;
  auto prepared = EnsurePrepared(s, e, &from);
  Result<HotInstance> made =
      prepared.ok() ? MakeInstance(s, e, **prepared, /*background=*/true)
                    : Result<HotInstance>(prepared.status());
  std::lock_guard<std::mutex> lock(e.mu);
  --e.refilling;
  if (!made.ok() || !e.BelowHotTarget()) {
    s.instances.fetch_sub(1);
    return false;
  }
  s.used_bytes.fetch_add(static_cast<int64_t>(made->resident_bytes));
  e.hot.push_back(std::move(*made));
  e.capacity_cv.notify_one();
  return e.BelowHotTarget();
}

void RefillLoop(PoolState& s) {
  std::unique_lock lock(s.refill_mu);
  while (true) {
    s.refill_cv.wait(lock, [&] {
      return !s.refill_queue.empty() || s.shutdown.load();
    });
    if (s.shutdown.load()) break;
    auto entry = std::move(s.refill_queue.front());
    s.refill_queue.pop_front();
    s.refill_busy = true;
    lock.unlock();
    bool more = false;
    try {
      more = RefillOne(s, entry);
    } catch (const std::exception&) {
    }
    lock.lock();
    s.refill_busy = false;
    if (more) s.refill_queue.push_back(std::move(entry));
    if (s.refill_queue.empty()) s.refill_idle_cv.notify_all();
  }
  s.refill_idle_cv.notify_all();
}

}  // namespace

std::vector<std::shared_ptr<ModuleEntry>> Entries(const PoolState& s) {
  std::shared_lock lock(s.modules_mu);
  std::vector<std::shared_ptr<ModuleEntry>> out;
  out.reserve(s.modules.size());
  for (const auto& [name, entry] : s.modules) out.push_back(entry);
  return out;
}

void StartBackground(PoolState& s) {
  s.maintainer = std::thread([&s] { MaintainerLoop(s); });
  s.refiller = std::thread([&s] { RefillLoop(s); });
}

void StopBackground(PoolState& s) {
  {
    std::lock_guard<std::mutex> l(s.maintain_mu);
    s.maintain_cv.notify_all();
  }
  {
    std::lock_guard<std::mutex> l(s.refill_mu);
    s.refill_cv.notify_all();
  }
  if (s.maintainer.joinable()) s.maintainer.join();
  if (s.refiller.joinable()) s.refiller.join();
}

void PoolState::Emit(EventKind kind, const std::string& module,
                       std::string detail) {
  std::lock_guard<std::mutex> lock(listeners_mu);
  Event event{kind, module, std::move(detail)};
  for (auto& l : listeners) l->OnEvent(event);
}

void PoolState::RequestMaintenance() {
  if (maintain_requested.exchange(true)) return;
  std::lock_guard<std::mutex> lock(maintain_mu);
  maintain_cv.notify_one();
}

void PoolState::CheckPressure() {
  auto used = static_cast<uint64_t>(std::max<int64_t>(used_bytes.load(), 0));
  bool high = used > options.budget_bytes * options.pressure_threshold;
  if (high != pressure_high.load()) RequestMaintenance();
}

void PoolState::QueueRefill(std::shared_ptr<ModuleEntry> entry) {
  if (!options.background) return;
  std::lock_guard<std::mutex> lock(refill_mu);
  // One queued request per module is enough: RefillOne re-queues.
  for (const auto& queued : refill_queue) {
    if (queued == entry) return;
  }
  refill_queue.push_back(std::move(entry));
  refill_cv.notify_one();
}

uint64_t PoolState::budget_left() const {
  int64_t used = std::max<int64_t>(used_bytes.load(), 0);
  return options.budget_bytes - std::min<uint64_t>(options.budget_bytes, used);
}

void Pool::WaitForRefills() {
  PoolState& s = *state_;
  if (!s.options.background) return;
  std::unique_lock lock(s.refill_mu);
  s.refill_idle_cv.wait(lock, [&] {
    return (s.refill_queue.empty() && !s.refill_busy) || s.shutdown.load();
  });
}

void Pool::RunMaintenance() { Maintain(*state_); }

void Maintain(PoolState& s) {
  std::lock_guard<std::mutex> plan_lock(s.plan_mu);
  double cpu_start = ThreadCpuSeconds();
  Nanos now = s.clock->Now();
  auto entries = Entries(s);

  std::vector<ModuleView> views;
  views.reserve(entries.size());
  for (uint32_t i = 0; i < entries.size(); ++i) {
    ModuleEntry& e = *entries[i];
    std::lock_guard<std::mutex> lock(e.mu);
    ModuleView v;
    v.id = i;
    v.rate_per_s = e.rate.PerSecond(now);
    v.idle_s = e.last_acquire.count() == 0
                   ? 1e9
                   : std::chrono::duration<double>(now - e.last_acquire).count();
    v.hot = static_cast<uint32_t>(e.hot.size());
    v.in_use = e.in_use;
    v.min_hot = e.options.min_hot;
    v.max_instances = e.options.max_concurrent;
    v.reuse = e.options.reuse == ReuseMode::kReuse;
    v.instantiate_s = e.instantiate.seconds;
    v.load_s = e.load.seconds > 0 ? e.load.seconds : e.compile.seconds;
    v.compile_s = e.compile.seconds;
    v.call_s = e.call.seconds;
    v.instance_bytes = e.instance_bytes;
    v.code_bytes = e.code_bytes;
    e.planned_rate = v.rate_per_s;
    views.push_back(v);
  }
  PolicyLimits limits;
  limits.budget_bytes =
      static_cast<uint64_t>(s.options.budget_bytes * s.options.pressure_threshold);
  limits.max_instances = s.options.max_instances;
  limits.hot_keep_alive = s.options.idle_timeout;
  limits.warm_keep_alive = s.options.warm_keep_alive;

  // Pressure is reported as found, even when this pass resolves it.
  uint64_t threshold = limits.budget_bytes;
  auto used = [&] {
    return static_cast<uint64_t>(std::max<int64_t>(s.used_bytes.load(), 0));
  };
  if (used() > threshold && !s.pressure_high.exchange(true)) {
    s.Emit(EventKind::kPressureHigh, "",
           std::to_string(used()) + " bytes of " +
               std::to_string(s.options.budget_bytes));
  }

  // Demotions first, so promotions find the memory they free.
  std::vector<Placement> plan = s.policy->Plan(views, limits);
  std::sort(plan.begin(), plan.end(), [&](const Placement& a, const Placement& b) {
    return a.tier > b.tier;
  });
  for (const Placement& p : plan) ApplyPlacement(s, entries[p.id], p);

  // Still over (a policy that ignores the budget, leases, min_hot, growth):
  // demote the least used modules, hot instances first, then their code to
  // disk, until back under the threshold.
  if (used() > threshold) {
    std::sort(views.begin(), views.end(), [](const ModuleView& a, const ModuleView& b) {
      return a.rate_per_s < b.rate_per_s;
    });
    for (bool drop_code : {false, true}) {
      for (const ModuleView& v : views) {
        if (used() <= threshold) break;
        ModuleEntry& e = *entries[v.id];
        std::lock_guard<std::mutex> lock(e.mu);
        if (!drop_code) {
          if (DropHot(s, e, e.options.min_hot) > 0) ++e.counters.demotions;
          e.target_hot = std::min(e.target_hot, e.options.min_hot);
          if (e.target_hot == 0) e.tier = CurrentTier(e);
        } else if (e.compiled && e.on_disk && e.hot.empty() && e.target_hot == 0) {
          ReleaseCode(s, e);
          e.tier = Tier::kColdDisk;
          ++e.counters.demotions;
        }
      }
    }
  }
  if (used() <= threshold && s.pressure_high.exchange(false)) {
    s.Emit(EventKind::kPressureNormal, "",
           std::to_string(used()) + " bytes of " +
               std::to_string(s.options.budget_bytes));
  }
  ++s.maintainer_runs;
  s.maintainer_cpu_s += ThreadCpuSeconds() - cpu_start;
}

}  // namespace strata
