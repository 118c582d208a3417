// strata bench validate: the seed report's P2-1 checklist, each line
// decided by a measurement made now. The seed's latency targets assumed
// simulated tiers; where ours are far faster the note says so instead of
// moving the target.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench_command.h"
#include "replay/report.h"
#include "cli_util.h"

namespace strata::cli {
namespace {

struct Check {
  std::string requirement, target, measured;
  bool pass = false;
  std::string note;
};

std::string Ms(double ns) { return Fixed(ns / 1e6, 3) + " ms"; }
std::string Pct(double x) { return Fixed(100 * x, 1) + "%"; }

const bench::RunResult* Find(const std::vector<bench::RunResult>& runs,
                             const std::string& policy) {
  for (const auto& r : runs) {
    if (r.policy == policy) return &r;
  }
  return nullptr;
}

// Replays `workload` through `policies` at `budget` (a percentage of its
// working set, or bytes).
Result<std::vector<bench::RunResult>> Runs(Engine& engine, BenchOptions o,
                                           const std::string& workload,
                                           const std::string& budget,
                                           std::initializer_list<const char*> policies,
                                           uint64_t* working_set) {
  o.workload = workload;
  auto prepared = PrepareWorkload(engine, o);
  if (!prepared.ok()) return prepared.status();
  auto bytes = bench::ParseBudget(budget, prepared->working_set_bytes);
  if (!bytes.ok()) return bytes.status();
  *working_set = prepared->working_set_bytes;
  std::vector<bench::RunResult> runs;
  for (const char* policy : policies) {
    auto run = RunPolicy(engine, *prepared, policy, *bytes, o);
    if (!run.ok()) return run.status();
    runs.push_back(std::move(*run));
  }
  bench::ReportHeader header =
      MakeHeader(*prepared, o, "strata bench validate (" + workload + ")");
  auto written = bench::WriteReport(o.out_dir, "validate-" + SafeName(workload),
                                    header, runs);
  if (!written.ok()) return written.status();
  return runs;
}

double Gain(const bench::RunResult& strata, const bench::RunResult& queue) {
  return 1 - strata.end_to_end.mean_ns / queue.end_to_end.mean_ns;
}

int Validate(BenchOptions o) {
  auto engine = MakeEngine();
  std::vector<Check> checks;
  uint64_t working_set = 0;

  // The seed's mix (70% extractor), in the default mode: fresh instances,
  // background threads running.
  std::fprintf(stderr, "strata bench validate: hot-biased workload\n");
  auto mix = Runs(*engine, o, "hot-biased", o.budget, {"fifo", "riptide", "strata"},
                  &working_set);
  if (!mix.ok()) return Fail(mix.status());
  const auto& strata = *Find(*mix, "strata");
  const auto& riptide = *Find(*mix, "riptide");
  double hot_p95 = strata.acquire_by_source[int(ServedFrom::kHot)].p95_ns;
  double warm_p95 = strata.acquire_by_source[int(ServedFrom::kWarm)].p95_ns;
  checks.push_back({"Hot tier latency", "0-5 ms (p95)", Ms(hot_p95),
                    strata.served[int(ServedFrom::kHot)] > 0 && hot_p95 <= 5e6,
                    "acquires served hot, fresh mode, threads running"});
  checks.push_back({"Warm tier latency", "10-50 ms (p95)", Ms(warm_p95),
                    strata.served[int(ServedFrom::kWarm)] > 0 && warm_p95 <= 50e6,
                    warm_p95 < 10e6 ? "below the seed's 10 ms floor: warm is a "
                                      "real InstancePre + CoW slot"
                                    : ""});

  // The seed's premise for its 40-60% claim: instances that cost what an
  // interpreter's start-up does, and a budget that cannot hold all of them.
  std::fprintf(stderr, "strata bench validate: heavy-init workload at 50%% of its "
                       "working set\n");
  // At 50 arrivals/s, as in BENCHMARKS.md: at the default 200/s three
  // milliseconds of start-up per request overload two cores, and the mean
  // measures the growth of the queue, whatever the policy.
  uint64_t heavy_set = 0;
  BenchOptions heavy_o = o;
  heavy_o.rate = 50;
  auto heavy = Runs(*engine, heavy_o, "heavy-init", "50%", {"fifo", "strata"},
                    &heavy_set);
  if (!heavy.ok()) return Fail(heavy.status());
  double gain = Gain(*Find(*heavy, "strata"), *Find(*heavy, "fifo"));
  double mix_gain = Gain(strata, *Find(*mix, "fifo"));
  checks.push_back({"Overall improvement", "40-60% lower mean vs simple queue",
                    Pct(gain) + " (" + Ms(Find(*heavy, "strata")->end_to_end.mean_ns) +
                        " vs " + Ms(Find(*heavy, "fifo")->end_to_end.mean_ns) + ")",
                    gain >= 0.4,
                    "heavy-init at 50% of its working set; the extractor mix: " +
                        Pct(mix_gain)});
  checks.push_back({"Hot tier hit rate", "70%+",
                    Pct(strata.hit_rate(ServedFrom::kHot)),
                    strata.hit_rate(ServedFrom::kHot) >= 0.7, "hot-biased, strata"});
  checks.push_back({"Promotion effectiveness", "working",
                    std::to_string(strata.figures.promotions) + " promotions, " +
                        std::to_string(strata.served[int(ServedFrom::kHot)]) +
                        " served hot",
                    strata.figures.promotions > 0 &&
                        strata.served[int(ServedFrom::kHot)] > 0,
                    "modules promoted by the maintainer, then served hot"});
  uint64_t served = strata.requests - strata.failures;
  checks.push_back({"Metrics tracking", "comprehensive",
                    "pool " + std::to_string(strata.figures.acquires) +
                        ", Prometheus " +
                        std::to_string(strata.figures.exposed_acquires) +
                        ", replay " + std::to_string(served),
                    strata.figures.acquires == served &&
                        strata.figures.exposed_acquires == served,
                    "acquires counted by the pool, its exposition and the client"});
  uint64_t hot = strata.served[int(ServedFrom::kHot)];
  checks.push_back({"Background tasks", "enabled",
                    std::to_string(strata.figures.instantiations_background) +
                        " instances made off the request path for " +
                        std::to_string(hot) + " hot serves",
                    hot > 0 && strata.figures.instantiations_background * 10 >= hot * 9,
                    "fresh mode: every hot serve's instance was made by the refill "
                    "thread"});
  uint32_t max_instances = 256;  // ExecutorOptions' default
  checks.push_back({"Tier capacity", "hot 25%, warm 50% (riptide)",
                    "peak hot " + std::to_string(riptide.figures.peak_hot_instances) +
                        ", warm " + std::to_string(riptide.figures.peak_warm_modules) +
                        " of " + std::to_string(max_instances),
                    riptide.figures.peak_hot_instances <= max_instances / 4 &&
                        riptide.figures.peak_warm_modules <= max_instances / 2,
                    "sampled every 100 ms during the riptide replay"});

  std::ostringstream table;
  char line[512];
  std::snprintf(line, sizeof line, "| %-24s | %-34s | %-38s | %-6s | %s\n",
                "Requirement", "Target", "Measured", "Status", "Note");
  table << line;
  int passed = 0;
  nlohmann::json j = nlohmann::json::array();
  for (const Check& c : checks) {
    passed += c.pass;
    std::snprintf(line, sizeof line, "| %-24s | %-34s | %-38s | %-6s | %s\n",
                  c.requirement.c_str(), c.target.c_str(), c.measured.c_str(),
                  c.pass ? "PASS" : "FAIL", c.note.c_str());
    table << line;
    j.push_back({{"requirement", c.requirement}, {"target", c.target},
                 {"measured", c.measured}, {"pass", c.pass}, {"note", c.note}});
  }
  table << "\n" << passed << "/" << checks.size() << " criteria pass\n";
  std::cout << table.str();

  std::ofstream(std::filesystem::path(o.out_dir) / "validate.json") << j.dump(1) << "\n";
  std::ofstream(std::filesystem::path(o.out_dir) / "validate.txt") << table.str();
  std::cout << "wrote " << o.out_dir << "/validate.{json,txt} and the runs "
            << "beside them (validate-hot-biased, validate-heavy-init)\n";
  return passed == static_cast<int>(checks.size()) ? 0 : 1;
}

}  // namespace

void AddBenchValidateCommand(CLI::App& bench, ExitCode& exit_code) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = bench.add_subcommand(
      "validate",
      "Run the seed report's P2-1 checklist on real measurements and print "
      "it with PASS/FAIL (exit code 1 if any criterion fails)");
  o->AddTo(*cmd, /*workload_options=*/false);
  cmd->callback([o, &exit_code] { exit_code = Validate(*o); });
}

}  // namespace strata::cli
