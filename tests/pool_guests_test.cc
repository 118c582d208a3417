// Misbehaving guests served from every tier, in fresh and reuse modes: a
// trap after writing a secret, a runaway loop, a memory bomb, a stack
// overflow, proc_exit, an oversized output, and a trap during
// initialisation. Each gets a clear error, the instance is discarded (no
// later call sees its secret), the ledger balances and the pool keeps
// serving.
#include <tuple>

#include "strata/pool.h"
#include "test_support.h"

namespace strata {
namespace {

using namespace std::chrono_literals;
using testing::ExpectBalanced;
using testing::GuestPath;
using testing::TestEngine;
using testing::ToBytes;
using testing::ToString;

struct Misbehaviour {
  const char* name;
  const char* export_name;
  const char* input;
  ErrorCode code;
  const char* message;  // part of the error's message
};

constexpr Misbehaviour kMisbehaviours[] = {
    {"TrapAfterSecret", "secret", "t", ErrorCode::kTrap, "unreachable"},
    {"RunawayLoop", "spin", "", ErrorCode::kDeadlineExceeded, "50 ms deadline"},
    {"MemoryBomb", "bomb", "", ErrorCode::kMemoryLimit, "limit of 8388608"},
    {"StackOverflow", "recurse", "", ErrorCode::kTrap, "stack"},
    {"ProcExit", "exit", "", ErrorCode::kGuestExit, "exited with code 7"},
    {"OversizedOutput", "big", "", ErrorCode::kOutputTooLarge, "limit of 1024"},
};

constexpr ServedFrom kTiers[] = {ServedFrom::kHot, ServedFrom::kWarm,
                                 ServedFrom::kColdMemory, ServedFrom::kColdDisk,
                                 ServedFrom::kCompile};

Tier TierOf(ServedFrom from) {
  switch (from) {
    case ServedFrom::kHot: return Tier::kHot;
    case ServedFrom::kWarm: return Tier::kWarm;
    case ServedFrom::kColdMemory: return Tier::kColdMemory;
    case ServedFrom::kColdDisk: return Tier::kColdDisk;
    case ServedFrom::kCompile: return Tier::kAbsent;
  }
  return Tier::kAbsent;
}

std::unique_ptr<Pool> MakePool() {
  PoolOptions options;
  options.background = false;  // tiers move only when the test says so
  options.clock = std::make_shared<ManualClock>();
  return Pool::Create(&TestEngine(), options).value();
}

using GuestCase = std::tuple<Misbehaviour, ServedFrom, ReuseMode>;

class MisbehavingGuestTest : public ::testing::TestWithParam<GuestCase> {};

TEST_P(MisbehavingGuestTest, ClearErrorDiscardedInstanceBalancedLedger) {
  auto [bad, tier, reuse] = GetParam();
  auto pool = MakePool();
  ModuleOptions options;
  options.reuse = reuse;
  options.call_timeout = 50ms;
  options.limits.max_memory_bytes = 8 << 20;
  options.max_output_bytes = 1024;
  ASSERT_TRUE(pool->AddModuleFile("bad", GuestPath("misbehave.wat"), options).ok());
  ASSERT_TRUE(pool->MoveTo("bad", TierOf(tier)).ok());
  {
    auto lease = pool->Acquire("bad", 1s);
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_EQ(lease->served_from(), tier);
    // This instance now holds a secret; then the guest misbehaves.
    auto secret = lease->Call("secret", ToBytes("x"));
    ASSERT_TRUE(secret.ok()) << secret.status();
    EXPECT_EQ(ToString(*secret), "clean");
    auto out = lease->Call(bad.export_name, ToBytes(bad.input));
    ASSERT_EQ(out.status().code(), bad.code) << out.status();
    EXPECT_NE(out.status().message().find("module 'bad'"), std::string::npos);
    EXPECT_NE(out.status().message().find(bad.message), std::string::npos)
        << out.status();
    EXPECT_TRUE(lease->instance().poisoned());
  }
  // The instance was discarded: whatever serves next never saw the secret.
  {
    auto next = pool->Acquire("bad", 1s);
    ASSERT_TRUE(next.ok()) << next.status();
    auto seen = next->Call("secret", ToBytes("x"));
    ASSERT_TRUE(seen.ok()) << seen.status();
    EXPECT_EQ(ToString(*seen), "clean");
  }
  PoolMetrics m = pool->Metrics();
  EXPECT_EQ(m.modules[0].retired, reuse == ReuseMode::kReuse ? 1u : 0u);
  ExpectBalanced(*pool);
}

std::string CaseName(const ::testing::TestParamInfo<GuestCase>& info) {
  auto [bad, tier, reuse] = info.param;
  std::string from = ServedFromName(tier);
  std::erase(from, '-');
  return std::string(bad.name) + "_" + from + "_" +
         (reuse == ReuseMode::kReuse ? "reuse" : "fresh");
}

INSTANTIATE_TEST_SUITE_P(EveryTierAndMode, MisbehavingGuestTest,
                         ::testing::Combine(::testing::ValuesIn(kMisbehaviours),
                                            ::testing::ValuesIn(kTiers),
                                            ::testing::Values(ReuseMode::kFresh,
                                                              ReuseMode::kReuse)),
                         CaseName);

class InitTrapTest : public ::testing::TestWithParam<ServedFrom> {};

// A module whose initialisation traps never yields an instance: each
// request fails clearly, hot stays empty, and other modules keep serving.
TEST_P(InitTrapTest, EveryRequestFailsClearlyAndOthersServe) {
  ServedFrom tier = GetParam();
  auto pool = MakePool();
  ASSERT_TRUE(pool->AddModuleFile("init", GuestPath("init_trap.wat"), {}).ok());
  ASSERT_TRUE(pool->AddModuleFile("echo", GuestPath("echo.wat"), {}).ok());
  ASSERT_TRUE(pool->MoveTo("init", TierOf(tier)).ok());
  for (int i = 0; i < 2; ++i) {
    auto lease = pool->Acquire("init", 1s);
    ASSERT_EQ(lease.status().code(), ErrorCode::kTrap) << lease.status();
    EXPECT_NE(lease.status().message().find("_initialize trapped"),
              std::string::npos)
        << lease.status();
  }
  EXPECT_EQ(pool->Metrics().modules[0].hot, 0u);
  {
    auto echo = pool->Acquire("echo", 1s);
    ASSERT_TRUE(echo.ok()) << echo.status();
    EXPECT_EQ(ToString(echo->Call("run", ToBytes("fine")).value()), "fine");
  }
  ExpectBalanced(*pool);
}

INSTANTIATE_TEST_SUITE_P(EveryTier, InitTrapTest, ::testing::ValuesIn(kTiers),
                         [](const auto& info) {
                           std::string from = ServedFromName(info.param);
                           std::erase(from, '-');
                           return from;
                         });

}  // namespace
}  // namespace strata
