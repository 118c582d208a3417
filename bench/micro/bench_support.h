// Shared set-up for the benchmarks: one engine per binary (a pooled engine
// reserves address space for all its slots), the built guests, and the
// module and pool options the scenarios have in common. Every benchmark runs
// real instances on real threads; nothing is faked.
#ifndef STRATA_BENCH_BENCH_SUPPORT_H_
#define STRATA_BENCH_BENCH_SUPPORT_H_

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>

#include "strata/strata.h"

namespace strata::bench {

inline Engine& BenchEngine() {
  static Engine* engine = Engine::Create({}).value().release();
  return *engine;
}

inline std::filesystem::path GuestPath(const std::string& file) {
  return std::filesystem::path(STRATA_BENCH_GUEST_DIR) / file;
}

// The guests the scenarios compare, as benchmark arguments.
enum GuestKind : int64_t {
  kEcho = 0,        // echo.wat: one page, trivial _initialize
  kExtractor = 1,   // extractor.wasm: a real C program (HTML to JSON)
  kHeavySynth = 2,  // synth.wasm variant: 2 MiB dirtied, ~2 ms of CPU at init
};

inline const char* GuestLabel(int64_t kind) {
  switch (kind) {
    case kEcho: return "echo.wat";
    case kExtractor: return "extractor.wasm";
    case kHeavySynth: return "synth heavy-init";
  }
  return "unknown";
}

// The reactor export each guest serves requests on.
inline const char* GuestExport(int64_t kind) {
  return kind == kExtractor ? "extract" : "run";
}

inline SynthParams HeavyInitSynthParams() {
  SynthParams params;
  params.init_pages = 32;
  params.init_cpu_iters = 2'000'000;
  return params;
}

inline Result<Bytes> SynthBytes(const SynthParams& params) {
  auto base = ReadFile(GuestPath("synth.wasm"));
  if (!base.ok()) return base.status();
  return MakeSynthVariant(*base, params);
}

inline Result<Bytes> GuestBytes(int64_t kind) {
  switch (kind) {
    case kEcho: return ReadFile(GuestPath("echo.wat"));
    case kExtractor: return ReadFile(GuestPath("extractor.wasm"));
    case kHeavySynth: return SynthBytes(HeavyInitSynthParams());
  }
  return Status(ErrorCode::kInvalidArgument, "bench: unknown guest");
}

// A small request: echo returns it, synth seeds its hash with it. Its bytes
// stay in echo's bump allocator, so a reused echo instance grows 8 bytes per
// call (a few MiB per benchmark run, well under max_growth_bytes).
inline std::span<const uint8_t> SmallInput() {
  static const uint8_t kInput[8] = {'b', 'e', 'n', 'c', 'h', 'm', 'a', 'r'};
  return kInput;
}

// Reuse mode that never retires an instance for its age or use count, so a
// benchmark measures the hot path and not the refill thread.
inline ModuleOptions ReuseOptions(uint32_t min_hot) {
  ModuleOptions options;
  options.reuse = ReuseMode::kReuse;
  options.max_uses = UINT32_MAX;
  options.max_age = std::chrono::hours(24);
  options.min_hot = min_hot;
  return options;
}

// Marks the benchmark skipped when `status` failed; true when it is ok.
inline bool Check(benchmark::State& state, const Status& status) {
  if (!status.ok()) state.SkipWithError(status.ToString().c_str());
  return status.ok();
}

// A pool holding `bytes` as `name`, its hot tier stocked to the module's
// min_hot; nullptr (and the benchmark skipped) on failure.
inline std::unique_ptr<Pool> PoolWithModule(benchmark::State& state,
                                            const PoolOptions& pool_options,
                                            const std::string& name,
                                            Result<Bytes> bytes,
                                            const ModuleOptions& options) {
  if (!Check(state, bytes.status())) return nullptr;
  auto pool = Pool::Create(&BenchEngine(), pool_options);
  if (!Check(state, pool.status())) return nullptr;
  if (!Check(state, (*pool)->AddModule(name, std::move(*bytes), options))) {
    return nullptr;
  }
  (*pool)->RunMaintenance();
  (*pool)->WaitForRefills();
  return std::move(*pool);
}

// One request: acquires `name`, calls `export_name` once, releases; false
// (and the benchmark skipped) on failure.
inline bool AcquireAndCall(benchmark::State& state, Pool& pool,
                           const std::string& name, const char* export_name) {
  auto lease = pool.Acquire(name, std::chrono::seconds(5));
  if (!Check(state, lease.status())) return false;
  auto out = lease->Call(export_name, SmallInput());
  if (!Check(state, out.status())) return false;
  benchmark::DoNotOptimize(out->data());
  return true;
}

// Which tiers served the pool's acquires, as fractions ("from_hot": the hot
// hit rate); only tiers that served any.
inline void ReportServedFrom(benchmark::State& state,
                             const PoolMetrics& metrics) {
  for (int i = 0; i < kServedFromCount; ++i) {
    if (metrics.served[i] == 0) continue;
    auto from = static_cast<ServedFrom>(i);
    state.counters[std::string("from_") + ServedFromName(from)] =
        metrics.hit_rate(from);
  }
}

// The process's resident set (/proc/self/statm), to report next to the
// pool's own measurements.
inline uint64_t ProcessRssBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace strata::bench

#endif  // STRATA_BENCH_BENCH_SUPPORT_H_
