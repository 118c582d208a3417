// The extractor core: HTML in, JSON metadata out. Pure C, no I/O; shared by
// the reactor and command entry points.
#ifndef STRATA_EXTRACTOR_EXTRACT_H_
#define STRATA_EXTRACTOR_EXTRACT_H_

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

#endif  // STRATA_EXTRACTOR_EXTRACT_H_
