// A cluster of pools in one process, for `strata bench cluster`: N nodes,
// each a real Pool with the same policy code and 1/N of the budget, and a
// router in front that sends each request to a node by consistent hashing
// of the module's name (as HAProxy's `hash-type consistent` does) or round
// robin. It is an Executor, so the replay drives it exactly as it drives one
// pool: in virtual time, the nodes share the replay's clock and its one
// simulated CPU.
//
// What the simulation shows is what routing does to each node's holdings
// (cold starts, memory per node, load balance) as the node count grows;
// its latencies charge every node's work to one CPU, so they are not a
// cluster's. Consistent hashing has bounded loads, as HAProxy's
// hash-balance-factor: a node already serving more than `balance_factor`
// times the average passes the request to the next node on the ring.
// HAProxy counts requests in flight, which a one-at-a-time replay does not
// have; the simulation counts each node's share of the last
// kLoadWindow requests instead.
//
// Thread contract: as Executor.
#ifndef STRATA_BENCH_REPLAY_CLUSTER_H_
#define STRATA_BENCH_REPLAY_CLUSTER_H_

#include <memory>
#include <string>
#include <vector>

#include "replay/executor.h"

namespace strata::bench {

enum class Routing { kConsistentHash, kRoundRobin };
const char* RoutingName(Routing routing);

// Module-name -> node by a consistent-hash ring with `points` virtual
// points per node (placement does not depend on the order names arrive in;
// adding or removing a node moves only that node's share).
class HashRing {
 public:
  HashRing(uint32_t nodes, uint32_t points = 160);
  uint32_t NodeOf(const std::string& key) const;
  // Every node once, in ring order from the key's point: its home first,
  // then where its overflow goes.
  std::vector<uint32_t> Successors(const std::string& key) const;

 private:
  std::vector<std::pair<uint64_t, uint32_t>> ring_;  // point, node; sorted
};

struct NodeStats {
  uint64_t requests = 0;
  uint64_t served_hot = 0;
  uint64_t peak_held_bytes = 0;  // the node's ledger peak
  uint64_t held_bytes = 0;       // now
};

// `policy` names a pool policy (strata, keepalive, gdsf, ...); each node
// gets `node_options` with budget_bytes already divided by the caller.
inline constexpr uint32_t kLoadWindow = 1000;

// `balance_factor` (> 1; 0: unbounded) applies to consistent hashing.
Result<std::unique_ptr<Executor>> MakeClusterExecutor(
    const std::string& policy, uint32_t nodes, Routing routing,
    double balance_factor, Engine& engine, const ExecutorOptions& node_options);

// The nodes of an executor MakeClusterExecutor made (empty for others).
std::vector<NodeStats> ClusterNodes(const Executor& executor);

}  // namespace strata::bench

#endif  // STRATA_BENCH_REPLAY_CLUSTER_H_
