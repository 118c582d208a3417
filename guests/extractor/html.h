// A small, forgiving HTML tokenizer modeled on the HTML5 tokenizer states
// that matter for extraction. It never fails: malformed markup degrades to
// text, like in browsers. Comments, doctypes and processing instructions are
// skipped. Tokens point into the input; nothing is copied except tag names.
#ifndef STRATA_EXTRACTOR_HTML_H_
#define STRATA_EXTRACTOR_HTML_H_

#include <stdbool.h>
#include <stddef.h>

enum {
  kHtmlMaxAttrs = 32,    // Further attributes are parsed but dropped.
  kHtmlMaxTagName = 16,  // Longer names (custom elements) read as "".
};

typedef enum {
  kHtmlText,     // Character data with character references undecoded.
  kHtmlRawText,  // Contents of script, style, title, textarea, ...; `name`
                 // says which. Only title/textarea (`rcdata`) use references.
  kHtmlStartTag,
  kHtmlEndTag,
} HtmlTokenKind;

typedef struct {
  const char* name;
  size_t name_len;
  const char* value;  // Undecoded; empty if the attribute has no value.
  size_t value_len;
} HtmlAttr;

typedef struct {
  HtmlTokenKind kind;
  const char* text;  // Text and raw text tokens.
  size_t text_len;
  char name[kHtmlMaxTagName];  // Lowercased tag name.
  bool self_closing;
  bool rcdata;
  HtmlAttr attrs[kHtmlMaxAttrs];
  size_t num_attrs;
} HtmlToken;

typedef struct {
  const char* p;
  const char* end;
  // Set by the caller while inside <svg> or <math>, where <title> and
  // friends are ordinary elements rather than raw text.
  bool foreign;
  // Raw text element whose contents come next ("" if none).
  char raw_name[kHtmlMaxTagName];
  int raw_kind;
} HtmlTokenizer;

void html_init(HtmlTokenizer* tz, const char* html, size_t len);
// Reads the next token; false at the end of the input.
bool html_next(HtmlTokenizer* tz, HtmlToken* tok);
// The first attribute named `name` (lowercase), or NULL.
const HtmlAttr* html_attr(const HtmlToken* tok, const char* name);
// Case-insensitive comparison of `s[0..n)` with lowercase `lower`.
bool html_name_is(const char* s, size_t n, const char* lower);

#endif  // STRATA_EXTRACTOR_HTML_H_
