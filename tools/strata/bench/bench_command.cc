#include "bench/bench_command.h"

#include <cstdio>
#include <sstream>

#include "cli_util.h"

namespace strata::cli {

void BenchOptions::AddTo(CLI::App& cmd, bool workload_options) {
  if (workload_options) {
    cmd.add_option("--workload", workload,
                   std::string("Workload: ") + bench::kWorkloadNames);
    cmd.add_option("--policy", policy,
                   "none, instantiate, fifo, riptide, strata, a comma-separated "
                   "list, or all");
    cmd.add_option("--budget", budget,
                   "Memory budget: bytes (K/M/G suffix) or a percentage of the "
                   "measured working set, e.g. 25%");
    cmd.add_option("--duration", duration_s,
                   "Seconds of arrivals (azure: of trace time; default 10, "
                   "azure 1800)")
        ->check(CLI::NonNegativeNumber);
    cmd.add_option("--rate", rate, "Arrivals per second (synthetic workloads)")
        ->check(CLI::PositiveNumber);
    cmd.add_option("--modules", modules, "Modules (zipf, uniform, ...; 0: default)");
    cmd.add_option("--mode", mode, "auto, wall or virtual")
        ->check(CLI::IsMember({"auto", "wall", "virtual"}));
    cmd.add_option("--speedup", speedup,
                   "Wall-clock azure: trace seconds per replayed second")
        ->check(CLI::PositiveNumber);
    cmd.add_option("--html,--report", html, "Also write an HTML report here");
  }
  cmd.add_option("--threads", threads, "Client threads (wall clock)")
      ->check(CLI::Range(1, 64));
  cmd.add_option("--seed", seed, "Seed of the arrivals");
  cmd.add_option("--maintain-ms", maintain_ms, "Maintenance interval (ms)")
      ->check(CLI::PositiveNumber);
  cmd.add_option("--out", out_dir, "Directory for the JSON, CSV and text reports");
  cmd.add_option("--pages", pages_dir, "NAME/source.html pages (default: bundled)");
  cmd.add_option("--traces", traces_dir,
                 "azure-functions-2019 trace folder (default: bundled)");
}

bench::WorkloadParams BenchOptions::WorkloadParams() const {
  bench::WorkloadParams p;
  bool azure = workload.rfind("azure:", 0) == 0;
  p.duration_s = duration_s > 0 ? duration_s : azure ? 1800 : 10;
  p.rate = rate;
  p.modules = modules;
  p.seed = seed;
  p.guest_dir = BundledGuest("");
  p.pages_dir = pages_dir.empty() ? BundledGuest("web-pages") : std::filesystem::path(pages_dir);
  p.traces_dir = traces_dir.empty() ? BundledGuest("traces/azure-functions-2019")
                                    : std::filesystem::path(traces_dir);
  return p;
}

Result<std::vector<std::string>> BenchOptions::Policies(bool is_azure) const {
  std::vector<std::string> out;
  if (policy == "all") {
    for (const char* p : bench::kPolicyNames) {
      if (!(is_azure && std::string(p) == "none")) out.push_back(p);
    }
    return out;
  }
  std::stringstream in(policy);
  for (std::string p; std::getline(in, p, ',');) {
    bool known = false;
    for (const char* name : bench::kPolicyNames) known |= p == name;
    if (!known) {
      return Status(ErrorCode::kInvalidArgument,
                    "bench: unknown policy '" + p +
                        "' (expected none, instantiate, fifo, riptide, strata or all)");
    }
    out.push_back(p);
  }
  return out;
}

std::string BenchOptions::CommandLine() const {
  std::ostringstream o;
  o << "strata bench --workload " << workload << " --policy " << policy
    << " --budget " << budget << " --seed " << seed;
  if (duration_s > 0) o << " --duration " << duration_s;
  if (workload.rfind("azure:", 0) != 0) o << " --rate " << rate;
  if (modules > 0) o << " --modules " << modules;
  if (mode != "auto") o << " --mode " << mode;
  o << " --threads " << threads;
  return o.str();
}

bench::ReportHeader MakeHeader(const bench::Workload& w, const BenchOptions& o,
                               bool virtual_time, uint64_t working_set,
                               std::string command) {
  bench::ReportHeader h;
  h.workload = w.name;
  h.description = w.description;
  h.mode = virtual_time ? "virtual time"
                        : "wall clock, " + std::to_string(o.threads) + " threads";
  h.command = std::move(command);
  h.seed = o.seed;
  h.modules = w.modules.size();
  h.arrivals = w.arrivals.size();
  h.working_set_bytes = working_set;
  h.threads = virtual_time ? 1 : o.threads;  // virtual time: one driver
  return h;
}

Result<bench::RunResult> RunPolicy(Engine& engine, const bench::Workload& w,
                                   const std::string& policy, uint64_t budget,
                                   const BenchOptions& o, bool virtual_time) {
  bench::ExecutorOptions eo;
  eo.budget_bytes = budget;
  eo.maintain_interval = std::chrono::milliseconds(o.maintain_ms);
  bench::ReplayOptions ro;
  ro.threads = o.threads;
  ro.virtual_time = virtual_time;
  ro.maintain_interval = eo.maintain_interval;
  bool azure = w.name.rfind("azure:", 0) == 0;
  ro.speedup = azure && !virtual_time ? o.speedup : 1;
  if (virtual_time) {
    ro.clock = std::make_shared<ManualClock>();
    eo.virtual_clock = ro.clock;
  }
  auto executor = bench::MakeExecutor(policy, engine, eo);
  if (!executor.ok()) return executor.status();
  std::fprintf(stderr, "  [%s] registering %zu modules\n", policy.c_str(),
               w.modules.size());
  for (const auto& m : w.modules) {
    Status added = (*executor)->Register(m);
    if (!added.ok()) return added;
  }
  (*executor)->Settle();
  bench::RunResult r = bench::Replay(w, **executor, ro);
  r.budget_bytes = budget;
  std::fprintf(stderr, "  [%s] %llu requests in %.1f s, %.1f%% hot, p99 %.0f us\n",
               policy.c_str(), static_cast<unsigned long long>(r.requests),
               r.wall_s, 100 * r.hit_rate(ServedFrom::kHot),
               r.end_to_end.p99_ns / 1e3);
  return r;
}

Bytes ExtractorSampleInput() {
  std::string base = "https://en.wikipedia.org/wiki/Example\n";
  Bytes input(base.begin(), base.end());
  auto page = ReadFile(BundledGuest("web-pages") / "wikipedia" / "source.html");
  if (page.ok()) input.insert(input.end(), page->begin(), page->end());
  return input;
}

std::string SafeName(std::string name) {
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '-';
  }
  return name;
}

}  // namespace strata::cli
