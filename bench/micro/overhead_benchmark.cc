// Bookkeeping overhead (the seed's scenarios 5 and 8): what tracking the
// access rate and recording latency metrics add to a request, and what
// reading the metrics costs. The pool has no switch to turn recording off,
// so the "off" case is measured as the cost of the recording itself and
// reported as a counter next to the acquire it is part of.
#include <benchmark/benchmark.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <memory>
#include <string>

#include "bench_support.h"
#include "strata/rate.h"

namespace strata::bench {
namespace {

using Nanos = std::chrono::nanoseconds;
using SteadyTime = std::chrono::steady_clock;

// Latencies from 100 ns to ~10 ms, so records spread over many buckets as
// real acquires do; precomputed to keep random numbers out of the loop.
const std::array<Nanos, 1024>& SampleLatencies() {
  static const auto samples = [] {
    std::array<Nanos, 1024> out;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (Nanos& sample : out) {
      x ^= x << 13;  // xorshift64
      x ^= x >> 7;
      x ^= x << 17;
      sample = Nanos(100 << (x % 17)) + Nanos(x % 100);
    }
    return out;
  }();
  return samples;
}

// 5. The access rate as Acquire keeps it: Record on every acquire.
void BM_DecayingRate_Record(benchmark::State& state) {
  DecayingRate rate(std::chrono::seconds(30));
  Nanos now(1'000'000'000);
  for (auto _ : state) {
    now += std::chrono::microseconds(1);
    rate.Record(now);
  }
  benchmark::DoNotOptimize(rate.PerSecond(now));
}
BENCHMARK(BM_DecayingRate_Record);

// Record, then PerSecond: Acquire reads the rate back to decide whether it
// jumped enough to plan again now.
void BM_DecayingRate_RecordAndRead(benchmark::State& state) {
  DecayingRate rate(std::chrono::seconds(30));
  Nanos now(1'000'000'000);
  for (auto _ : state) {
    now += std::chrono::microseconds(1);
    rate.Record(now);
    benchmark::DoNotOptimize(rate.PerSecond(now));
  }
}
BENCHMARK(BM_DecayingRate_RecordAndRead);

// One relaxed atomic increment per record (plus sum and max); with two
// threads the counters' cache lines bounce between cores, as they do when
// requests run on several threads.
void BM_Histogram_Record(benchmark::State& state) {
  static Histogram histogram;
  const auto& samples = SampleLatencies();
  size_t i = static_cast<size_t>(state.thread_index()) * 512;
  for (auto _ : state) histogram.Record(samples[i++ % samples.size()]);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Histogram_Record)->Threads(1)->Threads(2)->UseRealTime();

// Everything Acquire does to track and record, nothing else: the pool's
// clock (a virtual call), the rate's Record and PerSecond, a steady_clock
// read for the latency and two histogram records (all acquires, by tier).
void BM_Tracking_PerAcquire(benchmark::State& state) {
  std::unique_ptr<Clock> clock = std::make_unique<SteadyClock>();
  DecayingRate rate(std::chrono::seconds(30));
  Histogram all, by_tier;
  for (auto _ : state) {
    auto start = SteadyTime::now();
    Nanos now = clock->Now();
    rate.Record(now);
    benchmark::DoNotOptimize(rate.PerSecond(now));
    Nanos took = SteadyTime::now() - start;
    all.Record(took);
    by_tier.Record(took);
  }
}
BENCHMARK(BM_Tracking_PerAcquire);

// This thread's CPU time in ns: shares of it stay meaningful when other
// processes load the machine, unlike wall-clock shares.
double ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

// The metrics part of an acquire (RecordAcquire: one clock read, two
// histogram records), in CPU ns, measured once per process.
double AcquireRecordingNs() {
  static const double ns = [] {
    constexpr int kRounds = 1 << 16;
    Histogram all, by_tier;
    auto begin = SteadyTime::now();
    double cpu_begin = ThreadCpuNs();
    for (int i = 0; i < kRounds; ++i) {
      Nanos took = SteadyTime::now() - begin;
      all.Record(took);
      by_tier.Record(took);
    }
    return (ThreadCpuNs() - cpu_begin) / kRounds;
  }();
  return ns;
}

// A pool of `modules` echo modules (fresh mode) that has served requests,
// so its latency histograms hold data: summarising an empty histogram is
// free and would flatter the snapshot.
std::unique_ptr<Pool> ServedEchoPool(benchmark::State& state, int modules) {
  auto echo = ReadFile(GuestPath("echo.wat"));
  auto pool = PoolWithModule(state, {}, "echo0", echo, {});
  if (!pool) return nullptr;
  for (int i = 1; i < modules; ++i) {
    if (!Check(state, pool->AddModule("echo" + std::to_string(i), *echo, {})))
      return nullptr;
  }
  for (int i = 0; i < 256; ++i) {
    if (!AcquireAndCall(state, *pool, "echo" + std::to_string(i % modules),
                        "run")) {
      return nullptr;
    }
  }
  return pool;
}

// 8a. A snapshot: per module one lock and a copy of its counters, then
// summaries of the seven latency histograms and a read of /proc/self/statm.
void BM_Pool_MetricsSnapshot(benchmark::State& state) {
  auto pool = ServedEchoPool(state, static_cast<int>(state.range(0)));
  if (!pool) return;
  for (auto _ : state) {
    PoolMetrics metrics = pool->Metrics();
    benchmark::DoNotOptimize(metrics.modules.data());
  }
}
BENCHMARK(BM_Pool_MetricsSnapshot)
    ->Arg(1)
    ->Arg(10)
    ->Arg(100)
    ->ArgName("modules")
    ->Unit(benchmark::kMicrosecond);

// Exposition of a snapshot of 10 modules, as a scrape would ask for it.
void BM_PoolMetrics_ToPrometheus(benchmark::State& state) {
  auto pool = ServedEchoPool(state, 10);
  if (!pool) return;
  PoolMetrics metrics = pool->Metrics();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string text = metrics.ToPrometheus();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_PoolMetrics_ToPrometheus)->Unit(benchmark::kMicrosecond);

// The memory part of the accounting: a reused instance's private resident
// bytes are re-read from /proc/self/pagemap on its 1st, 17th, 33rd, ...
// return (and every new instance once), so a hot request pays 1/16 of this.
void BM_Instance_ResidentBytes(benchmark::State& state) {
  int64_t guest = state.range(0);
  auto bytes = GuestBytes(guest);
  if (!Check(state, bytes.status())) return;
  auto module = BenchEngine().Compile(GuestLabel(guest), *bytes);
  if (!Check(state, module.status())) return;
  auto prepared = BenchEngine().Prepare(*module);
  if (!Check(state, prepared.status())) return;
  auto instance = (*prepared)->Instantiate({});
  if (!Check(state, instance.status())) return;
  uint64_t resident = 0;
  for (auto _ : state) {
    resident = (*instance)->ResidentBytes();
    benchmark::DoNotOptimize(resident);
  }
  state.counters["memory_bytes"] = benchmark::Counter(
      static_cast<double>((*instance)->memory_bytes()),
      benchmark::Counter::kDefaults, benchmark::Counter::OneK::kIs1024);
  state.counters["resident_bytes"] = benchmark::Counter(
      static_cast<double>(resident), benchmark::Counter::kDefaults,
      benchmark::Counter::OneK::kIs1024);
  state.SetLabel(GuestLabel(guest));
}
BENCHMARK(BM_Instance_ResidentBytes)
    ->Arg(kEcho)
    ->Arg(kExtractor)
    ->Arg(kHeavySynth)
    ->Unit(benchmark::kMicrosecond);

// 8b. Hot acquire + release (reuse mode) with a metrics snapshot taken every
// N acquires (0: never). recording_ns is the metrics recording inside each
// acquire and recording_share its part of the CPU time per acquire: what
// switching recording off would save.
void BM_Pool_AcquireWithSnapshots(benchmark::State& state) {
  int64_t every = state.range(0);
  auto pool = PoolWithModule(state, {}, "echo", GuestBytes(kEcho),
                             ReuseOptions(1));
  if (!pool) return;
  int64_t count = 0;
  double cpu_begin = ThreadCpuNs();
  for (auto _ : state) {
    auto lease = pool->Acquire("echo", std::chrono::seconds(5));
    benchmark::DoNotOptimize(lease);
    if (every > 0 && ++count % every == 0) {
      benchmark::DoNotOptimize(pool->Metrics().acquires);
    }
  }
  double ns_per_acquire = (ThreadCpuNs() - cpu_begin) /
                          std::max<int64_t>(state.iterations(), 1);
  state.counters["recording_ns"] = AcquireRecordingNs();
  state.counters["recording_share"] = AcquireRecordingNs() / ns_per_acquire;
}
BENCHMARK(BM_Pool_AcquireWithSnapshots)
    ->Arg(0)
    ->Arg(1000)
    ->Arg(100)
    ->Arg(10)
    ->ArgName("snapshot_every");

}  // namespace
}  // namespace strata::bench

BENCHMARK_MAIN();
