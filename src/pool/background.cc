// The pool's background threads and what they share with requests: the
// refill thread keeps hot tiers stocked (it only instantiates), the loader
// thread brings code up to warm (compile, deserialize, link), and events
// reach listeners outside every lock.
#include <cstdio>

#include "internal/background_thread.h"
#include "pool/pool_internal.h"

namespace strata {
namespace {

// Listener failures reported on stderr before going quiet (all are counted).
constexpr uint64_t kReportedListenerErrors = 5;

}  // namespace

bool RefillOne(PoolState& s, const std::shared_ptr<ModuleEntry>& entry) {
  ModuleEntry& e = *entry;
  Prepared prepared;
  {
    MutexLock lock(e.mu);
    if (!e.BelowHotTarget()) return false;
    if (!e.prepared && !e.code) {
      // Code first, on the loader thread: no refill waits for a compile.
      lock.Unlock();
      s.QueueLoad(entry);
      return false;
    }
    ++e.building;
  }
  // Linking code already in memory takes microseconds: done here.
  ServedFrom from;
  auto ready = EnsurePrepared(s, e, {.background = true}, &from);
  if (!ready.ok()) {
    MutexLock lock(e.mu);
    --e.building;
    return false;
  }
  prepared = std::move(*ready);
  auto made = MakeInstance(s, e, prepared, {.background = true});
  std::unique_ptr<HotInstance> surplus;
  bool more = false;
  {
    MutexLock lock(e.mu);
    --e.building;
    if (made.ok()) {
      // A request that came while we built waits in line for memory: it
      // needs the bytes more than the hot tier does (as a reused instance
      // yields on return), so the instance is dropped and its charge
      // granted to the line.
      if (e.BelowHotTarget() && s.ledger.waiting() == 0) {
        e.hot.push_back(std::move(*made));
        if (!e.cap_line.empty()) e.cap_cv.NotifyAll();
        more = e.BelowHotTarget();
      } else {
        surplus = std::move(*made);  // the target fell, or the line formed
      }
    }
  }
  return more;
}

namespace {

// Brings a module's code up to warm for its placement, then its hot tier.
void LoadOne(PoolState& s, const std::shared_ptr<ModuleEntry>& entry) {
  ModuleEntry& e = *entry;
  {
    MutexLock lock(e.mu);
    if (e.removed || e.tier > Tier::kWarm) return;
  }
  ServedFrom from;
  if (!EnsurePrepared(s, e, {.background = true}, &from).ok()) return;
  bool refill = false;
  {
    MutexLock lock(e.mu);
    refill = e.BelowHotTarget();
  }
  if (refill) s.QueueRefill(entry);
}

// Runs one item of a background thread's work: the thread must outlive any
// one failed item (std::bad_alloc, say).
template <typename Work>
void Guarded(const ModuleEntry& entry, Work work) {
  try {
    work();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "strata: background work on module '%s' failed: %s\n",
                 entry.name.c_str(), e.what());
  }
}

template <typename Work>
void WorkLoop(WorkQueue& queue, Work work) {
  while (auto entry = queue.Pop()) {
    Guarded(*entry, [&] {
      if (work(entry)) queue.Push(entry);
    });
    queue.Done();
  }
}

// Every pool thread does work that requests wake it for: none may preempt
// the request that woke it (internal/background_thread.h).
template <typename Work>
std::thread BackgroundThread(Work work) {
  return std::thread([work = std::move(work)] {
    internal::MarkBackgroundThread();
    work();
  });
}

void JoinUnlessSelf(std::thread& t) {
  if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
}

}  // namespace

void WorkQueue::Push(std::shared_ptr<ModuleEntry> entry) {
  MutexLock lock(mu_);
  if (stopped_) return;
  // One queued item per module is enough: the work re-queues itself.
  for (const auto& queued : queue_) {
    if (queued == entry) return;
  }
  queue_.push_back(std::move(entry));
  cv_.NotifyOne();
}

std::shared_ptr<ModuleEntry> WorkQueue::Pop() {
  MutexLock lock(mu_);
  cv_.Wait(lock, [&]() NO_THREAD_SAFETY_ANALYSIS {
    return stopped_ || !queue_.empty();
  });
  if (stopped_) return nullptr;
  auto entry = std::move(queue_.front());
  queue_.pop_front();
  ++busy_;
  return entry;
}

void WorkQueue::Done() {
  MutexLock lock(mu_);
  --busy_;
  if (queue_.empty() && busy_ == 0) idle_cv_.NotifyAll();
}

void WorkQueue::WaitIdle() {
  MutexLock lock(mu_);
  idle_cv_.Wait(lock, [&]() NO_THREAD_SAFETY_ANALYSIS {
    return stopped_ || (queue_.empty() && busy_ == 0);
  });
}

bool WorkQueue::Idle() {
  MutexLock lock(mu_);
  return stopped_ || (queue_.empty() && busy_ == 0);
}

void WorkQueue::Stop() {
  MutexLock lock(mu_);
  stopped_ = true;
  queue_.clear();
  cv_.NotifyAll();
  idle_cv_.NotifyAll();
}

bool Reaper::Push(Item& item) {
  MutexLock lock(mu_);
  if (stopped_ || queue_.size() >= kMaxQueued) return false;
  queue_.push_back(std::move(item));
  if (queue_.size() == 1) cv_.NotifyOne();
  return true;
}

void Reaper::Run(PoolState& s) {
  std::vector<Item> batch;
  MutexLock lock(mu_);
  while (true) {
    cv_.Wait(lock, [&]() NO_THREAD_SAFETY_ANALYSIS {
      return stopped_ || !queue_.empty();
    });
    if (queue_.empty()) break;  // stopped and drained
    batch.swap(queue_);
    busy_ = true;
    lock.Unlock();
    for (Item& item : batch) Guarded(*item.entry, [&] { Reap(s, item); });
    batch.clear();
    lock.Lock();
    busy_ = false;
    if (queue_.empty()) idle_cv_.NotifyAll();
  }
  idle_cv_.NotifyAll();
}

void Reaper::WaitIdle() {
  MutexLock lock(mu_);
  idle_cv_.Wait(lock, [&]() NO_THREAD_SAFETY_ANALYSIS {
    return queue_.empty() && !busy_;
  });
}

bool Reaper::Idle() {
  MutexLock lock(mu_);
  return queue_.empty() && !busy_;
}

void Reaper::Stop() {
  MutexLock lock(mu_);
  stopped_ = true;
  cv_.NotifyAll();
}

void EventHub::Add(std::shared_ptr<EventListener> listener) {
  MutexLock lock(mu_);
  listeners_.push_back(std::move(listener));
}

void EventHub::Publish(const Events& events) {
  if (events.empty()) return;
  std::vector<std::shared_ptr<EventListener>> listeners;
  {
    MutexLock lock(mu_);
    listeners = listeners_;
  }
  for (const Event& event : events) {
    for (const auto& listener : listeners) {
      try {
        listener->OnEvent(event);
      } catch (const std::exception& e) {
        if (errors_.fetch_add(1) < kReportedListenerErrors) {
          std::fprintf(stderr, "strata: an event listener threw on %s: %s\n",
                       EventKindName(event.kind), e.what());
        }
      } catch (...) {
        if (errors_.fetch_add(1) < kReportedListenerErrors) {
          std::fprintf(stderr, "strata: an event listener threw on %s\n",
                       EventKindName(event.kind));
        }
      }
    }
  }
}

void PoolState::QueueRefill(std::shared_ptr<ModuleEntry> entry) {
  if (options.background) refills.Push(std::move(entry));
}

void PoolState::QueueLoad(std::shared_ptr<ModuleEntry> entry) {
  if (options.background) loads.Push(std::move(entry));
}

void StartBackground(PoolState& s) {
  s.refiller = BackgroundThread([&s] {
    WorkLoop(s.refills, [&s](const auto& e) { return RefillOne(s, e); });
  });
  s.loader = BackgroundThread([&s] {
    WorkLoop(s.loads, [&s](const auto& e) {
      LoadOne(s, e);
      return false;
    });
  });
  if (s.options.maintainer_thread) {
    s.maintainer = BackgroundThread([&s] { MaintainerLoop(s); });
  }
  s.reaper_thread = BackgroundThread([&s] { s.reaper.Run(s); });
}

void StopBackground(PoolState& s) {
  {
    MutexLock lock(s.maintain_mu);
    s.maintain_cv.NotifyAll();
  }
  s.refills.Stop();
  s.loads.Stop();
  s.reaper.Stop();  // it drops what is queued, then exits
  JoinUnlessSelf(s.maintainer);
  JoinUnlessSelf(s.refiller);
  JoinUnlessSelf(s.loader);
  JoinUnlessSelf(s.reaper_thread);
}

void JoinBackground(PoolState& s) {
  for (std::thread* t : {&s.maintainer, &s.refiller, &s.loader, &s.reaper_thread}) {
    if (!t->joinable()) continue;
    // Destroying the pool from its own thread (a listener deleting it):
    // the thread exits its loop on the shutdown flag by itself.
    if (t->get_id() == std::this_thread::get_id()) {
      t->detach();
    } else {
      t->join();
    }
  }
}

void Pool::WaitForRefills() {
  PoolState& s = *state_;
  if (!s.options.background) return;
  // A load may queue a refill and a refill a load: wait until both are idle
  // at once.
  do {
    s.loads.WaitIdle();
    s.refills.WaitIdle();
    s.reaper.WaitIdle();
  } while (!s.loads.Idle() || !s.refills.Idle() || !s.reaper.Idle());
}

}  // namespace strata
