// strata bench soak: many modules and threads for a long time, with modules
// added and removed, misbehaving guests and a load over the budget; prints
// progress, writes soak.json and soak.txt, and exits non-zero unless every
// check of the pass condition held (bench/soak.h).
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "bench_command.h"
#include "replay/soak.h"
#include "cli_util.h"

namespace strata::cli {
namespace {

struct SoakCliOptions {
  std::string duration = "10m";
  int threads = 4;
  std::string budget = "16M";
  uint32_t max_instances = 32;
  uint64_t seed = 42;
  std::string out_dir = "bench-results";
};

// "90", "90s", "10m" or "1h" as seconds; kInvalidArgument otherwise.
Result<double> ParseDuration(const std::string& text) {
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  std::string unit(end);
  double scale = unit.empty() || unit == "s" ? 1
                 : unit == "m"               ? 60
                 : unit == "h"               ? 3600
                                             : -1;
  if (end == text.c_str() || scale < 0 || !(value > 0)) {
    return Status(ErrorCode::kInvalidArgument,
                  "soak: duration '" + text + "' is not like 90s, 10m or 1h");
  }
  return value * scale;
}

int Soak(const SoakCliOptions& o) {
  // A long-running server's usual malloc setting (MALLOC_ARENA_MAX=2):
  // glibc's per-thread arenas otherwise keep freed memory fragmented across
  // threads, and RSS drifts up by several percent while the bytes in use do
  // not (docs/RELIABILITY.md has both measured).
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  auto duration = ParseDuration(o.duration);
  if (!duration.ok()) return Fail(duration.status());
  auto budget = bench::ParseBudget(o.budget, 0);
  if (!budget.ok()) return Fail(budget.status());
  auto engine = MakeEngine();
  bench::SoakOptions options;
  options.duration_s = *duration;
  options.threads = o.threads;
  options.budget_bytes = *budget;
  options.max_instances = o.max_instances;
  options.seed = o.seed;
  options.guest_dir = BundledGuest("extractor.wasm").parent_path();
  options.pages_dir = options.guest_dir / "web-pages";
  std::fprintf(stderr,
               "strata bench soak: %.0f s, %d threads, budget %s, "
               "max_instances %u\n",
               options.duration_s, options.threads, o.budget.c_str(),
               options.max_instances);
  auto report = bench::RunSoak(*engine, options, [](const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
  });
  if (!report.ok()) return Fail(report.status());
  std::filesystem::create_directories(o.out_dir);
  auto dir = std::filesystem::path(o.out_dir);
  std::ofstream(dir / "soak.json") << report->ToJson() << "\n";
  std::ofstream(dir / "soak.txt") << report->ToText();
  std::cout << report->ToText() << "wrote " << (dir / "soak.json").string()
            << " " << (dir / "soak.txt").string() << "\n";
  return report->passed() ? 0 : 1;
}

}  // namespace

void AddBenchSoakCommand(CLI::App& bench, ExitCode& exit_code) {
  auto o = std::make_shared<SoakCliOptions>();
  CLI::App* cmd = bench.add_subcommand(
      "soak",
      "Run many modules on several threads for a long time, adding and "
      "removing modules, mixing in misbehaving guests, at and over the "
      "memory budget; pass when nothing is lost, the ledger balances and "
      "RSS comes back");
  cmd->add_option("--duration", o->duration, "How long: 90s, 10m, 1h")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Client threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--budget", o->budget, "The pool's memory budget (K/M/G)")
      ->capture_default_str();
  cmd->add_option("--max-instances", o->max_instances, "The pool's slots")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  cmd->add_option("--out", o->out_dir, "Directory for soak.json and soak.txt")
      ->capture_default_str();
  cmd->callback([o, &exit_code] { exit_code = Soak(*o); });
}

}  // namespace strata::cli
