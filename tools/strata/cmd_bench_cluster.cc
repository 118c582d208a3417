// strata bench cluster: the scale-out simulation. Replays a trace in
// virtual time over 4, 16 and 64 simulated nodes (bench/replay/cluster.h),
// each a real pool with the same policy and 1/N of the same total budget,
// routed by consistent hashing or round robin, and reports how cold starts,
// memory per node and load imbalance change with the node count.
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench_command.h"
#include "cli_util.h"
#include "replay/cluster.h"

namespace strata::cli {
namespace {

struct ClusterOptions {
  BenchOptions bench;
  std::vector<uint32_t> nodes = {4, 16, 64};
  std::vector<std::string> routings = {"consistent-hash", "round-robin"};
  double balance_factor = 1.5;  // HAProxy's hash-balance-factor 150
  // Empty: the total budget (--budget) split over the nodes; else each
  // node's own, whatever the count (a node's memory is the machine's).
  std::string node_budget;
};

struct ClusterRun {
  uint32_t nodes = 0;
  std::string routing;
  bench::RunResult result;
  std::vector<bench::NodeStats> per_node;
};

// Bytes as MiB with two decimals.
std::string MiB(double bytes) { return Fixed(bytes / 1048576.0, 2); }

double Imbalance(const std::vector<bench::NodeStats>& nodes) {
  uint64_t total = 0, most = 0;
  for (const auto& n : nodes) {
    total += n.requests;
    most = std::max(most, n.requests);
  }
  return total == 0 ? 0 : most * static_cast<double>(nodes.size()) / total;
}

nlohmann::json ToJson(const ClusterRun& run, uint64_t node_budget,
                      double balance_factor) {
  const bench::RunResult& r = run.result;
  uint64_t peak_max = 0, peak_sum = 0;
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : run.per_node) {
    peak_max = std::max(peak_max, n.peak_held_bytes);
    peak_sum += n.peak_held_bytes;
    nodes.push_back({{"requests", n.requests},
                     {"served_hot", n.served_hot},
                     {"peak_held_bytes", n.peak_held_bytes}});
  }
  return {{"nodes", run.nodes},
          {"routing", run.routing},
          {"balance_factor",
           run.routing == "consistent-hash" ? balance_factor : 0},
          {"policy", r.policy},
          {"total_budget_bytes", node_budget * run.nodes},
          {"node_budget_bytes", node_budget},
          {"requests", r.requests},
          {"failures", r.failures},
          {"cold_starts", r.cold_starts()},
          {"cold_start_ratio", r.cold_start_ratio()},
          {"cold_start_cost_s", r.cold_start_cost_s},
          {"mean_held_bytes", r.mean_held_bytes},
          {"node_peak_held_bytes_mean",
           run.per_node.empty() ? 0.0
                                : static_cast<double>(peak_sum) /
                                      run.per_node.size()},
          {"node_peak_held_bytes_max", peak_max},
          {"load_imbalance", Imbalance(run.per_node)},
          {"over_budget_readings", r.over_budget_readings},
          {"per_node", std::move(nodes)}};
}

std::string Table(const std::vector<nlohmann::json>& rows) {
  std::ostringstream o;
  o << "| nodes | routing | requests | failed | cold starts | "
       "cold-start ratio | cold-start cost s | node budget MiB | node peak "
       "MiB mean / max | held MiB mean (all nodes) | load imbalance "
       "(max/mean) |\n"
       "|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|\n";
  for (const auto& j : rows) {
    o << "| " << j["nodes"] << " | " << j["routing"].get<std::string>()
      << " | " << j["requests"] << " | " << j["failures"] << " | "
      << j["cold_starts"] << " | "
      << Fixed(100 * j["cold_start_ratio"].get<double>(), 1) << "% | "
      << Fixed(j["cold_start_cost_s"].get<double>(), 2) << " | "
      << MiB(j["node_budget_bytes"].get<uint64_t>()) << " | "
      << MiB(j["node_peak_held_bytes_mean"].get<double>()) << " / "
      << MiB(j["node_peak_held_bytes_max"].get<uint64_t>()) << " | "
      << MiB(j["mean_held_bytes"].get<double>()) << " | "
      << Fixed(j["load_imbalance"].get<double>(), 2) << " |\n";
  }
  return o.str();
}

Result<bench::Routing> ParseRouting(const std::string& name) {
  if (name == "consistent-hash" || name == "hash") {
    return bench::Routing::kConsistentHash;
  }
  if (name == "round-robin" || name == "roundrobin") {
    return bench::Routing::kRoundRobin;
  }
  return Status(ErrorCode::kInvalidArgument,
                "bench cluster: unknown routing '" + name +
                    "' (consistent-hash or round-robin)");
}

int Cluster(const ClusterOptions& c, const std::string& command) {
  const BenchOptions& o = c.bench;
  if (!o.is_trace() || !o.virtual_time()) {
    return Fail(Status(ErrorCode::kInvalidArgument,
                       "bench cluster: needs a trace workload replayed in "
                       "virtual time (azure:100, azure:500 or trace:PATH)"));
  }
  auto engine = MakeEngine();
  auto prepared = PrepareWorkload(*engine, o);
  if (!prepared.ok()) return Fail(prepared.status());
  auto budget = bench::ParseBudget(o.budget, prepared->working_set_bytes);
  if (!budget.ok()) return Fail(budget.status());

  std::vector<nlohmann::json> rows;
  for (uint32_t nodes : c.nodes) {
    for (const std::string& name : c.routings) {
      auto routing = ParseRouting(name);
      if (!routing.ok()) return Fail(routing.status());
      uint64_t node_budget = *budget / nodes;
      if (!c.node_budget.empty()) {
        auto own = bench::ParseBudget(c.node_budget,
                                      prepared->working_set_bytes);
        if (!own.ok()) return Fail(own.status());
        node_budget = *own;
      }
      RunSetup setup = MakeRunSetup(*prepared, node_budget, o);
      // The engine's instance slots are shared by every node's pool.
      setup.executor.max_instances =
          std::max(2u, engine->options().pool_slots / nodes);
      // One cold-tier directory for the cluster, as nodes on one host
      // share one (and 64 private copies of every module would be written).
      setup.executor.cache = std::make_shared<ModuleCache>(
          *engine, std::filesystem::temp_directory_path() /
                       ("strata-bench-cluster-" + std::to_string(getpid())),
          ModuleCache::Options{.prune_unpinned = false,
                               .remove_dir_on_destroy = true});
      std::fprintf(stderr, "strata bench cluster: %u nodes, %s, %s each\n",
                   nodes, bench::RoutingName(*routing),
                   (MiB(node_budget) + " MiB").c_str());
      auto executor = bench::MakeClusterExecutor(
          o.policy == "all" ? "strata" : o.policy, nodes, *routing,
          c.balance_factor, *engine, setup.executor);
      if (!executor.ok()) return Fail(executor.status());
      auto result = RunExecutor(*prepared, **executor, setup,
                                node_budget * nodes, o);
      if (!result.ok()) return Fail(result.status());
      ClusterRun run{nodes, bench::RoutingName(*routing), std::move(*result),
                     bench::ClusterNodes(**executor)};
      rows.push_back(ToJson(run, node_budget, c.balance_factor));
    }
  }

  std::filesystem::create_directories(o.out_dir);
  std::string table = Table(rows);
  auto base = std::filesystem::path(o.out_dir) / "cluster-sim";
  nlohmann::json all = {{"command", command},
                        {"workload", prepared->workload.description},
                        {"working_set_bytes", prepared->working_set_bytes},
                        {"total_budget_bytes", *budget},
                        {"runs", rows}};
  std::ofstream(base.string() + ".json") << all.dump(2) << "\n";
  std::ofstream csv(base.string() + ".csv");
  csv << "nodes,routing,requests,cold_starts,cold_start_ratio,"
         "cold_start_cost_s,node_budget_bytes,node_peak_held_bytes_mean,"
         "node_peak_held_bytes_max,mean_held_bytes,load_imbalance\n";
  for (const auto& j : rows) {
    csv << j["nodes"] << "," << j["routing"].get<std::string>() << ","
        << j["requests"] << "," << j["cold_starts"] << ","
        << j["cold_start_ratio"] << "," << j["cold_start_cost_s"] << ","
        << j["node_budget_bytes"] << "," << j["node_peak_held_bytes_mean"]
        << "," << j["node_peak_held_bytes_max"] << ","
        << j["mean_held_bytes"] << "," << j["load_imbalance"] << "\n";
  }
  std::ofstream(base.string() + ".md")
      << "# strata bench cluster\n\n```sh\n" << command << "\n```\n\n"
      << prepared->workload.description << "; "
      << (c.node_budget.empty()
              ? "total budget " + MiB(*budget) + " MiB (" + o.budget +
                    " of the measured working set), split evenly over the "
                    "nodes"
              : "each node's budget " + c.node_budget +
                    " (of the measured working set when a percentage), the "
                    "total growing with the nodes")
      << "; working set " << MiB(prepared->working_set_bytes) << " MiB.\n\n"
      << table;
  std::cout << table << "\nwrote " << base.string() << ".{json,csv,md}\n";
  return 0;
}

// "4,16,64"; empty if any part is not a count above 0.
std::vector<uint32_t> ParseNodeCounts(const std::string& text) {
  std::vector<uint32_t> counts;
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    uint32_t n = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
    if (ec != std::errc() || end != part.data() + part.size() || n == 0) {
      return {};
    }
    counts.push_back(n);
  }
  return counts;
}

}  // namespace

void AddBenchClusterCommand(CLI::App& bench, ExitCode& exit_code) {
  auto c = std::make_shared<ClusterOptions>();
  c->bench.workload = "azure:500";
  c->bench.budget = "25%";
  c->bench.policy = "strata";
  c->bench.out_dir = "bench-results";
  CLI::App* cmd = bench.add_subcommand(
      "cluster",
      "Simulate a cluster: a trace in virtual time over N pools (same policy, "
      "the same total budget split evenly) routed by consistent hashing or "
      "round robin; cold starts, memory per node, load imbalance");
  c->bench.AddTo(*cmd, /*workload_options=*/true);
  auto nodes = std::make_shared<std::string>("4,16,64");
  cmd->add_option("--nodes", *nodes, "Node counts, comma-separated")
      ->capture_default_str();
  cmd->add_option("--routing", c->routings,
                  "consistent-hash and/or round-robin")
      ->capture_default_str();
  cmd->add_option("--balance-factor", c->balance_factor,
                  "Consistent hashing's bounded loads: no node above this "
                  "times the average share of recent requests (HAProxy's "
                  "hash-balance-factor / 100); 0: unbounded")
      ->capture_default_str();
  cmd->add_option("--node-budget", c->node_budget,
                  "Each node's budget, whatever the node count (bytes or a "
                  "percentage of the working set); default: --budget split "
                  "evenly");
  cmd->callback([c, nodes, &exit_code] {
    c->nodes = ParseNodeCounts(*nodes);
    if (c->nodes.empty()) {
      exit_code = Fail(Status(ErrorCode::kInvalidArgument,
                              "bench cluster: --nodes needs counts above 0, "
                              "e.g. 4,16,64"));
      return;
    }
    // "strata bench --workload ..." -> "strata bench cluster --workload ..."
    std::string line = c->bench.CommandLine();
    line.insert(std::string("strata bench").size(), " cluster");
    line += " --nodes " + *nodes + " --balance-factor " +
            Fixed(c->balance_factor, 2);
    if (!c->node_budget.empty()) line += " --node-budget " + c->node_budget;
    exit_code = Cluster(*c, line);
  });
}

}  // namespace strata::cli
