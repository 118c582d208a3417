// URL reference resolution (RFC 3986 section 5) with the light
// normalization browsers apply to <a href>: lowercase scheme and host,
// default ports dropped, dot segments removed, fragments stripped, unsafe
// bytes percent-encoded.
#ifndef STRATA_EXTRACTOR_URL_H_
#define STRATA_EXTRACTOR_URL_H_

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

typedef struct {
  Buf base;     // Normalized absolute base URL; empty if there is none.
  Buf scratch;  // The cleaned-up reference being resolved.
  Buf merged;   // Base directory + relative path, before dot removal.
} UrlResolver;

void url_resolver_init(UrlResolver* r);
void url_resolver_free(UrlResolver* r);

// Sets the base URL, resolved against the current one. Returns false and
// keeps the current base if the result has no scheme (is not absolute).
bool url_set_base(UrlResolver* r, const char* url, size_t n);
bool url_has_base(const UrlResolver* r);

// Resolves `ref` (an href, already entity-decoded) into `out`, which is
// cleared first. Returns false for references that are not links to
// fetch: empty, fragment-only, javascript:, mailto:, tel:, data:. Without a
// base, a relative reference is returned as written, minus its fragment.
bool url_resolve(UrlResolver* r, const char* ref, size_t n, Buf* out);

#endif  // STRATA_EXTRACTOR_URL_H_
