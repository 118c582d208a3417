// Engine internals shared by engine.cc, module.cc and instance.cc: the parts
// of a module and an instance that hold wasmtime objects.
#ifndef STRATA_ENGINE_MODULE_IMPL_H_
#define STRATA_ENGINE_MODULE_IMPL_H_

#include <filesystem>
#include <memory>
#include <optional>
#include <mutex>
#include <span>
#include <string>
#include <wasmtime.hh>

#include <map>

#include "engine/component.h"
#include "strata/instance.h"
#include "strata/module.h"
#include "strata/status.h"

namespace strata {

// Compiles the binary format, or the text format when the bytes do not start
// with the "\0asm" magic.
wasmtime::Result<wasmtime::Module> CompileBytes(wasmtime::Engine& engine,
                                                std::span<const uint8_t> bytes);

// Imports, exports, memories and calling convention of a compiled module.
ModuleInfo DescribeModule(const wasmtime::Module& module);

struct PreparedModuleImpl {
  struct Deleter {
    void operator()(wasmtime_instance_pre_t* p) const {
      wasmtime_instance_pre_delete(p);
    }
  };
  std::unique_ptr<wasmtime_instance_pre_t, Deleter> pre;  // a module's
  ComponentPre component_pre;                              // a component's
};

// wasmtime's InstancePre for `module`, or kLink naming the missing import.
Result<std::unique_ptr<PreparedModuleImpl>> LinkModule(
    const wasmtime::Linker& linker, const Module& module);

// Bytes a guest writes to a WASI stream, up to a cap. Shared between the
// WASI context (which writes) and the instance (which reads).
struct CapturedStream {
  std::mutex mu;
  Bytes data;
  size_t cap = 0;
  uint64_t dropped = 0;  // bytes written past the cap
};

struct InstanceState {
  const Engine* engine = nullptr;
  std::shared_ptr<const Module> module;  // keeps the code alive
  wasmtime::Store store;
  std::optional<wasmtime::Instance> instance;  // set once instantiated
  wasmtime_instance_t raw_instance{};  // the same, for C functions
  std::optional<wasmtime::Memory> memory;      // the exported "memory"
  // A component's instance, its InstancePre (wasi:http needs it per
  // request) and the functions found so far, by export name.
  std::optional<wasmtime::component::Instance> component;
  ComponentPre component_pre;
  std::map<std::string, wasmtime::component::Func, std::less<>> component_funcs;
  std::shared_ptr<CapturedStream> log;  // stderr+stdout outside commands
  uint64_t calls = 0;
  uint64_t initial_memory = 0;
  uint64_t max_memory = 0;  // the store limiter's linear memory cap
  bool poisoned = false;
  // The current call's deadline on the host's clock (SetDeadline), for
  // waits in the host that no epoch check ends (engine/wasi_poll.h).
  std::chrono::steady_clock::time_point deadline =
      std::chrono::steady_clock::time_point::max();
  // A wait in the host refused because it would end past the deadline.
  std::optional<std::chrono::nanoseconds> refused_wait;
  // When the guest's WASI monotonic clock read zero: just before its WASI
  // configuration, which starts that clock, was made (CapturingWasiConfig).
  std::chrono::steady_clock::time_point wasi_clock_origin;
  std::optional<wasmtime::Func> wasi_poll;  // wasmtime's poll_oneoff, once used

  // The store's data points back here, so host functions find the state.
  explicit InstanceState(wasmtime::Engine& engine) : store(engine) {
    store.context().set_data(this);
  }
  InstanceState(const InstanceState&) = delete;
  InstanceState& operator=(const InstanceState&) = delete;
  wasmtime::Store::Context cx() { return store.context(); }
};

// A WASI configuration for `s` whose stdout and stderr go to `out` and
// `err` (the same stream may be given twice); no args, env, stdin, files or
// network. Its monotonic clock starts now, which `s` notes.
wasmtime::WasiConfig CapturingWasiConfig(InstanceState& s,
                                         std::shared_ptr<CapturedStream> out,
                                         std::shared_ptr<CapturedStream> err);

// How errors name the instance's module: "module 'x'" or "component 'x'".
std::string Who(const InstanceState& s);

// Sets the store's epoch deadline `timeout` from now (0: none), and the
// same deadline on the host's clock.
void SetDeadline(InstanceState& s, std::chrono::milliseconds timeout);

// wasmtime's trap message with the cause first and only the innermost
// frames of the backtrace.
std::string TrapMessage(const std::string& message);
// Start-up (a start function, a component's instantiation) ran past
// init_timeout.
Status StartupDeadline(const InstanceState& s, std::chrono::milliseconds timeout);
// A call (`what`: the export, "_start", "wasi:http handle") ran past its
// deadline.
Status CallDeadline(const InstanceState& s, std::string_view what,
                    std::chrono::milliseconds timeout);

// Captured output, at most `cap` bytes kept.
std::shared_ptr<CapturedStream> NewStream(size_t cap);

struct InstanceAccess {
  static InstanceState& Of(Instance& instance) { return *instance.state_; }
};

}  // namespace strata

#endif  // STRATA_ENGINE_MODULE_IMPL_H_
