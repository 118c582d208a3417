// Operations on a module's tiers, shared by the request path (pool.cc) and
// the background threads (maintainer.cc). "Under e.mu" marks functions whose
// caller holds the module's lock.
#ifndef STRATA_POOL_POOL_INTERNAL_H_
#define STRATA_POOL_POOL_INTERNAL_H_

#include "pool/pool_state.h"

namespace strata {

// Starts / stops the maintainer and refill threads.
void StartBackground(PoolState& s);
void StopBackground(PoolState& s);

// One pass of the policy over every module, then pressure relief.
void Maintain(PoolState& s);

// Takes back a leased instance: to hot if it may serve again, else drops it.
void ReturnInstance(PoolState& s, std::shared_ptr<ModuleEntry> entry,
                    std::unique_ptr<Instance> instance,
                    std::chrono::nanoseconds created, uint64_t counted_bytes,
                    uint64_t measured_calls);

// Makes `module` the entry's cold-memory code and writes it to the disk
// cache (measuring its size) unless it is there already.
void InstallCompiled(PoolState& s, ModuleEntry& e,
                     std::shared_ptr<const Module> module);

// A snapshot of the registered modules.
std::vector<std::shared_ptr<ModuleEntry>> Entries(const PoolState& s);

// The entry's InstancePre, loading it from the most prepared tier there is;
// `*from` says which tier that was.
Result<std::shared_ptr<const PreparedModule>> EnsurePrepared(
    PoolState& s, ModuleEntry& e, ServedFrom* from);

// Instantiates and measures one instance (not yet in any tier).
Result<HotInstance> MakeInstance(PoolState& s, ModuleEntry& e,
                                 const PreparedModule& prepared,
                                 bool background);

// Why a returned instance cannot go back to hot ("" if it can). Under e.mu.
std::string ReuseVerdict(PoolState& s, ModuleEntry& e,
                         const Instance& instance,
                         std::chrono::nanoseconds created, uint64_t resident);

// Drops hot instances, least recently used first, down to `keep`. Under e.mu.
uint32_t DropHot(PoolState& s, ModuleEntry& e, uint32_t keep);
// Drops the InstancePre and the in-memory code. Under e.mu.
void ReleaseCode(PoolState& s, ModuleEntry& e);
// Frees one idle hot instance of another module to make room. Under the
// caller's e.mu; only try-locks others.
bool EvictOneIdle(PoolState& s, const std::string& except);
// The tier the module physically occupies now. Under e.mu.
Tier CurrentTier(const ModuleEntry& e);
// Moves the module to the placement's tier and hot target.
void ApplyPlacement(PoolState& s, const std::shared_ptr<ModuleEntry>& entry,
                    const Placement& placement);

void RecordAcquire(PoolState& s, ServedFrom from,
                   std::chrono::steady_clock::time_point start);
void RecordCall(PoolState& s, ModuleEntry& e, const Status& status,
                std::chrono::steady_clock::time_point start);

}  // namespace strata

#endif  // STRATA_POOL_POOL_INTERNAL_H_
