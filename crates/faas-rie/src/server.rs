//! The emulator proper: one poll loop over the Invoke API listener, one
//! Runtime API listener per runtime process, their connections, the runtimes'
//! output pipes and a signalfd. Single-threaded, so there is no locking:
//! every invocation is a [`Job`] that waits in one bounded queue until a
//! runtime asks for it on `/next`, and is answered exactly once.

use crate::sys::{self, Fd, Io};
use crate::text::{self, Put};
use crate::Config;
use alloc::{boxed::Box, collections::VecDeque, vec, vec::Vec};
use faas::http::{self, Chunked, Framing, Header};

/// Longest request head accepted.
const HEAD_MAX: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;
const MAX_CONNS: usize = 1024;
/// Held `extension/event/next` requests per runtime.
const MAX_HOLD: usize = 4;
/// Lambda's shutdown budget for a runtime with internal extensions only.
const GRACE_US: u64 = 300_000;
/// Invoke payload limits: synchronous (`faas::MAX_PAYLOAD`, 6 MiB) and Event.
const SYNC_LIMIT: usize = faas::MAX_PAYLOAD;
const EVENT_LIMIT: usize = 1024 * 1024;
/// A buffered function response may be this long (Lambda's 6 MiB + 100 B).
const RESPONSE_LIMIT: usize = SYNC_LIMIT + 100;
/// `X-Amz-Log-Result` carries the last 4 KB of the invocation's log.
const TAIL: usize = 4096;
/// A streamed response waits for a caller with this much unsent.
const BACKLOG: usize = 4 << 20;
/// Events this large go to the runtime chunked, as Lambda sends them.
const CHUNKED_EVENT: usize = 100 * 1024;
const ACCOUNT: &[u8] = b"012345678912";

/// A connection slot and its generation, so a late answer never reaches a
/// new connection that reused the slot.
type Token = (usize, u32);

/// A request head, copied out of the read buffer.
struct Req {
    method: Vec<u8>,
    target: Vec<u8>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    keep_alive: bool,
}

impl Req {
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes())).map(|(_, v)| &v[..])
    }
}

/// A request body being read. Kept bytes collect at the front of the
/// connection's input buffer; bytes past `limit` are read and dropped, so an
/// oversized request is drained before it is refused.
struct Body {
    req: Req,
    framing: Framing,
    /// Bytes of a `Length` body not yet read.
    left: u64,
    dec: Chunked,
    got: usize,
    rd: usize,
    limit: usize,
    dropped: bool,
    /// A streamed function response: relay each piece as it arrives.
    stream: bool,
}

enum Rd {
    Head,
    Body(Box<Body>),
    /// Not reading: an invoke in flight, or a runtime parked on `/next`.
    Wait,
    /// An extension's `event/next`, never answered (it registered for no
    /// events): closed when the runtime sends more, goes or is stopped.
    Hold,
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
}

/// One invocation, from the caller to the runtime and back.
struct Job {
    id: Vec<u8>,
    payload: Vec<u8>,
    /// The waiting caller (RequestResponse); `None` for Event.
    client: Option<Token>,
    keep: bool,
    tail: bool,
    arn: Vec<u8>,
    trace: Vec<u8>,
    client_context: Option<Vec<u8>>,
    start_us: u64,
    deadline_us: u64,
    /// The caller has the head of a streamed response already.
    streamed: bool,
}

enum Outcome {
    /// A response body and its content type (empty for a finished stream).
    Ok(Vec<u8>, Vec<u8>),
    /// An error type and its JSON document.
    Fail(Vec<u8>, Vec<u8>),
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
    /// Init duration, reported with the first invocation after a start.
    init_us: Option<u64>,
    /// The connection parked on `/next`.
    next: Option<usize>,
    job: Option<Job>,
    /// The current invocation's log, for `X-Amz-Log-Result`.
    log: Vec<u8>,
    /// The identifier of its registered extension; empty if none.
    ext: Vec<u8>,
}

struct Server {
    cfg: Config,
    lst: Fd,
    sig: Fd,
    conns: Vec<Option<Conn>>,
    gen: u32,
    rts: Vec<Rt>,
    queue: VecDeque<Job>,
    /// Connections that may hold a further request already read.
    kick: Vec<usize>,
    /// Shutting down: when to stop waiting for the runtimes.
    stopping: Option<u64>,
    /// Shutting down and the runtimes have been sent SIGKILL.
    killed: bool,
}

#[derive(Clone, Copy)]
enum Kind {
    Sig,
    Lst,
    RtLst(usize),
    Pipe(usize),
    Conn(Token),
}

fn fatal(msg: &[&[u8]]) -> ! {
    for m in msg {
        sys::write_all(2, m);
    }
    sys::write_all(2, b"\n");
    sys::exit(1)
}

pub fn run(cfg: Config) -> i32 {
    let sig = sys::signals().unwrap_or_else(|| fatal(&[b"faas-rie: cannot set up signals"]));
    let listen = cfg.listen;
    let (lst, port) = sys::listen(listen.ip(), listen.port).unwrap_or_else(|| fatal(&[b"faas-rie: cannot listen on ", &listen.text(listen.port)]));
    let mut rts = Vec::new();
    for i in 0..cfg.pool {
        let api = cfg.runtime_api;
        let want = if api.port == 0 { 0 } else { api.port.saturating_add(i as u16) };
        let (lst, port) = sys::listen(api.ip(), want).unwrap_or_else(|| fatal(&[b"faas-rie: cannot listen on ", &api.text(want)]));
        rts.push(Rt { lst, port, pid: 0, out: None, state: St::Down, spawn_us: 0, init_us: None, next: None, job: None, log: Vec::new(), ext: Vec::new() });
    }
    let mut banner = Vec::new();
    banner.s(b"faas-rie: Invoke API on http://").s(&listen.text(port)).s(b", Runtime API on ").s(&cfg.runtime_api.text(rts[0].port));
    banner.s(b", function ").s(&cfg.name).s(b", bootstrap ").s(&cfg.argv[0]).s(b"\n");
    sys::write_all(2, &banner);
    let mut s = Server { cfg, lst, sig, conns: Vec::new(), gen: 0, rts, queue: VecDeque::new(), kick: Vec::new(), stopping: None, killed: false };
    sys::subreaper();
    loop {
        s.step();
    }
}

impl Server {
    fn step(&mut self) {
        let mut fds = Vec::new();
        let mut kinds = Vec::new();
        let mut add = |fd: &Fd, ev: i16, k: Kind| {
            fds.push(libc::pollfd { fd: fd.raw(), events: ev, revents: 0 });
            kinds.push(k);
        };
        add(&self.sig, libc::POLLIN, Kind::Sig);
        add(&self.lst, libc::POLLIN, Kind::Lst);
        for (i, rt) in self.rts.iter().enumerate() {
            add(&rt.lst, libc::POLLIN, Kind::RtLst(i));
            if let Some(p) = &rt.out {
                add(p, libc::POLLIN, Kind::Pipe(i));
            }
        }
        for (ci, c) in self.conns.iter().enumerate() {
            let Some(c) = c else { continue };
            let mut ev = if c.out.len() > c.sent { libc::POLLOUT } else { 0 };
            if !matches!(c.rd, Rd::Wait) && !c.close && !self.stream_blocked(c) {
                ev |= libc::POLLIN;
            }
            add(&c.fd, ev, Kind::Conn((ci, c.gen)));
        }
        sys::poll(&mut fds, self.next_timer());
        for (p, k) in fds.iter().zip(kinds) {
            if p.revents == 0 {
                continue;
            }
            match k {
                Kind::Sig => self.signals(),
                Kind::Lst => self.accept(None),
                Kind::RtLst(i) => self.accept(Some(i)),
                Kind::Pipe(i) => self.drain_pipe(i),
                Kind::Conn((ci, gen)) => {
                    if !self.conns.get(ci).is_some_and(|c| c.as_ref().is_some_and(|c| c.gen == gen)) {
                        continue;
                    }
                    if matches!(self.conn_rd(ci), Some(Rd::Hold)) {
                        self.drop_conn(ci);
                        continue;
                    }
                    if p.revents & libc::POLLOUT != 0 {
                        self.flush(ci);
                    }
                    if p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
                        self.service(ci);
                    }
                    if p.revents & (libc::POLLHUP | libc::POLLERR) != 0 && matches!(self.conn_rd(ci), Some(Rd::Wait)) {
                        self.drop_conn(ci); // gone while we were not reading
                    }
                }
            }
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

    fn conn_rd(&self, ci: usize) -> Option<&Rd> {
        self.conns.get(ci)?.as_ref().map(|c| &c.rd)
    }

    /// A streamed response is not read while its caller is far behind.
    fn stream_blocked(&self, c: &Conn) -> bool {
        let Rd::Body(b) = &c.rd else { return false };
        let client = c.rt.and_then(|i| self.rts[i].job.as_ref()).and_then(|j| j.client);
        b.stream && client.and_then(|t| self.client(t)).is_some_and(|cl| cl.out.len() - cl.sent > BACKLOG)
    }

    fn client(&self, (ci, gen): Token) -> Option<&Conn> {
        self.conns.get(ci)?.as_ref().filter(|c| c.gen == gen)
    }

    fn client_mut(&mut self, (ci, gen): Token) -> Option<&mut Conn> {
        self.conns.get_mut(ci)?.as_mut().filter(|c| c.gen == gen)
    }

    /// Milliseconds until the next deadline, or -1 for none.
    fn next_timer(&self) -> i32 {
        let mut next = self.stopping;
        for rt in &self.rts {
            let due = match (&rt.job, rt.state) {
                (Some(j), _) => Some(j.deadline_us),
                (None, St::Init) => Some(rt.spawn_us + self.cfg.timeout_ms * 1000),
                _ => None,
            };
            next = match (next, due) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        next.map_or(-1, |t| (t.saturating_sub(sys::mono_us()).div_ceil(1000)).min(60_000) as i32)
    }

    fn accept(&mut self, rt: Option<usize>) {
        loop {
            let lst = match rt {
                Some(i) => &self.rts[i].lst,
                None => &self.lst,
            };
            let Some(fd) = sys::accept(lst) else { break };
            if self.conns.iter().flatten().count() >= MAX_CONNS {
                // Full: make room by closing the oldest caller still sending
                // (or idle), so slow clients cannot hold every slot; with
                // none, the new connection is closed.
                let idle = |c: &Conn| c.rt.is_none() && matches!(c.rd, Rd::Head | Rd::Body(_));
                let old = self.conns.iter().enumerate().filter_map(|(ci, c)| c.as_ref().filter(|c| idle(c)).map(|c| (c.gen, ci)));
                let Some((_, ci)) = old.min() else { continue };
                self.drop_conn(ci);
            }
            self.gen = self.gen.wrapping_add(1);
            let c = Conn { fd, gen: self.gen, rt, inb: Vec::new(), out: Vec::new(), sent: 0, rd: Rd::Head, eof: false, close: false };
            match self.conns.iter().position(Option::is_none) {
                Some(ci) => self.conns[ci] = Some(c),
                None => self.conns.push(Some(c)),
            }
        }
    }

    fn flush(&mut self, ci: usize) {
        let Some(Some(c)) = self.conns.get_mut(ci) else { return };
        while c.sent < c.out.len() {
            match sys::send(&c.fd, &c.out[c.sent..]) {
                Io::Done(n) => c.sent += n,
                Io::Again => return,
                Io::Closed => return self.drop_conn(ci),
            }
        }
        c.out.clear();
        c.sent = 0;
        if c.close {
            self.drop_conn(ci);
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
        let Some(mut c) = self.conns.get_mut(ci).and_then(Option::take) else { return };
        loop {
            if self.progress(&mut c, ci) {
                continue;
            }
            if c.eof || c.close || matches!(c.rd, Rd::Wait | Rd::Hold) {
                break;
            }
            let have = c.inb.len();
            c.inb.resize(have + 64 * 1024, 0);
            let r = sys::read(&c.fd, &mut c.inb[have..]);
            c.inb.truncate(have + if let Io::Done(n) = r { n } else { 0 });
            match r {
                Io::Done(_) => {}
                Io::Again => break,
                Io::Closed => c.eof = true,
            }
        }
        // A caller that half-closed still gets its answer; anything else that
        // ends mid-request is dropped.
        let keep = !c.eof || (c.rt.is_none() && matches!(c.rd, Rd::Wait)) || c.out.len() > c.sent;
        if c.eof {
            c.close = true;
        }
        self.conns[ci] = Some(c);
        if !keep {
            self.drop_conn(ci);
        }
    }

    /// One step of reading a request. False when more input is needed, or
    /// when the connection waits for us.
    fn progress(&mut self, c: &mut Conn, ci: usize) -> bool {
        match &mut c.rd {
            Rd::Wait | Rd::Hold => false,
            Rd::Head if c.inb.is_empty() => false,
            Rd::Head => {
                let mut hs = [Header::default(); MAX_HEADERS];
                let (req, framing, len) = match http::parse_head(&c.inb, &mut hs) {
                    Ok(Some(h)) if h.len <= HEAD_MAX => {
                        let hs = &hs[..h.headers];
                        let http10 = h.start[2].eq_ignore_ascii_case(b"HTTP/1.0");
                        let conn = http::header(hs, "connection").unwrap_or_default();
                        let keep_alive = if http10 { conn.eq_ignore_ascii_case(b"keep-alive") } else { !conn.eq_ignore_ascii_case(b"close") };
                        let headers = hs.iter().map(|h| (h.name.to_vec(), h.value.to_vec())).collect();
                        let req = Req { method: h.start[0].to_vec(), target: h.start[1].to_vec(), headers, keep_alive };
                        (req, http::framing(hs), h.len)
                    }
                    Ok(None) if c.inb.len() <= HEAD_MAX => return false,
                    _ => return self.bad_request(c),
                };
                c.inb.drain(..len);
                let framing = match framing {
                    Ok(Framing::UntilClose) => Framing::Length(0), // a request without a length has no body
                    Ok(f) => f,
                    Err(_) => return self.bad_request(c),
                };
                if req.header("expect").is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue")) {
                    c.out.s(b"HTTP/1.1 100 Continue\r\n\r\n");
                }
                let event = req.header("x-amz-invocation-type") == Some(&b"Event"[..]);
                let stream = c.rt.is_some() && req.header("lambda-runtime-function-response-mode") == Some(&b"streaming"[..]);
                let limit = match c.rt {
                    None if event => EVENT_LIMIT,
                    None => SYNC_LIMIT,
                    Some(_) => RESPONSE_LIMIT,
                };
                let left = if let Framing::Length(n) = framing { n } else { 0 };
                let mut b = Box::new(Body { req, framing, left, dec: Chunked::default(), got: 0, rd: 0, limit, dropped: false, stream });
                if let (true, Some(i)) = (stream, c.rt) {
                    b.stream = self.stream_begin(i, &b.req);
                    if b.stream {
                        b.limit = usize::MAX;
                    }
                }
                c.rd = Rd::Body(b);
                true
            }
            Rd::Body(b) => {
                let done = match pump(b, &mut c.inb) {
                    Ok(done) => done,
                    Err(()) => return self.bad_request(c),
                };
                if b.stream {
                    if let Some(i) = c.rt {
                        self.relay(i, &c.inb[..b.got]);
                    }
                    let cut = b.dec.trailers.unwrap_or(b.rd);
                    c.inb.drain(..cut);
                    b.rd -= cut;
                    b.got = 0;
                    b.dec.trailers = b.dec.trailers.map(|_| 0);
                }
                if !done {
                    return false;
                }
                let Rd::Body(b) = core::mem::replace(&mut c.rd, Rd::Head) else { return false };
                let body: Vec<u8> = c.inb.drain(..if b.stream { b.rd } else { b.got }).collect();
                match c.rt {
                    Some(i) => self.runtime_request(c, ci, i, *b, body),
                    None => self.invoke_request(c, ci, b.req, body, b.dropped),
                }
                true
            }
        }
    }

    fn bad_request(&mut self, c: &mut Conn) -> bool {
        c.inb.clear();
        let id = text::uuid();
        aws_error(c, false, 400, b"InvalidRequestContentException", &id, b"malformed HTTP request");
        false
    }

    // --- the Invoke API ---

    fn invoke_request(&mut self, c: &mut Conn, ci: usize, req: Req, payload: Vec<u8>, dropped: bool) {
        let id = text::uuid();
        let keep = req.keep_alive && !c.eof;
        let Some((given, qualifier)) = text::invoke_target(&req.target).filter(|_| req.method == b"POST") else {
            let msg = [&b"unknown operation: "[..], &req.method, b" ", &req.target].concat();
            return aws_error(c, keep, 404, b"UnknownOperationException", &id, &msg);
        };
        let Some(in_name) = text::match_name(&given, &self.cfg.name) else {
            let msg = [&b"Function not found: "[..], &self.arn(&given, None)].concat();
            return aws_error(c, keep, 404, b"ResourceNotFoundException", &id, &msg);
        };
        let kind = req.header("x-amz-invocation-type").unwrap_or(b"RequestResponse");
        if dropped {
            let limit = if kind == b"Event" { EVENT_LIMIT } else { SYNC_LIMIT };
            let msg = Vec::new().s(b"Request must be smaller than ").dec(limit as u64).s(b" bytes for the Invoke operation").to_vec();
            return aws_error(c, keep, 413, b"RequestTooLargeException", &id, &msg);
        }
        if !matches!(kind, b"RequestResponse" | b"Event" | b"DryRun") {
            return aws_error(c, keep, 400, b"InvalidParameterValueException", &id, b"X-Amz-Invocation-Type must be RequestResponse, Event or DryRun");
        }
        // Client context: base64 JSON in, JSON to the runtime (newlines,
        // which JSON allows between tokens, would break the header).
        let client_context = match req.header("x-amz-client-context") {
            None => None,
            Some(b64) => match text::unbase64(b64).filter(|j| j.first() == Some(&b'{')) {
                Some(mut json) => {
                    json.iter_mut().filter(|b| b.is_ascii_control()).for_each(|b| *b = b' ');
                    Some(json)
                }
                None => return aws_error(c, keep, 400, b"InvalidRequestContentException", &id, b"Client context must be a valid Base64-encoded JSON object."),
            },
        };
        if kind == b"DryRun" {
            return respond(c, keep, 204, &[(b"x-amzn-RequestId", &id)], b"");
        }
        if self.queue.len() >= self.cfg.queue {
            return aws_error(c, keep, 429, b"TooManyRequestsException", &id, b"Rate Exceeded.");
        }
        let qualifier = in_name.map(<[u8]>::to_vec).or(qualifier);
        let trace = req.header("x-amzn-trace-id").filter(|t| http::is_header_safe(t) && !t.is_empty()).map_or_else(text::trace_id, <[u8]>::to_vec);
        let event = kind == b"Event";
        let client = (!event).then(|| (ci, c.gen));
        let tail = !event && req.header("x-amz-log-type") == Some(&b"Tail"[..]);
        let arn = self.arn(&self.cfg.name.clone(), qualifier.as_deref());
        let job = Job { id: id.clone(), payload, client, keep, tail, arn, trace, client_context, start_us: 0, deadline_us: 0, streamed: false };
        self.queue.push_back(job);
        if event {
            respond(c, keep, 202, &[(b"x-amzn-RequestId", &id)], b"");
        } else {
            c.rd = Rd::Wait;
        }
    }

    fn arn(&self, name: &[u8], qualifier: Option<&[u8]>) -> Vec<u8> {
        let mut v = Vec::new();
        v.s(b"arn:aws:lambda:").s(&self.cfg.region).s(b":").s(ACCOUNT).s(b":function:").s(name);
        if let Some(q) = qualifier {
            v.s(b":").s(q);
        }
        v
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
            if self.queue.is_empty() || rt.state != St::Ready || rt.job.is_some() {
                continue;
            }
            let Some(ci) = rt.next.filter(|&ci| matches!(self.conns.get(ci), Some(Some(_)))) else { continue };
            if let Some(job) = self.queue.pop_front() {
                self.send_next(i, ci, job);
            }
        }
        let soon = self.rts.iter().filter(|r| r.state == St::Init || (r.state == St::Ready && r.job.is_none())).count();
        let mut need = self.queue.len().saturating_sub(soon);
        for i in 0..self.rts.len() {
            if need > 0 && self.rts[i].state == St::Down {
                self.spawn(i);
                need -= 1;
            }
        }
    }

    fn send_next(&mut self, i: usize, ci: usize, mut job: Job) {
        let now = sys::mono_us();
        job.start_us = now;
        job.deadline_us = now + self.cfg.timeout_ms * 1000;
        let mut h = Vec::new();
        h.s(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: ").s(&job.id);
        h.s(b"\r\nLambda-Runtime-Deadline-Ms: ").dec(sys::real_ms() + self.cfg.timeout_ms);
        h.s(b"\r\nLambda-Runtime-Invoked-Function-Arn: ").s(&job.arn).s(b"\r\nLambda-Runtime-Trace-Id: ").s(&job.trace);
        if let Some(cc) = &job.client_context {
            h.s(b"\r\nLambda-Runtime-Client-Context: ").s(cc);
        }
        let p = &job.payload;
        if p.len() >= CHUNKED_EVENT {
            let mut size = [0u8; 16];
            let mut w = http::Writer::new(&mut size);
            w.put_hex(p.len() as u64);
            h.s(b"\r\nTransfer-Encoding: chunked\r\n\r\n").s(w.finish().unwrap_or(b"0")).s(b"\r\n").s(p).s(b"\r\n0\r\n\r\n");
        } else {
            h.s(b"\r\nContent-Length: ").dec(p.len() as u64).s(b"\r\n\r\n").s(p);
        }
        let start = [&b"START RequestId: "[..], &job.id, b" Version: $LATEST\n"].concat();
        self.emit(i, &start);
        if let Some(Some(c)) = self.conns.get_mut(ci) {
            c.out.s(&h);
            c.rd = Rd::Head;
            self.kick.push(ci);
        }
        job.payload = Vec::new();
        self.rts[i].next = None;
        self.rts[i].job = Some(job);
    }

    fn spawn(&mut self, i: usize) {
        let Some((r, w)) = sys::pipe() else { return self.init_failed(i, b"Runtime.Unknown", b"cannot create a pipe") };
        let mut env = self.cfg.env.clone();
        env.push([&b"AWS_LAMBDA_RUNTIME_API="[..], &self.cfg.runtime_api.text(self.rts[i].port)].concat());
        let pid = sys::spawn(&sys::CArgs::new(&self.cfg.argv), &sys::CArgs::new(&env), &w);
        drop(w);
        let rt = &mut self.rts[i];
        rt.out = Some(r);
        rt.spawn_us = sys::mono_us();
        rt.state = St::Init;
        rt.log.clear();
        match pid {
            Some(pid) => rt.pid = pid,
            None => self.init_failed(i, b"Runtime.Unknown", b"cannot start the bootstrap"),
        }
    }

    fn runtime_request(&mut self, c: &mut Conn, ci: usize, i: usize, b: Body, body: Vec<u8>) {
        let req = &b.req;
        let keep = req.keep_alive && !c.eof;
        let path = req.target.split(|&x| x == b'?').next().unwrap_or_default();
        let post = req.method == b"POST";
        let etype = || req.header("lambda-runtime-function-error-type").filter(|t| http::is_header_safe(t) && !t.is_empty()).unwrap_or(b"Runtime.Unknown").to_vec();
        if req.method == b"GET" && path == b"/2018-06-01/runtime/invocation/next" {
            if self.rts[i].job.is_some() {
                // Asking for the next event without answering this one.
                let doc = error_doc(b"Runtime.NoResponse", b"the runtime asked for the next event without answering this one");
                self.finish(i, Outcome::Fail(b"Runtime.NoResponse".to_vec(), doc));
            }
            let rt = &mut self.rts[i];
            if rt.state == St::Init {
                rt.init_us = Some(sys::mono_us() - rt.spawn_us);
                rt.state = St::Ready;
            }
            if rt.state == St::Ready {
                rt.next = Some(ci);
                c.rd = Rd::Wait;
            } else {
                rt_reply(c, false, 500, b"Runtime.ExitError", b"this runtime has been stopped");
            }
        } else if post && path == b"/2018-06-01/runtime/init/error" {
            if self.rts[i].state != St::Init {
                return rt_reply(c, keep, 403, b"InvalidStateTransition", b"not in the init phase");
            }
            rt_reply(c, keep, 202, b"", b"");
            let t = etype();
            let doc = if body.is_empty() { error_doc(&t, b"init failed") } else { body };
            self.init_failed(i, &t, &doc);
        } else if let Some((id, what)) = path.strip_prefix(b"/2018-06-01/runtime/invocation/").and_then(|p| {
            let slash = p.iter().rposition(|&x| x == b'/')?;
            Some((&p[..slash], &p[slash + 1..]))
        }) {
            let current = self.rts[i].job.as_ref().is_some_and(|j| j.id == id);
            if !post || !(what == b"response" || what == b"error") {
                return rt_reply(c, keep, 404, b"NotFound", b"no such Runtime API path");
            }
            if !current {
                return rt_reply(c, keep, 400, b"InvalidRequestID", b"no invocation with this id is in progress");
            }
            if b.stream {
                return self.stream_end(c, i, &body);
            }
            if b.dropped {
                rt_reply(c, keep, 413, b"RequestEntityTooLarge", b"Exceeded maximum allowed payload size (6291556 bytes).");
                let t = b"Function.ResponseSizeTooLarge";
                let doc = error_doc(t, b"Response payload size exceeded maximum allowed payload size (6291556 bytes).");
                return self.finish(i, Outcome::Fail(t.to_vec(), doc));
            }
            rt_reply(c, keep, 202, b"", b"");
            if what == b"response" {
                let ctype = req.header("content-type").filter(|t| http::is_header_safe(t)).unwrap_or(b"application/json").to_vec();
                self.finish(i, Outcome::Ok(body, ctype));
            } else {
                let t = etype();
                let doc = if body.is_empty() { error_doc(&t, b"") } else { body };
                self.finish(i, Outcome::Fail(t, doc));
            }
        } else if post && path == b"/2020-01-01/extension/register" {
            // A runtime registers a no-op internal extension to be sent
            // SIGTERM; as on Lambda, only during init.
            let rt = &mut self.rts[i];
            if rt.state != St::Init {
                return rt_reply(c, keep, 403, b"Extension.InvalidState", b"extensions register during init");
            }
            if rt.ext.is_empty() {
                rt.ext = text::uuid();
            }
            let mut v = Vec::new();
            v.s(br#"{"functionName":""#).json(&self.cfg.name).s(br#"","functionVersion":"$LATEST","handler":""}"#);
            respond(c, keep, 200, &[(b"Lambda-Extension-Identifier", &rt.ext), (b"Content-Type", b"application/json")], &v);
        } else if req.method == b"GET" && path == b"/2020-01-01/extension/event/next" {
            // Registered for no events: held open, never answered.
            let held = self.conns.iter().flatten().filter(|h| h.rt == Some(i) && matches!(h.rd, Rd::Hold)).count();
            let ext = &self.rts[i].ext;
            if ext.is_empty() || req.header("lambda-extension-identifier") != Some(&ext[..]) {
                rt_reply(c, keep, 403, b"Extension.InvalidExtensionIdentifier", b"not a registered extension");
            } else if held >= MAX_HOLD {
                rt_reply(c, false, 429, b"Extension.TooManyRequests", b"too many event/next requests held");
            } else {
                c.rd = Rd::Hold;
            }
        } else {
            rt_reply(c, keep, 404, b"NotFound", b"no such Runtime API path");
        }
    }

    /// A streamed response begins: send the caller its head. False if the
    /// stream is not for the invocation in progress.
    fn stream_begin(&mut self, i: usize, req: &Req) -> bool {
        let path = &req.target;
        let Some(job) = self.rts[i].job.as_mut() else { return false };
        let want = [&b"/2018-06-01/runtime/invocation/"[..], &job.id, b"/response"].concat();
        if *path != want || job.streamed {
            return false;
        }
        job.streamed = true;
        let ctype = req.header("content-type").filter(|t| http::is_header_safe(t)).unwrap_or(b"application/octet-stream").to_vec();
        let (id, client) = (job.id.clone(), job.client);
        if let Some(c) = client.and_then(|t| self.client_mut(t)) {
            c.out.s(b"HTTP/1.1 200 OK\r\nContent-Type: ").s(&ctype).s(b"\r\nX-Amz-Executed-Version: $LATEST\r\nx-amzn-RequestId: ").s(&id);
            c.out.s(b"\r\nTransfer-Encoding: chunked\r\nTrailer: X-Amz-Function-Error, X-Amz-Log-Result\r\n\r\n");
        }
        true
    }

    /// Passes a piece of a streamed response on to the caller as one chunk.
    fn relay(&mut self, i: usize, data: &[u8]) {
        let client = self.rts[i].job.as_ref().and_then(|j| j.client);
        if let (false, Some(c)) = (data.is_empty(), client.and_then(|t| self.client_mut(t))) {
            let mut size = [0u8; 16];
            let mut w = http::Writer::new(&mut size);
            w.put_hex(data.len() as u64);
            c.out.s(w.finish().unwrap_or(b"0")).s(b"\r\n").s(data).s(b"\r\n");
        }
    }

    /// The stream ended; `trailers` are its raw trailer lines.
    fn stream_end(&mut self, c: &mut Conn, i: usize, trailers: &[u8]) {
        rt_reply(c, false, 202, b"", b"");
        let raw = [&b"T T T\r\n"[..], trailers].concat();
        let mut hs = [Header::default(); 16];
        let hs = match http::parse_head(&raw, &mut hs) {
            Ok(Some(h)) => &hs[..h.headers],
            _ => &[][..],
        };
        let outcome = match http::header(hs, "lambda-runtime-function-error-type") {
            Some(t) => {
                let body = http::header(hs, "lambda-runtime-function-error-body").and_then(text::unbase64);
                Outcome::Fail(t.to_vec(), body.unwrap_or_else(|| error_doc(t, b"the function failed while streaming")))
            }
            None => Outcome::Ok(Vec::new(), Vec::new()),
        };
        self.finish(i, outcome);
    }

    /// Ends the current invocation of runtime `i`: END and REPORT lines,
    /// then the answer to the caller, if there is one.
    fn finish(&mut self, i: usize, outcome: Outcome) {
        if self.rts[i].job.is_none() {
            return;
        }
        self.drain_pipe(i); // the function's last lines belong to this invocation
        let Some(job) = self.rts[i].job.take() else { return };
        let us = sys::mono_us().saturating_sub(job.start_us);
        let rt = &self.rts[i];
        let mut l = Vec::new();
        l.s(b"END RequestId: ").s(&job.id).s(b"\nREPORT RequestId: ").s(&job.id).s(b"\tDuration: ").fixed2(us / 10);
        l.s(b" ms\tBilled Duration: ").dec(us.div_ceil(1000).max(1)).s(b" ms\tMemory Size: ").dec(self.cfg.memory_mb);
        l.s(b" MB\tMax Memory Used: ").dec(peak_mb(rt.pid)).s(b" MB\t");
        if let Some(init) = rt.init_us {
            l.s(b"Init Duration: ").fixed2(init / 10).s(b" ms\t");
        }
        l.s(b"\n");
        self.emit(i, &l);
        let rt = &mut self.rts[i];
        rt.init_us = None;
        let tail = job.tail.then(|| text::base64(&rt.log[rt.log.len().saturating_sub(TAIL)..]));
        rt.log.clear();
        let Some((ci, gen)) = job.client else { return };
        let Some(c) = self.client_mut((ci, gen)) else { return };
        if job.streamed {
            c.out.s(b"0\r\n");
            if let Outcome::Fail(t, doc) = &outcome {
                c.out.s(b"X-Amz-Function-Error: Unhandled\r\nLambda-Runtime-Function-Error-Type: ").s(t);
                c.out.s(b"\r\nLambda-Runtime-Function-Error-Body: ").s(&text::base64(doc)).s(b"\r\n");
            }
            if let Some(tail) = &tail {
                c.out.s(b"X-Amz-Log-Result: ").s(tail).s(b"\r\n");
            }
            c.out.s(b"\r\n");
            if job.keep {
                c.rd = Rd::Head;
            } else {
                c.close = true;
            }
        } else {
            let (body, ctype, failed) = match &outcome {
                Outcome::Ok(b, t) => (b, &t[..], false),
                Outcome::Fail(_, doc) => (doc, &b"application/json"[..], true),
            };
            let mut hs: Vec<(&[u8], &[u8])> = vec![(b"Content-Type", ctype), (b"X-Amz-Executed-Version", b"$LATEST"), (b"x-amzn-RequestId", &job.id)];
            if failed {
                hs.push((b"X-Amz-Function-Error", b"Unhandled"));
            }
            if let Some(tail) = &tail {
                hs.push((b"X-Amz-Log-Result", tail));
            }
            respond(c, job.keep, 200, &hs, body);
            if job.keep {
                c.rd = Rd::Head;
            }
        }
        self.kick.push(ci);
    }

    /// Init failed (an `/init/error`, an exit or a timeout before the first
    /// `/next`): the invoke that triggered it gets the error.
    fn init_failed(&mut self, i: usize, etype: &[u8], doc: &[u8]) {
        self.drain_pipe(i);
        if let Some(mut job) = self.queue.pop_front() {
            job.start_us = self.rts[i].spawn_us;
            self.emit(i, &[&b"START RequestId: "[..], &job.id, b" Version: $LATEST\n"].concat());
            self.rts[i].job = Some(job);
            self.finish(i, Outcome::Fail(etype.to_vec(), doc.to_vec()));
        }
        self.retire(i);
    }

    /// Stops runtime `i` for good; the next job starts a fresh one.
    fn retire(&mut self, i: usize) {
        self.drain_pipe(i);
        let rt = &mut self.rts[i];
        if rt.pid > 0 {
            sys::kill_group(rt.pid, libc::SIGKILL);
        }
        rt.pid = 0;
        rt.out = None;
        rt.state = St::Down;
        rt.next = None;
        rt.init_us = None;
        rt.ext.clear();
        for c in &mut self.conns {
            if c.as_ref().is_some_and(|c| c.rt == Some(i)) {
                *c = None;
            }
        }
    }

    fn timers(&mut self) {
        let now = sys::mono_us();
        let t = self.cfg.timeout_ms;
        for i in 0..self.rts.len() {
            let rt = &self.rts[i];
            let secs = Vec::new().fixed2(t / 10).to_vec();
            if let Some(id) = rt.job.as_ref().filter(|j| now >= j.deadline_us).map(|j| j.id.clone()) {
                let msg = [&b"RequestId: "[..], &id, b" Error: Task timed out after ", &secs, b" seconds"].concat();
                self.emit(i, &[&msg[..], b"\n"].concat());
                self.finish(i, Outcome::Fail(b"Sandbox.Timedout".to_vec(), error_doc(b"Sandbox.Timedout", &msg)));
                self.retire(i);
            } else if rt.job.is_none() && rt.state == St::Init && now >= rt.spawn_us + t * 1000 {
                let msg = [&b"Init timed out after "[..], &secs, b" seconds"].concat();
                self.init_failed(i, b"Sandbox.Timedout", &error_doc(b"Sandbox.Timedout", &msg));
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
                    sys::kill_group(rt.pid, libc::SIGKILL);
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
                for rt in self.rts.iter().filter(|r| r.pid > 0 && !r.ext.is_empty()) {
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
                sys::kill_group(pid, libc::SIGKILL);
            }
            let status = sys::reap(pid);
            let Some(i) = rt else { continue };
            self.drain_pipe(i);
            let mut why = Vec::new();
            why.s(b"Runtime exited with error: ");
            if libc::WIFSIGNALED(status) {
                let sig = libc::WTERMSIG(status);
                let name: &[u8] = match sig {
                    libc::SIGKILL => b" (killed)",
                    libc::SIGABRT => b" (aborted)",
                    libc::SIGSEGV => b" (segmentation fault)",
                    libc::SIGTERM => b" (terminated)",
                    _ => b"",
                };
                why.s(b"signal: ").dec(sig as u64).s(name);
            } else {
                why.s(b"exit status ").dec(libc::WEXITSTATUS(status) as u64);
            }
            self.rts[i].pid = 0;
            let t = b"Runtime.ExitError";
            if let Some(id) = self.rts[i].job.as_ref().map(|j| j.id.clone()) {
                let msg = [&b"RequestId: "[..], &id, b" Error: ", &why].concat();
                self.emit(i, &[&msg[..], b"\n"].concat());
                self.finish(i, Outcome::Fail(t.to_vec(), error_doc(t, &msg)));
            } else if self.rts[i].state == St::Init {
                self.emit(i, &[&why[..], b"\n"].concat());
                self.init_failed(i, t, &error_doc(t, &why));
            } else if self.stopping.is_none() {
                sys::write_all(2, &[&b"faas-rie: "[..], &why, b"; the next invoke starts a new runtime\n"].concat());
            }
            self.retire(i);
        }
    }

    /// Forwards what the runtime wrote to our stdout and to its log.
    fn drain_pipe(&mut self, i: usize) {
        let mut buf = [0u8; 16 * 1024];
        // Bounded, so a runtime that never stops writing cannot starve the
        // loop (a pipe holds 64 KiB: this empties it).
        for _ in 0..64 {
            let Some(p) = &self.rts[i].out else { return };
            match sys::read(p, &mut buf) {
                Io::Done(n) => self.emit(i, &buf[..n]),
                Io::Again => return,
                Io::Closed => {
                    self.rts[i].out = None;
                    return;
                }
            }
        }
    }

    /// A line of runtime `i`'s log: to stdout, and kept for Tail.
    fn emit(&mut self, i: usize, line: &[u8]) {
        sys::write_all(1, line);
        let log = &mut self.rts[i].log;
        log.extend_from_slice(line);
        if log.len() > 4 * TAIL {
            log.drain(..log.len() - TAIL);
        }
    }
}

/// Reads what is buffered of a body; `Ok(true)` once it is complete.
fn pump(b: &mut Body, inb: &mut Vec<u8>) -> Result<bool, ()> {
    match b.framing {
        Framing::Chunked => {
            let end = inb.len();
            let done = b.dec.decode(inb, &mut b.got, &mut b.rd, end, b.limit).map_err(|_| ())?;
            b.dropped = b.dec.overflow > 0;
            if !b.stream {
                inb.drain(b.got..b.rd); // consumed framing
                b.rd = b.got;
            }
            Ok(done)
        }
        _ => {
            let take = (inb.len() - b.got).min(usize::try_from(b.left).unwrap_or(usize::MAX));
            let keep = take.min(b.limit.saturating_sub(b.got));
            inb.drain(b.got + keep..b.got + take);
            b.dropped |= keep < take;
            b.got += keep;
            b.left -= take as u64;
            Ok(b.left == 0)
        }
    }
}

/// Peak resident memory of `pid` in MB (VmHWM), 0 if unknown.
fn peak_mb(pid: i32) -> u64 {
    let path = Vec::new().s(b"/proc/").dec(pid.max(0) as u64).s(b"/status").to_vec();
    let Some(status) = sys::read_file(&path, 4096) else { return 0 };
    let kb = status.split(|&b| b == b'\n').find_map(|l| l.strip_prefix(b"VmHWM:"));
    let kb = kb.map(|v| v.iter().copied().filter(u8::is_ascii_digit).collect::<Vec<u8>>());
    kb.and_then(|d| http::parse_dec(&d)).map_or(0, |kb| kb.div_ceil(1024))
}

fn error_doc(etype: &[u8], message: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    faas::json::error_document(etype, message, &mut |b: &[u8]| v.extend_from_slice(b));
    v
}

fn reason(status: u16) -> &'static [u8] {
    match status {
        100 => b"Continue",
        200 => b"OK",
        202 => b"Accepted",
        204 => b"No Content",
        400 => b"Bad Request",
        403 => b"Forbidden",
        404 => b"Not Found",
        413 => b"Request Entity Too Large",
        429 => b"Too Many Requests",
        _ => b"Internal Server Error",
    }
}

/// Writes a whole response; without `keep`, the connection closes after it.
fn respond(c: &mut Conn, keep: bool, status: u16, headers: &[(&[u8], &[u8])], body: &[u8]) {
    c.out.s(b"HTTP/1.1 ").dec(u64::from(status)).s(b" ").s(reason(status));
    for (n, v) in headers {
        c.out.s(b"\r\n").s(n).s(b": ").s(v);
    }
    if status != 204 {
        c.out.s(b"\r\nContent-Length: ").dec(body.len() as u64);
    }
    if !keep {
        c.out.s(b"\r\nConnection: close");
        c.close = true;
        c.rd = Rd::Wait;
    }
    c.out.s(b"\r\n\r\n").s(body);
}

/// An Invoke API service error in the AWS shape.
fn aws_error(c: &mut Conn, keep: bool, status: u16, etype: &[u8], id: &[u8], message: &[u8]) {
    let mut body = Vec::new();
    body.s(br#"{"Type":"User","message":""#).json(message).s(br#""}"#);
    respond(c, keep, status, &[(b"Content-Type", b"application/json"), (b"x-amzn-ErrorType", etype), (b"x-amzn-RequestId", id)], &body);
}

/// A Runtime API reply: `{"status":"OK"}` for 2xx, else an error document.
fn rt_reply(c: &mut Conn, keep: bool, status: u16, etype: &[u8], message: &[u8]) {
    let body = if status < 300 { br#"{"status":"OK"}"#.to_vec() } else { error_doc(etype, message) };
    respond(c, keep, status, &[(b"Content-Type", b"application/json")], &body);
}
