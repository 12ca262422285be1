//! Shared by the faas-rie tests: start faas-rie on free ports, run the AWS
//! CLI and other tools with a time limit, speak raw HTTP.
#![allow(dead_code)]

use faas_tests::{out, root};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const AWS: &str = "/usr/bin/aws";

/// A fresh scratch directory under target/.
pub fn scratch(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let d = root().join("target/rie-tests").join(format!("{tag}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Fails, clearly, when a tool the tests need is missing.
pub fn require(path: &str, install: &str) {
    assert!(Path::new(path).exists(), "{path} is missing: {install}");
}

/// One faas-rie process on free ports (port 0: the kernel picks), its
/// stdout and stderr in files.
pub struct Rie {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Rie {
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Rie {
        Rie::start_under(&[], args, env)
    }

    /// The same, run by `wrapper` (a command that execs the rest, as prlimit).
    pub fn start_under(wrapper: &[&str], args: &[&str], env: &[(&str, &str)]) -> Rie {
        let dir = scratch("rie");
        let mut cmd = match wrapper.split_first() {
            Some((w, rest)) => {
                let mut c = Command::new(w);
                c.args(rest).arg(out("bin/faas-rie"));
                c
            }
            None => Command::new(out("bin/faas-rie")),
        };
        let child = cmd
            .args(["--listen", "127.0.0.1:0", "--runtime-api", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
            .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
            .spawn()
            .unwrap();
        let mut rie = Rie { child, port: 0, dir };
        let t = Instant::now();
        while rie.port == 0 {
            let err = rie.stderr();
            if let Some(p) = err.split("Invoke API on http://127.0.0.1:").nth(1) {
                rie.port = p.split(',').next().unwrap().parse().unwrap();
            }
            assert!(t.elapsed() < Duration::from_secs(10), "faas-rie did not start: {err}");
            assert!(rie.child.try_wait().unwrap().is_none(), "faas-rie exited: {err}");
            std::thread::sleep(Duration::from_millis(10));
        }
        rie
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.join("stdout")).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("stderr")).unwrap_or_default()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits (at most `secs`) until stdout holds `needle` `n` times.
    pub fn wait_stdout(&self, needle: &str, n: usize, secs: u64) -> String {
        let t = Instant::now();
        loop {
            let s = self.stdout();
            if s.matches(needle).count() >= n {
                return s;
            }
            assert!(t.elapsed() < Duration::from_secs(secs), "no {n} x {needle:?} in faas-rie's stdout:\n{s}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM, then the exit status (within 10 s).
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let t = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "faas-rie did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Rie {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.stop();
        }
    }
}

/// Runs a command to completion, killing it after `secs`.
pub fn run(cmd: &mut Command, secs: u64) -> Output {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let (mut so, mut se) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let a = std::thread::spawn(move || {
        let mut v = Vec::new();
        so.read_to_end(&mut v).ok();
        v
    });
    let b = std::thread::spawn(move || {
        let mut v = Vec::new();
        se.read_to_end(&mut v).ok();
        v
    });
    let t = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t.elapsed() > Duration::from_secs(secs) {
            child.kill().ok();
            panic!("{cmd:?} did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output { status, stdout: a.join().unwrap(), stderr: b.join().unwrap() }
}

/// `aws lambda invoke` (the unchanged AWS CLI v2) against faas-rie on
/// `port`, with dummy credentials. Returns the CLI's output and the payload
/// file's content.
pub fn invoke(port: u16, args: &[&str]) -> (Output, String) {
    require(AWS, "install the Debian package awscli (AWS CLI v2)");
    let payload = scratch("cli").join("payload.out");
    let mut cmd = Command::new(AWS);
    cmd.args(["--endpoint-url", &format!("http://127.0.0.1:{port}"), "lambda", "invoke"])
        .args(["--cli-binary-format", "raw-in-base64-out", "--cli-read-timeout", "0"])
        .args(args)
        .arg(&payload);
    aws_env(&mut cmd);
    let o = run(&mut cmd, 180);
    (o, std::fs::read_to_string(&payload).unwrap_or_default())
}

/// Dummy credentials and a region; no user configuration.
pub fn aws_env(cmd: &mut Command) {
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_PAGER", "")
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

pub fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// Sends raw bytes, reads until the server closes (send `Connection: close`).
pub fn http(port: u16, raw: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    s.write_all(raw).unwrap();
    let mut v = Vec::new();
    s.read_to_end(&mut v).unwrap();
    String::from_utf8_lossy(&v).into_owned()
}

/// A POST to the Invoke API with extra header lines.
pub fn post(port: u16, name: &str, headers: &str, body: &[u8]) -> String {
    let head =
        format!("POST /2015-03-31/functions/{name}/invocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n", body.len());
    http(port, &[head.as_bytes(), body].concat())
}

/// The body of a chunked answer, its chunks joined (their boundaries depend
/// on timing); trailers are left out.
pub fn dechunk(r: &str) -> String {
    let mut body = String::new();
    let mut rest = r.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head: {r}")).1;
    while let Some((size, more)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size, 16).unwrap_or_else(|_| panic!("bad chunk size {size:?}: {r}"));
        if n == 0 {
            break;
        }
        body += &more[..n];
        rest = &more[n + 2..];
    }
    body
}

/// Standard base64, decoded (test helper; panics on bad input).
pub fn unbase64(s: &str) -> String {
    String::from_utf8_lossy(&faas_tests::base64_decode(s)).into_owned()
}

/// The test bootstrap tests/rie/fixture.c ("sleep", "crash", echo), built once.
pub fn fixture() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = scratch("fixture").join("fixture");
            let o = run(
                Command::new("cc")
                    .args(["-std=c99", "-Wall", "-Werror", "-I"])
                    .arg(root().join("include"))
                    .arg(root().join("tests/rie/fixture.c"))
                    .arg(out("lib/libfaas.a"))
                    .args(["-no-pie", "-o"])
                    .arg(&exe),
                120,
            );
            assert!(o.status.success(), "cannot build the fixture: {}", String::from_utf8_lossy(&o.stderr));
            exe
        })
        .clone()
}

/// (pid, ppid, state) of every process.
pub fn procs() -> Vec<(u32, u32, char)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else { continue };
        let f: Vec<&str> = rest.split(' ').collect();
        if let (Ok(p), Some(st), Some(Ok(pp))) = (e.file_name().to_string_lossy().parse(), f[0].chars().next(), f.get(1).map(|s| s.parse())) {
            v.push((p, pp, st));
        }
    }
    v
}

pub fn children_of(parent: u32) -> Vec<u32> {
    procs().into_iter().filter(|&(_, pp, _)| pp == parent).map(|(p, _, _)| p).collect()
}

/// A process that is gone (or at most a zombie of someone else, about to be reaped).
pub fn gone(p: u32) -> bool {
    procs().iter().all(|&(q, _, st)| q != p || st == 'Z')
}
