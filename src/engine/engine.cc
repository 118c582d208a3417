#include "strata/engine.h"

#include <sys/mman.h>

#include <fstream>
#include <iterator>
#include <wasmtime.h>
#include <wasmtime.hh>

#include "engine/component.h"
#include "engine/module_impl.h"
#include "engine/wasi_poll.h"
#include "internal/sha256.h"

namespace strata {
namespace {

// Address space wasmtime reserves per pooled memory slot: the larger of the
// default 4 GiB reservation and the slot's maximum, plus the guard region.
constexpr uint64_t kDefaultReservation = uint64_t{4} << 30;
constexpr uint64_t kGuardBytes = uint64_t{32} << 20;

uint64_t SlotStride(const EngineOptions& o) {
  return std::max(kDefaultReservation, o.pool_max_memory_bytes) + kGuardBytes;
}

// wasmtime aborts the process if it cannot reserve the pool, so reserve the
// same amount of address space here first (PROT_NONE costs no memory).
bool CanReserve(uint64_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return false;
  munmap(p, bytes);
  return true;
}

// The target compiled code runs on; part of the cache fingerprint.
constexpr const char* kHostTarget =
#if defined(__x86_64__)
    "x86_64"
#elif defined(__aarch64__)
    "aarch64"
#elif defined(__riscv) && __riscv_xlen == 64
    "riscv64"
#elif defined(__s390x__)
    "s390x"
#else
    "unknown-arch"
#endif
#if defined(__linux__)
    "-linux";
#elif defined(__APPLE__)
    "-macos";
#else
    "-unknown-os";
#endif

wasmtime::OptLevel ToWasmtime(OptLevel level) {
  switch (level) {
    case OptLevel::kNone: return wasmtime::OptLevel::None;
    case OptLevel::kSpeed: return wasmtime::OptLevel::Speed;
    case OptLevel::kSpeedAndSize: return wasmtime::OptLevel::SpeedAndSize;
  }
  return wasmtime::OptLevel::Speed;
}

wasmtime::Config MakeConfig(const EngineOptions& o, uint32_t pool_slots) {
  wasmtime::Config config;
  config.strategy(wasmtime::Strategy::Cranelift);
  config.cranelift_opt_level(ToWasmtime(o.opt_level));
  config.parallel_compilation(o.parallel_compilation);
  config.epoch_interruption(true);
  config.max_wasm_stack(o.max_wasm_stack_bytes);
  config.memory_init_cow(true);
  config.wasm_component_model(true);
  if (pool_slots > 0) {
    wasmtime::PoolAllocationConfig pool;
    // Twice the slots: a module that polls gets a shim instance beside its
    // own (engine/wasi_poll.h); core instances hold no memory or tables.
    pool.total_core_instances(2 * pool_slots);
    pool.total_memories(pool_slots);
    pool.total_tables(pool_slots);
    pool.max_memory_size(o.pool_max_memory_bytes);
    pool.max_unused_warm_slots(o.pool_max_unused_warm_slots);
    pool.linear_memory_keep_resident(o.pool_keep_resident_bytes);
    // A component's instance holds several core instances (its module, the
    // WASI adapter, shims): each counts against total_core_instances.
    pool.total_component_instances(pool_slots);
    pool.max_core_instances_per_component(32);
    pool.max_memories_per_component(32);
    pool.max_tables_per_component(32);
    // A wasi:http proxy runs async, on a fiber stack from the pool.
    pool.total_stacks(pool_slots);
    config.pooling_allocation_strategy(pool);
  }
  return config;
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  if (options.epoch_tick.count() <= 0) {
    return Status(ErrorCode::kInvalidArgument,
                  "engine: epoch_tick must be positive, got " +
                      std::to_string(options.epoch_tick.count()) + " us");
  }
  uint32_t slots = options.pooling_allocator ? options.pool_slots : 0;
  std::string fallback;
  // Halve the pool until its reservation fits (a small ulimit -v, a 47-bit
  // address space shared with other pools), then give up on pooling.
  while (slots > 0 && !CanReserve(slots * SlotStride(options))) {
    fallback = "could not reserve " + std::to_string(options.pool_slots) +
               " pooled slots of " +
               std::to_string(SlotStride(options) >> 20) + " MiB";
    slots = slots >= 32 ? slots / 2 : 0;
  }
  if (slots > 0 && !fallback.empty()) {
    fallback += "; using " + std::to_string(slots);
  }
  auto raw = std::make_unique<wasmtime::Engine>(MakeConfig(options, slots));
  EngineOptions effective = options;
  effective.pool_slots = slots;
  std::unique_ptr<Engine> engine(
      new Engine(effective, std::move(raw), slots > 0, std::move(fallback)));
  auto poll = WasiPoll::Install(*engine->engine_, *engine->linker_);
  if (!poll.ok()) return poll.status();
  engine->wasi_poll_ = std::move(*poll);
  return engine;
}

Engine::Engine(const EngineOptions& options,
               std::unique_ptr<wasmtime::Engine> engine, bool pooling,
               std::string fallback_reason)
    : options_(options),
      engine_(std::move(engine)),
      linker_(std::make_unique<wasmtime::Linker>(*engine_)),
      pooling_enabled_(pooling),
      pooling_fallback_reason_(std::move(fallback_reason)) {
  linker_->define_wasi().unwrap();
  // Compiled code depends on the engine's version and codegen settings, not
  // on pool sizes; those are what the fingerprint names.
  fingerprint_ = std::string("wasmtime-") + WASMTIME_VERSION + "/" +
                 kHostTarget + "/opt" +
                 std::to_string(static_cast<int>(options_.opt_level)) +
                 "/epoch/pooling" + (pooling ? "1" : "0") +
                 // Component-model async changes what a compiled artifact
                 // holds (wasmtime checks it when deserializing).
                 "/component-model-async";
  ticker_ = std::thread([this] { RunTicker(); });
}

Engine::~Engine() {
  stop_ticker_.store(true, std::memory_order_relaxed);
  ticker_.join();
}

void Engine::RunTicker() {
  // A sleeping loop: the epoch only needs to advance roughly once per tick,
  // and a late tick merely lets a runaway guest run one tick longer.
  while (!stop_ticker_.load(std::memory_order_relaxed)) {
    std::this_thread::sleep_for(options_.epoch_tick);
    engine_->increment_epoch();
  }
}

uint64_t Engine::TicksFor(std::chrono::milliseconds timeout) const {
  // Past this many ticks a deadline is never reached (2^62 ms is 146
  // million years), and the epoch arithmetic stays far from overflow. The
  // timeout stays in milliseconds: converting milliseconds::max() to a finer
  // unit would overflow.
  constexpr uint64_t kMaxTicks = uint64_t{1} << 62;
  auto tick_us = static_cast<uint64_t>(options_.epoch_tick.count());
  auto ms = static_cast<uint64_t>(std::max<int64_t>(timeout.count(), 0));
  if (ms > kMaxTicks / 1000) return kMaxTicks;
  uint64_t us = ms * 1000;
  uint64_t ticks = us / tick_us + (us % tick_us != 0);
  // One more tick because the current one may be about to end.
  return std::min(std::max<uint64_t>(ticks, 1) + 1, kMaxTicks);
}

Status Engine::CheckFault(FaultPoint point, std::string_view module) const {
  if (!options_.faults) return OkStatus();
  return options_.faults->Check(point, module);
}

Status Engine::DefineHostFunction(std::string_view module,
                                  std::string_view name,
                                  HostFunction function) {
  auto to_wasmtime = [](const std::vector<ValueType>& types) {
    std::vector<wasmtime::ValType> out;
    for (ValueType t : types) {
      out.push_back(t == ValueType::kI32 ? wasmtime::ValType::i32()
                                         : wasmtime::ValType::i64());
    }
    return out;
  };
  auto params = to_wasmtime(function.params);
  auto results = to_wasmtime(function.results);
  wasmtime::FuncType type = wasmtime::FuncType::from_iters(params, results);
  std::string label = std::string(module) + "." + std::string(name);
  auto callback = [label, function = std::move(function)](
                      wasmtime::Caller, wasmtime::Span<const wasmtime::Val> args,
                      wasmtime::Span<wasmtime::Val> results)
      -> wasmtime::Result<std::monostate, wasmtime::Trap> {
    std::vector<int64_t> in(args.size()), out(results.size());
    for (size_t i = 0; i < args.size(); ++i) {
      in[i] = args[i].kind() == wasmtime::ValKind::I32 ? args[i].i32()
                                                       : args[i].i64();
    }
    Status status;
    try {
      status = function.callback(in, out);
    } catch (const std::exception& e) {
      return wasmtime::Trap("host function '" + label + "' threw: " + e.what());
    } catch (...) {
      return wasmtime::Trap("host function '" + label + "' threw");
    }
    if (!status.ok()) {
      return wasmtime::Trap("host function '" + label + "' failed: " +
                            status.ToString());
    }
    for (size_t i = 0; i < results.size(); ++i) {
      results[i] = function.results[i] == ValueType::kI32
                       ? wasmtime::Val(static_cast<int32_t>(out[i]))
                       : wasmtime::Val(out[i]);
    }
    return std::monostate();
  };
  auto defined = linker_->func_new(module, name, type, std::move(callback));
  if (!defined) {
    return Status(ErrorCode::kInvalidArgument,
                  "engine: cannot define host function '" + label +
                      "': " + defined.err().message());
  }
  return OkStatus();
}

Result<std::shared_ptr<const Module>> Engine::Compile(
    std::string name, std::span<const uint8_t> bytes) {
  if (Status fault = CheckFault(FaultPoint::kCompile, name); !fault.ok()) {
    return Status(ErrorCode::kCompile, "module '" + name + "': " + fault.message());
  }
  if (IsComponentBytes(bytes)) return CompileComponent(std::move(name), bytes);
  auto start = std::chrono::steady_clock::now();
  auto compiled = CompileBytes(*engine_, bytes);
  if (!compiled) {
    return Status(ErrorCode::kCompile, "module '" + name + "': " +
                                           compiled.err().message());
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  auto raw = std::make_shared<wasmtime::Module>(std::move(compiled.ok()));
  std::string hash = internal::Sha256Hex(bytes);
  return std::shared_ptr<const Module>(std::make_shared<Module>(
      std::move(name), std::move(hash), DescribeModule(*raw), raw, elapsed));
}

Result<std::shared_ptr<const Module>> Engine::CompileComponent(
    std::string name, std::span<const uint8_t> bytes) {
  auto start = std::chrono::steady_clock::now();
  auto compiled = CompileComponentBytes(*engine_, bytes);
  if (!compiled) {
    return Status(ErrorCode::kCompile, "component '" + name + "': " +
                                           compiled.err().message());
  }
  auto raw = std::make_shared<wasmtime::component::Component>(
      std::move(compiled.ok()));
  return ComponentModule(std::move(name), internal::Sha256Hex(bytes),
                         std::move(raw), std::chrono::steady_clock::now() - start);
}

Result<std::shared_ptr<const Module>> Engine::ComponentModule(
    std::string name, std::string hash,
    std::shared_ptr<wasmtime::component::Component> component,
    std::chrono::nanoseconds load_time) {
  ModuleInfo info = DescribeComponent(*engine_, *component);
  uint64_t memory = ComponentInitialMemory(*component);
  return std::shared_ptr<const Module>(std::make_shared<Module>(
      std::move(name), std::move(hash), std::move(info), std::move(component),
      memory, load_time));
}

Result<std::shared_ptr<const Module>> Engine::CompileFile(
    const std::filesystem::path& path) {
  auto bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  return Compile(path.stem().string(), *bytes);
}

template <typename AsModule, typename AsComponent>
Result<std::shared_ptr<const Module>> Engine::Deserialized(
    std::string name, std::string source_hash, AsModule as_module,
    AsComponent as_component) {
  if (Status fault = CheckFault(FaultPoint::kDeserialize, name); !fault.ok()) {
    return Status(ErrorCode::kCompile,
                  "module '" + name + "': cannot deserialize: " + fault.message());
  }
  auto start = std::chrono::steady_clock::now();
  auto loaded = as_module();
  if (!loaded) {
    // Modules and components share the cache; the artifact says which.
    if (auto component = as_component()) {
      auto raw = std::make_shared<wasmtime::component::Component>(
          std::move(component.ok()));
      return ComponentModule(std::move(name), std::move(source_hash), std::move(raw),
                             std::chrono::steady_clock::now() - start);
    }
    return Status(ErrorCode::kCompile, "module '" + name +
                                           "': cannot deserialize: " +
                                           loaded.err().message());
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  auto raw = std::make_shared<wasmtime::Module>(std::move(loaded.ok()));
  return std::shared_ptr<const Module>(
      std::make_shared<Module>(std::move(name), std::move(source_hash),
                               DescribeModule(*raw), raw, elapsed));
}

Result<std::shared_ptr<const Module>> Engine::Deserialize(
    std::string name, std::string source_hash,
    std::span<const uint8_t> artifact) {
  wasmtime::Span<uint8_t> span(const_cast<uint8_t*>(artifact.data()),
                               artifact.size());
  return Deserialized(std::move(name), std::move(source_hash), [&] {
    return wasmtime::Module::deserialize(*engine_, span);
  }, [&] { return wasmtime::component::Component::deserialize(*engine_, span); });
}

Result<std::shared_ptr<const Module>> Engine::DeserializeFile(
    std::string name, std::string source_hash,
    const std::filesystem::path& path) {
  return Deserialized(std::move(name), std::move(source_hash), [&] {
    return wasmtime::Module::deserialize_file(*engine_, path.string());
  }, [&] { return wasmtime::component::Component::deserialize_file(*engine_, path.string()); });
}

Result<std::shared_ptr<const PreparedModule>> Engine::Prepare(
    std::shared_ptr<const Module> module) {
  auto impl = LinkModule(*linker_, *module);
  if (!impl.ok()) return impl.status();
  return std::shared_ptr<const PreparedModule>(std::make_shared<PreparedModule>(
      this, std::move(module), std::move(*impl)));
}

const char* FaultPointName(FaultPoint point) {
  switch (point) {
    case FaultPoint::kCompile: return "compile";
    case FaultPoint::kDeserialize: return "deserialize";
    case FaultPoint::kInstantiate: return "instantiate";
    case FaultPoint::kCacheRead: return "cache_read";
    case FaultPoint::kCacheWrite: return "cache_write";
  }
  return "unknown";
}

Result<Bytes> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(std::filesystem::exists(path) ? ErrorCode::kIo
                                                : ErrorCode::kNotFound,
                  "cannot read '" + path.string() + "'");
  }
  // Sized and read in one call: iterating byte by byte was most of a
  // cold-disk load of a large entry (a heavy-init snapshot's fell from 14 ms
  // to 6 ms in `strata bench tiers` with this).
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size < 0) {
    return Status(ErrorCode::kIo, "cannot size '" + path.string() + "'");
  }
  Bytes bytes(static_cast<size_t>(size));
  if (!in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    return Status(ErrorCode::kIo, "cannot read '" + path.string() + "'");
  }
  return bytes;
}

}  // namespace strata
