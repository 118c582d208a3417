#include "strata/module_cache.h"

#include <unistd.h>
#include <xxhash.h>

#include <array>
#include <cstring>
#include <fstream>
#include <thread>
#include <utility>

#include "engine/module_impl.h"
#include "internal/sha256.h"

namespace strata {
namespace {

// Layout: magic | u32 fingerprint length | fingerprint | 16-byte XXH3-128
// of the payload | u64 payload length | payload (wasmtime's artifact, or a
// snapshot's module). The checksum catches a torn or corrupted file, not a
// forger (whoever can write the cache directory can write code), and it is
// checked on every load from disk, so it is xxHash rather than SHA-256.
constexpr char kMagic[8] = {'S', 'T', 'R', 'A', 'T', 'A', 'C', '2'};
constexpr size_t kChecksumBytes = 16;

std::array<uint8_t, kChecksumBytes> Checksum(std::span<const uint8_t> payload) {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits(payload.data(), payload.size()));
  std::array<uint8_t, kChecksumBytes> out;
  std::memcpy(out.data(), canonical.digest, kChecksumBytes);
  return out;
}

void PutU64(Bytes& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(uint8_t(v >> (8 * i)));
}

uint64_t GetU64(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

// The payload of a well-formed entry for `fingerprint`, or an explanation.
Result<std::span<const uint8_t>> ParseEntry(const Bytes& file,
                                            const std::string& fingerprint) {
  auto bad = [](std::string why) {
    return Status(ErrorCode::kIo, "invalid cache entry: " + why);
  };
  size_t pos = 0;
  auto need = [&](size_t n) { return file.size() - pos >= n; };
  if (!need(sizeof kMagic) || std::memcmp(file.data(), kMagic, sizeof kMagic))
    return bad("bad magic");
  pos += sizeof kMagic;
  if (!need(4)) return bad("truncated header");
  uint64_t fp_len = GetU64(&file[pos], 4);
  pos += 4;
  if (!need(fp_len) ||
      std::string(file.begin() + pos, file.begin() + pos + fp_len) != fingerprint)
    return bad("built by another engine configuration");
  pos += fp_len;
  if (!need(kChecksumBytes + 8)) return bad("truncated header");
  const uint8_t* checksum = &file[pos];
  uint64_t len = GetU64(&file[pos + kChecksumBytes], 8);
  pos += kChecksumBytes + 8;
  if (file.size() - pos != len) return bad("payload length mismatch");
  std::span<const uint8_t> payload(&file[pos], len);
  if (std::memcmp(Checksum(payload).data(), checksum, kChecksumBytes) != 0)
    return bad("checksum mismatch");
  return payload;
}

}  // namespace

ModuleCache::ModuleCache(Engine& engine, std::filesystem::path dir,
                         Options options)
    : engine_(engine), dir_(std::move(dir)), options_(options) {}

ModuleCache::~ModuleCache() {
  if (options_.remove_dir_on_destroy) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

ModuleCache::Pin& ModuleCache::Pin::operator=(Pin&& other) noexcept {
  if (this != &other) {
    Reset();
    cache_ = std::exchange(other.cache_, nullptr);
    hash_ = std::move(other.hash_);
  }
  return *this;
}

void ModuleCache::Pin::Reset() {
  if (cache_ != nullptr) std::exchange(cache_, nullptr)->Unpin(hash_);
}

ModuleCache::Pin ModuleCache::PinEntry(const std::string& source_hash) {
  std::lock_guard<std::mutex> lock(pins_mu_);
  ++pins_[source_hash];
  return Pin(this, source_hash);
}

uint32_t ModuleCache::pins(const std::string& source_hash) const {
  std::lock_guard<std::mutex> lock(pins_mu_);
  auto it = pins_.find(source_hash);
  return it == pins_.end() ? 0 : it->second;
}

void ModuleCache::Unpin(const std::string& source_hash) {
  std::lock_guard<std::mutex> lock(pins_mu_);
  auto it = pins_.find(source_hash);
  if (it == pins_.end() || --it->second > 0) return;
  pins_.erase(it);
  // Under pins_mu_, so a new pin cannot appear between the check and the
  // deletion.
  if (options_.prune_unpinned) {
    std::error_code ec;
    std::filesystem::remove(PathFor(source_hash), ec);
  }
}

std::filesystem::path ModuleCache::PathFor(
    const std::string& source_hash) const {
  internal::Sha256 key;
  key.Update(source_hash);
  key.Update("\n");
  key.Update(engine_.fingerprint());
  auto digest = key.Finish();
  return dir_ / (internal::ToHex(digest).substr(0, 32) + ".cwasm");
}

Status ModuleCache::Store(const Module& module) {
  auto artifact = module.Serialize();
  if (!artifact.ok()) return artifact.status();
  return WriteEntry(PathFor(module.hash()), module.name(), *artifact);
}

Status ModuleCache::WriteEntry(const std::filesystem::path& path,
                               const std::string& name,
                               std::span<const uint8_t> payload) {
  if (Status fault = engine_.CheckFault(FaultPoint::kCacheWrite, name);
      !fault.ok()) {
    return Status(ErrorCode::kIo, "module '" + name +
                                      "': cannot write cache entry: " +
                                      fault.message());
  }
  const std::string& fp = engine_.fingerprint();
  Bytes file(kMagic, kMagic + sizeof kMagic);
  PutU64(file, fp.size(), 4);
  file.insert(file.end(), fp.begin(), fp.end());
  auto checksum = Checksum(payload);
  file.insert(file.end(), checksum.begin(), checksum.end());
  PutU64(file, payload.size(), 8);
  file.insert(file.end(), payload.begin(), payload.end());

  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  auto tmp = path;
  tmp += ".tmp." + std::to_string(getpid()) + "." +
         std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(file.data()),
              static_cast<std::streamsize>(file.size()));
    out.close();  // flushes: a full disk fails here, not at the write
    if (!out) {
      std::filesystem::remove(tmp, ec);
      return Status(ErrorCode::kIo, "module '" + name +
                                        "': cannot write cache entry '" +
                                        tmp.string() + "'");
    }
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return Status(ErrorCode::kIo, "module '" + name +
                                      "': cannot install cache entry '" +
                                      path.string() + "'");
  }
  return OkStatus();
}

Result<std::span<const uint8_t>> ModuleCache::ReadEntry(
    const std::filesystem::path& path, const std::string& name, Bytes& file) {
  if (Status fault = engine_.CheckFault(FaultPoint::kCacheRead, name);
      !fault.ok()) {
    return Status(ErrorCode::kNotFound, "module '" + name +
                                            "': cannot read cache entry '" +
                                            path.string() + "': " +
                                            fault.message());
  }
  auto read = ReadFile(path);
  if (!read.ok()) {
    return Status(ErrorCode::kNotFound, "module '" + name +
                                            "': no cache entry at '" +
                                            path.string() + "'");
  }
  file = std::move(*read);
  auto payload = ParseEntry(file, engine_.fingerprint());
  if (!payload.ok()) return Reject(path, name, payload.status());
  return payload;
}

Status ModuleCache::Reject(const std::filesystem::path& path,
                           const std::string& name, const Status& why) {
  rejected_.fetch_add(1, std::memory_order_relaxed);
  std::error_code ec;
  std::filesystem::remove(path, ec);
  return Status(ErrorCode::kNotFound, "module '" + name + "': " +
                                          why.message() + " in '" +
                                          path.string() + "'; removed");
}

Result<std::shared_ptr<const Module>> ModuleCache::Load(
    const std::string& name, const std::string& source_hash) {
  auto path = PathFor(source_hash);
  Bytes file;
  auto payload = ReadEntry(path, name, file);
  if (!payload.ok()) return payload.status();
  auto module = engine_.Deserialize(name, source_hash, *payload);
  if (!module.ok()) return Reject(path, name, module.status());
  return module;
}

std::filesystem::path ModuleCache::SnapshotPathFor(const std::string& key) const {
  return dir_ / (key.substr(0, 32) + ".snapshot");
}

Status ModuleCache::StoreSnapshot(const std::string& key, const std::string& name,
                                  std::span<const uint8_t> wasm) {
  return WriteEntry(SnapshotPathFor(key), name, wasm);
}

Result<Bytes> ModuleCache::LoadSnapshot(const std::string& key,
                                        const std::string& name) {
  Bytes file;
  auto payload = ReadEntry(SnapshotPathFor(key), name, file);
  if (!payload.ok()) return payload.status();
  return Bytes(payload->begin(), payload->end());
}

Result<std::shared_ptr<const Module>> ModuleCache::LoadOrCompile(
    const std::string& name, std::span<const uint8_t> bytes) {
  std::string hash = internal::Sha256Hex(bytes);
  auto cached = Load(name, hash);
  if (cached.ok()) return cached;
  auto compiled = engine_.Compile(name, bytes);
  if (!compiled.ok()) return compiled;
  // A cache that cannot be written only costs the next load a compile.
  (void)Store(**compiled);
  return compiled;
}

bool ModuleCache::Remove(const std::string& source_hash) {
  std::lock_guard<std::mutex> lock(pins_mu_);
  if (pins_.count(source_hash)) return false;
  std::error_code ec;
  std::filesystem::remove(PathFor(source_hash), ec);
  return true;
}

}  // namespace strata
