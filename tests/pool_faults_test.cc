// Faults at each host fault point: a compile that fails, instantiation that
// fails (pool slots exhausted, really and injected), a cache file that
// cannot be read or is corrupt, a disk that cannot be written, a host
// function that throws, a clock that jumps. After each the request gets a
// clear error, the ledger balances, the counters agree, and the pool keeps
// serving.
#include <fstream>
#include <thread>

#include "strata/pool.h"
#include "test_support.h"

namespace strata {
namespace {

using namespace std::chrono_literals;
using testing::Eventually;
using testing::ExpectBalanced;
using testing::GuestPath;
using testing::MakeEngine;
using testing::ScriptedFaults;
using testing::ToBytes;
using testing::ToString;

class PoolFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = MakeEngine(faults_);
    ASSERT_NE(engine_, nullptr);
  }
  std::unique_ptr<Pool> MakePool(PoolOptions options = {}) {
    options.background = false;  // tiers move only when the test says so
    options.clock = clock_;
    auto pool = Pool::Create(engine_.get(), std::move(options));
    EXPECT_TRUE(pool.ok()) << pool.status();
    return std::move(*pool);
  }
  void Add(Pool& pool, const std::string& name, const std::string& file,
           ModuleOptions options = {}) {
    Status added = pool.AddModuleFile(name, GuestPath(file), options);
    ASSERT_TRUE(added.ok()) << added;
  }
  // Acquires `name` and calls its echo export; the tier it was served from.
  Result<ServedFrom> Serve(Pool& pool, const std::string& name,
                           const std::string& export_name = "run") {
    auto lease = pool.Acquire(name, 1s);
    if (!lease.ok()) return lease.status();
    auto out = lease->Call(export_name, ToBytes("ping"));
    if (!out.ok()) return out.status();
    EXPECT_EQ(ToString(*out), "ping");
    return lease->served_from();
  }

  std::shared_ptr<ScriptedFaults> faults_ = std::make_shared<ScriptedFaults>();
  std::unique_ptr<Engine> engine_;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
};

TEST_F(PoolFaultsTest, CompileFailureOnTheRequestPath) {
  auto pool = MakePool();
  Add(*pool, "echo", "echo.wat");
  ASSERT_TRUE(pool->MoveTo("echo", Tier::kAbsent).ok());
  faults_->Fail(FaultPoint::kCompile, "echo",
                Status(ErrorCode::kCompile, "out of memory in the compiler"));
  auto failed = pool->Acquire("echo", 1s);
  ASSERT_EQ(failed.status().code(), ErrorCode::kCompile);
  EXPECT_NE(failed.status().message().find("module 'echo'"), std::string::npos);
  ExpectBalanced(*pool);  // the code's reservation went back
  EXPECT_EQ(pool->Metrics().used_bytes, 0u);
  faults_->Clear();
  EXPECT_EQ(Serve(*pool, "echo").value(), ServedFrom::kCompile);
  ExpectBalanced(*pool);
}

TEST_F(PoolFaultsTest, InstantiateFailureInjected) {
  auto pool = MakePool();
  Add(*pool, "echo", "echo.wat");
  faults_->Fail(FaultPoint::kInstantiate, "echo",
                Status(ErrorCode::kInstantiate, "no slot"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(pool->Acquire("echo", 1s).status().code(), ErrorCode::kInstantiate);
  }
  ExpectBalanced(*pool);
  EXPECT_EQ(pool->Metrics().ledger.slots, 0u);
  faults_->Clear();
  EXPECT_TRUE(Serve(*pool, "echo").ok());
  ExpectBalanced(*pool);
}

// The engine's pool slots really run out: instances made outside the pool
// (another user of the same engine) hold all but one.
TEST_F(PoolFaultsTest, EngineSlotsReallyExhausted) {
  auto engine = MakeEngine(nullptr, /*slots=*/4);
  PoolOptions options;
  options.background = false;
  options.clock = clock_;
  options.max_instances = 4;
  auto pool = Pool::Create(engine.get(), options).value();
  ASSERT_TRUE(pool->AddModuleFile("echo", GuestPath("echo.wat"), {}).ok());
  auto module = engine->CompileFile(GuestPath("echo.wat")).value();
  auto prepared = engine->Prepare(module).value();
  std::vector<std::unique_ptr<Instance>> outside;
  for (int i = 0; i < 3; ++i) outside.push_back(prepared->Instantiate({}).value());
  auto first = pool->Acquire("echo", 1s);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = pool->Acquire("echo", 1s);
  ASSERT_EQ(second.status().code(), ErrorCode::kPoolExhausted) << second.status();
  EXPECT_NE(second.status().message().find("module 'echo': no pooled instance "
                                           "slot free in the engine"),
            std::string::npos)
      << second.status();
  { Lease returned = std::move(*first); }
  ExpectBalanced(*pool);
  outside.clear();
  std::vector<Lease> leases;
  for (int i = 0; i < 4; ++i) leases.push_back(std::move(pool->Acquire("echo", 1s).value()));
  leases.clear();
  ExpectBalanced(*pool);
}

TEST_F(PoolFaultsTest, CacheReadFailureFallsBackToCompile) {
  auto pool = MakePool();
  Add(*pool, "echo", "echo.wat");
  ASSERT_TRUE(pool->MoveTo("echo", Tier::kColdDisk).ok());
  faults_->Fail(FaultPoint::kCacheRead, "echo",
                Status(ErrorCode::kIo, "input/output error"));
  EXPECT_EQ(Serve(*pool, "echo").value(), ServedFrom::kCompile);
  ExpectBalanced(*pool);
  faults_->Clear();
  ASSERT_TRUE(pool->MoveTo("echo", Tier::kColdDisk).ok());
  EXPECT_EQ(Serve(*pool, "echo").value(), ServedFrom::kColdDisk);
}

TEST_F(PoolFaultsTest, CorruptCacheFileIsRejectedAndRebuilt) {
  auto dir = std::filesystem::temp_directory_path() /
             ("strata-faults-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  PoolOptions options;
  options.cache_dir = dir;
  auto pool = MakePool(options);
  Add(*pool, "echo", "echo.wat");
  ASSERT_TRUE(pool->MoveTo("echo", Tier::kColdDisk).ok());
  auto files = std::filesystem::directory_iterator(dir);
  auto file = files->path();
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a').put('\xa5');  // flip bytes inside the artifact
  }
  EXPECT_EQ(Serve(*pool, "echo").value(), ServedFrom::kCompile);
  ExpectBalanced(*pool);
  ASSERT_TRUE(pool->MoveTo("echo", Tier::kColdDisk).ok());
  EXPECT_EQ(Serve(*pool, "echo").value(), ServedFrom::kColdDisk);  // rebuilt
  pool.reset();
  std::filesystem::remove_all(dir);
}

TEST_F(PoolFaultsTest, DiskFullOnWriteLeavesTheModuleServing) {
  faults_->Fail(FaultPoint::kCacheWrite, "",
                Status(ErrorCode::kIo, "no space left on device"));
  auto pool = MakePool();
  Add(*pool, "echo", "echo.wat");  // registers although nothing is on disk
  // Cold-disk needs the code on disk: without it the module is absent.
  ASSERT_TRUE(pool->MoveTo("echo", Tier::kColdDisk).ok());
  EXPECT_EQ(pool->Metrics().modules[0].tier, Tier::kAbsent);
  EXPECT_EQ(Serve(*pool, "echo").value(), ServedFrom::kCompile);
  ExpectBalanced(*pool);
  faults_->Clear();
  ASSERT_TRUE(pool->MoveTo("echo", Tier::kColdDisk).ok());
  EXPECT_EQ(pool->Metrics().modules[0].tier, Tier::kColdDisk);
}

TEST_F(PoolFaultsTest, HostFunctionThatThrowsTrapsTheGuestOnly) {
  HostFunction explode;
  explode.results = {ValueType::kI32};
  explode.callback = [](std::span<const int64_t>, std::span<int64_t>) -> Status {
    throw std::runtime_error("boom");
  };
  ASSERT_TRUE(engine_->DefineHostFunction("strata_test", "explode", explode).ok());
  auto pool = MakePool();
  ModuleOptions options;
  options.reuse = ReuseMode::kReuse;
  Add(*pool, "host", "host_call.wat", options);
  for (int i = 0; i < 3; ++i) {
    auto lease = pool->Acquire("host", 1s);
    ASSERT_TRUE(lease.ok());
    auto out = lease->Call("run", {});
    ASSERT_EQ(out.status().code(), ErrorCode::kTrap);
    EXPECT_NE(out.status().message().find(
                  "host function 'strata_test.explode' threw: boom"),
              std::string::npos)
        << out.status();
  }
  EXPECT_EQ(pool->Metrics().modules[0].retired, 3u);  // each one discarded
  EXPECT_EQ(Serve(*pool, "host", "echo").value(), ServedFrom::kWarm);
  ExpectBalanced(*pool);
}

TEST_F(PoolFaultsTest, ClockJumpingBackAndForth) {
  auto pool = MakePool();
  ModuleOptions options;
  options.max_concurrent = 1;
  Add(*pool, "echo", "echo.wat", options);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Serve(*pool, "echo").ok());
  clock_->Advance(-1h);  // backwards
  pool->RunMaintenance();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Serve(*pool, "echo").ok());
  PoolMetrics m = pool->Metrics();
  EXPECT_GE(m.modules[0].rate_per_s, 0);
  EXPECT_LT(m.modules[0].rate_per_s, 1e6);

  // A waiter's deadline is on the clock: a jump back extends the wait, a
  // jump forward past it ends it.
  auto held = pool->Acquire("echo", 1s);
  ASSERT_TRUE(held.ok());
  Status waited;
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    waited = pool->Acquire("echo", 10s).status();
    done = true;
  });
  ASSERT_TRUE(Eventually([&] { return pool->Metrics().acquires_waiting == 1; }));
  clock_->Advance(-1h);
  EXPECT_FALSE(done.load());
  clock_->Advance(2h);
  waiter.join();
  EXPECT_EQ(waited.code(), ErrorCode::kPoolExhausted);
  { Lease returned = std::move(*held); }
  clock_->Advance(24h);  // forward: everything idle past its keep-alive
  pool->RunMaintenance();
  EXPECT_TRUE(Serve(*pool, "echo").ok());
  ExpectBalanced(*pool);
}

}  // namespace
}  // namespace strata
