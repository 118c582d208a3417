// libFuzzer: arbitrary input to the bundled reactors through the pool: the
// C extractor (reused, so one call's leftovers meet the next input) must
// return a JSON object or a clear error, and echo must return its input.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>

#include "strata/strata.h"

namespace {

using namespace std::chrono_literals;

strata::Pool& FuzzPool() {
  static strata::Pool* pool = [] {
    strata::EngineOptions engine_options;
    engine_options.pool_slots = 16;
    static auto engine = strata::Engine::Create(engine_options).value();
    strata::PoolOptions options;
    options.max_instances = 8;
    options.background = false;
    auto* pool = strata::Pool::Create(engine.get(), options).value().release();
    strata::ModuleOptions reuse;
    reuse.reuse = strata::ReuseMode::kReuse;
    reuse.min_hot = 1;
    reuse.call_timeout = 2000ms;
    const char* dir = std::getenv("STRATA_FUZZ_GUEST_DIR");
    std::string guests = dir ? dir : STRATA_FUZZ_GUEST_DIR;
    for (auto [name, file] : {std::pair{"extractor", "extractor.wasm"},
                              std::pair{"echo", "echo.wat"}}) {
      if (auto s = pool->AddModuleFile(name, guests + "/" + file, reuse); !s.ok()) {
        std::fprintf(stderr, "reactor_input_fuzzer: %s\n", s.ToString().c_str());
        std::abort();
      }
    }
    return pool;
  }();
  return *pool;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  strata::Pool& pool = FuzzPool();
  std::span<const uint8_t> input(data, size);
  {
    auto lease = pool.Acquire("extractor", 1s);
    if (!lease.ok()) std::abort();
    auto json = lease->Call("extract", input);
    if (json.ok()) {
      auto parsed = nlohmann::json::parse(json->begin(), json->end(), nullptr,
                                          /*allow_exceptions=*/false);
      if (!parsed.is_object()) {
        std::fprintf(stderr, "extractor returned no JSON object: %.*s\n",
                     static_cast<int>(json->size()),
                     reinterpret_cast<const char*>(json->data()));
        std::abort();
      }
    } else if (json.status().code() == strata::ErrorCode::kInternal) {
      std::abort();
    }
  }
  {
    auto lease = pool.Acquire("echo", 1s);
    if (!lease.ok()) std::abort();
    auto echoed = lease->Call("run", input);
    if (!echoed.ok() || !std::equal(echoed->begin(), echoed->end(),
                                    input.begin(), input.end())) {
      std::abort();
    }
  }
  return 0;
}
