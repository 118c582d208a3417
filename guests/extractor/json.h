// JSON output helpers. Strings are written as valid UTF-8 JSON whatever the
// input bytes are: invalid UTF-8 becomes U+FFFD (one per maximal subpart, as
// the WHATWG decoder does) and control characters are escaped.
#ifndef STRATA_EXTRACTOR_JSON_H_
#define STRATA_EXTRACTOR_JSON_H_

#include <stddef.h>

#include "buf.h"

// Appends `s` as a quoted JSON string.
void json_string(Buf* out, const char* s, size_t n);

// Returns the length of the valid UTF-8 sequence at s[0..n) (1..4), or 0 if
// it is invalid; *bad_len is then the number of bytes one U+FFFD replaces.
size_t utf8_sequence(const unsigned char* s, size_t n, size_t* bad_len);

#endif  // STRATA_EXTRACTOR_JSON_H_
