// The default policy: fill the memory budget greedily with the steps up that
// save the most request time per byte held.
#include <algorithm>
#include <cmath>
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "strata/idle_times.h"
#include "strata/policy.h"

namespace strata {
namespace {

// Below this rate a module earns no memory (one call per ~17 minutes).
constexpr double kMinRate = 1e-3;
// Planning size of a module not yet measured: one wasm page. Admission is
// still checked against measured bytes by the pool.
constexpr uint64_t kUnmeasuredBytes = 64 * 1024;
// How far ahead a holding is valued: the chance that a request comes
// within this long, given how long the module has been idle. A due module
// weighs like one called once per horizon, so a shorter horizon holds its
// instance nearer the call and gives the memory to others before that.
// Plans are redone every maintain_interval (5 s) and after serves below
// hot, so it need cover little more than the idle times' own uncertainty
// (three 10 s bins). 60 s held memory for periodic modules long before
// their calls (docs/BENCHMARKS.md, "What changed in strata").
constexpr double kHorizonS = 30;
// An instance that exists is valued this much above one that would have
// to be made: plans a pass apart, from rates that move with every request,
// otherwise swap marginal instances back and forth, and each swap is an
// instantiation on the CPU that requests need.
constexpr double kKeepBonus = 1.5;
// Idle times are kept in bins of this width, up to kGapRangeS (the
// histogram baseline's are 1 min up to 4 h; a horizon of half a minute
// needs finer bins).
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
    Fill fill(modules, limits);
    std::vector<double> rate = Rates(modules, limits.now);
    PlaceCalled(fill, rate);
    OfferSpare(fill);
    StockReserve(fill, rate);
    return std::move(fill.plan);
  }

 private:
  struct Fill;

  // The modules requests have reached: floors first, then the budget by
  // value per byte.
  static void PlaceCalled(Fill& fill, const std::vector<double>& rate) {
    const PolicyLimits& limits = fill.limits;
    for (uint32_t i = 0; i < fill.modules.size(); ++i) {
      const ModuleView& m = fill.modules[i];
      Placement& p = fill.plan[i];
      p = {m.id, Tier::kColdDisk, 0};
      // A module's floor is not up for auction.
      if (m.min_hot > 0) {
        p.tier = Tier::kHot;
        p.target_hot = std::min(m.min_hot, fill.instances_left);
        fill.instances_left -= p.target_hot;
        fill.Spend(CodeBytes(m) + p.target_hot * InstanceBytes(m));
      }
      if (rate[i] <= 0) continue;
      bool hot_alive = HotAlive(m, limits);
      bool warm_alive = m.idle_s < Seconds(limits.warm_keep_alive);
      if (p.tier == Tier::kHot) {
        if (hot_alive) fill.PushHot(i, rate[i], p.target_hot + 1);
      } else if (warm_alive) {
        fill.PushWarm(i, rate[i]);
        if (hot_alive) fill.PushHot(i, rate[i], 1, /*with_code=*/true);
      }
    }
    fill.Drain(rate);
  }

  // What no module that was called wants goes to those never called yet:
  // registered, so likely to be, and otherwise their first request starts
  // from disk. Each is offered its code and one instance, valued as the
  // steps above at one shared rate, so they rank among themselves by time
  // saved per byte and only ever take what is left. They are the first
  // evicted (rate 0), and a called module's plan takes their room back.
  static void OfferSpare(Fill& fill) {
    std::vector<double> spare(fill.modules.size(), 0);
    for (uint32_t i = 0; i < fill.modules.size(); ++i) {
      const ModuleView& m = fill.modules[i];
      if (m.acquires > 0 || m.min_hot > 0) continue;
      spare[i] = kMinRate;
      fill.PushWarm(i, spare[i]);
      fill.PushHot(i, spare[i], 1, /*with_code=*/true);
    }
    fill.Drain(spare);
  }

  // The room kept for requests in flight may still stock instances of
  // modules whose code is held: a request that needs room evicts idle
  // instances before any code (Reclaim), so one stocked there gives way to
  // it and no code is lost, and a request that finds it is served hot.
  static void StockReserve(Fill& fill, const std::vector<double>& rate) {
    fill.budget += fill.reserve;
    fill.instances_only = true;
    for (uint32_t i = 0; i < fill.modules.size(); ++i) {
      const Placement& p = fill.plan[i];
      if (rate[i] > 0 && p.tier <= Tier::kWarm &&
          HotAlive(fill.modules[i], fill.limits)) {
        fill.PushHot(i, rate[i], p.target_hot + 1);
      }
    }
    fill.Drain(rate);
  }

  static double Seconds(std::chrono::nanoseconds d) {
    return std::chrono::duration<double>(d).count();
  }
  // Idle past the hot keep-alive, a module is offered no instance.
  static bool HotAlive(const ModuleView& m, const PolicyLimits& limits) {
    return m.idle_s < Seconds(limits.hot_keep_alive);
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
  // (Little's law), and at least the largest one a request may need; no
  // code is planned there, only instances a request would evict first.
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
    for (size_t i = 0; i < modules.size(); ++i) {
      const ModuleView& m = modules[i];
      IdleTimes& idle_times =
          history_.try_emplace(m.key, kGapBinS, kGapRangeS).first->second;
      idle_times.Observe(m, Seconds(now));
      double rate = m.rate_per_s;
      rates[i] = rate < kMinRate ? 0 : rate * Due(idle_times, m.idle_s, rate);
    }
    if (history_.size() > modules.size()) {  // forget removed modules
      std::unordered_set<uint32_t> keys;
      for (const ModuleView& m : modules) keys.insert(m.key);
      std::erase_if(history_, [&](const auto& kv) { return !keys.count(kv.first); });
    }
    return rates;
  }

  // The chance of a request within the horizon after `idle_s` idle,
  // estimated from the idle times at least that long (with one pseudo-gap
  // that follows a steady stream at `rate`), relative to what a steady
  // stream gives. 1 for a module without history.
  static double Due(const IdleTimes& idle_times, double idle_s, double rate) {
    double steady = 1 - std::exp(-rate * kHorizonS);
    if (idle_times.total() == 0 || steady <= 0) return 1;
    const std::vector<uint64_t>& gaps = idle_times.counts();
    double bin_s = idle_times.bin_s();
    auto from = static_cast<size_t>(std::max(0.0, idle_s) / bin_s);
    auto to = static_cast<size_t>((idle_s + kHorizonS) / bin_s);
    uint64_t at_least = idle_times.total(), within = 0;
    for (size_t b = 0; b < gaps.size() && b <= to; ++b) {
      if (b < from) at_least -= gaps[b];
      else within += gaps[b];
    }
    double due = (within + steady) / (at_least + 1.0);
    return due / steady;
  }

  // A plan in the making: the budget filled greedily from a max-heap of
  // steps up, each valued at rate x time saved per request / bytes held.
  struct Fill {
    Fill(const std::vector<ModuleView>& modules, const PolicyLimits& limits)
        : modules(modules),
          limits(limits),
          plan(modules.size()),
          reserve(std::min(limits.budget_bytes, InFlightReserve(modules))),
          budget(limits.budget_bytes - reserve),
          instances_left(limits.max_instances) {}

    const std::vector<ModuleView>& modules;
    const PolicyLimits& limits;
    std::vector<Placement> plan;
    uint64_t reserve;  // set aside for the instances requests hold
    uint64_t budget;
    uint32_t instances_left;
    bool instances_only = false;  // take no step that holds code
    std::priority_queue<Step> heap;

    void Spend(uint64_t bytes) { budget -= std::min(budget, bytes); }

    // Warm saves deserialisation (or compilation, never cached) and linking
    // on every request that would otherwise start cold.
    void PushWarm(uint32_t index, double rate) {
      const ModuleView& m = modules[index];
      double saved = std::max(m.load_s, 1e-6);
      heap.push({rate * saved / CodeBytes(m), index, 0, CodeBytes(m)});
    }

    // The k-th hot instance saves an instantiation for the requests that
    // find at least k instances needed; that share shrinks with k.
    void PushHot(uint32_t index, double rate, uint32_t k, bool with_code = false) {
      const ModuleView& m = modules[index];
      if (rate <= 0 || k > HotInstancesNeeded(m, limits)) return;
      double saved = std::max(m.instantiate_s, 1e-6) +
                     (with_code ? std::max(m.load_s, 1e-6) : 0);
      double value = rate * saved / k;
      uint32_t exist = m.hot + (m.reuse ? m.in_use : 0);  // a reused one returns
      if (exist >= k) value *= kKeepBonus;
      uint64_t bytes = InstanceBytes(m) + (with_code ? CodeBytes(m) : 0);
      heap.push({value / bytes, index, k, bytes, with_code});
    }

    // Takes the steps in order of value while the budget has room; a step
    // taken opens the module's next one.
    void Drain(const std::vector<double>& rate) {
      while (!heap.empty()) {
        Step step = heap.top();
        heap.pop();
        if (step.bytes > budget) continue;  // a smaller step may still fit
        if (instances_only && (step.hot_index == 0 || step.with_code)) continue;
        Placement& p = plan[step.module];
        if (step.hot_index == 0) {
          if (p.tier <= Tier::kWarm) continue;  // hot already, with its code
          p.tier = Tier::kWarm;
          Spend(step.bytes);
          PushHot(step.module, rate[step.module], 1);
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
        Spend(step.bytes);
        PushHot(step.module, rate[step.module], step.hot_index + 1);
      }
    }
  };

  // What the policy remembers of each module's requests, by
  // ModuleView::key.
  std::unordered_map<uint32_t, IdleTimes> history_;
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
