// Pieces shared by `strata bench`, `strata bench tiers` and `strata bench
// validate`: their options, preparing a workload once, and one policy's
// run. The replay itself lives in bench/replay.
#ifndef STRATA_TOOLS_BENCH_COMMAND_H_
#define STRATA_TOOLS_BENCH_COMMAND_H_

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "commands.h"
#include "replay/replay.h"
#include "replay/report.h"
#include "replay/workload.h"

namespace strata::cli {

struct BenchOptions {
  std::string workload = "hot-biased";
  std::string policy = "all";
  std::string budget = "256M";
  int threads = 2;
  double duration_s = 0;  // 0: 10 s, or 30 trace minutes for a trace
  double rate = 200;
  uint32_t modules = 0;
  uint64_t seed = 42;
  // auto: virtual time for traces, the wall clock for the others.
  std::string mode = "auto";
  bool reuse = false;  // reuse instances across calls (default: fresh)
  bool snapshot = false;  // every module as its pre-initialisation snapshot
  double speedup = 60;  // traces on the wall clock: trace s per replayed s
  uint32_t maintain_ms = 1000;
  std::string out_dir = "bench-results";
  std::string html;
  std::string pages_dir, traces_dir;
  std::vector<std::string> user_modules;  // FILE.wasm[:EXPORT]
  std::string input;                      // their input

  void AddTo(CLI::App& cmd, bool workload_options);
  bool is_trace() const;
  bool virtual_time() const;
  Result<bench::WorkloadParams> WorkloadParams() const;
  // The policies to run, in order; "all" leaves `none` out for traces
  // (compiling every one of their calls takes hours); it can still be
  // named alone.
  Result<std::vector<std::string>> Policies() const;
  std::string CommandLine() const;
};

// A workload ready for replays: its modules compiled once (every executor
// registers the same compiled code), its working set and a hot acquire's
// median measured.
struct PreparedWorkload {
  bench::Workload workload;
  std::vector<std::shared_ptr<const Module>> compiled;
  uint64_t working_set_bytes = 0;
  std::chrono::nanoseconds hot_p50{0};
  bool virtual_time = false;
  double speedup = 1;  // wall clock
};
Result<PreparedWorkload> PrepareWorkload(Engine& engine, const BenchOptions& o);

bench::ReportHeader MakeHeader(const PreparedWorkload& p, const BenchOptions& o,
                               std::string command);

// How a run's executor is set up: its options (budget, reuse, clock) and,
// in virtual time, the clock the replay advances.
struct RunSetup {
  bench::ExecutorOptions executor;
  std::shared_ptr<ManualClock> virtual_clock;
};
RunSetup MakeRunSetup(const PreparedWorkload& p, uint64_t budget,
                      const BenchOptions& o);

// One policy's run: its executor made, the modules registered, replayed.
Result<bench::RunResult> RunPolicy(Engine& engine, const PreparedWorkload& p,
                                   const std::string& policy, uint64_t budget,
                                   const BenchOptions& o);
// The same with an executor made from `setup` by the caller.
Result<bench::RunResult> RunExecutor(const PreparedWorkload& p,
                                     bench::Executor& executor,
                                     const RunSetup& setup, uint64_t budget,
                                     const BenchOptions& o);

// The extractor's input for single-module measurements: a base URL line and
// a bundled page (Wikipedia's), or the URL alone if the page is missing.
Bytes ExtractorSampleInput();

// `name` with characters unsafe in file names replaced.
std::string SafeName(std::string name);

void AddBenchTiersCommand(CLI::App& bench, ExitCode& exit_code);
void AddBenchExtractCommand(CLI::App& bench, ExitCode& exit_code);
void AddBenchValidateCommand(CLI::App& bench, ExitCode& exit_code);
void AddBenchSoakCommand(CLI::App& bench, ExitCode& exit_code);
void AddBenchClusterCommand(CLI::App& bench, ExitCode& exit_code);

}  // namespace strata::cli

#endif  // STRATA_TOOLS_BENCH_COMMAND_H_
