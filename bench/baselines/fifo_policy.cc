// The simple queue the seed report compared against, repaired: a FIFO
// queue of ready instances per module, with no tiers. Modules compete for
// the budget by recency of use: every module in use gets one ready instance
// while the budget has room, most recently used first; what is left deepens
// the queues, in the same order, to at most 4. (Before, the budget was
// split evenly over all modules, so below the working set no queue held
// anything.)
#include <algorithm>

#include "baselines/baselines.h"

namespace strata::bench {
namespace {

constexpr uint32_t kMaxDepth = 4;

class FifoPolicy final : public Policy {
 public:
  const char* name() const override { return "fifo"; }

  std::vector<Placement> Plan(const std::vector<ModuleView>& modules,
                              const PolicyLimits& limits) override {
    std::vector<uint32_t> order;
    std::vector<double> rank(modules.size());
    for (uint32_t i = 0; i < modules.size(); ++i) {
      rank[i] = -modules[i].idle_s;
      if (modules[i].acquires > 0 || modules[i].min_hot > 0) order.push_back(i);
    }
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return modules[a].idle_s < modules[b].idle_s;
    });
    // One ready instance each first...
    std::vector<Placement> plan = AliveInOrder(modules, order, rank, limits, 1);
    uint64_t used = 0;
    uint32_t instances = 0;
    for (uint32_t i = 0; i < modules.size(); ++i) {
      if (plan[i].tier != Tier::kHot) continue;
      used += modules[i].code_bytes + modules[i].instance_bytes;
      ++instances;
    }
    // ...then deeper queues, round by round in recency order.
    for (uint32_t depth = 2; depth <= kMaxDepth; ++depth) {
      for (uint32_t i : order) {
        const ModuleView& m = modules[i];
        uint64_t instance = std::max<uint64_t>(m.instance_bytes, 1);
        if (plan[i].tier != Tier::kHot || used + instance > limits.budget_bytes ||
            instances >= limits.max_instances) {
          continue;
        }
        plan[i].target_hot = depth;
        used += instance;
        ++instances;
      }
    }
    return plan;
  }
};

}  // namespace

std::unique_ptr<Policy> MakeFifoPolicy() { return std::make_unique<FifoPolicy>(); }

}  // namespace strata::bench
