// Acquisition cost per tier on real instances (the seed's scenarios 1-3).
// Through the Pool, each benchmark makes one tier the most prepared state
// there is, so every acquire is served from it; the engine-level benchmarks
// isolate the step a tier saves. An iteration is one request's acquire and
// release (in fresh mode the release drops the instance).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_support.h"

namespace strata::bench {
namespace {

constexpr auto kTimeout = std::chrono::seconds(5);

// 1. Hot tier, reuse mode: pop an initialised instance and give it back.
void BM_Pool_HotAcquireRelease(benchmark::State& state) {
  auto min_hot = static_cast<uint32_t>(state.range(0));
  auto pool = PoolWithModule(state, {}, "echo", GuestBytes(kEcho),
                             ReuseOptions(min_hot));
  if (!pool) return;
  for (auto _ : state) {
    auto lease = pool->Acquire("echo", kTimeout);
    benchmark::DoNotOptimize(lease);
  }
  state.counters["hot_hit_rate"] = pool->Metrics().hit_rate(ServedFrom::kHot);
}
BENCHMARK(BM_Pool_HotAcquireRelease)->Arg(1)->Arg(2)->Arg(4)->Arg(8);

// 1b. The same, timed one operation at a time, for its median: each
// iteration reads the clock around one acquire + release; clock_ns is the
// median cost of the clock read itself, and p50_net_ns the median minus it
// (exact medians of the recorded samples). The mean above has no clock reads.
void BM_Pool_HotAcquireReleaseLatency(benchmark::State& state) {
  auto pool = PoolWithModule(state, {}, "echo", GuestBytes(kEcho),
                             ReuseOptions(1));
  if (!pool) return;
  using Steady = std::chrono::steady_clock;
  std::vector<int64_t> ops, clocks;
  ops.reserve(1 << 22);
  clocks.reserve(1 << 22);
  for (auto _ : state) {
    auto t0 = Steady::now();
    {
      auto lease = pool->Acquire("echo", kTimeout);
      benchmark::DoNotOptimize(lease);
    }
    auto t1 = Steady::now();
    auto t2 = Steady::now();
    if (ops.size() < ops.capacity()) {
      ops.push_back((t1 - t0).count());
      clocks.push_back((t2 - t1).count());
    }
  }
  auto quantile = [](std::vector<int64_t>& v, double q) {
    if (v.empty()) return 0.0;
    auto it = v.begin() + static_cast<ptrdiff_t>(q * (v.size() - 1));
    std::nth_element(v.begin(), it, v.end());
    return static_cast<double>(*it);
  };
  double p50 = quantile(ops, 0.5), p99 = quantile(ops, 0.99);
  double clock = quantile(clocks, 0.5);
  state.counters["p50_ns"] = p50;
  state.counters["p99_ns"] = p99;
  state.counters["clock_ns"] = clock;
  state.counters["p50_net_ns"] = p50 - clock;
}
BENCHMARK(BM_Pool_HotAcquireReleaseLatency);

// 2a. Warm tier: the module is demoted to warm and no refill thread runs, so
// every acquire instantiates + initialises from the InstancePre.
void BM_Pool_WarmAcquire(benchmark::State& state) {
  PoolOptions options;
  options.background = false;  // nothing refills the hot tier
  auto pool = PoolWithModule(state, options, "guest",
                             GuestBytes(state.range(0)), {});
  if (!pool || !Check(state, pool->MoveTo("guest", Tier::kWarm))) return;
  for (auto _ : state) {
    auto lease = pool->Acquire("guest", kTimeout);
    if (!Check(state, lease.status())) break;
    benchmark::DoNotOptimize(lease);
  }
  ReportServedFrom(state, pool->Metrics());
  state.SetLabel(GuestLabel(state.range(0)));
}
BENCHMARK(BM_Pool_WarmAcquire)
    ->Arg(kEcho)
    ->Arg(kExtractor)
    ->Arg(kHeavySynth)
    ->Unit(benchmark::kMicrosecond);

// 2b. Fresh mode as deployed: `min_hot` instances stocked, each acquire pops
// one and its release drops it; the refill thread replaces them off the
// request path. Back-to-back acquires outrun the refill, so part of them fall
// through to warm (the from_* counters say how many).
void BM_Pool_FreshAcquire(benchmark::State& state) {
  ModuleOptions options;
  options.min_hot = static_cast<uint32_t>(state.range(0));
  auto pool = PoolWithModule(state, {}, "echo", GuestBytes(kEcho), options);
  if (!pool) return;
  for (auto _ : state) {
    auto lease = pool->Acquire("echo", kTimeout);
    if (!Check(state, lease.status())) break;
    benchmark::DoNotOptimize(lease);
  }
  ReportServedFrom(state, pool->Metrics());
}
BENCHMARK(BM_Pool_FreshAcquire)
    ->Arg(1)
    ->Arg(8)
    ->ArgName("min_hot")
    ->UseRealTime()  // the refill thread's work counts
    ->Unit(benchmark::kMicrosecond);

// 2c. One request's acquire + release in fresh mode (the default), served
// hot or warm, with the background threads running: between timed requests
// (untimed) the pool settles, refilling a hot instance (hot) or holding
// none (warm). Either way the release hands the used instance to the
// reaper thread. What the request path pays for each tier.
void BM_Pool_FreshServe(benchmark::State& state) {
  bool hot = state.range(0) != 0;
  ModuleOptions options;
  options.min_hot = hot ? 1 : 0;
  auto pool = PoolWithModule(state, {}, "echo", GuestBytes(kEcho), options);
  if (!pool) return;
  for (auto _ : state) {
    state.PauseTiming();
    if (!hot) (void)pool->MoveTo("echo", Tier::kWarm);
    pool->WaitForRefills();
    state.ResumeTiming();
    auto lease = pool->Acquire("echo", kTimeout);
    if (!Check(state, lease.status())) break;
    benchmark::DoNotOptimize(lease);
  }
  ReportServedFrom(state, pool->Metrics());
}
BENCHMARK(BM_Pool_FreshServe)
    ->Arg(1)
    ->Arg(0)
    ->ArgName("hot")
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// 3. Cold tiers and compile: before each acquire (untimed) the module is
// demoted to `tier`; the acquire then links (cold-memory), verifies,
// deserializes and links (cold-disk), or compiles, writes the disk cache and
// links (absent), and instantiates. Each acquire leaves the module warm.
void BM_Pool_ColdAcquire(benchmark::State& state) {
  auto tier = static_cast<Tier>(state.range(0));
  int64_t guest = state.range(1);
  PoolOptions options;
  options.background = false;
  auto pool = PoolWithModule(state, options, "guest", GuestBytes(guest), {});
  // Warm first: the idle module was planned onto disk, and demoting to
  // cold-memory only drops the InstancePre, it loads nothing.
  if (!pool || !Check(state, pool->MoveTo("guest", Tier::kWarm))) return;
  for (auto _ : state) {
    state.PauseTiming();
    Status demoted = pool->MoveTo("guest", tier);
    state.ResumeTiming();
    if (!Check(state, demoted)) break;
    auto lease = pool->Acquire("guest", kTimeout);
    if (!Check(state, lease.status())) break;
    benchmark::DoNotOptimize(lease);
  }
  ReportServedFrom(state, pool->Metrics());
  state.SetLabel(std::string(TierName(tier)) + " " + GuestLabel(guest));
}
BENCHMARK(BM_Pool_ColdAcquire)
    ->ArgsProduct({{static_cast<int64_t>(Tier::kColdMemory),
                    static_cast<int64_t>(Tier::kColdDisk),
                    static_cast<int64_t>(Tier::kAbsent)},
                   {kEcho, kExtractor}})
    ->ArgNames({"tier", "guest"})
    ->UseRealTime()  // Cranelift compiles on its own threads
    ->Unit(benchmark::kMicrosecond);

// Warm step alone: instantiate + initialise from the InstancePre, then drop.
void BM_Engine_WarmInstantiate(benchmark::State& state) {
  const char* file = state.range(0) == 0 ? "echo.wat" : "extractor.wasm";
  auto module = BenchEngine().CompileFile(GuestPath(file)).value();
  auto prepared = BenchEngine().Prepare(module).value();
  for (auto _ : state) {
    auto instance = prepared->Instantiate({});
    benchmark::DoNotOptimize(instance);
  }
  state.SetLabel(file);
}
BENCHMARK(BM_Engine_WarmInstantiate)->Arg(0)->Arg(1);

// Cold-disk step alone: verify, deserialize and link.
void BM_Engine_ColdDiskLoad(benchmark::State& state) {
  // Per process, so concurrent runs (ctest -j) do not share a directory.
  auto dir = std::filesystem::temp_directory_path() /
             ("strata-bench-cache-" + std::to_string(getpid()));
  ModuleCache cache(BenchEngine(), dir);
  auto module = BenchEngine().CompileFile(GuestPath("extractor.wasm")).value();
  if (Check(state, cache.Store(*module))) {
    for (auto _ : state) {
      auto loaded = cache.Load("extractor", module->hash());
      benchmark::DoNotOptimize(BenchEngine().Prepare(loaded.value()));
    }
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Engine_ColdDiskLoad)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace strata::bench

BENCHMARK_MAIN();
