// Pieces shared by `strata bench`, `strata bench tiers` and `strata bench
// validate`: their options, budget parsing and one policy's run.
#ifndef STRATA_TOOLS_BENCH_BENCH_COMMAND_H_
#define STRATA_TOOLS_BENCH_BENCH_COMMAND_H_

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "bench/replay.h"
#include "bench/report.h"
#include "bench/workload.h"
#include "commands.h"

namespace strata::cli {

struct BenchOptions {
  std::string workload = "hot-biased";
  std::string policy = "all";
  std::string budget = "256M";
  std::string mode = "auto";  // auto: virtual time for azure, else wall
  int threads = 2;
  double duration_s = 0;  // 0: 10 s, or 30 trace minutes for azure
  double rate = 200;
  uint32_t modules = 0;
  uint64_t seed = 42;
  double speedup = 60;  // azure in wall-clock mode
  uint32_t maintain_ms = 1000;
  std::string out_dir = "bench-results";
  std::string html;
  std::string pages_dir, traces_dir;

  void AddTo(CLI::App& cmd, bool workload_options);
  bench::WorkloadParams WorkloadParams() const;
  // The policies to run, in order; "all" skips none for azure (compiling
  // every one of its calls takes hours), which can still be named alone.
  Result<std::vector<std::string>> Policies(bool is_azure) const;
  std::string CommandLine() const;
};

// The header shared by a workload's runs: what was replayed, how, and the
// measured working set.
bench::ReportHeader MakeHeader(const bench::Workload& w, const BenchOptions& o,
                               bool virtual_time, uint64_t working_set,
                               std::string command);

Result<bench::RunResult> RunPolicy(Engine& engine, const bench::Workload& w,
                                   const std::string& policy, uint64_t budget,
                                   const BenchOptions& o, bool virtual_time);

// The extractor's input for single-module measurements: a base URL line and
// a bundled page (Wikipedia's), or the URL alone if the page is missing.
Bytes ExtractorSampleInput();

// `name` with characters unsafe in file names replaced.
std::string SafeName(std::string name);

void AddBenchTiersCommand(CLI::App& bench, ExitCode& exit_code);
void AddBenchValidateCommand(CLI::App& bench, ExitCode& exit_code);
void AddBenchSoakCommand(CLI::App& bench, ExitCode& exit_code);

}  // namespace strata::cli

#endif  // STRATA_TOOLS_BENCH_BENCH_COMMAND_H_
