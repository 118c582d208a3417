// The pool's internal state, shared by pool.cc (requests), maintainer.cc
// (policy and background work) and pool_metrics.cc (snapshots).
#ifndef STRATA_POOL_POOL_STATE_H_
#define STRATA_POOL_POOL_STATE_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "strata/module_cache.h"
#include "strata/pool.h"
#include "strata/rate.h"

namespace strata {

// An exponentially weighted mean of a measured cost, in seconds.
struct CostEstimate {
  double seconds = 0;
  void Add(std::chrono::nanoseconds d) {
    double s = std::chrono::duration<double>(d).count();
    seconds = seconds == 0 ? s : 0.8 * seconds + 0.2 * s;
  }
};

struct HotInstance {
  std::unique_ptr<Instance> instance;
  std::chrono::nanoseconds created{0};
  uint64_t resident_bytes = 0;  // measured when it entered the hot tier
  uint64_t measured_calls = 0;  // its calls() when resident_bytes was read
};

// One registered module and everything the pool holds of it.
struct ModuleEntry {
  ModuleEntry(uint32_t id, std::string name, Bytes bytes, std::string hash,
              ModuleOptions options, std::chrono::nanoseconds half_life)
      : id(id),
        name(std::move(name)),
        bytes(std::move(bytes)),
        hash(std::move(hash)),
        options(std::move(options)),
        rate(half_life) {}

  const uint32_t id;
  const std::string name;
  const Bytes bytes;         // the absent tier: always kept
  const std::string hash;
  const ModuleOptions options;

  std::mutex load_mu;  // serialises compile / deserialize / link
  std::mutex mu;       // guards everything below
  std::condition_variable capacity_cv;

  std::shared_ptr<const Module> compiled;          // cold-memory and up
  std::shared_ptr<const PreparedModule> prepared;  // warm and up
  bool on_disk = false;                            // cold-disk entry exists
  std::vector<HotInstance> hot;                    // LIFO
  Tier tier = Tier::kAbsent;  // what the policy last asked for
  uint32_t target_hot = 0;
  uint32_t in_use = 0;
  uint32_t refilling = 0;
  bool removed = false;

  DecayingRate rate;
  double planned_rate = 0;  // the rate the last maintenance pass saw
  std::chrono::nanoseconds last_acquire{0};
  CostEstimate instantiate, load, compile, call;
  uint64_t instance_bytes = 0;  // latest measured hot instance
  uint64_t code_bytes = 0;      // size of the compiled artifact

  ModuleMetrics counters;  // name/tier/hot fields filled at snapshot time

  // Hot instances the refill thread should still make. A reuse module's
  // leased instances come back to hot, so they count as stock. Under mu.
  bool BelowHotTarget() const {
    size_t stock = hot.size() + refilling +
                   (options.reuse == ReuseMode::kReuse ? in_use : 0);
    return !removed && stock < target_hot;
  }
};

struct PoolState {
  Engine* engine = nullptr;
  PoolOptions options;
  std::unique_ptr<Policy> policy;
  std::shared_ptr<Clock> clock;
  std::unique_ptr<ModuleCache> cache;
  bool own_cache_dir = false;

  mutable std::shared_mutex modules_mu;
  std::map<std::string, std::shared_ptr<ModuleEntry>> modules;
  uint32_t next_id = 0;

  // Pool-wide leased + hot instances, for max_instances.
  std::atomic<uint32_t> instances{0};
  // Measured bytes held: hot and leased instances plus code in memory.
  std::atomic<int64_t> used_bytes{0};
  std::atomic<bool> shutdown{false};
  std::atomic<int> acquiring{0};  // Acquire calls in progress
  std::atomic<bool> pressure_high{false};

  Histogram acquire_latency, call_latency;
  Histogram acquire_by_source[kServedFromCount];
  std::atomic<uint64_t> exhausted{0};

  std::mutex listeners_mu;
  std::vector<std::shared_ptr<EventListener>> listeners;

  // Maintainer thread.
  std::mutex maintain_mu;
  std::condition_variable maintain_cv;
  std::atomic<bool> maintain_requested{false};
  std::mutex plan_mu;  // one RunMaintenance at a time
  uint64_t maintainer_runs = 0;
  double maintainer_cpu_s = 0;
  std::thread maintainer;

  // Refill thread: modules whose hot tier is below target.
  std::mutex refill_mu;
  std::condition_variable refill_cv, refill_idle_cv;
  std::deque<std::shared_ptr<ModuleEntry>> refill_queue;
  bool refill_busy = false;
  std::thread refiller;

  void Emit(EventKind kind, const std::string& module, std::string detail);
  // Wakes the maintainer; cheap when a request is already pending.
  void RequestMaintenance();
  // Requests maintenance if measured usage crossed the pressure threshold
  // in either direction since the last pass.
  void CheckPressure();
  void QueueRefill(std::shared_ptr<ModuleEntry> entry);
  uint64_t budget_left() const;
};

}  // namespace strata

#endif  // STRATA_POOL_POOL_STATE_H_
