// Operations on a module's tiers, shared by the request path (pool.cc,
// lease.cc) and the background threads (maintainer.cc, background.cc).
#ifndef STRATA_POOL_POOL_INTERNAL_H_
#define STRATA_POOL_POOL_INTERNAL_H_

#include "pool/pool_state.h"

namespace strata {

// Starts / stops the maintainer, refill and loader threads. StopBackground
// joins every thread but the calling one (a listener may stop the pool from
// a pool thread); JoinBackground joins whatever is left.
void StartBackground(PoolState& s);
void StopBackground(PoolState& s);
void JoinBackground(PoolState& s);

// One pass of the policy over every module, then pressure relief.
void Maintain(PoolState& s);
// The maintainer thread's loop: a pass every interval and on request.
void MaintainerLoop(PoolState& s);

// A snapshot of the registered modules.
std::vector<std::shared_ptr<ModuleEntry>> Entries(const PoolState& s);

// Code ready to instantiate from.
struct Prepared {
  std::shared_ptr<ModuleCode> code;
  std::shared_ptr<const PreparedModule> prepared;
};

// How a piece of work may wait for capacity: a request waits in line until
// its deadline (evicting idle holdings first), background work never waits.
struct Admission {
  bool background = false;
  Nanos deadline{0};
  Events* events = nullptr;  // evictions made to admit it
  // A request that must load code reserves its instance in the same
  // reservation, here, for MakeInstance to use: two requests that each held
  // code while waiting in line for an instance would each hold what the
  // other needs until their deadlines.
  memory::Charge* instance_reserve = nullptr;
};

// The module's InstancePre, loading it from the most prepared tier there is
// (its code charged to the ledger before it is loaded); `*from` says which
// tier that was.
Result<Prepared> EnsurePrepared(PoolState& s, ModuleEntry& e,
                                const Admission& admission, ServedFrom* from)
    EXCLUDES(e.mu);

// Reserves a slot and bytes, instantiates, measures and commits: a live
// instance in no tier yet.
Result<std::unique_ptr<HotInstance>> MakeInstance(PoolState& s, ModuleEntry& e,
                                                  const Prepared& prepared,
                                                  const Admission& admission)
    EXCLUDES(e.mu);

// Writes the module's compiled code to the disk cache (unless it is there)
// and pins the entry. False if it could not be written.
bool StoreOnDisk(PoolState& s, ModuleEntry& e, const Module& module)
    EXCLUDES(e.mu);

// Frees idle holdings, least valuable first (the policy's last ranking),
// until `shortfall` is covered: hot instances above min_hot, then code of
// modules with no live instance. False if nothing could be freed.
bool Reclaim(PoolState& s, const memory::Need& shortfall, Events& events)
    EXCLUDES(s.order_mu);
// The Ledger::Reclaimer for `admission`.
memory::Ledger::Reclaimer ReclaimerFor(PoolState& s, const Admission& admission);

// Instantiates one hot instance for the module if it is below its target
// and the ledger has room without anyone waiting; true if more are needed.
bool RefillOne(PoolState& s, const std::shared_ptr<ModuleEntry>& entry)
    EXCLUDES(entry->mu);

// Takes back a leased instance: to hot if it may serve again, else drops it.
void ReturnInstance(PoolState& s, std::shared_ptr<ModuleEntry> entry,
                    std::unique_ptr<HotInstance> held) EXCLUDES(entry->mu);

// Moves the hot instances beyond `keep` (least recently used first) into
// `out`, to be dropped once the lock is released.
void TakeHotLocked(ModuleEntry& e, size_t keep,
                   std::vector<std::unique_ptr<HotInstance>>& out)
    REQUIRES(e.mu);
// The tier the module physically occupies now.
Tier CurrentTier(const ModuleEntry& e) REQUIRES(e.mu);
// Moves the module to the placement's tier and hot target.
void ApplyPlacement(PoolState& s, const std::shared_ptr<ModuleEntry>& entry,
                    const Placement& placement, Events& events)
    EXCLUDES(entry->mu);
// Promotion / demotion counters and events for a move from `before`.
void CountMove(ModuleEntry& e, Tier before, Tier after, Events& events)
    REQUIRES(e.mu);

// Records an acquire's latency from `start_ticks` (internal::CycleClock).
void RecordAcquire(PoolState& s, ServedFrom from, uint64_t start_ticks);

// The module registered for `bytes` when options.snapshot asks for one
// (strata/snapshot.h): from the pool's disk cache, or built and cached.
struct PoolSnapshot {
  Bytes wasm;
  std::shared_ptr<const Module> module;
  std::string init_func;
  Nanos build_time{0};  // 0: it came from the cache
};
Result<PoolSnapshot> SnapshotForPool(PoolState& s, const std::string& name,
                                     std::span<const uint8_t> bytes,
                                     const Module& compiled,
                                     const ModuleOptions& options);

Nanos Since(std::chrono::steady_clock::time_point start);

}  // namespace strata

#endif  // STRATA_POOL_POOL_INTERNAL_H_
