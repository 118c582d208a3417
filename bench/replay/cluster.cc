#include "replay/cluster.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <mutex>


namespace strata::bench {
namespace {

// FNV-1a, then splitmix64's finaliser so that nearby keys spread over the
// whole ring.
uint64_t Hash(std::string_view key) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

class ClusterExecutor final : public Executor {
 public:
  ClusterExecutor(std::string name, Routing routing, double balance_factor,
                  std::vector<std::unique_ptr<Executor>> nodes)
      : name_(std::move(name)),
        routing_(routing),
        balance_factor_(balance_factor),
        ring_(static_cast<uint32_t>(nodes.size())),
        nodes_(std::move(nodes)),
        requests_(nodes_.size()),
        hot_(nodes_.size()) {}

  const std::string& name() const override { return name_; }
  bool budgeted() const override { return true; }

  Status Register(const WorkloadModule& module,
                  std::shared_ptr<const Module> compiled) override {
    // Every node can serve every module, as every node of a cluster has
    // the same configuration; the router decides which one does.
    for (auto& node : nodes_) {
      if (Status s = node->Register(module, compiled); !s.ok()) return s;
    }
    order_.push_back(ring_.Successors(module.name));
    return OkStatus();
  }

  Result<Served> Serve(uint32_t index,
                       std::span<const uint8_t> input) override {
    uint32_t node = Route(index);
    last_.store(node, std::memory_order_relaxed);
    requests_[node].fetch_add(1, std::memory_order_relaxed);
    auto served = nodes_[node]->Serve(index, input);
    if (served.ok() && served->from == ServedFrom::kHot) {
      hot_[node].fetch_add(1, std::memory_order_relaxed);
    }
    return served;
  }

  void Settle() override {
    for (auto& node : nodes_) node->Settle();
  }
  void FinishBackground() override {
    nodes_[last_.load(std::memory_order_relaxed)]->FinishBackground();
  }
  void Maintain() override {
    for (auto& node : nodes_) node->Maintain();
  }

  uint64_t Held() const override {
    uint64_t held = 0;
    for (const auto& node : nodes_) held += node->Held();
    return held;
  }

  MemorySample Memory() const override {
    MemorySample sum;
    for (const auto& node : nodes_) {
      MemorySample m = node->Memory();
      sum.held_bytes += m.held_bytes;
      sum.idle_bytes += m.idle_bytes;
      sum.process_rss_bytes = m.process_rss_bytes;  // one process
    }
    return sum;
  }

  PoolFigures Figures() const override {
    PoolFigures sum;
    for (const auto& node : nodes_) {
      PoolFigures f = node->Figures();
      sum.promotions += f.promotions;
      sum.demotions += f.demotions;
      sum.evictions += f.evictions;
      sum.maintainer_runs += f.maintainer_runs;
      sum.maintainer_cpu_s += f.maintainer_cpu_s;
      sum.peak_held_bytes += f.peak_held_bytes;  // an upper bound
      sum.ledger_violations += f.ledger_violations;
      sum.acquires += f.acquires;
      sum.exposed_acquires += f.exposed_acquires;
      sum.instantiations_background += f.instantiations_background;
      sum.instantiations_foreground += f.instantiations_foreground;
      sum.peak_hot_instances += f.peak_hot_instances;
      sum.peak_warm_modules += f.peak_warm_modules;
    }
    return sum;
  }

  // The module's home on the ring, or the first node after it that is not
  // over the bound; round robin: the next node.
  uint32_t Route(uint32_t index) {
    std::lock_guard lock(route_mu_);
    if (load_.empty()) load_.assign(nodes_.size(), 0);
    uint32_t node = 0;
    if (routing_ == Routing::kRoundRobin) {
      node = static_cast<uint32_t>(next_++ % nodes_.size());
    } else {
      node = order_[index][0];
      if (balance_factor_ > 0) {
        // HAProxy rounds the bound up, so that some node always fits.
        double bound = std::ceil(balance_factor_ * (window_.size() + 1) /
                                 static_cast<double>(nodes_.size()));
        for (uint32_t candidate : order_[index]) {
          if (load_[candidate] + 1 <= bound) {
            node = candidate;
            break;
          }
        }
      }
    }
    window_.push_back(node);
    ++load_[node];
    if (window_.size() > kLoadWindow) {
      --load_[window_.front()];
      window_.pop_front();
    }
    return node;
  }

  std::vector<NodeStats> Nodes() const {
    std::vector<NodeStats> stats(nodes_.size());
    for (size_t i = 0; i < nodes_.size(); ++i) {
      stats[i].requests = requests_[i].load(std::memory_order_relaxed);
      stats[i].served_hot = hot_[i].load(std::memory_order_relaxed);
      stats[i].held_bytes = nodes_[i]->Held();
      stats[i].peak_held_bytes = nodes_[i]->Figures().peak_held_bytes;
    }
    return stats;
  }

 private:
  const std::string name_;
  const Routing routing_;
  const double balance_factor_;
  const HashRing ring_;
  std::vector<std::unique_ptr<Executor>> nodes_;
  // Module index -> the nodes in ring order from its point.
  std::vector<std::vector<uint32_t>> order_;
  std::mutex route_mu_;  // the router's state below
  uint64_t next_ = 0;                // round robin
  std::deque<uint32_t> window_;      // the last kLoadWindow requests' nodes
  std::vector<uint64_t> load_;       // their count per node
  // Relaxed: the node of the request just served (the replay calls
  // FinishBackground from the thread that served it), and counters.
  std::atomic<uint32_t> last_{0};
  std::vector<std::atomic<uint64_t>> requests_, hot_;
};

}  // namespace

const char* RoutingName(Routing routing) {
  return routing == Routing::kConsistentHash ? "consistent-hash"
                                             : "round-robin";
}

HashRing::HashRing(uint32_t nodes, uint32_t points) {
  for (uint32_t n = 0; n < nodes; ++n) {
    for (uint32_t p = 0; p < points; ++p) {
      ring_.emplace_back(Hash("node" + std::to_string(n) + "#" +
                              std::to_string(p)),
                         n);
    }
  }
  std::sort(ring_.begin(), ring_.end());
}

uint32_t HashRing::NodeOf(const std::string& key) const {
  uint64_t h = Hash(key);
  auto it = std::lower_bound(ring_.begin(), ring_.end(),
                             std::make_pair(h, uint32_t{0}));
  return it == ring_.end() ? ring_.front().second : it->second;
}

std::vector<uint32_t> HashRing::Successors(const std::string& key) const {
  uint64_t h = Hash(key);
  size_t start = std::lower_bound(ring_.begin(), ring_.end(),
                                  std::make_pair(h, uint32_t{0})) -
                 ring_.begin();
  std::vector<uint32_t> order;
  std::vector<bool> seen;
  for (size_t i = 0; i < ring_.size(); ++i) {
    uint32_t node = ring_[(start + i) % ring_.size()].second;
    if (node >= seen.size()) seen.resize(node + 1, false);
    if (seen[node]) continue;
    seen[node] = true;
    order.push_back(node);
  }
  return order;
}

Result<std::unique_ptr<Executor>> MakeClusterExecutor(
    const std::string& policy, uint32_t nodes, Routing routing,
    double balance_factor, Engine& engine, const ExecutorOptions& node_options) {
  if (nodes == 0) {
    return Status(ErrorCode::kInvalidArgument, "bench: a cluster of 0 nodes");
  }
  if (balance_factor != 0 && balance_factor <= 1) {
    return Status(ErrorCode::kInvalidArgument,
                  "bench: balance factor " + std::to_string(balance_factor) +
                      " must be above 1 (or 0: unbounded)");
  }
  std::vector<std::unique_ptr<Executor>> executors;
  for (uint32_t i = 0; i < nodes; ++i) {
    auto node = MakeExecutor(policy, engine, node_options);
    if (!node.ok()) return node.status();
    if (!(*node)->budgeted()) {
      return Status(ErrorCode::kInvalidArgument,
                    "bench: cluster nodes need a pool policy, not '" + policy +
                        "'");
    }
    executors.push_back(std::move(*node));
  }
  std::string name = policy + " x" + std::to_string(nodes) + " " +
                     RoutingName(routing);
  return std::unique_ptr<Executor>(
      new ClusterExecutor(std::move(name), routing, balance_factor,
                          std::move(executors)));
}

std::vector<NodeStats> ClusterNodes(const Executor& executor) {
  auto* cluster = dynamic_cast<const ClusterExecutor*>(&executor);
  return cluster ? cluster->Nodes() : std::vector<NodeStats>{};
}

}  // namespace strata::bench
