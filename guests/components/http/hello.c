// hello: a wasi:http/proxy@0.2.12 component for the HTTP tests. Routes (by
// path, query ignored unless stated); their responses carry
// `x-hello-path: <path with query>`, the 400s for bad arguments do not:
//   /echo          200, the request body back, with the request's
//                  content-type (if any)
//   /trap          traps (__builtin_trap)
//   /big?n=N       200, N bytes of 'x' streamed in chunks of <= 4096 bytes
//   /sleep?ms=N    waits N ms on the host's monotonic clock (a host wait,
//                  where no epoch check runs), then 200 "slept\n"
//   /status/NNN    status NNN (100-599; else 400), empty body;
//                  ?body=TEXT sends TEXT (raw) as the body, whatever NNN
//   anything else  200 text/plain "hello from <path>\n" (no query)
#include <stdlib.h>
#include <string.h>

#include "http_util.h"

enum { kMaxEcho = 64 << 20 };

// Parses a decimal number filling all of [s, end); false if it is not one
// or exceeds `max`.
static bool parse_number(const char* s, const char* end, uint64_t max,
                         uint64_t* out) {
  if (s == end) return false;
  uint64_t n = 0;
  for (; s < end; s++) {
    if (*s < '0' || *s > '9') return false;
    unsigned digit = (unsigned)(*s - '0');
    if (n > (max - digit) / 10) return false;
    n = n * 10 + digit;
  }
  *out = n;
  return true;
}

// The value of query parameter `name` (its raw bytes up to '&' or the end)
// in [*start, *end); false if it is absent.
static bool query_param(const char* query, const char* name,
                        const char** start, const char** end) {
  size_t n = strlen(name);
  for (const char* p = query; p && *p;) {
    if (strncmp(p, name, n) == 0 && p[n] == '=') {
      *start = p + n + 1;
      *end = *start + strcspn(*start, "&");
      return true;
    }
    p = strchr(p, '&');
    if (p) p++;
  }
  return false;
}

static void echo(HttpRequest request, HttpResponseOut out,
                 const char* path_with_query) {
  char* content_type = http_header(request, "content-type");
  char* data;
  size_t len;
  int status = http_read_body(request, kMaxEcho, &data, &len);
  if (status != 0) {
    http_send_text(out, (uint16_t)status, "cannot read the request body\n");
  } else {
    HttpHeader headers[] = {{"x-hello-path", path_with_query},
                            {"content-type", content_type}};
    http_send(out, 200, headers, content_type ? 2 : 1, data, len);
  }
  free(data);
  free(content_type);
}

static void big(HttpResponseOut out, const char* query,
                const char* path_with_query) {
  const char *start, *end;
  uint64_t n;
  if (!query || !query_param(query, "n", &start, &end) ||
      !parse_number(start, end, UINT64_MAX, &n)) {
    http_send_text(out, 400, "usage: /big?n=BYTES\n");
    return;
  }
  static char xs[4096];
  memset(xs, 'x', sizeof xs);
  const HttpHeader headers[] = {{"content-type", "text/plain"},
                                {"x-hello-path", path_with_query}};
  HttpBody body;
  if (!http_respond(out, 200, headers, 2, &body)) return;
  while (n > 0) {
    size_t chunk = n < sizeof xs ? (size_t)n : sizeof xs;
    if (!http_write(&body, xs, chunk)) break;  // The client went away.
    n -= chunk;
  }
  http_finish(&body);
}

static bool path_is(const char* path, size_t len, const char* route) {
  return len == strlen(route) && memcmp(path, route, len) == 0;
}

static void hello(HttpResponseOut out, const char* path, size_t path_len,
                  const char* path_with_query) {
  static const char kHello[] = "hello from ";
  size_t len = sizeof kHello - 1 + path_len + 1;
  char* text = malloc(len);
  if (!text) __builtin_trap();  // Out of memory.
  memcpy(text, kHello, sizeof kHello - 1);
  memcpy(text + sizeof kHello - 1, path, path_len);
  text[len - 1] = '\n';
  const HttpHeader headers[] = {{"content-type", "text/plain"},
                                {"x-hello-path", path_with_query}};
  http_send(out, 200, headers, 2, text, len);
  free(text);
}

static void sleep_ms(HttpResponseOut out, const char* query) {
  const char *start, *end;
  uint64_t ms;
  if (!query || !query_param(query, "ms", &start, &end) ||
      !parse_number(start, end, UINT64_MAX / 1000000, &ms)) {
    http_send_text(out, 400, "usage: /sleep?ms=MILLISECONDS\n");
    return;
  }
  wasi_io_poll_own_pollable_t timer =
      wasi_clocks_monotonic_clock_subscribe_duration(ms * 1000000);
  wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(timer));
  wasi_io_poll_pollable_drop_own(timer);
  http_send_text(out, 200, "slept\n");
}

void exports_wasi_http_incoming_handler_handle(
    wasi_http_types_own_incoming_request_t request_handle,
    wasi_http_types_own_response_outparam_t out) {
  HttpRequest request = wasi_http_types_borrow_incoming_request(request_handle);
  char* path_with_query = http_path_with_query(request);
  if (!path_with_query) __builtin_trap();  // Out of memory.
  const char* path = path_with_query;
  size_t path_len = strcspn(path, "?");
  const char* query = path[path_len] == '?' ? path + path_len + 1 : NULL;
  const HttpHeader seen[] = {{"x-hello-path", path_with_query}};

  uint64_t status;
  if (path_is(path, path_len, "/echo")) {
    echo(request, out, path_with_query);
  } else if (path_is(path, path_len, "/trap")) {
    __builtin_trap();
  } else if (path_is(path, path_len, "/big")) {
    big(out, query, path_with_query);
  } else if (path_is(path, path_len, "/sleep")) {
    sleep_ms(out, query);
  } else if (strncmp(path, "/status/", 8) == 0) {
    if (parse_number(path + 8, path + path_len, 599, &status) &&
        status >= 100) {
      const char *body = "", *body_end = body;
      if (query) query_param(query, "body", &body, &body_end);
      http_send(out, (uint16_t)status, seen, 1, body,
                (size_t)(body_end - body));
    } else {
      http_send_text(out, 400, "usage: /status/NNN (100-599)\n");
    }
  } else {
    hello(out, path, path_len, path_with_query);
  }
  free(path_with_query);
  wasi_http_types_incoming_request_drop_own(request_handle);
}
