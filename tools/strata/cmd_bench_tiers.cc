// strata bench tiers: the measured cost of each tier (hot, warm,
// cold-memory, cold-disk, compile) for the bundled extractor, a heavy-init
// synth module and a light synth module, with the memory each tier holds.
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
};

Result<std::vector<Subject>> Subjects() {
  auto extractor = ReadFile(BundledGuest("extractor.wasm"));
  if (!extractor.ok()) return extractor.status();
  auto synth = ReadFile(BundledGuest("synth.wasm"));
  if (!synth.ok()) return synth.status();
  SynthParams heavy;
  heavy.variant = 100;
  heavy.init_pages = 32;
  heavy.init_cpu_iters = 2'000'000;
  return std::vector<Subject>{
      {"extractor", "extract", std::move(*extractor), ExtractorSampleInput()},
      {"heavy-init", "run", MakeSynthVariant(*synth, heavy).value(), {'h', 'i'}},
      {"light-synth", "run", *synth, {'h', 'i'}},
  };
}

int Tiers(const BenchOptions& o) {
  auto engine = MakeEngine();
  auto subjects = Subjects();
  if (!subjects.ok()) return Fail(subjects.status());
  nlohmann::json report = nlohmann::json::array();
  std::printf("%-12s %-12s %10s %10s %10s %8s %14s\n", "module", "served from",
              "p50 us", "p99 us", "mean us", "samples", "memory held KiB");
  for (const Subject& s : *subjects) {
    std::fprintf(stderr, "  measuring %s...\n", s.name.c_str());
    auto costs = bench::MeasureTierCosts(*engine, s.name, s.bytes, s.export_name, s.input);
    if (!costs.ok()) return Fail(costs.status());
    // What each tier keeps in memory for this module (measured sizes).
    const uint64_t held[kServedFromCount] = {
        costs->instance_bytes + costs->code_bytes, costs->code_bytes,
        costs->code_bytes, 0, 0};
    nlohmann::json j = {{"module", s.name},
                        {"instance_bytes", costs->instance_bytes},
                        {"code_bytes", costs->code_bytes},
                        {"call_p50_ns", costs->call.p50_ns}};
    for (int i = 0; i < kServedFromCount; ++i) {
      const auto& a = costs->acquire[i];
      std::printf("%-12s %-12s %10s %10s %10s %8llu %14.0f\n", s.name.c_str(),
                  ServedFromName(ServedFrom(i)), Us(a.p50_ns).c_str(),
                  Us(a.p99_ns).c_str(), Us(a.mean_ns).c_str(),
                  static_cast<unsigned long long>(a.count), held[i] / 1024.0);
      j["tiers"][ServedFromName(ServedFrom(i))] = {
          {"p50_ns", a.p50_ns}, {"p99_ns", a.p99_ns}, {"mean_ns", a.mean_ns},
          {"samples", a.count}, {"held_bytes", held[i]}};
    }
    std::printf("%-12s %-12s %10s   (call of the export, all tiers)\n\n", "",
                "call", Us(costs->call.p50_ns).c_str());
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
      "cold-disk, compile) and the memory each tier holds, for the extractor, "
      "a heavy-init synth and a light synth module");
  o->AddTo(*cmd, /*workload_options=*/false);
  cmd->callback([o, &exit_code] { exit_code = Tiers(*o); });
}

}  // namespace strata::cli
