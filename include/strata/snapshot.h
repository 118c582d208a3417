// Pre-initialisation snapshots: run a module's start-up once, then keep a
// module whose linear memory and globals begin where start-up left them.
// wasmtime maps that memory copy-on-write at every instantiation, so each
// new instance skips start-up: what makes a snapshotted module's warm tier
// nearly as fast as hot while it holds no live instance.
//
// Built with the wasmtime-wizer crate (its instrument and snapshot steps)
// through the C functions of third_party/wasmtime-c-api; the start-up runs
// on this engine, with its linker, limits and deadline.
//
// Limits (wizer's): the module may not import memories, tables or globals
// (a snapshot could not hold their state), nor change a table at run time
// (table.set, table.grow, table.fill, table.copy, table.init: a table's
// contents cannot be recorded), nor use threads. State made at start-up is
// frozen:
// a random seed or a clock read then is the same in every instance; a
// guest that must differ per instance exports `strata.reseed`
// (Instance::kReseedExport), which runs after every instantiation.
//
// Example:
//   auto image = strata::TakeSnapshot(*engine, "js", bytes, {}).value();
//   auto module = engine->Compile("js", image.wasm).value();
#ifndef STRATA_SNAPSHOT_H_
#define STRATA_SNAPSHOT_H_

#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "strata/engine.h"
#include "strata/status.h"
#include "strata/wasi.h"

namespace strata {

// The default init function: wizer's convention, in our spelling.
inline constexpr const char* kSnapshotInitExport = "wizer.initialize";

struct SnapshotSpec {
  // An exported `[] -> []` function. Empty: `wizer.initialize` when the
  // module exports it, else a reactor's `_initialize` (its start-up).
  std::string init_func;
  // What start-up may use: given read-only, whatever `writable` says.
  WasiCapabilities grants;
  std::chrono::milliseconds timeout{60000};
  uint64_t max_memory_bytes = 0;  // 0: the engine's slot size
};

struct SnapshotImage {
  Bytes wasm;             // the pre-initialised module
  std::string init_func;  // the function that ran
  std::chrono::nanoseconds build_time{0};
};

// Runs `bytes`' start-up once and snapshots the result. kInvalidArgument
// names the reason a module cannot be snapshotted (no init function, an
// imported memory, reference types, ...); start-up's own failure (a trap,
// its deadline) comes back as that error.
Result<SnapshotImage> TakeSnapshot(Engine& engine, const std::string& name,
                                   std::span<const uint8_t> bytes,
                                   const SnapshotSpec& spec);
// The same for a module already compiled from `bytes` (a pool registering
// it): the checks read `original` instead of compiling the bytes again, and
// build_time leaves that compile out.
Result<SnapshotImage> TakeSnapshot(Engine& engine, const Module& original,
                                   std::span<const uint8_t> bytes,
                                   const SnapshotSpec& spec);

// The init function TakeSnapshot would run for `module`: kInvalidArgument
// when it exports none of them.
Result<std::string> SnapshotInitFunc(const Module& module,
                                     const std::string& requested);

// Identifies a snapshot: the bytes' hash, the init function, the grants and
// the engine's fingerprint (ModuleCache::LoadSnapshot's key).
std::string SnapshotKey(const Engine& engine, std::string_view source_hash,
                        const std::string& init_func,
                        const WasiCapabilities& grants);

}  // namespace strata

#endif  // STRATA_SNAPSHOT_H_
