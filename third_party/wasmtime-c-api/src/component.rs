//! A component's `InstancePre`, which the C API lacks: linked once against
//! WASI preview 2 (and, for a wasi:http proxy, wasi:http with outgoing
//! requests denied), so each instantiation skips import resolution and
//! type checks, as a core module's `InstancePre` does.
//!
//! The linker is built on the engine of the component itself, so there is
//! one engine, one pooling allocator and one epoch ticker for everything.
use wasmtime_c_api::wasmtime::component::{Component, Instance, InstancePre, Linker};
use wasmtime_c_api::wasmtime::Result;
use wasmtime_c_api::{
    WasmtimeStoreContextMut, WasmtimeStoreData, wasmtime_component_t, wasmtime_error_t,
};
use wasmtime_wasi_http::p2::bindings::ProxyIndices;

use crate::deadline;
use crate::guarded::guarded;
use crate::http;

/// What `strata_component_pre_new` links a component against.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq)]
#[allow(dead_code)] // made by C
pub enum strata_component_world_t {
    /// Exported functions and `wasi:cli/run` commands: WASI preview 2, sync,
    /// with waits held to the call's deadline (src/deadline.rs).
    STRATA_COMPONENT_WASIP2 = 0,
    /// A `wasi:http/incoming-handler` proxy: WASI preview 2 and wasi:http,
    /// async, with outgoing requests denied.
    STRATA_COMPONENT_HTTP_PROXY = 1,
}

pub struct strata_component_pre_t {
    pub(crate) pre: InstancePre<WasmtimeStoreData>,
    /// Where a proxy's `handle` export is, found once.
    pub(crate) proxy: Option<ProxyIndices>,
}

fn component_of(component: &wasmtime_component_t) -> &Component {
    // SAFETY: `wasmtime_component_t` is `#[repr(transparent)]` over `Component`.
    unsafe { &*(component as *const wasmtime_component_t as *const Component) }
}

fn link(component: &Component, world: strata_component_world_t) -> Result<strata_component_pre_t> {
    let mut linker = Linker::<WasmtimeStoreData>::new(component.engine());
    let proxy = world == strata_component_world_t::STRATA_COMPONENT_HTTP_PROXY;
    if proxy {
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
        http::add_to_linker(&mut linker)?;
    } else {
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        deadline::add_to_linker(&mut linker)?;
    }
    let pre = linker.instantiate_pre(component)?;
    let proxy = if proxy { Some(ProxyIndices::new(&pre)?) } else { None };
    Ok(strata_component_pre_t { pre, proxy })
}

/// Links `component` for `world`; `out` owns the result (free it with
/// `strata_component_pre_delete`). A missing import or, for a proxy, a
/// missing `wasi:http/incoming-handler` export is an error.
#[unsafe(no_mangle)]
pub extern "C" fn strata_component_pre_new(
    component: &wasmtime_component_t,
    world: strata_component_world_t,
    out: &mut *mut strata_component_pre_t,
) -> Option<Box<wasmtime_error_t>> {
    let component = component_of(component);
    guarded(|| link(component, world)).map_or_else(
        |err| Some(Box::new(err.into())),
        |pre| {
            *out = Box::into_raw(Box::new(pre));
            None
        },
    )
}

#[unsafe(no_mangle)]
pub extern "C" fn strata_component_pre_delete(_pre: Option<Box<strata_component_pre_t>>) {}

/// Instantiates `pre` in `store` (which must have its WASI context set,
/// and for a proxy its wasi:http context too).
#[unsafe(no_mangle)]
pub extern "C" fn strata_component_pre_instantiate(
    pre: &strata_component_pre_t,
    mut store: WasmtimeStoreContextMut<'_>,
    out: &mut Instance,
) -> Option<Box<wasmtime_error_t>> {
    let result = guarded(|| {
        if pre.proxy.is_some() {
            http::block_on(pre.pre.instantiate_async(&mut store))?
        } else {
            pre.pre.instantiate(&mut store)
        }
    });
    match result {
        Ok(instance) => {
            *out = instance;
            None
        }
        Err(err) => Some(Box::new(err.into())),
    }
}

/// The component's compiled image (code, data, metadata), as
/// `wasmtime_module_image_range` gives it for a module, so its residency
/// can be measured from the page tables.
#[unsafe(no_mangle)]
pub extern "C" fn strata_component_image_range(
    component: &wasmtime_component_t,
    start: &mut *const u8,
    end: &mut *const u8,
) {
    let range = component_of(component).image_range();
    *start = range.start;
    *end = range.end;
}

/// An upper bound on the bytes of linear memory an instance of `component`
/// starts with: its memories times the largest initial size among them
/// (wasmtime's own `resources_required`), or 0 when it cannot be known
/// statically. The C API has no way to reach a component instance's
/// memories, so this is what the pool charges for one.
#[unsafe(no_mangle)]
pub extern "C" fn strata_component_initial_memory(component: &wasmtime_component_t) -> u64 {
    const WASM_PAGE: u64 = 64 * 1024;
    let Some(required) = component_of(component).resources_required() else { return 0 };
    let pages = required.max_initial_memory_size.unwrap_or(0);
    u64::from(required.num_memories).saturating_mul(pages).saturating_mul(WASM_PAGE)
}
