// `strata run` as a user runs it: --dir, --env, --inherit-env, --stdin and
// arguments after `--` reach a WASI command; mistakes are errors that name
// what is wrong.
#include "wasi_test_support.h"

namespace strata {
namespace {

using testing::GuestPath;
using testing::Outcome;
using testing::ProcessResult;
using testing::ReadText;
using testing::RunProcess;
using testing::ScratchDir;
using testing::StrataCli;
using testing::WriteText;

ProcessResult Strata(std::vector<std::string> args,
                     const std::filesystem::path& cwd) {
  args.insert(args.begin(), StrataCli().string());
  return RunProcess(args, cwd);
}

TEST(CliRunTest, DirEnvStdinAndArgsReachTheCommand) {
  ScratchDir dir;
  WriteText(dir / "in/data.txt", "input");
  WriteText(dir / "stdin.txt", "piped");
  std::filesystem::create_directories(dir / "out");
  setenv("STRATA_CLI_TEST_VAR", "inherited", 1);
  auto run = Strata({"run", GuestPath("fsprobe.wasm").string(),
                     "--dir", "./in::/in:ro", "--dir", "./out::/out",
                     "--env", "MODE=test", "--inherit-env",
                     "STRATA_CLI_TEST_VAR", "--stdin", "stdin.txt", "--",
                     "cat", "/in/data.txt", "write", "/out/x", "written",
                     "write", "/in/y", "refused", "environ", "stdin"},
                    dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Outcome(run.out, "cat /in/data.txt"), "ok input") << run.out;
  EXPECT_EQ(Outcome(run.out, "write /out/x"), "ok");
  EXPECT_EQ(ReadText(dir / "out/x"), "written");
  EXPECT_EQ(Outcome(run.out, "write /in/y").rfind("error", 0), 0u);
  EXPECT_EQ(Outcome(run.out, "environ"), "ok MODE,STRATA_CLI_TEST_VAR");
  EXPECT_EQ(Outcome(run.out, "stdin"), "ok piped");
}

TEST(CliRunTest, OptionLikeArgumentsAfterDoubleDashGoToTheGuest) {
  ScratchDir dir;
  std::filesystem::create_directories(dir / "out");
  // `--dir` takes one value: `--` still ends strata's options.
  auto run = Strata({"run", GuestPath("fsprobe.wasm").string(), "--dir",
                     "out::/out", "--", "echo", "-o", "write", "/out/-v",
                     "--flag"},
                    dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("-o\n"), std::string::npos) << run.out;
  EXPECT_EQ(Outcome(run.out, "write /out/-v"), "ok") << run.out;
}

// A command that sleeps waits in the host (WASI poll_oneoff), where no
// epoch check runs: before strata's own poll_oneoff this run took the hour.
TEST(CliRunTest, ACommandThatSleepsPastItsTimeoutIsEnded) {
  ScratchDir dir;
  auto run = Strata({"run", GuestPath("fsprobe.wasm").string(), "--timeout",
                     "300", "--", "sleep", "20", "sleep", "3600000"},
                    dir.path());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("deadline_exceeded: module 'fsprobe': _start would "
                         "exceed its 300 ms deadline: poll_oneoff asked to "
                         "wait 3600000 ms"),
            std::string::npos)
      << run.err;
}

TEST(CliRunTest, MissingDirectoryIsAnErrorNamingIt) {
  ScratchDir dir;
  auto run = Strata({"run", GuestPath("fsprobe.wasm").string(), "--dir",
                     "./absent::/out", "--", "ls", "/out"},
                    dir.path());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("not_found"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("'./absent'"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("module 'fsprobe'"), std::string::npos) << run.err;
}

TEST(CliRunTest, BadSpecsAreRejected) {
  ScratchDir dir;
  auto env = Strata({"run", GuestPath("fsprobe.wasm").string(), "--env",
                     "NOEQUALS"},
                    dir.path());
  EXPECT_EQ(env.exit_code, 1);
  EXPECT_NE(env.err.find("'NOEQUALS'"), std::string::npos) << env.err;
  auto dir_spec = Strata({"run", GuestPath("fsprobe.wasm").string(), "--dir",
                          "::/out"},
                         dir.path());
  EXPECT_EQ(dir_spec.exit_code, 1);
  EXPECT_NE(dir_spec.err.find("no host directory"), std::string::npos)
      << dir_spec.err;
}

TEST(CliRunTest, GrantsAreRefusedForAReactorExport) {
  ScratchDir dir;
  auto run = Strata({"run", GuestPath("echo.wat").string(), "--export", "run",
                     "--dir", "."},
                    dir.path());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("apply to WASI commands"), std::string::npos)
      << run.err;
}

TEST(CliRunTest, RepeatReportsUnpooledAndPooledTimes) {
  ScratchDir dir;
  auto run = Strata({"run", GuestPath("fsprobe.wasm").string(), "--repeat",
                     "3", "--", "echo", "once"},
                    dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "once\n");  // the first run's output, printed once
  EXPECT_NE(run.err.find("3 runs of module 'fsprobe'"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("without a pool"), std::string::npos);
  EXPECT_NE(run.err.find("acquire (3/3 hot)"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("pooling saves per run"), std::string::npos);
}

TEST(CliRunTest, InspectBuildsTheSnapshotTheOptionWould) {
  ScratchDir dir;
  auto shown = Strata({"inspect", GuestPath("snapshot.wat").string(),
                       "--snapshot"},
                      dir.path());
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("snapshot    after wizer.initialize: "),
            std::string::npos)
      << shown.out;
  EXPECT_NE(shown.out.find("built in "), std::string::npos) << shown.out;
  auto refused = Strata({"inspect", GuestPath("echo.wat").string(),
                         "--snapshot=setup"},
                        dir.path());
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("no init function 'setup'"), std::string::npos)
      << refused.err;
}

TEST(CliRunTest, ExtractWithEitherEngine) {
  ScratchDir dir;
  std::string page = testing::DataPath("web-pages/heise/source.html").string();
  auto readability = Strata({"extract", "--engine", "readability", page}, dir.path());
  ASSERT_EQ(readability.exit_code, 0) << readability.err;
  EXPECT_NE(readability.out.find(
                "\"title\":\"1Password für Mac generiert Einmal-Passwörter\""),
            std::string::npos)
      << readability.out.substr(0, 300);
  EXPECT_NE(readability.out.find("\"byline\":"), std::string::npos);
  auto c = Strata({"extract", page}, dir.path());
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("\"links\":"), std::string::npos);  // the C extractor's
  auto bad = Strata({"extract", "--engine", "perl", page}, dir.path());
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("perl"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace strata
