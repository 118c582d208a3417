// A mutex, a scoped lock and a condition variable that clang's
// -Wthread-safety analysis understands (std::mutex carries no annotations),
// with waits on the pool's injected Clock.
#ifndef STRATA_INTERNAL_MUTEX_H_
#define STRATA_INTERNAL_MUTEX_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <shared_mutex>

#include "internal/thread_annotations.h"
#include "strata/clock.h"

namespace strata::internal {

class CAPABILITY("mutex") Mutex {
 public:
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  bool TryLock() TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  friend class MutexLock;
  std::mutex mu_;
};

// Holds `mu` for its scope; Unlock()/Lock() release and retake it inside.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : lock_(mu.mu_) {}
  ~MutexLock() RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() RELEASE() { lock_.unlock(); }
  void Lock() ACQUIRE() { lock_.lock(); }

 private:
  friend class CondVar;
  std::unique_lock<std::mutex> lock_;
};

// Many readers or one writer (the module registry: every acquire looks a
// module up, registration and removal change it).
class CAPABILITY("mutex") SharedMutex {
 public:
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  void ReaderLock() ACQUIRE_SHARED() { mu_.lock_shared(); }
  void ReaderUnlock() RELEASE_SHARED() { mu_.unlock_shared(); }

 private:
  std::shared_mutex mu_;
};

class SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~WriterLock() RELEASE() { mu_.Unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex& mu_;
};

class SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mu) ACQUIRE_SHARED(mu) : mu_(mu) {
    mu_.ReaderLock();
  }
  ~ReaderLock() RELEASE() { mu_.ReaderUnlock(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex& mu_;
};

class CondVar {
 public:
  // Waits until `done()` holds; `lock` is released while blocked.
  void Wait(MutexLock& lock, const std::function<bool()>& done) {
    cv_.wait(lock.lock_, done);
  }
  // Waits until `done()` holds or `clock` reaches `deadline`; returns done().
  bool WaitUntil(MutexLock& lock, const Clock& clock, Clock::Duration deadline,
                 const std::function<bool()>& done) {
    return clock.WaitUntil(cv_, lock.lock_, deadline, done);
  }
  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace strata::internal

#endif  // STRATA_INTERNAL_MUTEX_H_
