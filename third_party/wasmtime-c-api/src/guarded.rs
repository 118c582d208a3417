//! A panic must not cross into C++: every C function of this crate runs its
//! work through `guarded`, which turns a panic into an error.
use std::panic::{AssertUnwindSafe, catch_unwind};

use wasmtime_c_api::wasmtime::{Result, format_err};

pub(crate) fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        Err(format_err!("{what}"))
    })
}
