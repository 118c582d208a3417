#include "server/work_queue.h"

#include <exception>

namespace strata::server {

WorkQueue::WorkQueue(uint32_t workers, uint32_t limit) : limit_(limit) {
  workers_.reserve(workers);
  for (uint32_t i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
}

WorkQueue::~WorkQueue() { Stop(); }

bool WorkQueue::TryPush(Job job) {
  {
    internal::MutexLock lock(mu_);
    if (closed_ || jobs_.size() >= limit_) return false;
    jobs_.push_back(std::move(job));
  }
  ready_.NotifyOne();
  return true;
}

void WorkQueue::Close() {
  internal::MutexLock lock(mu_);
  closed_ = true;
}

bool WorkQueue::WaitIdle(std::chrono::milliseconds timeout) {
  SteadyClock clock;
  internal::MutexLock lock(mu_);
  return idle_.WaitUntil(lock, clock, clock.DeadlineAfter(timeout),
                         [this]() REQUIRES(mu_) {
                           return jobs_.empty() && running_ == 0;
                         });
}

void WorkQueue::Stop() {
  std::deque<Job> dropped;
  {
    internal::MutexLock lock(mu_);
    if (stopping_) return;
    closed_ = stopping_ = true;
    dropped.swap(jobs_);
  }
  ready_.NotifyAll();
  for (Job& job : dropped) {
    if (job.cancel) job.cancel();
  }
  for (std::thread& t : workers_) t.join();
  workers_.clear();
}

uint32_t WorkQueue::depth() const {
  internal::MutexLock lock(mu_);
  return static_cast<uint32_t>(jobs_.size());
}

uint32_t WorkQueue::running() const {
  internal::MutexLock lock(mu_);
  return running_;
}

void WorkQueue::Work() {
  internal::MutexLock lock(mu_);
  while (true) {
    ready_.Wait(lock, [this]() REQUIRES(mu_) {
      return stopping_ || !jobs_.empty();
    });
    if (jobs_.empty()) return;  // stopping, nothing left
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    ++running_;
    lock.Unlock();
    // A job answers its own request; an exception would leave it
    // unanswered, so the job's own code catches. This guard keeps the
    // worker alive if one slips through.
    try {
      job.run();
    } catch (const std::exception&) {
    }
    job = {};
    lock.Lock();
    if (--running_ == 0 && jobs_.empty()) idle_.NotifyAll();
  }
}

}  // namespace strata::server
