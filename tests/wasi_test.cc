// WASI grants: the spec parsers, merging module and call grants, and what a
// command instance (the fsprobe guest) sees of args, env, stdin and
// preopened directories, granted and not.
#include "strata/wasi.h"

#include <cstdlib>

#include "wasi_test_support.h"

namespace strata {
namespace {

using testing::NewInstance;
using testing::Outcome;
using testing::ReadText;
using testing::ScratchDir;
using testing::ToBytes;
using testing::ToString;
using testing::WriteText;

TEST(WasiSpecTest, PreopenDefaultsToReadWriteLikeWasmtimeRun) {
  auto dir = ParsePreopen("./out::/out");
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(dir->host, "./out");
  EXPECT_EQ(dir->guest, "/out");
  EXPECT_TRUE(dir->writable);
}

TEST(WasiSpecTest, PreopenModeSuffixAndDefaultGuestPath) {
  auto ro = ParsePreopen("data::/data:ro");
  ASSERT_TRUE(ro.ok()) << ro.status();
  EXPECT_EQ(ro->host, "data");
  EXPECT_EQ(ro->guest, "/data");
  EXPECT_FALSE(ro->writable);

  auto same = ParsePreopen("/srv/in:rw");
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->host, "/srv/in");
  EXPECT_EQ(same->guest, "/srv/in");
  EXPECT_TRUE(same->writable);

  // A trailing mode is always the mode; a second one keeps a name's ":ro".
  auto named = ParsePreopen("x:ro:rw");
  ASSERT_TRUE(named.ok()) << named.status();
  EXPECT_EQ(named->host, "x:ro");
  EXPECT_TRUE(named->writable);
}

TEST(WasiSpecTest, PreopenSyntaxErrorsNameTheSpec) {
  for (const char* bad : {"", "::/out", "./out::", ":ro"}) {
    auto dir = ParsePreopen(bad);
    ASSERT_FALSE(dir.ok()) << bad;
    EXPECT_EQ(dir.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(dir.status().message().find("'" + std::string(bad) + "'"),
              std::string::npos)
        << dir.status();
  }
}

TEST(WasiSpecTest, EnvAssignment) {
  auto var = ParseEnvAssignment("URL=a=b");
  ASSERT_TRUE(var.ok()) << var.status();
  EXPECT_EQ(var->first, "URL");
  EXPECT_EQ(var->second, "a=b");
  EXPECT_EQ(ParseEnvAssignment("EMPTY=")->second, "");
  EXPECT_FALSE(ParseEnvAssignment("NOVALUE").ok());
  EXPECT_FALSE(ParseEnvAssignment("=x").ok());
}

TEST(WasiSpecTest, MergeAppendsCallGrantsAfterModuleGrants) {
  WasiCapabilities module, call;
  module.args = {"--smt2"};
  module.env = {{"MODE", "module"}, {"KEEP", "1"}};
  module.dirs = {{"lib", "/lib", false}};
  call.args = {"/data/in.smt2"};
  call.env = {{"MODE", "call"}};
  call.dirs = {{"out", "/out", true}};
  WasiCapabilities merged = MergeCapabilities(module, call);
  EXPECT_EQ(merged.args, (std::vector<std::string>{"--smt2", "/data/in.smt2"}));
  ASSERT_EQ(merged.dirs.size(), 2u);
  EXPECT_EQ(merged.dirs[0].guest, "/lib");
  EXPECT_EQ(merged.dirs[1].guest, "/out");
  auto env = ResolveEnv(merged);
  EXPECT_EQ(env, (std::vector<std::pair<std::string, std::string>>{
                     {"MODE", "call"}, {"KEEP", "1"}}));
}

TEST(WasiSpecTest, InheritedEnvCopiesOnlyNamedHostVariables) {
  setenv("STRATA_TEST_SHARED", "from-host", 1);
  setenv("STRATA_TEST_PRIVATE", "never-granted", 1);
  unsetenv("STRATA_TEST_UNSET");
  WasiCapabilities caps;
  caps.inherit_env = {"STRATA_TEST_SHARED", "STRATA_TEST_UNSET"};
  EXPECT_EQ(ResolveEnv(caps),
            (std::vector<std::pair<std::string, std::string>>{
                {"STRATA_TEST_SHARED", "from-host"}}));
  // An explicit value overrides the inherited one.
  caps.env = {{"STRATA_TEST_SHARED", "explicit"}};
  EXPECT_EQ(ResolveEnv(caps)[0].second, "explicit");
}

TEST(WasiSpecTest, ValidationNamesModuleAndPath) {
  ScratchDir dir;
  WriteText(dir / "file", "x");
  WasiCapabilities caps;
  caps.dirs = {{dir / "missing", "/m", false}};
  Status missing = ValidateCapabilities("tool", caps);
  EXPECT_EQ(missing.code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.message().find("module 'tool'"), std::string::npos);
  EXPECT_NE(missing.message().find((dir / "missing").string()),
            std::string::npos)
      << missing;

  caps.dirs = {{dir / "file", "/f", false}};
  EXPECT_NE(ValidateCapabilities("tool", caps).message().find(
                "is not a directory"),
            std::string::npos);

  caps.dirs = {{dir.path(), "/d", false}, {dir.path(), "/d/", true}};
  Status twice = ValidateCapabilities("tool", caps);
  EXPECT_EQ(twice.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(twice.message().find("granted twice"), std::string::npos) << twice;

  caps.dirs.clear();
  caps.env = {{"A=B", "x"}};
  EXPECT_EQ(ValidateCapabilities("tool", caps).code(),
            ErrorCode::kInvalidArgument);
}

TEST(WasiCommandTest, NothingIsGrantedByDefault) {
  setenv("STRATA_TEST_PRIVATE", "never-granted", 1);
  auto instance = NewInstance("fsprobe.wasm");
  ASSERT_NE(instance, nullptr);
  CommandRequest request;
  request.wasi.args = {"environ", "cat", "/etc/passwd", "ls", "/", "stdin"};
  auto out = instance->RunCommand(request);
  ASSERT_TRUE(out.ok()) << out.status();
  std::string report = ToString(out->stdout_bytes);
  EXPECT_EQ(Outcome(report, "environ"), "ok ") << report;
  EXPECT_NE(Outcome(report, "cat /etc/passwd").rfind("error", 0),
            std::string::npos)
      << report;
  EXPECT_NE(Outcome(report, "ls /").rfind("error", 0), std::string::npos);
  EXPECT_EQ(Outcome(report, "stdin"), "ok ");
}

TEST(WasiCommandTest, ArgsEnvAndStdinReachTheGuest) {
  setenv("STRATA_TEST_SHARED", "from-host", 1);
  auto instance = NewInstance("fsprobe.wasm");
  ASSERT_NE(instance, nullptr);
  CommandRequest request;
  request.wasi.args = {"argv",    "environ", "env", "STRATA_TEST_SHARED",
                       "env",     "GREETING", "stdin"};
  request.wasi.inherit_env = {"STRATA_TEST_SHARED"};
  request.wasi.env = {{"GREETING", "hello world"}};
  request.stdin_bytes = ToBytes("line one\nline two");
  auto out = instance->RunCommand(request);
  ASSERT_TRUE(out.ok()) << out.status();
  std::string report = ToString(out->stdout_bytes);
  EXPECT_EQ(Outcome(report, "argv"), "ok fsprobe 8") << report;
  EXPECT_EQ(Outcome(report, "environ"), "ok GREETING,STRATA_TEST_SHARED");
  EXPECT_EQ(Outcome(report, "env STRATA_TEST_SHARED"), "ok from-host");
  EXPECT_EQ(Outcome(report, "env GREETING"), "ok hello world");
  EXPECT_EQ(Outcome(report, "stdin"), "ok line one\\nline two");
}

TEST(WasiCommandTest, StdinStreamsFromAFile) {
  ScratchDir dir;
  WriteText(dir / "input.txt", "from a file\n");
  auto instance = NewInstance("fsprobe.wasm");
  ASSERT_NE(instance, nullptr);
  CommandRequest request;
  request.wasi.args = {"stdin"};
  request.stdin_file = dir / "input.txt";
  auto out = instance->RunCommand(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Outcome(ToString(out->stdout_bytes), "stdin"), "ok from a file\\n");
}

TEST(WasiCommandTest, StdinFileErrorsAreReportedBeforeTheGuestRuns) {
  ScratchDir dir;
  auto instance = NewInstance("fsprobe.wasm");
  ASSERT_NE(instance, nullptr);
  CommandRequest request;
  request.stdin_file = dir / "absent.txt";
  auto out = instance->RunCommand(request);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(out.status().message().find("absent.txt"), std::string::npos);

  WriteText(dir / "in.txt", "x");
  request.stdin_file = dir / "in.txt";
  request.stdin_bytes = ToBytes("and bytes");
  out = instance->RunCommand(request);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("give one"), std::string::npos);
  // Nothing ran: the instance can still serve a valid request.
  EXPECT_FALSE(instance->poisoned());
  EXPECT_TRUE(instance->RunCommand({}).ok());
}

TEST(WasiCommandTest, ReadOnlyAndReadWriteDirectories) {
  ScratchDir dir;
  WriteText(dir / "in/data.txt", "input data");
  std::filesystem::create_directories(dir / "out");
  auto instance = NewInstance("fsprobe.wasm");
  ASSERT_NE(instance, nullptr);
  CommandRequest request;
  request.wasi.dirs = {{dir / "in", "/in", false}, {dir / "out", "/out", true}};
  request.wasi.args = {"cat",   "/in/data.txt",  "write", "/out/result.txt",
                       "done",  "write",         "/in/new.txt", "x",
                       "write", "/in/data.txt",  "overwritten", "rm",
                       "/in/data.txt", "mkdir",  "/in/sub", "ls", "/in"};
  auto out = instance->RunCommand(request);
  ASSERT_TRUE(out.ok()) << out.status();
  std::string report = ToString(out->stdout_bytes);
  EXPECT_EQ(Outcome(report, "cat /in/data.txt"), "ok input data") << report;
  EXPECT_EQ(Outcome(report, "write /out/result.txt"), "ok");
  EXPECT_EQ(ReadText(dir / "out/result.txt"), "done");
  // Every change to the read-only directory fails and leaves it as it was.
  EXPECT_EQ(Outcome(report, "write /in/new.txt").rfind("error", 0), 0u);
  EXPECT_EQ(Outcome(report, "write /in/data.txt").rfind("error", 0), 0u);
  EXPECT_EQ(Outcome(report, "rm /in/data.txt").rfind("error", 0), 0u);
  EXPECT_EQ(Outcome(report, "mkdir /in/sub").rfind("error", 0), 0u);
  EXPECT_EQ(Outcome(report, "ls /in"), "ok data.txt");
  EXPECT_EQ(ReadText(dir / "in/data.txt"), "input data");
  EXPECT_FALSE(std::filesystem::exists(dir / "in/new.txt"));
}

TEST(WasiCommandTest, MissingHostDirectoryIsAnErrorNamingIt) {
  ScratchDir dir;
  auto instance = NewInstance("fsprobe.wasm");
  ASSERT_NE(instance, nullptr);
  CommandRequest request;
  request.wasi.dirs = {{dir / "nope", "/out", true}};
  auto out = instance->RunCommand(request);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(out.status().message().find("module 'fsprobe'"), std::string::npos);
  EXPECT_NE(out.status().message().find((dir / "nope").string()),
            std::string::npos)
      << out.status();
}

TEST(WasiCommandTest, StdoutOverItsCapIsReportedNotCut) {
  auto instance = NewInstance("fsprobe.wasm");
  ASSERT_NE(instance, nullptr);
  CommandRequest request;
  request.wasi.args = {"echo", std::string(100, 'x')};
  request.max_stdout_bytes = 50;
  auto out = instance->RunCommand(request);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), ErrorCode::kOutputTooLarge);
  EXPECT_NE(out.status().message().find("101 bytes to stdout"),
            std::string::npos)
      << out.status();
}

}  // namespace
}  // namespace strata
