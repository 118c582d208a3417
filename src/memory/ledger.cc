#include "memory/ledger.h"

#include <algorithm>
#include <cassert>
#include <cstdio>

namespace strata::memory {
namespace {

using internal::MutexLock;

// Rounds of reclaim-and-retry before a reservation joins the line: each
// round frees at least one holding, so this only bounds a reserver that
// keeps losing freed capacity to others.
constexpr int kReclaimRounds = 64;
// How often a waiter asks the pool to reclaim again. Holdings can turn idle
// with nobody freeing them for the line (code that a failed instantiation
// had pinned, say); without asking again, a waiter whose first reclaim came
// too early would wait out its deadline while nothing else runs.
constexpr std::chrono::milliseconds kReclaimRetry{5};

std::string Mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", bytes / 1048576.0);
  return text;
}

}  // namespace

// --- Charge ---

Charge::Charge(Charge&& other) noexcept
    : ledger_(other.ledger_),
      account_(other.account_),
      bytes_(other.bytes_),
      slots_(other.slots_) {
  other.ledger_ = nullptr;
}

Charge& Charge::operator=(Charge&& other) noexcept {
  if (this != &other) {
    Release();
    ledger_ = other.ledger_;
    account_ = other.account_;
    bytes_ = other.bytes_;
    slots_ = other.slots_;
    other.ledger_ = nullptr;
  }
  return *this;
}

bool Charge::Commit(uint64_t measured_bytes) {
  if (ledger_ == nullptr) return false;
  if (measured_bytes <= bytes_) {
    ledger_->Give(*account_, {bytes_ - measured_bytes, 0});
  } else if (!ledger_->Grow(*account_, measured_bytes - bytes_)) {
    return false;
  }
  bytes_ = measured_bytes;
  return true;
}

void Charge::Absorb(Charge&& other) {
  if (!other.held()) return;
  assert(other.ledger_ == ledger_ && other.account_ == account_);
  bytes_ += other.bytes_;
  slots_ += other.slots_;
  other.ledger_ = nullptr;
}

Charge Charge::Split(Need part) {
  if (!held()) return Charge();
  assert(part.bytes <= bytes_ && part.slots <= slots_);
  bytes_ -= part.bytes;
  slots_ -= part.slots;
  return Charge(ledger_, account_, part);
}

void Charge::Release() {
  if (ledger_ == nullptr) return;
  ledger_->Give(*account_, {bytes_, slots_});
  ledger_ = nullptr;
}

// --- Ledger ---

Ledger::Ledger(Limits limits, std::shared_ptr<const Clock> clock)
    : limits_(limits), clock_(std::move(clock)) {}

Ledger::~Ledger() { Close(); }

Charge Ledger::TryReserve(Account& account, Need need) {
  MutexLock lock(mu_);
  if (closed_ || !line_.empty() || !FitsLocked(need)) return Charge();
  TakeLocked(account, need);
  return Charge(this, &account, need);
}

Need Ledger::ShortfallLocked(const Need& need) const {
  return {held_bytes_ + need.bytes -
              std::min(held_bytes_ + need.bytes, limits_.budget_bytes),
          slots_ + need.slots - std::min(slots_ + need.slots, limits_.max_slots)};
}

Result<Charge> Ledger::Reserve(Account& account, Need need,
                               Clock::Duration deadline,
                               const Reclaimer& reclaim) {
  MutexLock lock(mu_);
  if (need.bytes > limits_.budget_bytes || need.slots > limits_.max_slots) {
    return Refusal(account, need, /*waited=*/false);
  }
  // Free what the pool can spare, then try again; whatever is freed while
  // others wait goes to them first (GrantLocked), never past the line.
  for (int round = 0; !closed_; ++round) {
    if (line_.empty() && FitsLocked(need)) {
      TakeLocked(account, need);
      return Charge(this, &account, need);
    }
    if (!reclaim || round == kReclaimRounds) break;
    Need shortfall = ShortfallLocked(need);
    lock.Unlock();
    bool freed = reclaim(shortfall);
    lock.Lock();
    if (!freed) break;
    ++reclaims_;
  }
  if (closed_) {
    return Status(ErrorCode::kShutdown, "pool is shutting down");
  }
  if (line_.empty() && FitsLocked(need)) {
    TakeLocked(account, need);
    return Charge(this, &account, need);
  }

  Waiter waiter{&account, need, false, {}};
  line_.push_back(&waiter);
  waiting_.store(static_cast<uint32_t>(line_.size()));
  ++waits_;
  auto woken = [&]() NO_THREAD_SAFETY_ANALYSIS {
    return waiter.granted || closed_;
  };
  // Reclaim once more now that we are in line: a holding that went idle
  // after our last reclaim, but before whoever idled it could see us
  // (waiting() > 0), is freed now. Then again every kReclaimRetry, for the
  // shortfall as it stands. What a reclaim frees is granted in line order.
  for (Need ask = need;; ask = ShortfallLocked(need)) {
    if (reclaim) {
      lock.Unlock();
      reclaim(ask);
      lock.Lock();
    }
    Clock::Duration until =
        reclaim ? std::min(deadline, Clock::SaturatingAdd(clock_->Now(), kReclaimRetry))
                : deadline;
    if (waiter.cv.WaitUntil(lock, *clock_, until, woken)) break;
    if (!reclaim || clock_->Now() >= deadline) break;
  }
  // GrantLocked took the capacity for us before waking us.
  if (waiter.granted) return Charge(this, &account, need);
  line_.erase(std::find(line_.begin(), line_.end(), &waiter));
  waiting_.store(static_cast<uint32_t>(line_.size()));
  // We may have been the head holding up smaller needs behind us.
  GrantLocked();
  if (closed_) return Status(ErrorCode::kShutdown, "pool is shutting down");
  ++wait_timeouts_;
  return Refusal(account, need, /*waited=*/true);
}

void Ledger::Close() {
  MutexLock lock(mu_);
  closed_ = true;
  for (Waiter* w : line_) w->cv.NotifyOne();
}

Ledger::Totals Ledger::totals() const {
  MutexLock lock(mu_);
  Totals t;
  t.budget_bytes = limits_.budget_bytes;
  t.held_bytes = held_bytes_;
  t.peak_bytes = peak_bytes_;
  t.max_slots = limits_.max_slots;
  t.slots = slots_;
  t.peak_slots = peak_slots_;
  t.waiting = static_cast<uint32_t>(line_.size());
  t.waits = waits_;
  t.wait_timeouts = wait_timeouts_;
  t.reclaims = reclaims_;
  t.violations = violations_;
  return t;
}

bool Ledger::FitsLocked(Need need) const {
  return need.bytes <= limits_.budget_bytes - held_bytes_ &&
         need.slots <= limits_.max_slots - slots_;
}

void Ledger::TakeLocked(Account& account, Need need) {
  // Every caller checked FitsLocked first; count it if one did not.
  if (!FitsLocked(need)) ++violations_;
  held_bytes_ += need.bytes;
  slots_ += need.slots;
  peak_bytes_ = std::max(peak_bytes_, held_bytes_);
  peak_slots_ = std::max(peak_slots_, slots_);
  held_mirror_.store(held_bytes_, std::memory_order_relaxed);
  account.bytes_.fetch_add(need.bytes, std::memory_order_relaxed);
  account.slots_.fetch_add(need.slots, std::memory_order_relaxed);
}

void Ledger::GiveBackLocked(Account& account, Need need) {
  if (need.bytes > held_bytes_ || need.slots > slots_) ++violations_;
  held_bytes_ -= std::min(need.bytes, held_bytes_);
  slots_ -= std::min(need.slots, slots_);
  held_mirror_.store(held_bytes_, std::memory_order_relaxed);
  account.bytes_.fetch_sub(need.bytes, std::memory_order_relaxed);
  account.slots_.fetch_sub(need.slots, std::memory_order_relaxed);
}

void Ledger::GrantLocked() {
  while (!line_.empty() && FitsLocked(line_.front()->need)) {
    Waiter* w = line_.front();
    line_.pop_front();
    TakeLocked(*w->account, w->need);
    w->granted = true;
    w->cv.NotifyOne();
  }
  waiting_.store(static_cast<uint32_t>(line_.size()));
}

bool Ledger::Grow(Account& account, uint64_t bytes) {
  MutexLock lock(mu_);
  if (!FitsLocked({bytes, 0})) return false;
  TakeLocked(account, {bytes, 0});
  return true;
}

void Ledger::Give(Account& account, Need need) {
  MutexLock lock(mu_);
  GiveBackLocked(account, need);
  GrantLocked();
}

Status Ledger::Refusal(const Account& account, Need need, bool waited) const {
  std::string who = "module '" + account.name() + "': ";
  std::string after = waited ? " (after waiting in line)" : "";
  if (waited && !line_.empty() && FitsLocked(need)) {
    // Room for this need now, but the line goes first: name what its head
    // waits for.
    const Need head = line_.front()->need;
    const bool head_wants_bytes = head.bytes > limits_.budget_bytes - held_bytes_;
    return Status(
        head_wants_bytes ? ErrorCode::kMemoryLimit : ErrorCode::kPoolExhausted,
        who + "its " + std::to_string(need.bytes) +
            " bytes would fit now, but the line ahead of it (" +
            std::to_string(line_.size()) + " waiting) goes first, its head waiting for " +
            (head_wants_bytes
                 ? std::to_string(head.bytes) + " bytes of the " +
                       std::to_string(limits_.budget_bytes - held_bytes_) +
                       " free"
                 : std::string("an instance slot (max_instances ") +
                       std::to_string(limits_.max_slots) + ")") +
            after);
  }
  if (need.bytes > limits_.budget_bytes - held_bytes_) {
    if (need.bytes > limits_.budget_bytes) {
      return Status(ErrorCode::kMemoryLimit,
                    who + "needs " + std::to_string(need.bytes) + " bytes (" +
                        Mib(need.bytes) + "), more than the whole budget of " +
                        std::to_string(limits_.budget_bytes) + " bytes");
    }
    return Status(ErrorCode::kMemoryLimit,
                  who + "needs " + std::to_string(need.bytes) + " bytes; the " +
                      "budget of " + std::to_string(limits_.budget_bytes) +
                      " bytes (" + Mib(limits_.budget_bytes) + ") has " +
                      std::to_string(limits_.budget_bytes - held_bytes_) +
                      " free" + after);
  }
  return Status(ErrorCode::kPoolExhausted,
                who + "no instance slot free: " + std::to_string(slots_) +
                    " of max_instances " + std::to_string(limits_.max_slots) +
                    " in use" + after);
}

}  // namespace strata::memory
