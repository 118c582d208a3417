#include "strata/clock.h"

#include <algorithm>
#include <thread>

namespace strata {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// Deadlines this far away are "never": converting them to a time point
// would overflow inside the standard library.
constexpr Clock::Duration kForever = std::chrono::hours(24 * 365 * 100);

bool IsForever(Clock::Duration deadline, Clock::Duration now) {
  return deadline == Clock::Duration::max() || deadline - now > kForever;
}

}  // namespace

bool SteadyClock::WaitUntil(std::condition_variable& cv,
                            std::unique_lock<std::mutex>& lock,
                            Duration deadline,
                            const std::function<bool()>& done) const {
  if (IsForever(deadline, Now())) {
    cv.wait(lock, done);
    return true;
  }
  return cv.wait_until(lock, SteadyTime(deadline), done);
}

void SteadyClock::SleepUntil(Duration deadline) const {
  if (IsForever(deadline, Now())) deadline = Now() + kForever;
  std::this_thread::sleep_until(SteadyTime(deadline));
}

bool ManualClock::WaitUntil(std::condition_variable& cv,
                            std::unique_lock<std::mutex>& lock,
                            Duration deadline,
                            const std::function<bool()>& done) const {
  // Registering takes waiters_mu_, which Advance() holds while it locks
  // each waiter's mutex; so never take it with the waiter's mutex held.
  Waiter w{&cv, lock.mutex()};
  lock.unlock();
  Register(w);
  lock.lock();
  // Advance() moves the time before it locks our mutex to notify, so either
  // this check sees the new time or the notification finds us waiting.
  while (!done() && Now() < deadline) cv.wait(lock);
  bool met = done();
  lock.unlock();
  Unregister(w);
  lock.lock();
  return met || done();
}

void ManualClock::SleepUntil(Duration deadline) const {
  std::unique_lock<std::mutex> lock(sleep_mu_);
  WaitUntil(sleep_cv_, lock, deadline, [] { return false; });
}

void ManualClock::Advance(Duration d) {
  now_ns_.fetch_add(d.count(), std::memory_order_acq_rel);
  std::lock_guard<std::mutex> registry(waiters_mu_);
  for (const Waiter& w : waiters_) {
    std::lock_guard<std::mutex> l(*w.mu);
    w.cv->notify_all();
  }
}

void ManualClock::Register(const Waiter& w) const {
  std::lock_guard<std::mutex> registry(waiters_mu_);
  waiters_.push_back(w);
}

void ManualClock::Unregister(const Waiter& w) const {
  std::lock_guard<std::mutex> registry(waiters_mu_);
  auto it = std::find_if(waiters_.begin(), waiters_.end(), [&](const Waiter& x) {
    return x.cv == w.cv && x.mu == w.mu;
  });
  if (it != waiters_.end()) waiters_.erase(it);
}

}  // namespace strata
