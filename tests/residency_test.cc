// Measured memory: page-table residency and process RSS.
#include "internal/residency.h"

#include <sys/mman.h>

#include <cstring>

#include <gtest/gtest.h>

namespace strata::internal {
namespace {

TEST(ResidencyTest, CountsOnlyTouchedPages) {
  constexpr size_t kBytes = 64 << 20;
  void* p = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  EXPECT_EQ(PrivateResidentBytes(p, kBytes), 0u);
  std::memset(p, 1, 8 << 20);
  uint64_t resident = PrivateResidentBytes(p, kBytes);
  EXPECT_GE(resident, uint64_t{8} << 20);
  EXPECT_LT(resident, uint64_t{16} << 20);
  madvise(p, kBytes, MADV_DONTNEED);
  EXPECT_EQ(PrivateResidentBytes(p, kBytes), 0u);
  munmap(p, kBytes);
}

TEST(ResidencyTest, ProcessRssIsPositive) { EXPECT_GT(ProcessRssBytes(), 0u); }

}  // namespace
}  // namespace strata::internal
