// A growable byte buffer. Allocation failure is sticky: once `failed` is
// set, appends become no-ops, so callers check once at the end instead of
// after every append.
#ifndef STRATA_EXTRACTOR_BUF_H_
#define STRATA_EXTRACTOR_BUF_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  char* data;
  size_t len;
  size_t cap;
  bool failed;
} Buf;

void buf_init(Buf* b);
void buf_free(Buf* b);
void buf_clear(Buf* b);
// Ensures room for `extra` more bytes; false (and `failed`) on OOM.
bool buf_reserve(Buf* b, size_t extra);
void buf_append(Buf* b, const char* s, size_t n);
void buf_append_str(Buf* b, const char* s);
void buf_push(Buf* b, char c);
// Appends the UTF-8 encoding of code point `cp` (must be a scalar value).
void buf_push_utf8(Buf* b, uint32_t cp);
// Hands the contents (NUL-terminated) to the caller; the buffer is reset.
char* buf_take(Buf* b, size_t* len);

#endif  // STRATA_EXTRACTOR_BUF_H_
