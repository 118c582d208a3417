// The C functions strata adds to wasmtime's C API:
// - pre-initialisation snapshots with the wasmtime-wizer crate
//   (src/snapshot.rs);
// - a component's InstancePre, linked with WASI preview 2
//   (src/component.rs);
// - wasi:http's incoming handler for proxy components (src/http.rs).
//
// Each function that can fail returns NULL or an error, and writes its
// output only on success.
//
// Snapshots.
// To snapshot `wasm` after its exported `[] -> []` function `init_func`:
//   1. strata_wizer_instrument: the module to run instead of `wasm`;
//   2. compile, instantiate and initialise that module in a store of the
//      same engine (its reactor `_initialize`, then `init_func`);
//   3. strata_wizer_snapshot, with the same `wasm` and `init_func`, that
//      store and that instance: the pre-initialised module.
// Each writes `out` (free it with wasm_byte_vec_delete) and returns NULL,
// or returns an error and leaves `out` untouched.
#ifndef STRATA_CAPI_H_
#define STRATA_CAPI_H_

#include <wasmtime.h>
#include <wasmtime/component.h>

#ifdef __cplusplus
extern "C" {
#endif

wasmtime_error_t* strata_wizer_instrument(const uint8_t* wasm, size_t wasm_len,
                                          const char* init_func,
                                          wasm_byte_vec_t* out);

wasmtime_error_t* strata_wizer_snapshot(const uint8_t* wasm, size_t wasm_len,
                                        const char* init_func,
                                        wasmtime_context_t* store,
                                        const wasmtime_instance_t* instance,
                                        wasm_byte_vec_t* out);

// Components. What a component is linked against: exported functions and
// `wasi:cli/run` commands get WASI preview 2 (sync); a
// `wasi:http/incoming-handler` proxy gets WASI preview 2 and wasi:http
// (async), with every outgoing request denied.
typedef enum strata_component_world {
  STRATA_COMPONENT_WASIP2 = 0,
  STRATA_COMPONENT_HTTP_PROXY = 1,
} strata_component_world_t;

typedef struct strata_component_pre strata_component_pre_t;

// Links `component` (on its own engine) for `world`: a missing import, or
// a proxy without the handler export, is an error.
wasmtime_error_t* strata_component_pre_new(const wasmtime_component_t* component,
                                           strata_component_world_t world,
                                           strata_component_pre_t** out);
void strata_component_pre_delete(strata_component_pre_t* pre);

// Instantiates `pre` in `store`, whose WASI context (and for a proxy, its
// wasi:http context: wasmtime_context_set_wasi_http) must be set.
wasmtime_error_t* strata_component_pre_instantiate(
    const strata_component_pre_t* pre, wasmtime_context_t* store,
    wasmtime_component_instance_t* out);

// The deadline of the calls this thread makes next, `timeout_ms` from now
// (0: none). A sync component's wasi:io poll stops waiting at it with the
// interrupt trap an epoch check raises; epoch checks run only in guest code.
void strata_call_deadline_set(uint64_t timeout_ms);

// The component's compiled image, to measure its residency (as
// wasmtime_module_image_range does for a module).
void strata_component_image_range(const wasmtime_component_t* component,
                                  const uint8_t** start, const uint8_t** end);

// An upper bound on the linear memory an instance of `component` starts
// with (its memories times the largest initial size), or 0 when unknown.
// The C API cannot reach a component instance's memories to measure them.
uint64_t strata_component_initial_memory(const wasmtime_component_t* component);

// wasi:http. A request's parts, as the front end parsed them; the proxy
// sees `path` (origin form) under `authority`.
typedef struct strata_http_header {
  const uint8_t* name;
  size_t name_len;
  const uint8_t* value;
  size_t value_len;
} strata_http_header_t;

typedef struct strata_http_request {
  const uint8_t* method;
  size_t method_len;
  const uint8_t* path;
  size_t path_len;
  const uint8_t* authority;
  size_t authority_len;
  const strata_http_header_t* headers;
  size_t header_count;
  const uint8_t* body;
  size_t body_len;
  size_t max_response_bytes;  // a longer response body is an error
  // The whole exchange ends after this long (0: no limit), host waits
  // included: the epoch deadline stops only the guest's own code.
  uint64_t timeout_ms;
} strata_http_request_t;

// Why strata_http_handle failed, so that its caller need not read the
// message (which may carry the guest's own text).
typedef enum strata_http_failure {
  STRATA_HTTP_FAILED = 0,       // the guest trapped, erred or misbehaved
  STRATA_HTTP_BAD_REQUEST = 1,  // not a request the proxy can be given;
                                // the guest never ran
  STRATA_HTTP_DEADLINE = 2,     // timeout_ms or the epoch deadline passed
  STRATA_HTTP_TOO_LARGE = 3,    // the body was over max_response_bytes
} strata_http_failure_t;

typedef struct strata_http_response strata_http_response_t;

// Serves `request` with the proxy `instance` (made from `pre`) in `store`;
// the response is read whole, while the handler runs. On an error,
// `failure` says what kind.
wasmtime_error_t* strata_http_handle(const strata_component_pre_t* pre,
                                     wasmtime_context_t* store,
                                     const wasmtime_component_instance_t* instance,
                                     const strata_http_request_t* request,
                                     strata_http_response_t** out,
                                     strata_http_failure_t* failure);
uint16_t strata_http_response_status(const strata_http_response_t* response);
size_t strata_http_response_header_count(const strata_http_response_t* response);
// The pointers written live as long as `response`.
void strata_http_response_header(const strata_http_response_t* response,
                                 size_t index, strata_http_header_t* out);
void strata_http_response_body(const strata_http_response_t* response,
                               const uint8_t** data, size_t* len);
void strata_http_response_delete(strata_http_response_t* response);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // STRATA_CAPI_H_
