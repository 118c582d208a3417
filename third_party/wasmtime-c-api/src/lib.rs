//! Re-exports every `#[no_mangle]` symbol of wasmtime's C API so that the
//! static library this crate builds links as `libwasmtime.a`.
pub use wasmtime_c_api::*;
