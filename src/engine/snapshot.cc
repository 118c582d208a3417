#include "strata/snapshot.h"

#include <strata_capi.h>  // wizer's two steps, from the C API wrapper crate

#include <cstdlib>
#include <cstring>

#include "engine/module_impl.h"
#include "internal/sha256.h"

namespace strata {
namespace {

// Owns what the C API writes into a wasm_byte_vec_t.
struct ByteVec {
  wasm_byte_vec_t vec{};
  ~ByteVec() { wasm_byte_vec_delete(&vec); }
  std::span<const uint8_t> span() const {
    return {reinterpret_cast<const uint8_t*>(vec.data), vec.size};
  }
};

Status Failed(const std::string& name, const char* step, wasmtime_error_t* error) {
  return Status(ErrorCode::kInvalidArgument,
                "module '" + name + "' cannot be snapshotted (" + step +
                    "): " + wasmtime::Error(error).message());
}

// What wizer cannot snapshot, found before anything runs so the error is
// plain; wizer's own checks still apply.
Status CheckImports(const Module& module) {
  for (const ImportInfo& import : module.info().imports) {
    for (const char* kind : {"memory", "table", "global"}) {
      if (import.type.rfind(kind, 0) == 0) {
        return Status(ErrorCode::kInvalidArgument,
                      "module '" + module.name() +
                          "' cannot be snapshotted: it imports a " + kind +
                          " (" + import.module + "." + import.name +
                          "), whose state a snapshot cannot hold");
      }
    }
  }
  return OkStatus();
}

}  // namespace

Result<std::string> SnapshotInitFunc(const Module& module,
                                     const std::string& requested) {
  if (!requested.empty()) {
    if (module.HasExport(requested)) return requested;
    return Status(ErrorCode::kInvalidArgument,
                  "module '" + module.name() +
                      "' cannot be snapshotted: it exports no init function '" +
                      requested + "'");
  }
  for (const char* name : {kSnapshotInitExport, "_initialize"}) {
    if (module.HasExport(name)) return std::string(name);
  }
  return Status(ErrorCode::kInvalidArgument,
                "module '" + module.name() +
                    "' cannot be snapshotted: it exports neither '" +
                    kSnapshotInitExport +
                    "' nor a reactor's '_initialize' to run before the snapshot");
}

std::string SnapshotKey(const Engine& engine, std::string_view source_hash,
                        const std::string& init_func,
                        const WasiCapabilities& grants) {
  internal::Sha256 key;
  auto field = [&](std::string_view text) {
    key.Update(std::to_string(text.size()) + ":");
    key.Update(text);
  };
  field("snapshot/1");
  field(source_hash);
  field(init_func);
  for (const std::string& arg : grants.args) field("arg " + arg);
  // An inherited variable's value is what start-up saw: a new value is a
  // new snapshot.
  for (const std::string& name : grants.inherit_env) {
    const char* value = std::getenv(name.c_str());
    field("inherit " + name + (value ? "=" + std::string(value) : " unset"));
  }
  for (const auto& [name, value] : grants.env) field("env " + name + "=" + value);
  for (const Preopen& dir : grants.dirs) {
    field("dir " + dir.host.string() + " " + dir.guest);
  }
  field(engine.fingerprint());
  return internal::ToHex(key.Finish());
}

Result<SnapshotImage> TakeSnapshot(Engine& engine, const std::string& name,
                                   std::span<const uint8_t> bytes,
                                   const SnapshotSpec& spec) {
  auto start = std::chrono::steady_clock::now();
  auto original = engine.Compile(name, bytes);
  if (!original.ok()) return original.status();
  auto image = TakeSnapshot(engine, **original, bytes, spec);
  if (image.ok()) image->build_time = std::chrono::steady_clock::now() - start;
  return image;
}

Result<SnapshotImage> TakeSnapshot(Engine& engine, const Module& original,
                                   std::span<const uint8_t> bytes,
                                   const SnapshotSpec& spec) {
  auto start = std::chrono::steady_clock::now();
  const std::string& name = original.name();
  // wizer reads the binary format only.
  Bytes binary;
  if (bytes.size() < 4 || std::memcmp(bytes.data(), "\0asm", 4) != 0) {
    auto converted = wasmtime::wat2wasm(std::string_view(
        reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    if (!converted) {
      return Status(ErrorCode::kCompile, "module '" + name + "': " +
                                             converted.err().message());
    }
    binary = converted.ok();
    bytes = binary;
  }
  if (Status imports = CheckImports(original); !imports.ok()) return imports;
  auto init_func = SnapshotInitFunc(original, spec.init_func);
  if (!init_func.ok()) return init_func.status();

  ByteVec instrumented;
  if (wasmtime_error_t* error = strata_wizer_instrument(
          bytes.data(), bytes.size(), init_func->c_str(), &instrumented.vec)) {
    return Failed(name, "instrumenting", error);
  }
  auto module = engine.Compile(name, instrumented.span());
  if (!module.ok()) return module.status();
  auto prepared = engine.Prepare(*module);
  if (!prepared.ok()) return prepared.status();
  InstanceLimits limits;
  limits.init_timeout = spec.timeout;
  limits.max_memory_bytes = spec.max_memory_bytes;
  limits.start_func = *init_func;
  limits.start_grants = spec.grants;
  for (Preopen& dir : limits.start_grants.dirs) dir.writable = false;
  auto instance = (*prepared)->Instantiate(limits);
  if (!instance.ok()) return instance.status();

  InstanceState& state = InstanceAccess::Of(**instance);
  ByteVec image;
  if (wasmtime_error_t* error = strata_wizer_snapshot(
          bytes.data(), bytes.size(), init_func->c_str(), state.cx().capi(),
          &state.raw_instance, &image.vec)) {
    return Failed(name, "snapshotting", error);
  }
  SnapshotImage out;
  out.wasm.assign(image.span().begin(), image.span().end());
  out.init_func = *init_func;
  out.build_time = std::chrono::steady_clock::now() - start;
  return out;
}

}  // namespace strata
