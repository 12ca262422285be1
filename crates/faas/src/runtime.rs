//! The Runtime API client (2018-06-01): `/next`, `/response` (buffered and
//! streamed), `/error` and `/init/error`, over one kept-alive connection.
//!
//! Written for size: no indexing that could panic (a panic site would pull
//! core's formatting machinery into every bootstrap), and one code path for
//! every request: write a head and perhaps a body, read a reply head.

use crate::addr::Addr;
use crate::http::{self, Chunked, Framing, Header, Writer};
use crate::json::{self, Base64};
use crate::sys::{self, Fd};
use crate::Error;
use core::ffi::CStr;

/// Largest event or response accepted: 6 MiB, Lambda's synchronous limit.
pub const MAX_PAYLOAD: usize = 6 * 1024 * 1024;
/// Headers read from one Runtime API response.
const MAX_HEADERS: usize = 32;
/// The longest request id the runtime answers (percent-encoded, it must
/// fit the 1 KiB request heads).
pub const MAX_REQUEST_ID: usize = 128;

/// The headers of one invocation. Every value is borrowed from the head
/// buffer and is followed there by a NUL byte, so C can use it as is.
/// Values must be ASCII, as HTTP field values are; one that is not counts
/// as absent.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// Indexed by [`Field`]; the request id is always there.
    fields: [Option<&'a CStr>; 6],
    deadline_ms: u64,
}

fn text(c: &CStr) -> &str {
    sys::ascii(c.to_bytes()).unwrap_or_default() // checked to be ASCII when parsed
}

impl<'a> Context<'a> {
    fn get(&self, f: Field) -> Option<&'a str> {
        self.fields[f as usize].map(text)
    }
    /// `Lambda-Runtime-Aws-Request-Id`, the one mandatory header.
    pub fn request_id(&self) -> &'a str {
        self.get(Field::RequestId).unwrap_or_default()
    }
    /// `Lambda-Runtime-Deadline-Ms`: Unix epoch milliseconds; 0 if absent.
    pub fn deadline_ms(&self) -> u64 {
        self.deadline_ms
    }
    /// Milliseconds left before the deadline (0 once passed or unknown).
    pub fn remaining_ms(&self) -> u64 {
        self.deadline_ms.saturating_sub(sys::now_ms())
    }
    pub fn invoked_function_arn(&self) -> Option<&'a str> {
        self.get(Field::FunctionArn)
    }
    /// The X-Ray trace header; also in `_X_AMZN_TRACE_ID` while the handler runs.
    pub fn trace_id(&self) -> Option<&'a str> {
        self.get(Field::TraceId)
    }
    /// Client context JSON (mobile SDK invokes).
    pub fn client_context(&self) -> Option<&'a str> {
        self.get(Field::ClientContext)
    }
    /// Cognito identity JSON.
    pub fn cognito_identity(&self) -> Option<&'a str> {
        self.get(Field::CognitoIdentity)
    }
    /// Tenant id (tenant-isolation mode only).
    pub fn tenant_id(&self) -> Option<&'a str> {
        self.get(Field::TenantId)
    }
    /// The same values as NUL-terminated strings, for the C ABI.
    pub fn c_str(&self, field: Field) -> Option<&'a CStr> {
        self.fields[field as usize]
    }
}

/// The string fields of a [`Context`]. Non-exhaustive: Lambda adds
/// headers to `/next` now and then (the tenant id, of tenant-isolation mode,
/// was one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    RequestId,
    FunctionArn,
    TraceId,
    ClientContext,
    CognitoIdentity,
    TenantId,
}

/// The headers a reply is searched for, after their common `lambda-`:
/// those of `/next` in [`Field`] order, the deadline, and the extension id
/// of a registration.
const NAMES: [&[u8]; 8] = [
    b"runtime-aws-request-id",
    b"runtime-invoked-function-arn",
    b"runtime-trace-id",
    b"runtime-client-context",
    b"runtime-cognito-identity",
    b"runtime-aws-tenant-id",
    b"runtime-deadline-ms",
    b"extension-identifier",
];
const DEADLINE: usize = 6;
const EXTENSION_ID: usize = 7;

/// Where each header in [`NAMES`] is in a head buffer: offset and length
/// (0 for absent; an empty or non-ASCII value counts as absent).
type Spans = [(usize, usize); NAMES.len()];

/// One invocation from `/next`. If the event could not be read whole (too
/// large, truncated, bad framing), `event` says why; the request id is known,
/// so the runtime reports that as the invocation's error.
pub struct Invocation<'a> {
    pub ctx: Context<'a>,
    pub event: Result<&'a [u8], Error>,
}

/// A client for one Runtime API endpoint. Keeps one connection alive and
/// opens a new one when it is gone.
pub struct Client {
    addr: Addr<'static>,
    conn: Option<Fd>,
    /// How far the current invocation has been answered.
    answer: Answer,
    /// The Runtime API answered 5xx: the process must exit.
    fatal: bool,
    /// The internal extension's pending `event/next` (see `register_extension`).
    extension: Option<Fd>,
    /// Ends an open stream: [`Client::stream_end`], set by `stream_begin`, so
    /// a bootstrap that never streams links none of the streaming code.
    ender: Option<Ender>,
}

type Ender = fn(&mut Client, Option<(&str, &[u8])>) -> Result<(), Error>;

/// How far the current invocation has been answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Not yet.
    None,
    /// A streamed response is open on the connection.
    Streaming,
    /// A response or an error was sent (or its sending failed).
    Done,
}

const INVOCATION: &str = "/2018-06-01/runtime/invocation/";

/// What a request sends after its head: nothing, bytes, or an error
/// document (written through a small buffer, so it needs no storage of its
/// own whatever the length of the message).
#[derive(Clone, Copy)]
enum Body<'b> {
    Bytes(&'b [u8]),
    Error(&'b str, &'b [u8]),
}

impl Body<'_> {
    fn len(self) -> usize {
        match self {
            Body::Bytes(b) => b.len(),
            Body::Error(t, m) => json::measure(|s| json::error_document(t.as_bytes(), m, s)),
        }
    }

    fn send(self, fd: &Fd, head: &[u8]) -> Result<(), Error> {
        match self {
            Body::Bytes(b) => sys::send_all(fd, &[head, b]),
            Body::Error(t, m) => {
                let mut out = Buffered::new(fd);
                out.write(head);
                json::error_document(t.as_bytes(), m, &mut |b: &[u8]| out.write(b));
                out.flush()
            }
        }
    }
}

impl Client {
    pub fn new(addr: Addr<'static>) -> Self {
        Client { addr, conn: None, answer: Answer::None, fatal: false, extension: None, ender: None }
    }

    /// Reads `AWS_LAMBDA_RUNTIME_API`.
    pub fn from_env() -> Result<Self, Error> {
        let v = sys::getenv(c"AWS_LAMBDA_RUNTIME_API").ok_or(Error::NoAddress)?;
        Ok(Client::new(Addr::parse(v)?))
    }

    pub fn addr(&self) -> Addr<'static> {
        self.addr
    }

    /// True once the Runtime API reported a fatal error (5xx): exit promptly.
    pub fn fatal(&self) -> bool {
        self.fatal
    }

    /// Maps a reply status to a result (any 2xx is done) and remembers a
    /// fatal one, however the caller treats it.
    fn check(&mut self, status: u16) -> Result<(), Error> {
        match status {
            200..=299 => Ok(()),
            413 => Err(Error::TooLarge),
            500..=599 => {
                self.fatal = true;
                Err(Error::Fatal)
            }
            _ => Err(Error::Status),
        }
    }

    /// How far the current invocation has been answered.
    pub fn answer(&self) -> Answer {
        self.answer
    }

    /// The raw socket of a stream in progress (for the panic path), or -1.
    pub fn stream_fd(&self) -> i32 {
        match (&self.conn, self.answer) {
            (Some(fd), Answer::Streaming) => fd.raw(),
            _ => -1,
        }
    }

    /// Marks the invocation answered; fails if it was already.
    fn answering(&mut self) -> Result<(), Error> {
        if self.answer != Answer::None {
            return Err(Error::State);
        }
        self.answer = Answer::Done;
        Ok(())
    }

    /// Writes a request head into `buf`: `METHOD <prefix><path>` (`method`
    /// with its space, `"GET "` or `"POST "`; and, with
    /// `id`, the request id percent-encoded and `suffix`), the headers in
    /// `extra`, and a Content-Length for `len`.
    #[allow(clippy::too_many_arguments)]
    fn head<'b>(
        &self,
        buf: &'b mut [u8],
        method: &str,
        path: &str,
        id: Option<(&str, &str)>,
        extra: &[(&str, &[u8])],
        len: Option<usize>,
    ) -> Result<&'b [u8], Error> {
        let mut w = Writer::new(buf);
        w.put_str(method).put_str(self.addr.prefix()).put_str(path);
        if let Some((id, suffix)) = id {
            w.put_segment(id.as_bytes()).put_str(suffix);
        }
        w.put_str(" HTTP/1.1\r\nHost: ").put_str(self.addr.host()).put_str(concat!("\r\nUser-Agent: faas/", env!("CARGO_PKG_VERSION")));
        for (name, value) in extra {
            if !http::is_header_safe(value) {
                return Err(Error::Invalid);
            }
            w.put_str("\r\n").put_str(name).put_str(": ").put(value);
        }
        if let Some(n) = len {
            w.put_str("\r\nContent-Length: ").put_dec(n as u64);
        }
        w.put_str("\r\n\r\n");
        w.finish()
    }

    /// Sends a request and reads the head of its reply into `buf`; returns
    /// the bytes read (the head and perhaps the start of the body). A
    /// connection reset or closed before the reply (a kept-alive socket can
    /// die across freeze and thaw) is replaced once and the request sent
    /// again. Any failure drops the connection, so the next call starts clean.
    /// With `long_poll`, a SIGTERM ends the wait (graceful shutdown).
    fn exchange(&mut self, head: &[u8], body: Body<'_>, buf: &mut [u8], long_poll: bool) -> Result<usize, Error> {
        let mut retried = false;
        loop {
            // A server may answer (a 413, say) and close before it read all
            // of a body: its answer, if it came, counts, not the failed send.
            let r = self.conn().and_then(|fd| {
                let sent = body.send(fd, head);
                read_head(fd, buf, long_poll).or_else(|e| sent.and(Err(e)))
            });
            if r.is_err() {
                self.conn = None;
            }
            match r {
                Err(Error::Closed | Error::Io) if !retried => retried = true,
                r => return r,
            }
        }
    }

    /// The kept-alive connection, opened if there is none.
    fn conn(&mut self) -> Result<&Fd, Error> {
        match self.conn {
            Some(ref fd) => Ok(fd),
            None => Ok(self.conn.insert(self.addr.connect()?)),
        }
    }

    /// Sends a request with a small reply, reads the reply and drains its
    /// body. Returns the status; `head` keeps the reply head for `spans`.
    fn post(&mut self, req: &[u8], body: Body<'_>, head: &mut [u8; 2048], spans: &mut Spans) -> Result<u16, Error> {
        let have = self.exchange(req, body, head, false)?;
        let (status, _) = self.reply(head, have, &mut [0; 2048], 0, spans)?;
        Ok(status)
    }

    /// Reads the reply whose first `have` bytes are in `head`: finds the
    /// headers in [`NAMES`], then reads the body into `body`, keeping at most
    /// `limit` bytes and draining the rest. Returns the status and the body's
    /// length, or `TooLarge` for a body over `limit` (drained: the connection
    /// stays usable). Any other failure drops the connection.
    fn reply(&mut self, head: &[u8], have: usize, body: &mut [u8], limit: usize, spans: &mut Spans) -> Result<(u16, Result<usize, Error>), Error> {
        let r = self.read_reply(head, have, body, limit, spans);
        if !matches!(r, Ok((_, _, true))) {
            self.conn = None;
        }
        r.map(|(status, n, _)| (status, n))
    }

    fn read_reply(&mut self, head: &[u8], have: usize, body: &mut [u8], limit: usize, spans: &mut Spans) -> Result<(u16, Result<usize, Error>, bool), Error> {
        let mut hs = [Header::default(); MAX_HEADERS];
        let raw = head.get(..have).unwrap_or_default();
        let parsed = http::parse_head(raw, &mut hs)?.ok_or(Error::Protocol)?;
        let hs = hs.get(..parsed.headers).unwrap_or_default();
        let status = parsed.status().ok_or(Error::Protocol)?;
        // 204 and 304 never have a body, whatever the headers say. Framing
        // that cannot be read is the body's error, the caller's to report.
        let framing = match (status, http::framing(hs)) {
            (204 | 304, _) => Ok(Framing::Length(0)),
            (_, f) => f,
        };
        let alive = keep_alive(&parsed, hs);
        for h in hs {
            let name = h.name.split_at_checked(7).filter(|(lambda, _)| http::eq_nocase(lambda, b"lambda-"));
            let k = name.and_then(|(_, name)| NAMES.iter().position(|n| http::eq_nocase(name, n)));
            if let Some(s) = k.and_then(|k| spans.get_mut(k)).filter(|s| s.1 == 0 && http::is_ascii(h.value)) {
                *s = (h.value.as_ptr() as usize - head.as_ptr() as usize, h.value.len());
            }
        }
        // The body: the bytes read past the head, then the rest.
        let first = raw.get(parsed.len..).unwrap_or_default();
        if status >= 300 {
            crate::log::runtime(&[b"the Runtime API answered ", parsed.start[1], b": ", first.get(..200).unwrap_or(first)]);
        }
        http::copy(body, first);
        // A body that cannot be read is the caller's to report (for /next,
        // as the invocation's error); the connection is then dropped.
        let read = framing.and_then(|f| self.body(f, body, first.len(), limit));
        let alive = alive && read.is_ok() && self.conn.is_some();
        let n = match read {
            Ok((_, true)) => Err(Error::TooLarge),
            Ok((n, false)) => {
                if let Some(z) = body.get_mut(n) {
                    *z = 0; // for C, which may read an event as a string
                }
                Ok(n)
            }
            Err(e) => Err(e),
        };
        Ok((status, n, alive))
    }

    /// Reads a body framed as `framing` into `buf`, which holds `have` bytes
    /// of it already. Keeps the first `limit` bytes (`limit < buf.len()`) and
    /// reads and drops the rest, so the connection stays usable. Returns the
    /// bytes kept and whether any were dropped.
    fn body(&mut self, framing: Framing, buf: &mut [u8], mut have: usize, limit: usize) -> Result<(usize, bool), Error> {
        let fd = self.conn.as_ref().ok_or(Error::Io)?;
        let mut d = Chunked::for_framing(framing);
        let (mut out, mut rd) = (0, 0);
        while !d.decode(buf, &mut out, &mut rd, have, limit)? {
            // Every raw byte is consumed: read on after the data kept.
            (rd, have) = (out, out);
            match sys::read(fd, buf.get_mut(have..).unwrap_or_default())? {
                0 if framing == Framing::UntilClose => break,
                0 => return Err(Error::Truncated),
                n => have += n,
            }
        }
        if framing == Framing::UntilClose {
            self.conn = None;
        }
        Ok((out, d.overflow > 0))
    }

    /// Long-polls `/next` (no receive timeout: the process may be frozen
    /// between invocations). The head is read into `head`, the event into
    /// `event` (which must be larger than [`MAX_PAYLOAD`]); the result
    /// borrows both.
    pub fn next<'a>(&mut self, head: &'a mut [u8], event: &'a mut [u8]) -> Result<Invocation<'a>, Error> {
        self.answer = Answer::None;
        let mut req = [0u8; 512];
        let req = self.head(&mut req, "GET ", "/2018-06-01/runtime/invocation/next", None, &[], None)?;
        let have = self.exchange(req, Body::Bytes(b""), head, true)?;
        let mut spans = [(0, 0); NAMES.len()];
        let (status, body) = self.reply(head, have, event, MAX_PAYLOAD, &mut spans)?;
        match status {
            200 => {}
            500..=599 => return Err(Error::Fatal),
            _ => {
                self.conn = None;
                return Err(Error::Status);
            }
        }
        // NUL-terminate the values in place: each ends at CR, LF or a blank.
        for &(off, len) in &spans {
            if let Some(b) = head.get_mut(off + len).filter(|_| len > 0) {
                *b = 0;
            }
        }
        let head: &'a [u8] = head;
        let value = |(off, len): (usize, usize)| head.get(off..off + len + 1).filter(|_| len > 0).and_then(sys::cstr);
        let mut fields = [None; 6];
        for (f, &span) in fields.iter_mut().zip(&spans) {
            *f = value(span);
        }
        // Lambda's ids are 36 bytes; one that could not be posted back (or
        // kept for the panic path) is as good as none.
        if fields[0].is_none_or(|id| id.to_bytes().len() > MAX_REQUEST_ID) {
            return Err(Error::NoRequestId);
        }
        let deadline_ms = value(spans[DEADLINE]).and_then(|v| http::parse_dec(v.to_bytes())).unwrap_or(0);
        let event: &'a [u8] = event;
        Ok(Invocation { ctx: Context { fields, deadline_ms }, event: body.map(|n| event.get(..n).unwrap_or_default()) })
    }

    /// Registers a no-op internal extension, so that Lambda sends the runtime
    /// SIGTERM before it shuts the environment down (it sends none to a
    /// runtime without extensions). The extension's `event/next` is sent on
    /// a second connection that is never read: it registers for no events,
    /// so no answer ever comes, and Lambda counts it as ready.
    pub fn register_extension(&mut self, name: &str) -> Result<(), Error> {
        const BODY: &[u8] = br#"{"events":[]}"#;
        let mut buf = [0u8; 1024];
        let extra: [(&str, &[u8]); 2] = [("Lambda-Extension-Name", name.as_bytes()), ("Content-Type", b"application/json")];
        let head = self.head(&mut buf, "POST ", "/2020-01-01/extension/register", None, &extra, Some(BODY.len()))?;
        let (mut reply, mut spans) = ([0u8; 2048], [(0, 0); NAMES.len()]);
        let status = self.post(head, Body::Bytes(BODY), &mut reply, &mut spans)?;
        let (off, len) = spans[EXTENSION_ID];
        let id = reply.get(off..off + len).filter(|_| status == 200 && len > 0).ok_or(Error::Status)?;
        let mut buf = [0u8; 1024];
        let head = self.head(&mut buf, "GET ", "/2020-01-01/extension/event/next", None, &[("Lambda-Extension-Identifier", id)], None)?;
        let fd = self.addr.connect()?;
        sys::send_all(&fd, &[head])?;
        self.extension = Some(fd);
        Ok(())
    }

    /// Posts a buffered response. `Ok(())` once the Runtime API took it.
    pub fn respond(&mut self, id: &str, body: &[u8], content_type: &str) -> Result<(), Error> {
        self.answer_with(INVOCATION, Some((id, "/response")), &[("Content-Type", content_type.as_bytes())], Body::Bytes(body))
    }

    /// Posts an error for invocation `id`, or an init error for `None`.
    pub fn fail(&mut self, id: Option<&str>, error_type: &str, message: &[u8]) -> Result<(), Error> {
        let error_type = sanitize_type(error_type);
        let body = Body::Error(error_type, message);
        let extra: [(&str, &[u8]); 2] =
            [("Lambda-Runtime-Function-Error-Type", error_type.as_bytes()), ("Content-Type", b"application/vnd.aws.lambda.error+json")];
        let (path, id) = match id {
            Some(id) => (INVOCATION, Some((id, "/error"))),
            None => ("/2018-06-01/runtime/init/error", None),
        };
        self.answer_with(path, id, &extra, body)
    }

    /// Posts an answer (of invocation `id`, or the init error for `None`).
    fn answer_with(&mut self, path: &str, id: Option<(&str, &str)>, extra: &[(&str, &[u8])], body: Body<'_>) -> Result<(), Error> {
        let mut buf = [0u8; 1024];
        let head = self.head(&mut buf, "POST ", path, id, extra, Some(body.len()))?;
        if id.is_some() {
            self.answering()?;
        }
        let status = self.post(head, body, &mut [0; 2048], &mut [(0, 0); NAMES.len()])?;
        self.check(status)
    }

    /// Starts a streamed response: sends the head; the body follows as
    /// chunks from [`Client::stream_write`] and ends with [`Client::stream_end`].
    pub fn stream_begin(&mut self, id: &str, content_type: &str) -> Result<(), Error> {
        let extra: [(&str, &[u8]); 4] = [
            ("Content-Type", content_type.as_bytes()),
            ("Lambda-Runtime-Function-Response-Mode", b"streaming"),
            ("Transfer-Encoding", b"chunked"),
            ("Trailer", b"Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"),
        ];
        let mut buf = [0u8; 1024];
        let head = self.head(&mut buf, "POST ", INVOCATION, Some((id, "/response")), &extra, None)?;
        self.answering()?;
        // A stream cannot be sent again, so a kept-alive socket that the
        // server closed while idle (as across freeze and thaw) is replaced
        // before, not after: the head would go out, the chunks would not.
        if self.conn.as_ref().is_some_and(sys::stale) {
            self.conn = None;
        }
        let sent = self.conn().and_then(|fd| sys::send_all(fd, &[head]));
        if sent.is_err() {
            // A stale kept-alive socket: nothing of the stream went out yet.
            self.conn = None;
            self.conn().and_then(|fd| sys::send_all(fd, &[head]))?;
        }
        self.answer = Answer::Streaming;
        self.ender = Some(Client::stream_end);
        Ok(())
    }

    /// Ends the stream the handler left open (see [`Client::stream_end`]).
    pub fn end_open_stream(&mut self, error: Option<(&str, &[u8])>) -> Result<(), Error> {
        match self.ender.take() {
            Some(end) => end(self, error),
            None => Err(Error::State),
        }
    }

    /// Sends `data` as one chunk of the open stream.
    pub fn stream_write(&mut self, data: &[u8]) -> Result<(), Error> {
        let fd = match (&self.conn, self.answer) {
            (Some(fd), Answer::Streaming) => fd,
            _ => return Err(Error::State),
        };
        if data.is_empty() {
            return Ok(()); // an empty chunk would end the body
        }
        let mut size = [0u8; 24];
        let mut w = Writer::new(&mut size);
        w.put_hex(data.len() as u64).put_str("\r\n");
        sys::send_all(fd, &[w.finish()?, data, b"\r\n"])
    }

    /// Ends the open stream, with the error trailers if `error` is given,
    /// reads the reply and closes the connection.
    pub fn stream_end(&mut self, error: Option<(&str, &[u8])>) -> Result<(), Error> {
        if self.answer != Answer::Streaming {
            return Err(Error::State);
        }
        self.answer = Answer::Done;
        // The socket closes below: the panic path must not write to it.
        sys::with_current(&mut |p| p.stream_fd1 = 0);
        let mut buf = [0u8; 2048];
        let have = match &self.conn {
            Some(fd) => end_stream(fd, error).and_then(|()| read_head(fd, &mut buf, false)),
            None => Err(Error::Io),
        };
        let status = have.and_then(|n| self.reply(&buf, n, &mut [0; 2048], 0, &mut [(0, 0); NAMES.len()]));
        self.conn = None;
        self.check(status?.0)
    }
}

/// Reads until `buf` holds a whole response head; returns the bytes read
/// (the head and perhaps the start of the body). With `long_poll`, a
/// SIGTERM ends the wait before anything arrived. Reads at most 16 KiB at a
/// time, so a big head (up to `buf`'s size) touches only the pages it needs
/// and little of the body lands here; each look for the blank line starts
/// where the last one stopped.
fn read_head(fd: &Fd, buf: &mut [u8], long_poll: bool) -> Result<usize, Error> {
    let (mut have, mut seen) = (0, 0usize);
    loop {
        let (got, free) = buf.split_at_mut(have.min(buf.len()));
        // The blank line may have begun in the last two bytes already seen.
        let from = seen.saturating_sub(2);
        if let Some(end) = got.get(from..).and_then(http::head_end) {
            // An interim answer (100 Continue, 103 Early Hints) has no body
            // and comes before the real one: drop it and read on.
            if !matches!(got, [b'H', b'T', b'T', b'P', b'/', b'1', b'.', _, b' ', b'1', ..]) {
                return Ok(have);
            }
            let end = from + end;
            sys::move_down(buf, end, 0, have - end);
            (have, seen) = (have - end, 0);
            continue;
        }
        seen = have;
        let n = free.len().min(16 * 1024);
        if n == 0 {
            return Err(Error::TooLarge);
        }
        match sys::read_until(fd, free.get_mut(..n).unwrap_or_default(), long_poll && have == 0)? {
            0 if have == 0 => return Err(Error::Closed),
            0 => return Err(Error::Truncated),
            n => have += n,
        }
    }
}

/// Writes the last chunk of a stream, with error trailers if asked.
pub(crate) fn end_stream(fd: &Fd, error: Option<(&str, &[u8])>) -> Result<(), Error> {
    let mut out = Buffered::new(fd);
    out.write(b"0\r\n");
    if let Some((error_type, mut message)) = error {
        let error_type = sanitize_type(error_type);
        // One trailer line: its error document is kept under 2,900 bytes
        // (3,868 in base64), as decoders cap lines (faas's at 4 KiB).
        while json::measure(|s| json::error_document(error_type.as_bytes(), message, s)) > 2900 {
            message = message.get(..message.len() / 2).unwrap_or_default();
        }
        out.write(b"Lambda-Runtime-Function-Error-Type: ");
        out.write(error_type.as_bytes());
        out.write(b"\r\nLambda-Runtime-Function-Error-Body: ");
        let mut b64 = Base64::new(|b: &[u8]| out.write(b));
        json::error_document(error_type.as_bytes(), message, &mut |b: &[u8]| b64.write(b));
        b64.finish();
        out.write(b"\r\n");
    }
    out.write(b"\r\n");
    out.flush()
}

fn keep_alive(head: &http::Head<'_>, hs: &[Header<'_>]) -> bool {
    // HTTP/1.0 keep-alive is not worth its bytes here: such a server gets a
    // new connection per request.
    head.start[0] == b"HTTP/1.1" && !http::eq_nocase(http::header(hs, "connection").unwrap_or_default(), b"close")
}

/// An error type that is safe to send as a header (`Runtime.Unknown` if not).
fn sanitize_type(t: &str) -> &str {
    let ok = !t.is_empty() && t.len() <= 128 && t.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        t
    } else {
        "Runtime.Unknown"
    }
}

/// A small write buffer in front of a socket; remembers the first error.
struct Buffered<'f> {
    fd: &'f Fd,
    buf: [u8; 1024],
    len: usize,
    err: Option<Error>,
}

impl<'f> Buffered<'f> {
    fn new(fd: &'f Fd) -> Self {
        Buffered { fd, buf: [0; 1024], len: 0, err: None }
    }

    fn write(&mut self, mut b: &[u8]) {
        while !b.is_empty() && self.err.is_none() {
            let free = self.buf.get_mut(self.len..).unwrap_or_default();
            if free.is_empty() {
                let _ = self.flush();
                continue;
            }
            let n = http::copy(free, b);
            self.len += n;
            b = b.get(n..).unwrap_or_default();
        }
    }

    fn flush(&mut self) -> Result<(), Error> {
        if self.err.is_none() && self.len > 0 {
            self.err = sys::send_all(self.fd, &[self.buf.get(..self.len).unwrap_or_default()]).err();
            self.len = 0;
        }
        self.err.map_or(Ok(()), Err)
    }
}
