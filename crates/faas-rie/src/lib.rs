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
use text::{inside, Put};

#[cfg(not(test))]
#[global_allocator]
static ALLOC: sys::Alloc = sys::Alloc;

#[cfg(not(test))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    sys::abort(b"faas-rie: internal error (panic)\n")
}

/// The --help text (help.txt). Literals elsewhere that it holds are
/// slices of it ([`text::inside`]): if a rewording drops one, the build
/// says so.
const HELP: &[u8] = include_bytes!("help.txt");

/// Set on Lambda (to the Runtime API's address), and by us for the bootstrap.
const RUNTIME_API: &[u8] = inside(HELP, b"AWS_LAMBDA_RUNTIME_API=");

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
        let host = if text::same(&s[..colon], b"localhost") { const { inside(HELP, b"127.0.0.1") } } else { &s[..colon] };
        let bare = match host {
            [b'[', bare @ .., b']'] => bare,
            _ => host,
        };
        let port = u16::try_from(parse_dec(&s[colon + 1..])?).ok()?;
        let mut ip = [0; 16];
        let len = faas::addr::parse_ip(bare, &mut ip)?;
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

/// The value of environment variable `name` (given with its `=`).
fn getenv(name: &[u8]) -> Option<&'static [u8]> {
    let mut i = 0;
    while let Some(e) = sys::env(i) {
        if let Some(v) = e.strip_prefix(name) {
            return Some(v);
        }
        i += 1;
    }
    None
}

/// Says `what` and `arg` went wrong, then `end` (a hint and the newline),
/// and exits with status 2.
fn fail(what: &[u8], arg: &[u8], end: &[u8]) -> ! {
    sys::write_all(2, const { inside(HELP, b"faas-rie: ") });
    sys::write_all(2, what);
    sys::write_all(2, arg);
    sys::write_all(2, end);
    sys::exit(2)
}

/// The end of a message about the command line.
const TRY_HELP: &[u8] = b" (try --help)\n";

/// The variables Lambda sets that the bootstrap gets if it has them not
/// already, NUL-separated: each value is completed by the configuration
/// ([`config`]'s `suffix`) or fixed. (One string: a table of slices would
/// cost 32 B an entry.)
const DEFAULTS: &[u8] = b"AWS_LAMBDA_FUNCTION_NAME=\0AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/\0AWS_REGION=\0AWS_DEFAULT_REGION=\0\
AWS_LAMBDA_FUNCTION_MEMORY_SIZE=\0_HANDLER=\0AWS_LAMBDA_LOG_STREAM_NAME=[$LATEST]\0AWS_LAMBDA_FUNCTION_VERSION=$LATEST\0\
LAMBDA_TASK_ROOT=/var/task\0LAMBDA_RUNTIME_DIR=/var/runtime\0AWS_LAMBDA_INITIALIZATION_TYPE=on-demand\0TZ=:UTC";

/// The options, NUL-separated: the numeric ones first, in the order of `n`
/// in [`config`], then the two addresses.
const OPTIONS: &[u8] = b"--pool\0--queue\0--init-timeout\0--event-retries\0--retry-delay\0--listen\0--runtime-api\0--\0--version\0-h\0--help";

/// Reads the command line and the environment.
fn config() -> &'static Config {
    let container = sys::access(b"/run/.containerenv\0", libc::F_OK) || sys::access(b"/.dockerenv\0", libc::F_OK);
    // --listen and --runtime-api, checked as given, parsed at the end.
    let mut addrs: [&'static [u8]; 2] = [
        if container { const { inside(HELP, b"0.0.0.0:8080") } } else { const { inside(HELP, b"127.0.0.1:8080") } },
        const { inside(HELP, b"127.0.0.1:9001") },
    ];
    let mut n: [u32; 5] = [1, 128, 10, 2, 1000];
    let mut i = 1;
    while let Some(opt) = sys::arg(i) {
        let val = sys::arg(i + 1);
        let ok = match (0..11).position(|k| text::same(opt, text::nth(OPTIONS, k))) {
            // Retries and their delay may be 0; the rest may not.
            Some(k @ 0..=4) => val.and_then(parse_dec).filter(|&v| v <= 100_000 && (v > 0 || k >= 3)).map(|v| n[k] = v as u32).is_some(),
            Some(k @ 5..=6) => val.filter(|&v| Addr::parse(v).is_some()).map(|v| addrs[k - 5] = v).is_some(),
            Some(7) => {
                i += 1;
                break;
            }
            Some(k) => {
                let version = concat!("faas-rie ", env!("CARGO_PKG_VERSION"), "\n");
                sys::write_all(1, if k == 8 { version.as_bytes() } else { HELP });
                sys::exit(0)
            }
            None if opt.first() == Some(&b'-') => fail(b"unknown option ", opt, TRY_HELP),
            None => break,
        };
        if !ok {
            fail(b"bad value for ", opt, TRY_HELP);
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
        // It runs in the task root, as on Lambda and in AWS's RIE (a
        // bootstrap named on the command line runs where faas-rie started).
        let task_root = getenv(const { inside(DEFAULTS, b"LAMBDA_TASK_ROOT=") });
        argv.s(task_root.unwrap_or(const { inside(DEFAULTS, b"/var/task") })).s(b"\0");
        sys::chdir(&argv);
        // As Lambda (and AWS's RIE): the function's own, then a layer's
        // (/opt), then the runtime's.
        for k in 0..5 {
            let dir = if k == 3 { task_root.unwrap_or_default() } else { text::nth(b"/var/task\0/opt\0/var/runtime\0\0", k) };
            argv.clear();
            argv.s(dir).s(b"/bootstrap\0");
            if sys::access(&argv, libc::F_OK) {
                break;
            }
        }
    }
    let path = text::nth(&argv, 0);
    if !sys::access(&argv[..path.len() + 1], libc::X_OK) {
        fail(const { inside(sys::CANNOT_EXEC, b"cannot execute ") }, path, b"\n");
    }

    let var = |n: &[u8], d: &'static [u8]| getenv(n).filter(|v| !v.is_empty()).unwrap_or(d);
    let name = var(const { inside(DEFAULTS, b"AWS_LAMBDA_FUNCTION_NAME=") }, const { inside(HELP, b"function") });
    let region = var(const { inside(DEFAULTS, b"AWS_REGION=") }, var(const { inside(DEFAULTS, b"AWS_DEFAULT_REGION=") }, const { inside(HELP, b"us-east-1") }));
    let memory = var(const { inside(DEFAULTS, b"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=") }, const { inside(HELP, b"3008") });
    let timeout = var(const { inside(HELP, b"AWS_LAMBDA_FUNCTION_TIMEOUT=") }, const { inside(HELP, b"300") });
    let timeout_s = parse_dec(timeout).filter(|&t| t > 0).unwrap_or(300).min(1 << 30);
    let mut stream = [0u8; 16];
    sys::random(&mut stream);
    let mut stream_name = Vec::new();
    stream_name.hex(&stream);

    // The bootstrap's environment: ours, but for AWS_LAMBDA_RUNTIME_API,
    // and Lambda's variables where they are missing.
    let mut env = Vec::new();
    let mut e = 0;
    while let Some(v) = sys::env(e) {
        if !v.starts_with(RUNTIME_API) {
            env.s(v).s(b"\0");
        }
        e += 1;
    }
    let handler = sys::arg(i + 1).unwrap_or(const { inside(server::REGISTERED[1], b"handler") });
    for k in 0..12 {
        let suffix = match k {
            0..2 => name,
            2..4 => region,
            4 => memory,
            5 => handler,
            6 => &stream_name,
            _ => b"",
        };
        let entry = text::nth(DEFAULTS, k);
        let var = &entry[..entry.iter().position(|&b| b == b'=').unwrap_or(0) + 1];
        if getenv(var).is_none() {
            env.s(entry).s(suffix).s(b"\0");
        }
    }
    // Both were checked, or are the defaults.
    let addr = |s| Addr::parse(s).unwrap_or_else(|| sys::exit(2));
    // Read-only from here on, for the whole run.
    alloc::boxed::Box::leak(alloc::boxed::Box::new(Config {
        listen: addr(addrs[0]),
        runtime_api: addr(addrs[1]),
        pool: n[0] as usize,
        queue: n[1] as usize,
        timeout_ms: timeout_s * 1000,
        init_ms: u64::from(n[2]) * 1000,
        retries: n[3].into(),
        retry_ms: n[4].into(),
        name,
        region,
        memory_mb: parse_dec(memory).unwrap_or(3008),
        argv,
        env,
    }))
}

/// The program, called by the entry point in [`sys`].
fn start() -> i32 {
    let cfg = config();
    if getenv(RUNTIME_API).is_some() {
        // On real Lambda: be the bootstrap.
        sys::exec(&cfg.argv);
        fail(b"exec failed", b"", b"\n");
    }
    server::run(cfg)
}
