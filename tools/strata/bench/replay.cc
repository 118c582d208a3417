#include "bench/replay.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

namespace strata::bench {
namespace {

using Nanos = std::chrono::nanoseconds;
using SteadyClock = std::chrono::steady_clock;

double Secs(Nanos d) { return std::chrono::duration<double>(d).count(); }

// What every request adds, shared by the worker threads.
struct Tally {
  std::atomic<uint64_t> done{0}, failures{0};
  std::atomic<uint64_t> served[kServedFromCount] = {};
  Histogram acquire, end_to_end;
  Histogram acquire_by_source[kServedFromCount];
  std::mutex failure_mu;
  std::string first_failure;

  void Add(const Result<Served>& served, Nanos end_to_end_time) {
    if (served.ok()) {
      this->served[int(served->from)].fetch_add(1, std::memory_order_relaxed);
      acquire.Record(served->acquire);
      acquire_by_source[int(served->from)].Record(served->acquire);
    } else {
      if (failures.fetch_add(1) == 0) {
        std::lock_guard<std::mutex> lock(failure_mu);
        first_failure = served.status().ToString();
      }
    }
    end_to_end.Record(end_to_end_time);
    done.fetch_add(1, std::memory_order_relaxed);
  }
};

// Memory over time: a point per sample, integrated into mean and idle
// byte-seconds over trace time.
class Timeline {
 public:
  void Sample(double t_s, const Executor& executor, const Tally& tally) {
    MemorySample m = executor.Memory();
    TimelinePoint p{t_s, m.held_bytes, m.idle_bytes,
                    tally.done.load(), tally.served[int(ServedFrom::kHot)].load()};
    std::lock_guard<std::mutex> lock(mu_);
    if (!points_.empty()) {
      double dt = std::max(0.0, t_s - points_.back().t_s);
      held_integral_ += dt * points_.back().held_bytes;
      idle_integral_ += dt * points_.back().idle_bytes;
    }
    peak_held_ = std::max(peak_held_, m.held_bytes);
    peak_rss_ = std::max(peak_rss_, m.process_rss_bytes);
    points_.push_back(p);
  }
  void Finish(RunResult& r) {
    std::lock_guard<std::mutex> lock(mu_);
    double span = points_.size() < 2 ? 0 : points_.back().t_s - points_.front().t_s;
    r.mean_held_bytes = span > 0 ? held_integral_ / span
                        : points_.empty() ? 0 : points_.back().held_bytes;
    r.idle_byte_seconds = idle_integral_;
    r.peak_held_bytes = peak_held_;
    r.peak_rss_bytes = peak_rss_;
    // Keep at most ~500 points for reports.
    size_t stride = std::max<size_t>(1, points_.size() / 500);
    for (size_t i = 0; i < points_.size(); i += stride) r.timeline.push_back(points_[i]);
  }

 private:
  std::mutex mu_;
  std::vector<TimelinePoint> points_;
  double held_integral_ = 0, idle_integral_ = 0;
  uint64_t peak_held_ = 0, peak_rss_ = 0;
};

class Progress {
 public:
  Progress(const Workload& w, const Executor& e, bool on)
      : w_(w), e_(e), on_(on), start_(SteadyClock::now()), last_(start_) {}
  void Maybe(uint64_t done) {
    if (!on_) return;
    auto now = SteadyClock::now();
    if (now - last_ < std::chrono::seconds(3)) return;
    last_ = now;
    std::fprintf(stderr, "  [%s] %llu / %zu requests (%.0f%%), %.0f s\n",
                 e_.name().c_str(), static_cast<unsigned long long>(done),
                 w_.arrivals.size(), 100.0 * done / std::max<size_t>(1, w_.arrivals.size()),
                 Secs(now - start_));
  }

 private:
  const Workload& w_;
  const Executor& e_;
  bool on_;
  SteadyClock::time_point start_, last_;
};

void ReplayWallClock(const Workload& w, Executor& executor,
                     const ReplayOptions& o, Tally& tally, Timeline& timeline) {
  std::atomic<size_t> next{0};
  std::atomic<bool> done{false};
  auto start = SteadyClock::now();
  auto trace_time = [&] { return Secs(SteadyClock::now() - start) * o.speedup; };
  std::thread sampler([&] {
    Progress progress(w, executor, o.progress);
    while (!done.load()) {
      timeline.Sample(trace_time(), executor, tally);
      progress.Maybe(tally.done.load());
      std::this_thread::sleep_for(o.sample_interval);
    }
  });
  std::vector<std::thread> workers;
  for (int t = 0; t < o.threads; ++t) {
    workers.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < w.arrivals.size();) {
        const Arrival& a = w.arrivals[i];
        auto due = start + std::chrono::duration_cast<SteadyClock::duration>(
                               a.at / o.speedup);
        std::this_thread::sleep_until(due);
        auto served = executor.Serve(a.module, w.modules[a.module].inputs[a.input]);
        tally.Add(served, std::chrono::duration_cast<Nanos>(SteadyClock::now() - due));
      }
    });
  }
  for (auto& t : workers) t.join();
  done.store(true);
  sampler.join();
  timeline.Sample(trace_time(), executor, tally);
}

void ReplayVirtualTime(const Workload& w, Executor& executor,
                       const ReplayOptions& o, Tally& tally, Timeline& timeline) {
  Progress progress(w, executor, o.progress);
  Nanos now{0};
  Nanos next_pass = o.maintain_interval;
  auto advance_to = [&](Nanos t) {
    if (t > now) {
      if (o.clock) o.clock->Advance(t - now);
      now = t;
    }
  };
  for (const Arrival& a : w.arrivals) {
    while (next_pass <= a.at) {
      advance_to(next_pass);
      executor.Maintain();
      timeline.Sample(Secs(now), executor, tally);
      next_pass += o.maintain_interval;
    }
    advance_to(a.at);
    auto start = SteadyClock::now();
    auto served = executor.Serve(a.module, w.modules[a.module].inputs[a.input]);
    tally.Add(served, std::chrono::duration_cast<Nanos>(SteadyClock::now() - start));
    // Background work (refills) finishes in the gap before the next
    // arrival rather than competing with it for the CPU: the gaps of a
    // trace replayed in virtual time are seconds, not the microseconds the
    // replay takes.
    executor.Settle();
    progress.Maybe(tally.done.load());
  }
  timeline.Sample(Secs(now), executor, tally);
}

}  // namespace

double RunResult::hit_rate(ServedFrom from) const {
  uint64_t total = 0;
  for (uint64_t n : served) total += n;
  return total == 0 ? 0 : static_cast<double>(served[int(from)]) / total;
}

RunResult Replay(const Workload& w, Executor& executor, const ReplayOptions& o) {
  Tally tally;
  Timeline timeline;
  auto start = SteadyClock::now();
  if (o.virtual_time) {
    ReplayVirtualTime(w, executor, o, tally, timeline);
  } else {
    ReplayWallClock(w, executor, o, tally, timeline);
  }
  RunResult r;
  r.workload = w.name;
  r.policy = executor.name();
  r.wall_s = Secs(SteadyClock::now() - start);
  r.trace_s = Secs(w.length);
  r.requests = tally.done.load();
  r.failures = tally.failures.load();
  r.first_failure = tally.first_failure;
  for (int i = 0; i < kServedFromCount; ++i) {
    r.served[i] = tally.served[i].load();
    r.acquire_by_source[i] = tally.acquire_by_source[i].Summarize();
  }
  r.acquire = tally.acquire.Summarize();
  r.end_to_end = tally.end_to_end.Summarize();
  r.end_to_end_counts = tally.end_to_end.Counts();
  r.throughput = r.wall_s > 0 ? r.requests / r.wall_s : 0;
  r.figures = executor.Figures();
  timeline.Finish(r);
  return r;
}

}  // namespace strata::bench
