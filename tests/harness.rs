//! Shared helpers for the integration tests: paths to built artefacts, and
//! `FakeApi`, a scriptable Runtime API server that runs inside the test
//! process. Its HTTP handling is written independently of faas's own parser
//! on purpose, so a bug there cannot hide itself.
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A built artefact under out/ (run `make all` first; `make test` does).
pub fn out(rel: &str) -> PathBuf {
    let p = root().join("out").join(rel);
    assert!(p.exists(), "{} is missing: run `make all` first", p.display());
    p
}

/// The first fenced `lang` block after `marker` in README.md, verbatim: the
/// tests run what the README tells users to run.
pub fn readme_block(marker: &str, lang: &str) -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme.split(marker).nth(1).unwrap_or_else(|| panic!("README has no {marker:?}"));
    let start = section.find(&format!("```{lang}\n")).unwrap_or_else(|| panic!("no {lang} block after {marker:?}")) + lang.len() + 4;
    section[start..].split("```").next().unwrap().to_string()
}

/// Fails unless README.md says `figure` (whitespace-insensitive: a sentence
/// may break across lines): the sizes it quotes are the ones built today.
/// `what` names the artefact, for the message.
pub fn readme_quotes(what: &str, figure: &str) {
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let readme = flat(&std::fs::read_to_string(root().join("README.md")).unwrap());
    assert!(readme.contains(&flat(figure)), "README.md should say {figure:?} ({what}): update its figure");
}

/// Fails unless the number README.md gives right after `before` is within
/// `tolerance` of `actual`: for the sizes of what cargo and cargo-lambda
/// build, which move by a byte or two with the checkout's path.
pub fn readme_quotes_near(what: &str, before: &str, actual: u64, tolerance: u64) {
    let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (readme, before) = (flat(&std::fs::read_to_string(root().join("README.md")).unwrap()), flat(before));
    let at = readme.find(&before).unwrap_or_else(|| panic!("README.md no longer says {before:?} ({what})")) + before.len();
    let digits: String = readme[at..].trim_start().chars().take_while(|c| c.is_ascii_digit() || *c == ',').filter(|c| *c != ',').collect();
    let said: u64 = digits.parse().unwrap_or_else(|_| panic!("README.md has no number after {before:?} ({what})"));
    assert!(said.abs_diff(actual) <= tolerance, "README.md says {said} after {before:?} ({what}); built: {actual}: update its figure");
}

/// The program headers of a 64-bit little-endian ELF file: each one's type
/// (1 is PT_LOAD) and size in the file (what `readelf -lW` calls FileSiz).
pub fn program_headers(elf: &[u8]) -> Vec<(u32, u64)> {
    let u = |at: usize, n: usize| elf[at..at + n].iter().rev().fold(0u64, |a, &b| a << 8 | u64::from(b));
    let (phoff, phentsize, phnum) = (u(0x20, 8) as usize, u(0x36, 2) as usize, u(0x38, 2) as usize);
    (0..phnum).map(|i| phoff + i * phentsize).map(|ph| (u(ph, 4) as u32, u(ph + 0x20, 8))).collect()
}

/// `n` with a comma every three digits, as the README writes sizes.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut s = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            s.push(',');
        }
        s.push(c);
    }
    s
}

/// Writes into `dir` a user's project as the README describes it: the
/// README's Rust handler (src/main.rs, or src/lib.rs with `staticlib`) and
/// its Cargo.toml, with the path to this repository's core, as a binary
/// crate named `bootstrap` (its "nothing but cargo" block, `strip = true`
/// added) or as the staticlib; its own workspace; the workspace's lock file,
/// whose dependency versions this repository's build has already fetched.
pub fn readme_project(dir: &std::path::Path, bin: bool) {
    let faas = root().join("crates/faas");
    let mut manifest = readme_block("## A handler in Rust", "toml").replace("\"../faas/crates/faas\"", &format!("{:?}", faas.display().to_string()));
    assert!(manifest.contains(&faas.display().to_string()), "the README's Cargo.toml no longer says `path = \"../faas/crates/faas\"`:\n{manifest}");
    if bin {
        let target = readme_block("Or, for the dynamic glibc bootstrap with nothing but cargo", "toml");
        manifest = manifest.replace("[lib]\ncrate-type = [\"staticlib\"]\n", &target).replace("[profile.release]\n", "[profile.release]\nstrip = true\n");
        assert!(manifest.contains("[[bin]]") && manifest.contains("strip = true"), "the README's Cargo.toml changed shape:\n{manifest}");
    }
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let package = "[package]\nname = \"my-function\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n\n";
    std::fs::write(dir.join("Cargo.toml"), format!("{package}{manifest}")).unwrap();
    std::fs::write(dir.join(if bin { "src/main.rs" } else { "src/lib.rs" }), readme_block("## A handler in Rust", "rust")).unwrap();
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
}

/// Every `GLIBC_x.y` version a binary names, sorted. The version names a
/// dynamic bootstrap needs are in its dynamic string table (`readelf -d`
/// shows it; the section headers that `objdump -T` reads are trimmed away,
/// see c-abi/elf-trim.c), so every one in the file is one the loader may be
/// asked for.
pub fn glibc_versions(bin: &[u8]) -> Vec<(u32, u32)> {
    let mut versions: Vec<(u32, u32)> = bin
        .windows(6)
        .enumerate()
        .filter(|(_, w)| w == b"GLIBC_")
        .filter_map(|(i, _)| {
            let v: String = bin[i + 6..].iter().take_while(|c| c.is_ascii_digit() || **c == b'.').map(|&c| c as char).collect();
            let mut it = v.split('.').map(|x| x.parse::<u32>().ok());
            Some((it.next()??, it.next().flatten().unwrap_or(0)))
        })
        .collect();
    versions.sort();
    versions.dedup();
    versions
}

/// Decodes base64 (the stream error trailers, Tail logs); panics on bad input.
pub fn base64_decode(s: &str) -> Vec<u8> {
    let mut out = vec![0; s.len() / 4 * 3 + 3];
    let n = faas::json::base64_decode(s.as_bytes(), &mut out).unwrap_or_else(|| panic!("not base64: {s:?}"));
    out.truncate(n);
    out
}

/// Standard base64 with padding (client contexts for the Invoke API).
pub fn base64_encode(b: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s: String = b
        .chunks(3)
        .flat_map(|c| {
            let n = c.iter().fold(0u32, |n, &x| n << 8 | u32::from(x)) << (8 * (3 - c.len()));
            (0..=c.len()).map(move |i| A[(n >> (18 - 6 * i) & 63) as usize] as char)
        })
        .collect();
    while !s.len().is_multiple_of(4) {
        s.push('=');
    }
    s
}

/// What `/next` answers, one per call.
#[derive(Clone, Debug)]
pub enum Next {
    /// A well-formed 200 with these headers (the request id first) and body
    /// sent with Content-Length.
    Event { id: String, headers: Vec<(String, String)>, body: Vec<u8> },
    /// The same, with the body in chunks of this size.
    Chunked { id: String, body: Vec<u8>, chunk: usize },
    /// Exactly these bytes, then the connection stays open.
    Raw(Vec<u8>),
    /// These bytes, then the server closes the connection.
    RawClose(Vec<u8>),
    /// These bytes one at a time, a millisecond apart.
    Dribble(Vec<u8>),
    /// Nothing for this many milliseconds, then the next item (a process
    /// stays alive, waiting, while the test looks at it).
    Stall(u64),
    /// Once the test opens the gate, these bytes, then the server closes
    /// the connection and says so through the gate (a test stops the
    /// process first, so that it finds both the bytes and the close when it
    /// resumes).
    GatedClose(Gate, Vec<u8>),
}

/// Opened by the test (`.0`), then set by the server once it has written
/// and closed (`.1`).
pub type Gate = Arc<(AtomicBool, AtomicBool)>;

impl Next {
    /// A plain event with a request id and a deadline far ahead.
    pub fn event(id: &str, body: &[u8]) -> Next {
        Next::Event { id: id.into(), headers: vec![("Lambda-Runtime-Deadline-Ms".into(), "4102444800000".into())], body: body.to_vec() }
    }
}

/// A request the runtime made, as the server read it.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub trailers: Vec<(String, String)>,
    /// Which connection (numbered from 0 in accept order) carried it.
    pub conn: usize,
}

impl Request {
    /// A header value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// A trailer value, by case-insensitive name.
    pub fn trailer(&self, name: &str) -> Option<&str> {
        self.trailers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// The body as UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Next>,
    /// Status codes for the next posts (202 when empty).
    post_status: VecDeque<u16>,
    /// Raw answers for the next posts, before any in `post_status`.
    post_raw: VecDeque<Vec<u8>>,
    requests: Vec<Request>,
    conns: usize,
    /// Extension registrations get 403 (an API without extensions).
    no_extensions: bool,
}

/// A scriptable Runtime API on 127.0.0.1. When the script is used up,
/// `/next` answers 500, which makes a runtime exit.
pub struct FakeApi {
    pub port: u16,
    state: Arc<(Mutex<State>, Condvar)>,
}

impl FakeApi {
    pub fn start(script: Vec<Next>) -> FakeApi {
        Self::start_on("127.0.0.1:0", script)
    }

    /// Listens on `bind` (e.g. "[::1]:0").
    pub fn start_on(bind: &str, script: Vec<Next>) -> FakeApi {
        let listener = TcpListener::bind(bind).expect("bind");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new((Mutex::new(State { script: script.into(), ..State::default() }), Condvar::new()));
        let st = state.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let conn = {
                    let mut s = st.0.lock().unwrap();
                    s.conns += 1;
                    s.conns - 1
                };
                let st = st.clone();
                thread::spawn(move || serve(stream, conn, st));
            }
        });
        FakeApi { port, state }
    }

    /// `host:port` for AWS_LAMBDA_RUNTIME_API.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Status codes for the next posts to /response or /error, in order.
    pub fn post_status(&self, codes: &[u16]) {
        self.state.0.lock().unwrap().post_status.extend(codes);
    }

    /// Refuses extension registrations (403), as an emulator without the
    /// Extensions API would.
    pub fn refuse_extensions(&self) {
        self.state.0.lock().unwrap().no_extensions = true;
    }

    /// Exactly these bytes as the answers to the next posts, in order.
    pub fn post_raw(&self, answers: &[&[u8]]) {
        self.state.0.lock().unwrap().post_raw.extend(answers.iter().map(|a| a.to_vec()));
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.state.0.lock().unwrap().requests.clone()
    }

    /// The Runtime API posts (responses and errors; not the Extensions API).
    pub fn posts(&self) -> Vec<Request> {
        self.requests().into_iter().filter(|r| r.method != "GET" && r.path.contains("/2018-06-01/")).collect()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.0.lock().unwrap().conns
    }

    /// Waits until `n` posts have arrived (or panics after `secs`).
    pub fn wait_posts(&self, n: usize, secs: u64) -> Vec<Request> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let posts = self.posts();
            if posts.len() >= n {
                return posts;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {n} posts; got {posts:#?}");
            thread::sleep(Duration::from_millis(5));
        }
    }
}

fn serve(stream: TcpStream, conn: usize, st: Arc<(Mutex<State>, Condvar)>) {
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok();
    stream.set_nodelay(true).ok();
    let mut w = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    loop {
        let Some(mut req) = read_request(&mut r) else { return };
        req.conn = conn;
        let is_next = req.method == "GET" && req.path.ends_with("/runtime/invocation/next");
        // The Extensions API, as far as a runtime's internal extension uses it.
        if req.path.ends_with("/2020-01-01/extension/register") {
            let refuse = {
                let mut s = st.0.lock().unwrap();
                s.requests.push(req);
                s.no_extensions
            };
            let reply = match refuse {
                true => "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
                false => "HTTP/1.1 200 OK\r\nLambda-Extension-Identifier: ext-1\r\nContent-Length: 2\r\n\r\n{}",
            };
            if w.write_all(reply.as_bytes()).is_err() {
                return;
            }
            continue;
        }
        if req.path.ends_with("/2020-01-01/extension/event/next") {
            // No events were registered for: no answer, ever.
            st.0.lock().unwrap().requests.push(req);
            let mut sink = [0u8; 64];
            while r.get_mut().read(&mut sink).is_ok_and(|n| n > 0) {}
            return;
        }
        let streamed = req.header("Lambda-Runtime-Function-Response-Mode") == Some("streaming");
        let reply = {
            let mut s = st.0.lock().unwrap();
            s.requests.push(req);
            if is_next {
                s.script.pop_front().map(Reply::Next).unwrap_or(Reply::Status(500))
            } else if let Some(raw) = s.post_raw.pop_front() {
                Reply::Next(Next::Raw(raw))
            } else {
                Reply::Status(s.post_status.pop_front().unwrap_or(202))
            }
        };
        let close = match reply {
            Reply::Next(n) => write_next(&mut w, n),
            Reply::Status(code) => {
                let body =
                    if code == 202 { r#"{"status":"OK"}"#.to_string() } else { format!(r#"{{"errorMessage":"status {code}","errorType":"Test.Status"}}"#) };
                let head = format!("HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len());
                w.write_all((head + &body).as_bytes()).is_err() || streamed
            }
        };
        if close {
            let _ = w.shutdown(std::net::Shutdown::Both);
            return;
        }
    }
}

enum Reply {
    Next(Next),
    Status(u16),
}

/// Writes a /next answer; true if the connection should close after it.
fn write_next(w: &mut TcpStream, n: Next) -> bool {
    let bytes = match n {
        Next::Event { id, headers, body } => {
            let mut h = format!("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: {id}\r\nContent-Length: {}\r\n", body.len());
            for (k, v) in headers {
                h += &format!("{k}: {v}\r\n");
            }
            h += "\r\n";
            [h.into_bytes(), body].concat()
        }
        Next::Chunked { id, body, chunk } => {
            let mut out = format!("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: {id}\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes();
            for c in body.chunks(chunk.max(1)) {
                out.extend(format!("{:x}\r\n", c.len()).bytes());
                out.extend(c);
                out.extend(b"\r\n");
            }
            out.extend(b"0\r\n\r\n");
            out
        }
        Next::Raw(b) => b,
        Next::Dribble(b) => {
            for byte in b {
                if w.write_all(&[byte]).is_err() {
                    return true;
                }
                thread::sleep(Duration::from_millis(1));
            }
            return false;
        }
        Next::Stall(ms) => {
            thread::sleep(Duration::from_millis(ms));
            b"HTTP/1.1 500 Stalled\r\nContent-Length: 0\r\n\r\n".to_vec()
        }
        Next::RawClose(b) => {
            let _ = w.write_all(&b);
            return true;
        }
        Next::GatedClose(gate, b) => {
            let t = Instant::now();
            while !gate.0.load(Ordering::SeqCst) && t.elapsed() < Duration::from_secs(60) {
                thread::sleep(Duration::from_millis(1));
            }
            let _ = w.write_all(&b);
            let _ = w.shutdown(std::net::Shutdown::Both);
            gate.1.store(true, Ordering::SeqCst);
            return true;
        }
    };
    w.write_all(&bytes).is_err()
}

/// Reads one request (head, and a Content-Length or chunked body).
fn read_request(r: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.trim_end().splitn(3, ' ');
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let headers = read_fields(r)?;
    let get = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    let mut trailers = Vec::new();
    if get("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?.trim(), 16).ok()?;
            if n == 0 {
                trailers = read_fields(r)?;
                break;
            }
            let mut c = vec![0; n + 2];
            r.read_exact(&mut c).ok()?;
            body.extend(&c[..n]);
        }
    } else if let Some(n) = get("Content-Length") {
        body = vec![0; n.parse().ok()?];
        r.read_exact(&mut body).ok()?;
    }
    Some(Request { method, path, headers, body, trailers, conn: 0 })
}

fn read_fields(r: &mut BufReader<TcpStream>) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            return Some(out);
        }
        let (k, v) = line.split_once(':')?;
        out.push((k.to_string(), v.trim().to_string()));
    }
}

/// True for an ELF file whose machine is aarch64 (EM_AARCH64, 183).
pub fn is_aarch64_elf(bin: &PathBuf) -> bool {
    let mut head = [0u8; 20];
    let read = std::fs::File::open(bin).and_then(|mut f| f.read_exact(&mut head));
    read.is_ok() && head.starts_with(b"\x7fELF") && u16::from_le_bytes([head[18], head[19]]) == 183
}

/// A running bootstrap with its stderr collected.
pub struct Proc {
    child: Child,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// The thread that copies stderr; it ends at the pipe's EOF.
    reader: thread::JoinHandle<()>,
}

impl Proc {
    /// Starts `bin` with a clean environment plus `env`. On any other host,
    /// an arm64 (aarch64) binary runs under qemu-aarch64 (Debian's
    /// qemu-user), with the cross-built glibc of libc6-arm64-cross.
    pub fn spawn(bin: &PathBuf, env: &[(&str, &str)]) -> Proc {
        let mut cmd = if !cfg!(target_arch = "aarch64") && is_aarch64_elf(bin) {
            let mut c = Command::new("qemu-aarch64");
            c.args(["-L", "/usr/aarch64-linux-gnu"]).arg(bin);
            c
        } else {
            Command::new(bin)
        };
        let mut child = cmd
            .env_clear()
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", bin.display()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (mut pipe, sink) = (child.stderr.take().unwrap(), stderr.clone());
        let reader = thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Proc { child, stderr, reader }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the exit (killing the process and failing after `secs`).
    pub fn wait(&mut self, secs: u64) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                // All of stderr, up to its EOF (a loaded machine can take
                // longer than any fixed pause; a grandchild holding the
                // pipe would, so that wait is bounded too).
                let drained = Instant::now() + Duration::from_secs(10);
                while !self.reader.is_finished() && Instant::now() < drained {
                    thread::sleep(Duration::from_millis(1));
                }
                return st;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("process did not exit within {secs}s; stderr: {}", self.stderr());
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// A field of /proc/PID/status in kB (e.g. "VmHWM").
    pub fn status_kb(&self, field: &str) -> u64 {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = s.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("{field} not in status"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `bin` against a fake API serving `script`; waits for it to exit
/// (the script's end answers 500) and returns the server and the process.
pub fn run_script(bin: &PathBuf, script: Vec<Next>, env: &[(&str, &str)]) -> (FakeApi, Proc, ExitStatus) {
    let api = FakeApi::start(script);
    let addr = api.addr();
    let mut all = vec![("AWS_LAMBDA_RUNTIME_API", addr.as_str())];
    all.extend_from_slice(env);
    let mut p = Proc::spawn(bin, &all);
    let st = p.wait(60);
    (api, p, st)
}
