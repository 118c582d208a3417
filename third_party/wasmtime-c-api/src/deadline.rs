//! The deadline of the call running on this thread, for components' waits
//! in the host.
//!
//! Epoch checks end a call that runs past its deadline, but they run only in
//! guest code: a component that polls `wasi:io` (a sleep is a poll on a
//! `wasi:clocks` pollable) waits in the host, where nothing would end it.
//! strata sets the deadline here before each call, on the thread that makes
//! it (`strata_call_deadline_set`), and the synchronous component linker's
//! `poll` and `pollable.block` (`add_to_linker`) stop waiting at it with
//! wasmtime's interrupt trap, the trap an epoch check raises. A wait that
//! ends first is wasmtime's own, unchanged.
use std::cell::Cell;
use std::future::Future;
use std::time::{Duration, Instant};

use wasmtime_c_api::WasmtimeStoreData;
use wasmtime_c_api::wasmtime::component::{Linker, Resource};
use wasmtime_c_api::wasmtime::{Error, Result, StoreContextMut, Trap};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::io::poll as wasi_poll;
use wasmtime_wasi::runtime::in_tokio;

/// The `wasi:io/poll` version wasmtime-wasi 48 defines; imports of earlier
/// 0.2 versions resolve to it.
const POLL_INTERFACE: &str = "wasi:io/poll@0.2.12";

thread_local! {
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Sets the deadline of the next calls on this thread to `timeout_ms` from
/// now (0: none).
#[unsafe(no_mangle)]
pub extern "C" fn strata_call_deadline_set(timeout_ms: u64) {
    let deadline = if timeout_ms == 0 {
        None
    } else {
        Instant::now().checked_add(Duration::from_millis(timeout_ms))
    };
    DEADLINE.with(|cell| cell.set(deadline));
}

/// Runs `wait` to completion, or until this thread's deadline.
fn until_deadline<T>(wait: impl Future<Output = Result<T>>) -> Result<T> {
    let Some(deadline) = DEADLINE.with(Cell::get) else {
        return in_tokio(wait);
    };
    in_tokio(async move {
        let deadline = tokio::time::Instant::from_std(deadline);
        tokio::time::timeout_at(deadline, wait).await.unwrap_or_else(|_| {
            Err(Error::from(Trap::Interrupt)
                .context("a wasi:io poll was still waiting at the call's deadline"))
        })
    })
}

/// Shadows `linker`'s `wasi:io/poll` (from `add_to_linker_sync`) with waits
/// that end at the deadline.
pub(crate) fn add_to_linker(linker: &mut Linker<WasmtimeStoreData>) -> Result<()> {
    linker.allow_shadowing(true);
    let mut poll = linker.instance(POLL_INTERFACE)?;
    poll.func_wrap(
        "poll",
        |mut store: StoreContextMut<'_, WasmtimeStoreData>,
         (pollables,): (Vec<Resource<DynPollable>>,)| {
            let table = store.data_mut().ctx().table;
            Ok((until_deadline(wasi_poll::Host::poll(table, pollables))?,))
        },
    )?;
    poll.func_wrap(
        "[method]pollable.block",
        |mut store: StoreContextMut<'_, WasmtimeStoreData>,
         (pollable,): (Resource<DynPollable>,)| {
            let table = store.data_mut().ctx().table;
            until_deadline(wasi_poll::HostPollable::block(table, pollable))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}
