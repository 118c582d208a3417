// Memory held per tier (the seed's scenario 10), measured: the pool's own
// accounting (private resident pages of each hot instance's linear memory,
// the size of the compiled artifact) next to the process RSS before and
// after each step. One iteration walks a fresh pool's module up from
// cold-memory to warm to 8 hot instances (first as instantiated, then after
// each served one call), then down to cold-disk. Counters are means over
// iterations and matter more than the time column.
//
// RSS deltas are what the process had to add, so memory the allocator
// reuses from an earlier walk shows as 0; the pool's numbers do not depend
// on order.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "bench_support.h"

namespace strata::bench {
namespace {

constexpr uint32_t kHotInstances = 8;

// Sums of what each walk measured, reported as means per iteration.
struct TierBytes {
  double code = 0;             // ModuleMetrics::code_bytes (artifact size)
  double rss_cold_memory = 0;  // RSS delta of registering (compiling)
  double rss_warm = 0;         // RSS delta of linking the InstancePre
  double hot_new = 0;          // pool-measured, per hot instance, no calls
  double rss_hot_new = 0;      // RSS delta per hot instance, no calls
  double hot_used = 0;         // pool-measured, per instance after one call
  double rss_hot_used = 0;     // RSS delta per instance of that call
  double used_hot = 0;         // pool used_bytes with 8 used instances hot
  double used_cold_disk = 0;   // pool used_bytes once on disk
  double rss_cold_disk = 0;    // RSS delta of demoting hot -> cold-disk
};

double Delta(uint64_t after, uint64_t before) {
  return static_cast<double>(after) - static_cast<double>(before);
}

// The walk's only module; nullptr (benchmark skipped) otherwise.
const ModuleMetrics* OnlyModule(benchmark::State& state,
                                const PoolMetrics& metrics) {
  if (metrics.modules.size() == 1) return &metrics.modules.front();
  state.SkipWithError("expected one module in the pool's metrics");
  return nullptr;
}

// Leases kHotInstances instances at once, calls each `calls` times, and
// returns them all; in reuse mode with min_hot = kHotInstances they all go
// back to hot (a first call's return re-measures residency).
bool CycleHot(benchmark::State& state, Pool& pool, int64_t guest, int calls) {
  std::vector<Lease> leases;
  for (uint32_t i = 0; i < kHotInstances; ++i) {
    auto lease = pool.Acquire("guest", std::chrono::seconds(5));
    if (!Check(state, lease.status())) return false;
    for (int c = 0; c < calls; ++c) {
      if (!Check(state, lease->Call(GuestExport(guest), SmallInput()).status()))
        return false;
    }
    leases.push_back(std::move(*lease));
  }
  return true;
}

// Per hot instance: the pool's measurement; false unless all are hot.
bool HotResidentPerInstance(benchmark::State& state, Pool& pool,
                            double* bytes) {
  PoolMetrics metrics = pool.Metrics();
  const ModuleMetrics* m = OnlyModule(state, metrics);
  if (m == nullptr) return false;
  if (m->hot != kHotInstances) {
    state.SkipWithError(("expected " + std::to_string(kHotInstances) +
                         " hot instances, have " + std::to_string(m->hot))
                            .c_str());
    return false;
  }
  *bytes = static_cast<double>(m->hot_resident_bytes) / m->hot;
  return true;
}

// One walk; false (benchmark skipped) on failure.
bool WalkTiers(benchmark::State& state, int64_t guest, const Bytes& bytes,
               TierBytes& sum) {
  PoolOptions options;
  options.background = false;  // only the steps below make instances
  auto created = Pool::Create(&BenchEngine(), options);
  if (!Check(state, created.status())) return false;
  Pool& pool = **created;

  uint64_t rss_before = ProcessRssBytes();
  if (!Check(state,
             pool.AddModule("guest", bytes, ReuseOptions(kHotInstances)))) {
    return false;
  }
  uint64_t rss_cold_memory = ProcessRssBytes();
  PoolMetrics metrics = pool.Metrics();
  const ModuleMetrics* m = OnlyModule(state, metrics);
  if (m == nullptr) return false;
  sum.code += m->code_bytes;
  sum.rss_cold_memory += Delta(rss_cold_memory, rss_before);

  if (!Check(state, pool.MoveTo("guest", Tier::kWarm))) return false;
  uint64_t rss_warm = ProcessRssBytes();
  sum.rss_warm += Delta(rss_warm, rss_cold_memory);

  double per_instance = 0;
  if (!CycleHot(state, pool, guest, /*calls=*/0) ||
      !HotResidentPerInstance(state, pool, &per_instance)) {
    return false;
  }
  uint64_t rss_hot_new = ProcessRssBytes();
  sum.hot_new += per_instance;
  sum.rss_hot_new += Delta(rss_hot_new, rss_warm) / kHotInstances;

  if (!CycleHot(state, pool, guest, /*calls=*/1) ||
      !HotResidentPerInstance(state, pool, &per_instance)) {
    return false;
  }
  uint64_t rss_hot_used = ProcessRssBytes();
  sum.hot_used += per_instance;
  sum.rss_hot_used += Delta(rss_hot_used, rss_hot_new) / kHotInstances;
  sum.used_hot += pool.Metrics().used_bytes;

  if (!Check(state, pool.MoveTo("guest", Tier::kColdDisk))) return false;
  sum.rss_cold_disk += Delta(ProcessRssBytes(), rss_hot_used);
  sum.used_cold_disk += pool.Metrics().used_bytes;
  return true;
}

// The engine's one-time costs (Cranelift's first compile, the pooling
// allocator's first slots) would otherwise land on the first guest walked.
void WarmUpEngine() {
  static const bool done = [] {
    auto module = BenchEngine().CompileFile(GuestPath("echo.wat"));
    if (!module.ok()) return false;
    auto prepared = BenchEngine().Prepare(*module);
    return prepared.ok() && (*prepared)->Instantiate({}).ok();
  }();
  benchmark::DoNotOptimize(done);
}

void BM_Memory_Tiers(benchmark::State& state) {
  int64_t guest = state.range(0);
  auto bytes = GuestBytes(guest);
  if (!Check(state, bytes.status())) return;
  WarmUpEngine();
  TierBytes sum;
  for (auto _ : state) {
    if (!WalkTiers(state, guest, *bytes, sum)) break;
  }
  auto mean = [](double value) {
    return benchmark::Counter(value, benchmark::Counter::kAvgIterations,
                              benchmark::Counter::OneK::kIs1024);
  };
  state.counters["code"] = mean(sum.code);
  state.counters["rss_cold_mem"] = mean(sum.rss_cold_memory);
  state.counters["rss_warm"] = mean(sum.rss_warm);
  state.counters["hot_new_per_inst"] = mean(sum.hot_new);
  state.counters["rss_hot_new_per_inst"] = mean(sum.rss_hot_new);
  state.counters["hot_used_per_inst"] = mean(sum.hot_used);
  state.counters["rss_hot_used_per_inst"] = mean(sum.rss_hot_used);
  state.counters["used_hot8"] = mean(sum.used_hot);
  state.counters["used_cold_disk"] = mean(sum.used_cold_disk);
  state.counters["rss_to_cold_disk"] = mean(sum.rss_cold_disk);
  state.SetLabel(GuestLabel(guest));
}
BENCHMARK(BM_Memory_Tiers)
    ->Arg(kEcho)
    ->Arg(kExtractor)
    ->Arg(kHeavySynth)
    ->UseRealTime()  // Cranelift compiles on its own threads
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace strata::bench

BENCHMARK_MAIN();
