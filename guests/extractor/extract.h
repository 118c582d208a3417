// The extractor core: HTML in, JSON metadata (or the same fields as C
// strings) out. Pure C, no I/O; shared by the reactor, command and component
// entry points.
#ifndef STRATA_EXTRACTOR_EXTRACT_H_
#define STRATA_EXTRACTOR_EXTRACT_H_

#include <stdbool.h>
#include <stddef.h>

enum { kStrataMaxLinks = 10000 };

// Extracts metadata, visible text and links from `html` (any bytes; need not
// be NUL-terminated) and returns a malloc'ed, NUL-terminated JSON object
//   {"title": str, "description": str, "canonical": str, "lang": str,
//    "text": str, "links": [str, ...], "word_count": int}
// with its length in *out_len. `base_url` (NUL-terminated; NULL or "" for
// none) is the page's URL; links are resolved against it, or against the
// page's <base href>. Without an absolute base, relative links are returned
// as written. Returns NULL only if memory runs out.
char* strata_extract(const char* html, size_t len, const char* base_url,
                     size_t* out_len);

// A byte string owned by the extractor (not NUL-terminated; `data` may be
// NULL when `len` is 0).
typedef struct {
  const char* data;
  size_t len;
} StrataStr;

// The fields strata_extract puts in its JSON; empty strings when absent.
typedef struct {
  StrataStr title, description, canonical, lang, text;
  size_t link_count;
  size_t word_count;
  const void* links;  // Internal; read with strata_extracted_link.
} StrataExtracted;

// Link `i` (< link_count), in document order.
StrataStr strata_extracted_link(const StrataExtracted* r, size_t i);

// Runs the extraction like strata_extract and calls use(result, ctx) with
// it; the result is valid only during that call. Returns false (without
// calling `use`) if memory runs out.
bool strata_extract_with(const char* html, size_t len, const char* base_url,
                         void (*use)(const StrataExtracted* result, void* ctx),
                         void* ctx);

#endif  // STRATA_EXTRACTOR_EXTRACT_H_
