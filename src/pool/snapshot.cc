// Registering a module with ModuleOptions::snapshot: its snapshot from the
// disk cache, or built now and cached, in place of its own bytes.
#include "strata/snapshot.h"

#include "internal/sha256.h"
#include "pool/pool_internal.h"

namespace strata {

Result<PoolSnapshot> SnapshotForPool(PoolState& s, const std::string& name,
                                     std::span<const uint8_t> bytes,
                                     const Module& compiled,
                                     const ModuleOptions& options) {
  auto init_func = SnapshotInitFunc(compiled, *options.snapshot);
  if (!init_func.ok()) return init_func.status();
  std::string key = SnapshotKey(*s.engine, compiled.hash(), *init_func,
                                options.wasi);
  PoolSnapshot out;
  out.init_func = *init_func;
  auto cached = s.cache->LoadSnapshot(key, name);
  if (cached.ok()) {
    out.wasm = std::move(*cached);
  } else {
    SnapshotSpec spec;
    spec.init_func = *init_func;
    spec.grants = options.wasi;
    spec.timeout = options.limits.init_timeout;
    spec.max_memory_bytes = options.limits.max_memory_bytes;
    auto image = TakeSnapshot(*s.engine, compiled, bytes, spec);
    if (!image.ok()) return image.status();
    out.wasm = std::move(image->wasm);
    out.build_time = image->build_time;
    // A cache that cannot be written only costs the next registration a
    // rebuild.
    (void)s.cache->StoreSnapshot(key, name, out.wasm);
  }
  // Its compiled form too, if an earlier registration left one on disk
  // (registration stores it, as it does any module's).
  auto module = s.cache->Load(name, internal::Sha256Hex(out.wasm));
  if (!module.ok()) module = s.engine->Compile(name, out.wasm);
  if (!module.ok()) return module.status();
  out.module = std::move(*module);
  return out;
}

}  // namespace strata
