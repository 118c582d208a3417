// Compiled modules serialized on disk: the cold tier's on-disk form.
//
// An entry is keyed by the SHA-256 of the module's bytes and the engine's
// fingerprint, and carries a checksum of its payload. Loading verifies the
// header and the checksum before wasmtime sees a byte, so a truncated,
// corrupted or foreign file is rejected (and deleted), never trusted.
//
// Thread contract: thread-safe; concurrent stores of one key are atomic
// (write to a temporary file, then rename).
//
// Example:
//   strata::ModuleCache cache(*engine, "/var/cache/strata");
//   auto module = cache.LoadOrCompile("extractor", bytes).value();
#ifndef STRATA_MODULE_CACHE_H_
#define STRATA_MODULE_CACHE_H_

#include <atomic>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "strata/engine.h"
#include "strata/module.h"
#include "strata/status.h"

namespace strata {

class ModuleCache {
 public:
  ModuleCache(Engine& engine, std::filesystem::path dir);

  // Where the entry for a module with this source hash lives.
  std::filesystem::path PathFor(const std::string& source_hash) const;
  // Serializes `module` into its entry.
  Status Store(const Module& module);
  // The module from a valid entry; kNotFound when there is none or the entry
  // was invalid (it is then deleted and counted in rejected()).
  Result<std::shared_ptr<const Module>> Load(const std::string& name,
                                             const std::string& source_hash);
  // Load(), or compile `bytes` and Store() the result.
  Result<std::shared_ptr<const Module>> LoadOrCompile(
      const std::string& name, std::span<const uint8_t> bytes);
  // Drops the entry, if any.
  void Remove(const std::string& source_hash);

  const std::filesystem::path& dir() const { return dir_; }
  uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

 private:
  Engine& engine_;
  std::filesystem::path dir_;
  std::atomic<uint64_t> rejected_{0};
};

}  // namespace strata

#endif  // STRATA_MODULE_CACHE_H_
