// An insertion-ordered set of byte strings (hash table over one shared
// character buffer), used to deduplicate links while keeping their order.
#ifndef STRATA_EXTRACTOR_STRSET_H_
#define STRATA_EXTRACTOR_STRSET_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef struct {
  Buf chars;        // All strings back to back.
  size_t* starts;   // starts[i]: offset of string i in `chars`.
  size_t count;
  size_t cap;
  uint32_t* slots;  // Open addressing; holds index + 1, 0 when empty.
  size_t num_slots;
  bool failed;
} StrSet;

void strset_init(StrSet* set);
void strset_free(StrSet* set);
// Adds `s` unless present; returns true if it was added.
bool strset_add(StrSet* set, const char* s, size_t n);
// String `i` (in insertion order) and its length.
const char* strset_get(const StrSet* set, size_t i, size_t* n);

#endif  // STRATA_EXTRACTOR_STRSET_H_
