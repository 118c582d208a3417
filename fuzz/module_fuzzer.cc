// libFuzzer: arbitrary bytes as a module, through the whole pool: register
// (compile and validate), acquire (instantiate, initialise), call every
// reactor entry or run a command, remove. Whatever the bytes, each step
// returns a value or a clear error, and once the module is gone the ledger
// holds nothing and was never above its limits.
#include <cstdio>
#include <cstdlib>

#include "strata/strata.h"

namespace {

using namespace std::chrono_literals;

strata::Pool& FuzzPool() {
  static strata::Pool* pool = [] {
    strata::EngineOptions engine_options;
    engine_options.pool_slots = 16;
    engine_options.opt_level = strata::OptLevel::kNone;  // compile fast
    static auto engine = strata::Engine::Create(engine_options).value();
    strata::PoolOptions options;
    options.budget_bytes = 64 << 20;
    options.max_instances = 8;
    options.background = false;
    return strata::Pool::Create(engine.get(), options).value().release();
  }();
  return *pool;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "module_fuzzer: invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  strata::Pool& pool = FuzzPool();
  strata::ModuleOptions options;
  options.call_timeout = 20ms;
  options.limits.max_memory_bytes = 16 << 20;
  options.limits.init_timeout = 20ms;
  options.max_output_bytes = 1 << 20;
  if (pool.AddModule("m", strata::Bytes(data, data + size), options).ok()) {
    if (auto lease = pool.Acquire("m", 0ms); lease.ok()) {
      const strata::ModuleInfo& info = lease->instance().module().info();
      if (info.convention == strata::CallingConvention::kCommand) {
        strata::CommandRequest request;
        request.max_stdout_bytes = request.max_stderr_bytes = 64 << 10;
        (void)lease->RunCommand(request);
      } else {
        const uint8_t input[] = "fuzz";
        for (const auto& e : info.exports) {
          if (!e.is_reactor_entry || lease->instance().poisoned()) continue;
          (void)lease->Call(e.name, input);
        }
      }
    }
    Check(pool.RemoveModule("m", 0ms).ok(), "RemoveModule with no lease out");
  }
  strata::PoolMetrics m = pool.Metrics();
  Check(m.used_bytes == 0 && m.ledger.slots == 0, "the ledger is empty again");
  Check(m.ledger.peak_bytes <= m.ledger.budget_bytes, "peak within budget");
  Check(m.ledger.violations == 0, "no violations");
  return 0;
}
