//! The driver's side of every measurement: a Runtime API server on loopback
//! (one listener per contender process) and the floor's raw ping-pong. One
//! thread, blocking sockets and `poll(2)`, so the driver adds the same, small
//! cost to every contender. HTTP parsing is `faas::http`'s.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faas::http::{self, Framing, Header};

/// How long a contender may take to reach its first `/next`, or to answer.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

pub type Res<T> = Result<T, String>;

/// How a contender talks to the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// The Lambda Runtime API over HTTP/1.1.
    RuntimeApi,
    /// The floor: raw bytes echoed back, no HTTP.
    Floor,
}

struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
}

/// One request read from a contender.
struct Req {
    method: String,
    path: String,
    body: Vec<u8>,
}

impl Conn {
    /// A complete request at the front of the buffer, if there is one.
    fn take(&mut self) -> Res<Option<Req>> {
        let mut hs = [Header::default(); 32];
        let head = match http::parse_head(&self.buf, &mut hs) {
            Ok(Some(h)) => h,
            Ok(None) => return Ok(None),
            Err(e) => return Err(format!("bad request head from contender: {}", e.as_str())),
        };
        let method = String::from_utf8_lossy(head.start[0]).into_owned();
        let path = String::from_utf8_lossy(head.start[1]).into_owned();
        let rest = &self.buf[head.len..];
        let (body, used) = match http::framing(&hs[..head.headers]).map_err(|e| e.as_str().to_string())? {
            Framing::Length(n) => {
                let n = n as usize;
                if rest.len() < n {
                    return Ok(None);
                }
                (rest[..n].to_vec(), n)
            }
            Framing::UntilClose => (Vec::new(), 0),
            Framing::Chunked => {
                let mut tmp = rest.to_vec();
                let (mut out, mut rd) = (0, 0);
                let end = tmp.len();
                let mut dec = http::Chunked::default();
                if !dec.decode(&mut tmp, &mut out, &mut rd, end, usize::MAX).map_err(|e| e.as_str().to_string())? {
                    return Ok(None);
                }
                tmp.truncate(out);
                (tmp, rd)
            }
        };
        let total = head.len + used;
        self.buf.drain(..total);
        Ok(Some(Req { method, path, body }))
    }
}

/// The event every contender gets: a small API-Gateway-like JSON document,
/// compact and with sorted keys, so a runtime that re-serialises it (serde_json
/// without preserve_order) still returns the same bytes.
pub const EVENT: &[u8] = br#"{"body":"hello from faas-bench","headers":{"accept":"application/json","host":"bench.local"},"httpMethod":"POST","isBase64Encoded":false,"path":"/echo","queryStringParameters":{"n":"1"},"requestContext":{"accountId":"000000000000","stage":"bench"}}"#;

/// One running contender process and its end of the conversation.
pub struct Instance {
    pub proto: Proto,
    pub child: Child,
    pub pid: u32,
    listener: TcpListener,
    conns: Vec<Option<Conn>>,
    /// The connection holding the parked `GET /next`.
    pending: Option<usize>,
    seq: u64,
    reaped: bool,
    pub spawned: Instant,
    /// When the last invocation's answer was read (its `/response`, or the
    /// floor's echo), before the 202 and the next `/next`.
    pub answered: Instant,
}

pub fn env_for(addr: &str, name: &str) -> Vec<(String, String)> {
    [
        ("AWS_LAMBDA_RUNTIME_API", addr),
        ("AWS_LAMBDA_FUNCTION_NAME", name),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench"),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("_HANDLER", "bootstrap"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

impl Instance {
    /// Binds a loopback port. `cmd(addr)` gives the command to start; it is
    /// started with a clean environment (PATH kept) plus the Lambda variables.
    pub fn spawn(proto: Proto, name: &str, log: &Path, cmd: impl FnOnce(&str) -> Command) -> Res<Instance> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?.to_string();
        let mut c = cmd(&addr);
        c.env_clear();
        if let Ok(p) = std::env::var("PATH") {
            c.env("PATH", p);
        }
        c.envs(env_for(&addr, name));
        let err = std::fs::OpenOptions::new().create(true).append(true).open(log).map_err(|e| format!("{}: {e}", log.display()))?;
        c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::from(err));
        let spawned = Instant::now();
        let child = c.spawn().map_err(|e| format!("spawn: {e}"))?;
        let pid = child.id();
        Ok(Instance { proto, child, pid, listener, conns: Vec::new(), pending: None, seq: 0, reaped: false, spawned, answered: spawned })
    }

    /// Waits for the contender's first `GET /next` (or the floor's hello).
    pub fn ready(&mut self) -> Res<Instant> {
        let deadline = Instant::now() + READY_TIMEOUT;
        match self.proto {
            Proto::RuntimeApi => {
                let (i, r) = self.request(deadline)?;
                self.expect_next(i, r)?;
            }
            Proto::Floor => {
                let i = self.wait_conn(deadline)?;
                let mut b = [0u8; 1];
                let c = self.conns[i].as_mut().unwrap();
                c.s.set_read_timeout(Some(READY_TIMEOUT)).ok();
                c.s.read_exact(&mut b).map_err(|e| format!("floor hello: {e}"))?;
                self.pending = Some(i);
            }
        }
        Ok(Instant::now())
    }

    fn expect_next(&mut self, i: usize, r: Req) -> Res<()> {
        if r.method == "GET" && r.path.ends_with("/2018-06-01/runtime/invocation/next") {
            self.pending = Some(i);
            Ok(())
        } else {
            Err(format!("expected GET /next, got {} {} {}", r.method, r.path, String::from_utf8_lossy(&r.body)))
        }
    }

    /// One invocation with `event`: returns the round trip (event written to
    /// response read) after checking the response echoes the event. For the
    /// Runtime API it then answers 202 and waits for the next `GET /next`, so
    /// the contender is idle again when this returns.
    pub fn invoke(&mut self, event: &[u8]) -> Res<Duration> {
        let i = self.pending.take().ok_or("no parked /next")?;
        self.seq += 1;
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        match self.proto {
            Proto::Floor => {
                let c = self.conns[i].as_mut().unwrap();
                let t0 = Instant::now();
                c.s.write_all(event).map_err(|e| format!("floor write: {e}"))?;
                let mut got = vec![0u8; event.len()];
                c.s.read_exact(&mut got).map_err(|e| format!("floor read: {e}"))?;
                let rtt = t0.elapsed();
                self.answered = Instant::now();
                check_echo(event, &got)?;
                self.pending = Some(i);
                Ok(rtt)
            }
            Proto::RuntimeApi => {
                let id = format!("bench-{:08}-{:x}", self.seq, self.pid);
                let deadline_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64 + 300_000).unwrap_or(0);
                let mut msg = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {id}\r\n\
                     Lambda-Runtime-Deadline-Ms: {deadline_ms}\r\n\
                     Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:bench\r\n\
                     Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000;Sampled=0\r\n\
                     Content-Length: {}\r\n\r\n",
                    event.len()
                )
                .into_bytes();
                msg.extend_from_slice(event);
                let t0 = Instant::now();
                self.conns[i].as_mut().ok_or("parked connection closed")?.s.write_all(&msg).map_err(|e| format!("write event: {e}"))?;
                let (j, r) = self.request(deadline)?;
                let rtt = t0.elapsed();
                self.answered = Instant::now();
                let want = format!("/2018-06-01/runtime/invocation/{id}/response");
                if r.method != "POST" || !r.path.ends_with(&want) {
                    return Err(format!("expected POST {want}, got {} {}: {}", r.method, r.path, String::from_utf8_lossy(&r.body)));
                }
                check_echo(event, &r.body)?;
                let c = self.conns[j].as_mut().ok_or("connection closed")?;
                c.s.write_all(b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}")
                    .map_err(|e| format!("write 202: {e}"))?;
                let (k, r) = self.request(deadline)?;
                self.expect_next(k, r)?;
                Ok(rtt)
            }
        }
    }

    fn wait_conn(&mut self, deadline: Instant) -> Res<usize> {
        loop {
            if let Some(i) = self.conns.iter().position(Option::is_some) {
                return Ok(i);
            }
            self.poll_once(deadline)?;
        }
    }

    /// The next complete request on any connection.
    fn request(&mut self, deadline: Instant) -> Res<(usize, Req)> {
        loop {
            for (i, c) in self.conns.iter_mut().enumerate() {
                if let Some(c) = c {
                    if let Some(r) = c.take()? {
                        return Ok((i, r));
                    }
                }
            }
            self.poll_once(deadline)?;
        }
    }

    /// One `poll(2)` over the listener and every connection; accepts, reads,
    /// and notices a dead contender or a passed deadline.
    fn poll_once(&mut self, deadline: Instant) -> Res<()> {
        let mut fds = vec![libc::pollfd { fd: self.listener.as_raw_fd(), events: libc::POLLIN, revents: 0 }];
        let mut idx = Vec::new();
        for (i, c) in self.conns.iter().enumerate() {
            if let Some(c) = c {
                fds.push(libc::pollfd { fd: c.s.as_raw_fd(), events: libc::POLLIN, revents: 0 });
                idx.push(i);
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(format!("timed out waiting for the contender ({})", self.status()));
        }
        let ms = (deadline - now).as_millis().min(50) as i32;
        // SAFETY: `fds` is a valid, initialised array of `fds.len()` pollfd.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms.max(1)) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            return if e.kind() == std::io::ErrorKind::Interrupted { Ok(()) } else { Err(format!("poll: {e}")) };
        }
        if n == 0 {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.reaped = true;
                return Err(format!("contender exited ({st})"));
            }
            return Ok(());
        }
        if fds[0].revents != 0 {
            let (s, _) = self.listener.accept().map_err(|e| format!("accept: {e}"))?;
            s.set_nodelay(true).ok();
            s.set_read_timeout(Some(ANSWER_TIMEOUT)).ok();
            s.set_write_timeout(Some(ANSWER_TIMEOUT)).ok();
            self.conns.push(Some(Conn { s, buf: Vec::with_capacity(4096) }));
        }
        let mut chunk = [0u8; 16384];
        for (f, &i) in fds[1..].iter().zip(&idx) {
            if f.revents == 0 {
                continue;
            }
            let c = self.conns[i].as_mut().unwrap();
            match c.s.read(&mut chunk) {
                Ok(0) | Err(_) => {
                    self.conns[i] = None;
                    if self.pending == Some(i) {
                        self.pending = None;
                    }
                }
                Ok(k) => c.buf.extend_from_slice(&chunk[..k]),
            }
        }
        Ok(())
    }

    fn status(&mut self) -> String {
        match self.child.try_wait() {
            Ok(Some(st)) => {
                self.reaped = true;
                format!("exited: {st}")
            }
            _ => "still running".into(),
        }
    }

    /// Stops the contender (SIGKILL) and reaps it.
    pub fn stop(mut self) {
        self.kill();
    }

    /// Ends the process with SIGTERM, which lets a tool it runs under (such
    /// as valgrind) write its totals, and waits for it (SIGKILL after `limit`).
    pub fn terminate(mut self, limit: Duration) -> Res<()> {
        // SAFETY: a plain kill(2) of our own child, not yet reaped.
        unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                self.reaped = true;
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Err(format!("still running {limit:?} after SIGTERM"))
    }

    fn kill(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.reaped = true;
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The response must be the event: the same bytes, or failing that the same
/// JSON value (a runtime may re-serialise it).
pub fn check_echo(event: &[u8], got: &[u8]) -> Res<()> {
    if event == got {
        return Ok(());
    }
    let a: Result<serde_json::Value, _> = serde_json::from_slice(event);
    let b: Result<serde_json::Value, _> = serde_json::from_slice(got);
    match (a, b) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        _ => Err(format!("echo check failed: sent {} bytes, got {:?}", event.len(), String::from_utf8_lossy(&got[..got.len().min(200)]))),
    }
}

/// A client for the Invoke API (faas-rie): one POST, the status and body.
pub fn invoke_api(port: u16, event: &[u8], timeout: Duration) -> Res<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(timeout)).ok();
    s.set_write_timeout(Some(timeout)).ok();
    s.set_nodelay(true).ok();
    let mut msg = format!(
        "POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        event.len()
    )
    .into_bytes();
    msg.extend_from_slice(event);
    s.write_all(&msg).map_err(|e| format!("write: {e}"))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let deadline = Instant::now() + timeout;
    loop {
        let mut hs = [Header::default(); 32];
        if let Some(head) = http::parse_head(&buf, &mut hs).map_err(|e| e.as_str().to_string())? {
            let status = head.status().unwrap_or(0);
            let rest = &buf[head.len..];
            match http::framing(&hs[..head.headers]).map_err(|e| e.as_str().to_string())? {
                Framing::Length(n) if rest.len() >= n as usize => return Ok((status, rest[..n as usize].to_vec())),
                Framing::Chunked => {
                    let mut tmp = rest.to_vec();
                    let (mut out, mut rd, end) = (0, 0, tmp.len());
                    if http::Chunked::default().decode(&mut tmp, &mut out, &mut rd, end, usize::MAX).map_err(|e| e.as_str().to_string())? {
                        tmp.truncate(out);
                        return Ok((status, tmp));
                    }
                }
                _ => {}
            }
        }
        if Instant::now() > deadline {
            return Err("timed out".into());
        }
        match s.read(&mut chunk) {
            Ok(0) => {
                // Until-close framing, or a cut response.
                let mut hs = [Header::default(); 32];
                if let Some(head) = http::parse_head(&buf, &mut hs).map_err(|e| e.as_str().to_string())? {
                    return Ok((head.status().unwrap_or(0), buf[head.len..].to_vec()));
                }
                return Err("connection closed".into());
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => return Err(format!("read: {e}")),
        }
    }
}
