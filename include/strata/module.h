// A compiled module (the cold tier's in-memory form) and its linked form (the
// warm tier): what a module imports and exports, which calling convention it
// follows, and how to make instances of it.
//
// Thread contract: Module and PreparedModule are immutable and thread-safe;
// share them with std::shared_ptr.
#ifndef STRATA_MODULE_H_
#define STRATA_MODULE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "strata/instance.h"
#include "strata/status.h"

namespace wasmtime {
class Module;
namespace component {
class Component;
}  // namespace component
}  // namespace wasmtime

namespace strata {

class Engine;
struct PreparedModuleImpl;

// How the host passes input to and takes output from the module.
enum class CallingConvention {
  kReactor,  // exports memory, strata_alloc and (ptr, len) -> i64 functions
  kCommand,  // a WASI program: exports _start, reads stdin, writes stdout
  kUnknown,  // neither; can be inspected but not called by strata
  // Components (docs/COMPONENTS.md):
  kComponent,         // exports functions, called with JSON-mapped WIT values
  kComponentCommand,  // exports wasi:cli/run: a WASI preview 2 program
  kHttpProxy,         // exports wasi:http/incoming-handler
};
const char* CallingConventionName(CallingConvention convention);
bool IsComponent(CallingConvention convention);
// A program run once per call: a module's _start or a component's
// wasi:cli/run.
bool IsCommand(CallingConvention convention);

struct ImportInfo {
  std::string module;
  std::string name;
  std::string type;  // "func (i32, i32) -> (i32)", "memory [1, -]", ...
};

struct ExportInfo {
  std::string name;
  std::string type;  // a component's: "func(html: string, ...) -> result<...>"
  bool is_reactor_entry = false;  // (i32, i32) -> i64
};

struct MemoryInfo {
  std::string name;  // export name, or "(import module.name)"
  uint64_t min_pages = 0;
  std::optional<uint64_t> max_pages;
};

struct ModuleInfo {
  std::vector<ImportInfo> imports;
  std::vector<ExportInfo> exports;
  std::vector<MemoryInfo> memories;
  CallingConvention convention = CallingConvention::kUnknown;
};

// Compiled machine code for one module or component.
class Module {
 public:
  Module(std::string name, std::string hash, ModuleInfo info,
         std::shared_ptr<wasmtime::Module> raw,
         std::chrono::nanoseconds compile_time);
  // A component; `initial_memory` is what its core modules declare.
  Module(std::string name, std::string hash, ModuleInfo info,
         std::shared_ptr<wasmtime::component::Component> component,
         uint64_t initial_memory, std::chrono::nanoseconds compile_time);

  const std::string& name() const { return name_; }
  // SHA-256 (hex) of the module's original bytes.
  const std::string& hash() const { return hash_; }
  const ModuleInfo& info() const { return info_; }
  CallingConvention convention() const { return info_.convention; }
  bool HasExport(std::string_view name) const;
  // Time spent compiling (or deserializing) this module.
  std::chrono::nanoseconds load_time() const { return load_time_; }
  // wasmtime's serialized artifact (the cold tier's on-disk form).
  Result<Bytes> Serialize() const;
  // Bytes of the compiled image (code, data, metadata) that are resident,
  // measured from the page tables over wasmtime's image range.
  uint64_t ResidentImageBytes() const;
  // Linear memory an instance starts with (the declared minimum of its
  // defined memory), the most its initialisation can dirty unless it grows.
  // A component's: the sum over its core modules.
  uint64_t InitialMemoryBytes() const;

  bool is_component() const { return component_ != nullptr; }
  // The core module (is_component() false) or the component (true).
  const wasmtime::Module& raw() const { return *raw_; }
  const wasmtime::component::Component& component() const {
    return *component_;
  }

 private:
  std::string name_;
  std::string hash_;
  ModuleInfo info_;
  std::shared_ptr<wasmtime::Module> raw_;
  std::shared_ptr<wasmtime::component::Component> component_;
  uint64_t component_initial_memory_ = 0;
  std::chrono::nanoseconds load_time_;
};

// A module pre-linked against the engine's Linker (wasmtime's InstancePre):
// instantiating it skips import resolution and type checks, and with the
// pooling allocator maps the module's memory image copy-on-write.
class PreparedModule {
 public:
  PreparedModule(Engine* engine, std::shared_ptr<const Module> module,
                 std::unique_ptr<PreparedModuleImpl> impl);
  ~PreparedModule();

  const Module& module() const { return *module_; }
  const std::shared_ptr<const Module>& shared_module() const {
    return module_;
  }
  // Creates a Store with `limits`, instantiates, and runs the reactor's
  // _initialize (if exported) and limits.init_export (if set).
  Result<std::unique_ptr<Instance>> Instantiate(
      const InstanceLimits& limits) const;

 private:
  Engine* engine_;
  std::shared_ptr<const Module> module_;
  std::unique_ptr<PreparedModuleImpl> impl_;
};

}  // namespace strata

#endif  // STRATA_MODULE_H_
