// Character references (&amp; &#233; &#xE9;): the common named ones, the
// whole Latin-1 range, and numeric references with the HTML5 fix-ups.
#ifndef STRATA_EXTRACTOR_ENTITY_H_
#define STRATA_EXTRACTOR_ENTITY_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

// `p` points at a '&' with `n` bytes available. If a character reference
// starts there, stores its code point in *cp and returns the number of bytes
// it spans; returns 0 if the '&' is literal. `in_attr` applies the attribute
// rule that "&copy=" is not a reference (it is common in URLs).
size_t entity_decode(const char* p, size_t n, bool in_attr, uint32_t* cp);

// Appends `s` to `out` with every character reference decoded.
void entity_decode_all(Buf* out, const char* s, size_t n, bool in_attr);

#endif  // STRATA_EXTRACTOR_ENTITY_H_
