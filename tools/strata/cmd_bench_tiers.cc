// strata bench tiers: the measured cost of each tier (hot, warm,
// cold-memory, cold-disk, compile) for the bundled extractors (C, and
// Readability on QuickJS), a heavy-init synth module and a light synth
// module, each without and with a pre-initialisation snapshot, with the
// memory each tier holds.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "bench_command.h"
#include "replay/tier_costs.h"
#include "cli_util.h"

namespace strata::cli {
namespace {

struct Subject {
  std::string name, export_name;
  Bytes bytes, input;
  bool snapshot = false;  // measured as its pre-initialisation snapshot
  bench::TierSamples samples;
};

// Readability's calls take tens of milliseconds and its start-up ~160 ms:
// fewer samples keep its rows to about a minute.
constexpr bench::TierSamples kSlowModuleSamples{
    .hot = 100, .warm = 40, .cold_memory = 10, .cold_disk = 10, .compile = 3};

// A small real page (tests/data/web-pages), so that the rows show start-up
// rather than the page's own work.
Bytes ReadabilitySampleInput() {
  std::string url = "http://fakehost/test/page.html\n";
  Bytes input(url.begin(), url.end());
  auto page = ReadFile(BundledGuest("web-pages") /
                       "base-url-base-element-relative" / "source.html");
  if (page.ok()) input.insert(input.end(), page->begin(), page->end());
  return input;
}

Result<std::vector<Subject>> Subjects() {
  auto extractor = ReadFile(BundledGuest("extractor.wasm"));
  if (!extractor.ok()) return extractor.status();
  auto readability = ReadFile(BundledGuest("readability.wasm"));
  if (!readability.ok()) return readability.status();
  auto synth = ReadFile(BundledGuest("synth.wasm"));
  if (!synth.ok()) return synth.status();
  SynthParams heavy;
  heavy.variant = 100;
  heavy.init_pages = 32;
  heavy.init_cpu_iters = 2'000'000;
  Bytes heavy_bytes = MakeSynthVariant(*synth, heavy).value();
  // Each with and without a snapshot: warm (and every tier below it) pays
  // start-up only without.
  std::vector<Subject> subjects;
  for (bool snapshot : {false, true}) {
    std::string tag = snapshot ? "+snap" : "";
    subjects.push_back({"extractor" + tag, "extract", *extractor,
                        ExtractorSampleInput(), snapshot, {}});
    subjects.push_back({"readability" + tag, "extract", *readability,
                        ReadabilitySampleInput(), snapshot, kSlowModuleSamples});
    subjects.push_back({"heavy-init" + tag, "run", heavy_bytes, {'h', 'i'}, snapshot, {}});
    subjects.push_back({"light-synth" + tag, "run", *synth, {'h', 'i'}, snapshot, {}});
  }
  return subjects;
}

int Tiers(const BenchOptions& o) {
  auto engine = MakeEngine();
  auto subjects = Subjects();
  if (!subjects.ok()) return Fail(subjects.status());
  nlohmann::json report = nlohmann::json::array();
  std::printf("%-17s %-12s %10s %10s %10s %8s %14s\n", "module", "served from",
              "p50 us", "p99 us", "mean us", "samples", "memory held KiB");
  for (const Subject& s : *subjects) {
    std::fprintf(stderr, "  measuring %s...\n", s.name.c_str());
    ModuleOptions options;
    if (s.snapshot) options.snapshot = "";
    auto costs = bench::MeasureTierCosts(*engine, s.name, s.bytes, s.export_name,
                                         s.input, options, s.samples);
    if (!costs.ok()) return Fail(costs.status());
    // What each tier keeps in memory for this module (measured sizes).
    const uint64_t held[kServedFromCount] = {
        costs->instance_bytes + costs->code_bytes, costs->code_bytes,
        costs->code_bytes, 0, 0};
    nlohmann::json j = {{"module", s.name},
                        {"instance_bytes", costs->instance_bytes},
                        {"code_bytes", costs->code_bytes},
                        {"call_p50_ns", costs->call.p50_ns},
                        {"snapshot", s.snapshot},
                        {"snapshot_bytes", costs->snapshot_bytes},
                        {"snapshot_build_ms", costs->snapshot_build_ms}};
    for (int i = 0; i < kServedFromCount; ++i) {
      const auto& a = costs->acquire[i];
      std::printf("%-17s %-12s %10s %10s %10s %8llu %14.0f\n", s.name.c_str(),
                  ServedFromName(ServedFrom(i)), Us(a.p50_ns).c_str(),
                  Us(a.p99_ns).c_str(), Us(a.mean_ns).c_str(),
                  static_cast<unsigned long long>(a.count), held[i] / 1024.0);
      j["tiers"][ServedFromName(ServedFrom(i))] = {
          {"p50_ns", a.p50_ns}, {"p99_ns", a.p99_ns}, {"mean_ns", a.mean_ns},
          {"samples", a.count}, {"held_bytes", held[i]}};
    }
    std::printf("%-17s %-12s %10s   (call of the export, all tiers)\n", "",
                "call", Us(costs->call.p50_ns).c_str());
    if (s.snapshot) {
      std::printf("%-17s %-12s %10.0f   (KiB of module, built in %.1f ms)\n", "",
                  "snapshot", costs->snapshot_bytes / 1024.0,
                  costs->snapshot_build_ms);
    }
    std::printf("\n");
    report.push_back(std::move(j));
  }
  std::filesystem::create_directories(o.out_dir);
  auto path = std::filesystem::path(o.out_dir) / "tiers.json";
  std::ofstream(path) << report.dump(1) << "\n";
  std::printf("wrote %s\n", path.string().c_str());
  return 0;
}

}  // namespace

void AddBenchTiersCommand(CLI::App& bench, ExitCode& exit_code) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App* cmd = bench.add_subcommand(
      "tiers",
      "Measure acquire latency from each tier (hot, warm, cold-memory, "
      "cold-disk, compile) and the memory each tier holds, for the C and "
      "Readability extractors, a heavy-init synth and a light synth module");
  o->AddTo(*cmd, /*workload_options=*/false);
  cmd->callback([o, &exit_code] { exit_code = Tiers(*o); });
}

}  // namespace strata::cli
