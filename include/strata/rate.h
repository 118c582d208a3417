// A per-module access-frequency estimate: an exponentially decayed count of
// acquires, read as events per second. It is updated on every acquire and
// decays while the module is idle, so it measures use, not age.
//
// With half-life h, an event t seconds ago weighs 2^(-t/h); the rate is the
// decayed count divided by the mean lifetime h/ln 2, so a steady stream of r
// events per second reads as r.
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

  void Record(std::chrono::nanoseconds now, double events = 1.0) {
    Decay(now);
    count_ += events;
  }
  // Events per second as of `now`.
  double PerSecond(std::chrono::nanoseconds now) const {
    double dt = std::chrono::duration<double>(now - last_).count();
    double decayed = count_ * std::exp2(-std::max(0.0, dt) / half_life_s_);
    return decayed * std::log(2.0) / half_life_s_;
  }

 private:
  void Decay(std::chrono::nanoseconds now) {
    double dt = std::chrono::duration<double>(now - last_).count();
    // A clock that jumps backwards decays nothing rather than inflating.
    if (dt > 0) count_ *= std::exp2(-dt / half_life_s_);
    if (now > last_) last_ = now;
  }

  double half_life_s_;
  double count_ = 0;
  std::chrono::nanoseconds last_{0};
};

}  // namespace strata

#endif  // STRATA_RATE_H_
