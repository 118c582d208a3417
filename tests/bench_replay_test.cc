// The workload replayer behind `strata bench`: seeded workloads, the Azure
// trace mapping, budgets, and a replay through the real pool and baselines.
#include <gtest/gtest.h>

#include <numeric>

#include "bench/azure_trace.h"
#include "bench/executor.h"
#include "bench/replay.h"
#include "bench/workload.h"
#include "test_support.h"

namespace strata::bench {
namespace {

using testing::GuestPath;
using testing::TestEngine;

WorkloadParams Params(double duration_s = 5, double rate = 100) {
  WorkloadParams p;
  p.duration_s = duration_s;
  p.rate = rate;
  p.guest_dir = GuestPath("");
  p.pages_dir = testing::DataPath("web-pages");
  p.traces_dir = std::filesystem::path(STRATA_TEST_TRACES_DIR);
  return p;
}

TEST(BenchWorkloadTest, SameSeedSameArrivals) {
  auto a = MakeWorkload("zipf:1.1", Params());
  auto b = MakeWorkload("zipf:1.1", Params());
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(a->arrivals.size(), b->arrivals.size());
  for (size_t i = 0; i < a->arrivals.size(); ++i) {
    EXPECT_EQ(a->arrivals[i].at, b->arrivals[i].at);
    EXPECT_EQ(a->arrivals[i].module, b->arrivals[i].module);
  }
  WorkloadParams other = Params();
  other.seed = 7;
  auto c = MakeWorkload("zipf:1.1", other);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->arrivals.front().at, a->arrivals.front().at);
}

TEST(BenchWorkloadTest, HotBiasedFollowsTheSeedsMix) {
  auto w = MakeWorkload("hot-biased", Params(20, 200));
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->modules.size(), 20u);
  EXPECT_EQ(w->modules[0].name, "extractor");
  size_t n = w->arrivals.size();
  ASSERT_GT(n, 3000u);  // Poisson: ~4000 expected
  size_t hot = 0, warm = 0;
  for (const Arrival& a : w->arrivals) {
    hot += a.module == 0;
    warm += a.module >= 1 && a.module <= 3;
    ASSERT_LT(a.input, w->modules[a.module].inputs.size());
  }
  EXPECT_NEAR(static_cast<double>(hot) / n, 0.7, 0.03);
  EXPECT_NEAR(static_cast<double>(warm) / n, 0.2, 0.03);
}

TEST(BenchWorkloadTest, BadSpecsNameTheProblem) {
  auto bad = MakeWorkload("zipf:9", Params());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'zipf:9'"), std::string::npos);
  auto unknown = MakeWorkload("lru", Params());
  EXPECT_NE(unknown.status().message().find("expected one of"), std::string::npos);
  WorkloadParams missing = Params();
  missing.traces_dir = "/nonexistent";
  EXPECT_EQ(MakeWorkload("azure:100", missing).status().code(),
            ErrorCode::kNotFound);
}

TEST(BenchWorkloadTest, AzureReplaysTheTracesCounts) {
  auto trace = LoadAzureTrace(std::filesystem::path(STRATA_TEST_TRACES_DIR) / "100");
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(trace->functions.size(), 100u);
  EXPECT_EQ(trace->minutes, 480u);
  uint64_t first_ten = 0, total = 0;
  for (const AzureFunction& f : trace->functions) {
    first_ten += std::accumulate(f.per_minute.begin(), f.per_minute.begin() + 10, 0ull);
    total += std::accumulate(f.per_minute.begin(), f.per_minute.end(), 0ull);
  }
  EXPECT_EQ(total, 339657u);  // the sample's README
  auto w = MakeWorkload("azure:100", Params(600));
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->modules.size(), 100u);
  EXPECT_EQ(w->arrivals.size(), first_ten);
  EXPECT_LT(w->arrivals.back().at, std::chrono::seconds(600));
  // Distinct functions are distinct modules.
  EXPECT_NE(w->modules[0].bytes, w->modules[1].bytes);
}

TEST(BenchBudgetTest, PercentagesAndUnits) {
  EXPECT_EQ(ParseBudget("25%", 1000).value(), 250u);
  EXPECT_EQ(ParseBudget("1M", 0).value(), 1048576u);
  EXPECT_EQ(ParseBudget("2GiB", 0).value(), uint64_t{2} << 30);
  EXPECT_EQ(ParseBudget("4096", 0).value(), 4096u);
  for (const char* bad : {"", "abc", "0", "-5%", "3X"}) {
    auto b = ParseBudget(bad, 1000);
    EXPECT_EQ(b.status().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

// Every arrival is served for real and counted once; the pool stays within
// its budget by measurement.
TEST(BenchReplayTest, VirtualTimeServesEveryArrival) {
  auto w = MakeWorkload("zipf:1.0", Params(30, 20));
  ASSERT_TRUE(w.ok()) << w.status();
  w->modules.resize(5);
  std::erase_if(w->arrivals, [](const Arrival& a) { return a.module >= 5; });
  for (const char* policy : {"instantiate", "fifo", "strata"}) {
    ReplayOptions ro;
    ro.virtual_time = true;
    ro.progress = false;
    ro.clock = std::make_shared<ManualClock>();
    ExecutorOptions eo;
    // fifo's queues must shrink as modules join: with 1 MiB its five
    // modules get one ready instance each (code ~43 KiB, instance ~123 KiB).
    eo.budget_bytes = std::string(policy) == "fifo" ? 1 << 20 : 64 << 20;
    eo.virtual_clock = ro.clock;
    auto executor = MakeExecutor(policy, TestEngine(), eo);
    ASSERT_TRUE(executor.ok()) << executor.status();
    for (const auto& m : w->modules) ASSERT_TRUE((*executor)->Register(m).ok());
    RunResult r = Replay(*w, **executor, ro);
    EXPECT_EQ(r.failures, 0u) << policy << ": " << r.first_failure;
    EXPECT_EQ(r.requests, w->arrivals.size()) << policy;
    uint64_t served = std::accumulate(std::begin(r.served), std::end(r.served), 0ull);
    EXPECT_EQ(served, r.requests) << policy;
    EXPECT_LE(r.peak_held_bytes, eo.budget_bytes) << policy;
    if (std::string(policy) == "strata") {
      EXPECT_GT(r.hit_rate(ServedFrom::kHot), 0.5);
      EXPECT_GT(r.figures.maintainer_runs, 0u);
    }
  }
}

}  // namespace
}  // namespace strata::bench
