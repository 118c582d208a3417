// The keep-alive policies serverless platforms and the literature use, so
// `strata bench` can compare strata's policy with what a user would pick
// instead. Each is a Policy on the same Pool: the same engine, tiers,
// ledger, budget, refills and measurements; only the decision of what to
// keep differs.
//
// They keep what a FaaS platform keeps warm: a module is either *alive*
// (its code in memory and as many live instances as it keeps busy,
// HotInstancesNeeded) or not (its compiled code on disk only, like a
// container image cached on the node). strata's own policy may also keep a
// module's code in memory without instances (warm), a choice these do not
// have.
//
// Thread contract: as Policy (one pool, its maintainer thread).
#ifndef STRATA_BENCH_BASELINES_BASELINES_H_
#define STRATA_BENCH_BASELINES_BASELINES_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "strata/policy.h"
#include "strata/status.h"

namespace strata::bench {

// Fixed keep-alive (AWS Lambda, OpenWhisk, Knative): what a module used
// stays alive for `ttl` after its last use; least recently used first out
// when the budget is full.
std::unique_ptr<Policy> MakeKeepAlivePolicy(std::chrono::nanoseconds ttl);

// FaasCache's Greedy-Dual-Size-Frequency keep-alive (Fuerst & Sharma,
// ASPLOS '21).
std::unique_ptr<Policy> MakeGdsfPolicy();

// The hybrid histogram policy of Shahrad et al. (USENIX ATC '20).
struct HistogramOptions {
  std::chrono::nanoseconds range = std::chrono::hours(4);  // histogram span
  std::chrono::nanoseconds bin = std::chrono::minutes(1);
  double head = 0.05, tail = 0.99;  // percentiles: pre-warm and keep-alive
  double margin = 0.10;             // head shrinks, tail grows by this
  double cv_threshold = 2.0;        // bin counts' CV below it: not representative
  double oob_threshold = 0.5;       // share of idle times beyond the range
};
std::unique_ptr<Policy> MakeHistogramPolicy(HistogramOptions options = {});

// A FIFO queue of ready instances per module, repaired: every module in use
// gets one ready instance while the budget has room, most recently used
// first, then deeper queues (up to 4) in the same order.
std::unique_ptr<Policy> MakeFifoPolicy();

// wasmtime's advice for serving (`wasmtime serve`): every module warm (an
// InstancePre), a fresh instance per request, none kept. The replays'
// `instantiate` executor does the same without a pool; this is the policy
// for a server, whose requests all go through its pool.
std::unique_ptr<Policy> MakeInstantiatePolicy();

// "keepalive" (10 minutes), "keepalive:TTL" (TTL in seconds, or with an s,
// m or h suffix), "gdsf", "histogram", "fifo" or "instantiate";
// kInvalidArgument otherwise.
Result<std::unique_ptr<Policy>> MakeBaselinePolicy(const std::string& spec);

// Shared by the baselines: places the modules of `order` (most deserving
// first) alive while the budget and the instance cap allow, each with its
// hot target (fewer if only fewer fit, never below one); the others on
// disk. `rank[i]` orders module i among its tier for eviction (higher is
// kept longer).
std::vector<Placement> AliveInOrder(const std::vector<ModuleView>& modules,
                                    const std::vector<uint32_t>& order,
                                    const std::vector<double>& rank,
                                    const PolicyLimits& limits,
                                    uint32_t max_per_module = 0);

}  // namespace strata::bench

#endif  // STRATA_BENCH_BASELINES_BASELINES_H_
