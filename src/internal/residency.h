// Measured memory: which pages of a mapping are resident, and the process's
// resident set. The pool's budget is enforced on these numbers, not on
// estimates.
#ifndef STRATA_INTERNAL_RESIDENCY_H_
#define STRATA_INTERNAL_RESIDENCY_H_

#include <cstddef>
#include <cstdint>

namespace strata::internal {

// Bytes of [base, base + len) that are resident and private to this process
// (anonymous pages: a copy-on-write image page counts once it is dirtied).
// Reads /proc/self/pagemap; falls back to mincore(2), which also counts
// clean shared pages, when pagemap is unavailable.
uint64_t PrivateResidentBytes(const void* base, size_t len);

// Bytes of [base, base + len) that are in memory, private or shared (for a
// module's compiled image, a private copy or a mapping of its cache file:
// mincore(2) counts a file's pages in the page cache whether or not this
// process has touched them yet).
uint64_t ResidentBytes(const void* base, size_t len);

// The process's resident set size in bytes (/proc/self/statm).
uint64_t ProcessRssBytes();

}  // namespace strata::internal

#endif  // STRATA_INTERNAL_RESIDENCY_H_
