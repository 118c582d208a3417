//! wasi:http's incoming handler, which the C API lacks: strata's HTTP front
//! end parses a request and hands its parts here; the proxy component's
//! `handle` runs on a small single-threaded runtime inside this library,
//! and the response comes back buffered, its body capped.
//!
//! Outgoing requests are denied: a proxy's `outgoing-handler.handle` gets
//! `HTTP-request-denied`.
use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::slice;
use std::time::Duration;

use bytes::Bytes;
use futures::future::{Either, select};
use http_body_util::{BodyExt, Full};
use wasmtime_c_api::wasmtime::component::{Instance, Linker};
use wasmtime_c_api::wasmtime::{Error as WasmtimeError, Result, Trap, format_err};
use wasmtime_c_api::{WasmtimeStoreContextMut, WasmtimeStoreData, wasmtime_error_t};
use wasmtime_wasi_http::p2::bindings::LinkOptions;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p2::bindings::http::{outgoing_handler, types};
use wasmtime_wasi_http::{
    Error, RequestOptions, WasiBody, WasiHttp, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

use crate::component::strata_component_pre_t;
use crate::guarded::guarded;

use strata_http_failure_t as Failure;

/// Adds wasi:http's `types` and `outgoing-handler` (async) to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<WasmtimeStoreData>) -> Result<()> {
    let options = LinkOptions::default();
    outgoing_handler::add_to_linker::<_, WasiHttp>(linker, denying)?;
    types::add_to_linker::<_, WasiHttp>(linker, &(&options).into(), denying)?;
    Ok(())
}

/// The store's wasi:http view with hooks that deny every outgoing request.
fn denying(data: &mut WasmtimeStoreData) -> WasiHttpCtxView<'_> {
    let mut view = data.http();
    // `Deny` has no fields, so leaking one allocates nothing.
    view.hooks = Box::leak(Box::new(Deny));
    view
}

struct Deny;

impl WasiHttpHooks for Deny {
    fn send_request(
        &mut self,
        _request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<(
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ), Error>,
            > + Send,
    > {
        Box::new(async { Err(Error::HttpRequestDenied) })
    }
}

thread_local! {
    static RUNTIME: RefCell<Option<tokio::runtime::Runtime>> = const { RefCell::new(None) };
}

/// Runs `future` to completion on this thread's runtime (made on first use).
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output> {
    RUNTIME.with(|cell| {
        let mut runtime = cell.borrow_mut();
        if runtime.is_none() {
            *runtime = Some(
                tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                    .map_err(|e| format_err!("cannot start the wasi:http runtime: {e}"))?,
            );
        }
        Ok(runtime.as_ref().unwrap().block_on(future))
    })
}

#[repr(C)]
pub struct strata_http_header_t {
    pub name: *const u8,
    pub name_len: usize,
    pub value: *const u8,
    pub value_len: usize,
}

#[repr(C)]
pub struct strata_http_request_t {
    pub method: *const u8,
    pub method_len: usize,
    /// Origin form: the path and query the component sees.
    pub path: *const u8,
    pub path_len: usize,
    /// The Host header's value (the request's authority).
    pub authority: *const u8,
    pub authority_len: usize,
    pub headers: *const strata_http_header_t,
    pub header_count: usize,
    pub body: *const u8,
    pub body_len: usize,
    /// A response body longer than this is an error.
    pub max_response_bytes: usize,
    /// The whole exchange, guest and host waits alike, ends after this
    /// long (0: no limit). The epoch deadline stops the guest's own code;
    /// this stops a guest that waits on the host (a clock, a pollable).
    pub timeout_ms: u64,
}

/// Why `strata_http_handle` failed, so that the caller need not read the
/// message (which may carry the guest's own text).
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum strata_http_failure_t {
    /// The guest trapped, answered with an error or misbehaved.
    Failed = 0,
    /// The request cannot be given to the proxy (a malformed method, host
    /// or header); the guest never ran.
    BadRequest = 1,
    /// The call's deadline passed.
    Deadline = 2,
    /// The response body was over `max_response_bytes`.
    TooLarge = 3,
}

/// An error with its kind.
type Classified = (Failure, WasmtimeError);
/// A result whose error says its kind.
type Served<T> = std::result::Result<T, Classified>;

fn failed(error: WasmtimeError) -> Classified {
    let deadline = error.downcast_ref::<Trap>() == Some(&Trap::Interrupt);
    (if deadline { Failure::Deadline } else { Failure::Failed }, error)
}

pub struct strata_http_response_t {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

unsafe fn bytes<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if len == 0 { &[] } else { unsafe { slice::from_raw_parts(data, len) } }
}

unsafe fn to_hyper(request: &strata_http_request_t) -> Result<hyper::Request<Full<Bytes>>> {
    let method = unsafe { bytes(request.method, request.method_len) };
    let path = std::str::from_utf8(unsafe { bytes(request.path, request.path_len) })?;
    let authority =
        std::str::from_utf8(unsafe { bytes(request.authority, request.authority_len) })?;
    let authority = if authority.is_empty() { "localhost" } else { authority };
    // From its parts, each checked: a Host of "x?" or "x/y" must not move
    // into the path or query the proxy sees.
    let uri = http::Uri::builder()
        .scheme("http")
        .authority(http::uri::Authority::try_from(authority)
            .map_err(|e| format_err!("the Host header {authority:?} is not an authority: {e}"))?)
        .path_and_query(http::uri::PathAndQuery::try_from(path)
            .map_err(|e| format_err!("the path {path:?} is not valid: {e}"))?)
        .build()?;
    let mut builder = hyper::Request::builder()
        .method(http::Method::from_bytes(method)?)
        .uri(uri);
    let headers = unsafe { slice_of(request.headers, request.header_count) };
    for header in headers {
        let name = unsafe { bytes(header.name, header.name_len) };
        let value = unsafe { bytes(header.value, header.value_len) };
        builder = builder.header(
            http::HeaderName::from_bytes(name)?,
            http::HeaderValue::from_bytes(value)?,
        );
    }
    let body = unsafe { bytes(request.body, request.body_len) }.to_vec();
    Ok(builder.body(Full::new(Bytes::from(body)))?)
}

unsafe fn slice_of<'a, T>(data: *const T, len: usize) -> &'a [T] {
    if len == 0 { &[] } else { unsafe { slice::from_raw_parts(data, len) } }
}

/// Serves one request with the proxy `instance` (of `pre`) in `store`.
async fn handle(
    pre: &strata_component_pre_t,
    mut store: WasmtimeStoreContextMut<'_>,
    instance: &Instance,
    request: hyper::Request<Full<Bytes>>,
    max_response_bytes: usize,
) -> Served<strata_http_response_t> {
    let fail = |message: &str| (Failure::Failed, format_err!("{message}"));
    let Some(indices) = &pre.proxy else {
        return Err(fail("the component is not a wasi:http proxy"));
    };
    let proxy = indices.load(&mut store, instance).map_err(failed)?;
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let (req, out) = {
        let mut http = store.data_mut().http();
        (
            http.new_incoming_request(types::Scheme::Http, request).map_err(failed)?,
            http.new_response_outparam(sender).map_err(failed)?,
        )
    };
    let mut call = pin!(proxy.wasi_http_incoming_handler().call_handle(&mut store, req, out));
    // The guest may write the body after setting the response, so the body
    // is read while `handle` runs. A trap ends the request at once; a
    // `handle` that returned has set its response or never will, and the
    // rest of its body is already on its way.
    let (response, returned) = match select(call.as_mut(), receiver).await {
        Either::Left((called, mut receiver)) => {
            called.map_err(failed)?;
            match receiver.try_recv() {
                Ok(response) => (response, true),
                Err(_) => return Err(fail("the component returned without setting a response")),
            }
        }
        Either::Right((response, _)) => {
            (response.map_err(|_| fail("the component dropped its response"))?, false)
        }
    };
    // The guest's error code is its own text: reported, never classified.
    let response = response.map_err(|code| {
        (Failure::Failed, format_err!("the component answered with error {code:?}"))
    })?;
    let (parts, body) = response.into_parts();
    let read = pin!(read_body(body, max_response_bytes));
    let body = if returned {
        after_return(read).await?
    } else {
        match select(call, read).await {
            Either::Left((called, read)) => {
                called.map_err(failed)?;
                after_return(read).await?
            }
            Either::Right((body, call)) => {
                call.await.map_err(failed)?;
                body?
            }
        }
    };
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    Ok(strata_http_response_t { status: parts.status.as_u16(), headers, body })
}

/// The rest of a body once `handle` returned: what the guest wrote is
/// buffered, so it ends at once unless the guest never finished it.
async fn after_return(
    read: impl Future<Output = Served<Vec<u8>>>,
) -> Served<Vec<u8>> {
    const GRACE: Duration = Duration::from_secs(1);
    tokio::time::timeout(GRACE, read).await.map_err(|_| {
        (
            Failure::Failed,
            format_err!("the component returned without finishing its response body"),
        )
    })?
}

async fn read_body(mut body: HyperOutgoingBody, max_bytes: usize) -> Served<Vec<u8>> {
    let mut data = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            (Failure::Failed, format_err!("reading the response body: {e}"))
        })?;
        if let Some(chunk) = frame.data_ref() {
            if data.len() + chunk.len() > max_bytes {
                return Err((
                    Failure::TooLarge,
                    format_err!(
                        "response body of at least {} bytes, over its cap of {max_bytes} bytes",
                        data.len() + chunk.len()
                    ),
                ));
            }
            data.extend_from_slice(chunk);
        }
    }
    Ok(data)
}

/// Serves `request` with the proxy `instance` of `pre` in `store`; `out`
/// owns the response (free it with `strata_http_response_delete`). On an
/// error, `failure` says what kind.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strata_http_handle(
    pre: &strata_component_pre_t,
    store: WasmtimeStoreContextMut<'_>,
    instance: &Instance,
    request: &strata_http_request_t,
    out: &mut *mut strata_http_response_t,
    failure: &mut strata_http_failure_t,
) -> Option<Box<wasmtime_error_t>> {
    let result = guarded(|| {
        let hyper_request = match unsafe { to_hyper(request) } {
            Ok(r) => r,
            Err(e) => return Ok(Err((Failure::BadRequest, e))),
        };
        let served = handle(pre, store, instance, hyper_request, request.max_response_bytes);
        if request.timeout_ms == 0 {
            return block_on(served);
        }
        // Dropping the call on the deadline unwinds the guest's fiber; the
        // caller does not use the instance again.
        let limit = Duration::from_millis(request.timeout_ms);
        // The timer is made inside the runtime, which it needs.
        Ok(block_on(async move { tokio::time::timeout(limit, served).await })?.unwrap_or_else(|_| {
            Err((
                Failure::Deadline,
                format_err!("no response within {} ms", request.timeout_ms),
            ))
        }))
    });
    match result {
        Ok(Ok(response)) => {
            *out = Box::into_raw(Box::new(response));
            None
        }
        Ok(Err((kind, err))) => {
            *failure = kind;
            Some(Box::new(err.into()))
        }
        Err(err) => {
            *failure = Failure::Failed;
            Some(Box::new(err.into()))
        }
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn strata_http_response_status(response: &strata_http_response_t) -> u16 {
    response.status
}

#[unsafe(no_mangle)]
pub extern "C" fn strata_http_response_header_count(response: &strata_http_response_t) -> usize {
    response.headers.len()
}

/// The `index`th header; the pointers live as long as `response`.
#[unsafe(no_mangle)]
pub extern "C" fn strata_http_response_header(
    response: &strata_http_response_t,
    index: usize,
    out: &mut strata_http_header_t,
) {
    let (name, value) = &response.headers[index];
    *out = strata_http_header_t {
        name: name.as_ptr(),
        name_len: name.len(),
        value: value.as_ptr(),
        value_len: value.len(),
    };
}

/// The body; the pointer lives as long as `response`.
#[unsafe(no_mangle)]
pub extern "C" fn strata_http_response_body(
    response: &strata_http_response_t,
    data: &mut *const u8,
    len: &mut usize,
) {
    *data = response.body.as_ptr();
    *len = response.body.len();
}

#[unsafe(no_mangle)]
pub extern "C" fn strata_http_response_delete(_response: Option<Box<strata_http_response_t>>) {}
