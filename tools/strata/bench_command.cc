#include "bench_command.h"

#include <cstdio>
#include <sstream>

#include "cli_util.h"
#include "replay/scaled_clock.h"
#include "strata/snapshot.h"

namespace strata::cli {

void BenchOptions::AddTo(CLI::App& cmd, bool workload_options) {
  if (workload_options) {
    cmd.add_option("--workload", workload,
                   std::string("Workload: ") + bench::kWorkloadNames);
    cmd.add_option("--policy", policy,
                   "none, instantiate, fifo, keepalive[:TTL], gdsf, histogram, "
                   "riptide, strata, a comma-separated list, or all");
    cmd.add_option("--budget", budget,
                   "Memory budget: bytes (K/M/G suffix) or a percentage of the "
                   "measured working set, e.g. 25%");
    cmd.add_option("--duration", duration_s,
                   "Seconds of arrivals (traces: of trace time; default 10, "
                   "traces 1800)")
        ->check(CLI::NonNegativeNumber);
    cmd.add_option("--rate", rate, "Arrivals per second (synthetic workloads)")
        ->check(CLI::PositiveNumber);
    cmd.add_option("--modules", modules, "Modules (zipf, uniform, ...; 0: default)");
    cmd.add_option("--mode", mode,
                   "auto (virtual time for traces), wall or virtual")
        ->check(CLI::IsMember({"auto", "wall", "virtual"}));
    cmd.add_flag("--reuse", reuse,
                 "Reuse instances across calls, as a FaaS platform reuses a "
                 "warm container (default: a fresh instance per call)");
    cmd.add_flag("--snapshot", snapshot,
                 "Replay every module as its pre-initialisation snapshot "
                 "(start-up run once, before the replay), for every policy");
    cmd.add_option("--speedup", speedup,
                   "Traces on the wall clock: trace seconds replayed per real "
                   "second (the pool keeps trace time; its threads run in real "
                   "time)")
        ->check(CLI::PositiveNumber);
    cmd.add_option("--module", user_modules,
                   "Replay over this module instead of synth ones: "
                   "FILE.wasm[:EXPORT] (repeatable; a command runs _start)");
    cmd.add_option("--input", input, "The input for --module's calls (a file)");
    cmd.add_option("--html,--report", html, "Also write an HTML report here");
  }
  cmd.add_option("--threads", threads, "Client threads")
      ->check(CLI::Range(1, 64));
  cmd.add_option("--seed", seed, "Seed of the arrivals");
  cmd.add_option("--maintain-ms", maintain_ms,
                 "Maintenance interval (ms of trace time)")
      ->check(CLI::PositiveNumber);
  cmd.add_option("--out", out_dir, "Directory for the JSON, CSV and text reports");
  cmd.add_option("--pages", pages_dir, "NAME/source.html pages (default: bundled)");
  cmd.add_option("--traces", traces_dir,
                 "azure-functions-2019 trace folder (default: bundled)");
}

bool BenchOptions::virtual_time() const {
  return mode == "virtual" || (mode == "auto" && is_trace());
}

bool BenchOptions::is_trace() const {
  return workload.rfind("azure:", 0) == 0 || workload.rfind("trace:", 0) == 0;
}

Result<bench::WorkloadParams> BenchOptions::WorkloadParams() const {
  bench::WorkloadParams p;
  p.duration_s = duration_s > 0 ? duration_s : is_trace() ? 1800 : 10;
  p.rate = rate;
  p.modules = modules;
  p.seed = seed;
  p.guest_dir = BundledGuest("");
  p.pages_dir = pages_dir.empty() ? BundledGuest("web-pages") : std::filesystem::path(pages_dir);
  p.traces_dir = traces_dir.empty() ? BundledGuest("traces/azure-functions-2019")
                                    : std::filesystem::path(traces_dir);
  for (const std::string& spec : user_modules) {
    // FILE.wasm[:EXPORT]; a colon inside the path is kept when what follows
    // it is not a plain export name.
    bench::UserModule u{spec, ""};
    if (auto colon = spec.rfind(':'); colon != std::string::npos &&
                                      spec.find('/', colon) == std::string::npos) {
      u = {spec.substr(0, colon), spec.substr(colon + 1)};
    }
    p.user_modules.push_back(std::move(u));
  }
  if (!input.empty()) {
    auto bytes = ReadInput(input);
    if (!bytes.ok()) return bytes.status();
    p.user_input = std::move(*bytes);
  } else if (!user_modules.empty()) {
    p.user_input = {'h', 'i'};
  }
  return p;
}

Result<std::vector<std::string>> BenchOptions::Policies() const {
  std::vector<std::string> out;
  if (policy == "all") {
    for (const char* p : bench::kPolicyNames) {
      if (!(is_trace() && std::string(p) == "none")) out.push_back(p);
    }
    return out;
  }
  std::stringstream in(policy);
  for (std::string p; std::getline(in, p, ',');) {
    bool known = p.rfind("keepalive:", 0) == 0;
    for (const char* name : bench::kPolicyNames) known |= p == name;
    if (!known) {
      return Status(ErrorCode::kInvalidArgument,
                    "bench: unknown policy '" + p +
                        "' (expected none, instantiate, fifo, keepalive[:TTL], "
                        "gdsf, histogram, riptide, strata or all)");
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
  if (mode != "auto") o << " --mode " << mode;
  if (reuse) o << " --reuse";
  if (snapshot) o << " --snapshot";
  if (is_trace() && !virtual_time()) {
    o << " --speedup " << speedup;
  } else if (!is_trace()) {
    o << " --rate " << rate;
  }
  if (modules > 0) o << " --modules " << modules;
  for (const auto& m : user_modules) o << " --module " << m;
  if (!input.empty()) o << " --input " << input;
  o << " --threads " << threads;
  return o.str();
}

namespace {

// Replaces each module's bytes with its snapshot, as a user who ran wizer
// at build time would deploy it (the pool does the same at registration
// with ModuleOptions::snapshot); every executor then serves the same bytes.
Status SnapshotWorkload(Engine& engine, bench::Workload& w) {
  std::fprintf(stderr, "strata bench: snapshotting %zu modules...\n",
               w.modules.size());
  std::chrono::nanoseconds took{0};
  for (bench::WorkloadModule& m : w.modules) {
    auto image = TakeSnapshot(engine, m.name, m.bytes, {});
    if (!image.ok()) return image.status();
    m.bytes = std::move(image->wasm);
    took += image->build_time;
  }
  w.description += "; every module pre-initialised (snapshots built in " +
                   Fixed(std::chrono::duration<double, std::milli>(took).count(), 0) +
                   " ms)";
  return OkStatus();
}

}  // namespace

Result<PreparedWorkload> PrepareWorkload(Engine& engine, const BenchOptions& o) {
  auto params = o.WorkloadParams();
  if (!params.ok()) return params.status();
  auto workload = bench::MakeWorkload(o.workload, *params);
  if (!workload.ok()) return workload.status();
  PreparedWorkload p;
  p.workload = std::move(*workload);
  p.virtual_time = o.virtual_time();
  p.speedup = o.is_trace() && !p.virtual_time ? o.speedup : 1;
  std::fprintf(stderr, "strata bench: %s: %zu modules, %zu arrivals over %.0f s "
               "of %s; compiling the modules once...\n",
               p.workload.name.c_str(), p.workload.modules.size(),
               p.workload.arrivals.size(), params->duration_s,
               p.virtual_time ? "trace time, replayed in virtual time"
               : o.is_trace() ? "trace time"
                              : "wall clock");
  if (o.snapshot) {
    if (Status s = SnapshotWorkload(engine, p.workload); !s.ok()) return s;
  }
  auto compiled = bench::CompileWorkload(engine, p.workload);
  if (!compiled.ok()) return compiled.status();
  p.compiled = std::move(*compiled);
  auto working_set = bench::MeasureWorkingSet(engine, p.workload, p.compiled);
  if (!working_set.ok()) return working_set.status();
  p.working_set_bytes = *working_set;
  auto hot = bench::MeasureHotAcquireP50(engine, p.workload.modules[0], p.compiled[0],
                                         o.reuse ? ReuseMode::kReuse : ReuseMode::kFresh);
  if (!hot.ok()) return hot.status();
  p.hot_p50 = *hot;
  return p;
}

bench::ReportHeader MakeHeader(const PreparedWorkload& p, const BenchOptions& o,
                               std::string command) {
  bench::ReportHeader h;
  h.workload = p.workload.name;
  h.description = p.workload.description;
  char mode[160];
  if (p.virtual_time) {
    std::snprintf(mode, sizeof mode,
                  "virtual time, one simulated CPU charged with the pool's "
                  "background work");
  } else {
    std::snprintf(mode, sizeof mode, "wall clock, %d threads%s", o.threads,
                  p.speedup != 1 ? (", " + Fixed(p.speedup, 0) +
                                    " trace s per s").c_str()
                                 : "");
  }
  h.mode = std::string(mode) + (o.reuse ? ", instances reused across calls"
                                         : ", a fresh instance per call");
  h.command = std::move(command);
  h.seed = o.seed;
  h.modules = p.workload.modules.size();
  h.arrivals = p.workload.arrivals.size();
  h.working_set_bytes = p.working_set_bytes;
  h.threads = p.virtual_time ? 1 : o.threads;
  h.speedup = p.speedup;
  h.hot_p50_ns = static_cast<uint64_t>(p.hot_p50.count());
  return h;
}

RunSetup MakeRunSetup(const PreparedWorkload& p, uint64_t budget,
                      const BenchOptions& o) {
  RunSetup setup;
  bench::ExecutorOptions& eo = setup.executor;
  eo.budget_bytes = budget;
  eo.reuse = o.reuse ? ReuseMode::kReuse : ReuseMode::kFresh;
  eo.maintain_interval = std::chrono::milliseconds(o.maintain_ms);
  // Trace time for the pool: keep-alive windows and intervals in trace
  // seconds, while its threads run for real (or, in virtual time, a clock
  // the replay advances).
  if (p.virtual_time) {
    setup.virtual_clock = std::make_shared<ManualClock>();
    eo.clock = setup.virtual_clock;
    eo.host_maintenance = true;
  } else if (p.speedup != 1) {
    eo.clock = std::make_shared<bench::ScaledClock>(p.speedup);
  }
  return setup;
}

Result<bench::RunResult> RunPolicy(Engine& engine, const PreparedWorkload& p,
                                   const std::string& policy, uint64_t budget,
                                   const BenchOptions& o) {
  RunSetup setup = MakeRunSetup(p, budget, o);
  auto executor = bench::MakeExecutor(policy, engine, setup.executor);
  if (!executor.ok()) return executor.status();
  return RunExecutor(p, **executor, setup, budget, o);
}

Result<bench::RunResult> RunExecutor(const PreparedWorkload& p,
                                     bench::Executor& executor,
                                     const RunSetup& setup, uint64_t budget,
                                     const BenchOptions& o) {
  const std::string& policy = executor.name();
  std::fprintf(stderr, "  [%s] registering %zu modules\n", policy.c_str(),
               p.workload.modules.size());
  for (size_t i = 0; i < p.workload.modules.size(); ++i) {
    Status added = executor.Register(p.workload.modules[i], p.compiled[i]);
    if (!added.ok()) return added;
  }
  executor.Settle();
  bench::ReplayOptions ro;
  ro.threads = o.threads;
  ro.speedup = p.speedup;
  ro.budget_bytes = budget;
  ro.hot_p50 = p.hot_p50;
  ro.virtual_clock = setup.virtual_clock;
  ro.maintain_interval = setup.executor.maintain_interval;
  bench::RunResult r = bench::Replay(p.workload, executor, ro);
  std::fprintf(stderr,
               "  [%s] %llu requests in %.1f s, %.1f%% hot, cold cost %.1f ms, "
               "p99 %.0f us\n",
               policy.c_str(), static_cast<unsigned long long>(r.requests),
               r.wall_s, 100 * r.hit_rate(ServedFrom::kHot),
               r.cold_start_cost_s * 1e3, r.end_to_end.p99_ns / 1e3);
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
