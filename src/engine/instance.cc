#include "strata/instance.h"
#include "strata/snapshot.h"

#include <cctype>
#include <cstring>
#include <sstream>

#include "engine/module_impl.h"
#include "engine/wasi_config.h"
#include "internal/residency.h"
#include "strata/engine.h"

namespace strata {
namespace {

// Large enough never to fire: a call without a timeout still needs a
// deadline because the engine has epoch interruption on.
constexpr uint64_t kNoDeadlineTicks = uint64_t{1} << 62;

// A reactor's allocator, as DescribeModule spells its type.
constexpr std::string_view kAllocType = "func (i32) -> (i32)";

// Core instances, tables and memories one component's store may hold.
constexpr int64_t kComponentCoreInstances = 32;

ptrdiff_t WriteCaptured(void* data, const unsigned char* buf, size_t len) {
  auto* stream = static_cast<std::shared_ptr<CapturedStream>*>(data)->get();
  std::lock_guard<std::mutex> lock(stream->mu);
  size_t room = stream->cap - std::min(stream->cap, stream->data.size());
  size_t take = std::min(room, len);
  stream->data.insert(stream->data.end(), buf, buf + take);
  stream->dropped += len - take;
  // Report the whole write as done: the guest keeps running and the host
  // reports the overflow instead of the guest seeing a write error.
  return static_cast<ptrdiff_t>(len);
}

void FreeCaptured(void* data) {
  delete static_cast<std::shared_ptr<CapturedStream>*>(data);
}



// The call ended at its deadline: an epoch check in guest code trapped, or
// a wait in the host was refused for it (an error, not a trap, by the time
// it reaches here).
bool PastDeadline(const InstanceState& s, const wasmtime::TrapError& error) {
  const auto* trap = std::get_if<wasmtime::Trap>(&error.data);
  auto code = trap ? trap->code() : std::nullopt;
  return (code && *code == WASMTIME_TRAP_CODE_INTERRUPT) ||
         s.refused_wait.has_value();
}

// Converts a failed wasmtime call into a Status, poisoning the instance.
Status CallFailure(InstanceState& s, const wasmtime::TrapError& error,
                   std::string_view what, std::chrono::milliseconds timeout) {
  s.poisoned = true;
  if (PastDeadline(s, error)) return CallDeadline(s, what, timeout);
  if (const auto* trap = std::get_if<wasmtime::Trap>(&error.data)) {
    // A guest whose memory.grow was refused at its limit usually traps
    // next; name the limit rather than only the trap. (The engine does not
    // say whether a grow was refused; a trap with the memory within an
    // eighth of its limit is taken as one.)
    uint64_t size = s.memory ? s.memory->data(s.cx()).size() : 0;
    if (size > 0 && size + std::max(kWasmPageBytes, s.max_memory / 8) > s.max_memory) {
      return Status(ErrorCode::kMemoryLimit,
                    Who(s) + ": " + std::string(what) +
                        " trapped with its linear memory at " +
                        std::to_string(size) + " bytes, near its limit of " +
                        std::to_string(s.max_memory) + " bytes: " +
                        TrapMessage(trap->message()));
    }
    return Status(ErrorCode::kTrap, Who(s) + ": " + std::string(what) +
                                        " trapped: " + TrapMessage(trap->message()));
  }
  const auto& e = std::get<wasmtime::Error>(error.data);
  if (auto exit = e.i32_exit()) {
    return Status(ErrorCode::kGuestExit, Who(s) + ": " + std::string(what) +
                                             " exited with code " +
                                             std::to_string(*exit));
  }
  return Status(ErrorCode::kTrap,
                Who(s) + ": " + std::string(what) + " failed: " + e.message());
}


Result<wasmtime::Func> FindFunc(InstanceState& s, std::string_view name) {
  auto item = s.instance->get(s.cx(), name);
  if (!item || !std::holds_alternative<wasmtime::Func>(*item)) {
    return Status(ErrorCode::kInvalidArgument,
                  Who(s) + " has no exported function '" + std::string(name) +
                      "'");
  }
  return std::get<wasmtime::Func>(*item);
}

// Calls `func` with i32/i64 arguments and returns its single result.
Result<wasmtime::Val> Invoke(InstanceState& s, wasmtime::Func func,
                             std::vector<wasmtime::Val> args,
                             std::string_view what,
                             std::chrono::milliseconds timeout) {
  auto results = func.call(s.cx(), args);
  if (!results) return CallFailure(s, results.err(), what, timeout);
  if (results.ok().size() != 1) {
    return Status(ErrorCode::kInvalidArgument,
                  Who(s) + ": " + std::string(what) + " returned " +
                      std::to_string(results.ok().size()) +
                      " values, expected 1");
  }
  return std::move(results.ok()[0]);
}

// The guest memory [ptr, ptr + len), or nullptr if it is out of bounds.
uint8_t* GuestSpan(InstanceState& s, uint64_t ptr, uint64_t len) {
  if (!s.memory) return nullptr;
  auto data = s.memory->data(s.cx());
  if (ptr > data.size() || len > data.size() - ptr) return nullptr;
  return data.data() + ptr;
}

// Runs a command module's _start; its exit code (0 when it returns).
Result<int> RunStart(InstanceState& s, std::chrono::milliseconds timeout) {
  auto start = FindFunc(s, "_start");
  if (!start.ok()) return start.status();
  SetDeadline(s, timeout);
  auto ran = start->call(s.cx(), {});
  if (ran) return 0;
  Status failure = CallFailure(s, ran.err_ref(), "_start", timeout);
  const auto* error = std::get_if<wasmtime::Error>(&ran.err_ref().data);
  auto code = error ? error->i32_exit() : std::nullopt;
  if (!code) return failure;
  return *code;
}

}  // namespace

std::string Who(const InstanceState& s) {
  return (s.module->is_component() ? "component '" : "module '") +
         s.module->name() + "'";
}

std::shared_ptr<CapturedStream> NewStream(size_t cap) {
  auto s = std::make_shared<CapturedStream>();
  s->cap = cap;
  return s;
}

// wasmtime's trap message is the whole wasm backtrace, then "Caused by:"
// and the cause; a recursion thousands of frames deep makes that pages
// long. The cause comes first here, then the innermost frames.
std::string TrapMessage(const std::string& message) {
  constexpr size_t kFramesShown = 4;
  size_t caused = message.find("Caused by:");
  if (caused == std::string::npos) return message;
  std::string cause = message.substr(caused + std::strlen("Caused by:"));
  cause.erase(0, cause.find_first_not_of(" \n"));
  cause.erase(cause.find_last_not_of(" \n") + 1);
  if (cause.starts_with("wasm trap: ")) cause.erase(0, std::strlen("wasm trap: "));
  // Frame lines read "  N: [0xOFFSET - ]<module>!function".
  std::vector<std::string> frames;
  std::istringstream lines(message.substr(0, caused));
  for (std::string line; std::getline(lines, line);) {
    size_t number = line.find_first_not_of(' ');
    size_t colon = line.find(": ");
    if (number == std::string::npos || colon == std::string::npos ||
        !std::isdigit(static_cast<unsigned char>(line[number]))) {
      continue;
    }
    size_t bang = line.find('!');
    frames.push_back(line.substr(bang == std::string::npos ? colon + 2 : bang + 1));
  }
  if (frames.empty()) return cause;
  std::string out = cause + " (in ";
  for (size_t i = 0; i < std::min(frames.size(), kFramesShown); ++i) {
    out += (i ? " <- " : "") + frames[i];
  }
  if (frames.size() > kFramesShown) out += " <- ...";
  return out + ")";
}

// Why a deadline ended the call early: ": poll_oneoff asked to wait N ms".
std::string RefusedWait(const InstanceState& s) {
  if (!s.refused_wait) return "";
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*s.refused_wait);
  return ": poll_oneoff asked to wait " + std::to_string(ms.count()) + " ms";
}

Status StartupDeadline(const InstanceState& s, std::chrono::milliseconds timeout) {
  return Status(ErrorCode::kDeadlineExceeded,
                Who(s) + ": start-up " +
                    (s.refused_wait ? "would run" : "ran") +
                    " past its init_timeout of " +
                    std::to_string(timeout.count()) + " ms" + RefusedWait(s));
}

Status CallDeadline(const InstanceState& s, std::string_view what,
                    std::chrono::milliseconds timeout) {
  return Status(ErrorCode::kDeadlineExceeded,
                Who(s) + ": " + std::string(what) +
                    (s.refused_wait ? " would exceed its " : " exceeded its ") +
                    std::to_string(timeout.count()) + " ms deadline" +
                    RefusedWait(s));
}

void SetDeadline(InstanceState& s, std::chrono::milliseconds timeout) {
  s.cx().set_epoch_deadline(timeout.count() > 0
                                ? s.engine->TicksFor(timeout)
                                : kNoDeadlineTicks);
  auto now = std::chrono::steady_clock::now();
  // Past this a deadline is as good as none, and the sum cannot overflow.
  constexpr auto kCentury = std::chrono::hours(24 * 365 * 100);
  s.deadline = timeout.count() > 0 && timeout < kCentury
                   ? now + timeout
                   : std::chrono::steady_clock::time_point::max();
  s.refused_wait.reset();
  // A component's waits in the host read it from the calling thread, which
  // is the one making the call that follows (core modules read s.deadline).
  if (s.module->is_component()) {
    strata_call_deadline_set(
        static_cast<uint64_t>(std::max<int64_t>(timeout.count(), 0)));
  }
}

wasmtime::WasiConfig CapturingWasiConfig(InstanceState& s,
                                         std::shared_ptr<CapturedStream> out,
                                         std::shared_ptr<CapturedStream> err) {
  s.wasi_clock_origin = std::chrono::steady_clock::now();
  wasmtime::WasiConfig config;
  wasi_config_set_stdout_custom(
      config.capi(), WriteCaptured,
      new std::shared_ptr<CapturedStream>(std::move(out)), FreeCaptured);
  wasi_config_set_stderr_custom(
      config.capi(), WriteCaptured,
      new std::shared_ptr<CapturedStream>(std::move(err)), FreeCaptured);
  return config;
}

Result<std::unique_ptr<Instance>> PreparedModule::Instantiate(
    const InstanceLimits& limits) const {
  auto state = std::make_unique<InstanceState>(engine_->raw());
  state->engine = engine_;
  state->module = module_;
  state->log = NewStream(limits.max_log_bytes);
  uint64_t max_memory = limits.max_memory_bytes > 0
                            ? limits.max_memory_bytes
                            : engine_->options().pool_max_memory_bytes;
  state->max_memory = max_memory;
  if (Status fault = engine_->CheckFault(FaultPoint::kInstantiate,
                                         module_->name());
      !fault.ok()) {
    return Status(ErrorCode::kInstantiate, Who(*state) +
                                               ": instantiation failed: " +
                                               fault.message());
  }
  // A component holds several core instances (its module, the WASI
  // adapter, shims); each memory is still capped at max_memory.
  bool component = module_->is_component();
  state->store.limiter(static_cast<int64_t>(max_memory),
                       limits.max_table_elements,
                       // A module's own, and the shim its first
                       // poll_oneoff makes (engine/wasi_poll.h).
                       /*instances=*/component ? kComponentCoreInstances : 2,
                       /*tables=*/component ? kComponentCoreInstances : 4,
                       /*memories=*/component ? kComponentCoreInstances : 1);
  wasmtime::WasiConfig start_wasi =
      CapturingWasiConfig(*state, state->log, state->log);
  if (Status granted = ApplyCapabilities(module_->name(), limits.start_grants,
                                         start_wasi);
      !granted.ok()) {
    return granted;
  }
  auto wasi = state->cx().set_wasi(std::move(start_wasi));
  if (!wasi) {
    return Status(ErrorCode::kInstantiate,
                  Who(*state) + ": WASI setup failed: " + wasi.err().message());
  }
  SetDeadline(*state, limits.init_timeout);
  const auto started = std::chrono::steady_clock::now();
  if (component) {
    if (!limits.init_export.empty()) {
      // A warm-up is a reactor's (ptr, len) call; a component has none.
      return Status(ErrorCode::kInvalidArgument,
                    Who(*state) + ": init_export '" + limits.init_export +
                        "' is for core reactors; a component has no warm-up call");
    }
    if (Status made = InstantiateComponent(*state, impl_->component_pre,
                                                limits.init_timeout);
        !made.ok()) {
      return made;
    }
    state->initial_memory = module_->InitialMemoryBytes();
    return std::make_unique<Instance>(std::move(state));
  }
  wasmtime_instance_t raw;
  wasm_trap_t* trap = nullptr;
  wasmtime_error_t* error = wasmtime_instance_pre_instantiate(
      impl_->pre.get(), state->cx().capi(), &raw, &trap);
  if (error != nullptr || trap != nullptr) {
    wasmtime::TrapError failure = error != nullptr
                                      ? wasmtime::TrapError(wasmtime::Error(error))
                                      : wasmtime::TrapError(wasmtime::Trap(trap));
    if (PastDeadline(*state, failure)) {
      return StartupDeadline(*state, limits.init_timeout);
    }
    std::string message = failure.message();
    auto has = [&](const char* text) {
      return message.find(text) != std::string::npos;
    };
    // The engine's pooled slots all in use (by this pool or another user
    // of the engine) is capacity, not a fault of the module.
    if (has("concurrent limit")) {
      return Status(ErrorCode::kPoolExhausted,
                    Who(*state) + ": no pooled instance slot free in the "
                                  "engine: " + message);
    }
    bool memory = has("memory") && (has("limit") || has("exceeds"));
    return Status(memory ? ErrorCode::kMemoryLimit : ErrorCode::kInstantiate,
                  Who(*state) + ": instantiation failed" +
                      (memory ? " (memory limit " + std::to_string(max_memory) +
                                    " bytes)"
                              : std::string()) +
                      ": " + message);
  }
  state->instance.emplace(raw);
  state->raw_instance = raw;
  if (auto mem = state->instance->get(state->cx(), "memory");
      mem && std::holds_alternative<wasmtime::Memory>(*mem)) {
    state->memory = std::get<wasmtime::Memory>(*mem);
  }

  if (module_->convention() != CallingConvention::kCommand &&
      module_->HasExport("_initialize")) {
    auto init = FindFunc(*state, "_initialize");
    if (!init.ok()) return init.status();
    auto done = init->call(state->cx(), {});
    if (!done) {
      return CallFailure(*state, done.err(), "_initialize", limits.init_timeout);
    }
  }
  // Start-up, then reseeding. While a snapshot is taken, only its start-up
  // (start_func) runs: reseeding belongs to each instance made from it. A
  // module that was not snapshotted runs its wizer.initialize here, so it
  // behaves the same with a snapshot or without (a snapshot drops that
  // export: its start-up is already in the image).
  std::vector<std::string> then;
  if (!limits.start_func.empty()) {
    if (limits.start_func != "_initialize") then.push_back(limits.start_func);
  } else {
    for (const char* name : {kSnapshotInitExport, Instance::kReseedExport}) {
      if (module_->HasExport(name)) then.push_back(name);
    }
  }
  for (const std::string& name : then) {
    auto func = FindFunc(*state, name);
    if (!func.ok()) return func.status();
    auto done = func->call(state->cx(), {});
    if (!done) return CallFailure(*state, done.err(), name, limits.init_timeout);
  }
  if (!limits.start_grants.empty()) {
    // Start-up's grants end with start-up: calls see no directories.
    auto plain =
        state->cx().set_wasi(CapturingWasiConfig(*state, state->log, state->log));
    if (!plain) {
      return Status(ErrorCode::kInstantiate,
                    Who(*state) + ": WASI setup failed: " + plain.err().message());
    }
  }
  InstanceState* raw_state = state.get();
  auto instance = std::make_unique<Instance>(std::move(state));
  if (!limits.init_export.empty()) {
    // What is left of start-up's deadline, which the warm-up shares.
    CallOptions options;
    if (limits.init_timeout.count() > 0) {
      auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - started);
      options.timeout = std::max(std::chrono::milliseconds(1),
                                 limits.init_timeout - spent);
    }
    auto warmed = instance->Call(limits.init_export, {}, options);
    if (!warmed.ok()) return warmed.status();
    raw_state->calls = 0;  // the warm-up is not a served call
  }
  raw_state->initial_memory = instance->memory_bytes();
  return instance;
}

Instance::Instance(std::unique_ptr<InstanceState> state)
    : state_(std::move(state)) {}

Instance::~Instance() = default;

const Module& Instance::module() const { return *state_->module; }

Result<Bytes> Instance::Call(std::string_view export_name,
                             std::span<const uint8_t> input,
                             const CallOptions& options) {
  InstanceState& s = *state_;
  if (s.poisoned) {
    return Status(ErrorCode::kInvalidArgument,
                  Who(s) + ": instance is unusable after an earlier failure");
  }
  if (input.size() > options.max_input_bytes) {
    return Status(ErrorCode::kInvalidArgument,
                  Who(s) + ": input of " + std::to_string(input.size()) +
                      " bytes exceeds the limit of " +
                      std::to_string(options.max_input_bytes) + " bytes");
  }
  if (s.module->is_component()) {
    return CallComponent(s, export_name, input, options);
  }
  if (s.module->convention() != CallingConvention::kReactor) {
    return Status(ErrorCode::kInvalidArgument,
                  Who(s) + " is a " +
                      CallingConventionName(s.module->convention()) +
                      " module; Call needs a reactor (strata_alloc + memory)");
  }
  auto func = FindFunc(s, export_name);
  if (!func.ok()) return func.status();
  for (const auto& e : s.module->info().exports) {
    if (e.name == export_name && !e.is_reactor_entry) {
      return Status(ErrorCode::kInvalidArgument,
                    Who(s) + ": export '" + std::string(export_name) +
                        "' has type " + e.type +
                        ", expected func (i32, i32) -> (i64)");
    }
    if (e.name == "strata_alloc" && e.type != kAllocType) {
      return Status(ErrorCode::kInvalidArgument,
                    Who(s) + ": strata_alloc has type " + e.type +
                        ", expected " + std::string(kAllocType));
    }
  }
  SetDeadline(s, options.timeout);
  ++s.calls;

  auto alloc = FindFunc(s, "strata_alloc");
  if (!alloc.ok()) return alloc.status();
  auto in_ptr = Invoke(s, *alloc, {int32_t(input.size())}, "strata_alloc",
                       options.timeout);
  if (!in_ptr.ok()) return in_ptr.status();
  uint32_t in_addr = static_cast<uint32_t>(in_ptr->i32());
  uint8_t* dst = GuestSpan(s, in_addr, input.size());
  if (dst == nullptr) {
    s.poisoned = true;
    return Status(ErrorCode::kTrap, Who(s) + ": strata_alloc(" +
                                        std::to_string(input.size()) +
                                        ") returned out-of-bounds pointer " +
                                        std::to_string(in_addr));
  }
  if (!input.empty()) std::memcpy(dst, input.data(), input.size());

  auto packed = Invoke(s, *func,
                       {int32_t(in_addr), int32_t(input.size())},
                       export_name, options.timeout);
  if (!packed.ok()) return packed.status();
  uint64_t result = static_cast<uint64_t>(packed->i64());
  uint32_t out_addr = static_cast<uint32_t>(result >> 32);
  uint32_t out_len = static_cast<uint32_t>(result);
  const uint8_t* src = GuestSpan(s, out_addr, out_len);
  if (src == nullptr) {
    s.poisoned = true;
    return Status(ErrorCode::kTrap,
                  Who(s) + ": " + std::string(export_name) +
                      " returned an out-of-bounds result (ptr " +
                      std::to_string(out_addr) + ", len " +
                      std::to_string(out_len) + ")");
  }
  // Over the cap the guest misbehaved: it is not trusted with another call.
  if (out_len > options.max_output_bytes) s.poisoned = true;
  Result<Bytes> output =
      out_len > options.max_output_bytes
          ? Result<Bytes>(Status(
                ErrorCode::kOutputTooLarge,
                Who(s) + ": " + std::string(export_name) + " returned " +
                    std::to_string(out_len) + " bytes, over the limit of " +
                    std::to_string(options.max_output_bytes)))
          : Result<Bytes>(Bytes(src, src + out_len));

  // Give the buffers back, whether or not the output was taken, so a reused
  // instance does not grow per call; an echoing guest may return its input
  // buffer, which is freed once.
  if (s.module->HasExport("strata_free")) {
    auto free_fn = FindFunc(s, "strata_free");
    if (!free_fn.ok()) return free_fn.status();
    std::vector<uint32_t> buffers{in_addr};
    if (out_addr != in_addr) buffers.push_back(out_addr);
    for (uint32_t addr : buffers) {
      auto freed = free_fn->call(s.cx(), {wasmtime::Val(int32_t(addr))});
      if (!freed) {
        return CallFailure(s, freed.err(), "strata_free", options.timeout);
      }
    }
  }
  return output;
}

Result<CommandOutput> Instance::RunCommand(const CommandRequest& request) {
  InstanceState& s = *state_;
  if (!IsCommand(s.module->convention())) {
    return Status(ErrorCode::kInvalidArgument,
                  Who(s) + " has no _start or wasi:cli/run; it is not a WASI "
                           "command");
  }
  if (s.poisoned || s.calls > 0) {
    return Status(ErrorCode::kInvalidArgument,
                  Who(s) + ": a command instance runs _start only once");
  }
  // A fresh WASI context per run, replacing the one the instance was
  // created with: this request's grants and stdin, and its own output
  // buffers; nothing of an earlier request is reachable. The guest's libc
  // reads argv, environ and its preopens only once _start runs, so a
  // pre-instantiated (hot) instance sees exactly these.
  auto out = NewStream(request.max_stdout_bytes);
  auto err = NewStream(request.max_stderr_bytes);
  wasmtime::WasiConfig wasi = CapturingWasiConfig(s, out, err);
  const std::string& name = s.module->name();
  if (Status granted = ApplyCapabilities(name, request.wasi, wasi);
      !granted.ok()) {
    return granted;
  }
  if (Status in = ApplyStdin(name, request.stdin_bytes, request.stdin_file,
                             wasi);
      !in.ok()) {
    return in;
  }
  auto set = s.cx().set_wasi(std::move(wasi));
  if (!set) {
    return Status(ErrorCode::kInstantiate,
                  Who(s) + ": WASI setup failed: " + set.err().message());
  }
  ++s.calls;
  s.poisoned = true;  // a command's main may not be re-entered
  CommandOutput output;
  auto ran = s.module->is_component() ? RunComponentMain(s, request.timeout)
                                      : RunStart(s, request.timeout);
  if (!ran.ok()) return ran.status();
  output.exit_code = *ran;
  // The guest's writes ran on WASI's I/O threads; the streams' locks order
  // them before these reads.
  std::scoped_lock streams(out->mu, err->mu);
  for (auto* stream : {out.get(), err.get()}) {
    if (stream->dropped > 0) {
      return Status(ErrorCode::kOutputTooLarge,
                    Who(s) + " wrote " +
                        std::to_string(stream->data.size() + stream->dropped) +
                        " bytes to " + (stream == out.get() ? "stdout" : "stderr") +
                        ", over the cap of " + std::to_string(stream->cap));
    }
  }
  output.stdout_bytes = std::move(out->data);
  output.stderr_bytes = std::move(err->data);
  return output;
}

Result<HttpResponse> Instance::HandleHttp(const HttpRequest& request) {
  InstanceState& s = *state_;
  if (s.poisoned) {
    return Status(ErrorCode::kInvalidArgument,
                  Who(s) + ": instance is unusable after an earlier failure");
  }
  return HandleComponentHttp(s, request);
}

// A component's memories cannot be reached through wasmtime's C API: it is
// charged what its core modules declare (docs/COMPONENTS.md).
uint64_t Instance::memory_bytes() const {
  if (state_->module->is_component()) return state_->initial_memory;
  if (!state_->memory) return 0;
  // The size alone: cheaper than data(), and on every return of a lease.
  return wasmtime_memory_data_size(state_->store.context().capi(),
                                   &state_->memory->capi());
}

uint64_t Instance::ResidentBytes() const {
  if (state_->module->is_component()) return state_->initial_memory;
  if (!state_->memory) return 0;
  auto data = state_->memory->data(state_->store.context());
  return internal::PrivateResidentBytes(data.data(), data.size());
}

uint64_t Instance::calls() const { return state_->calls; }
uint64_t Instance::initial_memory_bytes() const {
  return state_->initial_memory;
}
bool Instance::poisoned() const { return state_->poisoned; }

std::string Instance::TakeLog() {
  std::lock_guard<std::mutex> lock(state_->log->mu);
  std::string text(state_->log->data.begin(), state_->log->data.end());
  state_->log->data.clear();
  return text;
}

Result<int64_t> Instance::ReadGlobal(std::string_view name) {
  InstanceState& s = *state_;
  auto item = s.instance->get(s.cx(), name);
  if (!item || !std::holds_alternative<wasmtime::Global>(*item)) {
    return Status(ErrorCode::kInvalidArgument,
                  Who(s) + " has no exported global '" + std::string(name) + "'");
  }
  wasmtime::Val v = std::get<wasmtime::Global>(*item).get(s.cx());
  switch (v.kind()) {
    case wasmtime::ValKind::I32: return int64_t{v.i32()};
    case wasmtime::ValKind::I64: return v.i64();
    default:
      return Status(ErrorCode::kInvalidArgument,
                    Who(s) + ": global '" + std::string(name) +
                        "' is not an integer");
  }
}

}  // namespace strata
