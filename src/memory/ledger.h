// The memory ledger: the one owner of the pool's capacity. Every instance
// slot and every byte the pool holds (live instances, compiled code) is a
// Charge in the ledger: reserved before the holding is made, committed at
// its measured size once it exists, released when it is dropped. What the
// ledger holds is never above its budget or its slot count.
//
// A reservation that does not fit asks a Reclaimer (the pool: free the least
// valuable idle holding) and retries; if it still does not fit it waits in
// one FIFO line, and each release hands its capacity to the oldest waiter it
// satisfies; at the deadline it fails, naming the account (module), the need
// and the limit.
//
// Thread contract: thread-safe. The ledger's lock is a leaf: no callback
// runs under it, so callers may hold their own locks while they call in
// (except around Reserve, which may call the Reclaimer and block).
//
// Example:
//   Ledger ledger({.budget_bytes = 64 << 20, .max_slots = 16}, clock);
//   Account account("extractor");
//   auto charge = ledger.Reserve(account, {.bytes = estimate, .slots = 1},
//                                deadline, reclaim);
//   if (!charge.ok()) return charge.status();
//   ... instantiate, measure ...
//   if (!charge->Commit(measured)) return ...;  // growth did not fit
#ifndef STRATA_MEMORY_LEDGER_H_
#define STRATA_MEMORY_LEDGER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "internal/mutex.h"
#include "internal/thread_annotations.h"
#include "strata/clock.h"
#include "strata/status.h"

namespace strata::memory {

// What a holding takes from the pool.
struct Need {
  uint64_t bytes = 0;
  uint32_t slots = 0;  // live instances (hot, leased or being built)
};

// One holder's share (a module's): what it holds now, for metrics and
// error messages. Written under the ledger's lock, read without it.
class Account {
 public:
  explicit Account(std::string name) : name_(std::move(name)) {}
  Account(const Account&) = delete;
  Account& operator=(const Account&) = delete;

  const std::string& name() const { return name_; }
  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  uint32_t slots() const { return slots_.load(std::memory_order_relaxed); }

 private:
  friend class Ledger;
  const std::string name_;
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint32_t> slots_{0};
};

class Ledger;

// A holding recorded in the ledger; released when destroyed. Move-only. The
// ledger and the account must outlive it.
class Charge {
 public:
  Charge() = default;
  Charge(Charge&& other) noexcept;
  Charge& operator=(Charge&& other) noexcept;
  ~Charge() { Release(); }

  bool held() const { return ledger_ != nullptr; }
  uint64_t bytes() const { return bytes_; }
  uint32_t slots() const { return slots_; }
  // Sets the bytes to a measured size. Shrinking always succeeds; growing
  // succeeds only if the growth fits the budget now, else the charge is
  // unchanged and false is returned (the caller drops what it measured).
  [[nodiscard]] bool Commit(uint64_t measured_bytes);
  // Takes over `other`'s bytes and slots, held for the same account of the
  // same ledger (a growth reserved separately), leaving `other` empty.
  void Absorb(Charge&& other);
  // Moves `part` (at most what this charge holds) into a charge of its own
  // for the same account: one reservation made for two holdings.
  Charge Split(Need part);
  // Gives everything back (idempotent).
  void Release();

 private:
  friend class Ledger;
  Charge(Ledger* ledger, Account* account, Need need)
      : ledger_(ledger),
        account_(account),
        bytes_(need.bytes),
        slots_(need.slots) {}

  Ledger* ledger_ = nullptr;
  Account* account_ = nullptr;
  uint64_t bytes_ = 0;
  uint32_t slots_ = 0;
};

class Ledger {
 public:
  struct Limits {
    uint64_t budget_bytes = 0;
    uint32_t max_slots = 0;
  };
  // Frees idle holdings worth at least `shortfall`; returns whether it freed
  // anything (the reservation is then retried). Called without the ledger's
  // lock held.
  using Reclaimer = std::function<bool(const Need& shortfall)>;

  Ledger(Limits limits, std::shared_ptr<const Clock> clock);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // A charge for `need` if it fits now and nobody is waiting (no barging
  // past the line); otherwise an empty charge. Never blocks.
  Charge TryReserve(Account& account, Need need) EXCLUDES(mu_);
  // TryReserve, else reclaim and retry, else wait in line until `deadline`
  // (on the ledger's clock), asking `reclaim` again every few milliseconds
  // while it waits. kMemoryLimit or kPoolExhausted name the
  // account, the need and the limit; kShutdown once Close() was called.
  Result<Charge> Reserve(Account& account, Need need, Clock::Duration deadline,
                         const Reclaimer& reclaim) EXCLUDES(mu_);

  // Fails every waiter with kShutdown, and every later Reserve.
  void Close() EXCLUDES(mu_);

  // Waiters in line now; a hint for callers deciding whether to keep an idle
  // holding (sequentially consistent: see ReturnInstance).
  uint32_t waiting() const { return waiting_.load(); }
  // Bytes held now, readable without the lock (for pressure checks).
  uint64_t held_bytes() const {
    return held_mirror_.load(std::memory_order_relaxed);
  }

  struct Totals {
    uint64_t budget_bytes = 0, held_bytes = 0, peak_bytes = 0;
    uint32_t max_slots = 0, slots = 0, peak_slots = 0;
    uint32_t waiting = 0;
    uint64_t waits = 0, wait_timeouts = 0, reclaims = 0;
    // Times a commit would have put the ledger above a limit; 0 unless the
    // ledger itself is broken. Tests assert it.
    uint64_t violations = 0;
  };
  Totals totals() const EXCLUDES(mu_);
  const Limits& limits() const { return limits_; }

 private:
  friend class Charge;
  struct Waiter {
    Account* account;
    Need need;
    bool granted = false;
    internal::CondVar cv;
  };

  bool FitsLocked(Need need) const REQUIRES(mu_);
  void TakeLocked(Account& account, Need need) REQUIRES(mu_);
  void GiveBackLocked(Account& account, Need need) REQUIRES(mu_);
  // Hands freed capacity to the oldest waiters it satisfies, in order.
  void GrantLocked() REQUIRES(mu_);
  // What `need` lacks beyond the free capacity, ignoring the line.
  Need ShortfallLocked(const Need& need) const REQUIRES(mu_);
  bool Grow(Account& account, uint64_t bytes) EXCLUDES(mu_);
  void Give(Account& account, Need need) EXCLUDES(mu_);
  Status Refusal(const Account& account, Need need, bool waited) const
      REQUIRES(mu_);

  const Limits limits_;
  const std::shared_ptr<const Clock> clock_;
  mutable internal::Mutex mu_;
  uint64_t held_bytes_ GUARDED_BY(mu_) = 0;
  uint32_t slots_ GUARDED_BY(mu_) = 0;
  uint64_t peak_bytes_ GUARDED_BY(mu_) = 0;
  uint32_t peak_slots_ GUARDED_BY(mu_) = 0;
  uint64_t waits_ GUARDED_BY(mu_) = 0;
  uint64_t wait_timeouts_ GUARDED_BY(mu_) = 0;
  uint64_t reclaims_ GUARDED_BY(mu_) = 0;
  uint64_t violations_ GUARDED_BY(mu_) = 0;
  bool closed_ GUARDED_BY(mu_) = false;
  std::deque<Waiter*> line_ GUARDED_BY(mu_);
  // line_.size() and held_bytes_, readable without the lock. waiting_ is
  // sequentially consistent: a returning instance reads it to decide
  // whether to yield its slot (see ReturnInstance).
  std::atomic<uint32_t> waiting_{0};
  std::atomic<uint64_t> held_mirror_{0};
};

}  // namespace strata::memory

#endif  // STRATA_MEMORY_LEDGER_H_
