// The pool's life around requests: shutdown with waiters, leases that
// outlive their pool, and the events the maintainer reacts to, on the real
// engine with the background threads running.
#include <sched.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "strata/pool.h"
#include "test_support.h"

namespace strata {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;
using testing::Recorder;
using testing::GuestPath;
using testing::TestEngine;
using testing::ToBytes;
using testing::ToString;

std::unique_ptr<Pool> MakePool(PoolOptions options,
                               std::shared_ptr<Recorder> recorder) {
  auto pool = Pool::Create(&TestEngine(), std::move(options));
  EXPECT_TRUE(pool.ok()) << pool.status();
  (*pool)->AddListener(std::move(recorder));
  return std::move(*pool);
}

TEST(PoolLifecycleTest, ShutdownWakesWaitersAndLeasesOutliveThePool) {
  auto recorder = std::make_shared<Recorder>();
  auto pool = MakePool({}, recorder);
  ModuleOptions options;
  options.max_concurrent = 1;
  ASSERT_TRUE(pool->AddModuleFile("echo", GuestPath("echo.wat"), options).ok());
  auto held = pool->Acquire("echo", 1s);
  ASSERT_TRUE(held.ok()) << held.status();

  // Three threads wait for the module's only slot with an hour's deadline;
  // if shutdown did not wake them, the test would hang (ctest's timeout).
  Pool* raw = pool.get();
  std::vector<ErrorCode> codes(3, ErrorCode::kOk);
  std::vector<std::thread> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([raw, &codes, i] {
      codes[i] = raw->Acquire("echo", std::chrono::hours(1)).status().code();
    });
  }
  ASSERT_TRUE(Eventually([&] { return raw->Metrics().acquires_waiting == 3; }));
  pool.reset();
  for (auto& t : waiters) t.join();
  for (ErrorCode code : codes) EXPECT_EQ(code, ErrorCode::kShutdown);

  // The lease outlived the pool: it still calls, and returning it is safe.
  auto out = held->Call("run", ToBytes("after"));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(ToString(*out), "after");
  { Lease gone = std::move(*held); }
}

// The process's threads the scheduler runs as SCHED_BATCH.
int BatchThreads() {
  int batch = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    pid_t tid = std::stoi(task.path().filename().string());
    if (sched_getscheduler(tid) == SCHED_BATCH) ++batch;
  }
  return batch;
}

// A request that queues a refill must not wait for it: the background
// threads (refill, load, maintenance, drops) never preempt on wake-up.
TEST(PoolLifecycleTest, BackgroundThreadsYieldToRequests) {
  int before = BatchThreads();
  auto pool = MakePool({}, std::make_shared<Recorder>());
  ASSERT_TRUE(Eventually([&] { return BatchThreads() == before + 4; }))
      << BatchThreads() - before << " of 4 background threads are SCHED_BATCH";
  // Requests run at the caller's own policy.
  EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
  pool.reset();
  EXPECT_EQ(BatchThreads(), before);
}

TEST(PoolLifecycleTest, AcquireAfterShutdownFailsClearly) {
  auto pool = MakePool({}, std::make_shared<Recorder>());
  ASSERT_TRUE(pool->AddModuleFile("echo", GuestPath("echo.wat"), {}).ok());
  pool->Shutdown();
  pool->Shutdown();  // idempotent
  auto lease = pool->Acquire("echo", 1s);
  EXPECT_EQ(lease.status().code(), ErrorCode::kShutdown);
}

TEST(PoolLifecycleTest, PressureEventsFollowMeasuredUsage) {
  // The echo module's code, measured, is 85% of the budget: it fits, but
  // above the 80% pressure threshold.
  uint64_t code_bytes = TestEngine()
                            .CompileFile(GuestPath("echo.wat"))
                            .value()
                            ->ResidentImageBytes();
  ASSERT_GT(code_bytes, 0u);
  auto recorder = std::make_shared<Recorder>();
  PoolOptions options;
  options.budget_bytes = static_cast<uint64_t>(code_bytes / 0.85);
  options.maintain_interval = std::chrono::hours(1);  // events only
  auto pool = MakePool(options, recorder);
  ASSERT_TRUE(pool->AddModuleFile("echo", GuestPath("echo.wat"), {}).ok());

  // The maintainer, woken by the crossing, reports the pressure, and its
  // plan moves the module's code out of memory to relieve it.
  auto high = recorder->WaitFor(EventKind::kPressureHigh);
  ASSERT_TRUE(high.has_value());
  EXPECT_NE(high->detail.find(std::to_string(code_bytes) + " bytes of " +
                              std::to_string(options.budget_bytes)),
            std::string::npos)
      << high->detail;
  EXPECT_TRUE(recorder->WaitFor(EventKind::kPressureNormal).has_value());
  EXPECT_TRUE(Eventually([&] {
    PoolMetrics m = pool->Metrics();
    return m.pressure() <= options.pressure_threshold &&
           m.modules[0].tier >= Tier::kColdDisk;
  }));
  // An instance (a 64 KiB memory) can never fit this budget: the request
  // fails at once, naming the module, its need and the budget, and the
  // ledger never held more than the budget.
  auto lease = pool->Acquire("echo", 1h);
  ASSERT_EQ(lease.status().code(), ErrorCode::kMemoryLimit);
  EXPECT_NE(lease.status().message().find("module 'echo'"), std::string::npos);
  EXPECT_NE(lease.status().message().find(
                "budget of " + std::to_string(options.budget_bytes)),
            std::string::npos)
      << lease.status();
  EXPECT_LE(pool->Metrics().ledger.peak_bytes, options.budget_bytes);
}

TEST(PoolLifecycleTest, MaintainerReactsToARateJumpBetweenIntervals) {
  auto recorder = std::make_shared<Recorder>();
  PoolOptions options;
  options.maintain_interval = std::chrono::hours(1);  // events only
  options.clock = std::make_shared<ManualClock>();
  auto pool = MakePool(options, recorder);
  ASSERT_TRUE(pool->AddModuleFile("echo", GuestPath("echo.wat"), {}).ok());
  for (int i = 0; i < 10; ++i) {
    auto lease = pool->Acquire("echo", 1s);
    ASSERT_TRUE(lease.ok()) << lease.status();
  }
  auto promoted = recorder->WaitFor(EventKind::kPromoted, "echo");
  ASSERT_TRUE(promoted.has_value());
  EXPECT_NE(promoted->detail.find("-> hot"), std::string::npos)
      << promoted->detail;
  EXPECT_TRUE(Eventually([&] { return pool->Metrics().modules[0].hot > 0; }));
  PoolMetrics m = pool->Metrics();
  EXPECT_GE(m.maintainer_runs, 1u);
  EXPECT_EQ(m.modules[0].tier, Tier::kHot);
}

TEST(PoolLifecycleTest, GrowingInstanceIsRetiredAsALeakSuspect) {
  auto recorder = std::make_shared<Recorder>();
  auto pool = MakePool({}, recorder);
  ModuleOptions options;
  options.reuse = ReuseMode::kReuse;
  options.max_growth_bytes = 1 << 20;
  options.limits.max_memory_bytes = 4 << 20;  // membomb stops here
  ASSERT_TRUE(
      pool->AddModuleFile("bomb", GuestPath("membomb.wat"), options).ok());
  {
    auto lease = pool->Acquire("bomb", 1s);
    ASSERT_TRUE(lease.ok()) << lease.status();
    auto out = lease->Call("run", ToBytes("x"));
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(ToString(*out).rfind("refused at", 0), 0u) << ToString(*out);
  }
  auto leak = recorder->WaitFor(EventKind::kLeakSuspected, "bomb");
  ASSERT_TRUE(leak.has_value());
  EXPECT_NE(leak->detail.find("limit 1048576"), std::string::npos)
      << leak->detail;
  EXPECT_EQ(pool->Metrics().modules[0].retired, 1u);
  // The grown instance never serves again: the next one is fresh.
  auto next = pool->Acquire("bomb", 1s);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->instance().memory_bytes(),
            next->instance().initial_memory_bytes());
}

}  // namespace
}  // namespace strata
