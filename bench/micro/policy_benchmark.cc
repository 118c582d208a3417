// Promotion cost (the seed's scenario 4): the placement decision alone
// (Policy::Plan over 10 to 10000 synthetic module views, the heap-based
// pass), and the maintainer's whole pass on a real pool (RunMaintenance over
// registered synth variants: gather views, plan, apply placements).
// Registering a module compiles it, so the real pools stop at 100 modules.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <utility>

#include "bench_support.h"

namespace strata::bench {
namespace {

// Views shaped like a crawler's extractors: Zipf-distributed rates (module i
// at 100 / (i + 1) per second) in registration order shuffled, costs and
// sizes spread around what the bundled guests measure. Deterministic.
std::vector<ModuleView> SyntheticViews(size_t count) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> spread(0.5, 2.0);
  std::vector<ModuleView> views(count);
  for (uint32_t i = 0; i < count; ++i) {
    ModuleView& v = views[i];
    v.id = i;
    v.rate_per_s = 100.0 / (i + 1);
    v.idle_s = 1 / v.rate_per_s;
    v.hot = i < 16 ? 1 : 0;
    v.reuse = i % 2 == 0;
    v.instantiate_s = 20e-6 * spread(rng);
    v.load_s = 1e-3 * spread(rng);
    v.compile_s = 20e-3 * spread(rng);
    v.call_s = 100e-6 * spread(rng);
    v.instance_bytes = static_cast<uint64_t>((256 << 10) * spread(rng));
    v.code_bytes = static_cast<uint64_t>((512 << 10) * spread(rng));
  }
  std::shuffle(views.begin(), views.end(), rng);
  return views;
}

// The pool's defaults, as Maintain() passes them.
PolicyLimits DefaultLimits() {
  PoolOptions defaults;
  PolicyLimits limits;
  limits.budget_bytes = static_cast<uint64_t>(defaults.budget_bytes *
                                              defaults.pressure_threshold);
  limits.max_instances = defaults.max_instances;
  limits.hot_keep_alive = defaults.idle_timeout;
  limits.warm_keep_alive = defaults.warm_keep_alive;
  return limits;
}

void BM_Policy_Plan(benchmark::State& state, const char* policy_name) {
  auto policy = MakePolicy(policy_name);
  auto views = SyntheticViews(static_cast<size_t>(state.range(0)));
  PolicyLimits limits = DefaultLimits();
  std::vector<Placement> plan;
  for (auto _ : state) {
    plan = policy->Plan(views, limits);
    benchmark::DoNotOptimize(plan.data());
  }
  double hot_modules = 0, warm_modules = 0, hot_instances = 0;
  for (const Placement& p : plan) {
    hot_modules += p.tier == Tier::kHot;
    warm_modules += p.tier == Tier::kWarm;
    hot_instances += p.target_hot;
  }
  state.counters["hot_modules"] = hot_modules;
  state.counters["warm_modules"] = warm_modules;
  state.counters["hot_instances"] = hot_instances;
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetComplexityN(state.range(0));
}
BENCHMARK_CAPTURE(BM_Policy_Plan, strata, "strata")
    ->RangeMultiplier(10)
    ->Range(10, 10000)
    ->Unit(benchmark::kMicrosecond)
    ->Complexity(benchmark::oNLogN);
BENCHMARK_CAPTURE(BM_Policy_Plan, riptide, "riptide")
    ->RangeMultiplier(10)
    ->Range(10, 10000)
    ->Unit(benchmark::kMicrosecond)
    ->Complexity(benchmark::oNLogN);

std::string SynthName(int i) { return "synth" + std::to_string(i); }

// A pool with `count` distinct synth variants and skewed traffic (module i
// served ceil(20 / (i + 1)) requests), without background threads so a pass
// is only what RunMaintenance does. Built once per (policy, count) and kept:
// Google Benchmark calls a benchmark several times while it sizes the
// iteration count, and registering compiles every module.
Pool* MaintainedPool(benchmark::State& state, const std::string& policy,
                     int count) {
  // Destroyed at exit, which removes each pool's disk cache directory.
  static std::map<std::pair<std::string, int>, std::unique_ptr<Pool>> pools;
  auto& pool = pools[{policy, count}];
  if (pool) return pool.get();
  auto base = ReadFile(GuestPath("synth.wasm"));
  if (!Check(state, base.status())) return nullptr;
  PoolOptions options;
  options.policy = policy;
  options.background = false;
  auto created = Pool::Create(&BenchEngine(), options);
  if (!Check(state, created.status())) return nullptr;
  for (int i = 0; i < count; ++i) {
    SynthParams params;
    params.variant = static_cast<uint32_t>(i);
    auto bytes = MakeSynthVariant(*base, params);
    if (!Check(state, bytes.status()) ||
        !Check(state, (*created)->AddModule(SynthName(i), std::move(*bytes),
                                            {}))) {
      return nullptr;
    }
  }
  for (int i = 0; i < count; ++i) {
    for (int k = 0; k < (20 + i) / (i + 1); ++k) {
      if (!AcquireAndCall(state, **created, SynthName(i), "run")) {
        return nullptr;
      }
    }
  }
  (*created)->RunMaintenance();  // settle, so the benchmark sees steady state
  pool = std::move(*created);
  return pool.get();
}

// The steady-state pass: nothing changes tier, so this is the cost of
// gathering views, planning and re-applying the same placements.
void BM_Pool_RunMaintenance(benchmark::State& state, const char* policy) {
  int count = static_cast<int>(state.range(0));
  Pool* pool = MaintainedPool(state, policy, count);
  if (!pool) return;
  for (auto _ : state) pool->RunMaintenance();
  // What the plan holds: modules with a hot target (this pool makes no hot
  // instances) and modules linked, ready to instantiate.
  double hot_targets = 0, prepared = 0;
  for (const ModuleMetrics& m : pool->Metrics().modules) {
    hot_targets += m.target_hot > 0;
    prepared += m.tier <= Tier::kWarm;
  }
  state.counters["hot_targets"] = hot_targets;
  state.counters["prepared"] = prepared;
  state.SetItemsProcessed(state.iterations() * count);
}
BENCHMARK_CAPTURE(BM_Pool_RunMaintenance, strata, "strata")
    ->Arg(10)
    ->Arg(100)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Pool_RunMaintenance, riptide, "riptide")
    ->Arg(10)
    ->Arg(100)
    ->Unit(benchmark::kMicrosecond);

// A pass that promotes: every module is first demoted to cold-disk
// (untimed), so the pass loads (verify, deserialize, link) each module the
// plan wants warm or hot. Hot instances themselves are the refill thread's
// work, off the pass; this pool has none.
void BM_Pool_MaintenancePromotes(benchmark::State& state) {
  int count = static_cast<int>(state.range(0));
  Pool* pool = MaintainedPool(state, "strata", count);
  if (!pool) return;
  uint64_t promotions_before = pool->Metrics().promotions;
  for (auto _ : state) {
    state.PauseTiming();
    Status demoted;
    for (int i = 0; i < count && demoted.ok(); ++i) {
      demoted = pool->MoveTo(SynthName(i), Tier::kColdDisk);
    }
    state.ResumeTiming();
    if (!Check(state, demoted)) break;
    pool->RunMaintenance();
  }
  uint64_t promotions = pool->Metrics().promotions - promotions_before;
  state.counters["promotions_per_pass"] =
      static_cast<double>(promotions) / state.iterations();
  state.SetItemsProcessed(state.iterations() * count);
}
BENCHMARK(BM_Pool_MaintenancePromotes)
    ->Arg(10)
    ->Arg(100)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace strata::bench

BENCHMARK_MAIN();
