// http-extractor: the extractor core (guests/extractor) behind
// wasi:http/proxy@0.2.12.
//   POST /any/path?url=BASE_URL   body: the HTML
//   -> 200 application/json, strata_extract's JSON object
// `url` is the page's URL, taken raw (not percent-decoded); it may be
// absent. Other methods get 405, bodies over 16 MiB 413.
#define _POSIX_C_SOURCE 200809L  // strndup

#include <stdlib.h>
#include <string.h>

#include "extract.h"
#include "http_util.h"

enum { kMaxHtmlBytes = 16 << 20 };

// A malloc'ed copy of the raw value of query parameter `url` ("" if
// absent); NULL if memory runs out.
static char* url_param(const char* path_with_query) {
  const char* p = strchr(path_with_query, '?');
  while (p) {
    p++;
    if (strncmp(p, "url=", 4) == 0) return strndup(p + 4, strcspn(p + 4, "&"));
    p = strchr(p, '&');
  }
  return strdup("");
}

static void extract(HttpRequest request, HttpResponseOut out) {
  char* path_with_query = http_path_with_query(request);
  char* url = path_with_query ? url_param(path_with_query) : NULL;
  free(path_with_query);
  if (!url) {
    http_send_text(out, 500, "out of memory\n");
    return;
  }
  char* html;
  size_t len;
  int status = http_read_body(request, kMaxHtmlBytes, &html, &len);
  if (status != 0) {
    http_send_text(out, (uint16_t)status, "cannot read the HTML body\n");
    free(url);
    return;
  }
  size_t json_len;
  char* json = strata_extract(html, len, url, &json_len);
  free(html);
  free(url);
  if (!json) {
    http_send_text(out, 500, "out of memory\n");
    return;
  }
  const HttpHeader headers[] = {{"content-type", "application/json"}};
  http_send(out, 200, headers, 1, json, json_len);
  free(json);
}

void exports_wasi_http_incoming_handler_handle(
    wasi_http_types_own_incoming_request_t request_handle,
    wasi_http_types_own_response_outparam_t out) {
  HttpRequest request = wasi_http_types_borrow_incoming_request(request_handle);
  if (http_method(request) == WASI_HTTP_TYPES_METHOD_POST) {
    extract(request, out);
  } else {
    const HttpHeader headers[] = {{"content-type", "text/plain"},
                                  {"allow", "POST"}};
    static const char kText[] = "POST the HTML, ?url=PAGE_URL\n";
    http_send(out, 405, headers, 2, kText, sizeof kText - 1);
  }
  wasi_http_types_incoming_request_drop_own(request_handle);
}
