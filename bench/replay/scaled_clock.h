// Trace time for a replay at a speed-up: it runs `speedup` times faster
// than the steady clock, from zero at construction. A pool given this clock
// keeps time in trace seconds (keep-alive windows, idle timeouts, its
// maintenance interval) while its threads, and the requests, run for real.
//
// Thread contract: thread-safe.
#ifndef STRATA_BENCH_REPLAY_SCALED_CLOCK_H_
#define STRATA_BENCH_REPLAY_SCALED_CLOCK_H_

#include <thread>

#include "strata/clock.h"

namespace strata::bench {

class ScaledClock final : public Clock {
 public:
  explicit ScaledClock(double speedup)
      : speedup_(speedup), origin_(std::chrono::steady_clock::now()) {}

  Duration Now() const override {
    return std::chrono::duration_cast<Duration>(
        (std::chrono::steady_clock::now() - origin_) * speedup_);
  }
  bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 Duration deadline,
                 const std::function<bool()>& done) const override {
    if (deadline - Now() > std::chrono::hours(24 * 365)) {  // "never"
      cv.wait(lock, done);
      return true;
    }
    return cv.wait_until(lock, RealTime(deadline), done);
  }
  void SleepUntil(Duration deadline) const override {
    std::this_thread::sleep_until(RealTime(deadline));
  }
  double speedup() const { return speedup_; }
  // The steady-clock moment this clock reads `t`.
  std::chrono::steady_clock::time_point RealTime(Duration t) const {
    return origin_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double, std::nano>(t.count() / speedup_));
  }

 private:
  const double speedup_;
  const std::chrono::steady_clock::time_point origin_;
};

}  // namespace strata::bench

#endif  // STRATA_BENCH_REPLAY_SCALED_CLOCK_H_
