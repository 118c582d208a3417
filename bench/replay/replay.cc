#include "replay/replay.h"

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
  std::atomic<uint64_t> cold_cost_ns{0};
  Histogram acquire, end_to_end;
  Histogram acquire_by_source[kServedFromCount];
  std::mutex failure_mu;
  std::string first_failure;

  void Add(const Result<Served>& served, Nanos end_to_end_time, Nanos hot_p50) {
    if (served.ok()) {
      this->served[int(served->from)].fetch_add(1, std::memory_order_relaxed);
      acquire.Record(served->acquire);
      acquire_by_source[int(served->from)].Record(served->acquire);
      if (served->acquire > hot_p50) {
        cold_cost_ns.fetch_add((served->acquire - hot_p50).count(),
                               std::memory_order_relaxed);
      }
    } else if (failures.fetch_add(1) == 0) {
      std::lock_guard<std::mutex> lock(failure_mu);
      first_failure = served.status().ToString();
    }
    end_to_end.Record(end_to_end_time);
    done.fetch_add(1, std::memory_order_relaxed);
  }
};

// Memory over trace time: held bytes read at every arrival (each reading
// checked against the budget), idle bytes sampled periodically; integrated
// into a mean and idle byte-seconds.
class Memory {
 public:
  Memory(const Executor& e, uint64_t budget) : e_(e), budget_(budget) {}

  void Read(double t_s) {
    uint64_t held = e_.Held();
    std::lock_guard<std::mutex> lock(mu_);
    if (t_s > last_t_) {
      held_integral_ += (t_s - last_t_) * last_held_;
      last_t_ = t_s;
    }
    last_held_ = held;
    peak_held_ = std::max(peak_held_, held);
    ++readings_;
    over_ += held > budget_;
  }

  void Sample(double t_s, const Tally& tally) {
    MemorySample m = e_.Memory();
    std::lock_guard<std::mutex> lock(mu_);
    if (t_s > last_sample_t_) {
      idle_integral_ += (t_s - last_sample_t_) * last_idle_;
      last_sample_t_ = t_s;
    }
    last_idle_ = m.idle_bytes;
    peak_rss_ = std::max(peak_rss_, m.process_rss_bytes);
    ++readings_;
    over_ += m.held_bytes > budget_;
    points_.push_back({t_s, m.held_bytes, m.idle_bytes, tally.done.load(),
                       tally.served[int(ServedFrom::kHot)].load()});
  }

  void Finish(RunResult& r, double span_s) {
    std::lock_guard<std::mutex> lock(mu_);
    r.mean_held_bytes = span_s > 0 ? held_integral_ / span_s : last_held_;
    r.idle_byte_seconds = idle_integral_;
    r.peak_held_bytes = peak_held_;
    r.peak_rss_bytes = peak_rss_;
    r.memory_readings = readings_;
    r.over_budget_readings = over_;
    // Keep at most ~500 points for reports.
    size_t stride = std::max<size_t>(1, points_.size() / 500);
    for (size_t i = 0; i < points_.size(); i += stride) r.timeline.push_back(points_[i]);
  }

 private:
  const Executor& e_;
  const uint64_t budget_;
  std::mutex mu_;
  std::vector<TimelinePoint> points_;
  double last_t_ = 0, last_sample_t_ = 0;
  uint64_t last_held_ = 0, last_idle_ = 0;
  double held_integral_ = 0, idle_integral_ = 0;
  uint64_t peak_held_ = 0, peak_rss_ = 0, readings_ = 0, over_ = 0;
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

}  // namespace

double RunResult::hit_rate(ServedFrom from) const {
  uint64_t total = 0;
  for (uint64_t n : served) total += n;
  return total == 0 ? 0 : static_cast<double>(served[int(from)]) / total;
}

namespace {

// Returns the trace time the replay ended at.
double ReplayWallClock(const Workload& w, Executor& executor,
                       const ReplayOptions& o, Tally& tally, Memory& memory) {
  std::atomic<size_t> next{0};
  std::atomic<bool> done{false};
  auto start = SteadyClock::now();
  auto trace_time = [&] { return Secs(SteadyClock::now() - start) * o.speedup; };
  std::thread sampler([&] {
    Progress progress(w, executor, o.progress);
    while (!done.load()) {
      memory.Sample(trace_time(), tally);
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
        memory.Read(trace_time());
        auto served = executor.Serve(a.module, w.modules[a.module].inputs[a.input]);
        tally.Add(served, std::chrono::duration_cast<Nanos>(SteadyClock::now() - due),
                  o.hot_p50);
      }
    });
  }
  for (auto& t : workers) t.join();
  done.store(true);
  sampler.join();
  return trace_time();
}

double ReplayVirtualTime(const Workload& w, Executor& executor,
                         const ReplayOptions& o, Tally& tally, Memory& memory) {
  Progress progress(w, executor, o.progress);
  Nanos now{0}, cpu_free{0};  // virtual: the clock, and when the CPU frees
  auto advance = [&](Nanos t) {
    if (t > now) {
      o.virtual_clock->Advance(t - now);
      now = t;
    }
  };
  auto charge = [&](auto work) {
    auto start = SteadyClock::now();
    work();
    return std::chrono::duration_cast<Nanos>(SteadyClock::now() - start);
  };
  Nanos next_pass = o.maintain_interval;
  for (const Arrival& a : w.arrivals) {
    while (next_pass <= std::max(a.at, cpu_free)) {
      Nanos start = std::max(next_pass, cpu_free);
      advance(start);
      cpu_free = start + charge([&] { executor.Maintain(); });
      memory.Sample(Secs(now), tally);
      next_pass += o.maintain_interval;
    }
    Nanos start = std::max(a.at, cpu_free);  // waits while the CPU is busy
    advance(start);
    memory.Read(Secs(now));
    auto served_at = SteadyClock::now();
    auto served = executor.Serve(a.module, w.modules[a.module].inputs[a.input]);
    Nanos service = std::chrono::duration_cast<Nanos>(SteadyClock::now() - served_at);
    tally.Add(served, start - a.at + service, o.hot_p50);
    cpu_free = start + service;
    advance(cpu_free);
    cpu_free += charge([&] { executor.FinishBackground(); });
    progress.Maybe(tally.done.load());
  }
  advance(std::max(cpu_free, w.length));
  return Secs(now);
}

}  // namespace

RunResult Replay(const Workload& w, Executor& executor, const ReplayOptions& o) {
  Tally tally;
  Memory memory(executor, o.budget_bytes);
  auto start = SteadyClock::now();
  double span = o.virtual_clock ? ReplayVirtualTime(w, executor, o, tally, memory)
                                : ReplayWallClock(w, executor, o, tally, memory);
  memory.Read(span);
  memory.Sample(span, tally);

  RunResult r;
  r.workload = w.name;
  r.policy = executor.name();
  r.budget_bytes = o.budget_bytes;
  r.budgeted = executor.budgeted();
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
  r.cold_start_cost_s = tally.cold_cost_ns.load() / 1e9;
  r.figures = executor.Figures();
  memory.Finish(r, span);
  // The ledger's own peak covers every tier change between readings.
  if (r.budgeted) {
    r.peak_held_bytes = std::max(r.peak_held_bytes, r.figures.peak_held_bytes);
    r.over_budget_readings += r.figures.peak_held_bytes > r.budget_bytes;
  }
  return r;
}

}  // namespace strata::bench
