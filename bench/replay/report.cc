#include "replay/report.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "replay/format.h"

namespace strata::bench {
namespace {

using nlohmann::json;

json SummaryJson(const Histogram::Summary& h) {
  return {{"count", h.count},   {"mean_ns", h.mean_ns}, {"p50_ns", h.p50_ns},
          {"p95_ns", h.p95_ns}, {"p99_ns", h.p99_ns},   {"p999_ns", h.p999_ns},
          {"max_ns", h.max_ns}};
}

// The latency CDF as (upper bound ns, cumulative fraction) at each
// non-empty bucket.
json CdfJson(const std::vector<uint64_t>& counts) {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  json cdf = json::array();
  uint64_t seen = 0;
  for (size_t b = 0; b < counts.size(); ++b) {
    if (counts[b] == 0) continue;
    seen += counts[b];
    cdf.push_back({Histogram::BucketUpperBound(static_cast<int>(b)),
                   static_cast<double>(seen) / total});
  }
  return cdf;
}

json RunJson(const RunResult& r) {
  json j;
  j["policy"] = r.policy;
  j["budget_bytes"] = r.budget_bytes;
  j["requests"] = r.requests;
  j["failures"] = r.failures;
  if (!r.first_failure.empty()) j["first_failure"] = r.first_failure;
  for (int i = 0; i < kServedFromCount; ++i) {
    const char* name = ServedFromName(ServedFrom(i));
    j["served"][name] = r.served[i];
    j["hit_rate"][name] = r.hit_rate(ServedFrom(i));
    j["acquire_by_source"][name] = SummaryJson(r.acquire_by_source[i]);
  }
  j["cold_start_ratio"] = r.cold_start_ratio();
  j["cold_starts"] = r.cold_starts();
  j["cold_start_cost_s"] = r.cold_start_cost_s;
  j["budgeted"] = r.budgeted;
  j["memory_readings"] = r.memory_readings;
  j["over_budget_readings"] = r.over_budget_readings;
  j["acquire"] = SummaryJson(r.acquire);
  j["end_to_end"] = SummaryJson(r.end_to_end);
  j["end_to_end_cdf"] = CdfJson(r.end_to_end_counts);
  j["wall_s"] = r.wall_s;
  j["trace_s"] = r.trace_s;
  j["throughput_per_s"] = r.throughput;
  j["memory"] = {{"mean_held_bytes", r.mean_held_bytes},
                 {"peak_held_bytes", r.peak_held_bytes},
                 {"peak_rss_bytes", r.peak_rss_bytes},
                 {"idle_byte_seconds", r.idle_byte_seconds}};
  double per_s = r.trace_s > 0 ? 1 / r.trace_s : 0;
  j["pool"] = {{"promotions", r.figures.promotions},
               {"demotions", r.figures.demotions},
               {"evictions", r.figures.evictions},
               {"promotions_per_s", r.figures.promotions * per_s},
               {"evictions_per_s", r.figures.evictions * per_s},
               {"maintainer_runs", r.figures.maintainer_runs},
               {"maintainer_cpu_s", r.figures.maintainer_cpu_s}};
  json modules = json::array();
  for (const ModuleMetrics& m : r.figures.modules) {
    json served;
    for (int s = 0; s < kServedFromCount; ++s) {
      served[ServedFromName(ServedFrom(s))] = m.served[s];
    }
    modules.push_back({{"name", m.name},
                       {"served", served},
                       {"instantiations_background", m.instantiations_background},
                       {"instantiate_ms", m.instantiate_ms},
                       {"load_ms", m.load_ms},
                       {"instance_bytes", m.instance_bytes},
                       {"code_bytes", m.code_bytes}});
  }
  j["pool"]["modules"] = std::move(modules);
  json timeline = json::array();
  for (const TimelinePoint& p : r.timeline) {
    timeline.push_back({{"t_s", p.t_s},
                        {"held_bytes", p.held_bytes},
                        {"idle_bytes", p.idle_bytes},
                        {"requests", p.requests},
                        {"served_hot", p.served_hot}});
  }
  j["timeline"] = std::move(timeline);
  return j;
}


}  // namespace

std::string ToJson(const ReportHeader& h, const std::vector<RunResult>& runs) {
  json j;
  j["workload"] = h.workload;
  j["description"] = h.description;
  j["mode"] = h.mode;
  j["command"] = h.command;
  j["seed"] = h.seed;
  j["modules"] = h.modules;
  j["arrivals"] = h.arrivals;
  j["threads"] = h.threads;
  j["speedup"] = h.speedup;
  j["hot_p50_ns"] = h.hot_p50_ns;
  j["working_set_bytes"] = h.working_set_bytes;
  j["runs"] = json::array();
  for (const RunResult& r : runs) j["runs"].push_back(RunJson(r));
  return j.dump(1);
}

std::string ToCsv(const std::vector<RunResult>& runs) {
  std::ostringstream o;
  o << "workload,policy,budget_bytes,requests,failures";
  for (int i = 0; i < kServedFromCount; ++i) {
    o << ",served_" << ServedFromName(ServedFrom(i));
  }
  o << ",cold_start_ratio,cold_starts,cold_start_cost_s,acquire_p50_ns,"
       "acquire_p99_ns,e2e_mean_ns,e2e_p50_ns,"
       "e2e_p95_ns,e2e_p99_ns,e2e_p999_ns,throughput_per_s,mean_held_bytes,"
       "peak_held_bytes,peak_rss_bytes,idle_byte_seconds,memory_readings,"
       "over_budget_readings,promotions,evictions,maintainer_cpu_s,wall_s\n";
  for (const RunResult& r : runs) {
    o << r.workload << "," << r.policy << "," << r.budget_bytes << ","
      << r.requests << "," << r.failures;
    for (uint64_t n : r.served) o << "," << n;
    o << "," << r.cold_start_ratio() << "," << r.cold_starts() << ","
      << r.cold_start_cost_s << "," << r.acquire.p50_ns << ","
      << r.acquire.p99_ns << "," << r.end_to_end.mean_ns << ","
      << r.end_to_end.p50_ns << "," << r.end_to_end.p95_ns << ","
      << r.end_to_end.p99_ns << "," << r.end_to_end.p999_ns << ","
      << r.throughput << "," << r.mean_held_bytes << "," << r.peak_held_bytes
      << "," << r.peak_rss_bytes << "," << r.idle_byte_seconds << ","
      << r.memory_readings << "," << r.over_budget_readings << ","
      << r.figures.promotions << "," << r.figures.evictions << ","
      << r.figures.maintainer_cpu_s << "," << r.wall_s << "\n";
  }
  return o.str();
}

std::string ToTable(const ReportHeader& h, const std::vector<RunResult>& runs) {
  std::ostringstream o;
  o << "workload " << h.workload << " (" << h.description << "), " << h.mode
    << ", " << h.arrivals << " arrivals, seed " << h.seed
    << ", measured working set " << Mib(h.working_set_bytes) << " MiB"
    << ", hot acquire p50 " << Us(h.hot_p50_ns) << " us\n\n";
  char line[512];
  const char* head =
      "%-12s %8s %6s %6s %6s %6s %6s %8s %9s %9s %9s %9s %9s %8s %8s %6s %5s\n";
  std::snprintf(line, sizeof line, head, "policy", "budget", "hot%", "warm%",
                "cmem%", "cdisk%", "comp%", "cold", "cold cost", "e2e mean",
                "e2e p50", "e2e p99", "p99.9", "mem avg", "mem max", "over",
                "fail");
  o << line;
  std::snprintf(line, sizeof line, head, "", "MiB", "", "", "", "", "", "starts",
                "ms", "us", "us", "us", "us", "MiB", "MiB", "budg", "");
  o << line;
  for (const RunResult& r : runs) {
    auto pct = [&](ServedFrom f) { return Fixed(100 * r.hit_rate(f), 1); };
    // Marked: those that hold to no budget are only measured against it.
    std::string over = std::to_string(r.over_budget_readings) + (r.budgeted ? "" : "*");
    std::snprintf(
        line, sizeof line,
        "%-12s %8s %6s %6s %6s %6s %6s %8llu %9s %9s %9s %9s %9s %8s %8s %6s %5llu\n",
        r.policy.c_str(), Mib(r.budget_bytes).c_str(),
        pct(ServedFrom::kHot).c_str(), pct(ServedFrom::kWarm).c_str(),
        pct(ServedFrom::kColdMemory).c_str(), pct(ServedFrom::kColdDisk).c_str(),
        pct(ServedFrom::kCompile).c_str(),
        static_cast<unsigned long long>(r.cold_starts()),
        Fixed(r.cold_start_cost_s * 1e3, 1).c_str(), Us(r.end_to_end.mean_ns).c_str(),
        Us(r.end_to_end.p50_ns).c_str(), Us(r.end_to_end.p99_ns).c_str(),
        Us(r.end_to_end.p999_ns).c_str(), Mib(r.mean_held_bytes).c_str(),
        Mib(r.peak_held_bytes).c_str(), over.c_str(),
        static_cast<unsigned long long>(r.failures));
    o << line;
  }
  o << "(cold cost: the sum over requests of acquire latency above the hot "
       "p50; over budg: memory readings above the budget, of "
    << (runs.empty() ? 0 : runs.front().memory_readings)
    << "-odd taken; *: holds to no budget, its in-flight instances and code "
       "measured against it)\n";
  o << "\n";
  std::snprintf(line, sizeof line, "%-12s %10s %10s %10s %12s %12s %10s %10s\n",
                "policy", "req/s", "acq p50", "acq p99", "idle MiB*s",
                "promotions", "evictions", "maint CPU");
  o << line;
  std::snprintf(line, sizeof line, "%-12s %10s %10s %10s %12s %12s %10s %10s\n",
                "", "", "us", "us", "", "", "", "ms");
  o << line;
  for (const RunResult& r : runs) {
    std::snprintf(line, sizeof line,
                  "%-12s %10.0f %10s %10s %12s %12llu %10llu %10s\n",
                  r.policy.c_str(), r.throughput, Us(r.acquire.p50_ns).c_str(),
                  Us(r.acquire.p99_ns).c_str(),
                  Fixed(r.idle_byte_seconds / 1048576.0, 0).c_str(),
                  static_cast<unsigned long long>(r.figures.promotions),
                  static_cast<unsigned long long>(r.figures.evictions),
                  Fixed(r.figures.maintainer_cpu_s * 1e3, 1).c_str());
    o << line;
  }
  o << "\nacquire p50 / p99 by the tier that served it (us):\n";
  std::snprintf(line, sizeof line, "%-12s", "policy");
  o << line;
  for (int i = 0; i < kServedFromCount; ++i) {
    std::snprintf(line, sizeof line, " %19s", ServedFromName(ServedFrom(i)));
    o << line;
  }
  o << "\n";
  for (const RunResult& r : runs) {
    std::snprintf(line, sizeof line, "%-12s", r.policy.c_str());
    o << line;
    for (const auto& h : r.acquire_by_source) {
      std::string cell = h.count == 0 ? "-" : Us(h.p50_ns) + " / " + Us(h.p99_ns);
      std::snprintf(line, sizeof line, " %19s", cell.c_str());
      o << line;
    }
    o << "\n";
  }
  for (const RunResult& r : runs) {
    if (r.failures > 0) {
      o << "\n" << r.policy << ": " << r.failures
        << " requests failed; first: " << r.first_failure << "\n";
    }
  }
  return o.str();
}

Result<std::vector<std::filesystem::path>> WriteReport(
    const std::filesystem::path& dir, const std::string& stem,
    const ReportHeader& header, const std::vector<RunResult>& runs) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status(ErrorCode::kIo, "bench: cannot create '" + dir.string() +
                                      "': " + ec.message());
  }
  std::vector<std::filesystem::path> written;
  auto write = [&](const std::string& ext, const std::string& text) {
    auto path = dir / (stem + ext);
    std::ofstream out(path);
    out << text;
    if (!out) return false;
    written.push_back(path);
    return true;
  };
  if (!write(".json", ToJson(header, runs)) || !write(".csv", ToCsv(runs)) ||
      !write(".txt", ToTable(header, runs))) {
    return Status(ErrorCode::kIo, "bench: cannot write reports under '" +
                                      dir.string() + "'");
  }
  return written;
}

}  // namespace strata::bench
