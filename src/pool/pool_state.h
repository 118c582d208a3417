// The pool's internal state, shared by the files of src/pool/ and by
// metrics/pool_metrics.cc.
//
// Locks, in the order they may be taken (a later one may be taken while an
// earlier one is held, never the reverse):
//   PoolState::modules_mu  the registry
//   ModuleEntry::mu        a module's tiers, counters and cap line
//   Ledger (internal)      capacity; a leaf, no callback runs under it
// One code load of a module at a time is a flag under ModuleEntry::mu
// (`loading`), not a lock held across the load, so that a request waiting
// for another's load gives up at its own deadline.
// Listeners run with none held (Events are collected, then published).
#ifndef STRATA_POOL_POOL_STATE_H_
#define STRATA_POOL_POOL_STATE_H_

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "internal/mutex.h"
#include "internal/thread_annotations.h"
#include "memory/ledger.h"
#include "strata/module_cache.h"
#include "strata/pool.h"
#include "strata/rate.h"

namespace strata {

using Nanos = std::chrono::nanoseconds;
using internal::CondVar;
using internal::Mutex;
using internal::MutexLock;

// An exponentially weighted mean of a measured cost, in seconds.
struct CostEstimate {
  double seconds = 0;
  void Add(Nanos d) {
    double s = std::chrono::duration<double>(d).count();
    seconds = seconds == 0 ? s : 0.8 * seconds + 0.2 * s;
  }
};

// Compiled code in memory, charged to the ledger for as long as it lives:
// the module's entry holds it while the module is cold-memory or above, and
// every instance made from it holds it too, since wasmtime keeps the code
// mapped while any instance of it exists.
struct ModuleCode {
  ModuleCode(std::shared_ptr<const Module> module, memory::Charge charge)
      : charge(std::move(charge)), module(std::move(module)) {}

  // Declared before the module, so destroyed after it: the bytes go back to
  // the ledger (and to a waiter) only once the code is unmapped.
  memory::Charge charge;  // the image's measured resident bytes
  std::shared_ptr<const Module> module;
  // Set by the first instance made from this code, which can cost more
  // than later ones (wasmtime fills the memory image and the new code's
  // pages are touched for the first time): that excess belongs to loading
  // the code, not to every instance.
  std::atomic<bool> instantiated{false};
};

// A live instance and what it holds: one slot and its measured bytes in the
// ledger, and its code. Hot instances sit in their module's LIFO stack; a
// Lease carries one while it is out.
struct HotInstance {
  std::shared_ptr<ModuleCode> code;  // declared first: outlives the instance
  // Declared before the instance, so released after it: a waiter granted
  // this slot and its bytes finds the engine's slot free and the memory
  // gone.
  memory::Charge charge;  // 1 slot; resident + overhead + call allowance
  std::unique_ptr<Instance> instance;
  Nanos created{0};
  Nanos leased_at{0};           // the pool clock when its lease began
  uint64_t leased_gen = 0;      // the module's placement_gen then
  uint64_t resident = 0;        // linear memory's resident pages, measured
  uint64_t measured_calls = 0;  // instance->calls() when it was measured
  uint64_t sized_bytes = 0;     // linear memory's size when it was measured
  // This lease's calls, folded into the module's figures on return (one
  // lock per request instead of one per call).
  struct {
    uint32_t calls = 0, traps = 0, timeouts = 0;
    Nanos time{0};
  } tally;
};

// Why a returned instance is not kept hot.
enum class Retire {
  kKeep,           // it goes back to hot
  kFresh,          // fresh mode: one call per instance
  kRemoved,        // the module was removed or the pool is shutting down
  kPoisoned,       // a trap, timeout or exit left it in an undefined state
  kMaxUses,
  kMaxAge,
  kGrew,           // linear memory grew past max_growth_bytes (a leak?)
  kHotFull,        // the hot tier is at its target
  kYield,          // a request is waiting for capacity: it gets the slot
  kBudget,         // its re-measured size does not fit the budget
};

// Events raised while locks are held, published once they are released.
using Events = std::vector<Event>;

// One registered module and everything the pool holds of it.
struct ModuleEntry {
  ModuleEntry(uint32_t id, std::string name, Bytes bytes, std::string hash,
              ModuleOptions options, uint32_t module_cap, Nanos half_life)
      : id(id),
        name(name),
        bytes(std::move(bytes)),
        hash(std::move(hash)),
        options(std::move(options)),
        module_cap(module_cap),
        account(std::move(name)),
        rate(half_life),
        rate_long(half_life * kLongRateFactor) {}

  // The long rate's half-life, in short ones.
  static constexpr int kLongRateFactor = 10;

  const uint32_t id;
  const std::string name;
  const Bytes bytes;  // the absent tier: always kept
  const std::string hash;
  const ModuleOptions options;
  const uint32_t module_cap;  // leases at once
  memory::Account account;    // what the ledger holds for this module
  uint64_t initial_memory_bytes = 0;  // set once at registration
  // The snapshot its bytes are, or why not (set at registration).
  struct Snapshot {
    uint64_t bytes = 0;
    std::string init_func, error;
    Nanos build_time{0};
  };

  Mutex mu;
  CondVar cap_cv;   // the module's cap line moved
  CondVar load_cv;  // a code load finished

  std::shared_ptr<ModuleCode> code GUARDED_BY(mu);  // cold-memory and up
  // The last code loaded, while any instance still holds it: reloading
  // reuses it instead of mapping a second copy.
  std::weak_ptr<ModuleCode> last_code GUARDED_BY(mu);
  std::shared_ptr<const PreparedModule> prepared GUARDED_BY(mu);  // warm, up
  ModuleCache::Pin disk GUARDED_BY(mu);  // cold-disk: our entry is pinned
  std::vector<std::unique_ptr<HotInstance>> hot GUARDED_BY(mu);  // LIFO
  Tier tier GUARDED_BY(mu) = Tier::kAbsent;  // what the policy last asked for
  uint64_t placement_gen GUARDED_BY(mu) = 0;  // bumped by every placement
  uint32_t target_hot GUARDED_BY(mu) = 0;
  uint32_t in_use GUARDED_BY(mu) = 0;    // leases out, and acquires building
  uint32_t building GUARDED_BY(mu) = 0;  // instances being made (any thread)
  // Acquires waiting for the module's own cap, oldest first.
  std::deque<const void*> cap_line GUARDED_BY(mu);
  bool removed GUARDED_BY(mu) = false;
  // A code load (compile, deserialize, link) is under way: one at a time,
  // and the others wait for it on load_cv, each within its own deadline.
  bool loading GUARDED_BY(mu) = false;

  // A lease came back, or an acquire failed after taking its place: the
  // next in the cap line may go, and RemoveModule may be waiting for the
  // last one.
  void ReleaseLease() REQUIRES(mu) {
    --in_use;
    if (!cap_line.empty() || removed) cap_cv.NotifyAll();
  }

  // Acquires per second over a short half-life (it follows bursts) and a
  // long one (it remembers a module used every few minutes); the policy
  // sees the larger.
  DecayingRate rate GUARDED_BY(mu);
  DecayingRate rate_long GUARDED_BY(mu);
  double Rate(Nanos now) const REQUIRES(mu) {
    return std::max(rate.PerSecond(now), rate_long.PerSecond(now));
  }
  double planned_rate GUARDED_BY(mu) = 0;  // the rate the last pass saw
  Nanos last_acquire GUARDED_BY(mu){0};
  uint64_t acquires GUARDED_BY(mu) = 0;  // since registration
  CostEstimate instantiate GUARDED_BY(mu);  // from code instantiated before
  CostEstimate first_instantiate GUARDED_BY(mu);  // the first from new code
  CostEstimate load GUARDED_BY(mu);
  CostEstimate compile GUARDED_BY(mu);
  CostEstimate call GUARDED_BY(mu);
  // The cost of making an instance, and of bringing code from disk to warm.
  // A cold request loads the code and makes its first instance, which may
  // cost more than later ones: that excess is part of what holding the
  // code saves.
  double InstantiateSeconds() const REQUIRES(mu) {
    return instantiate.seconds > 0 ? instantiate.seconds
                                   : first_instantiate.seconds;
  }
  double LoadSeconds() const REQUIRES(mu) {
    return (load.seconds > 0 ? load.seconds : compile.seconds) +
           std::max(0.0, first_instantiate.seconds - InstantiateSeconds());
  }
  uint64_t instance_bytes GUARDED_BY(mu) = 0;  // latest measured instance
  // The most a call has dirtied, decaying: what each lease is charged for.
  uint64_t call_growth_bytes GUARDED_BY(mu) = 0;
  uint64_t code_bytes GUARDED_BY(mu) = 0;  // latest measured image
  Snapshot snapshot GUARDED_BY(mu);
  std::atomic<uint64_t> returns{0};  // returned instances, for sampling
  ModuleMetrics counters GUARDED_BY(mu);   // name/tier/hot filled at snapshot

  // Hot instances the refill thread should still make. A reuse module's
  // leased instances come back to hot, so they count as stock.
  bool BelowHotTarget() const REQUIRES(mu) {
    size_t stock = hot.size() + building +
                   (options.reuse == ReuseMode::kReuse ? in_use : 0);
    return !removed && stock < target_hot;
  }
};

// Listeners, and publishing events to them outside every lock.
class EventHub {
 public:
  void Add(std::shared_ptr<EventListener> listener) EXCLUDES(mu_);
  // Calls every listener with each event; an exception is counted, and the
  // first few are reported on stderr.
  void Publish(const Events& events) EXCLUDES(mu_);
  uint64_t errors() const { return errors_.load(std::memory_order_relaxed); }

 private:
  Mutex mu_;
  std::vector<std::shared_ptr<EventListener>> listeners_ GUARDED_BY(mu_);
  std::atomic<uint64_t> errors_{0};
};

// Work queued for a background thread, one entry per module at most.
class WorkQueue {
 public:
  void Push(std::shared_ptr<ModuleEntry> entry) EXCLUDES(mu_);
  // The next module, or nullptr once stopped.
  std::shared_ptr<ModuleEntry> Pop() EXCLUDES(mu_);
  void Done() EXCLUDES(mu_);  // after the popped entry's work
  void WaitIdle() EXCLUDES(mu_);
  bool Idle() EXCLUDES(mu_);
  void Stop() EXCLUDES(mu_);

 private:
  Mutex mu_;
  CondVar cv_, idle_cv_;
  std::deque<std::shared_ptr<ModuleEntry>> queue_ GUARDED_BY(mu_);
  int busy_ GUARDED_BY(mu_) = 0;
  bool stopped_ GUARDED_BY(mu_) = false;
};

// Instances to drop, handed over by the request path: destroying an
// instance (unmapping and resetting its memory) costs more than serving a
// hot one, so a returned fresh instance is dropped here, off the request's
// thread, and measured first (what its call dirtied teaches the module's
// call allowance). Its charge stays in the ledger until it is destroyed.
class Reaper {
 public:
  struct Item {
    std::shared_ptr<ModuleEntry> entry;
    std::unique_ptr<HotInstance> held;
    bool measure = false;
    uint64_t resident_before = 0;  // its measure when it was leased
  };
  // Queues `item`; false (the caller drops it itself) once stopped or when
  // kMaxQueued items already wait, so a slow reaper cannot hold memory
  // without bound.
  bool Push(Item& item) EXCLUDES(mu_);
  // The thread's body: drops what is queued until stopped.
  void Run(PoolState& s) EXCLUDES(mu_);
  void WaitIdle() EXCLUDES(mu_);
  bool Idle() EXCLUDES(mu_);
  void Stop() EXCLUDES(mu_);

 private:
  static constexpr size_t kMaxQueued = 256;
  Mutex mu_;
  CondVar cv_, idle_cv_;
  std::vector<Item> queue_ GUARDED_BY(mu_);
  bool busy_ GUARDED_BY(mu_) = false;
  bool stopped_ GUARDED_BY(mu_) = false;
};

// Drops `item`'s instance, measuring it first if asked (the call
// allowance); then, its bytes and slot given back, refills its module's hot
// tier if it is below target (a refill queued before would have found no
// room at the budget's edge).
void Reap(PoolState& s, Reaper::Item& item);

struct PoolState {
  PoolState(Engine* engine, PoolOptions options, std::unique_ptr<Policy> policy,
            std::shared_ptr<Clock> clock, std::shared_ptr<ModuleCache> cache);

  Engine* const engine;
  const PoolOptions options;
  const std::unique_ptr<Policy> policy;  // used by Maintain only
  const std::shared_ptr<Clock> clock;
  // Declared before `modules`: the entries' pins and charges release into
  // these when the entries go.
  const std::shared_ptr<ModuleCache> cache;
  memory::Ledger ledger;

  mutable internal::SharedMutex modules_mu;
  std::map<std::string, std::shared_ptr<ModuleEntry>> modules
      GUARDED_BY(modules_mu);
  uint32_t next_id GUARDED_BY(modules_mu) = 0;

  std::atomic<bool> shutdown{false};
  std::atomic<bool> pressure_high{false};

  // Acquire latency by the tier that served (their counts are the pool's
  // served totals; the overall summary merges them), and call latency.
  Histogram acquire_by_source[kServedFromCount];
  Histogram call_latency;
  std::atomic<uint64_t> exhausted{0}, acquire_errors{0};
  EventHub events;

  // The policy's ranking from its last pass, least valuable first: whom to
  // evict when a request needs room.
  Mutex order_mu;
  std::vector<std::shared_ptr<ModuleEntry>> eviction_order GUARDED_BY(order_mu);

  // Maintainer thread.
  Mutex maintain_mu;
  CondVar maintain_cv;
  std::atomic<bool> maintain_requested{false};
  Mutex plan_mu ACQUIRED_BEFORE(modules_mu);  // one pass at a time
  std::atomic<uint64_t> maintainer_runs{0}, maintainer_errors{0};
  std::atomic<uint64_t> maintainer_cpu_ns{0};

  // Background threads: refills only instantiate; loads (compile,
  // deserialize, link) have their own thread, so no refill waits behind a
  // module's compile.
  WorkQueue refills, loads;
  Reaper reaper;
  std::thread maintainer, refiller, loader, reaper_thread;

  // Wakes the maintainer; cheap when a request is already pending.
  void RequestMaintenance();
  // Requests maintenance if held bytes crossed the pressure threshold in
  // either direction since the last pass.
  void CheckPressure();
  void QueueRefill(std::shared_ptr<ModuleEntry> entry);
  void QueueLoad(std::shared_ptr<ModuleEntry> entry);
  uint64_t pressure_bytes() const {
    return static_cast<uint64_t>(options.budget_bytes *
                                 options.pressure_threshold);
  }
};

}  // namespace strata

#endif  // STRATA_POOL_POOL_STATE_H_
