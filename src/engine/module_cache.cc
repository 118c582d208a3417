#include "strata/module_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>
#include <utility>

#include "engine/module_impl.h"
#include "internal/sha256.h"

namespace strata {
namespace {

// Layout: payload (wasmtime's artifact, or a snapshot's module) | trailer:
// u32 fingerprint length | fingerprint | 16-byte XXH3-128 of the payload |
// u64 payload length | u32 trailer length | magic.
//
// The payload comes first so that wasmtime maps a compiled entry straight
// from its file (Module::deserialize_file): its code and its memory images
// are then pages of the file in the page cache, where a copy in memory
// would be read, copied into wasmtime's mapping and copied again into a
// memfd per memory image on the first instantiation. wasmtime reads the
// ELF image by its own offsets and ignores the trailer after it.
//
// The checksum catches a torn or corrupted file, not a forger (whoever can
// write the cache directory can write code), and it is checked on every
// load from disk, so it is xxHash rather than SHA-256. Entries are only
// ever replaced by rename, never written in place, so a file that a loaded
// module maps does not change under it.
constexpr char kMagic[8] = {'S', 'T', 'R', 'A', 'T', 'A', 'C', '3'};
constexpr size_t kChecksumBytes = 16;
// What ends every trailer: its length and the magic.
constexpr size_t kTailBytes = 4 + sizeof kMagic;

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

Bytes Trailer(std::span<const uint8_t> payload, const std::string& fingerprint) {
  Bytes trailer;
  PutU64(trailer, fingerprint.size(), 4);
  trailer.insert(trailer.end(), fingerprint.begin(), fingerprint.end());
  auto checksum = Checksum(payload);
  trailer.insert(trailer.end(), checksum.begin(), checksum.end());
  PutU64(trailer, payload.size(), 8);
  PutU64(trailer, trailer.size() + kTailBytes, 4);
  trailer.insert(trailer.end(), kMagic, kMagic + sizeof kMagic);
  return trailer;
}

// The payload of a well-formed entry for `fingerprint`, or an explanation.
Result<std::span<const uint8_t>> ParseEntry(std::span<const uint8_t> file,
                                            const std::string& fingerprint) {
  auto bad = [](std::string why) {
    return Status(ErrorCode::kIo, "invalid cache entry: " + why);
  };
  if (file.size() < kTailBytes ||
      std::memcmp(file.data() + file.size() - sizeof kMagic, kMagic, sizeof kMagic))
    return bad("bad magic");
  uint64_t trailer_len = GetU64(file.data() + file.size() - kTailBytes, 4);
  if (trailer_len < 4 + kChecksumBytes + 8 + kTailBytes || trailer_len > file.size())
    return bad("truncated trailer");
  size_t pos = file.size() - trailer_len;
  uint64_t fp_len = GetU64(&file[pos], 4);
  pos += 4;
  if (fp_len != trailer_len - (4 + kChecksumBytes + 8 + kTailBytes) ||
      std::string_view(reinterpret_cast<const char*>(&file[pos]), fp_len) != fingerprint)
    return bad("built by another engine configuration");
  pos += fp_len;
  const uint8_t* checksum = &file[pos];
  uint64_t len = GetU64(&file[pos + kChecksumBytes], 8);
  if (len != file.size() - trailer_len) return bad("payload length mismatch");
  std::span<const uint8_t> payload = file.first(len);
  if (std::memcmp(Checksum(payload).data(), checksum, kChecksumBytes) != 0)
    return bad("checksum mismatch");
  return payload;
}

}  // namespace

// A cache file mapped read-only for as long as it is checked.
class ModuleCache::MappedFile {
 public:
  static Result<MappedFile> Open(const std::filesystem::path& path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status(ErrorCode::kNotFound, std::strerror(errno));
    struct stat st {};
    void* data = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
      data = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE,
                  fd, 0);
    }
    int err = errno;
    close(fd);
    if (data == MAP_FAILED) {
      // An empty file is a truncated entry, not a missing one.
      if (st.st_size == 0) return MappedFile(nullptr, 0);
      return Status(ErrorCode::kNotFound, std::strerror(err));
    }
    return MappedFile(static_cast<const uint8_t*>(data), static_cast<size_t>(st.st_size));
  }
  MappedFile(MappedFile&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  MappedFile& operator=(MappedFile&&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) munmap(const_cast<uint8_t*>(data_), size_);
  }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  MappedFile(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  const uint8_t* data_;
  size_t size_;
};

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
  Bytes trailer = Trailer(payload, engine_.fingerprint());
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  auto tmp = path;
  tmp += ".tmp." + std::to_string(getpid()) + "." +
         std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(payload.data()),
              static_cast<std::streamsize>(payload.size()));
    out.write(reinterpret_cast<const char*>(trailer.data()),
              static_cast<std::streamsize>(trailer.size()));
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
    const std::filesystem::path& path, const std::string& name,
    std::optional<MappedFile>& file) {
  if (Status fault = engine_.CheckFault(FaultPoint::kCacheRead, name);
      !fault.ok()) {
    return Status(ErrorCode::kNotFound, "module '" + name +
                                            "': cannot read cache entry '" +
                                            path.string() + "': " +
                                            fault.message());
  }
  auto mapped = MappedFile::Open(path);
  if (!mapped.ok()) {
    return Status(ErrorCode::kNotFound, "module '" + name +
                                            "': no cache entry at '" +
                                            path.string() + "'");
  }
  file.emplace(std::move(*mapped));
  auto payload = ParseEntry(file->bytes(), engine_.fingerprint());
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
  {
    std::optional<MappedFile> file;
    auto payload = ReadEntry(path, name, file);
    if (!payload.ok()) return payload.status();
  }
  // Checked; wasmtime maps the file itself (see the layout above).
  auto module = engine_.DeserializeFile(name, source_hash, path);
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
  std::optional<MappedFile> file;
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
