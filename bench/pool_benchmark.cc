// Acquisition cost per tier on real instances (the seed's scenarios 1-3).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "strata/strata.h"

namespace strata {
namespace {

Engine& BenchEngine() {
  static Engine* engine = Engine::Create({}).value().release();
  return *engine;
}

std::filesystem::path Guest(const char* file) {
  return std::filesystem::path(STRATA_BENCH_GUEST_DIR) / file;
}

// Hot tier, reuse mode: pop an initialised instance and give it back.
void BM_Pool_HotAcquireRelease(benchmark::State& state) {
  PoolOptions options;
  options.background = true;
  auto pool = Pool::Create(&BenchEngine(), options).value();
  ModuleOptions module;
  module.reuse = ReuseMode::kReuse;
  module.max_uses = UINT32_MAX;
  module.min_hot = static_cast<uint32_t>(state.range(0));
  if (!pool->AddModuleFile("echo", Guest("echo.wat"), module).ok()) {
    state.SkipWithError("AddModule failed");
    return;
  }
  pool->RunMaintenance();
  pool->WaitForRefills();
  for (auto _ : state) {
    auto lease = pool->Acquire("echo", std::chrono::seconds(1));
    benchmark::DoNotOptimize(lease);
  }
  auto m = pool->Metrics();
  state.counters["hot_hit_rate"] = m.hit_rate(ServedFrom::kHot);
}
BENCHMARK(BM_Pool_HotAcquireRelease)->Arg(1)->Arg(2)->Arg(4)->Arg(8);

// Warm tier: instantiate + initialise from the InstancePre, then drop.
void BM_Engine_WarmInstantiate(benchmark::State& state) {
  const char* file = state.range(0) == 0 ? "echo.wat" : "extractor.wasm";
  auto module = BenchEngine().CompileFile(Guest(file)).value();
  auto prepared = BenchEngine().Prepare(module).value();
  for (auto _ : state) {
    auto instance = prepared->Instantiate({});
    benchmark::DoNotOptimize(instance);
  }
  state.SetLabel(file);
}
BENCHMARK(BM_Engine_WarmInstantiate)->Arg(0)->Arg(1);

// Cold tier from disk: verify, deserialize and link.
void BM_Engine_ColdDiskLoad(benchmark::State& state) {
  auto dir = std::filesystem::temp_directory_path() / "strata-bench-cache";
  ModuleCache cache(BenchEngine(), dir);
  auto module = BenchEngine().CompileFile(Guest("extractor.wasm")).value();
  if (!cache.Store(*module).ok()) {
    state.SkipWithError("cache store failed");
    return;
  }
  for (auto _ : state) {
    auto loaded = cache.Load("extractor", module->hash());
    benchmark::DoNotOptimize(BenchEngine().Prepare(loaded.value()));
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Engine_ColdDiskLoad)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace strata

BENCHMARK_MAIN();
