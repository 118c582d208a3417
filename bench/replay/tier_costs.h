// The measured cost of serving a module from each tier: the pool is told
// to put the module in a tier (Pool::Demote), then Acquire is timed, and
// the lease must report that tier. Memory per tier is measured too.
// `module_options` apply to the module measured (a snapshot, say).
#ifndef STRATA_BENCH_REPLAY_TIER_COSTS_H_
#define STRATA_BENCH_REPLAY_TIER_COSTS_H_

#include <string>

#include "strata/strata.h"

namespace strata::bench {

struct TierCosts {
  std::string module;
  Histogram::Summary acquire[kServedFromCount];  // by ServedFrom
  Histogram::Summary call;
  uint64_t instance_bytes = 0;  // a hot instance's resident pages
  uint64_t code_bytes = 0;      // compiled code (warm and cold-memory)
  uint64_t snapshot_bytes = 0;  // the snapshot module, when snapshotted
  double snapshot_build_ms = 0;
};

struct TierSamples {
  int hot = 2000, warm = 200, cold_memory = 40, cold_disk = 40, compile = 8;
};

Result<TierCosts> MeasureTierCosts(Engine& engine, const std::string& name,
                                   const Bytes& bytes,
                                   const std::string& export_name,
                                   const Bytes& input,
                                   const ModuleOptions& module_options = {},
                                   const TierSamples& samples = {});

}  // namespace strata::bench

#endif  // STRATA_BENCH_REPLAY_TIER_COSTS_H_
