// Compiled modules serialized on disk: the cold tier's on-disk form.
//
// An entry is keyed by the SHA-256 of the module's bytes and the engine's
// fingerprint, and carries a checksum (XXH3-128) of its payload. Loading
// verifies the trailer and the checksum before wasmtime sees a byte, so a
// truncated, corrupted or foreign file is rejected (and deleted), never
// trusted; then wasmtime maps the file, so a loaded module's code and
// memory images are the file's pages in the page cache, not copies.
//
// Entries are content-addressed, so several modules (or pools sharing one
// ModuleCache) may use the same file. A holder pins the entry it relies on;
// with `prune_unpinned`, a file is deleted when its last pin is released,
// and never while one is held. A directory shared with other processes
// should not prune: pins are counted in this process only.
//
// Thread contract: thread-safe; concurrent stores of one key are atomic
// (write to a temporary file, then rename). Pins must not outlive the cache.
//
// Example:
//   strata::ModuleCache cache(*engine, "/var/cache/strata");
//   auto module = cache.LoadOrCompile("extractor", bytes).value();
#ifndef STRATA_MODULE_CACHE_H_
#define STRATA_MODULE_CACHE_H_

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>

#include "strata/engine.h"
#include "strata/module.h"
#include "strata/status.h"

namespace strata {

class ModuleCache {
 public:
  struct Options {
    // Delete an entry's file when its last pin is released.
    bool prune_unpinned = false;
    // Delete the whole directory when the cache is destroyed (a private
    // temporary directory).
    bool remove_dir_on_destroy = false;
  };

  // Keeps an entry's file from being deleted while held. Move-only.
  class Pin {
   public:
    Pin() = default;
    Pin(Pin&& other) noexcept
        : cache_(std::exchange(other.cache_, nullptr)),
          hash_(std::move(other.hash_)) {}
    Pin& operator=(Pin&& other) noexcept;
    ~Pin() { Reset(); }
    bool held() const { return cache_ != nullptr; }
    void Reset();

   private:
    friend class ModuleCache;
    Pin(ModuleCache* cache, std::string hash)
        : cache_(cache), hash_(std::move(hash)) {}
    ModuleCache* cache_ = nullptr;
    std::string hash_;
  };

  ModuleCache(Engine& engine, std::filesystem::path dir, Options options);
  ModuleCache(Engine& engine, std::filesystem::path dir)
      : ModuleCache(engine, std::move(dir), Options()) {}
  ~ModuleCache();
  ModuleCache(const ModuleCache&) = delete;
  ModuleCache& operator=(const ModuleCache&) = delete;

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
  // A pre-initialised module's bytes (strata/snapshot.h), under the key of
  // everything that made them (SnapshotKey), with the same header and
  // checksum as a compiled entry. Loading fails with kNotFound when there is
  // none or it was invalid (then deleted and counted in rejected()).
  Status StoreSnapshot(const std::string& key, const std::string& name,
                       std::span<const uint8_t> wasm);
  Result<Bytes> LoadSnapshot(const std::string& key, const std::string& name);
  std::filesystem::path SnapshotPathFor(const std::string& key) const;
  // Pins the entry for `source_hash` (whether or not its file exists yet).
  Pin PinEntry(const std::string& source_hash);
  // Drops the entry unless it is pinned; false if it was kept.
  bool Remove(const std::string& source_hash);
  uint32_t pins(const std::string& source_hash) const;

  const std::filesystem::path& dir() const { return dir_; }
  uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

 private:
  class MappedFile;
  void Unpin(const std::string& source_hash);
  Status WriteEntry(const std::filesystem::path& path, const std::string& name,
                    std::span<const uint8_t> payload);
  // The checked payload of the entry at `path`, a span of `file` (which it
  // maps).
  Result<std::span<const uint8_t>> ReadEntry(const std::filesystem::path& path,
                                             const std::string& name,
                                             std::optional<MappedFile>& file);
  Status Reject(const std::filesystem::path& path, const std::string& name,
                const Status& why);

  Engine& engine_;
  std::filesystem::path dir_;
  const Options options_;
  std::atomic<uint64_t> rejected_{0};
  mutable std::mutex pins_mu_;
  std::map<std::string, uint32_t> pins_;  // by source hash, under pins_mu_
};

}  // namespace strata

#endif  // STRATA_MODULE_CACHE_H_
