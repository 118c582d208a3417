// Placement policy: given what the pool measured about each module, decide
// which tier each module should occupy and how many hot instances it should
// keep. The policy decides; the pool acts (policy never touches instances).
//
// Thread contract: a pool calls Plan() from one thread at a time (its
// maintainer); a Policy object serves one pool.
#ifndef STRATA_POLICY_H_
#define STRATA_POLICY_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace strata {

// The physical states a module can be in, from most to least prepared.
enum class Tier {
  kHot = 0,         // live, initialised instances
  kWarm = 1,        // pre-linked InstancePre (memory image mapped on use)
  kColdMemory = 2,  // compiled code in memory
  kColdDisk = 3,    // compiled code serialized on disk
  kAbsent = 4,      // bytes only
};
inline constexpr int kTierCount = 5;
const char* TierName(Tier tier);

// What the pool knows about one module when the policy runs. Costs and sizes
// are measurements (0 until first measured).
struct ModuleView {
  uint32_t id = 0;              // this pass's index, echoed in the Placement
  uint32_t key = 0;             // the module's, stable across passes
  double rate_per_s = 0;        // decayed acquire rate
  double idle_s = 0;            // since the last acquire
  uint32_t hot = 0;             // idle hot instances now
  uint32_t in_use = 0;          // leased instances now
  uint32_t min_hot = 0;         // the module's floor (ModuleOptions)
  uint32_t max_concurrent = 0;  // the module's lease cap (0: the pool's)
  bool reuse = false;           // instances return to hot after a call
  double instantiate_s = 0;     // warm -> hot cost (instantiate + init)
  double load_s = 0;            // cold -> warm cost (deserialize or link)
  double compile_s = 0;         // absent -> cold cost
  double call_s = 0;            // mean call duration
  uint64_t instance_bytes = 0;  // what the ledger charges one instance
  uint64_t code_bytes = 0;      // compiled code held by warm/cold-memory
  uint64_t acquires = 0;        // since registration (a policy diffs them)
};

struct PolicyLimits {
  uint64_t budget_bytes = 0;    // what hot instances and code may hold
  uint32_t max_instances = 0;   // pool-wide hot + in-use instance cap
  std::chrono::nanoseconds hot_keep_alive{};   // PoolOptions::idle_timeout
  std::chrono::nanoseconds warm_keep_alive{};
  std::chrono::nanoseconds now{};  // the pool's clock at this pass
};

struct Placement {
  uint32_t id = 0;
  Tier tier = Tier::kColdMemory;
  uint32_t target_hot = 0;  // hot instances to keep stocked
  // Within a tier, what a request that needs room evicts first: the lowest
  // rank (ties: the lowest rate). 0 unless the policy ranks its modules.
  double rank = 0;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual const char* name() const = 0;
  // One placement per module in `modules`, in any order.
  virtual std::vector<Placement> Plan(const std::vector<ModuleView>& modules,
                                      const PolicyLimits& limits) = 0;
};

// The seed report's rules, kept to compare against: access frequency
// (each module's rate relative to the busiest module's, in [0, 1]) above 0.5
// is hot, above 0.2 warm, else cold; at most max(max_instances / 4, 1) hot
// instances and max(max_instances / 2, 2) warm modules pool-wide.
std::unique_ptr<Policy> MakeRiptidePolicy();

// The default: cost-aware greedy placement under the memory budget. Every
// possible step up (cold -> warm, one more hot instance) is valued at
// rate x time it saves per request / bytes it holds (Greedy-Dual, as in
// FaasCache) and the budget is filled from a max-heap of those values; idle
// modules fall one tier per keep-alive period (RainbowCake). A module's rate
// is weighted by how due it is, from a histogram of its idle times, so a
// periodic module holds memory around its next call rather than right after
// the last.
std::unique_ptr<Policy> MakeStrataPolicy();

// "riptide" or "strata"; nullptr for an unknown name.
std::unique_ptr<Policy> MakePolicy(const std::string& name);

// Hot instances a module can keep busy: those taken while one is being
// replaced or is serving (Little's law over instantiate + call time),
// doubled for bursts, plus one; at least 1, at most its cap and
// `limits.max_instances`.
uint32_t HotInstancesNeeded(const ModuleView& m, const PolicyLimits& limits);

}  // namespace strata

#endif  // STRATA_POLICY_H_
