// Pre-initialisation snapshots on the real engine: start-up runs once, its
// state is in every instance of the snapshot, reseeding runs per instance,
// and what cannot be snapshotted says why.
#include "strata/snapshot.h"

#include "strata/synth.h"
#include "test_support.h"

namespace strata {
namespace {

using testing::GuestPath;
using testing::TestEngine;
using testing::ToBytes;
using testing::ToString;

std::unique_ptr<Instance> Instantiate(std::span<const uint8_t> wasm) {
  auto module = TestEngine().Compile("snap", wasm);
  EXPECT_TRUE(module.ok()) << module.status();
  auto prepared = TestEngine().Prepare(*module);
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  auto instance = (*prepared)->Instantiate({});
  EXPECT_TRUE(instance.ok()) << instance.status();
  return std::move(*instance);
}

TEST(SnapshotTest, StartUpRunsOnceAndItsStateIsInEveryInstance) {
  Bytes bytes = ReadFile(GuestPath("snapshot.wat")).value();
  auto image = TakeSnapshot(TestEngine(), "snap", bytes, {});
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->init_func, kSnapshotInitExport);
  EXPECT_GT(image->build_time.count(), 0);

  for (int i = 0; i < 2; ++i) {
    auto instance = Instantiate(image->wasm);
    EXPECT_EQ(instance->ReadGlobal("inits").value(), 1);  // not run again
    EXPECT_EQ(instance->ReadGlobal("reseeds").value(), 1);  // run per instance
    EXPECT_EQ(instance->ReadGlobal("marker").value(), 0x5eed);  // start-up's memory
    EXPECT_EQ(ToString(instance->Call("run", ToBytes("hi"), {}).value()), "hi");
  }
  // The snapshot no longer exports its init function.
  auto module = TestEngine().Compile("snap", image->wasm).value();
  EXPECT_FALSE(module->HasExport(kSnapshotInitExport));
}

// Without a snapshot, start-up runs at every instantiation: the module
// behaves the same either way.
TEST(SnapshotTest, WithoutASnapshotEveryInstanceRunsStartUpThenReseeds) {
  Bytes bytes = ReadFile(GuestPath("snapshot.wat")).value();
  for (int i = 0; i < 2; ++i) {
    auto instance = Instantiate(bytes);
    EXPECT_EQ(instance->ReadGlobal("inits").value(), 1);
    EXPECT_EQ(instance->ReadGlobal("reseeds").value(), 1);
    EXPECT_EQ(instance->ReadGlobal("marker").value(), 0x5eed);  // after start-up
  }
}

TEST(SnapshotTest, ReactorStartUpIsTheDefaultWithoutAnInitExport) {
  Bytes synth = ReadFile(GuestPath("synth.wasm")).value();
  SynthParams params;
  params.init_pages = 4;
  Bytes bytes = MakeSynthVariant(synth, params).value();
  auto image = TakeSnapshot(TestEngine(), "synth", bytes, {});
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->init_func, "_initialize");
  auto module = TestEngine().Compile("synth", image->wasm).value();
  EXPECT_FALSE(module->HasExport("_initialize"));
  // Start-up's four dirtied pages are the snapshot's data, not new work.
  auto instance = Instantiate(image->wasm);
  auto out = instance->Call("info", {}, {});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_NE(ToString(*out).find("\"init_pages\":4"), std::string::npos);
  EXPECT_EQ(ToString(instance->Call("run", ToBytes("x"), {}).value()).rfind("ok ", 0),
            0u);
}

TEST(SnapshotTest, WhatCannotBeSnapshottedSaysWhy) {
  auto fails = [](std::string_view wat, const SnapshotSpec& spec = {}) {
    auto image = TakeSnapshot(TestEngine(), "bad", ToBytes(wat), spec);
    EXPECT_FALSE(image.ok());
    EXPECT_EQ(image.status().code(), ErrorCode::kInvalidArgument)
        << image.status();
    return image.status().message();
  };
  std::string imported = fails(
      R"((module (import "env" "mem" (memory 1)) (func (export "wizer.initialize"))))");
  EXPECT_NE(imported.find("imports a memory (env.mem)"), std::string::npos)
      << imported;
  std::string none = fails(R"((module (memory (export "memory") 1)))");
  EXPECT_NE(none.find("exports neither 'wizer.initialize'"), std::string::npos)
      << none;
  SnapshotSpec named;
  named.init_func = "setup";
  std::string missing = fails(R"((module (func (export "init"))))", named);
  EXPECT_NE(missing.find("no init function 'setup'"), std::string::npos)
      << missing;
  // A table's contents cannot be recorded, so no code may change them.
  std::string table = fails(R"((module
      (table 1 externref)
      (func (export "wizer.initialize")
        (table.set 0 (i32.const 0) (ref.null extern)))))");
  EXPECT_NE(table.find("module 'bad' cannot be snapshotted (instrumenting)"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("table.set"), std::string::npos) << table;
}

TEST(SnapshotTest, AStartUpThatTrapsIsReportedAsItsTrap) {
  auto image = TakeSnapshot(TestEngine(), "trap",
                            ToBytes(R"((module (func (export "wizer.initialize")
                                           unreachable)))"),
                            {});
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), ErrorCode::kTrap) << image.status();
  EXPECT_NE(image.status().message().find("wizer.initialize"), std::string::npos);
}

TEST(SnapshotTest, KeyCoversBytesInitFunctionAndGrants) {
  Engine& engine = TestEngine();
  WasiCapabilities none, some;
  some.env = {{"A", "1"}};
  std::string base = SnapshotKey(engine, "h1", "wizer.initialize", none);
  EXPECT_EQ(base, SnapshotKey(engine, "h1", "wizer.initialize", none));
  EXPECT_NE(base, SnapshotKey(engine, "h2", "wizer.initialize", none));
  EXPECT_NE(base, SnapshotKey(engine, "h1", "_initialize", none));
  EXPECT_NE(base, SnapshotKey(engine, "h1", "wizer.initialize", some));

  // An inherited variable counts by its value, which start-up may read.
  WasiCapabilities inherits;
  inherits.inherit_env = {"STRATA_SNAPSHOT_KEY_TEST"};
  unsetenv("STRATA_SNAPSHOT_KEY_TEST");
  std::string unset = SnapshotKey(engine, "h1", "wizer.initialize", inherits);
  setenv("STRATA_SNAPSHOT_KEY_TEST", "eu", 1);
  std::string eu = SnapshotKey(engine, "h1", "wizer.initialize", inherits);
  setenv("STRATA_SNAPSHOT_KEY_TEST", "us", 1);
  std::string us = SnapshotKey(engine, "h1", "wizer.initialize", inherits);
  unsetenv("STRATA_SNAPSHOT_KEY_TEST");
  EXPECT_NE(unset, eu);
  EXPECT_NE(eu, us);
  EXPECT_NE(unset, base);
}

}  // namespace
}  // namespace strata
