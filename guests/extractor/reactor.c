// Reactor entry point: the host calls `extract` with one buffer holding
//   <base URL>\n<HTML>
// (everything up to the first '\n' is the base URL, possibly empty; without
// any '\n' the whole input is HTML) and gets back the packed pointer/length
// of the JSON object, which it frees with strata_free.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extract.h"
#include "strata_guest.h"

// Returned (as a fresh allocation) if extraction runs out of memory.
static const char kOutOfMemory[] = "{\"error\":\"out of memory\"}";

__attribute__((export_name("extract"))) uint64_t extract(const char* ptr,
                                                         uint32_t len) {
  const char* newline = len ? memchr(ptr, '\n', len) : NULL;
  size_t url_len = newline ? (size_t)(newline - ptr) : 0;
  const char* html = newline ? newline + 1 : ptr;
  size_t html_len = len - (newline ? url_len + 1 : 0);
  if (url_len > 0 && ptr[url_len - 1] == '\r') url_len--;

  char* base_url = malloc(url_len + 1);
  size_t json_len = 0;
  char* json = NULL;
  if (base_url) {
    memcpy(base_url, ptr, url_len);
    base_url[url_len] = '\0';
    json = strata_extract(html, html_len, base_url, &json_len);
    free(base_url);
  }
  if (!json) {
    // The host frees whatever we return, so it must come from malloc.
    json_len = sizeof kOutOfMemory - 1;
    json = malloc(sizeof kOutOfMemory);
    if (!json) return strata_pack(NULL, 0);
    memcpy(json, kOutOfMemory, sizeof kOutOfMemory);
  }
  return strata_pack(json, (uint32_t)json_len);
}
