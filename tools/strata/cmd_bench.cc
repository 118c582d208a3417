// strata bench: replays a workload through every way of holding instances
// (bench/executor.h) in one process, one policy after another on the same
// seeded arrivals, and writes JSON, CSV, a table and optionally HTML.
// `strata bench tiers` measures each tier's cost; `strata bench validate`
// runs the seed report's P2-1 checklist on real measurements.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "bench_command.h"
#include "replay/report.h"
#include "cli_util.h"
#include "commands.h"

namespace strata::cli {
namespace {

using bench::RunResult;

int Bench(const BenchOptions& o, const std::string& command) {
  auto engine = MakeEngine();
  auto policies = o.Policies();
  if (!policies.ok()) return Fail(policies.status());
  auto prepared = PrepareWorkload(*engine, o);
  if (!prepared.ok()) return Fail(prepared.status());
  auto budget = bench::ParseBudget(o.budget, prepared->working_set_bytes);
  if (!budget.ok()) return Fail(budget.status());
  bench::ReportHeader header = MakeHeader(*prepared, o, command);

  std::vector<RunResult> runs;
  for (const std::string& policy : *policies) {
    auto run = RunPolicy(*engine, *prepared, policy, *budget, o);
    if (!run.ok()) return Fail(run.status());
    runs.push_back(std::move(*run));
  }
  std::string stem = SafeName(o.workload.rfind("trace:", 0) == 0
                                  ? std::filesystem::path(o.workload.substr(6)).stem().string()
                                  : o.workload);
  auto written = bench::WriteReport(o.out_dir, stem, header, runs);
  if (!written.ok()) return Fail(written.status());
  std::cout << bench::ToTable(header, runs);
  if (!o.html.empty()) {
    std::ofstream(o.html) << bench::ToHtml("[" + bench::ToJson(header, runs) + "]");
    written->push_back(o.html);
  }
  std::cout << "\nwrote";
  for (const auto& path : *written) std::cout << " " << path.string();
  std::cout << "\n";
  return 0;
}

}  // namespace

void AddBenchCommand(CLI::App& app, ExitCode& exit_code) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bench",
      "Replay a workload through each policy (none, instantiate, fifo, "
      "keepalive, gdsf, histogram, riptide, strata) on the same seeded "
      "arrivals; write JSON, CSV, a table and optionally an HTML report");
  o->AddTo(*cmd, /*workload_options=*/true);
  cmd->callback([o, &exit_code, cmd] {
    if (cmd->get_subcommands().empty()) {
      exit_code = Bench(*o, o->CommandLine());
    }
  });
  AddBenchTiersCommand(*cmd, exit_code);
  AddBenchExtractCommand(*cmd, exit_code);
  AddBenchValidateCommand(*cmd, exit_code);
  AddBenchSoakCommand(*cmd, exit_code);
  AddBenchClusterCommand(*cmd, exit_code);
}

}  // namespace strata::cli
