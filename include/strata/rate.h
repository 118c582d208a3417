// A per-module access-frequency estimate: an exponentially decayed count of
// acquires, read as events per second. It is updated on every acquire and
// decays while the module is idle, so it measures use, not age.
//
// With half-life h, an event t seconds ago weighs 2^(-t/h); the rate is the
// decayed count divided by the mean lifetime h/ln 2, so a steady stream of r
// events per second reads as r. Until the estimate has seen several
// half-lives it is corrected for the time it has not seen (divided by
// 1 - 2^(-T/h), T the time since its first event, at least one half-life), so a
// module that just started reads its rate, not a fraction of it.
//
// Thread contract: not thread-safe; the owner serialises access.
#ifndef STRATA_RATE_H_
#define STRATA_RATE_H_

#include <chrono>
#include <cmath>

namespace strata {

class DecayingRate {
 public:
  explicit DecayingRate(std::chrono::nanoseconds half_life)
      : half_life_s_(std::chrono::duration<double>(half_life).count()) {}

  // Counts `events` at `now`; returns the rate just after, without the
  // warm-up correction (a lower bound, for cheap triggers on the hot path:
  // the count is already decayed to now and no exp2() is needed).
  double Record(std::chrono::nanoseconds now, double events = 1.0) {
    if (count_ == 0 && first_.count() == 0) first_ = now;
    Decay(now);
    count_ += events;
    return count_ * kLn2 / half_life_s_;
  }
  // Events per second as of `now`.
  double PerSecond(std::chrono::nanoseconds now) const {
    double dt = std::chrono::duration<double>(now - last_).count();
    double decayed = count_ * std::exp2(-std::max(0.0, dt) / half_life_s_);
    return decayed * kLn2 / half_life_s_ / Seen(now);
  }

 private:
  static constexpr double kLn2 = 0.69314718055994530942;
  // The share of a steady stream's full weight seen since the first event.
  double Seen(std::chrono::nanoseconds now) const {
    // Before one half-life has passed, count it as one: a single event then
    // reads as a modest rate instead of an infinite one.
    double x = std::max(1.0, std::chrono::duration<double>(now - first_).count() /
                                 half_life_s_);
    // After 30 half-lives the correction is below 1e-9: skip the exp2().
    return x >= 30 ? 1.0 : 1 - Factor(x);
  }
  void Decay(std::chrono::nanoseconds now) {
    double dt = std::chrono::duration<double>(now - last_).count();
    // A clock that jumps backwards decays nothing rather than inflating.
    if (dt > 0) count_ *= Factor(dt / half_life_s_);
    if (now > last_) last_ = now;
  }
  // 2^-x. Between requests x is tiny (microseconds over a 30 s half-life):
  // there two terms of the series are exact to 1e-10 and cost no exp2().
  static double Factor(double x) {
    if (x < 1e-4) {
      double y = x * kLn2;
      return 1 - y + y * y / 2;
    }
    return std::exp2(-x);
  }

  double half_life_s_;
  double count_ = 0;
  std::chrono::nanoseconds last_{0};
  std::chrono::nanoseconds first_{0};  // the first event
};

}  // namespace strata

#endif  // STRATA_RATE_H_
