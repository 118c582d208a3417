// strata's placement rules on synthetic module views, with time injected
// through PolicyLimits::now. (Pure policy tests: no engine. The policy on the
// real pool is tested in pool_test and bench_replay_test.)
#include <gtest/gtest.h>

#include "strata/policy.h"

namespace strata {
namespace {

using namespace std::chrono_literals;

ModuleView View(uint32_t key, uint64_t acquires, double rate_per_s,
                double idle_s) {
  ModuleView v;
  v.id = key;
  v.key = key;
  v.acquires = acquires;
  v.rate_per_s = rate_per_s;
  v.idle_s = idle_s;
  v.code_bytes = 100;
  v.instance_bytes = 1000;
  v.instantiate_s = 1e-3;
  v.load_s = 1e-3;
  v.reuse = true;  // no instances in flight beyond the hot ones to reserve for
  return v;
}

PolicyLimits Limits(uint64_t budget, std::chrono::nanoseconds now) {
  PolicyLimits l;
  l.budget_bytes = budget;
  l.max_instances = 64;
  l.hot_keep_alive = 10min;
  l.warm_keep_alive = 30min;
  l.now = now;
  return l;
}

// The budget goes to the steps that save the most time per byte: code for
// both modules (cheap, and it saves a load per cold request), then the one
// instance there is room for to the busier module.
TEST(StrataPolicyTest, FillsTheBudgetByTimeSavedPerByte) {
  auto policy = MakeStrataPolicy();
  auto plan = policy->Plan({View(0, 10, 0.1, 1), View(1, 10, 1.0, 1)},
                           Limits(1200, 60s));
  EXPECT_EQ(plan[1].tier, Tier::kHot);
  EXPECT_EQ(plan[1].target_hot, 1u);
  EXPECT_EQ(plan[0].tier, Tier::kWarm);
}

bool Hot(const std::vector<Placement>& plan, uint32_t id) {
  for (const Placement& p : plan) {
    if (p.id == id) return p.tier == Tier::kHot && p.target_hot > 0;
  }
  return false;
}

// A module called every five minutes holds its instance when it is due, not
// in between: its idle times say a request right after a call is unlikely,
// so a module with a steady but lower rate takes the one instance there is
// room for until the periodic one's next call draws near.
TEST(StrataPolicyTest, HoldsAPeriodicModuleWhenItIsDue) {
  auto policy = MakeStrataPolicy();
  constexpr double kPeriodic = 1.0 / 300, kSteady = 2e-3;
  uint64_t calls = 0;
  auto plan_at = [&](std::chrono::seconds now) {
    double idle = static_cast<double>(now.count() % 300);
    return policy->Plan({View(0, calls, kPeriodic, idle), View(1, 1, kSteady, 1)},
                        Limits(1200, now));
  };
  for (auto now = 0s; now <= 20min; now += 10s) {
    if (now.count() % 300 == 0) ++calls;
    auto plan = plan_at(now);
    if (now == 20min) {
      EXPECT_TRUE(Hot(plan, 1));  // just called: the steady module holds it
    }
  }
  EXPECT_TRUE(Hot(plan_at(20min + 280s), 0));  // due in about 20 s
}

// In fresh mode a request holds an instance of its own while it runs, beyond
// those stocked hot: the plan leaves room for the largest one, so requests
// do not evict the code the plan keeps.
TEST(StrataPolicyTest, LeavesRoomForTheInstancesRequestsHold) {
  auto policy = MakeStrataPolicy();
  ModuleView busy = View(0, 10, 1.0, 1), other = View(1, 10, 0.5, 1);
  busy.reuse = other.reuse = false;
  // Room for both modules' code and one instance: the room a request needs
  // holds no code, only an instance the request would evict first.
  auto plan = policy->Plan({busy, other}, Limits(1200, 60s));
  EXPECT_TRUE(Hot(plan, 0));
  EXPECT_EQ(plan[1].tier, Tier::kWarm);
  // Room for one module's code and one instance: the code is not planned
  // into the room a request needs, so neither module's code is kept.
  plan = policy->Plan({busy, other}, Limits(1050, 60s));
  EXPECT_EQ(plan[0].tier, Tier::kColdDisk);
  EXPECT_EQ(plan[1].tier, Tier::kColdDisk);
  // Reused instances are the hot ones: nothing beyond them is reserved.
  busy.reuse = other.reuse = true;
  plan = policy->Plan({busy, other}, Limits(1200, 60s));
  EXPECT_TRUE(Hot(plan, 0));
}

// Registered modules no request has reached yet get what the called ones
// leave: code first where only code fits, an instance where there is room,
// and never the room a called module's plan wants.
TEST(StrataPolicyTest, GivesWhatIsLeftToModulesNotYetCalled) {
  auto policy = MakeStrataPolicy();
  ModuleView called = View(0, 10, 1.0, 1), waiting = View(1, 0, 0, 1e9);
  // Room for the called module's code and instance, and the other's code.
  auto plan = policy->Plan({called, waiting}, Limits(1200, 60s));
  EXPECT_TRUE(Hot(plan, 0));
  EXPECT_EQ(plan[1].tier, Tier::kWarm);
  // Room for both in full.
  plan = policy->Plan({called, waiting}, Limits(2200, 60s));
  EXPECT_TRUE(Hot(plan, 0));
  EXPECT_TRUE(Hot(plan, 1));
  // Room for one instance only: the called module keeps it, even where
  // the other's instance would be worth more per byte.
  waiting.instance_bytes = 500;
  waiting.instantiate_s = 1;
  plan = policy->Plan({called, waiting}, Limits(1100, 60s));
  EXPECT_TRUE(Hot(plan, 0));
  EXPECT_EQ(plan[1].tier, Tier::kColdDisk);
  // A module called once and idle past its keep-alive is not "not yet
  // called": it earns nothing.
  ModuleView forgotten = View(1, 1, 0, 3600);
  plan = policy->Plan({called, forgotten}, Limits(2200, 60s));
  EXPECT_EQ(plan[1].tier, Tier::kColdDisk);
}

// An instance that exists keeps its place against one that would have to
// be made for a slightly more valuable module: swapping them every pass
// would spend an instantiation each time for little.
TEST(StrataPolicyTest, KeepsAnExistingInstanceAgainstAMarginalRival) {
  auto policy = MakeStrataPolicy();
  ModuleView held = View(0, 10, 1.0, 1), rival = View(1, 10, 1.2, 1);
  held.hot = 1;
  // Room for both modules' code and one instance.
  auto plan = policy->Plan({held, rival}, Limits(1200, 60s));
  EXPECT_TRUE(Hot(plan, 0));
  EXPECT_FALSE(Hot(plan, 1));
  // A rival worth twice as much takes it.
  rival.rate_per_s = 2.0;
  plan = policy->Plan({held, rival}, Limits(1200, 60s));
  EXPECT_FALSE(Hot(plan, 0));
  EXPECT_TRUE(Hot(plan, 1));
}

}  // namespace
}  // namespace strata
