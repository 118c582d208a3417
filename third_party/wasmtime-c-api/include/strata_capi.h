// The C functions strata adds to wasmtime's C API (src/snapshot.rs):
// pre-initialisation snapshots with the wasmtime-wizer crate.
//
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

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // STRATA_CAPI_H_
