// Leases: calling a borrowed instance, and taking it back (to hot, or
// dropped), re-measuring what it holds.
#include <algorithm>

#include "internal/cycle_clock.h"
#include "pool/pool_internal.h"

namespace strata {
namespace {

// A reused instance is re-measured on its first return, then every this
// many calls, and whenever its linear memory grew: reading the page tables
// costs more than the rest of a return (1.7 us for a one-page memory here).
constexpr uint64_t kReuseMeasureEvery = 16;
// A fresh instance is dropped on return; one in this many is measured to
// learn what a call dirties (and every one whose memory grew).
constexpr uint64_t kFreshMeasureEvery = 8;

// `size`: the instance's linear memory now.
Retire Verdict(const PoolState& s, const ModuleEntry& e, const HotInstance& h,
               uint64_t size, std::string* detail) REQUIRES(e.mu) {
  const ModuleOptions& o = e.options;
  const Instance& instance = *h.instance;
  if (o.reuse == ReuseMode::kFresh) return Retire::kFresh;
  if (e.removed || s.shutdown.load()) return Retire::kRemoved;
  if (instance.poisoned()) {
    *detail = "failed call (trap, timeout or exit)";
    return Retire::kPoisoned;
  }
  if (instance.calls() >= o.max_uses) {
    *detail = "served " + std::to_string(instance.calls()) +
              " calls (max_uses " + std::to_string(o.max_uses) + ")";
    return Retire::kMaxUses;
  }
  // Its age when this lease began: no clock read on the return path.
  if (h.leased_at - h.created > o.max_age) {
    *detail = "older than max_age " + std::to_string(o.max_age.count()) + " s";
    return Retire::kMaxAge;
  }
  uint64_t grown = size - std::min(size, instance.initial_memory_bytes());
  if (grown > o.max_growth_bytes) {
    *detail = "memory grew by " + std::to_string(grown) + " bytes (limit " +
              std::to_string(o.max_growth_bytes) + ")";
    return Retire::kGrew;
  }
  if (e.hot.size() >= std::max(e.target_hot, o.min_hot)) {
    // A module's only instance, used since the policy last placed it, stays
    // until the next pass has seen that use: dropping it now would make the
    // pass that promotes the module build the same instance again.
    bool unseen = e.hot.empty() && h.leased_gen == e.placement_gen;
    if (!unseen) return Retire::kHotFull;
  }
  return Retire::kKeep;
}

// The allowance each lease is charged: the most a call dirtied, decaying
// by 1/16 per measured return.
void LearnCallGrowth(ModuleEntry& e, uint64_t resident, uint64_t before)
    REQUIRES(e.mu) {
  uint64_t growth = resident - std::min(resident, before);
  e.call_growth_bytes =
      std::max(growth, e.call_growth_bytes - e.call_growth_bytes / 16);
}

}  // namespace

void Reap(PoolState& s, Reaper::Item& item) {
  ModuleEntry& e = *item.entry;
  uint64_t resident = item.measure ? item.held->instance->ResidentBytes() : 0;
  item.held.reset();  // the charge goes back to the ledger here
  bool refill;
  {
    MutexLock lock(e.mu);
    if (item.measure) LearnCallGrowth(e, resident, item.resident_before);
    refill = e.BelowHotTarget();
  }
  if (refill) s.QueueRefill(item.entry);
}

void ReturnInstance(PoolState& s, std::shared_ptr<ModuleEntry> entry,
                    std::unique_ptr<HotInstance> h) {
  ModuleEntry& e = *entry;
  const Instance& instance = *h->instance;
  bool reuse = e.options.reuse == ReuseMode::kReuse;
  uint64_t calls = instance.calls();
  uint64_t size = instance.memory_bytes();
  bool grew = size > h->sized_bytes;
  bool measure =
      calls > 0 &&
      (grew || (reuse ? h->measured_calls == 0 ||
                            calls - h->measured_calls >= kReuseMeasureEvery
                      : e.returns.fetch_add(1, std::memory_order_relaxed) %
                                kFreshMeasureEvery ==
                            0));
  // A fresh instance is measured (and dropped) on the reaper thread; a
  // reused one here, outside the lock, since it decides whether it stays.
  bool reap = !reuse && s.options.background;
  uint64_t resident =
      measure && !reap ? instance.ResidentBytes() : h->resident;

  Events events;
  Retire why;
  std::string detail;
  bool refill = false;
  {
    MutexLock lock(e.mu);
    e.ReleaseLease();
    if (h->tally.calls > 0) e.call.Add(h->tally.time / h->tally.calls);
    e.counters.traps += h->tally.traps;
    e.counters.timeouts += h->tally.timeouts;
    h->tally = {};
    if (measure && !reap) LearnCallGrowth(e, resident, h->resident);
    why = Verdict(s, e, *h, size, &detail);
    // A request waiting in the ledger's line gets this slot instead. Read
    // under e.mu: a waiter enqueues before it scans the hot tiers (which
    // takes e.mu), so either it sees this instance or we see it waiting.
    if (why == Retire::kKeep && s.ledger.waiting() > 0) why = Retire::kYield;
    if (why == Retire::kKeep && measure) {
      if (h->charge.Commit(resident + e.call_growth_bytes +
                           kInstanceOverheadEstimate)) {
        h->resident = resident;
        h->measured_calls = calls;
        h->sized_bytes = size;
      } else {
        why = Retire::kBudget;
        detail = "re-measured at " + std::to_string(resident) +
                 " bytes, which the budget has no room for";
      }
    }
    if (why == Retire::kKeep) {
      e.hot.push_back(std::move(h));
    } else {
      if (!detail.empty()) ++e.counters.retired;
      // A dropped instance handed to the reaper is refilled after it is
      // gone, when its bytes are back; one dropped here, now.
      refill = !reap && e.BelowHotTarget();
    }
  }
  if (!detail.empty()) {
    events.push_back({why == Retire::kGrew ? EventKind::kLeakSuspected
                                           : EventKind::kInstanceRetired,
                      e.name, std::move(detail)});
  }
  if (h != nullptr) {
    uint64_t before = h->resident;
    Reaper::Item item{entry, std::move(h), measure && reap, before};
    // Off this thread when it can be; else here, outside the lock.
    if (!reap || !s.reaper.Push(item)) Reap(s, item);
  }
  s.events.Publish(events);
  if (refill) s.QueueRefill(entry);
  if (why != Retire::kKeep || measure) s.CheckPressure();
}

// --- Lease ---

Lease::Lease(std::shared_ptr<PoolState> state,
             std::shared_ptr<ModuleEntry> entry,
             std::unique_ptr<HotInstance> held, ServedFrom from)
    : state_(std::move(state)),
      entry_(std::move(entry)),
      held_(std::move(held)),
      served_from_(from) {}

Lease::Lease(Lease&& other) noexcept
    : state_(std::move(other.state_)),
      entry_(std::move(other.entry_)),
      held_(std::move(other.held_)),
      served_from_(other.served_from_) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    state_ = std::move(other.state_);
    entry_ = std::move(other.entry_);
    held_ = std::move(other.held_);
    served_from_ = other.served_from_;
  }
  return *this;
}

Lease::~Lease() { Release(); }

void Lease::Release() {
  if (held_ != nullptr) {
    ReturnInstance(*state_, std::move(entry_), std::move(held_));
  }
  state_.reset();
  entry_.reset();
}

Instance& Lease::instance() { return *held_->instance; }

namespace {

Status MovedFrom() {
  return Status(ErrorCode::kInvalidArgument,
                "lease: no instance (the lease was moved from)");
}

// Counts one call in the lease's tally and the pool's histogram.
void Tally(PoolState& s, HotInstance& held, const Status& status,
           uint64_t start_ticks) {
  Nanos took = internal::CycleClock::Between(start_ticks,
                                             internal::CycleClock::Now());
  s.call_latency.Record(took);
  ++held.tally.calls;
  held.tally.time += took;
  held.tally.traps += status.code() == ErrorCode::kTrap;
  held.tally.timeouts += status.code() == ErrorCode::kDeadlineExceeded;
}

// A call's deadline: the module's, or the caller's when shorter (0 is none).
std::chrono::milliseconds ShorterDeadline(std::chrono::milliseconds module,
                                          std::chrono::milliseconds call) {
  if (call.count() <= 0) return module;
  return module.count() > 0 ? std::min(module, call) : call;
}

}  // namespace

Result<Bytes> Lease::Call(std::string_view export_name,
                          std::span<const uint8_t> input,
                          std::chrono::milliseconds timeout) {
  if (held_ == nullptr) return MovedFrom();
  CallOptions options;
  options.timeout = entry_->options.call_timeout;
  options.timeout = ShorterDeadline(options.timeout, timeout);
  options.max_input_bytes = entry_->options.max_input_bytes;
  options.max_output_bytes = entry_->options.max_output_bytes;
  uint64_t start = internal::CycleClock::Now();
  auto out = held_->instance->Call(export_name, input, options);
  Tally(*state_, *held_, out.status(), start);
  return out;
}

Result<CommandOutput> Lease::RunCommand(CommandRequest request) {
  if (held_ == nullptr) return MovedFrom();
  request.timeout =
      ShorterDeadline(entry_->options.call_timeout, request.timeout);
  request.wasi = MergeCapabilities(entry_->options.wasi, request.wasi);
  uint64_t start = internal::CycleClock::Now();
  auto out = held_->instance->RunCommand(request);
  Tally(*state_, *held_, out.status(), start);
  return out;
}

Result<HttpResponse> Lease::HandleHttp(HttpRequest request) {
  if (held_ == nullptr) return MovedFrom();
  request.timeout =
      ShorterDeadline(entry_->options.call_timeout, request.timeout);
  request.max_response_bytes =
      std::min(request.max_response_bytes, entry_->options.max_output_bytes);
  uint64_t start = internal::CycleClock::Now();
  auto out = held_->instance->HandleHttp(request);
  Tally(*state_, *held_, out.status(), start);
  return out;
}

}  // namespace strata
