//! # faas-rie: a local Lambda emulator in one small static binary
//!
//! The Invoke API in front (what the unchanged AWS CLI and SDKs call), the
//! Runtime API behind (what the function's `bootstrap` calls), and the
//! bootstrap itself as a child process, all driven by one single-threaded
//! poll loop ([`server`]). The HTTP framing is `faas::http`, shared with the
//! runtime; nothing here parses HTTP a second time.
//!
//! `no_std` with `alloc` on a small mmap allocator, linked statically with musl by
//! `make rie`: the whole FROM-scratch image must stay within 64 KiB.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
// Unit tests cover the pure helpers; the server runs only in the binary.
#![cfg_attr(test, allow(dead_code))]

extern crate alloc;

mod server;
mod sys;
mod text;

use alloc::vec::Vec;
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
next invoke then starts a fresh runtime. X-Amz-Log-Type: Tail returns the
last 4 KB of the invocation's log. The bootstrap's output, with START, END
and REPORT lines, goes to stdout. SIGTERM or SIGINT stops it all (exit 0)
as Lambda does: a runtime that registered an extension gets SIGTERM and
300 ms before SIGKILL; one without is killed at once.
";

/// Everything the server needs to know, from the command line and environment.
pub struct Config {
    pub listen: Addr,
    pub runtime_api: Addr,
    pub pool: usize,
    pub queue: usize,
    pub timeout_ms: u64,
    pub name: Vec<u8>,
    pub region: Vec<u8>,
    pub memory_mb: u64,
    /// The bootstrap and its arguments.
    pub argv: Vec<Vec<u8>>,
    /// The bootstrap's whole environment, but for AWS_LAMBDA_RUNTIME_API.
    pub env: Vec<Vec<u8>>,
}

/// A numeric IP address (4 or 16 bytes used) and a port.
#[derive(Clone, Copy)]
pub struct Addr {
    pub ip: [u8; 16],
    pub ip_len: usize,
    pub port: u16,
}

impl Addr {
    /// `a.b.c.d:port`, `[v6]:port` or `localhost:port`.
    fn parse(s: &str) -> Option<Addr> {
        let colon = s.rfind(':')?;
        let (host, port) = (&s[..colon], &s[colon + 1..]);
        let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
        let host = if host == "localhost" { "127.0.0.1" } else { host };
        let port = u16::try_from(faas::http::parse_dec(port.as_bytes())?).ok()?;
        let mut ip = [0u8; 16];
        let ip_len = faas::addr::parse_ip(host.as_bytes(), &mut ip)?;
        Some(Addr { ip, ip_len, port })
    }

    pub fn ip(&self) -> &[u8] {
        &self.ip[..self.ip_len]
    }

    /// `ip:port` as text (IPv6 in brackets).
    pub fn text(&self, port: u16) -> Vec<u8> {
        let mut v = Vec::new();
        if self.ip_len == 4 {
            for (i, b) in self.ip[..4].iter().enumerate() {
                v.s(if i > 0 { b"." } else { b"" }).dec(u64::from(*b));
            }
        } else {
            v.s(b"[");
            for i in 0..8 {
                v.s(if i > 0 { b":" } else { b"" });
                let digits = text_hex16(u16::from_be_bytes([self.ip[2 * i], self.ip[2 * i + 1]]));
                v.s(&digits.0[digits.1..]);
            }
            v.s(b"]");
        }
        v.s(b":").dec(u64::from(port));
        v
    }
}

fn text_hex16(n: u16) -> ([u8; 4], usize) {
    let h = b"0123456789abcdef";
    let d = [h[usize::from(n >> 12)], h[usize::from(n >> 8 & 15)], h[usize::from(n >> 4 & 15)], h[usize::from(n & 15)]];
    let skip = d.iter().take(3).take_while(|&&c| c == b'0').count();
    (d, skip)
}

fn getenv(name: &[u8], env: &[&'static [u8]]) -> Option<&'static [u8]> {
    env.iter().find_map(|e| e.strip_prefix(name)?.strip_prefix(b"="))
}

fn fail(msg: &[&[u8]]) -> ! {
    for m in msg {
        sys::write_all(2, m);
    }
    sys::write_all(2, b"\nfaas-rie: try --help\n");
    sys::exit(2)
}

fn in_container() -> bool {
    sys::exists(b"/run/.containerenv") || sys::exists(b"/.dockerenv")
}

/// Reads the command line and the environment.
fn config(args: &[&'static [u8]], env: &[&'static [u8]]) -> Config {
    let any = if in_container() { "0.0.0.0:8080" } else { "127.0.0.1:8080" };
    let mut listen = Addr::parse(any);
    let mut runtime_api = Addr::parse("127.0.0.1:9001");
    let (mut pool, mut queue) = (1, 128);
    let mut i = 0;
    while i < args.len() {
        let (opt, val) = (args[i], args.get(i + 1).copied());
        let num = |v: Option<&[u8]>| v.and_then(faas::http::parse_dec).filter(|&n| (1..=100_000).contains(&n));
        let addr = |v: Option<&[u8]>| v.and_then(|v| core::str::from_utf8(v).ok()).and_then(Addr::parse);
        match opt {
            b"-h" | b"--help" => {
                sys::write_all(1, HELP.as_bytes());
                sys::exit(0)
            }
            b"--listen" => listen = Some(addr(val).unwrap_or_else(|| fail(&[b"faas-rie: --listen wants HOST:PORT"]))),
            b"--runtime-api" => runtime_api = Some(addr(val).unwrap_or_else(|| fail(&[b"faas-rie: --runtime-api wants HOST:PORT"]))),
            b"--pool" => pool = num(val).unwrap_or_else(|| fail(&[b"faas-rie: --pool wants a number"])) as usize,
            b"--queue" => queue = num(val).unwrap_or_else(|| fail(&[b"faas-rie: --queue wants a number"])) as usize,
            b"--" => {
                i += 1;
                break;
            }
            _ if opt.starts_with(b"-") => fail(&[b"faas-rie: unknown option ", opt]),
            _ => break,
        }
        i += 2;
    }
    let mut argv: Vec<Vec<u8>> = args[i.min(args.len())..].iter().map(|a| a.to_vec()).collect();
    if argv.is_empty() {
        let root = getenv(b"LAMBDA_TASK_ROOT", env).map(|r| [r, b"/bootstrap"].concat());
        let found = [b"/var/task/bootstrap".to_vec(), b"/var/runtime/bootstrap".to_vec()].into_iter().chain(root).find(|p| sys::exists(p));
        argv.push(found.unwrap_or_else(|| fail(&[b"faas-rie: no bootstrap given and none found in /var/task, /var/runtime or $LAMBDA_TASK_ROOT"])));
    }
    if !sys::executable(&argv[0]) {
        fail(&[b"faas-rie: cannot execute ", &argv[0]]);
    }

    let var = |n: &[u8], d: &[u8]| getenv(n, env).filter(|v| !v.is_empty()).unwrap_or(d).to_vec();
    let name = var(b"AWS_LAMBDA_FUNCTION_NAME", b"function");
    let region = var(b"AWS_REGION", &var(b"AWS_DEFAULT_REGION", b"us-east-1"));
    let memory_mb = faas::http::parse_dec(&var(b"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", b"3008")).unwrap_or(3008);
    let timeout_s = faas::http::parse_dec(&var(b"AWS_LAMBDA_FUNCTION_TIMEOUT", b"300")).filter(|&t| t > 0).unwrap_or(300);
    let handler = argv.get(1).cloned().unwrap_or(b"handler".to_vec());
    let mut stream = b"[$LATEST]".to_vec();
    stream.extend(text::uuid().into_iter().filter(|&b| b != b'-'));
    let defaults: [(&[u8], Vec<u8>); 12] = [
        (b"AWS_LAMBDA_FUNCTION_NAME", name.clone()),
        (b"AWS_LAMBDA_FUNCTION_VERSION", b"$LATEST".to_vec()),
        (b"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Vec::new().dec(memory_mb).to_vec()),
        (b"AWS_REGION", region.clone()),
        (b"AWS_DEFAULT_REGION", region.clone()),
        (b"LAMBDA_TASK_ROOT", b"/var/task".to_vec()),
        (b"LAMBDA_RUNTIME_DIR", b"/var/runtime".to_vec()),
        (b"_HANDLER", handler),
        (b"AWS_LAMBDA_LOG_GROUP_NAME", [&b"/aws/lambda/"[..], &name].concat()),
        (b"AWS_LAMBDA_LOG_STREAM_NAME", stream),
        (b"AWS_LAMBDA_INITIALIZATION_TYPE", b"on-demand".to_vec()),
        (b"TZ", b":UTC".to_vec()),
    ];
    let mut child_env: Vec<Vec<u8>> = env.iter().filter(|e| !e.starts_with(b"AWS_LAMBDA_RUNTIME_API=")).map(|e| e.to_vec()).collect();
    for (k, v) in defaults {
        if getenv(k, env).is_none() {
            child_env.push([k, b"=", &v].concat());
        }
    }
    Config {
        listen: listen.unwrap_or_else(|| fail(&[b"faas-rie: bad default address"])),
        runtime_api: runtime_api.unwrap_or_else(|| fail(&[b"faas-rie: bad default address"])),
        pool,
        queue,
        timeout_ms: timeout_s.saturating_mul(1000),
        name,
        region,
        memory_mb,
        argv,
        env: child_env,
    }
}

/// The program, after `sys::main` has collected the arguments.
fn start(args: &[&'static [u8]]) -> i32 {
    let env = sys::environment();
    let cfg = config(args, &env);
    if getenv(b"AWS_LAMBDA_RUNTIME_API", &env).is_some() {
        // On real Lambda: be the bootstrap.
        sys::exec(&sys::CArgs::new(&cfg.argv));
        fail(&[b"faas-rie: cannot execute ", &cfg.argv[0]]);
    }
    server::run(cfg)
}
