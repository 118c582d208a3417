#include "server/http_metrics.h"

#include <iomanip>
#include <sstream>

namespace strata::server {

void HttpMetrics::Record(const std::string& route, unsigned status,
                         std::chrono::nanoseconds latency) {
  double s = std::chrono::duration<double>(latency).count();
  size_t bucket = 0;
  while (bucket < kBuckets.size() && s > kBuckets[bucket]) ++bucket;
  internal::MutexLock lock(mu_);
  ++requests_[{route, status}];
  Latency& l = latency_[route];
  if (bucket < kBuckets.size()) ++l.buckets[bucket];
  ++l.count;
  l.sum_s += s;
}

void HttpMetrics::Rejected(const char* reason) {
  internal::MutexLock lock(mu_);
  ++rejected_[reason];
}

std::string HttpMetrics::ToPrometheus(const ServerGauges& g) const {
  std::ostringstream o;
  o << "# HELP strata_node_info This node's name (server.node_id).\n"
       "# TYPE strata_node_info gauge\nstrata_node_info{node=\""
    << g.node << "\"} 1\n";
  o << "# HELP process_start_time_seconds When the server started, in "
       "seconds since the Unix epoch.\n# TYPE process_start_time_seconds "
       "gauge\nprocess_start_time_seconds "
    << std::fixed << std::setprecision(3) << start_unix_s_ << "\n"
    << std::defaultfloat;
  auto gauge = [&](const char* name, const char* help, uint64_t value) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name
      << " gauge\n" << name << " " << value << "\n";
  };
  gauge("strata_http_queue_depth", "Calls waiting for a worker.",
        g.queue_depth);
  gauge("strata_http_queue_limit", "Calls the queue holds at most "
        "(server.queue_limit).", g.queue_limit);
  gauge("strata_http_calls_running", "Calls a worker is running now.",
        g.running);
  gauge("strata_http_workers", "Worker threads that run calls.", g.workers);
  gauge("strata_http_connections", "Open client connections.", g.connections);
  gauge("strata_http_draining", "1 while shutting down gracefully.",
        g.draining ? 1 : 0);

  internal::MutexLock lock(mu_);
  o << "# HELP strata_http_requests_total Requests answered, by route and "
       "status code.\n# TYPE strata_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    o << "strata_http_requests_total{route=\"" << key.first << "\",code=\""
      << key.second << "\"} " << n << "\n";
  }
  o << "# HELP strata_http_rejected_total Requests refused before they were "
       "queued, by reason.\n# TYPE strata_http_rejected_total counter\n";
  for (const char* reason : {"queue_full", "connections", "draining"}) {
    auto it = rejected_.find(reason);
    o << "strata_http_rejected_total{reason=\"" << reason << "\"} "
      << (it == rejected_.end() ? 0 : it->second) << "\n";
  }
  o << "# HELP strata_http_request_duration_seconds Time from a request's "
       "headers to its reply being ready, by route.\n"
       "# TYPE strata_http_request_duration_seconds histogram\n";
  for (const auto& [route, l] : latency_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += l.buckets[i];
      o << "strata_http_request_duration_seconds_bucket{route=\"" << route
        << "\",le=\"" << kBuckets[i] << "\"} " << cumulative << "\n";
    }
    o << "strata_http_request_duration_seconds_bucket{route=\"" << route
      << "\",le=\"+Inf\"} " << l.count << "\n"
      << "strata_http_request_duration_seconds_sum{route=\"" << route << "\"} "
      << std::setprecision(12) << l.sum_s << std::setprecision(6) << "\n"
      << "strata_http_request_duration_seconds_count{route=\"" << route
      << "\"} " << l.count << "\n";
  }
  return o.str();
}

}  // namespace strata::server
