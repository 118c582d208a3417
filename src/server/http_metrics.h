// The server's own Prometheus families: requests by route and status, a
// latency histogram by route, the call queue and connections. The pool's
// families (strata/pool.h) are exposed beside them on /metrics.
//
// Thread contract: thread-safe.
#ifndef STRATA_SERVER_HTTP_METRICS_H_
#define STRATA_SERVER_HTTP_METRICS_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "internal/mutex.h"

namespace strata::server {

// What /metrics reads from the server's other parts at exposition time.
struct ServerGauges {
  std::string node;
  uint32_t queue_depth = 0, queue_limit = 0, running = 0, workers = 0;
  uint32_t connections = 0;
  bool draining = false;
};

class HttpMetrics {
 public:
  // Upper bounds of the latency histogram's buckets, in seconds.
  static constexpr std::array<double, 16> kBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,     10};

  // One answered request: its route ("call", "extract", ...), status code
  // and time from its first header byte to its reply being ready.
  void Record(const std::string& route, unsigned status,
              std::chrono::nanoseconds latency);
  // A request refused before it was queued: "queue_full", "connections",
  // "draining".
  void Rejected(const char* reason);

  std::string ToPrometheus(const ServerGauges& gauges) const;

 private:
  // process_start_time_seconds: a scraper tells a restart from a reset.
  const double start_unix_s_ =
      std::chrono::duration<double>(
          std::chrono::system_clock::now().time_since_epoch())
          .count();
  struct Latency {
    std::array<uint64_t, kBuckets.size()> buckets{};  // not cumulative
    uint64_t count = 0;
    double sum_s = 0;
  };
  mutable internal::Mutex mu_;
  std::map<std::pair<std::string, unsigned>, uint64_t> requests_
      GUARDED_BY(mu_);
  std::map<std::string, Latency> latency_ GUARDED_BY(mu_);
  std::map<std::string, uint64_t> rejected_ GUARDED_BY(mu_);
};

}  // namespace strata::server

#endif  // STRATA_SERVER_HTTP_METRICS_H_
