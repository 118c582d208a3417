#include "buf.h"

#include <stdlib.h>
#include <string.h>

void buf_init(Buf* b) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->failed = false;
}

void buf_free(Buf* b) {
  free(b->data);
  buf_init(b);
}

void buf_clear(Buf* b) { b->len = 0; }

bool buf_reserve(Buf* b, size_t extra) {
  if (b->failed) return false;
  // +1 keeps room for the terminator buf_take adds.
  if (extra < b->cap - b->len) return true;
  if (extra > SIZE_MAX / 2 - b->len - 1) {
    b->failed = true;
    return false;
  }
  size_t need = b->len + extra + 1;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) cap *= 2;
  char* data = realloc(b->data, cap);
  if (!data) {
    b->failed = true;
    return false;
  }
  b->data = data;
  b->cap = cap;
  return true;
}

void buf_append(Buf* b, const char* s, size_t n) {
  if (n == 0 || !buf_reserve(b, n)) return;
  memcpy(b->data + b->len, s, n);
  b->len += n;
}

void buf_append_str(Buf* b, const char* s) { buf_append(b, s, strlen(s)); }

void buf_push(Buf* b, char c) {
  if (!buf_reserve(b, 1)) return;
  b->data[b->len++] = c;
}

void buf_push_utf8(Buf* b, uint32_t cp) {
  char out[4];
  size_t n;
  if (cp < 0x80) {
    out[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  buf_append(b, out, n);
}

char* buf_take(Buf* b, size_t* len) {
  if (!buf_reserve(b, 0)) {
    buf_free(b);
    return NULL;
  }
  b->data[b->len] = '\0';
  char* data = b->data;
  if (len) *len = b->len;
  buf_init(b);
  return data;
}
