// Serving requests (the seed's scenarios 6, 7 and 9): the stratified pool
// against a plain locked queue of instances, one to eight threads sharing
// either, and sequential against bursty load on a fresh-mode module. Each
// request is an acquire, one call of the guest's export and a release.
#include <benchmark/benchmark.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

#include "bench_support.h"

namespace strata::bench {
namespace {

constexpr uint32_t kMaxThreads = 8;
constexpr auto kTimeout = std::chrono::seconds(5);

// The baseline: pre-made instances of one module behind one mutex, reused
// LIFO (as the hot tier is), with no tiers, accounting or policy.
class SimpleQueue {
 public:
  void Push(std::unique_ptr<Instance> instance) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      instances_.push_back(std::move(instance));
    }
    available_.notify_one();
  }
  std::unique_ptr<Instance> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    available_.wait(lock, [&] { return !instances_.empty(); });
    std::unique_ptr<Instance> instance = std::move(instances_.back());
    instances_.pop_back();
    return instance;
  }

 private:
  std::mutex mu_;
  std::condition_variable available_;
  std::deque<std::unique_ptr<Instance>> instances_;
};

// `count` instances of echo in a queue; nullptr (benchmark skipped) on
// failure.
std::unique_ptr<SimpleQueue> EchoQueue(benchmark::State& state,
                                       uint32_t count) {
  auto module = BenchEngine().CompileFile(GuestPath("echo.wat"));
  if (!Check(state, module.status())) return nullptr;
  auto prepared = BenchEngine().Prepare(*module);
  if (!Check(state, prepared.status())) return nullptr;
  auto queue = std::make_unique<SimpleQueue>();
  for (uint32_t i = 0; i < count; ++i) {
    auto instance = (*prepared)->Instantiate({});
    if (!Check(state, instance.status())) return nullptr;
    queue->Push(std::move(*instance));
  }
  return queue;
}

// Google Benchmark starts each thread's timer when that thread next runs
// after the start barrier, so with more threads than cores a thread waiting
// for a core is not timed and items_per_second overstates throughput. Thread
// 0 times the whole loop on the wall clock instead (the other threads are
// already at the barrier when it starts; the end barrier waits for all) and
// reports wall_items_per_s, the pool's real throughput.
void ReportWallThroughput(benchmark::State& state,
                          std::chrono::steady_clock::time_point begin) {
  if (state.thread_index() != 0) return;
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - begin).count();
  state.counters["wall_items_per_s"] =
      static_cast<double>(state.iterations()) * state.threads() / seconds;
}

// Both run the same request on the same echo module with kMaxThreads
// instances, enough for every thread: the pool's hot in reuse mode, the
// queue's made up front.
// Thread 0 builds the shared structure before the loop and destroys it
// after; Google Benchmark holds every thread at a barrier at the loop's start
// and end, so no thread sees it half built or gone.
void BM_Queue_StratifiedPool(benchmark::State& state) {
  static std::unique_ptr<Pool> pool;
  if (state.thread_index() == 0) {
    pool = PoolWithModule(state, {}, "echo", GuestBytes(kEcho),
                          ReuseOptions(kMaxThreads));
  }
  auto begin = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (!pool) {
      state.SkipWithError("no pool");
      break;
    }
    if (!AcquireAndCall(state, *pool, "echo", "run")) break;
  }
  state.SetItemsProcessed(state.iterations());
  ReportWallThroughput(state, begin);
  if (state.thread_index() == 0 && pool) {
    ReportServedFrom(state, pool->Metrics());
    pool.reset();
  }
}
BENCHMARK(BM_Queue_StratifiedPool)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->Threads(8)
    ->UseRealTime();

void BM_Queue_SimpleDeque(benchmark::State& state) {
  static std::unique_ptr<SimpleQueue> queue;
  if (state.thread_index() == 0) queue = EchoQueue(state, kMaxThreads);
  CallOptions options;
  options.timeout = ModuleOptions().call_timeout;  // what the pool sets
  auto begin = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (!queue) {
      state.SkipWithError("no queue");
      break;
    }
    std::unique_ptr<Instance> instance = queue->Pop();
    auto out = instance->Call("run", SmallInput(), options);
    queue->Push(std::move(instance));
    if (!Check(state, out.status())) break;
    benchmark::DoNotOptimize(out->data());
  }
  state.SetItemsProcessed(state.iterations());
  ReportWallThroughput(state, begin);
  if (state.thread_index() == 0) queue.reset();
}
BENCHMARK(BM_Queue_SimpleDeque)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->Threads(8)
    ->UseRealTime();

// Load patterns on a fresh-mode echo (each instance serves one request and
// is dropped) with 8 hot instances kept by the refill thread. `refilled`: 1
// waits, untimed, for the refill thread before each request (sequential) or
// burst, as when requests arrive after an idle gap; 0 sends them back to
// back, so the refill thread races the requests and some fall to warm.
constexpr uint32_t kLoadMinHot = 8;

std::unique_ptr<Pool> FreshEchoPool(benchmark::State& state) {
  ModuleOptions options;
  options.min_hot = kLoadMinHot;
  return PoolWithModule(state, {}, "echo", GuestBytes(kEcho), options);
}

void WaitForRefillsUntimed(benchmark::State& state, Pool& pool) {
  state.PauseTiming();
  pool.WaitForRefills();
  state.ResumeTiming();
}

void BM_Load_Sequential(benchmark::State& state) {
  bool refilled = state.range(0) != 0;
  auto pool = FreshEchoPool(state);
  if (!pool) return;
  for (auto _ : state) {
    if (refilled) WaitForRefillsUntimed(state, *pool);
    if (!AcquireAndCall(state, *pool, "echo", "run")) break;
  }
  state.SetItemsProcessed(state.iterations());
  ReportServedFrom(state, pool->Metrics());
}
BENCHMARK(BM_Load_Sequential)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("refilled")
    ->UseRealTime()  // the refill thread's work counts
    ->Unit(benchmark::kMicrosecond);

// A burst: `k` leases acquired at once, each called, then all released.
void BM_Load_Burst(benchmark::State& state) {
  auto burst = static_cast<size_t>(state.range(0));
  bool refilled = state.range(1) != 0;
  auto pool = FreshEchoPool(state);
  if (!pool) return;
  std::vector<Lease> leases;
  leases.reserve(burst);
  for (auto _ : state) {
    if (refilled) WaitForRefillsUntimed(state, *pool);
    for (size_t i = 0; i < burst; ++i) {
      auto lease = pool->Acquire("echo", kTimeout);
      if (!Check(state, lease.status())) break;
      leases.push_back(std::move(*lease));
    }
    for (Lease& lease : leases) {
      auto out = lease.Call("run", SmallInput());
      if (!Check(state, out.status())) break;
      benchmark::DoNotOptimize(out->data());
    }
    leases.clear();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(burst));
  ReportServedFrom(state, pool->Metrics());
}
BENCHMARK(BM_Load_Burst)
    ->ArgsProduct({{4, 8, 16}, {0, 1}})
    ->ArgNames({"k", "refilled"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace strata::bench

BENCHMARK_MAIN();
