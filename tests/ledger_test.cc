// The memory ledger on its own: reserve, commit, release, the FIFO line and
// its deadlines on a manual clock, and the invariant (never above a limit)
// checked at every operation, under threads too.
#include "memory/ledger.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "test_support.h"

namespace strata::memory {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;

class LedgerTest : public ::testing::Test {
 protected:
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  Clock::Duration In(Clock::Duration d) { return clock_->Now() + d; }
};

TEST_F(LedgerTest, ReserveCommitReleaseBalances) {
  Ledger ledger({1000, 4}, clock_);
  Account a("a");
  Charge c = ledger.TryReserve(a, {600, 1});
  ASSERT_TRUE(c.held());
  EXPECT_EQ(a.bytes(), 600u);
  EXPECT_EQ(a.slots(), 1u);
  EXPECT_TRUE(c.Commit(400));  // measured smaller: the rest goes back
  EXPECT_EQ(ledger.totals().held_bytes, 400u);
  EXPECT_TRUE(c.Commit(900));  // growth that fits
  EXPECT_FALSE(c.Commit(1001));  // growth that does not: unchanged
  EXPECT_EQ(c.bytes(), 900u);
  c.Release();
  c.Release();  // idempotent
  Ledger::Totals t = ledger.totals();
  EXPECT_EQ(t.held_bytes, 0u);
  EXPECT_EQ(t.slots, 0u);
  EXPECT_EQ(t.peak_bytes, 900u);
  EXPECT_EQ(t.violations, 0u);
  EXPECT_EQ(a.bytes(), 0u);
}

TEST_F(LedgerTest, RefusesWhatCanNeverFitNamingModuleNeedAndBudget) {
  Ledger ledger({1000, 2}, clock_);
  Account a("extractor");
  auto r = ledger.Reserve(a, {1001, 1}, Clock::Duration::max(), nullptr);
  ASSERT_EQ(r.status().code(), ErrorCode::kMemoryLimit);
  EXPECT_NE(r.status().message().find("module 'extractor'"), std::string::npos);
  EXPECT_NE(r.status().message().find("1001"), std::string::npos);
  EXPECT_NE(r.status().message().find("budget of 1000"), std::string::npos)
      << r.status();
  auto slots = ledger.Reserve(a, {1, 3}, Clock::Duration::max(), nullptr);
  EXPECT_EQ(slots.status().code(), ErrorCode::kPoolExhausted);
  EXPECT_NE(slots.status().message().find("max_instances 2"), std::string::npos)
      << slots.status();
}

TEST_F(LedgerTest, ReclaimerIsAskedForTheShortfallFirst) {
  Ledger ledger({1000, 4}, clock_);
  Account a("a"), b("b");
  Charge idle = ledger.TryReserve(a, {700, 1});
  Need asked;
  auto r = ledger.Reserve(b, {500, 1}, In(1s), [&](const Need& shortfall) {
    asked = shortfall;
    idle.Release();  // the pool frees its least valuable idle holding
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(asked.bytes, 200u);
  EXPECT_EQ(asked.slots, 0u);
  EXPECT_EQ(ledger.totals().reclaims, 1u);
}

TEST_F(LedgerTest, WaiterTimesOutOnTheClockNotOnRealTime) {
  Ledger ledger({1000, 4}, clock_);
  Account a("a"), b("b");
  Charge held = ledger.TryReserve(a, {800, 1});
  Status result;
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    result = ledger.Reserve(b, {500, 1}, In(50ms), nullptr).status();
    done = true;
  });
  ASSERT_TRUE(Eventually([&] { return ledger.waiting() == 1; }));
  clock_->Advance(49ms);
  EXPECT_FALSE(done.load());
  clock_->Advance(1ms);
  waiter.join();
  EXPECT_EQ(result.code(), ErrorCode::kMemoryLimit);
  EXPECT_NE(result.message().find("after waiting in line"), std::string::npos)
      << result;
  Ledger::Totals t = ledger.totals();
  EXPECT_EQ(t.waits, 1u);
  EXPECT_EQ(t.wait_timeouts, 1u);
  EXPECT_EQ(t.waiting, 0u);
}

TEST_F(LedgerTest, WaiterReclaimsAgainWhenAHoldingTurnsIdleUnreleased) {
  // A holding can become reclaimable with no release to wake the line
  // (code that a failed instantiation had pinned): the waiter asks again,
  // rather than waiting out its deadline while nothing else runs.
  Ledger ledger({1000, 4}, clock_);
  Account a("a"), b("b");
  Charge pinned_code = ledger.TryReserve(a, {800, 1});
  std::atomic<bool> pinned{true};
  std::atomic<bool> done{false};
  Status result;
  std::thread waiter([&] {
    auto r = ledger.Reserve(b, {500, 1}, In(1s), [&](const Need&) {
      if (pinned) return false;
      pinned_code.Release();
      return true;
    });
    result = r.status();
    done = true;
  });
  ASSERT_TRUE(Eventually([&] { return ledger.waiting() == 1; }));
  pinned = false;  // idle now, but nothing was released
  clock_->Advance(5ms);
  bool granted_early = Eventually([&] { return done.load(); });
  if (!granted_early) clock_->Advance(1s);  // unblock it, to fail cleanly
  waiter.join();
  EXPECT_TRUE(granted_early);
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ(ledger.totals().wait_timeouts, 0u);
}

TEST_F(LedgerTest, ReleaseHandsCapacityToTheOldestWaiterFirst) {
  Ledger ledger({1000, 8}, clock_);
  Account a("a"), big("big"), small("small");
  Charge held = ledger.TryReserve(a, {1000, 1});
  std::atomic<int> served{0};
  auto wait_for = [&](Account& who, uint64_t bytes) {
    auto r = ledger.Reserve(who, {bytes, 1}, Clock::Duration::max(), nullptr);
    ASSERT_TRUE(r.ok()) << r.status();
    ++served;
  };
  std::thread first([&] { wait_for(big, 600); });
  ASSERT_TRUE(Eventually([&] { return ledger.waiting() == 1; }));
  std::thread second([&] { wait_for(small, 100); });
  ASSERT_TRUE(Eventually([&] { return ledger.waiting() == 2; }));
  // A newcomer cannot pass the line even though 0 bytes would fit.
  EXPECT_FALSE(ledger.TryReserve(a, {0, 0}).held());
  // 300 bytes free: enough for the second waiter, not the first; FIFO keeps
  // the second behind the first.
  EXPECT_TRUE(held.Commit(700));
  EXPECT_EQ(ledger.waiting(), 2u);
  held.Release();  // now both fit, in order
  first.join();
  second.join();
  EXPECT_EQ(served.load(), 2);
  EXPECT_LE(ledger.totals().peak_bytes, 1000u);
  EXPECT_EQ(ledger.totals().violations, 0u);
}

// A waiter whose need fits but that stood behind a bigger one says so, and
// names what the head of the line waits for (not "no slot free").
TEST_F(LedgerTest, AWaiterBehindABiggerOneSaysWhatTheLineWaitsFor) {
  Ledger ledger({1000, 8}, clock_);
  Account a("a"), big("big"), small("small");
  Charge held = ledger.TryReserve(a, {700, 1});
  std::thread first([&] {
    EXPECT_TRUE(ledger.Reserve(big, {600, 1}, In(1h), nullptr).ok());
  });
  ASSERT_TRUE(Eventually([&] { return ledger.waiting() == 1; }));
  Status result;
  std::thread second([&] {
    result = ledger.Reserve(small, {100, 1}, In(50ms), nullptr).status();
  });
  ASSERT_TRUE(Eventually([&] { return ledger.waiting() == 2; }));
  clock_->Advance(50ms);
  second.join();
  EXPECT_EQ(result.code(), ErrorCode::kMemoryLimit) << result;
  EXPECT_NE(result.message().find("its 100 bytes would fit now, but the line "
                                  "ahead of it (1 waiting) goes first, its "
                                  "head waiting for 600 bytes of the 300 free"),
            std::string::npos)
      << result;
  held.Release();
  first.join();
}

TEST_F(LedgerTest, CloseFailsEveryWaiterWithShutdown) {
  Ledger ledger({100, 1}, clock_);
  Account a("a");
  Charge held = ledger.TryReserve(a, {100, 1});
  std::vector<std::thread> waiters;
  std::atomic<int> shutdowns{0};
  for (int i = 0; i < 3; ++i) {
    waiters.emplace_back([&] {
      auto r = ledger.Reserve(a, {10, 1}, Clock::Duration::max(), nullptr);
      if (r.status().code() == ErrorCode::kShutdown) ++shutdowns;
    });
  }
  ASSERT_TRUE(Eventually([&] { return ledger.waiting() == 3; }));
  ledger.Close();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(shutdowns.load(), 3);
  EXPECT_EQ(ledger.Reserve(a, {0, 0}, In(1s), nullptr).status().code(),
            ErrorCode::kShutdown);
}

// Threads reserve, commit and release at random against a small budget;
// the ledger records its peak at every reservation and commit, so this
// checks the invariant at each one, not by sampling.
TEST(LedgerStressTest, NeverAboveItsLimitsUnderThreads) {
  auto clock = std::make_shared<SteadyClock>();
  Ledger ledger({10'000, 6}, clock);
  std::vector<std::unique_ptr<Account>> accounts;
  for (int i = 0; i < 4; ++i) {
    accounts.push_back(std::make_unique<Account>("m" + std::to_string(i)));
  }
  std::atomic<uint64_t> granted{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::vector<Charge> held;
      for (int i = 0; i < 3000; ++i) {
        Account& a = *accounts[rng() % accounts.size()];
        if (held.size() > 2 || (rng() % 3 == 0 && !held.empty())) {
          held.erase(held.begin() + rng() % held.size());
          continue;
        }
        auto r = ledger.Reserve(a, {rng() % 4000, static_cast<uint32_t>(rng() % 2)},
                                clock->DeadlineAfter(1ms), nullptr);
        if (!r.ok()) {
          ++refused;
          continue;
        }
        ++granted;
        (void)r->Commit(rng() % 5000);  // measured: smaller or larger
        held.push_back(std::move(*r));
      }
    });
  }
  for (auto& t : threads) t.join();
  Ledger::Totals t = ledger.totals();
  EXPECT_GT(granted.load(), 0u);
  EXPECT_LE(t.peak_bytes, 10'000u);
  EXPECT_LE(t.peak_slots, 6u);
  EXPECT_EQ(t.violations, 0u);
  EXPECT_EQ(t.held_bytes, 0u);
  EXPECT_EQ(t.slots, 0u);
  for (const auto& a : accounts) EXPECT_EQ(a->bytes(), 0u);
}

}  // namespace
}  // namespace strata::memory
