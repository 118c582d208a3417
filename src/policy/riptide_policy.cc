// The seed report's placement rules, reproduced to be compared honestly.
#include <algorithm>
#include <queue>

#include "strata/policy.h"

namespace strata {
namespace {

class RiptidePolicy final : public Policy {
 public:
  const char* name() const override { return "riptide"; }

  std::vector<Placement> Plan(const std::vector<ModuleView>& modules,
                              const PolicyLimits& limits) override {
    double max_rate = 0;
    for (const auto& m : modules) max_rate = std::max(max_rate, m.rate_per_s);
    uint32_t hot_left = std::max<uint32_t>(limits.max_instances / 4, 1);
    uint32_t warm_left = std::max<uint32_t>(limits.max_instances / 2, 2);

    // Visit modules from most to least frequently accessed.
    auto by_rate = [&](uint32_t a, uint32_t b) {
      return modules[a].rate_per_s < modules[b].rate_per_s;
    };
    std::priority_queue<uint32_t, std::vector<uint32_t>, decltype(by_rate)>
        heap(by_rate);
    for (uint32_t i = 0; i < modules.size(); ++i) heap.push(i);

    std::vector<Placement> plan;
    plan.reserve(modules.size());
    while (!heap.empty()) {
      const ModuleView& m = modules[heap.top()];
      heap.pop();
      double frequency = max_rate > 0 ? m.rate_per_s / max_rate : 0;
      Placement p{m.id, Tier::kColdMemory, 0};
      if (frequency > 0.5 && hot_left > 0) {
        p.tier = Tier::kHot;
        p.target_hot = std::min(hot_left, std::max<uint32_t>(m.min_hot, 1));
        hot_left -= p.target_hot;
      } else if (frequency > 0.2 && warm_left > 0) {
        p.tier = Tier::kWarm;
        --warm_left;
      }
      plan.push_back(p);
    }
    return plan;
  }
};

}  // namespace

std::unique_ptr<Policy> MakeRiptidePolicy() {
  return std::make_unique<RiptidePolicy>();
}

}  // namespace strata
