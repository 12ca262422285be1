//! The C ABI of faas (`include/faas.h`). Every function here is a thin
//! adapter over the Rust API; the header is the C user's manual.
//!
//! Result codes are [`faas::Error::code`]; 0 is success.
#![no_std]
#![allow(non_camel_case_types)]

use core::ffi::{c_char, c_int, c_void, CStr};
use faas::runtime::Field;
use faas::{Context, Error, Handler, HandlerError, Out, Response, Stream};

/// `FAAS_OK`; errors are `code(e)`. Append-only, as the header says.
const FAAS_OK: c_int = 0;

/// The C result code of a core error: [`Error::code`], which the header's
/// `FAAS_E*` values copy (`tests/c/api_test.c` checks every one).
fn code(e: Error) -> c_int {
    e.code()
}

fn result(r: Result<(), Error>) -> c_int {
    r.map_or_else(code, |()| FAAS_OK)
}

/// `faas_error`: what an init callback fills in to describe its failure.
#[repr(C)]
pub struct faas_error {
    pub error_type: *const c_char,
    pub message: *const c_char,
}

/// The opaque `faas_invocation`: one invocation, valid while the handler runs.
pub struct faas_invocation<'a, 'c> {
    event: &'a [u8],
    ctx: &'a Context<'a>,
    out: Option<Out<'a, 'c>>,
    stream: Option<Stream<'c>>,
    /// Where `faas_response_buffer` handed out the buffer, to recognise it.
    buf: (*const u8, usize),
    /// The code of the call that used up `out`, if it failed.
    failed: c_int,
}

pub type faas_handler_fn = Option<unsafe extern "C" fn(*mut c_void, *mut faas_invocation) -> c_int>;
pub type faas_init_fn = Option<unsafe extern "C" fn(*mut c_void, *mut faas_error) -> c_int>;

pub type faas_shutdown_fn = Option<unsafe extern "C" fn(*mut c_void)>;

/// A C handler. `G` says whether graceful shutdown was asked for: a const,
/// so `faas_run` links none of its code.
struct CHandler<const G: bool> {
    handler: unsafe extern "C" fn(*mut c_void, *mut faas_invocation) -> c_int,
    shutdown: faas_shutdown_fn,
    user_data: *mut c_void,
}

impl<const G: bool> Handler for CHandler<G> {
    fn graceful_shutdown(&self) -> bool {
        G && self.shutdown.is_some()
    }

    fn shutdown(&mut self) {
        if let Some(f) = self.shutdown {
            // SAFETY: the header's contract for shutdown callbacks.
            unsafe { f(self.user_data) }
        }
    }

    fn handle<'a>(&mut self, event: &'a [u8], ctx: &Context<'a>, out: Out<'a, '_>) -> Result<Response<'a>, HandlerError<'a>> {
        let mut inv = faas_invocation { event, ctx, out: Some(out), stream: None, buf: (core::ptr::null(), 0), failed: FAAS_OK };
        // SAFETY: the header's contract: `handler` is a valid function that
        // uses `inv` only until it returns, which is while `inv` lives.
        let rc = unsafe { (self.handler)(self.user_data, &mut inv) };
        let answered = inv.out.is_none();
        // A code after an answer is its failure, even if the handler did
        // not pass it on: if nothing went out (a bad content type, say), the
        // runtime posts it as the error.
        let rc = if rc == FAAS_OK { inv.failed } else { rc };
        match (rc, answered) {
            (0, true) => Ok(Response::new(b"", "")), // sent, or a stream the runtime ends
            (0, false) => Err(HandlerError::new("Runtime.NoResponse", "the handler returned without a response")),
            (rc, _) => Err(HandlerError::new("Function.Error", strerror_str(rc))),
        }
    }
}

/// Borrows a C string's bytes; NULL stays `None`.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that outlives `'x`.
unsafe fn opt_bytes<'x>(p: *const c_char) -> Option<&'x [u8]> {
    // SAFETY: per this function's contract.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// Stands in for a content type that is not ASCII: the core refuses it as
/// it refuses any CR or LF in a header (FAAS_EINVAL, nothing sent), and the
/// handler's return then reports that.
const NOT_ASCII: &str = "\r";

/// Borrows a C string that must be ASCII (a content or error type): NULL
/// gives `default`, a string that is not ASCII `None`.
///
/// # Safety
/// As [`opt_bytes`].
unsafe fn opt_str(p: *const c_char, default: &str) -> Option<&str> {
    // SAFETY: per this function's contract.
    match unsafe { opt_bytes(p) } {
        None => Some(default),
        Some(s) => faas::sys::ascii(s),
    }
}

/// Runs the function; returns only on a fatal error (the exit status).
///
/// # Safety
/// `handler` is a valid function pointer; `init` is NULL or valid; both
/// follow the contracts in faas.h.
#[no_mangle]
pub unsafe extern "C" fn faas_run(handler: faas_handler_fn, init: faas_init_fn, user_data: *mut c_void) -> c_int {
    // SAFETY: the caller's contract, passed on.
    unsafe { run_c::<false>(handler, init, None, user_data) }
}

/// [`faas_run`] with graceful shutdown.
///
/// # Safety
/// As [`faas_run`]; `shutdown` is a valid function pointer.
#[no_mangle]
pub unsafe extern "C" fn faas_run_graceful(handler: faas_handler_fn, init: faas_init_fn, shutdown: faas_shutdown_fn, user_data: *mut c_void) -> c_int {
    if shutdown.is_none() {
        faas::log::runtime(&[b"faas_run_graceful: shutdown is NULL"]);
        return code(Error::Invalid);
    }
    // SAFETY: the caller's contract, passed on.
    unsafe { run_c::<true>(handler, init, shutdown, user_data) }
}

/// # Safety
/// As [`faas_run`].
unsafe fn run_c<const G: bool>(handler: faas_handler_fn, init: faas_init_fn, shutdown: faas_shutdown_fn, user_data: *mut c_void) -> c_int {
    let Some(handler) = handler else {
        faas::log::runtime(&[b"faas_run: handler is NULL"]);
        return code(Error::Invalid);
    };
    faas::run(|| {
        if let Some(init) = init {
            let mut err = faas_error { error_type: core::ptr::null(), message: core::ptr::null() };
            // SAFETY: the header's contract for init callbacks.
            let rc = unsafe { init(user_data, &mut err) };
            if rc != FAAS_OK {
                // SAFETY: the header says both strings stay valid until
                // faas_run returns, which covers posting /init/error.
                let (t, m) = unsafe { (opt_str(err.error_type, "Runtime.InitError"), opt_bytes(err.message)) };
                let message = m.unwrap_or(strerror_str(rc).as_bytes());
                // A type that is not ASCII is sent as Runtime.Unknown.
                return Err(HandlerError { error_type: t.unwrap_or(""), message });
            }
        }
        Ok(CHandler::<G> { handler, shutdown, user_data })
    })
}

/// Turns the C invocation pointer back into a reference.
///
/// # Safety
/// `inv` is the pointer a handler was given, used while the handler runs.
unsafe fn inv_mut<'x, 'a, 'c>(inv: *mut faas_invocation<'a, 'c>) -> Option<&'x mut faas_invocation<'a, 'c>> {
    // SAFETY: per this function's contract; NULL is caught by as_mut.
    unsafe { inv.as_mut() }
}

/// # Safety
/// `inv` is valid (see faas.h); `len` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn faas_event(inv: *const faas_invocation, len: *mut usize) -> *const u8 {
    // SAFETY: the caller's contract.
    let Some(inv) = (unsafe { inv.as_ref() }) else { return core::ptr::null() };
    if !len.is_null() {
        // SAFETY: non-null and writable per the contract.
        unsafe { *len = inv.event.len() };
    }
    inv.event.as_ptr()
}

fn field(inv: *const faas_invocation, f: Field) -> *const c_char {
    // SAFETY: accessors are called with the handler's pointer (faas.h).
    match unsafe { inv.as_ref() } {
        Some(inv) => inv.ctx.c_str(f).map_or(core::ptr::null(), CStr::as_ptr),
        None => core::ptr::null(),
    }
}

/// # Safety
/// `inv` is valid (see faas.h).
#[no_mangle]
pub unsafe extern "C" fn faas_request_id(inv: *const faas_invocation) -> *const c_char {
    field(inv, Field::RequestId)
}
/// # Safety
/// `inv` is valid (see faas.h).
#[no_mangle]
pub unsafe extern "C" fn faas_function_arn(inv: *const faas_invocation) -> *const c_char {
    field(inv, Field::FunctionArn)
}
/// # Safety
/// `inv` is valid (see faas.h).
#[no_mangle]
pub unsafe extern "C" fn faas_trace_id(inv: *const faas_invocation) -> *const c_char {
    field(inv, Field::TraceId)
}
/// # Safety
/// `inv` is valid (see faas.h).
#[no_mangle]
pub unsafe extern "C" fn faas_client_context(inv: *const faas_invocation) -> *const c_char {
    field(inv, Field::ClientContext)
}
/// # Safety
/// `inv` is valid (see faas.h).
#[no_mangle]
pub unsafe extern "C" fn faas_cognito_identity(inv: *const faas_invocation) -> *const c_char {
    field(inv, Field::CognitoIdentity)
}
/// # Safety
/// `inv` is valid (see faas.h).
#[no_mangle]
pub unsafe extern "C" fn faas_tenant_id(inv: *const faas_invocation) -> *const c_char {
    field(inv, Field::TenantId)
}

/// # Safety
/// `inv` is valid (see faas.h).
#[no_mangle]
pub unsafe extern "C" fn faas_deadline_ms(inv: *const faas_invocation) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { inv.as_ref() }.map_or(0, |i| i.ctx.deadline_ms())
}

/// # Safety
/// `inv` is valid (see faas.h).
#[no_mangle]
pub unsafe extern "C" fn faas_remaining_ms(inv: *const faas_invocation) -> u64 {
    // SAFETY: the caller's contract.
    unsafe { inv.as_ref() }.map_or(0, |i| i.ctx.remaining_ms())
}

/// # Safety
/// `inv` is valid (see faas.h); `capacity` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn faas_response_buffer(inv: *mut faas_invocation, capacity: *mut usize) -> *mut u8 {
    // SAFETY: the caller's contract.
    let Some(inv) = (unsafe { inv_mut(inv) }) else { return core::ptr::null_mut() };
    let Some(out) = inv.out.as_mut() else { return core::ptr::null_mut() };
    let buf = out.buffer_mut();
    let buf = buf.get_mut(..faas::MAX_PAYLOAD).unwrap_or_default();
    inv.buf = (buf.as_ptr(), buf.len());
    if !capacity.is_null() {
        // SAFETY: non-null and writable per the contract.
        unsafe { *capacity = buf.len() };
    }
    buf.as_mut_ptr()
}

/// # Safety
/// `inv` is valid; `body` is readable for `len` bytes (or `len` is 0);
/// `content_type` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn faas_respond(inv: *mut faas_invocation, body: *const c_void, len: usize, content_type: *const c_char) -> c_int {
    // SAFETY: the caller's contract.
    let Some(inv) = (unsafe { inv_mut(inv) }) else { return code(Error::Invalid) };
    // SAFETY: NULL or NUL-terminated per the contract.
    let ct = unsafe { opt_str(content_type, "application/json") }.unwrap_or(NOT_ASCII);
    if body.is_null() && len > 0 {
        return code(Error::Invalid);
    }
    let Some(out) = inv.out.take() else { return code(Error::State) };
    let (start, cap) = (inv.buf.0 as usize, inv.buf.1);
    let at = (body as usize).wrapping_sub(start);
    let r = if !inv.buf.0.is_null() && at < cap {
        // The body is in the response buffer: let the core slice it.
        out.respond_buffer(at, len, ct)
    } else {
        // SAFETY: readable for `len` bytes per the contract (or empty).
        let body = if len == 0 { &[][..] } else { unsafe { core::slice::from_raw_parts(body as *const u8, len) } };
        out.respond(body, ct)
    };
    inv.failed = result(r.map(drop));
    inv.failed
}

/// # Safety
/// `inv` is valid; `error_type` is NULL or NUL-terminated; `message` is
/// readable for `message_len` bytes (or `message_len` is 0).
#[no_mangle]
pub unsafe extern "C" fn faas_fail(inv: *mut faas_invocation, error_type: *const c_char, message: *const c_char, message_len: usize) -> c_int {
    // SAFETY: the caller's contract.
    let Some(inv) = (unsafe { inv_mut(inv) }) else { return code(Error::Invalid) };
    // SAFETY: NULL or NUL-terminated per the contract.
    // A type that is not ASCII is sent as Runtime.Unknown.
    let error_type = unsafe { opt_str(error_type, "Function.Error") }.unwrap_or("");
    let message = if message.is_null() || message_len == 0 {
        &[][..]
    } else {
        // SAFETY: readable for `message_len` bytes per the contract.
        unsafe { core::slice::from_raw_parts(message.cast::<u8>(), message_len) }
    };
    let err = HandlerError { error_type, message };
    if let Some(stream) = inv.stream.take() {
        return result(stream.fail(err));
    }
    match inv.out.take() {
        Some(out) => {
            inv.failed = result(out.fail(err).map(drop));
            inv.failed
        }
        None => code(Error::State),
    }
}

/// # Safety
/// `inv` is valid; `content_type` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn faas_stream_begin(inv: *mut faas_invocation, content_type: *const c_char) -> c_int {
    // SAFETY: the caller's contract.
    let Some(inv) = (unsafe { inv_mut(inv) }) else { return code(Error::Invalid) };
    // SAFETY: NULL or NUL-terminated per the contract.
    let ct = unsafe { opt_str(content_type, "application/octet-stream") }.unwrap_or(NOT_ASCII);
    let Some(out) = inv.out.take() else { return code(Error::State) };
    match out.stream(ct) {
        Ok(s) => {
            inv.stream = Some(s);
            FAAS_OK
        }
        Err(e) => {
            inv.failed = code(e);
            inv.failed
        }
    }
}

/// # Safety
/// `inv` is valid; `prelude_json` is NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn faas_stream_begin_http(inv: *mut faas_invocation, prelude_json: *const c_char) -> c_int {
    // SAFETY: the caller's contract.
    let Some(inv) = (unsafe { inv_mut(inv) }) else { return code(Error::Invalid) };
    // SAFETY: NULL or NUL-terminated per the contract.
    // Checked here too, so that a bad prelude leaves the invocation answerable.
    let Some(prelude) = (unsafe { opt_bytes(prelude_json) }).filter(|p| p.first() == Some(&b'{')) else { return code(Error::Invalid) };
    let Some(out) = inv.out.take() else { return code(Error::State) };
    match out.stream_http(prelude) {
        Ok(s) => {
            inv.stream = Some(s);
            FAAS_OK
        }
        Err(e) => {
            inv.failed = code(e);
            inv.failed
        }
    }
}

/// # Safety
/// `inv` is valid; `data` is readable for `len` bytes (or `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn faas_stream_write(inv: *mut faas_invocation, data: *const c_void, len: usize) -> c_int {
    // SAFETY: the caller's contract.
    let Some(inv) = (unsafe { inv_mut(inv) }) else { return code(Error::Invalid) };
    let Some(stream) = inv.stream.as_mut() else { return code(Error::State) };
    if len == 0 {
        return FAAS_OK;
    }
    if data.is_null() {
        return code(Error::Invalid);
    }
    // SAFETY: readable for `len` bytes per the contract.
    result(stream.write(unsafe { core::slice::from_raw_parts(data as *const u8, len) }))
}

/// # Safety
/// `message` is readable for `len` bytes (or NULL).
#[no_mangle]
pub unsafe extern "C" fn faas_log(level: c_int, message: *const c_char, len: usize) {
    let level = u8::try_from(level).ok().and_then(faas::log::Level::from_u8).unwrap_or(faas::log::Level::Info);
    if message.is_null() {
        return;
    }
    // SAFETY: readable for `len` bytes per the contract.
    faas::log::write(level, unsafe { core::slice::from_raw_parts(message.cast::<u8>(), len) });
}

fn strerror_str(rc: c_int) -> &'static str {
    match rc {
        FAAS_OK => "success",
        _ => Error::from_code(rc).map_or("the handler failed", Error::as_str),
    }
}

/// A static, NUL-terminated description of a result code.
#[no_mangle]
pub extern "C" fn faas_strerror(rc: c_int) -> *const c_char {
    match Error::from_code(rc) {
        Some(e) => e.as_cstr().as_ptr(),
        None if rc == FAAS_OK => c"success".as_ptr(),
        None => c"unknown result code".as_ptr(),
    }
}

#[no_mangle]
pub extern "C" fn faas_version() -> *const c_char {
    const V: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    V.as_ptr() as *const c_char
}

#[no_mangle]
pub extern "C" fn faas_version_number() -> u32 {
    const fn num(s: &str) -> u32 {
        let b = s.as_bytes();
        let (mut i, mut part, mut acc, mut n) = (0, 0u32, 0u32, 0);
        while i <= b.len() {
            if i == b.len() || b[i] == b'.' {
                acc = acc * 100 + part;
                part = 0;
                n += 1;
                if n == 3 {
                    break;
                }
            } else if b[i].is_ascii_digit() {
                part = part * 10 + (b[i] - b'0') as u32;
            }
            i += 1;
        }
        acc
    }
    const N: u32 = num(env!("CARGO_PKG_VERSION"));
    N
}

#[cfg(not(test))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    faas::panic(info)
}

/// Debug builds of `core` still name an unwinder; release builds do not.
#[cfg(all(not(test), debug_assertions))]
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
