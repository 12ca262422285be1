//! The emulator proper: one poll loop over the Invoke API listener, one
//! Runtime API listener per runtime process, their connections, the runtimes'
//! output pipes and a signalfd. Single-threaded, so there is no locking:
//! every invocation is a [`Job`] that waits in one bounded queue until a
//! runtime asks for it on `/next`, and is answered exactly once.
//!
//! The `#[inline(never)]` marks are measured: inlined into their one
//! caller, these functions made the binary larger (more spills), not smaller.

use crate::sys::{self, Fd, Io};
use crate::text::{self, header, inside, Put};
use crate::{Addr, Config};
use alloc::boxed::Box;
use alloc::vec::Vec;
use faas::http::{self, Chunked, Header};

/// Longest request head accepted, and most headers in it. A runtime's may
/// be longer: the runtime interface clients for Python, Node.js and Java
/// send a function error's X-Ray cause as a header of up to 1 MiB.
const HEAD_MAX: usize = 64 * 1024;
const RT_HEAD_MAX: usize = (1 << 20) + HEAD_MAX;
const MAX_HEADERS: usize = 64;
const MAX_CONNS: usize = 1024;
/// Connections to one runtime's Runtime API.
const RT_CONNS: usize = 16;
/// Held `extension/event/next` requests per runtime.
const MAX_HOLD: usize = 4;
/// Lambda's shutdown budget for a runtime with internal extensions only.
const GRACE_US: u64 = 300_000;
/// Invoke payload limits: synchronous (6 MiB) and Event (1 MiB).
const SYNC_LIMIT: usize = 6 << 20;
const EVENT_LIMIT: usize = 1 << 20;
/// A buffered function response may be this long (Lambda's 6 MiB + 100 B),
/// a streamed one 200 MiB.
const RESPONSE_LIMIT: usize = SYNC_LIMIT + 100;
const STREAM_LIMIT: u64 = 200 << 20;
/// `X-Amz-Log-Result` carries the last 4 KB of the invocation's log.
const TAIL: usize = 4096;
/// Lambda's limit on `X-Amz-Client-Context`, in base64 bytes.
const MAX_CLIENT_CONTEXT: usize = 3583;
/// A streamed response waits for a caller with this much unsent.
const BACKLOG: usize = 4 << 20;
/// Events this large go to the runtime chunked, as Lambda sends them.
const CHUNKED_EVENT: usize = 100 * 1024;
/// A connection answered before its request's end reads (and drops) what
/// its peer still sends for this long, or this much (see [`linger`]).
const LINGER_US: u64 = 1_000_000;
const LINGER_MAX: usize = 1 << 20;
/// The names of the signals a runtime most often dies of, each after its
/// number (SIGABRT, SIGKILL, SIGSEGV, SIGTERM), NUL-separated.
const SIGNAL_NAMES: &[u8] = b"\x06 (aborted)\x00\x09 (killed)\x00\x0b (segmentation fault)\x00\x0f (terminated)";
const _: () = assert!(libc::SIGABRT == 6 && libc::SIGKILL == 9 && libc::SIGSEGV == 11 && libc::SIGTERM == 15);

/// A connection slot and its generation, so a late answer never reaches a
/// new connection that reused the slot.
type Token = (usize, u32);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Rd {
    Head,
    Body,
    /// Not reading: an invoke in flight, or a runtime parked on `/next`.
    Wait,
    /// An extension's `event/next`, never answered (it registered for no
    /// events): closed when the runtime sends more, goes or is stopped.
    Hold,
    /// Answered before the request's end: dropping input until the peer
    /// closes (see [`linger`]).
    Linger,
}

struct Conn {
    fd: Fd,
    gen: u32,
    /// The runtime whose Runtime API this is; `None` for the Invoke API.
    rt: Option<usize>,
    inb: Vec<u8>,
    out: Vec<u8>,
    sent: usize,
    rd: Rd,
    eof: bool,
    /// Close once `out` is sent.
    close: bool,
    // The request being read: its head, then its body. Kept bytes collect
    // at the front of `inb`; bytes past `limit` are read and dropped, so an
    // oversized request is drained before it is refused.
    head: Vec<u8>,
    chunked: bool,
    /// Bytes of a Content-Length body not yet read.
    left: u64,
    dec: Chunked,
    /// Body bytes kept at the front of `inb`, and (chunked) how far the
    /// decoder has read.
    got: usize,
    pos: usize,
    limit: usize,
    dropped: bool,
    /// A streamed function response: relayed as it arrives; bytes so far;
    /// the attempt it answers ([`Job::seq`]): a runtime may stream on after
    /// that one ended, and must not touch the next.
    stream: bool,
    relayed: u64,
    stream_of: u32,
    /// When a lingering close gives up.
    until: u64,
    /// How much of a long head (past 64 KiB) was searched for its end.
    seen: usize,
}

/// The Runtime API's error answers, as indexes into [`RT_ERRORS`].
#[derive(Clone, Copy)]
enum RtErr {
    NoPath,
    BadId,
    NotInit,
    ExtState,
    ExtId,
    ExtMany,
    Stopped,
}

/// Status of each [`RtErr`]; from 429 on, the connection closes after
/// the answer.
const RT_STATUS: [Status; 7] = [NOT_FOUND, BAD_REQUEST, FORBIDDEN, FORBIDDEN, FORBIDDEN, TOO_MANY, SERVER_ERROR];
/// Error type and message of each [`RtErr`], NUL-separated (one string: a
/// table of slices would cost 32 B an entry).
const RT_ERRORS: &[u8] = b"NotFound\0no such Runtime API path\0\
InvalidRequestID\0no invocation with this id is in progress\0\
InvalidStateTransition\0not in the init phase\0\
Extension.InvalidState\0extensions register during init\0\
Extension.InvalidExtensionIdentifier\0not a registered extension\0\
Extension.TooManyRequests\0too many event/next requests held\0\
Runtime.ExitError\0this runtime has been stopped";

/// A request, parsed again from its saved head once its body is read.
struct Req<'a> {
    method: &'a [u8],
    target: &'a [u8],
    hs: &'a [Header<'a>],
    keep: bool,
    /// HTTP/1.0: one answer per connection, never in chunks.
    old: bool,
}

impl Req<'_> {
    fn h(&self, name: &[u8]) -> Option<&[u8]> {
        header(self.hs, name)
    }
}

/// One invocation, from the caller to the runtime and back.
struct Job {
    id: [u8; 36],
    payload: Vec<u8>,
    /// The waiting caller; `None` for Event.
    client: Option<Token>,
    keep: bool,
    tail: bool,
    /// InvokeWithResponseStream: the caller gets an event stream.
    events: bool,
    /// A signed plain Invoke (an AWS SDK or the CLI, which read no
    /// trailers), or an HTTP/1.0 caller: a streamed response is buffered
    /// and answered whole, as Lambda does.
    buffer: bool,
    /// The `/next` headers it brings: ARN, trace id, client context.
    hdrs: Vec<u8>,
    start_us: u64,
    /// The runtime has begun a streamed response.
    streamed: bool,
    /// This attempt, from the counter connections draw their generation
    /// from (an Event's retry keeps its id, not its `seq`).
    seq: u32,
    /// Retries so far (of an Event), and when the next is due.
    tries: u64,
    due_us: u64,
}

#[derive(Clone, Copy)]
enum Outcome<'a> {
    /// A response body and its content type.
    Ok(&'a [u8], &'a [u8]),
    /// An error type and its JSON document.
    Fail(&'a [u8], &'a [u8]),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum St {
    Down,
    Init,
    Ready,
}

/// One runtime process and its Runtime API.
struct Rt {
    lst: Fd,
    port: u16,
    pid: i32,
    out: Option<Fd>,
    state: St,
    spawn_us: u64,
    /// When what it does must be over (`u64::MAX`: nothing): its init, or
    /// an invocation, from `/next` to its next `/next`, so that a runtime
    /// that answers and never asks again times out too, as on Lambda. And
    /// whether this start retries an init that ran out of time.
    deadline_us: u64,
    init_retry: bool,
    /// Init duration, reported with the first invocation after a start.
    init_us: Option<u64>,
    /// The connection parked on `/next`.
    next: Option<usize>,
    job: Option<Box<Job>>,
    /// The current invocation's log, for `X-Amz-Log-Result`.
    log: Vec<u8>,
    /// The identifier of its registered extension, if any.
    ext: Option<[u8; 36]>,
    /// Peak memory (KiB) of the runtime just reaped, for the REPORT line
    /// of the invocation it died in (wait4's: it may count what the fork
    /// copied of faas-rie before the exec).
    gone_kb: u64,
}

struct Server {
    cfg: &'static Config,
    lst: Fd,
    sig: Fd,
    conns: Vec<Option<Box<Conn>>>,
    gen: u32,
    rts: Vec<Rt>,
    /// Invocations waiting for a runtime, oldest first; failed Events
    /// waiting for their retry among them. Boxed, like the connections:
    /// moved by pointer, not by a copy of the whole struct (~700 B less code).
    #[allow(clippy::vec_box)]
    queue: Vec<Box<Job>>,
    /// Connections that may hold a further request already read.
    kick: Vec<usize>,
    /// Shutting down: when to stop waiting for the runtimes.
    stopping: Option<u64>,
    /// Shutting down and the runtimes have been sent SIGKILL.
    killed: bool,
    /// Most connections: fewer than the descriptors we may open, so the
    /// runtimes' pipes and connections always find one.
    max_conns: usize,
    /// Out of descriptors with no caller to drop: the listeners (readable
    /// all along) are left unpolled until the next event, or 100 ms.
    full: bool,
}

fn fatal(msg: &[u8]) -> ! {
    sys::write_all(2, msg);
    sys::write_all(2, b"\n");
    sys::exit(1)
}

fn listen(a: &Addr, port: u16) -> (Fd, u16) {
    sys::listen(a.ip(), port).unwrap_or_else(|| {
        let mut m = Vec::new();
        m.s(b"faas-rie: cannot listen on ");
        a.text(&mut m, port);
        fatal(&m)
    })
}

pub fn run(cfg: &'static Config) -> ! {
    let sig = sys::signals().unwrap_or_else(|| fatal(b"faas-rie: cannot set up signals"));
    let (lst, port) = listen(&cfg.listen, cfg.listen.port);
    let mut rts = Vec::new();
    for i in 0..cfg.pool {
        let api = &cfg.runtime_api;
        let want = if api.port == 0 { 0 } else { api.port.saturating_add(i as u16) };
        let (lst, port) = listen(api, want);
        rts.push(Rt {
            lst,
            port,
            pid: 0,
            out: None,
            state: St::Down,
            spawn_us: 0,
            deadline_us: u64::MAX,
            init_retry: false,
            init_us: None,
            next: None,
            job: None,
            log: Vec::new(),
            ext: None,
            gone_kb: 0,
        });
    }
    let mut b = Vec::new();
    b.s(b"faas-rie: Invoke API on http://");
    cfg.listen.text(&mut b, port);
    b.s(b", Runtime API on ");
    cfg.runtime_api.text(&mut b, rts[0].port);
    b.s(b", function ").s(cfg.name).s(b", bootstrap ").s(text::nth(&cfg.argv, 0)).s(b"\n");
    sys::write_all(2, &b);
    let max_conns = (sys::nofile().saturating_sub(16 + 2 * cfg.pool as u64) as usize).clamp(16, MAX_CONNS);
    let mut s =
        Server { cfg, lst, sig, conns: Vec::new(), gen: 0, rts, queue: Vec::new(), kick: Vec::new(), stopping: None, killed: false, max_conns, full: false };
    sys::subreaper();
    loop {
        s.step();
    }
}

impl Server {
    #[inline(never)]
    fn step(&mut self) {
        // One pollfd per signalfd, listener, runtime (listener and pipe) and
        // connection slot; -1 for what is absent.
        let mut fds = Vec::new();
        let mut add = |fd: i32, ev: i16| fds.push(libc::pollfd { fd, events: ev, revents: 0 });
        let lst = |fd: &Fd| if self.full { -1 } else { fd.raw() };
        add(self.sig.raw(), libc::POLLIN);
        add(lst(&self.lst), libc::POLLIN);
        for rt in &self.rts {
            add(lst(&rt.lst), libc::POLLIN);
            add(rt.out.as_ref().map_or(-1, Fd::raw), libc::POLLIN);
        }
        for c in &self.conns {
            let Some(c) = c else {
                add(-1, 0);
                continue;
            };
            let mut ev = if c.out.len() > c.sent { libc::POLLOUT } else { 0 };
            if c.rd != Rd::Wait && !c.close && !self.stream_blocked(c) {
                ev |= libc::POLLIN;
            }
            add(c.fd.raw(), ev);
        }
        sys::poll(&mut fds, self.next_timer());
        self.full = false;
        // Connections first, listeners last: a slot reused by accept is
        // never mistaken for the connection polled.
        let base = 2 + 2 * self.rts.len();
        for ci in 0..self.conns.len() {
            let ev = fds[base + ci].revents;
            let Some(rd) = self.conns[ci].as_ref().map(|c| c.rd) else {
                continue;
            };
            if ev == 0 {
                continue;
            }
            if rd == Rd::Hold {
                self.drop_conn(ci);
                continue;
            }
            if ev & libc::POLLOUT != 0 {
                self.flush(ci);
            }
            if ev & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
                self.service(ci);
            }
            if ev & (libc::POLLHUP | libc::POLLERR) != 0 && self.conns[ci].as_ref().is_some_and(|c| c.rd == Rd::Wait) {
                self.drop_conn(ci); // gone while we were not reading
            }
        }
        for i in 0..self.rts.len() {
            if fds[3 + 2 * i].revents != 0 {
                self.drain_pipe(i);
            }
            if fds[2 + 2 * i].revents != 0 {
                self.accept(Some(i));
            }
        }
        if fds[1].revents != 0 {
            self.accept(None);
        }
        if fds[0].revents != 0 {
            self.signals();
        }
        self.timers();
        while let Some(ci) = self.kick.pop() {
            self.service(ci);
        }
        self.dispatch();
        for ci in 0..self.conns.len() {
            self.flush(ci);
        }
    }

    /// A streamed response is not read while its caller is far behind.
    fn stream_blocked(&self, c: &Conn) -> bool {
        let client = c.rt.and_then(|i| self.rts[i].job.as_ref()).and_then(|j| j.client);
        c.stream && c.rd == Rd::Body && client.and_then(|t| self.client(t)).is_some_and(|cl| cl.out.len() - cl.sent > BACKLOG)
    }

    fn client(&self, (ci, gen): Token) -> Option<&Conn> {
        self.conns.get(ci)?.as_deref().filter(|c| c.gen == gen)
    }

    fn client_mut(&mut self, t: Token) -> Option<&mut Conn> {
        client_in(&mut self.conns, t)
    }

    /// Milliseconds until the next deadline, or -1 for none.
    fn next_timer(&self) -> i64 {
        let now = sys::mono_us();
        let mut next = self.stopping.unwrap_or(if self.full { now + 100_000 } else { u64::MAX });
        for rt in &self.rts {
            next = next.min(rt.deadline_us);
        }
        for j in self.queue.iter().filter(|j| j.due_us > now) {
            next = next.min(j.due_us);
        }
        for c in self.conns.iter().flatten() {
            if c.rd == Rd::Linger {
                next = next.min(c.until);
            }
        }
        if next == u64::MAX {
            return -1;
        }
        (next.saturating_sub(now).div_ceil(1000)).min(60_000) as i64
    }

    fn accept(&mut self, rt: Option<usize>) {
        loop {
            let lst = match rt {
                Some(i) => &self.rts[i].lst,
                None => &self.lst,
            };
            let got = sys::accept(lst);
            // A runtime has at most RT_CONNS connections (each may hold a
            // 1 MiB head and a 6 MiB body): more are closed at once.
            if got.is_ok() && rt.is_some() && self.conns.iter().flatten().filter(|c| c.rt == rt).count() >= RT_CONNS {
                continue;
            }
            // A free slot, a new one, or, with all taken, the slot of the
            // oldest caller still sending (or idle, or closing), so slow
            // clients cannot hold every slot; with none, the new connection
            // is closed. Out of descriptors: that caller goes, and the
            // accept is tried again.
            let mut best = None;
            for (ci, c) in self.conns.iter().enumerate() {
                // Free: 0; an idle caller: 1 + its generation (the oldest lowest).
                let key = match c {
                    None => 0,
                    Some(c) if c.rt.is_none() && matches!(c.rd, Rd::Head | Rd::Body | Rd::Linger) => 1 + c.gen as u64,
                    _ => continue,
                };
                if best.is_none_or(|(k, _)| key < k) {
                    best = Some((key, ci));
                }
            }
            let fd = match (got, best) {
                (Ok(fd), _) => fd,
                (Err(true), Some((1.., ci))) => {
                    self.drop_conn(ci);
                    continue;
                }
                (Err(full), _) => {
                    self.full |= full;
                    break;
                }
            };
            let ci = match best {
                Some((0, ci)) => ci,
                _ if self.conns.len() < self.max_conns => {
                    self.conns.push(None);
                    self.conns.len() - 1
                }
                Some((_, ci)) => {
                    self.drop_conn(ci);
                    ci
                }
                None => continue,
            };
            self.gen = self.gen.wrapping_add(1);
            let c = Box::new(Conn {
                fd,
                gen: self.gen,
                rt,
                inb: Vec::new(),
                out: Vec::new(),
                sent: 0,
                rd: Rd::Head,
                eof: false,
                close: false,
                head: Vec::new(),
                chunked: false,
                left: 0,
                dec: Chunked::default(),
                got: 0,
                pos: 0,
                limit: 0,
                dropped: false,
                stream: false,
                relayed: 0,
                stream_of: 0,
                until: 0,
                seen: 0,
            });
            self.conns[ci] = Some(c);
        }
    }

    fn flush(&mut self, ci: usize) {
        let Some(Some(c)) = self.conns.get_mut(ci) else {
            return;
        };
        while c.sent < c.out.len() {
            match sys::send(&c.fd, &c.out[c.sent..]) {
                Io::Done(n) => c.sent += n,
                Io::Again => {
                    // A caller slower than its stream: what it has read
                    // leaves the buffer (once that is most of it, so the
                    // copy costs no more than the sending), or the whole
                    // stream would pile up here.
                    if c.sent * 2 > c.out.len() {
                        text::cut(&mut c.out, 0, c.sent);
                        c.sent = 0;
                    }
                    return;
                }
                Io::Closed => return self.drop_conn(ci),
            }
        }
        c.out.clear();
        c.sent = 0;
        if c.close {
            if c.rd != Rd::Linger || c.eof {
                return self.drop_conn(ci);
            }
            sys::shutdown_write(&c.fd);
            c.close = false;
        }
    }

    fn drop_conn(&mut self, ci: usize) {
        if let Some(c) = self.conns.get_mut(ci).and_then(Option::take) {
            if let Some(i) = c.rt {
                if self.rts[i].next == Some(ci) {
                    self.rts[i].next = None;
                }
            }
        }
    }

    /// Reads and handles what a connection sent, as far as it goes.
    fn service(&mut self, ci: usize) {
        let Some(mut c) = self.conns.get_mut(ci).and_then(Option::take) else {
            return;
        };
        loop {
            if self.progress(&mut c, ci) {
                continue;
            }
            // (A stream stops at its backlog here too, not only at the poll.)
            if c.eof || c.close || matches!(c.rd, Rd::Wait | Rd::Hold) || self.stream_blocked(&c) {
                break;
            }
            match sys::read_more(&c.fd, &mut c.inb) {
                Io::Done(_) => {}
                Io::Again => break,
                Io::Closed => c.eof = true,
            }
        }
        // A caller that half-closed still gets its answer; anything else that
        // ends mid-request is dropped.
        let keep = !c.eof || (c.rt.is_none() && c.rd == Rd::Wait) || c.out.len() > c.sent;
        c.close |= c.eof;
        self.conns[ci] = Some(c);
        if !keep {
            self.drop_conn(ci);
        }
    }

    /// One step of reading a request. False when more input is needed, or
    /// when the connection waits for us.
    #[inline(never)]
    fn progress(&mut self, c: &mut Conn, ci: usize) -> bool {
        // (Wait and Hold as the rest, not named: five arms made a jump table.)
        match c.rd {
            Rd::Head => !c.inb.is_empty() && self.head(c),
            Rd::Body => self.body(c, ci),
            Rd::Linger => {
                c.got += c.inb.len();
                c.inb.clear();
                c.eof |= c.got > LINGER_MAX;
                false
            }
            _ => false,
        }
    }

    /// Parses a request head and sets up reading its body.
    #[inline(never)]
    fn head(&mut self, c: &mut Conn) -> bool {
        let max = if c.rt.is_some() { RT_HEAD_MAX } else { HEAD_MAX };
        // Past 64 KiB, parse only once the blank line is in, and search for
        // it only in what is new (it may begin in the last two bytes seen).
        if (HEAD_MAX..=max).contains(&c.inb.len()) && c.inb.get(c.seen.saturating_sub(2)..).and_then(http::head_end).is_none() {
            c.seen = c.inb.len();
            return false;
        }
        c.seen = 0;
        let mut hs = [Header::default(); MAX_HEADERS];
        let h = match http::parse_head(&c.inb, &mut hs) {
            Ok(Some(h)) if h.len <= max => h,
            Ok(None) if c.inb.len() <= max => return false,
            _ => return self.bad_request(c),
        };
        let hs = &hs[..h.headers];
        // Framing: chunked (the last coding), or one Content-Length, or no
        // body at all.
        let (mut chunked, mut len) = (false, None);
        for x in hs {
            if text::eqi(x.name, const { inside(CHUNKED, b"Transfer-Encoding") }) {
                let mut last = x.value.rsplit(|&b| b == b',').next().unwrap_or_default();
                while let [b' ' | b'\t', rest @ ..] = last {
                    last = rest;
                }
                if !text::eqi(last, const { inside(CHUNKED, b"chunked") }) {
                    return self.bad_request(c);
                }
                chunked = true;
            } else if text::eqi(x.name, const { inside(LENGTH, b"Content-Length") }) {
                match http::parse_dec(x.value) {
                    Some(v) if len.is_none_or(|l| l == v) => len = Some(v),
                    _ => return self.bad_request(c),
                }
            }
        }
        if header(hs, b"expect").is_some_and(|v| text::eqi(v, b"100-continue")) {
            c.out.s(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        c.limit = match c.rt {
            Some(_) => RESPONSE_LIMIT,
            None if header(hs, INVOCATION_TYPE) == Some(const { inside(crate::HELP, b"Event") }) => EVENT_LIMIT,
            None => SYNC_LIMIT,
        };
        c.stream = false;
        if let Some(i) = c.rt {
            let ctype = text::safe(header(hs, CONTENT_TYPE)).unwrap_or(const { inside(text::PAYLOAD_CHUNK, b"application/octet-stream") });
            if header(hs, b"lambda-runtime-function-response-mode") == Some(const { inside(crate::HELP, b"streaming") }) {
                let limit = self.stream_begin(i, h.start[1], ctype);
                if limit > 0 {
                    c.stream = true;
                    c.limit = limit;
                    c.stream_of = self.rts[i].job.as_ref().map_or(0, |j| j.seq);
                }
            }
        }
        let end = h.len;
        c.head.clear();
        c.head.s(&c.inb[..end]);
        text::cut(&mut c.inb, 0, end);
        c.chunked = chunked;
        c.left = if chunked { 0 } else { len.unwrap_or(0) };
        c.dec = Chunked::default();
        (c.got, c.pos, c.dropped, c.relayed) = (0, 0, false, 0);
        c.rd = Rd::Body;
        true
    }

    /// Reads what is buffered of a body; handles the request once it is whole.
    #[inline(never)]
    fn body(&mut self, c: &mut Conn, ci: usize) -> bool {
        let done = if c.chunked {
            let end = c.inb.len();
            let Ok(done) = c.dec.decode(&mut c.inb, &mut c.got, &mut c.pos, end, c.limit) else {
                return self.bad_request(c);
            };
            c.dropped = c.dec.overflow > 0;
            if !c.stream {
                text::cut(&mut c.inb, c.got, c.pos); // consumed framing
                c.pos = c.got;
            }
            done
        } else {
            let take = (c.inb.len() - c.got).min(c.left as usize);
            let keep = take.min(c.limit.saturating_sub(c.got));
            text::cut(&mut c.inb, c.got + keep, c.got + take);
            c.dropped |= keep < take;
            c.got += keep;
            c.pos = c.got;
            c.left -= take as u64;
            c.left == 0
        };
        if c.stream {
            // Relayed as it comes (the data leaves the buffer), or kept
            // whole, up to a buffered response's limit, for a signed Invoke.
            let i = c.rt.unwrap_or_default();
            // The invocation ended while its stream went on: what follows
            // is read and dropped, and reaches no caller.
            let live = self.rts[i].job.as_ref().is_some_and(|j| j.seq == c.stream_of);
            let keep = if c.limit == usize::MAX { 0 } else { c.got };
            let n = (c.got - keep).min((STREAM_LIMIT - c.relayed) as usize);
            if live {
                self.relay(i, &c.inb[..n]);
            }
            c.relayed += n as u64;
            // Trailer lines stay in the buffer until the stream ends: 64 KiB at most.
            let trailers = c.dec.trailers.map_or(0, |t| c.pos.saturating_sub(t));
            if n < c.got - keep || c.dropped || trailers > 64 << 10 {
                // Over 200 MiB (or 6 MiB kept, or endless trailers): the
                // caller has had all it gets; the runtime hears 413, as
                // from Lambda, and goes on to its next event.
                c.inb.clear();
                let limit = c.limit.min(STREAM_LIMIT as usize) as u64;
                self.too_large(c, live.then_some(i), limit);
                return false;
            }
            let cut = if c.chunked { c.dec.trailers.unwrap_or(c.pos) } else { c.got };
            text::cut(&mut c.inb, keep, cut);
            c.pos -= cut - keep;
            c.got = keep;
            c.dec.trailers = c.dec.trailers.map(|_| keep);
        }
        if !done {
            return false;
        }
        c.rd = Rd::Head;
        // The body (for a stream: its trailer lines) leaves the buffer;
        // what follows it stays for the next request.
        // (`split_off`, but with no panic path; copied by `Put::s`, as
        // `to_vec` alone would bring in an allocation path of its own.)
        let end = if c.stream { c.pos } else { c.got };
        let mut rest = Vec::new();
        rest.s(c.inb.get(end..).unwrap_or_default());
        c.inb.truncate(end);
        let body = core::mem::replace(&mut c.inb, rest);
        let head = core::mem::take(&mut c.head);
        let mut hs = [Header::default(); MAX_HEADERS];
        let Ok(Some(h)) = http::parse_head(&head, &mut hs) else {
            return self.bad_request(c);
        };
        let hs = &hs[..h.headers];
        let conn = header(hs, const { inside(CLOSE, b"Connection") }).unwrap_or_default();
        // HTTP/1.0 callers get one answer per connection: one kept open
        // would need a `Connection: keep-alive` they wait for (`ab -k` hung
        // without it), and none read chunks, so a stream reaches them whole.
        let old = text::eqi(h.start[2], b"HTTP/1.0");
        let keep = !c.eof && !old && !text::eqi(conn, const { inside(CLOSE, b"close") });
        let req = Req { method: h.start[0], target: h.start[1], hs, keep, old };
        match c.rt {
            Some(i) => self.runtime_request(c, ci, i, &req, &body),
            None => self.invoke_request(c, ci, &req, body),
        }
        true
    }

    fn bad_request(&mut self, c: &mut Conn) -> bool {
        c.inb.clear();
        aws_error(c, false, BAD_REQUEST, b"InvalidRequestContentException", &text::uuid(), b"malformed HTTP request");
        linger(c);
        false
    }

    // --- the Invoke API ---

    #[inline(never)]
    fn invoke_request(&mut self, c: &mut Conn, ci: usize, req: &Req, payload: Vec<u8>) {
        let id = text::uuid();
        let mut m = Vec::new();
        if let Err((status, etype)) = self.invoke(c, ci, req, payload, id, &mut m) {
            aws_error(c, req.keep, status, etype, &id, &m);
        }
    }

    /// Checks an invoke and queues it: or its error status and type, with
    /// the message in `m`.
    fn invoke(&mut self, c: &mut Conn, ci: usize, req: &Req, mut payload: Vec<u8>, id: [u8; 36], m: &mut Vec<u8>) -> Result<(), (Status, &'static [u8])> {
        let keep = req.keep;
        let Some((given, qualifier, events)) = text::invoke_target(req.target).filter(|_| req.method == b"POST") else {
            m.s(b"unknown operation: ").s(req.method).s(b" ").s(req.target);
            return Err((NOT_FOUND, b"UnknownOperationException"));
        };
        // Lambda's length limits on what goes into the runtime's /next head.
        let tenant = text::safe(req.h(b"x-amz-tenant-id"));
        let (q, t) = (qualifier.as_ref().map_or(0, Vec::len), tenant.map_or(0, <[u8]>::len));
        let (what, max): (&[u8], u64) = match () {
            _ if given.len() > 256 => (const { inside(REGISTERED[0], b"functionName") }, 256),
            _ if q > 128 => (b"qualifier", 128),
            _ if t > 256 => (b"tenantId", 256),
            _ => (b"", 0),
        };
        if max > 0 {
            m.s(b"1 validation error detected: Value at '")
                .s(what)
                .s(b"' failed to satisfy constraint: Member must have length less than or equal to ")
                .dec(max);
            return Err((BAD_REQUEST, b"ValidationException"));
        }
        let Some(in_name) = text::match_name(&given, self.cfg.name) else {
            m.s(b"Function not found: ");
            if text::has(&given, b':') {
                m.s(&given);
            } else {
                arn(m, self.cfg.region, &given, None);
            }
            return Err((NOT_FOUND, b"ResourceNotFoundException"));
        };
        // RequestResponse (also when not given), Event or DryRun: 0, 1, 2.
        let kind = req.h(INVOCATION_TYPE).map_or(Some(0), |k| (0..3).position(|n| text::same(k, text::nth(b"RequestResponse\0Event\0DryRun", n))));
        let event = kind == Some(1);
        if c.dropped {
            m.s(b"Request must be smaller than ").dec(if event { EVENT_LIMIT } else { SYNC_LIMIT } as u64).s(b" bytes for the Invoke operation");
            return Err((TOO_LARGE, b"RequestTooLargeException"));
        }
        // As on Lambda, an invoke without a payload brings the event `{}`
        // (runtimes parse the event: an empty one fails in most).
        if payload.is_empty() {
            payload.s(b"{}");
        }
        // As Lambda, only JSON (RFC 8259, in UTF-8, nested up to 65,536
        // deep): a payload of anything else would reach a runtime that
        // parses it and fail there.
        if let Err(at) = faas::json::check(&payload, &mut [0; 1 << 16]) {
            m.s(b"Could not parse request body into json: not JSON at byte ").dec(at as u64);
            return Err((BAD_REQUEST, b"InvalidRequestContentException"));
        }
        if kind.is_none() || event && events {
            m.s(BAD_TYPE);
            return Err((BAD_REQUEST, b"InvalidParameterValueException"));
        }
        let mut hdrs = Vec::new();
        hdrs.s(b"\r\nLambda-Runtime-Invoked-Function-Arn: ");
        // The ARN the caller used, as Lambda passes it on: a full one as it
        // is, a partial one in our partition and region, a bare name in our
        // (made-up) account too.
        match given.iter().filter(|&&b| b == b':').count() {
            0 | 1 => arn(&mut hdrs, self.cfg.region, self.cfg.name, in_name),
            _ if given.starts_with(const { inside(ARN, b"arn:") }) => _ = hdrs.s(&given),
            _ => _ = hdrs.s(ARN).s(self.cfg.region).s(b":").s(&given),
        }
        if let (None, Some(q)) = (in_name, &qualifier) {
            hdrs.s(b":").s(q);
        }
        hdrs.s(b"\r\nLambda-Runtime-Trace-Id: ");
        // A caller's trace header is passed on if a runtime can use it (faas
        // keeps up to 1 KiB in the environment); else the invocation gets its own.
        if let Some(t) = text::safe(req.h(b"x-amzn-trace-id")).filter(|t| t.len() <= 1000) {
            hdrs.s(t);
        } else {
            text::trace_id(&mut hdrs);
        }
        // Client context: base64 JSON in, JSON to the runtime (newlines,
        // which JSON allows between tokens, would break the header). Lambda
        // takes up to 3,583 bytes of base64; a larger one would make the
        // runtime's /next head bigger than a runtime need take.
        if let Some(b64) = req.h(b"x-amz-client-context") {
            if b64.len() > MAX_CLIENT_CONTEXT {
                m.s(b"Client context must be at most 3583 bytes of Base64-encoded data.");
                return Err((BAD_REQUEST, b"InvalidRequestContentException"));
            }
            let Some(mut json) = text::unbase64(b64).filter(|j| j.first() == Some(&b'{')) else {
                m.s(b"Client context must be a valid Base64-encoded JSON object.");
                return Err((BAD_REQUEST, b"InvalidRequestContentException"));
            };
            json.iter_mut().filter(|b| b.is_ascii_control()).for_each(|b| *b = b' ');
            hdrs.s(b"\r\nLambda-Runtime-Client-Context: ").s(&json);
        }
        // TenantId (X-Amz-Tenant-Id, in current SDKs) goes to the runtime
        // as Lambda does for a tenant-isolated function.
        if let Some(t) = tenant {
            hdrs.s(b"\r\nLambda-Runtime-Aws-Tenant-Id: ").s(t);
        }
        if kind == Some(2) {
            respond(c, keep, NO_CONTENT, &id, b"", b"");
            return Ok(());
        }
        if self.queue.iter().filter(|j| j.tries == 0).count() >= self.cfg.queue {
            m.s(b"Rate Exceeded.");
            return Err((TOO_MANY, b"TooManyRequestsException"));
        }
        let tail = !event && req.h(b"x-amz-log-type") == Some(b"Tail");
        let client = (!event).then_some((ci, c.gen));
        let buffer = client.is_some() && !events && (req.old || req.h(b"authorization").is_some_and(|a| a.starts_with(b"AWS4-HMAC-SHA256")));
        let job = Box::new(Job { id, payload, client, keep, tail, events, buffer, hdrs, start_us: 0, streamed: false, seq: 0, tries: 0, due_us: 0 });
        self.queue.push(job);
        if event {
            respond(c, keep, ACCEPTED, &id, b"", b"");
        } else {
            c.rd = Rd::Wait;
        }
        if events {
            // Every answer from here on is an event in this stream.
            stream_head(&mut c.out, b"application/vnd.amazon.eventstream", &id, b"");
        }
        Ok(())
    }

    // --- the runtimes ---

    /// Hands waiting jobs to runtimes parked on `/next`, and starts
    /// runtimes for jobs that no starting or idle runtime will take.
    fn dispatch(&mut self) {
        if self.stopping.is_some() {
            return;
        }
        for i in 0..self.rts.len() {
            let rt = &self.rts[i];
            if rt.state != St::Ready || rt.job.is_some() {
                continue;
            }
            let Some(ci) = rt.next.filter(|&ci| matches!(self.conns.get(ci), Some(Some(_)))) else {
                continue;
            };
            if let Some(job) = self.take_job() {
                self.send_next(i, ci, job);
            }
        }
        let now = sys::mono_us();
        let soon = self.rts.iter().filter(|r| r.state == St::Init || (r.state == St::Ready && r.job.is_none())).count();
        let mut need = self.queue.iter().filter(|j| j.due_us <= now).count().saturating_sub(soon);
        for i in 0..self.rts.len() {
            if need > 0 && self.rts[i].state == St::Down {
                self.spawn(i);
                need -= 1;
            }
        }
    }

    /// The oldest job that is due (a retry waits for its time).
    fn take_job(&mut self) -> Option<Box<Job>> {
        let now = sys::mono_us();
        let k = self.queue.iter().position(|j| j.due_us <= now)?;
        Some(self.queue.remove(k))
    }

    #[inline(never)]
    fn send_next(&mut self, i: usize, ci: usize, mut job: Box<Job>) {
        let now = sys::mono_us();
        job.start_us = now;
        self.gen = self.gen.wrapping_add(1);
        job.seq = self.gen;
        if let Some(Some(c)) = self.conns.get_mut(ci) {
            let h = &mut c.out;
            h.s(NEXT_HEAD).s(&job.id);
            h.s(b"\r\nLambda-Runtime-Deadline-Ms: ").dec(sys::real_ms() + self.cfg.timeout_ms).s(&job.hdrs);
            let p = &job.payload;
            if p.len() >= CHUNKED_EVENT {
                h.s(CHUNKED);
                chunk(h, p);
                h.s(LAST_CHUNK);
            } else {
                h.s(LENGTH).dec(p.len() as u64).s(b"\r\n\r\n").s(p);
            }
            c.rd = Rd::Head;
            self.kick.push(ci);
        }
        if job.client.is_some() {
            job.payload = Vec::new(); // an Event keeps its payload for a retry
        }
        self.rts[i].next = None;
        self.rts[i].deadline_us = now + self.cfg.timeout_ms * 1000;
        self.begin(i, job);
    }

    /// Runtime `i` takes on `job`: its START line.
    fn begin(&mut self, i: usize, job: Box<Job>) {
        let rt = &mut self.rts[i];
        let at = new_line(&mut rt.log);
        rt.log.s(b"START RequestId: ").s(&job.id).s(b" Version: $LATEST\n");
        show(&mut rt.log, at);
        rt.job = Some(job);
    }

    fn spawn(&mut self, i: usize) {
        let mut env = Vec::new();
        env.s(&self.cfg.env).s(crate::RUNTIME_API);
        self.cfg.runtime_api.text(&mut env, self.rts[i].port);
        env.s(b"\0");
        let now = sys::mono_us();
        let cfg = self.cfg;
        let rt = &mut self.rts[i];
        rt.spawn_us = now;
        rt.deadline_us = now + 1000 * if rt.init_retry { cfg.timeout_ms } else { cfg.init_ms };
        rt.state = St::Init;
        rt.log.clear();
        let started = sys::pipe().and_then(|(r, w)| {
            rt.out = Some(r);
            sys::spawn(&cfg.argv, &env, &w)
        });
        match started {
            Some(pid) => rt.pid = pid,
            None => self.fail_rt(i, b"Runtime.Unknown", b"cannot start the bootstrap"),
        }
    }

    #[inline(never)]
    fn runtime_request(&mut self, c: &mut Conn, ci: usize, i: usize, req: &Req, body: &[u8]) {
        if let Err(e) = self.runtime_call(c, ci, i, req, body) {
            let k = e as usize;
            let status = RT_STATUS[k];
            rt_reply(c, req.keep && status < TOO_MANY, status, text::nth(RT_ERRORS, 2 * k), text::nth(RT_ERRORS, 2 * k + 1));
        }
    }

    /// Serves one Runtime API request; or says which error to answer.
    fn runtime_call(&mut self, c: &mut Conn, ci: usize, i: usize, req: &Req, body: &[u8]) -> Result<(), RtErr> {
        let keep = req.keep;
        let path = req.target.split(|&x| x == b'?').next().unwrap_or_default();
        let (get, post) = (req.method == b"GET", req.method == b"POST");
        let etype = text::safe(req.h(ERROR_TYPE)).unwrap_or(b"Runtime.Unknown");
        let rt = &mut self.rts[i];
        if get && path == NEXT_PATH {
            if rt.job.is_some() {
                // Asking for the next event without answering this one.
                self.fail_job(i, b"Runtime.NoResponse", b"/next before this invocation's answer");
            }
            let rt = &mut self.rts[i];
            if rt.state == St::Init {
                rt.init_us = Some(sys::mono_us() - rt.spawn_us);
                rt.state = St::Ready;
                rt.init_retry = false;
            }
            if rt.state != St::Ready {
                return Err(RtErr::Stopped);
            }
            // Asked again on another connection: the one parked before is
            // stale (closed, it sends a runtime still on it to reconnect).
            if let Some(old) = rt.next.filter(|&old| old != ci) {
                self.drop_conn(old);
            }
            self.rts[i].next = Some(ci);
            self.rts[i].deadline_us = u64::MAX;
            c.rd = Rd::Wait;
        } else if post && path == INIT_ERROR {
            if rt.state != St::Init {
                return Err(RtErr::NotInit);
            }
            rt_ok(c, keep);
            let doc = error_doc(etype, b"init failed");
            self.init_failed(i, etype, if body.is_empty() { &doc } else { body });
        } else if let Some((id, response)) = invocation(path) {
            if !post {
                return Err(RtErr::NoPath);
            }
            // A stream begun for an earlier attempt (an Event's retry keeps
            // its id) must not end this one.
            if rt.job.as_ref().is_none_or(|j| j.id != id || c.stream && c.stream_of != j.seq) {
                return Err(RtErr::BadId);
            }
            let ctype = text::safe(req.h(CONTENT_TYPE)).unwrap_or(JSON);
            if c.stream {
                self.stream_end(c, i, body, ctype);
            } else if c.dropped {
                self.too_large(c, Some(i), RESPONSE_LIMIT as u64);
            } else {
                rt_ok(c, keep);
                let doc = error_doc(etype, b"");
                let outcome = if response { Outcome::Ok(body, ctype) } else { Outcome::Fail(etype, if body.is_empty() { &doc } else { body }) };
                self.finish(i, outcome, false);
            }
        } else if post && path == b"/2020-01-01/extension/register" {
            // A runtime registers a no-op internal extension to be sent
            // SIGTERM; as on Lambda, only during init.
            if rt.state != St::Init {
                return Err(RtErr::ExtState);
            }
            let ext = rt.ext.get_or_insert_with(text::uuid);
            let mut h = Vec::new();
            h.s(EXTENSION_ID).s(ext).s(const { inside(NEXT_HEAD, b"\r\nContent-Type: application/json\r\n") });
            let mut v = Vec::new();
            v.s(REGISTERED[0]).json(self.cfg.name).s(REGISTERED[1]);
            respond(c, keep, OK, b"", &h, &v);
        } else if get && path == b"/2020-01-01/extension/event/next" {
            // Registered for no events: held open, never answered.
            if rt.ext.is_none() || req.h(const { inside(EXTENSION_ID, b"Lambda-Extension-Identifier") }) != rt.ext.as_ref().map(|e| &e[..]) {
                return Err(RtErr::ExtId);
            }
            if self.conns.iter().flatten().filter(|h| h.rt == Some(i) && h.rd == Rd::Hold).count() >= MAX_HOLD {
                return Err(RtErr::ExtMany);
            }
            c.rd = Rd::Hold;
        } else {
            return Err(RtErr::NoPath);
        }
        Ok(())
    }

    /// A function response over `limit`: 413 to the runtime (which closes
    /// the connection), Function.ResponseSizeTooLarge to the caller.
    /// `i` is `None` for a stream whose invocation already ended.
    fn too_large(&mut self, c: &mut Conn, i: Option<usize>, limit: u64) {
        let mut m = Vec::new();
        m.s(b"Response payload size exceeded maximum allowed payload size (").dec(limit).s(b" bytes).");
        rt_reply(c, false, TOO_LARGE, b"RequestEntityTooLarge", &m);
        linger(c);
        if let Some(i) = i {
            self.fail_job(i, b"Function.ResponseSizeTooLarge", &m);
        }
    }

    /// A streamed response begins: send a plain caller its head. Returns
    /// how much of it to keep: nothing (0) if the stream is not for the
    /// invocation in progress, all of it (`usize::MAX`: relayed as it
    /// comes), or a buffered response's limit for a caller that gets it
    /// whole.
    fn stream_begin(&mut self, i: usize, target: &[u8], ctype: &[u8]) -> usize {
        let Some(job) = self.rts[i].job.as_mut() else {
            return 0;
        };
        if job.streamed || !invocation(target).is_some_and(|(id, response)| response && id == job.id) {
            return 0;
        }
        if job.buffer {
            return RESPONSE_LIMIT;
        }
        job.streamed = true;
        if let (false, Some(c)) = (job.events, job.client.and_then(|t| client_in(&mut self.conns, t))) {
            stream_head(&mut c.out, ctype, &job.id, TRAILER);
        }
        usize::MAX
    }

    /// Passes a piece of a streamed response on to the caller: one chunk,
    /// or one PayloadChunk event.
    fn relay(&mut self, i: usize, data: &[u8]) {
        let Some(job) = self.rts[i].job.as_ref() else {
            return;
        };
        let events = job.events;
        if let (false, Some(c)) = (data.is_empty(), job.client.and_then(|t| self.client_mut(t))) {
            if events {
                text::event_chunk(&mut c.out, text::PAYLOAD_CHUNK, data);
            } else {
                chunk(&mut c.out, data);
            }
        }
    }

    /// The stream ended; `body` is what was kept of its data (for a
    /// buffered caller), then its raw trailer lines.
    fn stream_end(&mut self, c: &mut Conn, i: usize, body: &[u8], ctype: &[u8]) {
        let (data, trailers) = body.split_at(c.got.min(body.len()));
        rt_ok(c, false);
        match text::safe(text::field(trailers, ERROR_TYPE)) {
            Some(t) => {
                let body = text::field(trailers, ERROR_BODY).and_then(text::unbase64);
                let doc = body.unwrap_or_else(|| error_doc(t, b"the function failed while streaming"));
                self.finish(i, Outcome::Fail(t, &doc), false)
            }
            None => self.finish(i, Outcome::Ok(data, ctype), false),
        }
    }

    /// Ends the current invocation of runtime `i`: END and REPORT lines,
    /// then the answer to the caller, or a retry for a failed Event. A
    /// failure that the function did not report itself (`platform`: a
    /// timeout, an exit, a failed init) gets a `Status:` in the REPORT line,
    /// as on Lambda.
    fn finish(&mut self, i: usize, outcome: Outcome, platform: bool) {
        if self.rts[i].job.is_none() {
            return;
        }
        self.drain_pipe(i); // the function's last lines belong to this invocation
        let Some(mut job) = self.rts[i].job.take() else {
            return;
        };
        let now = sys::mono_us();
        let us = now.saturating_sub(job.start_us);
        let rt = &mut self.rts[i];
        let peak = if rt.pid > 0 { peak_kb(rt.pid) } else { rt.gone_kb };
        let l = &mut rt.log;
        let at = new_line(l);
        l.s(b"END RequestId: ").s(&job.id).s(b"\nREPORT RequestId: ").s(&job.id).s(b"\tDuration: ").fixed2(us / 10);
        l.s(BILLED).dec(us.div_ceil(1000).max(1)).s(b" ms\tMemory Size: ").dec(self.cfg.memory_mb);
        l.s(MAX_MEMORY).dec(peak.div_ceil(1024)).s(const { inside(MAX_MEMORY, b" MB\t") });
        if let Some(init) = rt.init_us.take() {
            l.s(const { inside(INIT_REPORT, b"Init Duration: ") }).fixed2(init / 10).s(const { inside(BILLED, b" ms\t") });
        }
        if let (true, Outcome::Fail(t, _)) = (platform, &outcome) {
            status(l, t);
        }
        l.s(b"\n");
        show(l, at);
        let mut tail = Vec::new();
        if job.tail {
            tail.base64(&rt.log[rt.log.len().saturating_sub(TAIL)..]);
        }
        rt.log.clear();
        let Some((ci, gen)) = job.client else {
            // A failed Event is retried, as Lambda does (after 1 and 2
            // minutes there; after --retry-delay, then twice that, here).
            if matches!(outcome, Outcome::Fail(..)) && job.tries < self.cfg.retries {
                job.due_us = now + ((self.cfg.retry_ms * 1000) << job.tries.min(16));
                job.tries += 1;
                job.streamed = false;
                self.queue.push(job);
            }
            return;
        };
        let Some(c) = self.client_mut((ci, gen)) else {
            return;
        };
        if job.events {
            if let Outcome::Ok(b, _) = outcome {
                if !b.is_empty() {
                    text::event_chunk(&mut c.out, text::PAYLOAD_CHUNK, b);
                }
            }
            let mut m = Vec::new();
            m.s(b"{");
            if let Outcome::Fail(t, doc) = outcome {
                m.s(br#","ErrorCode":""#).json(t).s(br#"","ErrorDetails":""#).json(doc).s(b"\"");
            }
            if job.tail {
                m.s(br#","LogResult":""#).s(&tail).s(b"\"");
            }
            text::cut(&mut m, 1, 2); // the first comma, if any
            m.s(b"}");
            text::event_chunk(&mut c.out, text::INVOKE_COMPLETE, &m);
            c.out.s(LAST_CHUNK);
        } else {
            let (body, ctype, fail) = match outcome {
                Outcome::Ok(b, t) => (b, t, None),
                Outcome::Fail(t, doc) => (doc, JSON, Some((t, doc))),
            };
            let mut h = Vec::new();
            if !job.streamed {
                h.s(const { inside(NEXT_HEAD, b"Content-Type: ") }).s(ctype).s(const { inside(EXECUTED, b"\r\nX-Amz-Executed-Version: $LATEST\r\n") });
            }
            if fail.is_some() {
                h.s(b"X-Amz-Function-Error: Unhandled\r\n");
            }
            if job.tail {
                h.s(b"X-Amz-Log-Result: ").s(&tail).s(b"\r\n");
            }
            if job.streamed {
                // The last chunk, then the same as trailers.
                c.out.s(const { inside(LAST_CHUNK, b"0\r\n") }).s(&h);
                if let Some((t, doc)) = fail {
                    c.out.s(ERROR_TYPE).s(b": ").s(t).s(BODY_TRAILER).base64(doc).s(b"\r\n");
                }
                c.out.s(b"\r\n");
            } else {
                respond(c, job.keep, OK, &job.id, &h, body);
            }
        }
        if job.keep {
            c.rd = Rd::Head;
        } else {
            c.close = true;
        }
        self.kick.push(ci);
    }

    /// Fails the current invocation of runtime `i`: error type `t`, message `msg`.
    fn fail_job(&mut self, i: usize, t: &[u8], msg: &[u8]) {
        self.finish(i, Outcome::Fail(t, &error_doc(t, msg)), true);
    }

    /// Init failed (an `/init/error`, an exit or a timeout before the first
    /// `/next`): the invoke that triggered it gets the error.
    fn init_failed(&mut self, i: usize, etype: &[u8], doc: &[u8]) {
        self.drain_pipe(i);
        self.init_report(i, etype);
        self.rts[i].init_retry = false;
        if let Some(mut job) = self.take_job() {
            job.start_us = self.rts[i].spawn_us;
            self.begin(i, job);
            self.finish(i, Outcome::Fail(etype, doc), true);
        }
        self.retire(i);
    }

    /// The INIT_REPORT line of runtime `i`'s failed init, as Lambda writes
    /// it: phase `init`, or `invoke` for the init retried at the invoke
    /// after a timeout (a "suppressed init"); then its status.
    fn init_report(&mut self, i: usize, etype: &[u8]) {
        let rt = &mut self.rts[i];
        let (us, retried) = (sys::mono_us().saturating_sub(rt.spawn_us), rt.init_retry);
        let l = &mut rt.log;
        let at = new_line(l);
        l.s(INIT_REPORT).fixed2(us / 10).s(if retried { b" ms\tPhase: invoke\t" } else { PHASE_INIT });
        status(l, etype);
        l.s(b"\n");
        show(l, at);
    }

    /// Stops runtime `i` for good; the next job starts a fresh one.
    fn retire(&mut self, i: usize) {
        self.drain_pipe(i);
        let rt = &mut self.rts[i];
        // (A line it left unfinished is ended, so the next runtime's
        // output starts a line of its own.)
        let at = new_line(&mut rt.log);
        show(&mut rt.log, at);
        if rt.pid > 0 {
            sys::kill(-rt.pid, libc::SIGKILL);
        }
        rt.pid = 0;
        rt.out = None;
        rt.state = St::Down;
        rt.deadline_us = u64::MAX;
        rt.next = None;
        rt.init_us = None;
        rt.ext = None;
        rt.gone_kb = 0;
        for c in &mut self.conns {
            if c.as_ref().is_some_and(|c| c.rt == Some(i)) {
                *c = None;
            }
        }
    }

    fn timers(&mut self) {
        let now = sys::mono_us();
        for i in 0..self.rts.len() {
            let rt = &self.rts[i];
            if now < rt.deadline_us {
                continue;
            }
            if rt.state == St::Init && !rt.init_retry {
                // As Lambda: an init past its limit (10 s) is tried once
                // more, at the invoke, with the function's timeout.
                self.init_report(i, TIMED_OUT);
                self.retire(i);
                self.rts[i].init_retry = true;
                if self.stopping.is_none() {
                    self.spawn(i);
                }
            } else {
                // An invocation, or an init retried, ran out of time; or a
                // runtime answered and never asked again: the invocation
                // was answered, its runtime is reset.
                let mut msg = Vec::new();
                msg.s(b"Task timed out after ").fixed2(self.cfg.timeout_ms / 10).s(b" seconds");
                self.fail_rt(i, TIMED_OUT, &msg);
                self.retire(i);
            }
        }
        for c in &mut self.conns {
            if c.as_ref().is_some_and(|c| c.rd == Rd::Linger && now >= c.until) {
                *c = None;
            }
        }
        // Shutting down: exit once every runtime is reaped; SIGKILL what
        // outlives its grace, and exit anyway 2 s after that.
        let Some(s) = self.stopping else { return };
        if self.rts.iter().all(|r| r.pid == 0) || (self.killed && now >= s) {
            sys::exit(0);
        }
        if now >= s {
            for rt in &self.rts {
                if rt.pid > 0 {
                    sys::kill(-rt.pid, libc::SIGKILL);
                }
            }
            self.killed = true;
            self.stopping = Some(now + 2_000_000);
        }
    }

    fn signals(&mut self) {
        while let Some(s) = sys::next_signal(&self.sig) {
            if s == libc::SIGCHLD as u32 {
                self.reap();
            } else if self.stopping.is_none() {
                // As Lambda: SIGTERM and a grace period only for a runtime
                // with a registered extension; the rest are killed at once.
                sys::write_all(2, b"faas-rie: stopping\n");
                let mut grace = 0;
                for rt in self.rts.iter().filter(|r| r.pid > 0 && r.ext.is_some()) {
                    sys::kill(rt.pid, libc::SIGTERM);
                    grace = GRACE_US;
                }
                self.stopping = Some(sys::mono_us() + grace);
            }
        }
    }

    /// Reaps exited children; a runtime that died mid-invocation or in init
    /// fails that invocation with Runtime.ExitError.
    fn reap(&mut self) {
        while let Some(pid) = sys::exited() {
            let rt = self.rts.iter().position(|r| r.pid == pid);
            if rt.is_some() {
                // What the runtime started goes with it, as on Lambda.
                sys::kill(-pid, libc::SIGKILL);
            }
            let (status, kb) = sys::reap(pid);
            let Some(i) = rt else { continue };
            self.rts[i].gone_kb = kb;
            self.drain_pipe(i);
            let mut why = Vec::new();
            why.s(b"Runtime exited with error: ");
            let sig = status & 0x7f;
            if sig != 0 {
                why.s(b"signal: ").dec(sig as u64);
                for k in 0..4 {
                    if let Some((&n, name)) = text::nth(SIGNAL_NAMES, k).split_first() {
                        if i32::from(n) == sig {
                            why.s(name);
                        }
                    }
                }
            } else {
                why.s(b"exit status ").dec((status >> 8 & 0xff) as u64);
            }
            self.rts[i].pid = 0;
            if self.rts[i].job.is_some() || self.rts[i].state == St::Init {
                self.fail_rt(i, const { inside(RT_ERRORS, b"Runtime.ExitError") }, &why);
            } else if self.stopping.is_none() {
                why.s(b"; the next invoke starts a new runtime\n");
                sys::write_all(2, const { inside(crate::HELP, b"faas-rie: ") });
                sys::write_all(2, &why);
            }
            self.retire(i);
        }
        // What a runtime started in a session of its own outlives its
        // group's SIGKILL, and is ours once its parent is gone (we are the
        // subreaper): it goes too, as everything but the runtimes does.
        for p in sys::read_file(CHILDREN).split(|&b| b == b' ').filter_map(http::parse_dec) {
            if self.rts.iter().all(|r| r.pid as u64 != p) {
                sys::kill(-(p as i32), libc::SIGKILL);
                sys::kill(p as i32, libc::SIGKILL);
            }
        }
    }

    /// Fails what runtime `i` is doing, its invocation or else its init,
    /// with error type `t`: logs `what` (after the request id, if any) and
    /// answers with it. Between invocations it is only logged.
    fn fail_rt(&mut self, i: usize, t: &[u8], what: &[u8]) {
        let mut msg = Vec::new();
        let job = self.rts[i].job.is_some();
        if let Some(j) = &self.rts[i].job {
            msg.s(const { inside(EXECUTED, b"RequestId: ") }).s(&j.id).s(b" Error: ");
        }
        msg.s(what);
        let log = &mut self.rts[i].log;
        let at = new_line(log);
        log.s(&msg).s(b"\n");
        show(log, at);
        if job {
            self.fail_job(i, t, &msg);
        } else if self.rts[i].state == St::Init {
            self.init_failed(i, t, &error_doc(t, &msg));
        }
    }

    /// Forwards what the runtime wrote to our stdout and to its log.
    fn drain_pipe(&mut self, i: usize) {
        // Bounded, so a runtime that never stops writing cannot starve the
        // loop (a pipe holds 64 KiB: this empties it).
        for _ in 0..64 {
            let rt = &mut self.rts[i];
            let Some(p) = &rt.out else { return };
            let at = rt.log.len();
            match sys::read_more(p, &mut rt.log) {
                Io::Done(_) => show(&mut rt.log, at),
                Io::Again => return,
                Io::Closed => {
                    rt.out = None;
                    return;
                }
            }
        }
    }
}

/// The caller's connection `t`, if it is still there.
fn client_in(conns: &mut [Option<Box<Conn>>], (ci, gen): Token) -> Option<&mut Conn> {
    conns.get_mut(ci)?.as_deref_mut().filter(|c| c.gen == gen)
}

/// Our own log lines start on a line of their own, even after a function's
/// line still unfinished (its end may come later: a pipe has no records).
/// Where they start, for [`show`].
#[inline(never)]
fn new_line(log: &mut Vec<u8>) -> usize {
    let at = log.len();
    if log.last().is_some_and(|&b| b != b'\n') {
        log.s(b"\n");
    }
    at
}

/// How Lambda's REPORT and INIT_REPORT lines end for a failure of the
/// platform's: `Status: timeout`, or `Status: error` and the error type.
fn status(log: &mut Vec<u8>, etype: &[u8]) {
    if etype == TIMED_OUT {
        log.s(b"Status: timeout");
    } else {
        log.s(b"Status: error\tError Type: ").s(etype);
    }
}

/// Writes what a runtime's log gained from `at` on to stdout, and keeps
/// the log from growing: Tail needs only its last 4 KB.
fn show(log: &mut Vec<u8>, at: usize) {
    sys::write_all(1, log.get(at..).unwrap_or_default());
    if log.len() > 16 * TAIL {
        text::cut(log, 0, log.len() - TAIL);
    }
}

/// Closes `c` after its answer, lingering: once the answer is sent, our
/// side is shut, and what the peer still sends is read and dropped until it
/// closes too (or for a bounded while), so the peer reads the answer
/// instead of a connection reset. For answers given before a request was
/// read to its end.
fn linger(c: &mut Conn) {
    c.rd = Rd::Linger;
    c.got = 0;
    c.until = sys::mono_us() + LINGER_US;
}

/// `/2018-06-01/runtime/invocation/{id}/response` or `.../error`: the id,
/// and whether it is the response.
fn invocation(path: &[u8]) -> Option<(&[u8], bool)> {
    let p = path.strip_prefix(const { inside(NEXT_PATH, b"/2018-06-01/runtime/invocation/") })?;
    match p.strip_suffix(const { inside(crate::HELP, b"/response") }) {
        Some(id) => Some((id, true)),
        None => Some((p.strip_suffix(const { inside(INIT_ERROR, b"/error") })?, false)),
    }
}

/// The start of a function ARN, up to the region.
const ARN: &[u8] = b"arn:aws:lambda:";

/// Appends a function ARN.
fn arn(v: &mut Vec<u8>, region: &[u8], name: &[u8], qualifier: Option<&[u8]>) {
    v.s(ARN).s(region).s(b":012345678912:function:").s(name); // a made-up account
    if let Some(q) = qualifier {
        v.s(b":").s(q);
    }
}

/// Appends `data` as one HTTP chunk.
fn chunk(out: &mut Vec<u8>, data: &[u8]) {
    out.hexn(data.len() as u64).s(b"\r\n").s(data).s(b"\r\n");
}

/// Peak resident memory of `pid` in KiB (VmHWM), 0 if unknown.
#[inline(never)]
fn peak_kb(pid: i32) -> u64 {
    let mut path = Vec::new();
    path.s(const { inside(CHILDREN, b"/proc/") }).dec(pid.max(0) as u64).s(b"/status\0");
    let buf = sys::read_file(&path);
    let mut kb = 0;
    if let Some(at) = text::find(&buf, b"VmHWM:") {
        for &b in buf[at..].iter().take_while(|&&b| b != b'\n') {
            if b.is_ascii_digit() {
                kb = kb * 10 + u64::from(b - b'0');
            }
        }
    }
    kb
}

fn error_doc(etype: &[u8], message: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    faas::json::error_document(etype, message, &mut |b: &[u8]| _ = v.s(b));
    v
}

/// The body of the answer to an extension's registration, around the
/// function name.
pub const REGISTERED: [&[u8]; 2] = [br#"{"functionName":""#, br#"","functionVersion":"$LATEST","handler":""}"#];

/// Pieces of the heads we write. The shorter pieces other heads use are
/// slices of these ([`inside`]): one copy of their bytes.
const NEXT_HEAD: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: ";
const EXECUTED: &[u8] = b"\r\nX-Amz-Executed-Version: $LATEST\r\nx-amzn-RequestId: ";
const CHUNKED: &[u8] = b"\r\nTransfer-Encoding: chunked\r\n\r\n";
const LENGTH: &[u8] = b"\r\nContent-Length: ";
const INIT_REPORT: &[u8] = b"INIT_REPORT Init Duration: ";
const PHASE_INIT: &[u8] = b" ms\tPhase: init\t";
const TIMED_OUT: &[u8] = b"Sandbox.Timedout";
const NEXT_PATH: &[u8] = b"/2018-06-01/runtime/invocation/next";
const INIT_ERROR: &[u8] = b"/2018-06-01/runtime/init/error";
/// Pieces of the REPORT line that hold shorter pieces of it.
const BILLED: &[u8] = b" ms\tBilled Duration: ";
const MAX_MEMORY: &[u8] = b" MB\tMax Memory Used: ";
/// The last chunk of a chunked body, and the end of its (empty) trailers.
const LAST_CHUNK: &[u8] = b"0\r\n\r\n";
/// Our children (orphans we adopted among them), by pid.
const CHILDREN: &[u8] = b"/proc/thread-self/children\0";
const CONTENT_TYPE: &[u8] = inside(text::PAYLOAD_CHUNK, b"content-type");
const CT_JSON: &[u8] = inside(NEXT_HEAD, b"Content-Type: application/json\r\n");
const JSON: &[u8] = inside(NEXT_HEAD, b"application/json");

/// Header lookups compare names in any case ([`text::eqi`]): the names
/// looked up are slices of these, and of the heads' pieces above.
const CLOSE: &[u8] = b"Connection: close\r\n";
const EXTENSION_ID: &[u8] = b"Lambda-Extension-Identifier: ";
const BAD_TYPE: &[u8] = b"X-Amz-Invocation-Type must be RequestResponse, DryRun or (not streaming) Event";
const INVOCATION_TYPE: &[u8] = inside(BAD_TYPE, b"X-Amz-Invocation-Type");
/// The trailers a streamed response announces. A failed stream's error
/// type is a slice of it (its `: ` written apart), its error body not.
const TRAILER: &[u8] = b"Trailer: X-Amz-Function-Error, X-Amz-Log-Result, Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n";
const ERROR_TYPE: &[u8] = inside(TRAILER, b"Lambda-Runtime-Function-Error-Type");
const BODY_TRAILER: &[u8] = b"\r\nLambda-Runtime-Function-Error-Body: ";
const ERROR_BODY: &[u8] = inside(BODY_TRAILER, b"Lambda-Runtime-Function-Error-Body");

/// The status lines we answer with, NUL-separated; a status is an index
/// into them, in numeric order (so `status < TOO_MANY` compares codes).
const STATUS_LINES: &[u8] = b"200 OK\x00202 Accepted\x00204 No Content\x00400 Bad Request\x00403 Forbidden\x00404 Not Found\x00\
413 Request Entity Too Large\x00429 Too Many Requests\x00500 Internal Server Error";
type Status = u8;
const OK: Status = 0;
const ACCEPTED: Status = 1;
const NO_CONTENT: Status = 2;
const BAD_REQUEST: Status = 3;
const FORBIDDEN: Status = 4;
const NOT_FOUND: Status = 5;
const TOO_LARGE: Status = 6;
const TOO_MANY: Status = 7;
const SERVER_ERROR: Status = 8;

/// Writes a whole response: status, `x-amzn-RequestId` (if `id` is not
/// empty), the header lines `hdrs`, and the body. Without `keep`, the
/// connection closes after it.
fn respond(c: &mut Conn, keep: bool, status: Status, id: &[u8], hdrs: &[u8], body: &[u8]) {
    c.out.s(const { inside(NEXT_HEAD, b"HTTP/1.1 ") }).s(text::nth(STATUS_LINES, status as usize)).s(b"\r\n");
    if !id.is_empty() {
        c.out.s(const { inside(EXECUTED, b"x-amzn-RequestId: ") }).s(id).s(b"\r\n");
    }
    c.out.s(hdrs);
    if status != NO_CONTENT {
        c.out.s(const { inside(LENGTH, b"Content-Length: ") }).dec(body.len() as u64).s(b"\r\n");
    }
    if !keep {
        c.out.s(CLOSE);
        c.close = true;
        c.rd = Rd::Wait;
    }
    c.out.s(b"\r\n").s(body);
}

/// The head of a streamed answer to a caller: content type `ctype`,
/// invocation `id`, then `extra` header lines.
fn stream_head(out: &mut Vec<u8>, ctype: &[u8], id: &[u8], extra: &[u8]) {
    out.s(const { inside(NEXT_HEAD, b"HTTP/1.1 200 OK\r\nContent-Type: ") }).s(ctype).s(EXECUTED).s(id);
    out.s(const { inside(CHUNKED, b"\r\nTransfer-Encoding: chunked\r\n") }).s(extra).s(b"\r\n");
}

/// An Invoke API service error in the AWS shape. The message's key is the
/// one Lambda's API model gives the exception: "Message" for
/// ResourceNotFoundException, "message" for the model's others sent here
/// (and for UnknownOperationException, not in the model). SDKs generated
/// from the model, as the Go SDK v2, read only that key.
fn aws_error(c: &mut Conn, keep: bool, status: Status, etype: &[u8], id: &[u8], message: &[u8]) {
    let mut h = Vec::new();
    h.s(CT_JSON).s(b"x-amzn-ErrorType: ").s(etype).s(b"\r\n");
    let mut body = Vec::new();
    let key: &[u8] = if etype == b"ResourceNotFoundException" { b"Message" } else { const { inside(text::PAYLOAD_CHUNK, b"message") } };
    body.s(br#"{"Type":"User",""#).s(key).s(br#"":""#).json(message).s(br#""}"#);
    respond(c, keep, status, id, &h, &body);
}

/// A Runtime API error reply: an error document.
fn rt_reply(c: &mut Conn, keep: bool, status: Status, etype: &[u8], message: &[u8]) {
    respond(c, keep, status, b"", CT_JSON, &error_doc(etype, message));
}

/// The Runtime API's 202 `{"status":"OK"}`.
fn rt_ok(c: &mut Conn, keep: bool) {
    respond(c, keep, ACCEPTED, b"", CT_JSON, br#"{"status":"OK"}"#);
}
