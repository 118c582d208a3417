#include "strset.h"

#include <stdlib.h>
#include <string.h>

void strset_init(StrSet* set) {
  buf_init(&set->chars);
  set->starts = NULL;
  set->count = 0;
  set->cap = 0;
  set->slots = NULL;
  set->num_slots = 0;
  set->failed = false;
}

void strset_free(StrSet* set) {
  buf_free(&set->chars);
  free(set->starts);
  free(set->slots);
  strset_init(set);
}

static uint64_t hash_bytes(const char* s, size_t n) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a.
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  return h;
}

const char* strset_get(const StrSet* set, size_t i, size_t* n) {
  size_t start = set->starts[i];
  size_t end = i + 1 < set->count ? set->starts[i + 1] : set->chars.len;
  *n = end - start;
  return set->chars.data + start;
}

// Finds the slot holding `s`, or the empty slot where it would go.
static size_t find_slot(const StrSet* set, const char* s, size_t n) {
  size_t mask = set->num_slots - 1;
  size_t i = (size_t)hash_bytes(s, n) & mask;
  while (set->slots[i] != 0) {
    size_t len;
    const char* t = strset_get(set, set->slots[i] - 1, &len);
    if (len == n && memcmp(s, t, n) == 0) break;
    i = (i + 1) & mask;
  }
  return i;
}

// Keeps the table at most half full so probes stay short.
static bool grow_slots(StrSet* set) {
  size_t num = set->num_slots ? set->num_slots * 2 : 64;
  uint32_t* old = set->slots;
  size_t old_num = set->num_slots;
  set->slots = calloc(num, sizeof *set->slots);
  if (!set->slots) {
    set->slots = old;
    return false;
  }
  set->num_slots = num;
  for (size_t i = 0; i < old_num; i++) {
    if (old[i] == 0) continue;
    size_t len;
    const char* t = strset_get(set, old[i] - 1, &len);
    set->slots[find_slot(set, t, len)] = old[i];
  }
  free(old);
  return true;
}

static bool grow_starts(StrSet* set) {
  size_t cap = set->cap ? set->cap * 2 : 64;
  size_t* starts = realloc(set->starts, cap * sizeof *starts);
  if (!starts) return false;
  set->starts = starts;
  set->cap = cap;
  return true;
}

bool strset_add(StrSet* set, const char* s, size_t n) {
  if (set->failed || set->count >= UINT32_MAX - 1) return false;
  if ((set->count + 1) * 2 > set->num_slots && !grow_slots(set)) {
    set->failed = true;
    return false;
  }
  size_t slot = find_slot(set, s, n);
  if (set->slots[slot] != 0) return false;
  if (set->count == set->cap && !grow_starts(set)) {
    set->failed = true;
    return false;
  }
  set->starts[set->count] = set->chars.len;
  buf_append(&set->chars, s, n);
  if (set->chars.failed) {
    set->failed = true;
    return false;
  }
  set->count++;
  set->slots[slot] = (uint32_t)set->count;
  return true;
}
