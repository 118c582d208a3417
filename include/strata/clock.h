// Time as the pool sees it, injected so tests and virtual-time replays can
// drive it: reading the time, and the timers the pool waits on (deadlines of
// waiting acquires, the maintainer's interval, drains).
//
// Thread contract: implementations are thread-safe.
//
// Example:
//   auto clock = std::make_shared<strata::ManualClock>();
//   options.clock = clock;              // the pool now waits on this clock
//   clock->Advance(std::chrono::seconds(5));  // wakes waits that are due
#ifndef STRATA_CLOCK_H_
#define STRATA_CLOCK_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <vector>

namespace strata {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  virtual ~Clock() = default;
  // Monotonic time since an arbitrary epoch.
  virtual Duration Now() const = 0;
  // Waits on `cv`, whose mutex `lock` holds, until `done()` is true or Now()
  // reaches `deadline`; returns done(). Like condition_variable::wait_until
  // with a predicate, on this clock. Duration::max() waits for done() only.
  virtual bool WaitUntil(std::condition_variable& cv,
                         std::unique_lock<std::mutex>& lock, Duration deadline,
                         const std::function<bool()>& done) const = 0;
  // Blocks the calling thread until Now() reaches `deadline`.
  virtual void SleepUntil(Duration deadline) const = 0;

  // Now() + `timeout`, saturating instead of overflowing (a timeout of
  // milliseconds::max() means "no deadline").
  template <typename Rep, typename Period>
  Duration DeadlineAfter(std::chrono::duration<Rep, Period> timeout) const {
    return SaturatingAdd(Now(), timeout);
  }
  template <typename Rep, typename Period>
  static Duration SaturatingAdd(Duration t,
                                std::chrono::duration<Rep, Period> timeout) {
    using Nanos = std::chrono::nanoseconds;
    if (timeout <= timeout.zero()) return t;
    if (timeout >= std::chrono::duration_cast<std::chrono::duration<Rep, Period>>(
                       Nanos::max() - std::max(t, Nanos::zero()))) {
      return Duration::max();
    }
    return t + std::chrono::duration_cast<Nanos>(timeout);
  }
};

// std::chrono::steady_clock.
class SteadyClock final : public Clock {
 public:
  Duration Now() const override {
    return std::chrono::steady_clock::now().time_since_epoch();
  }
  bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 Duration deadline,
                 const std::function<bool()>& done) const override;
  void SleepUntil(Duration deadline) const override;
};

// A clock that moves only when told to; waits on it end when it is advanced
// past their deadline (or when their condition holds). Time may also be
// moved backwards, to test code against a clock that jumps.
//
// Example:
//   ManualClock clock;
//   clock.Advance(std::chrono::seconds(5));
class ManualClock final : public Clock {
 public:
  Duration Now() const override {
    return Duration(now_ns_.load(std::memory_order_acquire));
  }
  bool WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 Duration deadline,
                 const std::function<bool()>& done) const override;
  void SleepUntil(Duration deadline) const override;

  // Moves time by `d` (negative: backwards) and wakes every wait, so each
  // re-checks its deadline.
  void Advance(Duration d);

 private:
  struct Waiter {
    std::condition_variable* cv;
    std::mutex* mu;
  };
  void Register(const Waiter& w) const;
  void Unregister(const Waiter& w) const;

  std::atomic<int64_t> now_ns_{1'000'000'000};
  mutable std::mutex waiters_mu_;  // before any waiter's mutex
  mutable std::vector<Waiter> waiters_;
  mutable std::mutex sleep_mu_;
  mutable std::condition_variable sleep_cv_;
};

}  // namespace strata

#endif  // STRATA_CLOCK_H_
