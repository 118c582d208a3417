// Replays a Workload through one Executor and measures it.
//
// Two modes, neither doing the pool's work for free between arrivals:
//
// Wall clock, open loop: worker threads take arrivals in order and start
// each at its due time (a slow request does not delay later arrivals);
// end-to-end latency counts from the due time, so queueing is included (no
// coordinated omission). A trace replays at `speedup` trace seconds per
// real second: the pool keeps trace time (its clock is a ScaledClock with
// the same speed-up), while its maintenance, refills, loads and drops run
// on its own threads, in real time, competing with the requests for the CPU.
//
// Virtual time, for traces longer than the wall clock allows: arrivals are
// served one at a time on one simulated CPU whose clock is the pool's
// (a ManualClock). After each request the background work it started (a
// maintenance pass, refills, loads, drops) runs to completion and its
// measured wall time is charged to that CPU, as is each interval's
// maintenance pass; an arrival that comes while the CPU is busy waits, and
// the wait is part of its end-to-end latency. This charges the pool more
// than two real cores would (its threads get no second core).
//
// Memory is read from the executor at every arrival (for the pool: its
// ledger, whose peak also covers every tier change between arrivals), and
// each reading is checked against the budget.
#ifndef STRATA_BENCH_REPLAY_REPLAY_H_
#define STRATA_BENCH_REPLAY_REPLAY_H_

#include <functional>
#include <string>
#include <vector>

#include "replay/executor.h"

namespace strata::bench {

struct ReplayOptions {
  int threads = 2;     // wall clock
  double speedup = 1;  // wall clock: trace seconds per replayed second
  // Virtual time: the pool's clock (advanced by the replay), and the
  // interval of the maintenance passes it runs.
  std::shared_ptr<ManualClock> virtual_clock;
  std::chrono::milliseconds maintain_interval{1000};
  uint64_t budget_bytes = 0;
  // A hot acquire's median, measured before the runs: a request's
  // cold-start cost is its acquire latency above it.
  std::chrono::nanoseconds hot_p50{0};
  std::chrono::milliseconds sample_interval{100};  // idle-memory timeline
  bool progress = true;  // a line on stderr every few seconds
};

struct TimelinePoint {
  double t_s = 0;  // trace time
  uint64_t held_bytes = 0, idle_bytes = 0;
  uint64_t requests = 0, served_hot = 0;  // so far
};

struct RunResult {
  std::string workload, policy;
  uint64_t budget_bytes = 0;
  bool budgeted = false;  // the executor holds to the budget
  uint64_t requests = 0, failures = 0;
  std::string first_failure;
  uint64_t served[kServedFromCount] = {};
  Histogram::Summary acquire, end_to_end;
  Histogram::Summary acquire_by_source[kServedFromCount];
  std::vector<uint64_t> end_to_end_counts;  // Histogram buckets, for CDFs
  double wall_s = 0, trace_s = 0;
  double throughput = 0;  // requests per wall second
  // Sum over requests of (acquire latency - the hot p50), when positive.
  double cold_start_cost_s = 0;
  double mean_held_bytes = 0, idle_byte_seconds = 0;  // over trace time
  uint64_t peak_held_bytes = 0, peak_rss_bytes = 0;
  // Memory readings taken (one per arrival, plus samples) and those above
  // the budget (for an executor that holds to it, 0 is the only pass).
  uint64_t memory_readings = 0, over_budget_readings = 0;
  PoolFigures figures;
  std::vector<TimelinePoint> timeline;

  double hit_rate(ServedFrom from) const;
  // Requests not served from a live (hot) instance.
  uint64_t cold_starts() const { return requests - failures - served[0]; }
  double cold_start_ratio() const { return 1 - hit_rate(ServedFrom::kHot); }
};

RunResult Replay(const Workload& workload, Executor& executor,
                 const ReplayOptions& options);

}  // namespace strata::bench

#endif  // STRATA_BENCH_REPLAY_REPLAY_H_
