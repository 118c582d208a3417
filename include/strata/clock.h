// Time as the pool sees it, injected so tests can drive it.
//
// Thread contract: implementations are thread-safe.
#ifndef STRATA_CLOCK_H_
#define STRATA_CLOCK_H_

#include <atomic>
#include <chrono>

namespace strata {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  virtual ~Clock() = default;
  // Monotonic time since an arbitrary epoch.
  virtual Duration Now() const = 0;
};

// std::chrono::steady_clock.
class SteadyClock final : public Clock {
 public:
  Duration Now() const override {
    return std::chrono::steady_clock::now().time_since_epoch();
  }
};

// A clock that moves only when told to. Example:
//   ManualClock clock;
//   clock.Advance(std::chrono::seconds(5));
class ManualClock final : public Clock {
 public:
  Duration Now() const override {
    return Duration(now_ns_.load(std::memory_order_relaxed));
  }
  void Advance(Duration d) {
    now_ns_.fetch_add(d.count(), std::memory_order_relaxed);
  }

 private:
  std::atomic<int64_t> now_ns_{1'000'000'000};
};

}  // namespace strata

#endif  // STRATA_CLOCK_H_
