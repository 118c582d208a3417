// FaasCache's Greedy-Dual-Size-Frequency keep-alive (Fuerst and Sharma,
// "FaasCache: Keeping Serverless Computing Alive with Greedy-Dual Caching",
// ASPLOS '21). Keeping a function alive is caching it; each cached
// function has a priority
//     priority = clock + frequency x cost / size
// where frequency counts its invocations since it was last cached, cost is
// its cold-start cost (here: loading its code from disk and instantiating,
// as measured) and size the memory it holds (code and instances, as
// charged). When memory is short the lowest priority is evicted and the
// clock becomes that priority, so long-unused functions age out. Nothing
// expires by time alone.
#include <algorithm>
#include <unordered_map>

#include "baselines/baselines.h"

namespace strata::bench {
namespace {

class GdsfPolicy final : public Policy {
 public:
  const char* name() const override { return "gdsf"; }

  std::vector<Placement> Plan(const std::vector<ModuleView>& modules,
                              const PolicyLimits& limits) override {
    std::vector<uint32_t> cached;
    std::vector<double> rank(modules.size(), 0);
    for (uint32_t i = 0; i < modules.size(); ++i) {
      const ModuleView& m = modules[i];
      Entry& e = entries_[m.key];
      uint64_t fresh = m.acquires - std::min(m.acquires, e.seen);
      e.seen = m.acquires;
      if (fresh > 0) {
        e.cached = true;
        e.frequency += fresh;
      }
      if (!e.cached && m.min_hot == 0) continue;
      double cost = std::max(m.load_s + m.instantiate_s, 1e-9);
      double size = static_cast<double>(std::max<uint64_t>(m.code_bytes, 1) +
                                        std::max<uint64_t>(m.instance_bytes, 1));
      // A priority is set when the function is used (it ages relative to
      // the clock of that moment) and kept while it stays cached.
      if (fresh > 0) e.priority = clock_ + e.frequency * cost / size;
      rank[i] = e.priority;
      cached.push_back(i);
    }
    std::sort(cached.begin(), cached.end(),
              [&](uint32_t a, uint32_t b) { return rank[a] > rank[b]; });
    std::vector<Placement> plan = AliveInOrder(modules, cached, rank, limits);
    // What did not fit is evicted: the clock rises to the highest priority
    // evicted, and the evicted start counting afresh.
    for (uint32_t i : cached) {
      if (plan[i].tier == Tier::kHot) continue;
      Entry& e = entries_[modules[i].key];
      clock_ = std::max(clock_, e.priority);
      e = Entry{.seen = e.seen};
    }
    return plan;
  }

 private:
  struct Entry {
    uint64_t seen = 0;       // acquires already counted
    uint64_t frequency = 0;  // since it was last cached
    double priority = 0;
    bool cached = false;
  };
  double clock_ = 0;
  std::unordered_map<uint32_t, Entry> entries_;  // by ModuleView::key
};

}  // namespace

std::unique_ptr<Policy> MakeGdsfPolicy() { return std::make_unique<GdsfPolicy>(); }

}  // namespace strata::bench
