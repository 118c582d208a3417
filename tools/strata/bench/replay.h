// Replays a Workload through one Executor and measures it.
//
// Wall-clock mode: worker threads take arrivals in order and start each at
// its due time (open loop: a slow request does not delay later arrivals);
// end-to-end latency counts from the due time, so queueing is included.
// Virtual-time mode: one thread serves every arrival for real, but the
// pool's clock jumps from arrival to arrival and maintenance runs at each
// virtual interval, so hours of trace replay in minutes; background work
// started by a request finishes before the next arrival; latency is the
// real acquire + call time of each request.
#ifndef STRATA_TOOLS_BENCH_REPLAY_H_
#define STRATA_TOOLS_BENCH_REPLAY_H_

#include <functional>
#include <string>
#include <vector>

#include "bench/executor.h"

namespace strata::bench {

struct ReplayOptions {
  int threads = 2;                 // wall-clock mode
  double speedup = 1;              // trace seconds per replayed second
  bool virtual_time = false;
  std::shared_ptr<ManualClock> clock;  // virtual time: the pool's clock
  std::chrono::milliseconds maintain_interval{1000};  // virtual time
  std::chrono::milliseconds sample_interval{100};     // memory timeline
  bool progress = true;            // a line on stderr every few seconds
};

struct TimelinePoint {
  double t_s = 0;  // trace time
  uint64_t held_bytes = 0, idle_bytes = 0;
  uint64_t requests = 0, served_hot = 0;  // so far
};

struct RunResult {
  std::string workload, policy;
  uint64_t budget_bytes = 0;
  uint64_t requests = 0, failures = 0;
  std::string first_failure;
  uint64_t served[kServedFromCount] = {};
  Histogram::Summary acquire, end_to_end;
  Histogram::Summary acquire_by_source[kServedFromCount];
  std::vector<uint64_t> end_to_end_counts;  // Histogram buckets, for CDFs
  double wall_s = 0, trace_s = 0;
  double throughput = 0;  // requests per wall second
  double mean_held_bytes = 0, idle_byte_seconds = 0;
  uint64_t peak_held_bytes = 0, peak_rss_bytes = 0;
  PoolFigures figures;
  std::vector<TimelinePoint> timeline;

  double hit_rate(ServedFrom from) const;
  // Requests not served from a live instance.
  double cold_start_ratio() const { return 1 - hit_rate(ServedFrom::kHot); }
};

RunResult Replay(const Workload& workload, Executor& executor,
                 const ReplayOptions& options);

}  // namespace strata::bench

#endif  // STRATA_TOOLS_BENCH_REPLAY_H_
