#include "entity.h"

#include <string.h>

typedef struct {
  const char* name;
  uint16_t cp;
  // Legacy names may appear without the trailing ';' (e.g. "&amp" or
  // "&copy 2024"); all others need it.
  uint8_t legacy;
} Entity;

// Sorted by name (byte order) for binary search.
static const Entity kEntities[] = {
  {"AElig", 198, 1}, {"AMP", 38, 1}, {"Aacute", 193, 1}, {"Acirc", 194, 1},
  {"Agrave", 192, 1}, {"Aring", 197, 1}, {"Atilde", 195, 1}, {"Auml", 196, 1},
  {"COPY", 169, 1}, {"Ccedil", 199, 1}, {"Dagger", 8225, 0}, {"ETH", 208, 1},
  {"Eacute", 201, 1}, {"Ecirc", 202, 1}, {"Egrave", 200, 1}, {"Euml", 203, 1},
  {"GT", 62, 1}, {"Iacute", 205, 1}, {"Icirc", 206, 1}, {"Igrave", 204, 1},
  {"Iuml", 207, 1}, {"LT", 60, 1}, {"NewLine", 10, 0}, {"Ntilde", 209, 1},
  {"OElig", 338, 0}, {"Oacute", 211, 1}, {"Ocirc", 212, 1}, {"Ograve", 210, 1},
  {"Oslash", 216, 1}, {"Otilde", 213, 1}, {"Ouml", 214, 1}, {"Prime", 8243, 0},
  {"QUOT", 34, 1}, {"REG", 174, 1}, {"Scaron", 352, 0}, {"THORN", 222, 1},
  {"Tab", 9, 0}, {"Uacute", 218, 1}, {"Ucirc", 219, 1}, {"Ugrave", 217, 1},
  {"Uuml", 220, 1}, {"Yacute", 221, 1}, {"Yuml", 376, 0}, {"aacute", 225, 1},
  {"acirc", 226, 1}, {"acute", 180, 1}, {"aelig", 230, 1}, {"agrave", 224, 1},
  {"amp", 38, 1}, {"apos", 39, 0}, {"aring", 229, 1}, {"asymp", 8776, 0},
  {"atilde", 227, 1}, {"auml", 228, 1}, {"bdquo", 8222, 0}, {"brvbar", 166, 1},
  {"bull", 8226, 0}, {"ccedil", 231, 1}, {"cedil", 184, 1}, {"cent", 162, 1},
  {"circ", 710, 0}, {"colon", 58, 0}, {"comma", 44, 0}, {"copy", 169, 1},
  {"curren", 164, 1}, {"dagger", 8224, 0}, {"darr", 8595, 0}, {"deg", 176, 1},
  {"divide", 247, 1}, {"eacute", 233, 1}, {"ecirc", 234, 1}, {"egrave", 232, 1},
  {"emsp", 8195, 0}, {"ensp", 8194, 0}, {"eth", 240, 1}, {"euml", 235, 1},
  {"euro", 8364, 0}, {"excl", 33, 0}, {"fnof", 402, 0}, {"frac12", 189, 1},
  {"frac14", 188, 1}, {"frac34", 190, 1}, {"ge", 8805, 0}, {"gt", 62, 1},
  {"harr", 8596, 0}, {"hearts", 9829, 0}, {"hellip", 8230, 0},
  {"hyphen", 8208, 0}, {"iacute", 237, 1}, {"icirc", 238, 1}, {"iexcl", 161, 1},
  {"igrave", 236, 1}, {"infin", 8734, 0}, {"iquest", 191, 1}, {"iuml", 239, 1},
  {"laquo", 171, 1}, {"larr", 8592, 0}, {"ldquo", 8220, 0}, {"le", 8804, 0},
  {"lowbar", 95, 0}, {"loz", 9674, 0}, {"lpar", 40, 0}, {"lrm", 8206, 0},
  {"lsaquo", 8249, 0}, {"lsquo", 8216, 0}, {"lt", 60, 1}, {"macr", 175, 1},
  {"mdash", 8212, 0}, {"micro", 181, 1}, {"middot", 183, 1}, {"minus", 8722, 0},
  {"nbsp", 160, 1}, {"ndash", 8211, 0}, {"ne", 8800, 0}, {"not", 172, 1},
  {"ntilde", 241, 1}, {"num", 35, 0}, {"oacute", 243, 1}, {"ocirc", 244, 1},
  {"oelig", 339, 0}, {"ograve", 242, 1}, {"ordf", 170, 1}, {"ordm", 186, 1},
  {"oslash", 248, 1}, {"otilde", 245, 1}, {"ouml", 246, 1}, {"para", 182, 1},
  {"period", 46, 0}, {"permil", 8240, 0}, {"plusmn", 177, 1}, {"pound", 163, 1},
  {"prime", 8242, 0}, {"quest", 63, 0}, {"quot", 34, 1}, {"raquo", 187, 1},
  {"rarr", 8594, 0}, {"rdquo", 8221, 0}, {"reg", 174, 1}, {"rlm", 8207, 0},
  {"rpar", 41, 0}, {"rsaquo", 8250, 0}, {"rsquo", 8217, 0}, {"sbquo", 8218, 0},
  {"scaron", 353, 0}, {"sect", 167, 1}, {"shy", 173, 1}, {"sol", 47, 0},
  {"sup1", 185, 1}, {"sup2", 178, 1}, {"sup3", 179, 1}, {"szlig", 223, 1},
  {"thinsp", 8201, 0}, {"thorn", 254, 1}, {"tilde", 732, 0}, {"times", 215, 1},
  {"trade", 8482, 0}, {"uacute", 250, 1}, {"uarr", 8593, 0}, {"ucirc", 251, 1},
  {"ugrave", 249, 1}, {"uml", 168, 1}, {"uuml", 252, 1}, {"yacute", 253, 1},
  {"yen", 165, 1}, {"yuml", 255, 1}, {"zwj", 8205, 0}, {"zwnj", 8204, 0},
};

enum { kMaxLegacyName = 6, kMaxEntityName = 32 };

// Windows-1252 meanings of &#128; .. &#159;, as browsers decode them.
static const uint16_t kC1Fixups[32] = {
    0x20AC, 0x81,   0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,   0x017D, 0x8F,
    0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D,   0x017E, 0x0178,
};

static bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static const Entity* lookup(const char* name, size_t len) {
  size_t lo = 0, hi = sizeof kEntities / sizeof kEntities[0];
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const char* e = kEntities[mid].name;
    int cmp = strncmp(name, e, len);
    if (cmp == 0 && e[len] != '\0') cmp = -1;  // `name` is a proper prefix.
    if (cmp == 0) return &kEntities[mid];
    if (cmp < 0) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return NULL;
}

static uint32_t fix_numeric(uint32_t v) {
  if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0xFFFD;
  if (v >= 0x80 && v <= 0x9F) return kC1Fixups[v - 0x80];
  return v;
}

// "&#233;" / "&#xE9;" (the ';' is optional, as in browsers).
static size_t decode_numeric(const char* p, size_t n, uint32_t* cp) {
  size_t i = 2;  // Past "&#".
  bool hex = i < n && (p[i] == 'x' || p[i] == 'X');
  if (hex) i++;
  size_t digits_start = i;
  uint32_t v = 0;
  for (; i < n; i++) {
    int d = hex ? hex_value(p[i]) : (p[i] >= '0' && p[i] <= '9' ? p[i] - '0'
                                                               : -1);
    if (d < 0) break;
    // Saturate instead of overflowing; anything this large is invalid.
    v = v > 0x10FFFF ? v : v * (hex ? 16 : 10) + (uint32_t)d;
  }
  if (i == digits_start) return 0;
  if (i < n && p[i] == ';') i++;
  *cp = fix_numeric(v);
  return i;
}

static size_t decode_named(const char* p, size_t n, bool in_attr,
                           uint32_t* cp) {
  size_t run = 0;
  while (1 + run < n && run <= kMaxEntityName && is_alnum(p[1 + run])) run++;
  if (run == 0) return 0;
  if (run <= kMaxEntityName && 1 + run < n && p[1 + run] == ';') {
    const Entity* e = lookup(p + 1, run);
    if (e) {
      *cp = e->cp;
      return run + 2;
    }
  }
  // Without ';' only legacy names count, longest match first.
  for (size_t len = run < kMaxLegacyName ? run : kMaxLegacyName; len >= 2;
       len--) {
    const Entity* e = lookup(p + 1, len);
    if (!e || !e->legacy) continue;
    if (in_attr && 1 + len < n && (is_alnum(p[1 + len]) || p[1 + len] == '='))
      return 0;
    *cp = e->cp;
    return 1 + len;
  }
  return 0;
}

size_t entity_decode(const char* p, size_t n, bool in_attr, uint32_t* cp) {
  if (n < 2 || p[0] != '&') return 0;
  if (p[1] == '#') return decode_numeric(p, n, cp);
  return decode_named(p, n, in_attr, cp);
}

void entity_decode_all(Buf* out, const char* s, size_t n, bool in_attr) {
  size_t i = 0;
  while (i < n) {
    const char* amp = memchr(s + i, '&', n - i);
    size_t stop = amp ? (size_t)(amp - s) : n;
    buf_append(out, s + i, stop - i);
    i = stop;
    if (i >= n) break;
    uint32_t cp;
    size_t used = entity_decode(s + i, n - i, in_attr, &cp);
    if (used) {
      buf_push_utf8(out, cp);
      i += used;
    } else {
      buf_push(out, '&');
      i++;
    }
  }
}
