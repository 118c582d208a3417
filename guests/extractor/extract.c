#include "extract.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "entity.h"
#include "html.h"
#include "json.h"
#include "strset.h"
#include "url.h"

// ---- Whitespace-collapsing text sink --------------------------------------

// Appends text with whitespace runs collapsed to one space and no leading or
// trailing space. U+00A0 counts as whitespace; NUL bytes are dropped.
typedef struct {
  Buf out;
  bool pending_space;
} Sink;

static bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

// A separator between words, e.g. at a block element boundary.
static void sink_break(Sink* s) { s->pending_space = s->out.len > 0; }

static void sink_write(Sink* s, const char* text, size_t n) {
  size_t i = 0;
  while (i < n) {
    char c = text[i];
    if (is_ascii_space(c)) {
      sink_break(s);
      i++;
    } else if (c == '\xC2' && i + 1 < n && text[i + 1] == '\xA0') {
      sink_break(s);
      i += 2;
    } else if (c == '\0') {
      i++;
    } else {
      if (s->pending_space) buf_push(&s->out, ' ');
      s->pending_space = false;
      // Copy the rest of the word in one go.
      size_t j = i + 1;
      while (j < n && !is_ascii_space(text[j]) && text[j] != '\xC2' &&
             text[j] != '\0') {
        j++;
      }
      buf_append(&s->out, text + i, j - i);
      i = j;
    }
  }
}

// ---- Extraction state -----------------------------------------------------

// Metadata values; for each the first non-empty occurrence wins.
enum {
  kTitle,
  kOgTitle,
  kDescription,
  kOgDescription,
  kCanonical,
  kLang,
  kMetaLang,
  kNumFields,
};

typedef struct {
  UrlResolver urls;
  Sink fields[kNumFields];
  Sink text;
  StrSet links;
  size_t link_budget;  // Bytes of URL work left; see on_anchor.
  size_t template_depth;
  size_t foreign_depth;
  size_t titles_seen;  // <title> elements outside SVG/MathML so far.
  HtmlTokenizer* tz;
  Buf scratch;
  Buf resolved;
} Extractor;

static void extractor_init(Extractor* x, HtmlTokenizer* tz, size_t len) {
  memset(x, 0, sizeof *x);
  url_resolver_init(&x->urls);
  for (int i = 0; i < kNumFields; i++) buf_init(&x->fields[i].out);
  buf_init(&x->text.out);
  strset_init(&x->links);
  // Resolving an href costs O(base + href); this bound keeps pages with
  // millions of anchors (and a long <base>) linear. Real pages stay far
  // below it.
  size_t slack = (size_t)1 << 20;
  x->link_budget = len < (SIZE_MAX - slack) / 4 ? 4 * len + slack : SIZE_MAX;
  x->tz = tz;
  buf_init(&x->scratch);
  buf_init(&x->resolved);
}

static void extractor_free(Extractor* x) {
  url_resolver_free(&x->urls);
  for (int i = 0; i < kNumFields; i++) buf_free(&x->fields[i].out);
  buf_free(&x->text.out);
  strset_free(&x->links);
  buf_free(&x->scratch);
  buf_free(&x->resolved);
}

static bool extractor_failed(const Extractor* x) {
  for (int i = 0; i < kNumFields; i++) {
    if (x->fields[i].out.failed) return true;
  }
  return x->text.out.failed || x->links.failed || x->scratch.failed ||
         x->resolved.failed || x->urls.base.failed;
}

// Decodes character references in `s` into x->scratch.
static void decode(Extractor* x, const char* s, size_t n, bool in_attr) {
  buf_clear(&x->scratch);
  entity_decode_all(&x->scratch, s, n, in_attr);
}

// Writes `s` to `sink` with character references decoded.
static void write_decoded(Extractor* x, Sink* sink, const char* s, size_t n,
                          bool in_attr) {
  if (!memchr(s, '&', n)) {
    sink_write(sink, s, n);  // The common case needs no copy.
    return;
  }
  decode(x, s, n, in_attr);
  sink_write(sink, x->scratch.data, x->scratch.len);
}

// Sets a field from an attribute value unless it already has a value.
static void set_field(Extractor* x, int field, const HtmlAttr* value) {
  Sink* f = &x->fields[field];
  if (f->out.len > 0 || !value) return;
  write_decoded(x, f, value->value, value->value_len, true);
}

// True if the whitespace-separated list in `attr` holds `word`
// (ASCII case-insensitive), as in rel="canonical" or property="og:title".
static bool attr_has_word(const HtmlAttr* attr, const char* word) {
  if (!attr) return false;
  const char* s = attr->value;
  size_t n = attr->value_len, i = 0;
  while (i < n) {
    while (i < n && is_ascii_space(s[i])) i++;
    size_t start = i;
    while (i < n && !is_ascii_space(s[i])) i++;
    if (i > start && html_name_is(s + start, i - start, word)) return true;
  }
  return false;
}

// ---- Element handlers -------------------------------------------------------

static void on_meta(Extractor* x, const HtmlToken* tok) {
  const HtmlAttr* content = html_attr(tok, "content");
  if (!content) return;
  const HtmlAttr* name = html_attr(tok, "name");
  const HtmlAttr* property = html_attr(tok, "property");
  if (attr_has_word(name, "description")) set_field(x, kDescription, content);
  if (attr_has_word(name, "og:description") ||
      attr_has_word(property, "og:description")) {
    set_field(x, kOgDescription, content);
  }
  if (attr_has_word(name, "og:title") || attr_has_word(property, "og:title"))
    set_field(x, kOgTitle, content);
  if (attr_has_word(html_attr(tok, "http-equiv"), "content-language"))
    set_field(x, kMetaLang, content);
}

// Resolves an href attribute into x->resolved; false if it is no link.
static bool resolve_href(Extractor* x, const HtmlAttr* href) {
  if (!href) return false;
  decode(x, href->value, href->value_len, true);
  return url_resolve(&x->urls, x->scratch.data, x->scratch.len, &x->resolved);
}

static void on_link(Extractor* x, const HtmlToken* tok) {
  Sink* canonical = &x->fields[kCanonical];
  if (canonical->out.len > 0) return;
  if (!attr_has_word(html_attr(tok, "rel"), "canonical")) return;
  if (resolve_href(x, html_attr(tok, "href")))
    buf_append(&canonical->out, x->resolved.data, x->resolved.len);
}

static void on_anchor(Extractor* x, const HtmlToken* tok) {
  const HtmlAttr* href = html_attr(tok, "href");
  if (!href || x->links.count >= kStrataMaxLinks) return;
  size_t cost = x->urls.base.len + href->value_len + 1;
  if (cost > x->link_budget) {
    x->link_budget = 0;
    return;
  }
  x->link_budget -= cost;
  if (resolve_href(x, href))
    strset_add(&x->links, x->resolved.data, x->resolved.len);
}

// Elements that separate words; the rest (a, span, b, ...) are inline.
// Sorted for binary search.
static const char* const kBlockElements[] = {
    "address", "article", "aside", "blockquote", "body", "br", "caption",
    "center", "dd", "details", "dialog", "dir", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hgroup", "hr", "html", "img", "legend", "li", "listing",
    "main", "menu", "nav", "ol", "optgroup", "option", "p", "plaintext", "pre",
    "section", "select", "summary", "table", "tbody", "td", "textarea", "tfoot",
    "th", "thead", "tr", "ul", "xmp",
};

static bool is_block(const char* name) {
  size_t lo = 0, hi = sizeof kBlockElements / sizeof kBlockElements[0];
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int cmp = strcmp(name, kBlockElements[mid]);
    if (cmp == 0) return true;
    if (cmp < 0) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return false;
}

// HTML start tags that end an unclosed <svg>/<math> (HTML5 "breakout").
static bool breaks_out_of_foreign(const char* name) {
  static const char* const kBreakout[] = {
      "b", "big", "blockquote", "body", "br", "center", "code", "dd", "div",
      "dl", "dt", "em", "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head",
      "hr", "i", "img", "li", "listing", "menu", "meta", "nobr", "ol", "p",
      "pre", "ruby", "s", "small", "span", "strong", "strike", "sub", "sup",
      "table", "tt", "u", "ul", "var",
  };
  for (size_t i = 0; i < sizeof kBreakout / sizeof kBreakout[0]; i++) {
    if (strcmp(name, kBreakout[i]) == 0) return true;
  }
  return false;
}

static bool is_foreign_root(const char* name) {
  return strcmp(name, "svg") == 0 || strcmp(name, "math") == 0;
}

static void set_foreign_depth(Extractor* x, size_t depth) {
  x->foreign_depth = depth;
  x->tz->foreign = depth > 0;
}

// ---- Token handlers ---------------------------------------------------------

static void on_start_tag(Extractor* x, const HtmlToken* tok) {
  const char* name = tok->name;
  if (strcmp(name, "template") == 0) {
    // Template contents are inert (not part of the document): skip them.
    x->template_depth++;
    return;
  }
  if (x->template_depth > 0) return;
  if (x->foreign_depth > 0 && breaks_out_of_foreign(name))
    set_foreign_depth(x, 0);
  if (is_foreign_root(name) && !tok->self_closing)
    set_foreign_depth(x, x->foreign_depth + 1);
  // Counted at the tag: an empty first <title> still is the title.
  if (strcmp(name, "title") == 0 && x->foreign_depth == 0) x->titles_seen++;
  if (strcmp(name, "a") == 0) {
    on_anchor(x, tok);
  } else if (strcmp(name, "meta") == 0) {
    on_meta(x, tok);
  } else if (strcmp(name, "link") == 0) {
    on_link(x, tok);
  } else if (strcmp(name, "html") == 0) {
    set_field(x, kLang, html_attr(tok, "lang"));
  }
  if (is_block(name)) sink_break(&x->text);
}

static void on_end_tag(Extractor* x, const HtmlToken* tok) {
  const char* name = tok->name;
  if (strcmp(name, "template") == 0) {
    if (x->template_depth > 0) x->template_depth--;
    return;
  }
  if (x->template_depth > 0) return;
  if (is_foreign_root(name) && x->foreign_depth > 0)
    set_foreign_depth(x, x->foreign_depth - 1);
  if (is_block(name)) sink_break(&x->text);
}

static void on_raw_text(Extractor* x, const HtmlToken* tok) {
  const char* name = tok->name;
  if (x->template_depth > 0) return;
  if (strcmp(name, "title") == 0) {
    // Only the first <title> is the document's title.
    if (x->titles_seen != 1) return;
    write_decoded(x, &x->fields[kTitle], tok->text, tok->text_len, false);
  } else if (strcmp(name, "textarea") == 0) {
    write_decoded(x, &x->text, tok->text, tok->text_len, false);
  } else if (strcmp(name, "xmp") == 0 || strcmp(name, "plaintext") == 0) {
    sink_write(&x->text, tok->text, tok->text_len);
  }
  // script, style, noscript, iframe, ...: not visible text.
}

static void on_text(Extractor* x, const HtmlToken* tok) {
  if (x->template_depth > 0) return;
  write_decoded(x, &x->text, tok->text, tok->text_len, false);
}

// ---- Driver ---------------------------------------------------------------

// Links resolve against the first <base href> wherever it is (even after
// the links), so find it before the main pass. Usually it is early in
// <head> and this pass stops there.
static void apply_base_element(UrlResolver* urls, Buf* scratch,
                               const char* html, size_t len) {
  HtmlTokenizer tz;
  HtmlToken tok;
  size_t template_depth = 0;
  html_init(&tz, html, len);
  while (html_next(&tz, &tok)) {
    bool start = tok.kind == kHtmlStartTag, end = tok.kind == kHtmlEndTag;
    if ((start || end) && strcmp(tok.name, "template") == 0) {
      if (start) template_depth++;
      if (end && template_depth > 0) template_depth--;
      continue;
    }
    if (!start || template_depth > 0 || strcmp(tok.name, "base") != 0)
      continue;
    const HtmlAttr* href = html_attr(&tok, "href");
    if (!href) continue;
    buf_clear(scratch);
    entity_decode_all(scratch, href->value, href->value_len, true);
    if (!scratch->failed) url_set_base(urls, scratch->data, scratch->len);
    return;
  }
}

static void walk(Extractor* x, const char* html, size_t len) {
  HtmlToken tok;
  html_init(x->tz, html, len);
  while (html_next(x->tz, &tok)) {
    switch (tok.kind) {
      case kHtmlText: on_text(x, &tok); break;
      case kHtmlRawText: on_raw_text(x, &tok); break;
      case kHtmlStartTag: on_start_tag(x, &tok); break;
      case kHtmlEndTag: on_end_tag(x, &tok); break;
    }
  }
}

// The first field with a value among `primary` and `fallback`.
static const Buf* pick(const Extractor* x, int primary, int fallback) {
  const Buf* b = &x->fields[primary].out;
  return b->len > 0 ? b : &x->fields[fallback].out;
}

static StrataStr str_of(const Buf* b) { return (StrataStr){b->data, b->len}; }

static size_t count_words(const Buf* text) {
  if (text->len == 0) return 0;
  size_t words = 1;  // The sink leaves exactly one space between words.
  for (size_t i = 0; i < text->len; i++) words += text->data[i] == ' ';
  return words;
}

StrataStr strata_extracted_link(const StrataExtracted* r, size_t i) {
  StrataStr link;
  link.data = strset_get(r->links, i, &link.len);
  return link;
}

bool strata_extract_with(const char* html, size_t len, const char* base_url,
                         void (*use)(const StrataExtracted* result, void* ctx),
                         void* ctx) {
  static const char kEmpty[] = "";
  if (!html) {
    html = kEmpty;
    len = 0;
  }
  HtmlTokenizer tz;
  Extractor x;
  extractor_init(&x, &tz, len);
  if (base_url) url_set_base(&x.urls, base_url, strlen(base_url));
  apply_base_element(&x.urls, &x.scratch, html, len);
  walk(&x, html, len);
  bool ok = !extractor_failed(&x);
  if (ok) {
    StrataExtracted r = {
        .title = str_of(pick(&x, kTitle, kOgTitle)),
        .description = str_of(pick(&x, kDescription, kOgDescription)),
        .canonical = str_of(&x.fields[kCanonical].out),
        .lang = str_of(pick(&x, kLang, kMetaLang)),
        .text = str_of(&x.text.out),
        .link_count = x.links.count,
        .word_count = count_words(&x.text.out),
        .links = &x.links,
    };
    use(&r, ctx);
  }
  extractor_free(&x);
  return ok;
}

// ---- JSON output ------------------------------------------------------------

static void json_key_string(Buf* out, const char* key, StrataStr value) {
  json_string(out, key, strlen(key));
  buf_push(out, ':');
  json_string(out, value.data, value.len);
  buf_push(out, ',');
}

typedef struct {
  char* json;
  size_t len;
} JsonResult;

static void to_json(const StrataExtracted* r, void* ctx) {
  Buf out;
  buf_init(&out);
  buf_push(&out, '{');
  json_key_string(&out, "title", r->title);
  json_key_string(&out, "description", r->description);
  json_key_string(&out, "canonical", r->canonical);
  json_key_string(&out, "lang", r->lang);
  json_key_string(&out, "text", r->text);
  buf_append_str(&out, "\"links\":[");
  for (size_t i = 0; i < r->link_count; i++) {
    StrataStr link = strata_extracted_link(r, i);
    if (i > 0) buf_push(&out, ',');
    json_string(&out, link.data, link.len);
  }
  char count[32];
  snprintf(count, sizeof count, "],\"word_count\":%zu}", r->word_count);
  buf_append_str(&out, count);
  JsonResult* result = ctx;
  result->json = buf_take(&out, &result->len);
}

char* strata_extract(const char* html, size_t len, const char* base_url,
                     size_t* out_len) {
  JsonResult result = {NULL, 0};
  if (!strata_extract_with(html, len, base_url, to_json, &result)) return NULL;
  if (result.json) *out_len = result.len;
  return result.json;
}
