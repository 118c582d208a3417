// What wasmtime recommends for serving, and `wasmtime serve` does: every
// module pre-linked (an InstancePre: warm) and a fresh instance made for
// each request; no instance is kept. Code that does not fit the budget
// stays on disk, the least used first out.
#include <algorithm>

#include "baselines/baselines.h"

namespace strata::bench {
namespace {

class InstantiatePolicy final : public Policy {
 public:
  const char* name() const override { return "instantiate"; }

  std::vector<Placement> Plan(const std::vector<ModuleView>& modules,
                              const PolicyLimits& limits) override {
    std::vector<uint32_t> order(modules.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return modules[a].rate_per_s > modules[b].rate_per_s;
    });
    std::vector<Placement> plan;
    uint64_t used = 0;
    for (uint32_t i : order) {
      const ModuleView& m = modules[i];
      // Room for the code and one instance a request makes from it.
      uint64_t need = m.code_bytes + m.instance_bytes;
      bool fits = used + need <= limits.budget_bytes;
      if (fits) used += m.code_bytes;
      plan.push_back({m.id, fits ? Tier::kWarm : Tier::kColdDisk, 0,
                      m.rate_per_s});
    }
    return plan;
  }
};

}  // namespace

std::unique_ptr<Policy> MakeInstantiatePolicy() {
  return std::make_unique<InstantiatePolicy>();
}

}  // namespace strata::bench
