// The engine layer on the real wasmtime engine: compiling, describing and
// linking modules.
#include "strata/engine.h"

#include "test_support.h"

namespace strata {
namespace {

using testing::GuestPath;
using testing::TestEngine;
using testing::ToBytes;

TEST(EngineTest, UsesPoolingAllocatorWhenAddressSpaceAllows) {
  EXPECT_TRUE(TestEngine().pooling_enabled())
      << TestEngine().pooling_fallback_reason();
  EXPECT_NE(TestEngine().fingerprint().find("wasmtime-48"), std::string::npos);
}

TEST(EngineTest, RejectsInvalidOptions) {
  EngineOptions options;
  options.epoch_tick = std::chrono::microseconds(0);
  auto engine = Engine::Create(options);
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), ErrorCode::kInvalidArgument);
}

TEST(EngineTest, CompileErrorNamesTheModule) {
  auto module = TestEngine().Compile("garbage", ToBytes("\0asm\x01junk"));
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.status().code(), ErrorCode::kCompile);
  EXPECT_NE(module.status().message().find("'garbage'"), std::string::npos);
}

TEST(EngineTest, CompilesTextFormat) {
  auto module = TestEngine().Compile("tiny", ToBytes("(module (func (export \"f\")))"));
  ASSERT_TRUE(module.ok()) << module.status();
  ASSERT_EQ((*module)->info().exports.size(), 1u);
  EXPECT_EQ((*module)->info().exports[0].type, "func () -> ()");
  EXPECT_EQ((*module)->convention(), CallingConvention::kUnknown);
}

TEST(EngineTest, MissingFileIsNotFound) {
  auto module = TestEngine().CompileFile(GuestPath("no-such-module.wasm"));
  ASSERT_FALSE(module.ok());
  EXPECT_EQ(module.status().code(), ErrorCode::kNotFound);
}

TEST(EngineTest, DetectsCallingConventions) {
  struct Case {
    const char* file;
    CallingConvention convention;
  } cases[] = {
      {"extractor.wasm", CallingConvention::kReactor},
      {"synth.wasm", CallingConvention::kReactor},
      {"echo.wat", CallingConvention::kReactor},
      {"extractor-cmd.wasm", CallingConvention::kCommand},
      {"command_hello.wat", CallingConvention::kCommand},
  };
  for (const auto& c : cases) {
    auto module = TestEngine().CompileFile(GuestPath(c.file));
    ASSERT_TRUE(module.ok()) << module.status();
    EXPECT_EQ((*module)->convention(), c.convention) << c.file;
  }
}

TEST(EngineTest, DescribesEntryPointsAndMemories) {
  auto module = TestEngine().CompileFile(GuestPath("echo.wat"));
  ASSERT_TRUE(module.ok()) << module.status();
  bool run_is_entry = false, add_is_entry = true;
  for (const auto& e : (*module)->info().exports) {
    if (e.name == "run") run_is_entry = e.is_reactor_entry;
    if (e.name == "add") add_is_entry = e.is_reactor_entry;
  }
  EXPECT_TRUE(run_is_entry);
  EXPECT_FALSE(add_is_entry);
  ASSERT_EQ((*module)->info().memories.size(), 1u);
  EXPECT_EQ((*module)->info().memories[0].name, "memory");
}

TEST(EngineTest, LinkErrorNamesTheMissingImport) {
  auto module = TestEngine().CompileFile(GuestPath("missing_import.wat"));
  ASSERT_TRUE(module.ok()) << module.status();
  auto prepared = TestEngine().Prepare(*module);
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.status().code(), ErrorCode::kLink);
  EXPECT_NE(prepared.status().message().find("strata_nonexistent"),
            std::string::npos)
      << prepared.status();
}

TEST(EngineTest, SameBytesHaveSameHash) {
  auto a = TestEngine().CompileFile(GuestPath("synth.wasm"));
  auto b = TestEngine().CompileFile(GuestPath("synth.wasm"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->hash(), (*b)->hash());
  EXPECT_EQ((*a)->hash().size(), 64u);
}

}  // namespace
}  // namespace strata
