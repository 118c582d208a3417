#include "replay/tier_costs.h"

namespace strata::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Acquires `name` `n` times from `tier` (re-placing it there before each
// acquire unless it is hot), calls it, and records the acquire times.
Status Sample(Pool& pool, const std::string& name, Tier tier, ServedFrom want,
              int n, const std::string& export_name, const Bytes& input,
              Histogram& acquire, Histogram& call) {
  for (int i = 0; i < n; ++i) {
    if (tier != Tier::kHot) {
      Status placed = pool.MoveTo(name, tier);
      if (!placed.ok()) return placed;
    }
    auto start = SteadyClock::now();
    auto lease = pool.Acquire(name, std::chrono::seconds(10));
    auto took = SteadyClock::now() - start;
    if (!lease.ok()) return lease.status();
    if (lease->served_from() != want) {
      return Status(ErrorCode::kInternal,
                    "bench: module '" + name + "' was served from " +
                        ServedFromName(lease->served_from()) + ", not " +
                        ServedFromName(want));
    }
    acquire.Record(took);
    auto call_start = SteadyClock::now();
    auto out = lease->Call(export_name, input);
    call.Record(SteadyClock::now() - call_start);
    if (!out.ok()) return out.status();
  }
  return OkStatus();
}

}  // namespace

Result<TierCosts> MeasureTierCosts(Engine& engine, const std::string& name,
                                   const Bytes& bytes,
                                   const std::string& export_name,
                                   const Bytes& input,
                                   const ModuleOptions& module_options,
                                   const TierSamples& samples) {
  PoolOptions options;
  options.background = false;  // tiers move only when told to
  auto pool = Pool::Create(&engine, options);
  if (!pool.ok()) return pool.status();
  // Hot is measured on a reuse-mode twin kept at one hot instance.
  ModuleOptions reuse = module_options;
  reuse.reuse = ReuseMode::kReuse;
  reuse.max_uses = UINT32_MAX;
  reuse.min_hot = 1;
  const std::string twin = name + "/reuse";
  for (auto [n, o] : {std::pair{name, module_options}, std::pair{twin, reuse}}) {
    Status added = (*pool)->AddModule(n, bytes, o);
    if (!added.ok()) return added;
  }
  TierCosts costs;
  costs.module = name;
  Histogram acquire[kServedFromCount], call;
  // The first acquire of the twin leaves its instance hot.
  if (auto first = (*pool)->Acquire(twin, std::chrono::seconds(10)); !first.ok()) {
    return first.status();
  }
  struct Step { Tier tier; ServedFrom from; int n; const std::string* module; };
  const Step steps[] = {
      {Tier::kHot, ServedFrom::kHot, samples.hot, &twin},
      {Tier::kWarm, ServedFrom::kWarm, samples.warm, &name},
      {Tier::kColdMemory, ServedFrom::kColdMemory, samples.cold_memory, &name},
      {Tier::kColdDisk, ServedFrom::kColdDisk, samples.cold_disk, &name},
      {Tier::kAbsent, ServedFrom::kCompile, samples.compile, &name},
  };
  for (const Step& s : steps) {
    Status sampled = Sample(**pool, *s.module, s.tier, s.from, s.n, export_name,
                            input, acquire[int(s.from)], call);
    if (!sampled.ok()) return sampled;
    costs.acquire[int(s.from)] = acquire[int(s.from)].Summarize();
  }
  costs.call = call.Summarize();
  (void)(*pool)->MoveTo(name, Tier::kColdMemory);
  for (const ModuleMetrics& m : (*pool)->Metrics().modules) {
    if (m.name == twin && m.hot > 0) costs.instance_bytes = m.hot_resident_bytes / m.hot;
    if (m.name == name) {
      costs.code_bytes = m.code_bytes;
      costs.snapshot_bytes = m.snapshot_bytes;
      costs.snapshot_build_ms = m.snapshot_build_ms;
      if (!m.snapshot_error.empty()) {
        return Status(ErrorCode::kInvalidArgument, m.snapshot_error);
      }
    }
  }
  return costs;
}

}  // namespace strata::bench
