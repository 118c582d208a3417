// The keep-alive baselines' rules (bench/baselines), one test each on
// synthetic module views, with time injected through PolicyLimits::now.
// (Pure policy tests: no engine. Their runs on the real pool are in
// bench_replay_test.)
#include <gtest/gtest.h>

#include "baselines/baselines.h"

namespace strata::bench {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kCode = 100, kInstance = 1000;

ModuleView View(uint32_t i, uint64_t acquires, double idle_s) {
  ModuleView v;
  v.id = i;
  v.key = i;
  v.acquires = acquires;
  v.idle_s = idle_s;
  v.rate_per_s = 0.01;  // one instance is enough
  v.code_bytes = kCode;
  v.instance_bytes = kInstance;
  v.instantiate_s = 1e-3;
  v.load_s = 1e-3;
  return v;
}

PolicyLimits Limits(uint64_t budget, std::chrono::nanoseconds now = 0s) {
  PolicyLimits l;
  l.budget_bytes = budget;
  l.max_instances = 64;
  l.now = now;
  return l;
}

bool Alive(const std::vector<Placement>& plan, uint32_t id) {
  for (const Placement& p : plan) {
    if (p.id == id) return p.tier == Tier::kHot && p.target_hot > 0;
  }
  return false;
}

TEST(KeepAlivePolicyTest, AliveForTheTtlAfterLastUse) {
  auto policy = MakeKeepAlivePolicy(10min);
  auto plan = policy->Plan({View(0, 5, 599), View(1, 5, 601), View(2, 0, 1e9)},
                           Limits(1 << 20));
  EXPECT_TRUE(Alive(plan, 0));
  EXPECT_FALSE(Alive(plan, 1));  // past its TTL
  EXPECT_FALSE(Alive(plan, 2));  // never used
  EXPECT_EQ(plan[1].tier, Tier::kColdDisk);
}

TEST(KeepAlivePolicyTest, LeastRecentlyUsedGoesFirstWhenFull) {
  auto policy = MakeKeepAlivePolicy(10min);
  // Room for two modules (code + one instance each).
  auto plan = policy->Plan({View(0, 1, 30), View(1, 1, 10), View(2, 1, 20)},
                           Limits(2 * (kCode + kInstance)));
  EXPECT_FALSE(Alive(plan, 0));  // least recent
  EXPECT_TRUE(Alive(plan, 1));
  EXPECT_TRUE(Alive(plan, 2));
  EXPECT_LT(plan[0].rank, plan[2].rank);  // evicted first on admission too
}

TEST(KeepAlivePolicyTest, SpecsParse) {
  EXPECT_TRUE(MakeBaselinePolicy("keepalive").ok());
  EXPECT_TRUE(MakeBaselinePolicy("keepalive:90").ok());
  EXPECT_TRUE(MakeBaselinePolicy("keepalive:10m").ok());
  for (const char* bad : {"keepalive:", "keepalive:-1", "keepalive:5x", "lru"}) {
    EXPECT_EQ(MakeBaselinePolicy(bad).status().code(), ErrorCode::kInvalidArgument)
        << bad;
  }
}

TEST(InstantiatePolicyTest, KeepsTheBusiestCodeWarmAndNoInstance) {
  auto policy = MakeInstantiatePolicy();
  std::vector<ModuleView> views = {View(0, 1, 0), View(1, 1, 0), View(2, 1, 0)};
  views[0].rate_per_s = 5;
  views[1].rate_per_s = 0.1;
  views[2].rate_per_s = 2;
  // Room for two modules' code with one instance in flight beside it.
  auto plan = policy->Plan(views, Limits(2 * kCode + kInstance));
  ASSERT_EQ(plan.size(), 3u);
  for (const Placement& p : plan) {
    EXPECT_EQ(p.target_hot, 0u) << p.id;
    EXPECT_EQ(p.tier, p.id == 1 ? Tier::kColdDisk : Tier::kWarm) << p.id;
  }
  EXPECT_TRUE(MakeBaselinePolicy("instantiate").ok());
}

TEST(GdsfPolicyTest, PriorityIsFrequencyTimesCostOverSize) {
  auto policy = MakeGdsfPolicy();
  ModuleView frequent = View(0, 10, 1), costly = View(1, 1, 1), big = View(2, 10, 1);
  costly.instantiate_s = 0.05;      // 25x the cold cost of the others
  big.instance_bytes = 10 * kInstance;
  auto plan = policy->Plan({frequent, costly, big}, Limits(1 << 20));
  // 10 x 2 ms / 1100 B, 1 x 51 ms / 1100 B, 10 x 2 ms / 10100 B.
  EXPECT_GT(plan[1].rank, plan[0].rank);
  EXPECT_GT(plan[0].rank, plan[2].rank);
  EXPECT_TRUE(Alive(plan, 0) && Alive(plan, 1) && Alive(plan, 2));
}

TEST(GdsfPolicyTest, EvictsTheLowestAndTheClockRisesToIt) {
  auto policy = MakeGdsfPolicy();
  ModuleView a = View(0, 4, 1), b = View(1, 1, 1);
  // Room for one: a (4 uses) stays, b is evicted.
  auto plan = policy->Plan({a, b}, Limits(kCode + kInstance));
  EXPECT_TRUE(Alive(plan, 0));
  EXPECT_FALSE(Alive(plan, 1));
  double evicted = 1 * 2e-3 / (kCode + kInstance);
  // A newcomer's priority starts from the raised clock, so one use of a new
  // module now outranks b's old one.
  ModuleView c = View(2, 1, 0);
  plan = policy->Plan({a, b, c}, Limits(2 * (kCode + kInstance)));
  EXPECT_NEAR(plan[2].rank, evicted + 1 * 2e-3 / (kCode + kInstance), 1e-12);
  EXPECT_TRUE(Alive(plan, 0));
  EXPECT_TRUE(Alive(plan, 2));
}

TEST(HistogramPolicyTest, PeriodicModuleIsPrewarmedJustBeforeItIsDue) {
  auto policy = MakeHistogramPolicy();
  // Invoked every 5 minutes for 40 invocations: the idle times all fall in
  // the 5-minute bin, a representative histogram.
  uint64_t acquires = 0;
  for (int i = 0; i < 40; ++i) {
    auto now = std::chrono::minutes(5 * i) + 1s;
    policy->Plan({View(0, ++acquires, 1)}, Limits(1 << 20, now));
  }
  auto last = std::chrono::minutes(5 * 39);
  auto at = [&](std::chrono::nanoseconds since) {
    double idle = std::chrono::duration<double>(since).count();
    return Alive(policy->Plan({View(0, acquires, idle)}, Limits(1 << 20, last + since)),
                 0);
  };
  // Unloaded after the invocation; pre-warmed at 5 min x 0.9 = 270 s; kept
  // until (5 + 1) min x 1.1 = 396 s.
  EXPECT_FALSE(at(60s));
  EXPECT_TRUE(at(280s));
  EXPECT_TRUE(at(390s));
  EXPECT_FALSE(at(400s));
}

TEST(HistogramPolicyTest, UnrepresentativeHistogramFallsBackToFixedKeepAlive) {
  auto policy = MakeHistogramPolicy();
  // Idle times spread evenly over 80 bins: a flat histogram (CV ~1.4).
  uint64_t acquires = 0;
  std::chrono::nanoseconds now = 0s;
  for (int i = 0; i < 80; ++i) {
    now += std::chrono::minutes(3 * i) + 1s;
    policy->Plan({View(0, ++acquires, 0)}, Limits(1 << 20, now));
  }
  auto at = [&](std::chrono::nanoseconds since) {
    double idle = std::chrono::duration<double>(since).count();
    return Alive(policy->Plan({View(0, acquires, idle)}, Limits(1 << 20, now + since)),
                 0);
  };
  EXPECT_TRUE(at(1s));      // no pre-warm window: kept from the invocation
  EXPECT_TRUE(at(3h));
  EXPECT_FALSE(at(4h + 1s));  // the 4-hour range
}

TEST(FifoPolicyTest, OneEachByRecencyThenDeeperQueues) {
  auto policy = MakeFifoPolicy();
  // Room for three modules' one instance each and one more instance, not
  // for a fourth module.
  uint64_t budget = 3 * (kCode + kInstance) + kInstance + 50;
  auto plan = policy->Plan({View(0, 1, 5), View(1, 1, 1), View(2, 1, 3),
                            View(3, 1, 9), View(4, 0, 1e9)},
                           Limits(budget));
  EXPECT_EQ(plan[1].target_hot, 2u);  // most recent: one, then one more
  EXPECT_EQ(plan[2].target_hot, 1u);
  EXPECT_EQ(plan[0].target_hot, 1u);
  EXPECT_FALSE(Alive(plan, 3));  // least recent: no room
  EXPECT_FALSE(Alive(plan, 4));  // never used
}

}  // namespace
}  // namespace strata::bench
