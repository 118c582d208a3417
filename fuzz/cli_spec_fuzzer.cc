// libFuzzer: the specs the CLI parses from its options: `--dir
// HOST[::GUEST][:ro|:rw]`, `--env KEY=VALUE`, `--budget` (bytes, K/M/G or a
// percentage) and `--workload` names. Each must give a value or a clear
// kInvalidArgument, never crash; a parsed spec must be self-consistent.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "replay/executor.h"
#include "replay/workload.h"
#include "strata/wasi.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto expect_clear = [](const strata::Status& s) {
    if (!s.ok() && s.code() != strata::ErrorCode::kInvalidArgument) {
      std::fprintf(stderr, "unexpected error: %s\n", s.ToString().c_str());
      std::abort();
    }
  };
  auto preopen = strata::ParsePreopen(text);
  expect_clear(preopen.status());
  if (preopen.ok() && (preopen->host.empty() || preopen->guest.empty())) {
    std::abort();
  }
  auto env = strata::ParseEnvAssignment(text);
  expect_clear(env.status());
  if (env.ok() && (env->first.empty() || env->first.find('=') != std::string::npos)) {
    std::abort();
  }
  auto budget = strata::bench::ParseBudget(text, uint64_t{1} << 30);
  expect_clear(budget.status());
  if (budget.ok() && *budget == 0) std::abort();
  // Workload names: parsing only (no guest directory, so any accepted spec
  // stops at loading its modules with kNotFound).
  strata::bench::WorkloadParams params;
  params.duration_s = 0.001;
  params.rate = 1;
  params.guest_dir = "/nonexistent";
  params.traces_dir = "/nonexistent";
  params.pages_dir = "/nonexistent";
  auto workload = strata::bench::MakeWorkload(text, params);
  if (!workload.ok() && workload.status().code() != strata::ErrorCode::kInvalidArgument &&
      workload.status().code() != strata::ErrorCode::kNotFound &&
      workload.status().code() != strata::ErrorCode::kIo) {
    std::abort();
  }
  return 0;
}
