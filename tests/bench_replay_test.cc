// The workload replayer behind `strata bench`: seeded workloads, the Azure
// trace mapping, budgets, and a replay through the real pool and baselines.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <numeric>

#include "replay/trace.h"
#include "replay/executor.h"
#include "replay/replay.h"
#include "replay/workload.h"
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

TEST(BenchTraceTest, AzureSampleLoadsWithItsDurationsAndMemory) {
  auto trace = LoadTrace(std::filesystem::path(STRATA_TEST_TRACES_DIR) / "100" /
                         "invocations.csv");
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(trace->format, "azure-2019-per-minute");
  EXPECT_EQ(trace->functions.size(), 100u);
  EXPECT_EQ(trace->span_s, 480 * 60.0);
  EXPECT_EQ(trace->invocations, 339657u);  // the sample's README
  uint64_t first_ten = 0;
  for (const TraceFunction& f : trace->functions) {
    EXPECT_TRUE(f.has_durations && f.has_memory) << f.name;
    first_ten += std::accumulate(f.per_minute.begin(), f.per_minute.begin() + 10, 0ull);
  }
  EXPECT_NE(trace->Describe().find("100 functions over 480 min, 339657 invocations"),
            std::string::npos)
      << trace->Describe();
  auto w = MakeWorkload("azure:100", Params(600));
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->modules.size(), 100u);
  EXPECT_EQ(w->arrivals.size(), first_ten);
  EXPECT_LT(w->arrivals.back().at, std::chrono::seconds(600));
  EXPECT_NE(w->description.find("100 functions"), std::string::npos);
  // Distinct functions are distinct modules.
  EXPECT_NE(w->modules[0].bytes, w->modules[1].bytes);
}

class TraceFileTest : public ::testing::Test {
 protected:
  std::filesystem::path Write(const std::string& name, const std::string& text) {
    auto path = dir_ / name;
    std::filesystem::create_directories(dir_);
    std::ofstream(path) << text;
    return path;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_ = std::filesystem::temp_directory_path() /
                               ("strata-trace-test-" + std::to_string(getpid()));
};

TEST_F(TraceFileTest, PerInvocation2021FormatIsDetectedByItsHeader) {
  auto path = Write("trace.csv",
                    "app,func,end_timestamp,duration\n"
                    "a,f,10.5,0.5\n"
                    "a,f,70.25,0.25\n"
                    "b,g,40.0,2.0\n");
  auto trace = LoadTrace(path);
  ASSERT_TRUE(trace.ok()) << trace.status();
  EXPECT_EQ(trace->format, "azure-2021-per-invocation");
  ASSERT_EQ(trace->functions.size(), 2u);
  EXPECT_EQ(trace->functions[0].name, "a/f");
  EXPECT_EQ(trace->functions[0].starts_s, (std::vector<double>{0, 60}));
  EXPECT_DOUBLE_EQ(trace->functions[0].average_ms, 375);
  EXPECT_DOUBLE_EQ(trace->functions[1].maximum_ms, 2000);
  EXPECT_EQ(trace->invocations, 3u);
  auto w = MakeWorkload("trace:" + path.string(), Params(3600));
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->arrivals.size(), 3u);
  EXPECT_NE(w->description.find("2 functions"), std::string::npos);
}

TEST_F(TraceFileTest, BadRowsNameTheFileLineAndColumn) {
  auto bad_count = Write("invocations.csv",
                         "HashOwner,HashApp,HashFunction,Trigger,1,2\n"
                         "o,a,f,http,3,4\n"
                         "o,a,g,http,5,x7\n");
  auto trace = LoadTrace(bad_count);
  ASSERT_EQ(trace.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(trace.status().message().find("invocations.csv:3: column 6 (2): "
                                          "'x7' is not a number"),
            std::string::npos)
      << trace.status();
  auto short_row = Write("short.csv", "app,func,end_timestamp,duration\na,f,1\n");
  EXPECT_NE(LoadTrace(short_row).status().message().find("short.csv:2"),
            std::string::npos);
  auto unknown = Write("other.csv", "x,y\n1,2\n");
  EXPECT_NE(LoadTrace(unknown).status().message().find("not a known trace header"),
            std::string::npos);
  EXPECT_EQ(LoadTrace(dir_ / "missing.csv").status().code(), ErrorCode::kNotFound);
}

TEST(BenchWorkloadTest, UserModulesReplaceTheSynthOnes) {
  WorkloadParams p = Params(2, 50);
  p.user_modules = {{GuestPath("echo.wat"), "run"}, {GuestPath("probe.wat"), ""}};
  p.user_input = {'x'};
  auto w = MakeWorkload("uniform", p);
  ASSERT_TRUE(w.ok()) << w.status();
  ASSERT_EQ(w->modules.size(), 20u);
  EXPECT_EQ(w->modules[0].name, "echo-0");
  EXPECT_EQ(w->modules[1].name, "probe-1");
  EXPECT_EQ(w->modules[1].inputs, std::vector<Bytes>{Bytes{'x'}});
  EXPECT_NE(w->description.find("modules: echo.wat, probe.wat"), std::string::npos);
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

// Five synth modules, 20 s of zipf arrivals at 20/s, compiled once; each
// test replays them through executors of its own.
class BenchReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto w = MakeWorkload("zipf:1.0", Params(20, 20));
    ASSERT_TRUE(w.ok()) << w.status();
    w->modules.resize(5);
    std::erase_if(w->arrivals, [](const Arrival& a) { return a.module >= 5; });
    workload_ = std::move(*w);
    auto compiled = CompileWorkload(TestEngine(), workload_);
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    compiled_ = std::move(*compiled);
  }
  // Replays the workload through `policy` with a 2 MiB budget.
  RunResult Run(const char* policy, ReplayOptions ro, ExecutorOptions eo) {
    ro.progress = false;
    ro.budget_bytes = 2 << 20;
    eo.budget_bytes = ro.budget_bytes;
    eo.max_instances = 32;
    auto executor = MakeExecutor(policy, TestEngine(), eo);
    EXPECT_TRUE(executor.ok()) << executor.status();
    if (!executor.ok()) return {};
    for (size_t i = 0; i < workload_.modules.size(); ++i) {
      EXPECT_TRUE((*executor)->Register(workload_.modules[i], compiled_[i]).ok());
    }
    (*executor)->Settle();
    return Replay(workload_, **executor, ro);
  }
  Workload workload_;
  std::vector<std::shared_ptr<const Module>> compiled_;
};

// Every arrival is served for real and counted once, through each
// executor; the pool-based ones never hold more than the budget at any
// reading.
TEST_F(BenchReplayTest, EveryArrivalIsServedOnceWithinTheBudget) {
  for (const char* policy : {"instantiate", "fifo", "keepalive:5s", "gdsf",
                             "histogram", "strata"}) {
    ReplayOptions ro;
    ro.speedup = 20;  // 20 s of arrivals in 1 s
    RunResult r = Run(policy, ro, {});
    EXPECT_EQ(r.failures, 0u) << policy << ": " << r.first_failure;
    EXPECT_EQ(r.requests, workload_.arrivals.size()) << policy;
    uint64_t served = std::accumulate(std::begin(r.served), std::end(r.served), 0ull);
    EXPECT_EQ(served, r.requests) << policy;
    EXPECT_GE(r.memory_readings, r.requests) << policy;
    if (r.budgeted) {
      EXPECT_EQ(r.over_budget_readings, 0u) << policy;
      EXPECT_LE(r.peak_held_bytes, r.budget_bytes) << policy;
      EXPECT_GT(r.figures.maintainer_runs, 0u) << policy;
    }
  }
}

// Virtual time: every arrival is served once, the replay runs one
// maintenance pass per interval of trace time itself, and the pool's clock
// ends at least at the end of the trace; in both reuse modes.
TEST_F(BenchReplayTest, VirtualTimeRunsAPassEveryIntervalAndServesAll) {
  for (ReuseMode reuse : {ReuseMode::kFresh, ReuseMode::kReuse}) {
    for (const char* policy : {"gdsf", "strata"}) {
      auto clock = std::make_shared<ManualClock>();
      ReplayOptions ro;
      ro.virtual_clock = clock;
      ro.maintain_interval = std::chrono::seconds(1);
      ExecutorOptions eo;
      eo.clock = clock;
      eo.maintain_interval = ro.maintain_interval;
      eo.host_maintenance = true;
      eo.reuse = reuse;
      RunResult r = Run(policy, ro, eo);
      EXPECT_EQ(r.failures, 0u) << policy << ": " << r.first_failure;
      EXPECT_EQ(r.requests, workload_.arrivals.size()) << policy;
      EXPECT_GE(r.figures.maintainer_runs, 20u) << policy;
      EXPECT_GE(clock->Now(), workload_.length) << policy;
      EXPECT_EQ(r.over_budget_readings, 0u) << policy;
    }
  }
}

}  // namespace
}  // namespace strata::bench
