//! # faas-rie: a local Lambda emulator in one small static binary
//!
//! The Invoke API in front (what the unchanged AWS CLI and SDKs call), the
//! Runtime API behind (what the function's `bootstrap` calls), and the
//! bootstrap itself as a child process, all driven by one single-threaded
//! poll loop ([`server`]). The HTTP head parser and chunked decoder are
//! `faas::http`, shared with the runtime.
//!
//! `no_std` with `alloc` on a small mmap allocator, its own entry point and
//! raw system calls ([`sys`]), linked statically by `make rie`: the whole
//! FROM-scratch image must stay within 64 KiB.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
// Unit tests cover the pure helpers; the server runs only in the binary.
#![cfg_attr(test, allow(dead_code))]

extern crate alloc;

mod server;
mod sys;
mod text;

use alloc::vec::Vec;
use faas::http::parse_dec;
use text::Put;

#[cfg(not(test))]
#[global_allocator]
static ALLOC: sys::Alloc = sys::Alloc;

#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    sys::abort(b"faas-rie: internal error (panic)\n")
}

/// Debug builds of `core` still name an unwinder; release builds do not.
#[cfg(all(not(test), debug_assertions))]
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

const HELP: &str = "\
faas-rie: run a Lambda function locally for the unchanged AWS CLI and SDKs

Usage: faas-rie [options] [--] [bootstrap [args...]]

Starts the bootstrap (default: the first of /var/task/bootstrap,
/var/runtime/bootstrap, $LAMBDA_TASK_ROOT/bootstrap) on the first invoke,
serves it the Runtime API, and serves callers the Invoke API:
  POST /2015-03-31/functions/{name}/invocations[?Qualifier=..]
  POST /2021-11-15/functions/{name}/response-streaming-invocations[?..]
{name} is AWS_LAMBDA_FUNCTION_NAME, \"function\", or an ARN of either.
If AWS_LAMBDA_RUNTIME_API is already set (real Lambda), faas-rie just execs
the bootstrap, so one image runs both on AWS and locally.

Options:
  --listen HOST:PORT       Invoke API address (default 127.0.0.1:8080;
                           0.0.0.0:8080 inside a container; [::1]:8080 works)
  --runtime-api HOST:PORT  Runtime API address for the bootstrap (default
                           127.0.0.1:9001; a pool uses the following ports;
                           port 0 picks free ones)
  --pool N                 runtime processes, each one invocation at a time
                           (default 1)
  --queue N                invocations that may wait for a runtime; more get
                           429 TooManyRequestsException (default 128)
  --init-timeout S         init limit, spawn to first /next (default 10, as
                           Lambda); past it, init is retried once with the
                           function timeout, then the invoke fails
  --event-retries N        retries of a failed Event invoke (default 2)
  --retry-delay MS         wait before the first retry, doubled for each
                           next (default 1000; Lambda waits about 1, 2 min)
  -h, --help               this text

Environment (defaults in brackets; all are passed on to the bootstrap):
  AWS_LAMBDA_FUNCTION_NAME [function]  AWS_LAMBDA_FUNCTION_VERSION [$LATEST]
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE [3008]  AWS_LAMBDA_FUNCTION_TIMEOUT [300] s
  AWS_REGION, AWS_DEFAULT_REGION [us-east-1]  LAMBDA_TASK_ROOT [/var/task]
  LAMBDA_RUNTIME_DIR [/var/runtime]  _HANDLER [first arg, or handler]
  AWS_LAMBDA_LOG_GROUP_NAME [/aws/lambda/NAME]  AWS_LAMBDA_LOG_STREAM_NAME
  TZ [:UTC]  AWS_LAMBDA_RUNTIME_API (set: exec the bootstrap instead)

Answers: RequestResponse 200, Event 202 (queued), DryRun 204. A function
error, timeout (Sandbox.Timedout) or crash (Runtime.ExitError) is 200 with
X-Amz-Function-Error: Unhandled, never a 5xx that clients would retry; the
next invoke then starts a fresh runtime. The streaming invoke answers an
event stream: PayloadChunk events, then InvokeComplete (ErrorCode and
ErrorDetails, the error document, on failure). A streamed response stops
at 200 MiB (Function.ResponseSizeTooLarge). X-Amz-Log-Type: Tail returns
the last 4 KB of the invocation's log. The bootstrap's output, with START,
END and REPORT lines, goes to stdout. SIGTERM or SIGINT stops it all (exit
0) as Lambda does: a runtime that registered an extension gets SIGTERM and
300 ms before SIGKILL; one without is killed at once.
";

/// Everything the server needs to know, from the command line and environment.
pub struct Config {
    pub listen: Addr,
    pub runtime_api: Addr,
    pub pool: usize,
    pub queue: usize,
    pub timeout_ms: u64,
    pub init_ms: u64,
    pub retries: u64,
    pub retry_ms: u64,
    pub name: &'static [u8],
    pub region: &'static [u8],
    pub memory_mb: u64,
    /// The bootstrap and its arguments, each NUL-terminated.
    pub argv: Vec<u8>,
    /// The bootstrap's whole environment but AWS_LAMBDA_RUNTIME_API, each
    /// entry NUL-terminated.
    pub env: Vec<u8>,
}

/// A numeric IP address (4 or 16 bytes used), its text as given, and a port.
pub struct Addr {
    ip: [u8; 16],
    len: usize,
    host: &'static [u8],
    pub port: u16,
}

impl Addr {
    /// `a.b.c.d:port`, `[v6]:port` or `localhost:port`.
    fn parse(s: &'static [u8]) -> Option<Addr> {
        let colon = s.iter().rposition(|&b| b == b':')?;
        let host = match &s[..colon] {
            b"localhost" => b"127.0.0.1",
            h => h,
        };
        let bare = host.strip_prefix(b"[").and_then(|h| h.strip_suffix(b"]")).unwrap_or(host);
        let port = u16::try_from(parse_dec(&s[colon + 1..])?).ok()?;
        let mut ip = [0; 16];
        let len = text::parse_ip(bare, &mut ip)?;
        Some(Addr { ip, len, host, port })
    }

    pub fn ip(&self) -> &[u8] {
        &self.ip[..self.len]
    }

    /// Appends `host:port` (an IPv6 host in brackets).
    pub fn text(&self, v: &mut Vec<u8>, port: u16) {
        let bare = self.len == 16 && self.host.first() != Some(&b'[');
        v.s(if bare { b"[" } else { b"" }).s(self.host).s(if bare { b"]:" } else { b":" }).dec(port as u64);
    }
}

/// The value of environment variable `name`.
fn getenv(name: &[u8]) -> Option<&'static [u8]> {
    let mut i = 0;
    while let Some(e) = sys::env(i) {
        if let Some(v) = e.strip_prefix(name).and_then(|v| v.strip_prefix(b"=")) {
            return Some(v);
        }
        i += 1;
    }
    None
}

fn fail(msg: &[&[u8]]) -> ! {
    for m in msg {
        sys::write_all(2, m);
    }
    sys::write_all(2, b"\nfaas-rie: try --help\n");
    sys::exit(2)
}

/// The numeric options, in the order of `n` in [`config`].
const NUMBERS: [&[u8]; 5] = [b"--pool", b"--queue", b"--init-timeout", b"--event-retries", b"--retry-delay"];

/// Reads the command line and the environment.
fn config() -> Config {
    let container = sys::access(b"/run/.containerenv\0", libc::F_OK) || sys::access(b"/.dockerenv\0", libc::F_OK);
    let mut listen = Addr::parse(if container { b"0.0.0.0:8080" } else { b"127.0.0.1:8080" });
    let mut runtime_api = Addr::parse(b"127.0.0.1:9001");
    let mut n = [1, 128, 10, 2, 1000];
    let mut i = 1;
    while let Some(opt) = sys::arg(i) {
        let val = sys::arg(i + 1);
        match opt {
            b"-h" | b"--help" => {
                sys::write_all(1, HELP.as_bytes());
                sys::exit(0)
            }
            b"--listen" | b"--runtime-api" => {
                let a = Some(val.and_then(Addr::parse).unwrap_or_else(|| fail(&[b"faas-rie: ", opt, b" wants HOST:PORT"])));
                if opt == b"--listen" {
                    listen = a;
                } else {
                    runtime_api = a;
                }
            }
            b"--" => {
                i += 1;
                break;
            }
            _ if opt.starts_with(b"-") => {
                let k = NUMBERS.iter().position(|&o| o == opt).unwrap_or_else(|| fail(&[b"faas-rie: unknown option ", opt]));
                // Retries and their delay may be 0; the rest may not.
                let v = val.and_then(parse_dec).filter(|&v| v <= 100_000 && (v > 0 || k >= 3));
                n[k] = v.unwrap_or_else(|| fail(&[b"faas-rie: ", opt, b" wants a number"]));
            }
            _ => break,
        }
        i += 2;
    }

    // The bootstrap: the rest of the command line, or the first one found.
    let mut argv = Vec::new();
    let mut k = i;
    while let Some(a) = sys::arg(k) {
        argv.s(a).s(b"\0");
        k += 1;
    }
    if argv.is_empty() {
        for dir in [&b"/var/task"[..], b"/var/runtime", getenv(b"LAMBDA_TASK_ROOT").unwrap_or(b"/var/task")] {
            argv.clear();
            argv.s(dir).s(b"/bootstrap\0");
            if sys::access(&argv, libc::F_OK) {
                break;
            }
        }
    }
    let path = &argv[..argv.iter().position(|&b| b == 0).unwrap_or(0) + 1];
    if !sys::access(path, libc::X_OK) {
        fail(&[b"faas-rie: cannot execute ", &path[..path.len() - 1]]);
    }

    let var = |n: &[u8], d: &'static [u8]| getenv(n).filter(|v| !v.is_empty()).unwrap_or(d);
    let name = var(b"AWS_LAMBDA_FUNCTION_NAME", b"function");
    let region = var(b"AWS_REGION", var(b"AWS_DEFAULT_REGION", b"us-east-1"));
    let memory = var(b"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", b"3008");
    let timeout_s = parse_dec(var(b"AWS_LAMBDA_FUNCTION_TIMEOUT", b"300")).filter(|&t| t > 0).unwrap_or(300).min(1 << 30);
    let mut stream = [0u8; 16];
    sys::random(&mut stream);
    let mut stream_name = Vec::new();
    stream_name.s(b"[$LATEST]").hex(&stream);

    // The bootstrap's environment: ours, but for AWS_LAMBDA_RUNTIME_API,
    // and Lambda's variables where they are missing.
    let mut env = Vec::new();
    let mut e = 0;
    while let Some(v) = sys::env(e) {
        if !v.starts_with(b"AWS_LAMBDA_RUNTIME_API=") {
            env.s(v).s(b"\0");
        }
        e += 1;
    }
    let defaults: [(&[u8], &[u8], &[u8]); 12] = [
        (b"AWS_LAMBDA_FUNCTION_NAME", name, b""),
        (b"AWS_LAMBDA_FUNCTION_VERSION", b"$LATEST", b""),
        (b"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory, b""),
        (b"AWS_REGION", region, b""),
        (b"AWS_DEFAULT_REGION", region, b""),
        (b"LAMBDA_TASK_ROOT", b"/var/task", b""),
        (b"LAMBDA_RUNTIME_DIR", b"/var/runtime", b""),
        (b"_HANDLER", sys::arg(i + 1).unwrap_or(b"handler"), b""),
        (b"AWS_LAMBDA_LOG_GROUP_NAME", b"/aws/lambda/", name),
        (b"AWS_LAMBDA_LOG_STREAM_NAME", &stream_name, b""),
        (b"AWS_LAMBDA_INITIALIZATION_TYPE", b"on-demand", b""),
        (b"TZ", b":UTC", b""),
    ];
    for (k, a, b) in defaults {
        if getenv(k).is_none() {
            env.s(k).s(b"=").s(a).s(b).s(b"\0");
        }
    }
    Config {
        listen: listen.unwrap_or_else(|| fail(&[b"faas-rie: bad default address"])),
        runtime_api: runtime_api.unwrap_or_else(|| fail(&[b"faas-rie: bad default address"])),
        pool: n[0] as usize,
        queue: n[1] as usize,
        timeout_ms: timeout_s * 1000,
        init_ms: n[2] * 1000,
        retries: n[3],
        retry_ms: n[4],
        name,
        region,
        memory_mb: parse_dec(memory).unwrap_or(3008),
        argv,
        env,
    }
}

/// The program, called by the entry point in [`sys`].
fn start() -> i32 {
    let cfg = config();
    if getenv(b"AWS_LAMBDA_RUNTIME_API").is_some() {
        // On real Lambda: be the bootstrap.
        sys::exec(&cfg.argv);
        fail(&[b"faas-rie: cannot execute the bootstrap"]);
    }
    server::run(cfg)
}
