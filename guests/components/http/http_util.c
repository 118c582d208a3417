// Helpers over the wit-bindgen bindings of wasi:http@0.2.12 (see
// http_util.h). Handles are dropped in child-before-parent order: a stream
// before its body, a body before it is finished.
#include "http_util.h"

#include <stdlib.h>
#include <string.h>

enum { kMaxWrite = 4096 };  // blocking-write-and-flush's limit per call.

typedef proxy_guest_string_t String;

static String string_of(const char* s) {
  return (String){(uint8_t*)s, strlen(s)};
}

// A malloc'ed, NUL-terminated copy of n bytes at s.
static char* dup_n(const uint8_t* s, size_t n) {
  char* out = malloc(n + 1);
  if (!out) return NULL;
  if (n > 0) memcpy(out, s, n);
  out[n] = '\0';
  return out;
}

uint8_t http_method(HttpRequest request) {
  wasi_http_types_method_t method;
  wasi_http_types_method_incoming_request_method(request, &method);
  uint8_t tag = method.tag;
  wasi_http_types_method_free(&method);
  return tag;
}

char* http_path_with_query(HttpRequest request) {
  String path;
  if (!wasi_http_types_method_incoming_request_path_with_query(request,
                                                              &path)) {
    return dup_n(NULL, 0);
  }
  char* out = dup_n(path.ptr, path.len);
  proxy_guest_string_free(&path);
  return out;
}

char* http_header(HttpRequest request, const char* name) {
  wasi_http_types_own_headers_t headers =
      wasi_http_types_method_incoming_request_headers(request);
  String key = string_of(name);
  wasi_http_types_list_field_value_t values;
  wasi_http_types_method_fields_get(wasi_http_types_borrow_fields(headers),
                                    &key, &values);
  char* out = values.len > 0 ? dup_n(values.ptr[0].ptr, values.ptr[0].len)
                             : NULL;
  wasi_http_types_list_field_value_free(&values);
  wasi_http_types_fields_drop_own(headers);
  return out;
}

// Appends everything `stream` yields to data/len (capacity *cap); returns 0
// or an HTTP status as http_read_body does.
static int read_stream(wasi_io_streams_borrow_input_stream_t stream,
                       size_t max, char** data, size_t* len, size_t* cap) {
  for (;;) {
    proxy_guest_list_u8_t chunk;
    wasi_io_streams_stream_error_t err;
    if (!wasi_io_streams_method_input_stream_blocking_read(stream, 65536,
                                                           &chunk, &err)) {
      bool closed = err.tag == WASI_IO_STREAMS_STREAM_ERROR_CLOSED;
      wasi_io_streams_stream_error_free(&err);
      return closed ? 0 : 400;
    }
    int status = 0;
    if (chunk.len > max - *len) {
      status = 413;
    } else if (*len + chunk.len + 1 > *cap) {
      size_t bigger = *cap * 2 > *len + chunk.len + 1 ? *cap * 2
                                                     : *len + chunk.len + 1;
      char* grown = realloc(*data, bigger);
      if (grown) {
        *data = grown;
        *cap = bigger;
      } else {
        status = 500;
      }
    }
    if (status == 0 && chunk.len > 0) {
      memcpy(*data + *len, chunk.ptr, chunk.len);
      *len += chunk.len;
    }
    proxy_guest_list_u8_free(&chunk);
    if (status != 0) return status;
  }
}

int http_read_body(HttpRequest request, size_t max, char** data,
                   size_t* len) {
  *len = 0;
  size_t cap = 4096;
  *data = malloc(cap);
  if (!*data) return 500;
  wasi_http_types_own_incoming_body_t body;
  if (!wasi_http_types_method_incoming_request_consume(request, &body)) {
    free(*data);
    *data = NULL;
    return 400;
  }
  wasi_http_types_own_input_stream_t stream;
  int status = 400;
  if (wasi_http_types_method_incoming_body_stream(
          wasi_http_types_borrow_incoming_body(body), &stream)) {
    status = read_stream(wasi_io_streams_borrow_input_stream(stream), max,
                         data, len, &cap);
    wasi_io_streams_input_stream_drop_own(stream);
  }
  wasi_http_types_future_trailers_drop_own(
      wasi_http_types_static_incoming_body_finish(body));
  if (status != 0) {
    free(*data);
    *data = NULL;
    *len = 0;
    return status;
  }
  (*data)[*len] = '\0';
  return 0;
}

// Answers `out` with an internal error instead of a response.
static void send_error(HttpResponseOut out) {
  wasi_http_types_result_own_outgoing_response_error_code_t result = {0};
  result.is_err = true;
  result.val.err.tag = WASI_HTTP_TYPES_ERROR_CODE_INTERNAL_ERROR;
  result.val.err.val.internal_error.is_some = false;
  wasi_http_types_static_response_outparam_set(out, &result);
}

// Builds the response's header fields; false if one is invalid.
static bool make_headers(const HttpHeader* headers, size_t n,
                         wasi_http_types_own_headers_t* out) {
  wasi_http_types_tuple2_field_name_field_value_t entries[16];
  if (n > sizeof entries / sizeof entries[0]) return false;
  for (size_t i = 0; i < n; i++) {
    entries[i].f0 = string_of(headers[i].name);
    entries[i].f1 = (wasi_http_types_field_value_t){
        (uint8_t*)headers[i].value, strlen(headers[i].value)};
  }
  wasi_http_types_list_tuple2_field_name_field_value_t list = {entries, n};
  wasi_http_types_header_error_t err;
  return wasi_http_types_static_fields_from_list(&list, out, &err);
}

bool http_respond(HttpResponseOut out, uint16_t status,
                  const HttpHeader* headers, size_t num_headers,
                  HttpBody* body) {
  body->failed = false;
  wasi_http_types_own_headers_t fields;
  if (!make_headers(headers, num_headers, &fields)) {
    send_error(out);
    return false;
  }
  wasi_http_types_own_outgoing_response_t response =
      wasi_http_types_constructor_outgoing_response(fields);
  wasi_http_types_borrow_outgoing_response_t r =
      wasi_http_types_borrow_outgoing_response(response);
  if (!wasi_http_types_method_outgoing_response_set_status_code(r, status) ||
      !wasi_http_types_method_outgoing_response_body(r, &body->body)) {
    wasi_http_types_outgoing_response_drop_own(response);
    send_error(out);
    return false;
  }
  wasi_http_types_result_own_outgoing_response_error_code_t result = {0};
  result.val.ok = response;
  wasi_http_types_static_response_outparam_set(out, &result);
  // The body's stream can be taken once; only a bug could make this fail.
  if (!wasi_http_types_method_outgoing_body_write(
          wasi_http_types_borrow_outgoing_body(body->body), &body->stream)) {
    __builtin_trap();
  }
  return true;
}

bool http_write(HttpBody* body, const void* data, size_t len) {
  wasi_io_streams_borrow_output_stream_t stream =
      wasi_io_streams_borrow_output_stream(body->stream);
  const uint8_t* p = data;
  while (len > 0 && !body->failed) {
    size_t n = len < kMaxWrite ? len : kMaxWrite;
    // check-write says how much the stream takes now (0: it would block,
    // which blocking-write-and-flush waits out).
    uint64_t permitted;
    wasi_io_streams_stream_error_t err;
    if (!wasi_io_streams_method_output_stream_check_write(stream, &permitted,
                                                          &err)) {
      wasi_io_streams_stream_error_free(&err);
      body->failed = true;
      break;
    }
    if (permitted > 0 && permitted < n) n = (size_t)permitted;
    proxy_guest_list_u8_t chunk = {(uint8_t*)p, n};
    if (!wasi_io_streams_method_output_stream_blocking_write_and_flush(
            stream, &chunk, &err)) {
      wasi_io_streams_stream_error_free(&err);
      body->failed = true;
      break;
    }
    p += n;
    len -= n;
  }
  return !body->failed;
}

void http_finish(HttpBody* body) {
  wasi_io_streams_output_stream_drop_own(body->stream);
  wasi_http_types_error_code_t err;
  if (!wasi_http_types_static_outgoing_body_finish(body->body, NULL, &err))
    wasi_http_types_error_code_free(&err);
}

void http_send(HttpResponseOut out, uint16_t status, const HttpHeader* headers,
               size_t num_headers, const void* data, size_t len) {
  HttpBody body;
  if (!http_respond(out, status, headers, num_headers, &body)) return;
  http_write(&body, data, len);
  http_finish(&body);
}

void http_send_text(HttpResponseOut out, uint16_t status, const char* text) {
  const HttpHeader headers[] = {{"content-type", "text/plain"}};
  http_send(out, status, headers, 1, text, strlen(text));
}
