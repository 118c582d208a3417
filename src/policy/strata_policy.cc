// The default policy: fill the memory budget greedily with the steps up that
// save the most request time per byte held.
#include <algorithm>
#include <cmath>
#include <queue>
#include <unordered_map>

#include "strata/policy.h"

namespace strata {
namespace {

// Below this rate a module earns no memory (one call per ~17 minutes).
constexpr double kMinRate = 1e-3;
// Planning size of a module not yet measured: one wasm page. Admission is
// still checked against measured bytes by the pool.
constexpr uint64_t kUnmeasuredBytes = 64 * 1024;
// How far ahead a holding is valued: the chance that a request comes
// within this long, given how long the module has been idle.
constexpr double kHorizonS = 60;
// Idle times are kept in bins of this width, up to kGapRangeS.
constexpr double kGapBinS = 10;
constexpr double kGapRangeS = 3600;

struct Step {
  double value_per_byte;
  uint32_t module;  // index into the views
  uint32_t hot_index;  // 0: the warm step; k: the k-th hot instance
  uint64_t bytes;
  // The first hot instance together with the code it needs, for a module
  // not yet warm: valued as one step, so a module whose start-up costs far
  // more than its load is not kept out of hot by a cheap warm step.
  bool with_code = false;
  bool operator<(const Step& o) const {
    return value_per_byte < o.value_per_byte;
  }
};

class StrataPolicy final : public Policy {
 public:
  const char* name() const override { return "strata"; }

  std::vector<Placement> Plan(const std::vector<ModuleView>& modules,
                              const PolicyLimits& limits) override {
    std::vector<Placement> plan(modules.size());
    std::vector<double> rate = Rates(modules, limits.now);
    std::priority_queue<Step> heap;
    uint64_t budget = limits.budget_bytes;
    budget -= std::min(budget, InFlightReserve(modules));
    uint32_t instances_left = limits.max_instances;
    auto spend = [&](uint64_t bytes) {
      budget -= std::min(budget, bytes);
    };

    for (uint32_t i = 0; i < modules.size(); ++i) {
      const ModuleView& m = modules[i];
      plan[i] = {m.id, Tier::kColdDisk, 0};
      // A module's floor is not up for auction.
      if (m.min_hot > 0) {
        plan[i].tier = Tier::kHot;
        plan[i].target_hot = std::min(m.min_hot, instances_left);
        instances_left -= plan[i].target_hot;
        spend(CodeBytes(m) + plan[i].target_hot * InstanceBytes(m));
      }
      if (rate[i] <= 0) continue;
      double idle = m.idle_s;
      bool warm_alive = idle < Seconds(limits.warm_keep_alive);
      if (plan[i].tier == Tier::kHot) {
        PushHot(heap, m, rate[i], i, plan[i].target_hot + 1, limits);
      } else if (warm_alive) {
        // Warm saves deserialisation (or compilation, never cached) and
        // linking on every request that would otherwise start cold.
        double saved = std::max(m.load_s, 1e-6);
        heap.push({rate[i] * saved / CodeBytes(m), i, 0, CodeBytes(m)});
        PushHot(heap, m, rate[i], i, 1, limits, /*with_code=*/true);
      }
    }

    while (!heap.empty()) {
      Step step = heap.top();
      heap.pop();
      if (step.bytes > budget) continue;  // a smaller step may still fit
      const ModuleView& m = modules[step.module];
      Placement& p = plan[step.module];
      if (step.hot_index == 0) {
        if (p.tier <= Tier::kWarm) continue;  // hot already, with its code
        p.tier = Tier::kWarm;
        spend(step.bytes);
        PushHot(heap, m, rate[step.module], step.module, 1, limits);
        continue;
      }
      // Each step holds only if the module is where the step starts from.
      bool from_cold = p.tier > Tier::kWarm;
      if (step.with_code != from_cold || p.target_hot + 1 != step.hot_index ||
          instances_left == 0) {
        continue;
      }
      p.tier = Tier::kHot;
      p.target_hot = step.hot_index;
      --instances_left;
      spend(step.bytes);
      PushHot(heap, m, rate[step.module], step.module, step.hot_index + 1, limits);
    }
    return plan;
  }

 private:
  static double Seconds(std::chrono::nanoseconds d) {
    return std::chrono::duration<double>(d).count();
  }
  static uint64_t CodeBytes(const ModuleView& m) {
    return m.code_bytes > 0 ? m.code_bytes : kUnmeasuredBytes;
  }
  static uint64_t InstanceBytes(const ModuleView& m) {
    return m.instance_bytes > 0 ? m.instance_bytes : kUnmeasuredBytes;
  }

  // Room for the instances requests hold while they run. A fresh-mode
  // request holds an instance of its own for its call, beyond those stocked
  // hot (the refill replaces the one it took); a plan that fills the budget
  // with holdings leaves it no room, and every request evicts code that a
  // later one loads again. Reserved: the instances in use on average
  // (Little's law), and at least the largest one a request may need.
  // (Reused instances are the hot ones, already in the plan.)
  static uint64_t InFlightReserve(const std::vector<ModuleView>& modules) {
    double expected = 0;
    uint64_t largest = 0;
    for (const ModuleView& m : modules) {
      if (m.reuse || m.rate_per_s < kMinRate) continue;
      expected += m.rate_per_s * m.call_s * static_cast<double>(InstanceBytes(m));
      largest = std::max(largest, InstanceBytes(m));
    }
    return std::max(largest, static_cast<uint64_t>(std::min(expected, 1e18)));
  }

  // Each module's rate, shaped by when it is due: the pool's rate times how
  // much likelier a request within the horizon is, given the module's idle
  // times so far, than a steady stream at that rate would make it.
  std::vector<double> Rates(const std::vector<ModuleView>& modules,
                            std::chrono::nanoseconds now) {
    std::vector<double> rates(modules.size());
    std::unordered_map<uint32_t, History> kept;
    for (size_t i = 0; i < modules.size(); ++i) {
      const ModuleView& m = modules[i];
      auto it = history_.find(m.key);
      History h = it != history_.end() ? std::move(it->second) : History{};
      h.Observe(m, now);
      double rate = m.rate_per_s;
      rates[i] = rate < kMinRate ? 0 : rate * h.Due(m.idle_s, rate);
      kept.emplace(m.key, std::move(h));
    }
    history_ = std::move(kept);  // forgets removed modules
    return rates;
  }

  // The k-th hot instance saves an instantiation for the requests that find
  // at least k instances needed; that share shrinks with k.
  static void PushHot(std::priority_queue<Step>& heap, const ModuleView& m,
                      double rate, uint32_t index, uint32_t k,
                      const PolicyLimits& limits, bool with_code = false) {
    if (m.idle_s >= Seconds(limits.hot_keep_alive)) return;
    if (rate <= 0 || k > HotInstancesNeeded(m, limits)) return;
    double saved = std::max(m.instantiate_s, 1e-6) +
                   (with_code ? std::max(m.load_s, 1e-6) : 0);
    double value = rate * saved / k;
    uint64_t bytes = InstanceBytes(m) + (with_code ? CodeBytes(m) : 0);
    heap.push({value / bytes, index, k, bytes, with_code});
  }

  // What the policy remembers of a module's requests: a histogram of its
  // idle times (the gaps between requests), observed at passes as the
  // histogram baseline observes them: the first gap of a pass to within a
  // pass, the others in the first bin.
  struct History {
    uint64_t seen = 0;  // acquires already counted
    bool has_last = false;
    double last_s = 0;            // the last request, on the pool's clock
    std::vector<uint32_t> gaps;   // per kGapBinS bin, grown as needed
    uint32_t gaps_total = 0;      // including those beyond kGapRangeS

    void Observe(const ModuleView& m, std::chrono::nanoseconds now) {
      if (m.acquires <= seen) return;
      uint64_t fresh = m.acquires - seen;
      seen = m.acquires;
      double last = Seconds(now) - m.idle_s;
      if (has_last) Record(last - last_s);
      for (uint64_t k = 1; k < fresh; ++k) Record(0);
      has_last = true;
      last_s = last;
    }
    void Record(double gap_s) {
      ++gaps_total;
      if (gap_s >= kGapRangeS) return;
      auto bin = static_cast<size_t>(std::max(0.0, gap_s) / kGapBinS);
      if (bin >= gaps.size()) gaps.resize(bin + 1, 0);
      ++gaps[bin];
    }
    // The chance of a request within the horizon after `idle_s` idle,
    // estimated from the gaps at least that long (with one pseudo-gap that
    // follows a steady stream at `rate`), relative to what a steady stream
    // gives. 1 for a module without history.
    double Due(double idle_s, double rate) const {
      double steady = 1 - std::exp(-rate * kHorizonS);
      if (gaps_total == 0 || steady <= 0) return 1;
      auto from = static_cast<size_t>(std::max(0.0, idle_s) / kGapBinS);
      auto to = static_cast<size_t>((idle_s + kHorizonS) / kGapBinS);
      uint64_t at_least = gaps_total, within = 0;
      for (size_t b = 0; b < gaps.size(); ++b) {
        if (b < from) at_least -= gaps[b];
        else if (b <= to) within += gaps[b];
      }
      double due = (within + steady) / (at_least + 1.0);
      return due / steady;
    }
  };
  std::unordered_map<uint32_t, History> history_;  // by ModuleView::key
};

}  // namespace

uint32_t HotInstancesNeeded(const ModuleView& m, const PolicyLimits& limits) {
  double busy = m.rate_per_s * (m.instantiate_s + m.call_s);
  // Clamped before the cast: a huge rate or cost (or NaN) must not
  // overflow uint32_t.
  // Instances busy at once, doubled, plus one to serve while one is made
  // (the floor: a module busy a thousandth of the time needs one, not two).
  double want = std::floor(2 * busy) + 1;
  double cap = std::max<uint32_t>(limits.max_instances, 1);
  uint32_t need = want >= 1 && want <= cap ? static_cast<uint32_t>(want)
                                           : (want > cap ? cap : 1);
  if (m.max_concurrent > 0) need = std::min(need, m.max_concurrent);
  return std::max<uint32_t>(need, 1);
}

std::unique_ptr<Policy> MakeStrataPolicy() {
  return std::make_unique<StrataPolicy>();
}

std::unique_ptr<Policy> MakePolicy(const std::string& name) {
  if (name == "riptide") return MakeRiptidePolicy();
  if (name == "strata") return MakeStrataPolicy();
  return nullptr;
}

const char* TierName(Tier tier) {
  switch (tier) {
    case Tier::kHot: return "hot";
    case Tier::kWarm: return "warm";
    case Tier::kColdMemory: return "cold-memory";
    case Tier::kColdDisk: return "cold-disk";
    case Tier::kAbsent: return "absent";
  }
  return "unknown";
}

}  // namespace strata
