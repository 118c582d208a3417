// The process-wide wasmtime engine as strata configures it.
//
// Engine owns one wasmtime::Engine (Cranelift, epoch interruption, the
// pooling allocator with copy-on-write memory images), the shared Linker with
// WASI preview 1, and the epoch ticker thread that enforces call deadlines.
// Modules compiled by one Engine are used only with that Engine.
//
// Thread contract: thread-safe after Create(); host functions must be defined
// through linker() before the first module is prepared.
//
// Example:
//   auto engine = strata::Engine::Create({}).value();
//   auto module = engine->CompileFile("extractor.wasm").value();
//   auto prepared = engine->Prepare(module).value();
//   auto instance = prepared->Instantiate({}).value();
//   auto json = instance->Call("extract", input, {});
#ifndef STRATA_ENGINE_H_
#define STRATA_ENGINE_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "strata/faults.h"
#include "strata/module.h"
#include "strata/status.h"

namespace wasmtime {
class Engine;
class Linker;
}  // namespace wasmtime

namespace strata {

class WasiPoll;

enum class OptLevel { kNone, kSpeed, kSpeedAndSize };

struct EngineOptions {
  OptLevel opt_level = OptLevel::kSpeed;
  bool parallel_compilation = true;
  // The pooling allocator reserves `pool_slots` instance/memory slots up
  // front, so instantiation is a few page-table updates instead of mmap
  // calls. Create() falls back to on-demand allocation (and says so in
  // pooling_fallback_reason()) when the address space cannot be reserved.
  bool pooling_allocator = true;
  uint32_t pool_slots = 1000;
  // Largest linear memory a pooled instance may reach; also the reservation
  // per slot.
  uint64_t pool_max_memory_bytes = uint64_t{4} << 30;
  // Freed slots that keep a module's memory image mapped, so that module's
  // next instance skips the mmap (wasmtime's "warm slots").
  uint32_t pool_max_unused_warm_slots = 100;
  // Bytes of each freed linear memory that are zeroed with memset and kept
  // resident instead of returned to the kernel with madvise.
  uint64_t pool_keep_resident_bytes = 0;
  // Native stack a guest may use, on the thread that calls it (wasmtime's
  // default); past it the guest traps with "call stack exhausted". Every
  // thread that runs guests must have this much stack to spare. A guest's
  // own stack in linear memory should be larger, so that runaway recursion
  // ends here, clearly, first (guests/readability/README.md).
  size_t max_wasm_stack_bytes = size_t{512} << 10;
  // Granularity of call deadlines: the ticker advances the epoch this often.
  std::chrono::microseconds epoch_tick{1000};
  // Asked before each host fault point (strata/faults.h); none by default.
  std::shared_ptr<FaultInjector> faults;
};

// A function the host provides to guests. Values are passed as int64_t
// (an i32 in its low 32 bits).
enum class ValueType { kI32, kI64 };
struct HostFunction {
  std::vector<ValueType> params, results;
  // Reads `args`, writes `results`. A non-OK Status traps the calling guest
  // with its message; so does an exception, which never reaches the engine
  // (unwinding through wasm frames would abort the process).
  std::function<Status(std::span<const int64_t> args,
                       std::span<int64_t> results)>
      callback;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Create(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Compiles `bytes` (binary or text format; a module or a component) with
  // Cranelift.
  Result<std::shared_ptr<const Module>> Compile(std::string name,
                                                std::span<const uint8_t> bytes);
  // Reads and compiles a file; the module's name is the file's stem.
  Result<std::shared_ptr<const Module>> CompileFile(
      const std::filesystem::path& path);
  // Rebuilds a module from Module::Serialize() output. The bytes must come
  // from a trusted source (ModuleCache verifies them first).
  Result<std::shared_ptr<const Module>> Deserialize(
      std::string name, std::string source_hash,
      std::span<const uint8_t> artifact);
  // The same from a file that starts with the artifact, which wasmtime
  // maps instead of copying: the module's code and memory images are then
  // the file's pages (ModuleCache verifies the file first).
  Result<std::shared_ptr<const Module>> DeserializeFile(
      std::string name, std::string source_hash,
      const std::filesystem::path& path);
  // Links a module against the shared Linker (WASI + host functions).
  Result<std::shared_ptr<const PreparedModule>> Prepare(
      std::shared_ptr<const Module> module);

  // Identifies everything that makes compiled code incompatible: wasmtime's
  // version, the target and these options. Keys the on-disk cache.
  const std::string& fingerprint() const { return fingerprint_; }
  const EngineOptions& options() const { return options_; }
  bool pooling_enabled() const { return pooling_enabled_; }
  const std::string& pooling_fallback_reason() const {
    return pooling_fallback_reason_;
  }
  // Epoch ticks that cover `timeout` (at least one; saturates for huge
  // timeouts instead of overflowing).
  uint64_t TicksFor(std::chrono::milliseconds timeout) const;

  // Makes `module`.`name` importable by every module prepared after this
  // call (see the thread contract).
  Status DefineHostFunction(std::string_view module, std::string_view name,
                            HostFunction function);

  // The injected fault for `point`, or OkStatus() (no injector, or it let
  // the operation run).
  Status CheckFault(FaultPoint point, std::string_view module) const;

  wasmtime::Engine& raw() { return *engine_; }
  // For defining host functions with wasmtime's own API; see the thread
  // contract above. A callback must not let an exception escape.
  wasmtime::Linker& linker() { return *linker_; }

 private:
  Result<std::shared_ptr<const Module>> CompileComponent(
      std::string name, std::span<const uint8_t> bytes);
  // A module or component from whichever the artifact holds.
  template <typename AsModule, typename AsComponent>
  Result<std::shared_ptr<const Module>> Deserialized(std::string name,
                                                     std::string source_hash,
                                                     AsModule as_module,
                                                     AsComponent as_component);
  Result<std::shared_ptr<const Module>> ComponentModule(
      std::string name, std::string hash,
      std::shared_ptr<wasmtime::component::Component> component,
      std::chrono::nanoseconds load_time);

  Engine(const EngineOptions& options, std::unique_ptr<wasmtime::Engine> e,
         bool pooling, std::string fallback_reason);
  void RunTicker();

  EngineOptions options_;
  std::unique_ptr<wasmtime::Engine> engine_;
  std::unique_ptr<wasmtime::Linker> linker_;
  std::unique_ptr<WasiPoll> wasi_poll_;  // poll_oneoff held to deadlines
  bool pooling_enabled_;
  std::string pooling_fallback_reason_;
  std::string fingerprint_;
  std::atomic<bool> stop_ticker_{false};
  std::thread ticker_;
};

// Reads a whole file; kNotFound or kIo naming the path.
Result<Bytes> ReadFile(const std::filesystem::path& path);

}  // namespace strata

#endif  // STRATA_ENGINE_H_
