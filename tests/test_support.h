// Shared helpers for tests: one engine per test binary (a pooled engine
// reserves address space for all its slots) and paths of the built guests.
#ifndef STRATA_TESTS_TEST_SUPPORT_H_
#define STRATA_TESTS_TEST_SUPPORT_H_

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "strata/strata.h"

namespace strata::testing {

inline std::filesystem::path GuestPath(const std::string& file) {
  return std::filesystem::path(STRATA_TEST_GUEST_DIR) / file;
}

inline std::filesystem::path DataPath(const std::string& rel) {
  return std::filesystem::path(STRATA_TEST_DATA_DIR) / rel;
}

inline Engine& TestEngine() {
  static Engine* engine = [] {
    EngineOptions options;
    options.pool_slots = 128;
#if defined(__SANITIZE_THREAD__)
    // Cranelift's worker threads synchronise through Rust locks that TSan
    // cannot see (tests/tsan.supp); compiling on the caller's thread keeps
    // TSan's reports to code it can follow.
    options.parallel_compilation = false;
#endif
    return Engine::Create(options).value().release();
  }();
  return *engine;
}

inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string ToString(const Bytes& b) {
  return std::string(b.begin(), b.end());
}

// Compiles, links and instantiates a bundled guest; fails the test on error.
inline std::unique_ptr<Instance> NewInstance(const std::string& file,
                                             const InstanceLimits& limits = {}) {
  auto module = TestEngine().CompileFile(GuestPath(file));
  EXPECT_TRUE(module.ok()) << module.status();
  if (!module.ok()) return nullptr;
  auto prepared = TestEngine().Prepare(*module);
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  if (!prepared.ok()) return nullptr;
  auto instance = (*prepared)->Instantiate(limits);
  EXPECT_TRUE(instance.ok()) << instance.status();
  if (!instance.ok()) return nullptr;
  return std::move(*instance);
}

// Polls `done` until it holds or 10 s pass (only spent when a test fails).
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// Records every event; tests wait for the one they expect.
class Recorder : public EventListener {
 public:
  void OnEvent(const Event& event) override {
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(event);
    cv_.notify_all();
  }
  // The first event of `kind` (for `module`, if given), waiting up to 10 s:
  // long enough for a loaded machine, and only spent when the test fails.
  std::optional<Event> WaitFor(EventKind kind, const std::string& module = "") {
    std::unique_lock<std::mutex> lock(mu_);
    std::optional<Event> found;
    cv_.wait_for(lock, std::chrono::seconds(10), [&] {
      for (const Event& e : events_) {
        if (e.kind == kind && (module.empty() || e.module == module)) {
          found = e;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  size_t Count(EventKind kind) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const Event& e : events_) n += e.kind == kind;
    return n;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;
};

// With no lease out and nothing being built: the ledger holds exactly what
// the pool's tiers hold (every module's account equal to its holdings), each
// slot is a live instance, nothing was ever above a limit, and the served
// counters add up.
inline void ExpectBalanced(Pool& pool) {
  PoolMetrics m = pool.Metrics();
  uint64_t accounts = 0;
  uint32_t slots = 0, live = 0;
  for (const ModuleMetrics& mm : m.modules) {
    EXPECT_EQ(mm.in_use, 0u) << mm.name;
    EXPECT_EQ(mm.held_bytes, mm.holdings_bytes) << mm.name;
    accounts += mm.held_bytes;
    slots += mm.held_slots;
    live += mm.hot;
  }
  EXPECT_EQ(accounts, m.ledger.held_bytes);
  EXPECT_EQ(slots, m.ledger.slots);
  EXPECT_EQ(live, m.ledger.slots);
  EXPECT_LE(m.ledger.peak_bytes, m.ledger.budget_bytes);
  EXPECT_LE(m.ledger.peak_slots, m.ledger.max_slots);
  EXPECT_EQ(m.ledger.violations, 0u);
  // Two independent counts of what was served: the modules' counters and
  // the pool's per-tier latency histograms (no module was removed).
  for (int i = 0; i < kServedFromCount; ++i) {
    uint64_t by_modules = 0;
    for (const ModuleMetrics& mm : m.modules) by_modules += mm.served[i];
    EXPECT_EQ(by_modules, m.served[i]) << ServedFromName(ServedFrom(i));
  }
}

// Fails chosen fault points, and can hold one (a gate) until the test opens
// it, to make "an operation in flight" deterministic.
class ScriptedFaults : public FaultInjector {
 public:
  // Fails `point` for `module` ("" for any) with `status` from now on.
  void Fail(FaultPoint point, std::string module, Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_[{point, std::move(module)}] = std::move(status);
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    failures_.clear();
  }
  // The next `point` for `module` blocks until Open().
  void Gate(FaultPoint point, std::string module) {
    std::lock_guard<std::mutex> lock(mu_);
    gate_ = {point, std::move(module)};
    gated_ = false;
    open_ = false;
  }
  // Waits until an operation is held at the gate (10 s at most).
  bool WaitGated() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return gated_; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

  Status Check(FaultPoint point, std::string_view module) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (gate_ && gate_->first == point && gate_->second == module) {
      gated_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
      gate_.reset();
    }
    for (const auto& key : {std::make_pair(point, std::string(module)),
                            std::make_pair(point, std::string())}) {
      if (auto it = failures_.find(key); it != failures_.end()) return it->second;
    }
    return OkStatus();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::pair<FaultPoint, std::string>, Status> failures_;
  std::optional<std::pair<FaultPoint, std::string>> gate_;
  bool gated_ = false, open_ = false;
};

// An engine of the test's own (a pooled engine reserves address space for
// its slots, so keep `slots` small).
inline std::unique_ptr<Engine> MakeEngine(
    std::shared_ptr<FaultInjector> faults = nullptr, uint32_t slots = 64) {
  EngineOptions options;
  options.pool_slots = slots;
  options.faults = std::move(faults);
#if defined(__SANITIZE_THREAD__)
  options.parallel_compilation = false;
#endif
  auto engine = Engine::Create(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? std::move(*engine) : nullptr;
}

}  // namespace strata::testing

#endif  // STRATA_TESTS_TEST_SUPPORT_H_
