#include "url.h"

#include <string.h>

// A slice of a URL string; `present` distinguishes "?" from no query.
typedef struct {
  const char* s;
  size_t n;
  bool present;
} Part;

typedef struct {
  Part scheme, authority, path, query;
} Url;

static bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool part_is(Part p, const char* lower) {
  size_t n = strlen(lower);
  if (p.n != n) return false;
  for (size_t i = 0; i < n; i++) {
    if (to_lower(p.s[i]) != lower[i]) return false;
  }
  return true;
}

static Part make_part(const char* s, size_t n) {
  Part p = {s, n, true};
  return p;
}

// Splits a fragment-free URL reference into its components (RFC 3986,
// appendix B, with a valid scheme required as in browsers).
static void url_split(const char* s, size_t n, Url* u) {
  memset(u, 0, sizeof *u);
  if (!s) s = "";  // An empty Buf has no data pointer.
  size_t i = 0;
  if (n > 0 && is_alpha(s[0])) {
    size_t j = 1;
    while (j < n && (is_alpha(s[j]) || is_digit(s[j]) || s[j] == '+' ||
                     s[j] == '-' || s[j] == '.')) {
      j++;
    }
    if (j < n && s[j] == ':') {
      u->scheme = make_part(s, j);
      i = j + 1;
    }
  }
  if (n - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
    size_t j = i + 2;
    while (j < n && s[j] != '/' && s[j] != '?') j++;
    u->authority = make_part(s + i + 2, j - i - 2);
    i = j;
  }
  size_t j = i;
  while (j < n && s[j] != '?') j++;
  u->path = make_part(s + i, j - i);
  if (j < n) u->query = make_part(s + j + 1, n - j - 1);
}

static bool is_special(Part scheme) {
  return part_is(scheme, "http") || part_is(scheme, "https") ||
         part_is(scheme, "ftp") || part_is(scheme, "ws") ||
         part_is(scheme, "wss") || part_is(scheme, "file");
}

static bool is_default_port(Part scheme, Part port) {
  return ((part_is(scheme, "http") || part_is(scheme, "ws")) &&
          part_is(port, "80")) ||
         ((part_is(scheme, "https") || part_is(scheme, "wss")) &&
          part_is(port, "443")) ||
         (part_is(scheme, "ftp") && part_is(port, "21"));
}

// ---- Output --------------------------------------------------------------

// Bytes that may not appear raw in a URL are percent-encoded, as browsers
// do for hrefs (non-ASCII becomes its UTF-8 bytes, or the page's bytes).
static bool needs_percent(unsigned char c) {
  return c <= 0x20 || c >= 0x7F || c == '"' || c == '<' || c == '>' ||
         c == '`';
}

static void append_encoded(Buf* out, const char* s, size_t n) {
  static const char kHex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (needs_percent(c)) {
      char esc[3] = {'%', kHex[c >> 4], kHex[c & 0xF]};
      buf_append(out, esc, 3);
    } else {
      buf_push(out, (char)c);
    }
  }
}

static void append_lower(Buf* out, const char* s, size_t n) {
  for (size_t i = 0; i < n; i++) buf_push(out, to_lower(s[i]));
}

// userinfo@host:port with the host lowercased and a default port dropped.
static void append_authority(Buf* out, Part scheme, Part auth) {
  const char* s = auth.s;
  size_t n = auth.n;
  size_t host = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '@') host = i + 1;
  }
  append_encoded(out, s, host);
  size_t colon = n;  // Port separator; skip IPv6 literal brackets.
  size_t i = host;
  if (i < n && s[i] == '[') {
    while (i < n && s[i] != ']') i++;
  }
  for (; i < n; i++) {
    if (s[i] == ':') {
      colon = i;
      break;
    }
  }
  append_lower(out, s + host, colon - host);
  if (colon + 1 >= n) return;  // No port, or an empty one.
  Part port = make_part(s + colon + 1, n - colon - 1);
  if (is_default_port(scheme, port)) return;
  buf_push(out, ':');
  append_encoded(out, port.s, port.n);
}

// Drops the last segment and its preceding '/' from out[start..].
static void pop_segment(Buf* out, size_t start) {
  size_t i = out->len;
  while (i > start && out->data[i - 1] != '/') i--;
  out->len = i > start ? i - 1 : start;
}

static bool has_prefix(const char* s, size_t n, const char* prefix) {
  size_t m = strlen(prefix);
  return n >= m && memcmp(s, prefix, m) == 0;
}

static bool equals(const char* s, size_t n, const char* lit) {
  return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

// RFC 3986 5.2.4 remove_dot_segments, appending the result to `out`.
// Linear: each input byte is consumed once and popped at most once.
static void append_path(Buf* out, const char* s, size_t n) {
  size_t start = out->len;
  size_t i = 0;
  while (i < n && !out->failed) {
    const char* in = s + i;
    size_t m = n - i;
    if (has_prefix(in, m, "../")) {
      i += 3;
    } else if (has_prefix(in, m, "./")) {
      i += 2;
    } else if (has_prefix(in, m, "/./")) {
      i += 2;
    } else if (equals(in, m, "/.")) {
      buf_push(out, '/');
      break;
    } else if (has_prefix(in, m, "/../")) {
      i += 3;
      pop_segment(out, start);
    } else if (equals(in, m, "/..")) {
      pop_segment(out, start);
      buf_push(out, '/');
      break;
    } else if (equals(in, m, ".") || equals(in, m, "..")) {
      break;
    } else {
      size_t j = i + 1;  // A leading '/' belongs to the segment.
      while (j < n && s[j] != '/') j++;
      append_encoded(out, s + i, j - i);
      i = j;
    }
  }
}

// RFC 3986 5.2.3: the base path up to its last '/', then the reference.
static void append_merged_path(Buf* out, Buf* tmp, const Url* base,
                               Part ref_path) {
  buf_clear(tmp);
  if (base->authority.present && base->path.n == 0) {
    buf_push(tmp, '/');
  } else {
    size_t dir = base->path.n;
    while (dir > 0 && base->path.s[dir - 1] != '/') dir--;
    buf_append(tmp, base->path.s, dir);
  }
  buf_append(tmp, ref_path.s, ref_path.n);
  if (!tmp->failed) append_path(out, tmp->data, tmp->len);
}

static void append_url(Buf* out, Part scheme, Part authority) {
  append_lower(out, scheme.s, scheme.n);
  buf_push(out, ':');
  if (authority.present) {
    buf_append(out, "//", 2);
    append_authority(out, scheme, authority);
  }
}

static void append_query(Buf* out, Part query) {
  if (!query.present) return;
  buf_push(out, '?');
  append_encoded(out, query.s, query.n);
}

// ---- Resolution ----------------------------------------------------------

// RFC 3986 5.2.2 (the strict variant), writing the target URL to `out`.
static void resolve_parts(const Url* base, const Url* ref, Buf* out,
                          Buf* tmp) {
  const Url* src = ref->scheme.present      ? ref
                   : ref->authority.present ? ref
                                            : base;
  Part scheme = ref->scheme.present ? ref->scheme : base->scheme;
  append_url(out, scheme, src->authority);
  size_t path_start = out->len;
  if (src == ref) {
    append_path(out, ref->path.s, ref->path.n);
  } else if (ref->path.n == 0) {
    append_path(out, base->path.s, base->path.n);
  } else if (ref->path.s[0] == '/') {
    append_path(out, ref->path.s, ref->path.n);
  } else {
    append_merged_path(out, tmp, base, ref->path);
  }
  // Browsers show "http://host" as "http://host/".
  if (src->authority.present && out->len == path_start && is_special(scheme))
    buf_push(out, '/');
  bool keep_base_query = src == base && ref->path.n == 0 &&
                         !ref->query.present;
  append_query(out, keep_base_query ? base->query : ref->query);
}

static bool is_c0_or_space(char c) {
  return (unsigned char)c <= 0x20;
}

// Copies `ref` to `out` the way browsers clean hrefs: outer whitespace and
// controls trimmed, tabs and newlines removed, fragment dropped. Returns
// whether a '#' was at the very start (a same-page link).
static bool clean_ref(const char* ref, size_t n, Buf* out) {
  while (n > 0 && is_c0_or_space(ref[0])) {
    ref++;
    n--;
  }
  while (n > 0 && is_c0_or_space(ref[n - 1])) n--;
  buf_clear(out);
  for (size_t i = 0; i < n; i++) {
    char c = ref[i];
    if (c == '#') return i == 0;
    if (c != '\t' && c != '\n' && c != '\r') buf_push(out, c);
  }
  return false;
}

// Special schemes treat '\' like '/' before the query (WHATWG URL).
static void fix_backslashes(Buf* ref) {
  for (size_t i = 0; i < ref->len && ref->data[i] != '?'; i++) {
    if (ref->data[i] == '\\') ref->data[i] = '/';
  }
}

static bool is_skipped_scheme(Part scheme) {
  return part_is(scheme, "javascript") || part_is(scheme, "mailto") ||
         part_is(scheme, "tel") || part_is(scheme, "data");
}

static bool resolve(UrlResolver* r, const char* ref, size_t n, Buf* out,
                    bool skip_non_links) {
  buf_clear(out);
  bool fragment_only = clean_ref(ref, n, &r->scratch);
  if (r->scratch.failed) return false;
  if (skip_non_links && (fragment_only || r->scratch.len == 0)) return false;
  Url base, target;
  url_split(r->base.data, r->base.len, &base);
  url_split(r->scratch.data, r->scratch.len, &target);
  if (skip_non_links && is_skipped_scheme(target.scheme)) return false;
  if (!target.scheme.present && base.scheme.present) {
    if (is_special(base.scheme)) fix_backslashes(&r->scratch);
  } else if (is_special(target.scheme)) {
    fix_backslashes(&r->scratch);
  }
  url_split(r->scratch.data, r->scratch.len, &target);
  if (target.scheme.present || base.scheme.present) {
    resolve_parts(&base, &target, out, &r->merged);
  } else {
    buf_append(out, r->scratch.data, r->scratch.len);
  }
  return !out->failed;
}

void url_resolver_init(UrlResolver* r) {
  buf_init(&r->base);
  buf_init(&r->scratch);
  buf_init(&r->merged);
}

void url_resolver_free(UrlResolver* r) {
  buf_free(&r->base);
  buf_free(&r->scratch);
  buf_free(&r->merged);
}

bool url_has_base(const UrlResolver* r) { return r->base.len > 0; }

bool url_set_base(UrlResolver* r, const char* url, size_t n) {
  Buf resolved;
  buf_init(&resolved);
  bool ok = resolve(r, url, n, &resolved, false);
  Url parts;
  url_split(resolved.data, resolved.len, &parts);
  if (ok && parts.scheme.present) {
    buf_free(&r->base);
    r->base = resolved;
    return true;
  }
  buf_free(&resolved);
  return false;
}

bool url_resolve(UrlResolver* r, const char* ref, size_t n, Buf* out) {
  return resolve(r, ref, n, out, true);
}
