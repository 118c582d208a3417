// A pool holding modules as their pre-initialisation snapshots: instances
// skip start-up in every tier, the snapshot is cached on disk (and rebuilt
// when its entry is corrupt), and a module that cannot be snapshotted is
// served without one, saying why.
#include <unistd.h>

#include <fstream>

#include "strata/pool.h"
#include "strata/snapshot.h"
#include "strata/synth.h"
#include "test_support.h"

namespace strata {
namespace {

using namespace std::chrono_literals;
using testing::GuestPath;
using testing::Recorder;
using testing::TestEngine;
using testing::ToBytes;

class PoolSnapshotTest : public ::testing::Test {
 protected:
  std::unique_ptr<Pool> MakePool(std::shared_ptr<Recorder> recorder = nullptr) {
    PoolOptions options;
    options.background = false;
    options.cache = cache_;
    auto pool = Pool::Create(&TestEngine(), options);
    EXPECT_TRUE(pool.ok()) << pool.status();
    if (recorder) (*pool)->AddListener(recorder);
    return std::move(*pool);
  }
  ModuleOptions Snapshotted() {
    ModuleOptions options;
    options.snapshot = "";
    return options;
  }
  ModuleMetrics Only(Pool& pool) {
    PoolMetrics m = pool.Metrics();
    EXPECT_EQ(m.modules.size(), 1u);
    return m.modules.at(0);
  }

  std::filesystem::path dir_ =
      std::filesystem::temp_directory_path() /
      ("strata-snapshot-test-" + std::to_string(getpid()) + "-" +
       ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::shared_ptr<ModuleCache> cache_ = std::make_shared<ModuleCache>(
      TestEngine(), dir_, ModuleCache::Options{.remove_dir_on_destroy = true});
};

TEST_F(PoolSnapshotTest, EveryTierServesTheInitialisedState) {
  auto pool = MakePool();
  ASSERT_TRUE(pool->AddModuleFile("snap", GuestPath("snapshot.wat"),
                                  Snapshotted())
                  .ok());
  ModuleMetrics m = Only(*pool);
  EXPECT_GT(m.snapshot_bytes, 0u);
  EXPECT_EQ(m.snapshot_init, kSnapshotInitExport);
  EXPECT_GT(m.snapshot_build_ms, 0);
  EXPECT_EQ(m.snapshot_error, "");
  for (Tier tier : {Tier::kColdMemory, Tier::kColdDisk, Tier::kAbsent}) {
    ASSERT_TRUE(pool->MoveTo("snap", tier).ok());
    auto lease = pool->Acquire("snap", 1s);
    ASSERT_TRUE(lease.ok()) << lease.status();
    Instance& instance = lease->instance();
    EXPECT_EQ(instance.ReadGlobal("inits").value(), 1) << TierName(tier);
    EXPECT_EQ(instance.ReadGlobal("marker").value(), 0x5eed) << TierName(tier);
    EXPECT_EQ(instance.ReadGlobal("reseeds").value(), 1) << TierName(tier);
  }
  EXPECT_NE(pool->Metrics().ToPrometheus().find(
                "strata_module_snapshot_bytes{module=\"snap\"} " +
                std::to_string(m.snapshot_bytes)),
            std::string::npos);
}

TEST_F(PoolSnapshotTest, SnapshotIsCachedAndRebuiltWhenCorrupt) {
  Bytes bytes = ReadFile(GuestPath("snapshot.wat")).value();
  {
    auto pool = MakePool();
    ASSERT_TRUE(pool->AddModule("snap", bytes, Snapshotted()).ok());
  }
  auto pool = MakePool();
  ASSERT_TRUE(pool->AddModule("snap", bytes, Snapshotted()).ok());
  ModuleMetrics cached = Only(*pool);
  EXPECT_EQ(cached.snapshot_build_ms, 0);  // read from the cache
  EXPECT_GT(cached.snapshot_bytes, 0u);

  // Corrupt every snapshot entry: the next registration rejects it and
  // builds the snapshot again.
  for (const auto& f : std::filesystem::directory_iterator(dir_)) {
    if (f.path().extension() != ".snapshot") continue;
    std::fstream file(f.path(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(-1, std::ios::end);
    file.put('\x5a');
  }
  uint64_t rejected = cache_->rejected();
  auto again = MakePool();
  ASSERT_TRUE(again->AddModule("snap", bytes, Snapshotted()).ok());
  EXPECT_EQ(cache_->rejected(), rejected + 1);
  EXPECT_GT(Only(*again).snapshot_build_ms, 0);
  auto lease = again->Acquire("snap", 1s);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->instance().ReadGlobal("marker").value(), 0x5eed);
}

// A snapshot's instance starts with its memory mapped from the image, which
// is charged once, with the code: a budget that holds the image and a page
// admits instances, though the memory they declare is as large as the image.
TEST_F(PoolSnapshotTest, InstanceIsChargedWhatItDirtiesNotItsImage) {
  SynthParams params;
  params.init_pages = 32;  // a 2 MiB image
  Bytes bytes = MakeSynthVariant(ReadFile(GuestPath("synth.wasm")).value(),
                                 params)
                    .value();
  auto image = TakeSnapshot(TestEngine(), "heavy", bytes, {}).value();
  auto compiled = TestEngine().Compile("heavy", image.wasm).value();
  ASSERT_GE(compiled->InitialMemoryBytes(), 2u << 20);
  PoolOptions options;
  options.background = false;
  options.cache = cache_;
  options.budget_bytes = compiled->ResidentImageBytes() + (512 << 10);
  auto pool = Pool::Create(&TestEngine(), options).value();
  ModuleOptions snapshotted;
  snapshotted.snapshot = "";
  ASSERT_TRUE(pool->AddModule("heavy", bytes, snapshotted).ok());
  for (int i = 0; i < 3; ++i) {
    auto lease = pool->Acquire("heavy", 1s);
    ASSERT_TRUE(lease.ok()) << lease.status();
    auto out = lease->Call("run", ToBytes("x"));
    ASSERT_TRUE(out.ok()) << out.status();
  }
  PoolMetrics m = pool->Metrics();
  EXPECT_LT(m.modules[0].instance_bytes, 512u << 10);
  EXPECT_LE(m.ledger.peak_bytes, options.budget_bytes);
  EXPECT_EQ(m.ledger.violations, 0u);
}

TEST_F(PoolSnapshotTest, ModuleThatCannotBeSnapshottedIsServedWithout) {
  auto recorder = std::make_shared<Recorder>();
  auto pool = MakePool(recorder);
  // echo.wat's start-up is its _initialize; naming another init function
  // it does not export makes the snapshot impossible.
  ModuleOptions options;
  options.snapshot = "setup";
  ASSERT_TRUE(pool->AddModuleFile("echo", GuestPath("echo.wat"), options).ok());
  auto failed = recorder->WaitFor(EventKind::kSnapshotFailed, "echo");
  ASSERT_TRUE(failed.has_value());
  EXPECT_NE(failed->detail.find("no init function 'setup'"), std::string::npos)
      << failed->detail;
  ModuleMetrics m = Only(*pool);
  EXPECT_EQ(m.snapshot_bytes, 0u);
  EXPECT_NE(m.snapshot_error.find("setup"), std::string::npos);
  auto lease = pool->Acquire("echo", 1s);
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->instance().ReadGlobal("initialized").value(), 1);
  auto out = lease->Call("run", ToBytes("still served"));
  ASSERT_TRUE(out.ok()) << out.status();
}

}  // namespace
}  // namespace strata
