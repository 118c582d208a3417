#include "strata/module.h"

#include <algorithm>
#include <cstring>

#include "engine/module_impl.h"
#include "internal/residency.h"
#include "strata/engine.h"

namespace strata {
namespace {

std::string ValTypeName(const wasm_valtype_t* type) {
  switch (wasm_valtype_kind(type)) {
    case WASM_I32: return "i32";
    case WASM_I64: return "i64";
    case WASM_F32: return "f32";
    case WASM_F64: return "f64";
    default: return "ref";
  }
}

std::string ValTypeList(const wasm_valtype_vec_t* list) {
  std::string out = "(";
  for (size_t i = 0; i < list->size; ++i) {
    if (i > 0) out += ", ";
    out += ValTypeName(list->data[i]);
  }
  return out + ")";
}

bool IsReactorEntry(const wasm_functype_t* func) {
  const wasm_valtype_vec_t* params = wasm_functype_params(func);
  const wasm_valtype_vec_t* results = wasm_functype_results(func);
  return params->size == 2 && wasm_valtype_kind(params->data[0]) == WASM_I32 &&
         wasm_valtype_kind(params->data[1]) == WASM_I32 &&
         results->size == 1 && wasm_valtype_kind(results->data[0]) == WASM_I64;
}

MemoryInfo DescribeMemory(std::string name, const wasm_memorytype_t* mem) {
  MemoryInfo info{std::move(name), wasmtime_memorytype_minimum(mem), {}};
  uint64_t max = 0;
  if (wasmtime_memorytype_maximum(mem, &max)) info.max_pages = max;
  return info;
}

std::string ExternTypeName(const wasm_externtype_t* type) {
  switch (wasm_externtype_kind(type)) {
    case WASM_EXTERN_FUNC: {
      auto* f = wasm_externtype_as_functype_const(type);
      return "func " + ValTypeList(wasm_functype_params(f)) + " -> " +
             ValTypeList(wasm_functype_results(f));
    }
    case WASM_EXTERN_MEMORY: {
      auto m = DescribeMemory("", wasm_externtype_as_memorytype_const(type));
      return "memory [" + std::to_string(m.min_pages) + ", " +
             (m.max_pages ? std::to_string(*m.max_pages) : "-") + "] pages";
    }
    case WASM_EXTERN_TABLE: return "table";
    case WASM_EXTERN_GLOBAL: return "global";
    default: return "other";
  }
}

std::string Name(const wasm_name_t* name) {
  return std::string(name->data, name->size);
}

CallingConvention DetectConvention(const ModuleInfo& info) {
  bool has_start = false, has_alloc = false, has_memory = false;
  for (const auto& e : info.exports) {
    has_start |= e.name == "_start";
    has_alloc |= e.name == "strata_alloc";
    has_memory |= e.name == "memory";
  }
  if (has_start) return CallingConvention::kCommand;
  if (has_alloc && has_memory) return CallingConvention::kReactor;
  return CallingConvention::kUnknown;
}

}  // namespace

const char* CallingConventionName(CallingConvention convention) {
  switch (convention) {
    case CallingConvention::kReactor: return "reactor";
    case CallingConvention::kCommand: return "command";
    case CallingConvention::kUnknown: return "unknown";
    case CallingConvention::kComponent: return "component";
    case CallingConvention::kComponentCommand: return "component-command";
    case CallingConvention::kHttpProxy: return "http-proxy";
  }
  return "unknown";
}

bool IsCommand(CallingConvention convention) {
  return convention == CallingConvention::kCommand ||
         convention == CallingConvention::kComponentCommand;
}

bool IsComponent(CallingConvention convention) {
  return convention == CallingConvention::kComponent ||
         convention == CallingConvention::kComponentCommand ||
         convention == CallingConvention::kHttpProxy;
}

wasmtime::Result<wasmtime::Module> CompileBytes(
    wasmtime::Engine& engine, std::span<const uint8_t> bytes) {
  static constexpr uint8_t kMagic[4] = {0, 'a', 's', 'm'};
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), kMagic, 4) == 0) {
    return wasmtime::Module::compile(
        engine,
        wasmtime::Span<uint8_t>(const_cast<uint8_t*>(bytes.data()), bytes.size()));
  }
  return wasmtime::Module::compile(
      engine, std::string_view(reinterpret_cast<const char*>(bytes.data()),
                               bytes.size()));
}

ModuleInfo DescribeModule(const wasmtime::Module& module) {
  ModuleInfo info;
  wasm_importtype_vec_t imports;
  wasmtime_module_imports(module.capi(), &imports);
  for (size_t i = 0; i < imports.size; ++i) {
    const wasm_importtype_t* imp = imports.data[i];
    const wasm_externtype_t* type = wasm_importtype_type(imp);
    ImportInfo entry{Name(wasm_importtype_module(imp)),
                     Name(wasm_importtype_name(imp)), ExternTypeName(type)};
    if (wasm_externtype_kind(type) == WASM_EXTERN_MEMORY) {
      info.memories.push_back(
          DescribeMemory("(import " + entry.module + "." + entry.name + ")",
                         wasm_externtype_as_memorytype_const(type)));
    }
    info.imports.push_back(std::move(entry));
  }
  wasm_importtype_vec_delete(&imports);

  wasm_exporttype_vec_t exports;
  wasmtime_module_exports(module.capi(), &exports);
  for (size_t i = 0; i < exports.size; ++i) {
    const wasm_externtype_t* type = wasm_exporttype_type(exports.data[i]);
    ExportInfo entry{Name(wasm_exporttype_name(exports.data[i])),
                     ExternTypeName(type), false};
    if (wasm_externtype_kind(type) == WASM_EXTERN_FUNC) {
      entry.is_reactor_entry =
          IsReactorEntry(wasm_externtype_as_functype_const(type));
    } else if (wasm_externtype_kind(type) == WASM_EXTERN_MEMORY) {
      info.memories.push_back(DescribeMemory(
          entry.name, wasm_externtype_as_memorytype_const(type)));
    }
    info.exports.push_back(std::move(entry));
  }
  wasm_exporttype_vec_delete(&exports);
  info.convention = DetectConvention(info);
  return info;
}

Result<std::unique_ptr<PreparedModuleImpl>> LinkModule(
    const wasmtime::Linker& linker, const Module& module) {
  if (module.is_component()) {
    auto pre = LinkComponent(module);
    if (!pre.ok()) return pre.status();
    auto impl = std::make_unique<PreparedModuleImpl>();
    impl->component_pre = std::move(*pre);
    return impl;
  }
  wasmtime_instance_pre_t* pre = nullptr;
  wasmtime_error_t* error = wasmtime_linker_instantiate_pre(
      linker.capi(), module.raw().capi(), &pre);
  if (error != nullptr) {
    wasmtime::Error e(error);
    return Status(ErrorCode::kLink,
                  "module '" + module.name() + "': " + e.message());
  }
  auto impl = std::make_unique<PreparedModuleImpl>();
  impl->pre.reset(pre);
  return impl;
}

Module::Module(std::string name, std::string hash, ModuleInfo info,
               std::shared_ptr<wasmtime::Module> raw,
               std::chrono::nanoseconds load_time)
    : name_(std::move(name)),
      hash_(std::move(hash)),
      info_(std::move(info)),
      raw_(std::move(raw)),
      load_time_(load_time) {}

Module::Module(std::string name, std::string hash, ModuleInfo info,
               std::shared_ptr<wasmtime::component::Component> component,
               uint64_t initial_memory, std::chrono::nanoseconds load_time)
    : name_(std::move(name)),
      hash_(std::move(hash)),
      info_(std::move(info)),
      component_(std::move(component)),
      component_initial_memory_(initial_memory),
      load_time_(load_time) {}

bool Module::HasExport(std::string_view name) const {
  for (const auto& e : info_.exports) {
    if (e.name == name) return true;
  }
  return false;
}

Result<Bytes> Module::Serialize() const {
  auto bytes = component_ ? component_->serialize() : raw_->serialize();
  if (!bytes) {
    return Status(ErrorCode::kInternal, "module '" + name_ +
                                            "': cannot serialize: " +
                                            bytes.err().message());
  }
  return Bytes(bytes.ok().begin(), bytes.ok().end());
}

uint64_t Module::ResidentImageBytes() const {
  void* start = nullptr;
  void* end = nullptr;
  if (component_) {
    const uint8_t *first = nullptr, *last = nullptr;
    strata_component_image_range(component_->capi(), &first, &last);
    start = const_cast<uint8_t*>(first);
    end = const_cast<uint8_t*>(last);
  } else {
    wasmtime_module_image_range(raw_->capi(), &start, &end);
  }
  if (start == nullptr || end <= start) return 0;
  return internal::ResidentBytes(start, static_cast<const uint8_t*>(end) -
                                            static_cast<const uint8_t*>(start));
}

uint64_t Module::InitialMemoryBytes() const {
  if (component_) return component_initial_memory_;
  uint64_t pages = 0;
  for (const MemoryInfo& m : info_.memories) pages = std::max(pages, m.min_pages);
  return pages * kWasmPageBytes;
}

PreparedModule::PreparedModule(Engine* engine,
                               std::shared_ptr<const Module> module,
                               std::unique_ptr<PreparedModuleImpl> impl)
    : engine_(engine), module_(std::move(module)), impl_(std::move(impl)) {}

PreparedModule::~PreparedModule() = default;

}  // namespace strata
