// A live, initialised instance: a wasmtime Store and the module's Instance in
// it. This is what the hot tier holds.
//
// Thread contract: not thread-safe; one thread uses an instance at a time
// (the pool's Lease guarantees it).
#ifndef STRATA_INSTANCE_H_
#define STRATA_INSTANCE_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "strata/status.h"
#include "strata/wasi.h"

namespace strata {

class Engine;
class Module;
struct InstanceState;

inline constexpr uint64_t kWasmPageBytes = 64 * 1024;

// Limits applied to each instance's Store.
struct InstanceLimits {
  // Largest linear memory the guest may grow to; 0 means the engine's pool
  // slot size.
  uint64_t max_memory_bytes = 0;
  uint32_t max_table_elements = 100000;
  // Deadline for _initialize and init_export together; 0 means none.
  std::chrono::milliseconds init_timeout{10000};
  // A reactor export run once after instantiation (a warm-up call), if set.
  std::string init_export;
  // An exported `[] -> []` function run right after _initialize, under the
  // same deadline: the init function a snapshot is taken after. Empty: the
  // module's `wizer.initialize` if it exports one, then `strata.reseed`.
  std::string start_func;
  // WASI grants during _initialize and start_func (strata/wasi.h); none by
  // default. A snapshot's start-up gets the module's own, read-only.
  WasiCapabilities start_grants;
  // Cap on what the guest may write to stdout/stderr outside RunCommand.
  size_t max_log_bytes = 64 * 1024;
};

struct CallOptions {
  std::chrono::milliseconds timeout{0};  // 0: no deadline
  size_t max_input_bytes = 64 << 20;
  size_t max_output_bytes = 64 << 20;
};

// One run of a WASI command module's _start.
struct CommandRequest {
  // This call's args, environment and directories (see strata/wasi.h); a
  // pool merges them after the module's own (ModuleOptions::wasi).
  WasiCapabilities wasi;
  Bytes stdin_bytes;
  // If set, stdin streams from this host file instead (stdin_bytes empty).
  std::filesystem::path stdin_file;
  std::chrono::milliseconds timeout{0};
  size_t max_stdout_bytes = 64 << 20;
  size_t max_stderr_bytes = 1 << 20;
};

struct CommandOutput {
  int exit_code = 0;
  Bytes stdout_bytes;
  Bytes stderr_bytes;
};

// One request to a wasi:http proxy component, as the front end parsed it.
struct HttpRequest {
  std::string method;
  std::string path;       // origin form (path and query): what the proxy sees
  std::string authority;  // the Host header
  std::vector<std::pair<std::string, std::string>> headers;
  Bytes body;
  std::chrono::milliseconds timeout{0};  // 0: none
  size_t max_response_bytes = 64 << 20;  // a longer body is kOutputTooLarge
};

struct HttpResponse {
  uint16_t status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  Bytes body;
};

class Instance {
 public:
  // A module that exports this `[] -> []` function has it called after
  // every instantiation: a snapshotted guest re-seeds what start-up froze
  // (random seeds, clocks) there.
  static constexpr const char* kReseedExport = "strata.reseed";

  explicit Instance(std::unique_ptr<InstanceState> state);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  const Module& module() const;

  // Reactor convention: copies `input` into the guest, calls `export_name`
  // with (ptr, len) and returns the bytes at the packed (ptr, len) result.
  // A component's exported function (`f`, or `interface#f`) takes a JSON
  // array of its arguments and returns its result as JSON, WIT values
  // mapped as engine/wit_json.h describes.
  Result<Bytes> Call(std::string_view export_name,
                     std::span<const uint8_t> input,
                     const CallOptions& options);

  // Command convention (a module's _start, or a component's
  // wasi:cli/run): runs it with a fresh WASI context holding only
  // the request's grants (args, env, preopened directories), its stdin and
  // its own capped stdout/stderr. The guest's exit code is in the output;
  // output past a cap is kOutputTooLarge, never cut silently.
  Result<CommandOutput> RunCommand(const CommandRequest& request);

  // A wasi:http proxy component serves one request; the response body is
  // read whole while the handler runs. The instance may serve the next.
  Result<HttpResponse> HandleHttp(const HttpRequest& request);

  // Current size of the guest's linear memory (0 if it has none).
  uint64_t memory_bytes() const;
  // Bytes of linear memory resident and private to this instance (dirtied
  // pages), measured from the page tables.
  uint64_t ResidentBytes() const;
  // Linear memory size right after initialisation, to detect growth.
  uint64_t initial_memory_bytes() const;
  // Calls served so far.
  uint64_t calls() const;
  // True after a trap, a timeout, an exit or an output over its cap: the
  // instance's state is undefined (or its guest misbehaved) and it must not
  // serve another call.
  bool poisoned() const;
  // What the guest wrote to stderr during instantiation and reactor calls.
  std::string TakeLog();
  // The value of an exported i32 or i64 global (tests and probes);
  // kInvalidArgument if there is none.
  Result<int64_t> ReadGlobal(std::string_view name);

 private:
  friend struct InstanceAccess;  // the engine's own code (snapshots)
  std::unique_ptr<InstanceState> state_;
};

}  // namespace strata

#endif  // STRATA_INSTANCE_H_
