#![allow(non_camel_case_types)] // the C API's names
//! Re-exports every `#[no_mangle]` symbol of wasmtime's C API so that the
//! static library this crate builds links as `libwasmtime.a`, and adds
//! strata's own (include/strata_capi.h).
pub use wasmtime_c_api::*;

mod snapshot;
mod component;
mod deadline;
mod guarded;
mod http;
