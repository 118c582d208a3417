//! Pre-initialisation snapshots with `wasmtime-wizer`, as two C functions.
//!
//! The host instantiates and initialises the instrumented module itself, in
//! a store of its own engine, with its own linker, limits and deadlines;
//! wizer only instruments the module before and reads the instance's state
//! after. Both functions take the original bytes: the second re-runs the
//! (deterministic) instrumentation to recover the module's layout, so no
//! state is held between the calls.
use std::ffi::{CStr, c_char};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use wasmtime_c_api::wasmtime::{self, Instance, Val, format_err};
use wasmtime_c_api::{WasmtimeStoreContextMut, wasm_byte_vec_t, wasmtime_error_t};
use wasmtime_wizer::{InstanceState, SnapshotVal, ValType, Wizer};

/// Instruments `wasm` for a snapshot taken after `init_func` runs; writes
/// the module to instantiate and initialise to `out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_wizer_instrument(
    wasm: *const u8,
    wasm_len: usize,
    init_func: *const c_char,
    out: &mut wasm_byte_vec_t,
) -> Option<Box<wasmtime_error_t>> {
    let wasm = unsafe { bytes(wasm, wasm_len) };
    let init_func = unsafe { CStr::from_ptr(init_func) }.to_string_lossy();
    guarded(|| {
        let (_, instrumented) = wizer(&init_func).instrument(wasm)?;
        Ok(instrumented)
    }, out)
}

/// Snapshots `instance` (of the module `strata_wizer_instrument` made from
/// the same `wasm` and `init_func`, initialised in `store`) into a plain
/// module whose data segments hold its memory and whose globals hold their
/// values; the init function and `_initialize` are no longer exported.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_wizer_snapshot(
    wasm: *const u8,
    wasm_len: usize,
    init_func: *const c_char,
    store: WasmtimeStoreContextMut<'_>,
    instance: &Instance,
    out: &mut wasm_byte_vec_t,
) -> Option<Box<wasmtime_error_t>> {
    let wasm = unsafe { bytes(wasm, wasm_len) };
    let init_func = unsafe { CStr::from_ptr(init_func) }.to_string_lossy();
    let mut state = Initialised { store, instance: *instance };
    guarded(|| {
        let wizer = wizer(&init_func);
        let (cx, _) = wizer.instrument(wasm)?;
        ready(wizer.snapshot(&cx, &mut state))
    }, out)
}

fn wizer(init_func: &str) -> Wizer {
    let mut wizer = Wizer::new();
    wizer.init_func(init_func);
    wizer
}

unsafe fn bytes<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if len == 0 { &[] } else { unsafe { std::slice::from_raw_parts(data, len) } }
}

/// Runs `f` (a panic becomes an error: wizer panics on a module it cannot
/// read) and writes its bytes to `out`, or returns its error.
fn guarded(
    f: impl FnOnce() -> wasmtime::Result<Vec<u8>>,
    out: &mut wasm_byte_vec_t,
) -> Option<Box<wasmtime_error_t>> {
    match crate::guarded::guarded(f) {
        Ok(wasm) => {
            out.set_buffer(wasm);
            None
        }
        Err(error) => Some(Box::new(wasmtime_error_t::from(error))),
    }
}

/// Wizer's snapshot is async so that it can read remote instances; ours
/// are local and every read completes at once, so one poll finishes it.
fn ready<T>(future: impl Future<Output = wasmtime::Result<T>>) -> wasmtime::Result<T> {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(format_err!("wizer's snapshot did not complete")),
    }
}

/// The initialised instance, read through the host's store.
struct Initialised<'a> {
    store: WasmtimeStoreContextMut<'a>,
    instance: Instance,
}

impl InstanceState for Initialised<'_> {
    async fn global_get(&mut self, name: &str, _: ValType) -> SnapshotVal {
        let global = self
            .instance
            .get_global(&mut self.store, name)
            .unwrap_or_else(|| panic!("instrumented global `{name}` is not exported"));
        match global.get(&mut self.store) {
            Val::I32(x) => SnapshotVal::I32(x),
            Val::I64(x) => SnapshotVal::I64(x),
            Val::F32(x) => SnapshotVal::F32(x),
            Val::F64(x) => SnapshotVal::F64(x),
            Val::V128(x) => SnapshotVal::V128(x.as_u128()),
            _ => panic!("global `{name}` holds a reference, which cannot be snapshotted"),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        let memory = self
            .instance
            .get_memory(&mut self.store, name)
            .unwrap_or_else(|| panic!("instrumented memory `{name}` is not exported"));
        contents(memory.data(&self.store))
    }
}
