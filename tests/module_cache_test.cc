// The cold tier's on-disk form: serialize, deserialize, and never trust a
// damaged file.
#include "strata/module_cache.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "test_support.h"

namespace strata {
namespace {

using testing::GuestPath;
using testing::TestEngine;
using testing::ToBytes;
using testing::ToString;

class ModuleCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("strata-cache-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    bytes_ = ReadFile(GuestPath("probe.wat")).value();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string CallProbe(const Module& module) {
    auto copy = std::shared_ptr<const Module>(std::shared_ptr<const Module>{},
                                              &module);
    auto instance = TestEngine().Prepare(copy).value()->Instantiate({});
    return ToString(instance.value()->Call("run", {}, {}).value());
  }

  // Flips the byte at `flip` (from the start; SIZE_MAX: none), then keeps
  // the first `keep_bytes`.
  void Damage(const std::filesystem::path& path, size_t keep_bytes,
              size_t flip = SIZE_MAX) {
    Bytes file = ReadFile(path).value();
    if (flip < file.size()) file[flip] ^= 0xff;
    file.resize(std::min(file.size(), keep_bytes));
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(file.data()), file.size());
  }

  std::filesystem::path dir_;
  Bytes bytes_;
};

TEST_F(ModuleCacheTest, SerializedModuleGivesTheSameOutput) {
  ModuleCache cache(TestEngine(), dir_);
  auto compiled = TestEngine().Compile("probe", bytes_).value();
  ASSERT_TRUE(cache.Store(*compiled).ok());
  ASSERT_TRUE(std::filesystem::exists(cache.PathFor(compiled->hash())));
  auto loaded = cache.Load("probe", compiled->hash());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ((*loaded)->hash(), compiled->hash());
  EXPECT_EQ(CallProbe(**loaded), CallProbe(*compiled));
  EXPECT_EQ(cache.rejected(), 0u);
}

TEST_F(ModuleCacheTest, MissingEntryIsNotFound) {
  ModuleCache cache(TestEngine(), dir_);
  auto loaded = cache.Load("probe", "0123");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), ErrorCode::kNotFound);
}

TEST_F(ModuleCacheTest, CorruptedEntryIsRejectedAndRebuilt) {
  ModuleCache cache(TestEngine(), dir_);
  auto first = cache.LoadOrCompile("probe", bytes_);
  ASSERT_TRUE(first.ok()) << first.status();
  auto path = cache.PathFor((*first)->hash());
  Damage(path, SIZE_MAX, /*flip=*/100);  // in the artifact, before the trailer

  auto loaded = cache.Load("probe", (*first)->hash());
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("checksum mismatch"),
            std::string::npos)
      << loaded.status();
  EXPECT_EQ(cache.rejected(), 1u);
  EXPECT_FALSE(std::filesystem::exists(path));

  auto rebuilt = cache.LoadOrCompile("probe", bytes_);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_EQ(CallProbe(**rebuilt), "fresh 1");
  EXPECT_TRUE(cache.Load("probe", (*first)->hash()).ok());
}

TEST_F(ModuleCacheTest, TruncatedEntryIsRejected) {
  ModuleCache cache(TestEngine(), dir_);
  auto first = cache.LoadOrCompile("probe", bytes_).value();
  Damage(cache.PathFor(first->hash()), 20);
  auto loaded = cache.Load("probe", first->hash());
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(cache.rejected(), 1u);
}

TEST_F(ModuleCacheTest, DamagedTrailerIsRejected) {
  ModuleCache cache(TestEngine(), dir_);
  auto first = cache.LoadOrCompile("probe", bytes_).value();
  auto path = cache.PathFor(first->hash());
  size_t size = std::filesystem::file_size(path);
  // The trailer's length, then its magic.
  for (size_t at : {size - 12, size - 1}) {
    ASSERT_TRUE(cache.Store(*first).ok());
    Damage(path, SIZE_MAX, at);
    auto loaded = cache.Load("probe", first->hash());
    ASSERT_FALSE(loaded.ok());
    EXPECT_FALSE(std::filesystem::exists(path));
  }
  EXPECT_EQ(cache.rejected(), 2u);
}

// A loaded module maps its entry: it keeps working after the file is
// deleted or replaced, as a pruned or re-stored entry is.
TEST_F(ModuleCacheTest, LoadedModuleOutlivesItsFile) {
  ModuleCache cache(TestEngine(), dir_);
  auto compiled = TestEngine().Compile("probe", bytes_).value();
  ASSERT_TRUE(cache.Store(*compiled).ok());
  auto loaded = cache.Load("probe", compiled->hash()).value();
  EXPECT_GT(loaded->ResidentImageBytes(), 0u);
  std::filesystem::remove(cache.PathFor(compiled->hash()));
  EXPECT_EQ(CallProbe(*loaded), CallProbe(*compiled));
  ASSERT_TRUE(cache.Store(*compiled).ok());
  EXPECT_EQ(CallProbe(*loaded), CallProbe(*compiled));
}

TEST_F(ModuleCacheTest, EntryOfAnotherEngineConfigurationIsRejected) {
  ModuleCache cache(TestEngine(), dir_);
  auto compiled = TestEngine().Compile("probe", bytes_).value();
  ASSERT_TRUE(cache.Store(*compiled).ok());

  EngineOptions other_options;
  other_options.pooling_allocator = false;
  other_options.opt_level = OptLevel::kNone;
  auto other = Engine::Create(other_options).value();
  ModuleCache other_cache(*other, dir_);
  // Another fingerprint means another file name...
  EXPECT_NE(other_cache.PathFor(compiled->hash()),
            cache.PathFor(compiled->hash()));
  // ...and a file renamed into its place is still refused.
  std::filesystem::copy_file(cache.PathFor(compiled->hash()),
                             other_cache.PathFor(compiled->hash()));
  auto loaded = other_cache.Load("probe", compiled->hash());
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("another engine"),
            std::string::npos)
      << loaded.status();
}

// Several nodes on one host share one directory for the cold tier, each
// with its own ModuleCache (as separate processes have): stores race on the
// same content-hash names, and every load sees a whole entry or none.
TEST_F(ModuleCacheTest, SeveralCachesShareOneDirectory) {
  std::vector<Bytes> modules;
  for (const char* file : {"probe.wat", "echo.wat", "trap.wat"}) {
    modules.push_back(ReadFile(GuestPath(file)).value());
  }
  std::atomic<int> failures{0};
  std::atomic<uint64_t> rejected{0};  // entries a node found damaged
  std::vector<std::thread> nodes;
  for (int n = 0; n < 4; ++n) {
    nodes.emplace_back([&] {
      ModuleCache cache(TestEngine(), dir_);
      for (int round = 0; round < 10; ++round) {
        for (size_t m = 0; m < modules.size(); ++m) {
          auto module = cache.LoadOrCompile("m" + std::to_string(m), modules[m]);
          if (!module.ok() || (m == 0 && CallProbe(**module) != "fresh 1")) {
            ++failures;
          }
        }
      }
      rejected += cache.rejected();
    });
  }
  for (auto& t : nodes) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(rejected.load(), 0u);
  size_t entries = 0;
  for (const auto& file : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(file.path().string().find(".tmp."), std::string::npos)
        << file.path();  // no temporary file left behind
    ++entries;
  }
  EXPECT_EQ(entries, modules.size());
}

}  // namespace
}  // namespace strata
