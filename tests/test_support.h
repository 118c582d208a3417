// Shared helpers for tests: one engine per test binary (a pooled engine
// reserves address space for all its slots) and paths of the built guests.
#ifndef STRATA_TESTS_TEST_SUPPORT_H_
#define STRATA_TESTS_TEST_SUPPORT_H_

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

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

}  // namespace strata::testing

#endif  // STRATA_TESTS_TEST_SUPPORT_H_
