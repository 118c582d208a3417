// The reactor calling convention between strata and a guest module.
//
// A reactor guest exports its linear memory, `strata_alloc` and any number of
// entry points of type (i32 ptr, i32 len) -> i64. For one call the host
//   1. calls strata_alloc(len) and copies the input into the guest's memory,
//   2. calls the entry point with (ptr, len),
//   3. reads the output at the packed result: high 32 bits pointer, low 32
//      bits length (strata_pack below),
//   4. calls strata_free on the input and the output, if the guest exports it,
//      so that an instance reused for many calls does not grow.
// Including this header in exactly one translation unit defines the exports.
#ifndef STRATA_GUEST_H_
#define STRATA_GUEST_H_

#include <stdint.h>
#include <stdlib.h>

#define STRATA_EXPORT(name) __attribute__((export_name(#name))) name

static inline uint64_t strata_pack(const void* ptr, uint32_t len) {
  return ((uint64_t)(uintptr_t)ptr << 32) | len;
}

// Allocates `len` bytes (at least one) for the host to write the input into.
__attribute__((export_name("strata_alloc"))) void* strata_alloc(uint32_t len) {
  return malloc(len ? len : 1);
}

// Frees a buffer returned by strata_alloc or an entry point.
__attribute__((export_name("strata_free"))) void strata_free(void* ptr) {
  free(ptr);
}

#endif  // STRATA_GUEST_H_
