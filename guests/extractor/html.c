#include "html.h"

#include <string.h>

// How the contents of a raw text element end.
enum {
  kRawNone = 0,
  kRawUntilEndTag,  // style, xmp, iframe, noembed, noframes, noscript.
  kRcdata,          // title, textarea: like above, but references decode.
  kRawScript,       // script: end tag, honoring the "<!--" escape states.
  kRawPlaintext,    // plaintext: everything up to the end of input.
};

typedef struct {
  const char* name;
  int kind;
} RawElement;

static const RawElement kRawElements[] = {
    {"script", kRawScript},       {"style", kRawUntilEndTag},
    {"title", kRcdata},           {"textarea", kRcdata},
    {"xmp", kRawUntilEndTag},     {"iframe", kRawUntilEndTag},
    {"noembed", kRawUntilEndTag}, {"noframes", kRawUntilEndTag},
    // Scripting is on in the browsers we imitate, so <noscript> is raw.
    {"noscript", kRawUntilEndTag}, {"plaintext", kRawPlaintext},
};

static bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool html_name_is(const char* s, size_t n, const char* lower) {
  size_t i = 0;
  for (; i < n; i++) {
    if (lower[i] == '\0' || to_lower(s[i]) != lower[i]) return false;
  }
  return lower[i] == '\0';
}

static bool has_prefix(const char* p, const char* end, const char* prefix) {
  size_t n = strlen(prefix);
  return (size_t)(end - p) >= n && memcmp(p, prefix, n) == 0;
}

// True if `p` starts "<name" (or "</name" when `end_tag`) followed by a
// character that ends a tag name.
static bool tag_at(const char* p, const char* end, const char* name,
                   bool end_tag) {
  size_t n = strlen(name), skip = end_tag ? 2 : 1;
  if ((size_t)(end - p) <= skip + n) return false;
  if (p[0] != '<' || (end_tag && p[1] != '/')) return false;
  if (!html_name_is(p + skip, n, name)) return false;
  char after = p[skip + n];
  return is_space(after) || after == '/' || after == '>';
}

void html_init(HtmlTokenizer* tz, const char* html, size_t len) {
  tz->p = html;
  tz->end = html + len;
  tz->foreign = false;
  tz->raw_name[0] = '\0';
  tz->raw_kind = kRawNone;
}

const HtmlAttr* html_attr(const HtmlToken* tok, const char* name) {
  for (size_t i = 0; i < tok->num_attrs; i++) {
    const HtmlAttr* a = &tok->attrs[i];
    if (html_name_is(a->name, a->name_len, name)) return a;
  }
  return NULL;
}

// ---- Raw text ------------------------------------------------------------

// Script data may hide "</script>" inside "<!-- <script> ... -->" (the
// HTML5 escaped / double-escaped states); a naive search would end early.
static const char* find_script_end(const char* p, const char* end) {
  enum { kData, kEscaped, kDoubleEscaped } state = kData;
  while (p < end) {
    if (*p == '<') {
      if (tag_at(p, end, "script", true)) {
        if (state != kDoubleEscaped) return p;
        state = kEscaped;
        p += 8;
        continue;
      }
      if (state == kData && has_prefix(p, end, "<!--")) {
        state = kEscaped;
        p += 2;  // Leave "--" so that "<!-->" closes again at once.
        continue;
      }
      if (state == kEscaped && tag_at(p, end, "script", false)) {
        state = kDoubleEscaped;
        p += 7;
        continue;
      }
    } else if (*p == '-' && state != kData && has_prefix(p, end, "-->")) {
      state = kData;
      p += 3;
      continue;
    }
    p++;
  }
  return end;
}

static const char* find_end_tag(const char* p, const char* end,
                                const char* name) {
  while (p < end) {
    const char* lt = memchr(p, '<', (size_t)(end - p));
    if (!lt) return end;
    if (tag_at(lt, end, name, true)) return lt;
    p = lt + 1;
  }
  return end;
}

// Emits the contents of the raw text element just opened. The end tag is
// left in the input to be read as an ordinary end tag.
static void read_raw_text(HtmlTokenizer* tz, HtmlToken* tok) {
  const char* start = tz->p;
  const char* stop;
  switch (tz->raw_kind) {
    case kRawScript: stop = find_script_end(start, tz->end); break;
    case kRawPlaintext: stop = tz->end; break;
    default: stop = find_end_tag(start, tz->end, tz->raw_name); break;
  }
  tok->kind = kHtmlRawText;
  tok->text = start;
  tok->text_len = (size_t)(stop - start);
  tok->rcdata = tz->raw_kind == kRcdata;
  memcpy(tok->name, tz->raw_name, sizeof tok->name);
  tz->p = stop;
  tz->raw_name[0] = '\0';
  tz->raw_kind = kRawNone;
}

// After a start tag: switch to raw text if the element calls for it.
static void maybe_enter_raw(HtmlTokenizer* tz, const HtmlToken* tok) {
  if (tz->foreign) {
    // In SVG/MathML only script and style matter, and "<x/>" closes.
    if (tok->self_closing) return;
    if (strcmp(tok->name, "script") != 0 && strcmp(tok->name, "style") != 0)
      return;
  }
  for (size_t i = 0; i < sizeof kRawElements / sizeof kRawElements[0]; i++) {
    if (strcmp(tok->name, kRawElements[i].name) == 0) {
      memcpy(tz->raw_name, tok->name, sizeof tz->raw_name);
      tz->raw_kind = kRawElements[i].kind;
      return;
    }
  }
}

// ---- Tags ----------------------------------------------------------------

static void set_name(HtmlToken* tok, const char* s, size_t n) {
  if (n >= kHtmlMaxTagName) n = 0;
  for (size_t i = 0; i < n; i++) tok->name[i] = to_lower(s[i]);
  tok->name[n] = '\0';
}

static void add_attr(HtmlToken* tok, const char* name, size_t name_len,
                     const char* value, size_t value_len) {
  if (tok->num_attrs >= kHtmlMaxAttrs) return;
  HtmlAttr* a = &tok->attrs[tok->num_attrs++];
  a->name = name;
  a->name_len = name_len;
  a->value = value;
  a->value_len = value_len;
}

// Reads one attribute starting at `p` (a character that starts a name) and
// returns the position after it, or NULL if a quoted value never closes.
static const char* read_attr(HtmlToken* tok, const char* p, const char* end) {
  const char* name = p++;  // The first character may even be '='.
  while (p < end && !is_space(*p) && *p != '/' && *p != '>' && *p != '=') p++;
  size_t name_len = (size_t)(p - name);
  while (p < end && is_space(*p)) p++;
  const char* value = p;
  size_t value_len = 0;
  if (p < end && *p == '=') {
    p++;
    while (p < end && is_space(*p)) p++;
    if (p < end && (*p == '"' || *p == '\'')) {
      const char* close = memchr(p + 1, *p, (size_t)(end - p - 1));
      if (!close) return NULL;
      value = p + 1;
      value_len = (size_t)(close - value);
      p = close + 1;
    } else {
      value = p;
      while (p < end && !is_space(*p) && *p != '>') p++;
      value_len = (size_t)(p - value);
    }
  }
  add_attr(tok, name, name_len, value, value_len);
  return p;
}

// Reads a tag whose name starts at tz->p. Like browsers, drops a tag cut
// off by the end of input (returns false).
static bool read_tag(HtmlTokenizer* tz, HtmlToken* tok) {
  const char* p = tz->p;
  const char* end = tz->end;
  const char* name = p;
  while (p < end && !is_space(*p) && *p != '/' && *p != '>') p++;
  set_name(tok, name, (size_t)(p - name));
  while (p < end) {
    if (is_space(*p)) {
      p++;
    } else if (*p == '>') {
      tz->p = p + 1;
      return true;
    } else if (*p == '/') {
      p++;
      if (p < end && *p == '>') tok->self_closing = true;
    } else {
      p = read_attr(tok, p, end);
      if (!p) break;
    }
  }
  tz->p = end;
  return false;
}

// ---- Comments and other markup to skip -----------------------------------

// `p` is just past "<!--".
static const char* skip_comment(const char* p, const char* end) {
  if (has_prefix(p, end, ">")) return p + 1;  // "<!-->"
  if (has_prefix(p, end, "->")) return p + 2;  // "<!--->"
  while (p < end) {
    const char* dash = memchr(p, '-', (size_t)(end - p));
    if (!dash) break;
    if (has_prefix(dash, end, "-->")) return dash + 3;
    if (has_prefix(dash, end, "--!>")) return dash + 4;
    p = dash + 1;
  }
  return end;  // Unterminated: the comment runs to the end.
}

static const char* skip_to_gt(const char* p, const char* end) {
  const char* gt = memchr(p, '>', (size_t)(end - p));
  return gt ? gt + 1 : end;
}

typedef enum { kNotMarkup, kSkipped, kTag } MarkupResult;

// `tz->p` is at a '<'. Reads a tag into `tok`, skips a comment/doctype, or
// reports that the '<' is just text.
static MarkupResult read_markup(HtmlTokenizer* tz, HtmlToken* tok) {
  const char* p = tz->p + 1;
  const char* end = tz->end;
  if (p >= end) return kNotMarkup;
  if (is_alpha(*p)) {
    tz->p = p;
    tok->kind = kHtmlStartTag;
    return read_tag(tz, tok) ? kTag : kSkipped;
  }
  if (*p == '/') {
    p++;
    if (p >= end) return kNotMarkup;
    if (is_alpha(*p)) {
      tz->p = p;
      tok->kind = kHtmlEndTag;
      return read_tag(tz, tok) ? kTag : kSkipped;
    }
    tz->p = skip_to_gt(p, end);  // "</>" or a bogus comment like "</3>".
    return kSkipped;
  }
  if (*p == '!') {
    tz->p = has_prefix(p, end, "!--") ? skip_comment(p + 3, end)
                                      : skip_to_gt(p, end);
    return kSkipped;
  }
  if (*p == '?') {
    tz->p = skip_to_gt(p, end);
    return kSkipped;
  }
  return kNotMarkup;
}

// True if the '<' at `p` starts something read_markup consumes.
static bool starts_markup(const char* p, const char* end) {
  if (end - p < 2) return false;
  char c = p[1];
  if (c == '/') return end - p >= 3;
  return is_alpha(c) || c == '!' || c == '?';
}

// Text runs up to the next '<' that starts markup (a stray '<' is text).
static const char* find_text_end(const char* p, const char* end) {
  while (p < end) {
    const char* lt = memchr(p, '<', (size_t)(end - p));
    if (!lt) return end;
    if (starts_markup(lt, end)) return lt;
    p = lt + 1;
  }
  return end;
}

// ---- Driver --------------------------------------------------------------

static void reset_token(HtmlToken* tok) {
  tok->text = NULL;
  tok->text_len = 0;
  tok->name[0] = '\0';
  tok->self_closing = false;
  tok->rcdata = false;
  tok->num_attrs = 0;
}

bool html_next(HtmlTokenizer* tz, HtmlToken* tok) {
  reset_token(tok);
  if (tz->raw_kind != kRawNone) {
    read_raw_text(tz, tok);
    if (tok->text_len > 0) return true;
    reset_token(tok);
  }
  while (tz->p < tz->end) {
    const char* start = tz->p;
    if (*start == '<') {
      MarkupResult r = read_markup(tz, tok);
      if (r == kTag) {
        if (tok->kind == kHtmlStartTag) maybe_enter_raw(tz, tok);
        return true;
      }
      if (r == kSkipped) {
        reset_token(tok);
        continue;
      }
    }
    tz->p = find_text_end(start + 1, tz->end);
    tok->kind = kHtmlText;
    tok->text = start;
    tok->text_len = (size_t)(tz->p - start);
    return true;
  }
  return false;
}
