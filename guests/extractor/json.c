#include "json.h"

#include <stdbool.h>

size_t utf8_sequence(const unsigned char* s, size_t n, size_t* bad_len) {
  unsigned char c = s[0];
  size_t need;
  // Allowed range of the second byte (Unicode Table 3-7): this rules out
  // overlong forms, surrogates and code points above U+10FFFF.
  unsigned char lo = 0x80, hi = 0xBF;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    *bad_len = 1;
    return 0;
  }
  size_t i = 1;
  for (; i < need && i < n; i++) {
    unsigned char lo_i = i == 1 ? lo : 0x80, hi_i = i == 1 ? hi : 0xBF;
    if (s[i] < lo_i || s[i] > hi_i) break;
  }
  if (i == need) return need;
  *bad_len = i;
  return 0;
}

static void json_escape_ascii(Buf* out, unsigned char c) {
  static const char kHex[] = "0123456789abcdef";
  switch (c) {
    case '"': buf_append(out, "\\\"", 2); return;
    case '\\': buf_append(out, "\\\\", 2); return;
    case '\n': buf_append(out, "\\n", 2); return;
    case '\r': buf_append(out, "\\r", 2); return;
    case '\t': buf_append(out, "\\t", 2); return;
    case '\b': buf_append(out, "\\b", 2); return;
    case '\f': buf_append(out, "\\f", 2); return;
    default: break;
  }
  if (c < 0x20) {
    char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
    buf_append(out, esc, sizeof esc);
  } else {
    buf_push(out, (char)c);
  }
}

static bool needs_escape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

void json_string(Buf* out, const char* s, size_t n) {
  const unsigned char* p = (const unsigned char*)s;
  size_t i = 0;
  buf_push(out, '"');
  while (i < n) {
    // Copy runs of plain ASCII in one go; this is the common case.
    size_t run = i;
    while (run < n && !needs_escape(p[run])) run++;
    buf_append(out, s + i, run - i);
    i = run;
    if (i >= n) break;
    if (p[i] < 0x80) {
      json_escape_ascii(out, p[i]);
      i++;
      continue;
    }
    size_t bad = 0;
    size_t len = utf8_sequence(p + i, n - i, &bad);
    if (len) {
      buf_append(out, s + i, len);
      i += len;
    } else {
      buf_append(out, "\xEF\xBF\xBD", 3);
      i += bad;
    }
  }
  buf_push(out, '"');
}
