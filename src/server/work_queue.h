// The bounded line of calls between the I/O threads and the workers: the
// only way a guest call reaches a thread. A full line refuses at once, so
// the server sheds load with 503s instead of queueing without bound.
//
// Thread contract: thread-safe; owns its worker threads, which the
// destructor (or Stop) joins.
#ifndef STRATA_SERVER_WORK_QUEUE_H_
#define STRATA_SERVER_WORK_QUEUE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "internal/mutex.h"

namespace strata::server {

struct Job {
  std::function<void()> run;
  // Called instead of run when the job is dropped unrun (shutdown past its
  // grace period): it must still answer its request.
  std::function<void()> cancel;
};

class WorkQueue {
 public:
  WorkQueue(uint32_t workers, uint32_t limit);
  ~WorkQueue();  // Stop()
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // False when the line holds `limit` jobs or is closed.
  bool TryPush(Job job);
  // Refuses new jobs from now on; queued ones still run.
  void Close();
  // Waits until nothing is queued or running, at most `timeout`; true if
  // it drained.
  bool WaitIdle(std::chrono::milliseconds timeout);
  // Closes, cancels what is still queued, and joins the workers (after the
  // jobs they run now return). Idempotent.
  void Stop();

  uint32_t depth() const;
  uint32_t running() const;
  uint32_t limit() const { return limit_; }

 private:
  void Work();

  const uint32_t limit_;
  mutable internal::Mutex mu_;
  internal::CondVar ready_;  // a job was queued, or the queue stopped
  internal::CondVar idle_;   // a job finished
  std::deque<Job> jobs_ GUARDED_BY(mu_);
  uint32_t running_ GUARDED_BY(mu_) = 0;
  bool closed_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace strata::server

#endif  // STRATA_SERVER_WORK_QUEUE_H_
