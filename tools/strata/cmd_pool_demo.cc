// strata pool-demo: the README's main job. Registers a bundled extractor
// (the C one, or Readability on QuickJS with a snapshot) and synth modules,
// drives a hot-biased mix from several threads through the pool, then
// replays the same requests without a pool (a fresh instance from the
// pre-linked module per request), and prints both.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include "cli_util.h"
#include "commands.h"
#include "strata/snapshot.h"

namespace strata::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct DemoOptions {
  int requests = 6000;
  int threads = 2;
  double rate = 600;  // requests per second, all threads together
  std::string policy = "strata";
  std::string engine = "c";  // the extractor: c or readability
  std::string pages_dir;
  uint64_t budget_mib = 256;
  uint64_t seed = 42;
};

struct Request {
  std::string module;
  std::string export_name;
  int page;  // index into Workload::pages; -1: the synth input
};

// Builds the module set: the extractor (70% of requests), a heavy-init
// synth (20%) and eight light synth variants sharing the rest.
struct Workload {
  std::string extractor;  // its module's name: "extractor" or "readability"
  std::vector<std::pair<std::string, Bytes>> modules;
  std::vector<Bytes> pages;
  Bytes synth_input{'h', 'i'};
  std::vector<Request> requests;

  const Bytes& InputOf(const Request& r) const {
    return r.page < 0 ? synth_input : pages[r.page];
  }
};

Result<Workload> MakeWorkload(const DemoOptions& o) {
  Workload w;
  auto extractor = ReadFile(BundledGuest(
      o.engine == "readability" ? "readability.wasm" : "extractor.wasm"));
  if (!extractor.ok()) return extractor.status();
  auto synth = ReadFile(BundledGuest("synth.wasm"));
  if (!synth.ok()) return synth.status();
  w.extractor = o.engine == "readability" ? "readability" : "extractor";
  w.modules.emplace_back(w.extractor, std::move(*extractor));
  SynthParams heavy;
  heavy.variant = 100;
  heavy.init_pages = 32;
  heavy.init_cpu_iters = 2'000'000;  // ~2 ms: a runtime's start-up
  w.modules.emplace_back("heavy-init", MakeSynthVariant(*synth, heavy).value());
  for (uint32_t i = 0; i < 8; ++i) {
    SynthParams p;
    p.variant = i;
    w.modules.emplace_back("synth-" + std::to_string(i),
                           MakeSynthVariant(*synth, p).value());
  }
  for (const auto& dir : std::filesystem::directory_iterator(o.pages_dir)) {
    auto html = ReadFile(dir.path() / "source.html");
    if (!html.ok()) continue;
    std::string base = "https://example.com/" + dir.path().filename().string() + "/";
    Bytes input(base.begin(), base.end());
    input.push_back('\n');
    input.insert(input.end(), html->begin(), html->end());
    w.pages.push_back(std::move(input));
  }
  if (w.pages.empty()) {
    return Status(ErrorCode::kNotFound, "no HTML pages under '" + o.pages_dir + "'");
  }
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < o.requests; ++i) {
    double x = u(rng);
    if (x < 0.7) {
      w.requests.push_back({w.extractor, "extract", int(rng() % w.pages.size())});
    } else if (x < 0.9) {
      w.requests.push_back({"heavy-init", "run", -1});
    } else {
      w.requests.push_back({"synth-" + std::to_string(rng() % 8), "run", -1});
    }
  }
  return w;
}

// Runs the requests from `threads` threads; `serve` handles one.
// Request i is due at start + i / rate (open loop: a slow request does not
// delay the arrivals after it); latency counts from the due time.
template <typename Serve>
double Drive(const Workload& w, int threads, double rate, Histogram& end_to_end,
             Serve serve) {
  std::atomic<size_t> next{0};
  std::atomic<int> failures{0};
  auto start = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < w.requests.size();) {
        auto begin = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(i / rate));
        std::this_thread::sleep_until(begin);
        if (!serve(w.requests[i])) ++failures;
        end_to_end.Record(Clock::now() - begin);
      }
    });
  }
  for (auto& th : pool) th.join();
  if (failures > 0) std::cerr << "strata: " << failures << " requests failed\n";
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int PoolDemo(const DemoOptions& o) {
  auto workload = MakeWorkload(o);
  if (!workload.ok()) return Fail(workload.status());
  Workload& w = *workload;
  auto engine = MakeEngine();
  PoolOptions options;
  options.policy = o.policy;
  options.budget_bytes = o.budget_mib << 20;
  options.maintain_interval = std::chrono::milliseconds(100);
  auto pool = Pool::Create(engine.get(), options);
  if (!pool.ok()) return Fail(pool.status());
  // Readability's ~160 ms start-up is what snapshots are for.
  ModuleOptions snapshotted;
  snapshotted.snapshot = "";
  for (const auto& [name, bytes] : w.modules) {
    bool snapshot = name == "readability";
    if (snapshot) std::printf("strata pool-demo: snapshotting %s...\n", name.c_str());
    Status added = (*pool)->AddModule(name, bytes, snapshot ? snapshotted : ModuleOptions{});
    if (!added.ok()) return Fail(added);
  }
  std::printf("strata pool-demo: %zu modules, %zu requests at %g/s (70%% "
              "%s over %zu pages, 20%% heavy-init, 10%% eight light "
              "synth), %d threads, policy %s, budget %llu MiB\n",
              w.modules.size(), w.requests.size(), o.rate, w.extractor.c_str(),
              w.pages.size(), o.threads,
              o.policy.c_str(), static_cast<unsigned long long>(o.budget_mib));

  Histogram pooled;
  double pooled_s = Drive(w, o.threads, o.rate, pooled, [&](const Request& r) {
    auto lease = (*pool)->Acquire(r.module, std::chrono::seconds(10));
    return lease.ok() && lease->Call(r.export_name, w.InputOf(r)).ok();
  });
  PoolMetrics m = (*pool)->Metrics();

  std::printf("\nWith the pool (%.2f s, %.0f requests/s):\n", pooled_s,
              w.requests.size() / pooled_s);
  std::printf("  %-12s %8s %9s %12s %12s %12s\n", "served from", "hits",
              "hit rate", "acq p50 us", "acq p95 us", "acq p99 us");
  for (int i = 0; i < kServedFromCount; ++i) {
    const auto& h = m.acquire_by_source[i];
    std::printf("  %-12s %8llu %8.1f%% %12s %12s %12s\n",
                ServedFromName(ServedFrom(i)),
                static_cast<unsigned long long>(m.served[i]),
                100 * m.hit_rate(ServedFrom(i)), Us(h.p50_ns).c_str(),
                Us(h.p95_ns).c_str(), Us(h.p99_ns).c_str());
  }
  std::printf("\n  %-12s %10s %14s\n", "tier", "modules", "resident MiB");
  for (int t = 0; t < kTierCount; ++t) {
    int count = 0;
    for (const auto& mm : m.modules) count += mm.tier == Tier(t);
    std::printf("  %-12s %10d %14s\n", TierName(Tier(t)), count,
                Mib(m.bytes_by_tier[t]).c_str());
  }
  std::printf("  measured total %s MiB of %s MiB budget; process RSS %s MiB; "
              "%llu promotions, %llu demotions, maintainer %llu runs, %.1f ms CPU\n",
              Mib(m.used_bytes).c_str(), Mib(m.budget_bytes).c_str(),
              Mib(m.process_rss_bytes).c_str(),
              static_cast<unsigned long long>(m.promotions),
              static_cast<unsigned long long>(m.demotions),
              static_cast<unsigned long long>(m.maintainer_runs),
              m.maintainer_cpu_s * 1e3);

  // The same requests without a pool: each one instantiates from the
  // pre-linked module (pooling allocator on), calls, and drops. Readability
  // instantiates from its snapshot here too, as a user who snapshotted it
  // ahead of time would.
  std::map<std::string, std::shared_ptr<const PreparedModule>> prepared;
  for (const auto& [name, bytes] : w.modules) {
    Bytes served = bytes;
    if (name == "readability") {
      auto image = TakeSnapshot(*engine, name, bytes, {});
      if (!image.ok()) return Fail(image.status());
      served = std::move(image->wasm);
    }
    auto module = engine->Compile(name, served);
    if (!module.ok()) return Fail(module.status());
    prepared[name] = engine->Prepare(*module).value();
  }
  Histogram unpooled;
  double unpooled_s = Drive(w, o.threads, o.rate, unpooled, [&](const Request& r) {
    auto instance = prepared.at(r.module)->Instantiate({});
    return instance.ok() && (*instance)->Call(r.export_name, w.InputOf(r), {}).ok();
  });

  auto a = pooled.Summarize(), b = unpooled.Summarize();
  std::printf("\nEnd-to-end latency per request (acquire + call), same requests:\n");
  std::printf("  %-28s %10s %10s %10s %10s %12s\n", "", "mean us", "p50 us",
              "p95 us", "p99 us", "requests/s");
  std::printf("  %-28s %10s %10s %10s %10s %12.0f\n", "pool",
              Us(uint64_t(a.mean_ns)).c_str(), Us(a.p50_ns).c_str(),
              Us(a.p95_ns).c_str(), Us(a.p99_ns).c_str(),
              w.requests.size() / pooled_s);
  std::printf("  %-28s %10s %10s %10s %10s %12.0f\n",
              "no pool (instantiate/call)", Us(uint64_t(b.mean_ns)).c_str(),
              Us(b.p50_ns).c_str(), Us(b.p95_ns).c_str(), Us(b.p99_ns).c_str(),
              w.requests.size() / unpooled_s);
  return 0;
}

}  // namespace

void AddPoolDemoCommand(CLI::App& app, ExitCode& exit_code) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* cmd = app.add_subcommand(
      "pool-demo",
      "Drive a hot-biased mix of the bundled guests through the pool from "
      "several threads; print per-tier hits, latency and memory, and the "
      "same requests without a pool");
  cmd->add_option("--requests", o->requests, "Requests to send")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", o->threads, "Client threads")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--rate", o->rate,
                  "Arrivals per second (open loop, evenly spaced)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--engine", o->engine,
                  "The extractor: c, or readability (Mozilla Readability on "
                  "QuickJS, snapshotted; defaults to 60 requests at 1.5/s)")
      ->check(CLI::IsMember({"c", "readability"}))
      ->capture_default_str();
  cmd->add_option("--policy", o->policy, "riptide or strata")
      ->check(CLI::IsMember({"riptide", "strata"}));
  cmd->add_option("--budget-mib", o->budget_mib, "Memory budget in MiB")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--pages", o->pages_dir,
                  "Directory of NAME/source.html pages (default: bundled)");
  cmd->add_option("--seed", o->seed, "Seed of the request sequence");
  cmd->callback([o, cmd, &exit_code] {
    if (o->pages_dir.empty()) o->pages_dir = BundledGuest("web-pages").string();
    // Readability's pages take tens to hundreds of ms each: fewer, slower.
    if (o->engine == "readability") {
      if (cmd->count("--requests") == 0) o->requests = 60;
      if (cmd->count("--rate") == 0) o->rate = 1.5;
    }
    exit_code = PoolDemo(*o);
  });
}

}  // namespace strata::cli
