#include "internal/residency.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

namespace strata::internal {
namespace {

constexpr uint64_t kPresent = uint64_t{1} << 63;
constexpr uint64_t kFileOrSharedAnon = uint64_t{1} << 61;

size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

// -1 when pagemap cannot be opened (e.g. a hardened /proc).
int PagemapFd() {
  static const int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  return fd;
}

uint64_t MincoreBytes(uintptr_t start, size_t pages) {
  std::vector<unsigned char> vec(pages);
  if (mincore(reinterpret_cast<void*>(start), pages * PageSize(), vec.data()))
    return 0;
  uint64_t resident = 0;
  for (unsigned char v : vec) resident += (v & 1) ? PageSize() : 0;
  return resident;
}

// Present pages of [base, base + len) whose pagemap entry passes `counts`.
template <typename Counts>
uint64_t PagemapBytes(const void* base, size_t len, Counts counts) {
  if (base == nullptr || len == 0) return 0;
  const size_t page = PageSize();
  uintptr_t start = reinterpret_cast<uintptr_t>(base) & ~(page - 1);
  uintptr_t end = reinterpret_cast<uintptr_t>(base) + len;
  size_t pages = (end - start + page - 1) / page;
  int fd = PagemapFd();
  if (fd < 0) return MincoreBytes(start, pages);

  uint64_t resident = 0;
  // Entries per pread, on the stack: this runs on the request path (each
  // returned instance is measured), so it allocates nothing.
  constexpr size_t kChunk = 512;
  uint64_t entries[kChunk];
  for (size_t done = 0; done < pages;) {
    size_t n = std::min(kChunk, pages - done);
    off_t offset = static_cast<off_t>((start / page + done) * sizeof(uint64_t));
    ssize_t got = pread(fd, entries, n * sizeof(uint64_t), offset);
    if (got <= 0) return MincoreBytes(start, pages);
    size_t got_entries = static_cast<size_t>(got) / sizeof(uint64_t);
    for (size_t i = 0; i < got_entries; ++i) {
      uint64_t e = entries[i];
      if ((e & kPresent) && counts(e)) resident += page;
    }
    done += got_entries;
  }
  return resident;
}

}  // namespace

uint64_t PrivateResidentBytes(const void* base, size_t len) {
  return PagemapBytes(base, len,
                      [](uint64_t e) { return !(e & kFileOrSharedAnon); });
}

uint64_t ResidentBytes(const void* base, size_t len) {
  if (base == nullptr || len == 0) return 0;
  const size_t page = PageSize();
  uintptr_t start = reinterpret_cast<uintptr_t>(base) & ~(page - 1);
  uintptr_t end = reinterpret_cast<uintptr_t>(base) + len;
  return MincoreBytes(start, (end - start + page - 1) / page);
}

uint64_t ProcessRssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, rss = 0;
  int n = std::fscanf(f, "%llu %llu", &size, &rss);
  std::fclose(f);
  return n == 2 ? rss * PageSize() : 0;
}

}  // namespace strata::internal
