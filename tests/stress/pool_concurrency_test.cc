// Many threads acquiring and releasing at once: counts add up, no instance
// is served to two leases, nothing leaks. Runs under TSan in CI.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "strata/pool.h"
#include "test_support.h"

namespace strata {
namespace {

using namespace std::chrono_literals;
using testing::GuestPath;
using testing::TestEngine;
using testing::ToString;

TEST(PoolConcurrencyTest, ThreadsShareThePoolWithoutLosingAnything) {
  PoolOptions options;
  options.maintain_interval = 5ms;
  options.max_instances = 16;
  auto pool = Pool::Create(&TestEngine(), options).value();
  ModuleOptions fresh;
  ModuleOptions reuse;
  reuse.reuse = ReuseMode::kReuse;
  reuse.max_uses = 7;
  ASSERT_TRUE(pool->AddModuleFile("fresh", GuestPath("probe.wat"), fresh).ok());
  ASSERT_TRUE(pool->AddModuleFile("reuse", GuestPath("probe.wat"), reuse).ok());
  ASSERT_TRUE(pool->AddModuleFile("echo", GuestPath("echo.wat"), fresh).ok());

  constexpr int kThreads = 8, kPerThread = 150;
  std::atomic<int> ok{0}, fresh_violations{0};
  std::mutex live_mu;
  std::set<const Instance*> live;
  std::atomic<int> double_served{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const char* names[] = {"fresh", "reuse", "echo"};
      for (int i = 0; i < kPerThread; ++i) {
        const char* name = names[(i + t) % 3];
        auto lease = pool->Acquire(name, 5s);
        if (!lease.ok()) continue;
        {
          std::lock_guard<std::mutex> l(live_mu);
          if (!live.insert(&lease->instance()).second) ++double_served;
        }
        auto out = lease->Call("run", {});
        if (out.ok()) {
          ++ok;
          if (std::string(name) == "fresh" && ToString(*out) != "fresh 1") {
            ++fresh_violations;
          }
        }
        std::lock_guard<std::mutex> l(live_mu);
        live.erase(&lease->instance());
      }
    });
  }
  for (auto& th : threads) th.join();
  pool->WaitForRefills();

  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(double_served.load(), 0);
  EXPECT_EQ(fresh_violations.load(), 0);
  PoolMetrics m = pool->Metrics();
  EXPECT_EQ(m.acquires, uint64_t{kThreads * kPerThread});
  uint64_t by_module = 0;
  for (const auto& mm : m.modules) {
    EXPECT_EQ(mm.in_use, 0u) << mm.name;
    for (uint64_t n : mm.served) by_module += n;
  }
  EXPECT_EQ(by_module, m.acquires);
  EXPECT_EQ(m.call.count, uint64_t{kThreads * kPerThread});
  EXPECT_GE(m.maintainer_runs, 1u);
}

}  // namespace
}  // namespace strata
