//! The handler-facing layer: the [`Handler`] trait, the invocation loop
//! ([`run`]) and panic reporting.

use crate::addr::Addr;
use crate::runtime::{self, Answer, Client, Context};
use crate::{json, log, sys, Error};

/// A Lambda function. `handle` runs once per invocation with the event bytes
/// and the invocation's [`Context`]; it answers with a [`Response`] (buffered,
/// or streamed through [`Out::stream`]) or a [`HandlerError`].
pub trait Handler {
    /// Handles one invocation. `out` offers a 6 MiB buffer to build the
    /// response in, typed JSON output, or a response stream.
    fn handle<'a>(&mut self, event: &'a [u8], ctx: &Context<'a>, out: Out<'a, '_>) -> Result<Response<'a>, HandlerError<'a>>;

    /// Opt in to graceful shutdown: return true, and the runtime registers a
    /// no-op internal extension during init so that Lambda sends it SIGTERM
    /// before shutting down; [`Handler::shutdown`] then runs (Lambda allows
    /// about 300 ms) and the process exits 0.
    fn graceful_shutdown(&self) -> bool {
        false
    }

    /// Called once on SIGTERM, between invocations, when
    /// [`Handler::graceful_shutdown`] is true.
    fn shutdown(&mut self) {}
}

/// A successful answer: bytes with a content type, or a finished stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response<'a> {
    body: &'a [u8],
    content_type: &'a str,
}

impl<'a> Response<'a> {
    /// A response with any content type.
    pub fn new(body: &'a [u8], content_type: &'a str) -> Self {
        Response { body, content_type }
    }
    /// A response of type `application/json`.
    pub fn json(body: &'a [u8]) -> Self {
        Response::new(body, "application/json")
    }
    /// The body (empty for a streamed response).
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
    /// The content type.
    pub fn content_type(&self) -> &'a str {
        self.content_type
    }
}

/// A function error: reported to `/error` (or `/init/error` from init) as
/// `{"errorMessage": message, "errorType": error_type, "stackTrace": []}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandlerError<'a> {
    /// `Category.Reason`, e.g. `Function.BadInput`.
    pub error_type: &'a str,
    /// Any bytes; escaped as JSON when sent.
    pub message: &'a [u8],
}

impl<'a> HandlerError<'a> {
    /// An error with a type and a message.
    pub fn new(error_type: &'a str, message: &'a str) -> Self {
        HandlerError { error_type, message: message.as_bytes() }
    }
}

impl From<Error> for HandlerError<'static> {
    fn from(e: Error) -> Self {
        let error_type = match e {
            Error::Json => "Function.InvalidJson",
            _ => "Runtime.Error",
        };
        HandlerError::new(error_type, e.as_str())
    }
}

/// Where a handler's answer goes: a buffer to build it in, or a stream.
pub struct Out<'a, 'c> {
    buf: &'a mut [u8],
    client: &'c mut Client,
    request_id: &'a str,
}

impl<'a, 'c> Out<'a, 'c> {
    /// Hands out the response buffer (6 MiB, static, reused per invocation).
    pub fn buffer(self) -> &'a mut [u8] {
        self.buf
    }

    /// Borrows the response buffer, keeping `self` for [`Out::respond_buffer`].
    pub fn buffer_mut(&mut self) -> &mut [u8] {
        self.buf
    }

    /// Sends `body` as the response now (it need not outlive this call).
    pub fn respond(self, body: &[u8], content_type: &str) -> Result<Response<'static>, Error> {
        self.client.respond(self.request_id, body, content_type)?;
        Ok(Response::new(b"", ""))
    }

    /// Sends `len` bytes of the response buffer from `start` as the response now.
    pub fn respond_buffer(self, start: usize, len: usize, content_type: &str) -> Result<Response<'static>, Error> {
        let body = self.buf.get(start..start.saturating_add(len)).ok_or(Error::Invalid)?;
        self.client.respond(self.request_id, body, content_type)?;
        Ok(Response::new(b"", ""))
    }

    /// Sends `error` as the invocation's error now (it need not outlive this
    /// call); return the `Response` from the handler.
    pub fn fail(self, error: HandlerError<'_>) -> Result<Response<'static>, Error> {
        self.client.fail(Some(self.request_id), error.error_type, error.message)?;
        Ok(Response::new(b"", ""))
    }

    /// Serialises `value` as the JSON response.
    pub fn json<T: serde::Serialize + ?Sized>(self, value: &T) -> Result<Response<'a>, HandlerError<'a>> {
        let buf = self.buf.get_mut(..runtime::MAX_PAYLOAD).unwrap_or_default();
        let n = json::to_slice(value, buf)?;
        Ok(Response::json(buf.get(..n).unwrap_or_default()))
    }

    /// Starts a streamed response with `content_type`. The response headers
    /// go out now; each [`Stream::write`] sends a chunk at once. Returning an
    /// error from the handler after this reports it in the stream's trailers.
    pub fn stream(self, content_type: &str) -> Result<Stream<'c>, Error> {
        self.client.stream_begin(self.request_id, content_type)?;
        sys::with_current(&mut |p| p.stream_fd1 = self.client.stream_fd() + 1);
        Ok(Stream { client: self.client })
    }

    /// Starts a streamed answer for a Lambda function URL (invoke mode
    /// `RESPONSE_STREAM`): `prelude` is the JSON object that sets the HTTP
    /// status, headers and cookies, e.g.
    /// `{"statusCode":200,"headers":{"content-type":"text/html"}}`. It goes
    /// out now, with the content type [`HTTP_INTEGRATION`] and the eight NUL
    /// bytes that end it; then [`Stream::write`] the body. `Invalid` (and
    /// nothing sent) unless `prelude` starts with `{`.
    pub fn stream_http(self, prelude: &[u8]) -> Result<Stream<'c>, Error> {
        if prelude.first() != Some(&b'{') {
            return Err(Error::Invalid);
        }
        let mut s = self.stream(HTTP_INTEGRATION)?;
        s.write(prelude)?;
        s.write(&[0; 8])?;
        Ok(s)
    }
}

/// The content type of a streamed answer to a function URL: a JSON prelude,
/// eight NUL bytes, then the body (see [`Out::stream_http`]).
pub const HTTP_INTEGRATION: &str = "application/vnd.awslambda.http-integration-response";

/// A response stream in progress (see [`Out::stream`]).
pub struct Stream<'c> {
    client: &'c mut Client,
}

impl Stream<'_> {
    /// Sends `data` as one chunk now.
    pub fn write(&mut self, data: &[u8]) -> Result<(), Error> {
        self.client.stream_write(data)
    }

    /// Ends the stream now with `error` in its trailers.
    pub fn fail(self, error: HandlerError<'_>) -> Result<(), Error> {
        self.client.stream_end(Some((error.error_type, error.message)))
    }

    /// Ends the handler's part; return this from the handler, and the
    /// runtime closes the stream.
    pub fn finish(self) -> Response<'static> {
        Response::new(b"", "")
    }
}

/// Runs the function: reads the address, calls `init` once (an `Err` is
/// posted to `/init/error`), then loops over invocations. Returns only on a
/// fatal error, with the exit status for `main`.
pub fn run<'i, H: Handler>(init: impl FnOnce() -> Result<H, HandlerError<'i>>) -> i32 {
    log::configure_from_env();
    let Some(st) = sys::storage() else {
        log::runtime(&[b"run() may only be called once"]);
        return 1;
    };
    // Read once: the address for the client, the log and the panic path.
    let addr = sys::getenv(c"AWS_LAMBDA_RUNTIME_API");
    let mut client = match addr.ok_or(Error::NoAddress).and_then(Addr::parse) {
        Ok(a) => Client::new(a),
        Err(e) => {
            log::runtime(&[e.as_str().as_bytes(), b" (AWS_LAMBDA_RUNTIME_API=\"", addr.unwrap_or_default().as_bytes(), b"\")"]);
            return 1;
        }
    };
    sys::with_current(&mut |p| (p.addr, p.init) = (addr, true));
    let init = init();
    sys::with_current(&mut |p| p.init = false);
    let mut handler = match init {
        Ok(h) => h,
        Err(e) => {
            log::runtime(&[b"init failed: ", e.error_type.as_bytes(), b": ", e.message]);
            if let Err(post) = client.fail(None, e.error_type, e.message) {
                log::runtime(&[b"could not post /init/error: ", post.as_str().as_bytes()]);
            }
            return 1;
        }
    };
    // SIGTERM is caught only once the extension is registered: without
    // one, Lambda sends none, and the function runs as without graceful
    // shutdown.
    let graceful = handler.graceful_shutdown()
        && match client.register_extension("faas") {
            Ok(()) => true,
            Err(e) => {
                log::runtime(&[b"graceful shutdown is off: extension registration failed: ", e.as_str().as_bytes()]);
                false
            }
        };
    if graceful {
        sys::catch_sigterm();
    }
    let mut missing_ids = 0;
    loop {
        let next = match graceful && sys::shutdown_requested() {
            true => Err(Error::Shutdown),
            false => client.next(&mut st.head[..], &mut st.event[..]),
        };
        let inv = match next {
            Ok(inv) => inv,
            Err(Error::Shutdown) if graceful => {
                log::runtime(&[b"SIGTERM: shutting down"]);
                handler.shutdown();
                return 0;
            }
            Err(Error::NoRequestId) if missing_ids < 3 => {
                // Nothing can be reported without an id; skip it, but do
                // not spin on a server that sends nothing else.
                missing_ids += 1;
                log::runtime(&[Error::NoRequestId.as_str().as_bytes()]);
                continue;
            }
            Err(e) => {
                log::runtime(&[b"GET /next failed, exiting: ", e.as_str().as_bytes()]);
                return 1;
            }
        };
        missing_ids = 0;
        let ctx = inv.ctx;
        let id = ctx.request_id();
        sys::set_trace_id(ctx.c_str(runtime::Field::TraceId));
        sys::with_current(&mut |p| {
            p.request_id.clear();
            let _ = p.request_id.push_str(id);
        });
        let result = match inv.event {
            Ok(event) => {
                let out = Out { buf: &mut st.out[..], client: &mut client, request_id: id };
                let r = handler.handle(event, &ctx, out);
                match (r, client.answer()) {
                    (r, Answer::Streaming) => client.end_open_stream(r.err().map(|e| (e.error_type, e.message))),
                    (Ok(resp), Answer::None) => match client.respond(id, resp.body, resp.content_type) {
                        // Nothing went out (a content type that cannot be a
                        // header, say): the invocation is answered all the same.
                        Err(e) if client.answer() == Answer::None => client.fail(Some(id), "Runtime.InvalidResponse", e.as_str().as_bytes()),
                        r => r,
                    },
                    (Err(e), Answer::None) => client.fail(Some(id), e.error_type, e.message),
                    (Ok(_), Answer::Done) => Ok(()),
                    (Err(e), Answer::Done) => {
                        log::runtime(&[b"error after the response was sent (ignored): ", e.message]);
                        Ok(())
                    }
                }
            }
            Err(e) => {
                log::runtime(&[b"event not readable: ", e.as_str().as_bytes()]);
                let kind = if e == Error::TooLarge { "Runtime.EventTooLarge" } else { "Runtime.InvalidEvent" };
                client.fail(Some(id), kind, e.as_str().as_bytes())
            }
        };
        sys::with_current(&mut |p| {
            p.request_id.clear();
            p.stream_fd1 = 0;
        });
        match result {
            _ if client.fatal() => {
                log::runtime(&[b"the Runtime API reported a fatal error; exiting"]);
                return 1;
            }
            Ok(()) => {}
            // 413, 400, 403 or a lost connection: logged; on to the next.
            Err(e) => log::runtime(&[b"posting the result of ", id.as_bytes(), b" failed: ", e.as_str().as_bytes()]),
        }
    }
}

/// Reports a panic as the current invocation's error (`Runtime.Panic`), or
/// in the trailers of a stream in progress, then aborts. Call it from the
/// bootstrap's `#[panic_handler]` (the [`main!`](crate::main) macro does).
pub fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut buf = [0u8; 512];
    let mut w = crate::http::Writer::new(&mut buf);
    w.put_str(info.message().as_str().unwrap_or("panicked"));
    if let Some(l) = info.location() {
        w.put_str(" at ").put_str(l.file()).put_str(":").put_dec(u64::from(l.line()));
    }
    report(w.finish().unwrap_or(b"panicked"))
}

/// On the thread that runs [`run`], reports `msg` as a panic, as [`panic()`]
/// does, and aborts: the current invocation's error (`Runtime.Panic`), the
/// error trailers of a stream in progress, or during init the init error.
/// On any other thread it does nothing and returns.
///
/// For a program with `std`, whose panic handler is std's own: call it from
/// a panic hook (`std::panic::set_hook`), where std can format the message,
/// and then the previous hook, for the panics of other threads (see
/// `examples/std-rs`).
pub fn report_panic(msg: &[u8]) {
    if sys::on_runtime_thread() {
        report(msg)
    }
}

fn report(msg: &[u8]) -> ! {
    log::runtime(&[b"panic: ", msg]);
    // Copy the state out first: reporting may log, and logging reads it.
    let (mut addr, mut id, mut stream_fd1, mut init) = (None, heapless::String::<128>::new(), 0, false);
    sys::with_current(&mut |p| (addr, id, stream_fd1, init) = (p.addr, p.request_id.clone(), p.stream_fd1, p.init));
    if stream_fd1 > 0 {
        let _ = runtime::end_stream(&sys::borrow_fd(stream_fd1 - 1), Some(("Runtime.Panic", msg)));
    } else if let Some(Ok(addr)) = addr.map(Addr::parse) {
        // The invocation's error, or during init the init error.
        let id = Some(id.as_str()).filter(|id| !id.is_empty());
        if id.is_some() || init {
            let _ = Client::new(addr).fail(id, "Runtime.Panic", msg);
        }
    }
    sys::abort()
}
