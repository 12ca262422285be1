//! The only module that talks to libc. Everything `unsafe` in the crate lives
//! here, behind small safe functions; the rest of the crate denies unsafe code.
#![allow(unsafe_code)]

use crate::Error;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// An owned socket; closed on drop.
#[derive(Debug)]
pub struct Fd(i32);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: we own this descriptor and nobody uses it after drop.
        unsafe { libc::close(self.0) };
    }
}

impl Fd {
    pub fn raw(&self) -> i32 {
        self.0
    }
}

/// Opens a TCP connection to an IPv6 address, or with `v6` false to the
/// IPv4 address in the first 4 bytes of `ip`.
pub fn connect(v6: bool, ip: &[u8; 16], port: u16) -> Result<Fd, Error> {
    // SAFETY: sockaddr_in/_in6 are plain C structs for which all-zero is valid.
    let mut sa4: libc::sockaddr_in = unsafe { core::mem::zeroed() };
    // SAFETY: as above.
    let mut sa6: libc::sockaddr_in6 = unsafe { core::mem::zeroed() };
    let (family, sa, len) = if v6 {
        sa6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sa6.sin6_port = port.to_be();
        sa6.sin6_addr.s6_addr = *ip;
        (libc::AF_INET6, &sa6 as *const libc::sockaddr_in6 as *const libc::sockaddr, core::mem::size_of::<libc::sockaddr_in6>())
    } else {
        sa4.sin_family = libc::AF_INET as libc::sa_family_t;
        sa4.sin_port = port.to_be();
        sa4.sin_addr.s_addr = u32::from_ne_bytes([ip[0], ip[1], ip[2], ip[3]]);
        (libc::AF_INET, &sa4 as *const libc::sockaddr_in as *const libc::sockaddr, core::mem::size_of::<libc::sockaddr_in>())
    };
    // SAFETY: plain syscall; the returned descriptor is owned by `Fd` at once.
    // (A direct system call: musl's wrapper adds a fallback for kernels
    // older than 2.6.27, ~190 B of a static bootstrap.)
    let fd = unsafe { libc::syscall(libc::SYS_socket, family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) } as i32;
    if fd < 0 {
        return Err(Error::Connect);
    }
    let fd = Fd(fd);
    let one: libc::c_int = 1;
    // SAFETY: `one` outlives the call and its size is passed.
    unsafe {
        libc::setsockopt(
            fd.0,
            libc::IPPROTO_TCP,
            libc::TCP_NODELAY,
            &one as *const libc::c_int as *const libc::c_void,
            core::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    loop {
        // SAFETY: `sa` points to a live sockaddr of `len` bytes.
        let rc = unsafe { libc::connect(fd.0, sa, len as libc::socklen_t) };
        if rc == 0 {
            return Ok(fd);
        }
        if errno() != libc::EINTR {
            return Err(Error::Connect);
        }
    }
}

/// libc's `inet_pton` for an IPv6 (`v6`) or IPv4 literal: true once `out`
/// holds the address (16 or 4 bytes, network order).
pub fn inet_pton(v6: bool, text: &[u8], out: &mut [u8; 16]) -> bool {
    let mut z = [0u8; 48];
    if text.len() >= z.len() || text.iter().any(|&b| b == 0) {
        return false;
    }
    for (d, s) in z.iter_mut().zip(text) {
        *d = *s;
    }
    extern "C" {
        fn inet_pton(af: libc::c_int, src: *const libc::c_char, dst: *mut libc::c_void) -> libc::c_int;
    }
    let family = if v6 { libc::AF_INET6 } else { libc::AF_INET };
    // SAFETY: `z` is NUL-terminated and `out` has room for an in6_addr.
    unsafe { inet_pton(family, z.as_ptr() as *const libc::c_char, out.as_mut_ptr() as *mut libc::c_void) == 1 }
}

fn errno() -> i32 {
    // SAFETY: __errno_location always returns this thread's errno slot.
    unsafe { *libc::__errno_location() }
}

/// Reads what is available, at least one byte; `Ok(0)` is end of stream.
pub fn read(fd: &Fd, buf: &mut [u8]) -> Result<usize, Error> {
    read_until(fd, buf, false)
}

/// True if the peer closed or reset a kept-alive connection while it was
/// idle (or sent something unasked): it cannot carry a request. A send to
/// such a socket still succeeds once, so only a look ahead tells. Never blocks.
pub fn stale(fd: &Fd) -> bool {
    let mut b = 0u8;
    // SAFETY: `b` is valid for a write of one byte.
    let n = unsafe { libc::recv(fd.0, &mut b as *mut u8 as *mut libc::c_void, 1, libc::MSG_PEEK | libc::MSG_DONTWAIT) };
    n >= 0 || errno() != libc::EAGAIN
}

/// [`read`], but with `stop_on_sigterm` a SIGTERM (see [`catch_sigterm`])
/// ends the wait with [`Error::Shutdown`]: for the long poll on `/next`.
/// No SIGTERM is lost between the caller's last look at the flag and the
/// wait: the socket is published first, and the handler shuts it down,
/// which ends a `recv` that had not begun yet as well as one in progress.
pub fn read_until(fd: &Fd, buf: &mut [u8], stop_on_sigterm: bool) -> Result<usize, Error> {
    if stop_on_sigterm {
        LONG_POLL.store(fd.0, Ordering::SeqCst);
    }
    let r = loop {
        if stop_on_sigterm && SHUTDOWN.load(Ordering::SeqCst) {
            break Err(Error::Shutdown);
        }
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
        let n = unsafe { libc::recv(fd.0, buf.as_mut_ptr() as *mut libc::c_void, buf.len(), 0) };
        if n >= 0 && !(stop_on_sigterm && SHUTDOWN.load(Ordering::SeqCst)) {
            break Ok(n as usize);
        }
        if n < 0 && errno() != libc::EINTR {
            break Err(Error::Io);
        }
    };
    if stop_on_sigterm {
        LONG_POLL.store(-1, Ordering::SeqCst);
    }
    r
}

static SHUTDOWN: AtomicBool = AtomicBool::new(false);
/// The socket of a long poll in progress, or -1.
static LONG_POLL: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_sigterm(_: libc::c_int) {
    SHUTDOWN.store(true, Ordering::SeqCst);
    let fd = LONG_POLL.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: shutdown(2) is async-signal-safe; the socket is open
        // while it is published, and nothing more is read from it.
        unsafe { libc::shutdown(fd, libc::SHUT_RD) };
    }
}

/// Makes SIGTERM set a flag and interrupt a blocking read (no SA_RESTART),
/// so a long poll on `/next` ends with [`Error::Shutdown`].
pub fn catch_sigterm() {
    // SAFETY: sigaction is a plain C struct for which all-zero is valid (no
    // flags, empty mask); the handler only uses atomics and shutdown(2),
    // which are async-signal-safe.
    unsafe {
        let mut sa: libc::sigaction = core::mem::zeroed();
        sa.sa_sigaction = on_sigterm as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigaction(libc::SIGTERM, &sa, core::ptr::null_mut());
    }
}

/// True once SIGTERM arrived (after [`catch_sigterm`]).
pub fn shutdown_requested() -> bool {
    SHUTDOWN.load(Ordering::Relaxed)
}

/// Writes every byte of every part (at most 8), in order, with as few
/// syscalls as the kernel allows. Never raises SIGPIPE.
pub fn send_all(fd: &Fd, parts: &[&[u8]]) -> Result<(), Error> {
    let mut iov = [libc::iovec { iov_base: core::ptr::null_mut(), iov_len: 0 }; 8];
    for (v, p) in iov.iter_mut().zip(parts) {
        *v = libc::iovec { iov_base: p.as_ptr() as *mut libc::c_void, iov_len: p.len() };
    }
    let (mut first, end) = (0, parts.len().min(8));
    while let Some(rest) = iov.get_mut(first..end).filter(|r| !r.is_empty()) {
        // SAFETY: msghdr is a plain C struct; all-zero is a valid empty message.
        let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
        msg.msg_iov = rest.as_mut_ptr();
        msg.msg_iovlen = rest.len() as _;
        // SAFETY: every iovec points into a slice borrowed for this call.
        // A direct system call: musl's sendmsg copies the header to pad it
        // (~320 B of a static bootstrap); zeroed, the struct is already in
        // the kernel's layout.
        let n = unsafe { libc::syscall(libc::SYS_sendmsg, fd.0, &msg as *const libc::msghdr, libc::MSG_NOSIGNAL) } as isize;
        if n < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return Err(Error::Io);
        }
        // Skip what was sent: whole entries, then part of one.
        let mut n = n as usize;
        for v in rest {
            let k = n.min(v.iov_len);
            v.iov_base = (v.iov_base as *mut u8).wrapping_add(k) as *mut libc::c_void;
            v.iov_len -= k;
            n -= k;
            if v.iov_len > 0 {
                break;
            }
            first += 1;
        }
    }
    Ok(())
}

/// Copies what fits of `src` to the start of `dst` (one memcpy); returns
/// the bytes copied.
pub fn copy(dst: &mut [u8], src: &[u8]) -> usize {
    let n = dst.len().min(src.len());
    // SAFETY: `n` bytes are in bounds of both, and a `&mut` never overlaps a `&`.
    unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr(), n) };
    n
}

/// Moves `buf[from..from + n]` down to `buf[to..]` (`to <= from`), as
/// `copy_within` does but with no panic path: out-of-range does nothing.
pub fn move_down(buf: &mut [u8], from: usize, to: usize, n: usize) {
    if to < from && from.checked_add(n).is_some_and(|end| end <= buf.len()) {
        // SAFETY: both ranges are inside `buf` (checked); ptr::copy allows overlap.
        unsafe { core::ptr::copy(buf.as_ptr().add(from), buf.as_mut_ptr().add(to), n) }
    }
}

/// ASCII bytes as a `str`, without pulling in the UTF-8 validator.
pub fn ascii(b: &[u8]) -> Option<&str> {
    // SAFETY: ASCII is valid UTF-8.
    crate::http::is_ascii(b).then(|| unsafe { core::str::from_utf8_unchecked(b) })
}

/// `b` as a C string, if it ends in its only NUL (as `CStr::from_bytes_with_nul`,
/// whose unrolled search for the NUL costs ~200 B).
pub fn cstr(b: &[u8]) -> Option<&core::ffi::CStr> {
    match b.split_last() {
        // SAFETY: `b` ends in a NUL and holds no other.
        Some((0, s)) if s.iter().all(|&c| c != 0) => Some(unsafe { core::ffi::CStr::from_bytes_with_nul_unchecked(b) }),
        _ => None,
    }
}

/// The value of an environment variable, if set and ASCII. (A walk over
/// `environ`, as libc's getenv does; musl's costs ~450 B of a static
/// bootstrap, and faas walks `environ` anyway for the trace id.)
pub fn getenv(name: &core::ffi::CStr) -> Option<&'static str> {
    let name = name.to_bytes_with_nul();
    // SAFETY: `environ` is a NULL-terminated array of NUL-terminated
    // strings; `starts_with` stops at the first byte that differs, which
    // an entry's NUL is for any name (whose NUL stands for the `=`).
    unsafe {
        let mut p = environ;
        while !p.is_null() && !(*p).is_null() {
            if let Some(n) = starts_with(*p, name) {
                // Entries faas hands out like this are never changed.
                return ascii(core::ffi::CStr::from_ptr((*p).add(n)).to_bytes());
            }
            p = p.add(1);
        }
    }
    None
}

/// If the C string `s` starts with `prefix` (whose last byte, a NUL, must
/// match a `=`), the length of the prefix.
///
/// # Safety
/// `s` is a NUL-terminated string.
unsafe fn starts_with(s: *const libc::c_char, prefix: &[u8]) -> Option<usize> {
    let last = prefix.len().checked_sub(1)?;
    for (k, &b) in prefix.iter().enumerate() {
        let want = if k == last { b'=' } else { b };
        // SAFETY: the bytes before index k matched non-NUL bytes, so s[k]
        // is at most the terminating NUL.
        if unsafe { *s.cast::<u8>().add(k) } != want {
            return None;
        }
    }
    Some(prefix.len())
}

/// Capacity of the `_X_AMZN_TRACE_ID=` entry; longer trace ids are not set.
const TRACE_CAP: usize = 1024;
/// Entries the environment may hold once faas has to extend it.
const ENV_CAP: usize = 512;
const TRACE_NAME: &[u8] = b"_X_AMZN_TRACE_ID=";
/// The name as [`starts_with`] takes it (the NUL stands for `=`).
const TRACE_VAR: &[u8] = b"_X_AMZN_TRACE_ID\0";

struct Env {
    /// The `_X_AMZN_TRACE_ID=value` entry, NUL-terminated.
    entry: [u8; TRACE_CAP],
    /// A copy of the environment with room for the entry, used once the
    /// original array has no free slot.
    vars: [*mut libc::c_char; ENV_CAP],
    /// faas removed the variable and has not set it since: an invocation
    /// without a trace id then costs no walk over the environment.
    unset: bool,
    /// Where `entry` was put in `vars`: while `environ` is still `vars` and
    /// that slot still points at `entry`, a new value is only copied in.
    slot: usize,
}
static ENV: Cell<Env> = Cell(UnsafeCell::new(Env { entry: [0; TRACE_CAP], vars: [core::ptr::null_mut(); ENV_CAP], unset: false, slot: 0 }));

extern "C" {
    static mut environ: *mut *mut libc::c_char;
}

/// Sets `_X_AMZN_TRACE_ID` to `value`, or unsets it for `None`. faas edits
/// the environment array itself, pointing at one static entry: unlike
/// setenv/putenv this allocates nothing and keeps nothing per invocation
/// (glibc's setenv keeps every value it was given). Values over 1 KiB, or
/// an environment of more than 510 variables, leave the variable unset.
pub fn set_trace_id(value: Option<&core::ffi::CStr>) {
    // SAFETY: single-threaded. `environ` is a NULL-terminated array of
    // NUL-terminated strings; we only read entries up to the NULL, swap
    // pointers within it, or point it at our static copy of it.
    unsafe {
        let env = &mut *ENV.0.get();
        if value.is_none() && env.unset {
            return;
        }
        env.unset = value.is_none();
        let entry = env.entry.as_mut_ptr() as *mut libc::c_char;
        let value = value.map(core::ffi::CStr::to_bytes_with_nul).filter(|v| TRACE_NAME.len() + v.len() <= TRACE_CAP);
        let vars = environ;
        let (mut n, mut found) = (0, None);
        // The usual case, a new value for the entry faas put in its own
        // array (which a setenv would have replaced): no walk.
        if value.is_some() && vars == env.vars.as_mut_ptr() && env.vars.get(env.slot) == Some(&entry) {
            found = Some(env.slot);
        } else {
            while !vars.is_null() && !(*vars.add(n)).is_null() {
                if starts_with(*vars.add(n), TRACE_VAR).is_some() {
                    found = Some(n);
                }
                n += 1;
            }
        }
        match (value, found) {
            (None, None) => {}
            (None, Some(i)) => {
                // Swap-remove: the last entry takes its place.
                *vars.add(i) = *vars.add(n - 1);
                *vars.add(n - 1) = core::ptr::null_mut();
            }
            (Some(v), _) => {
                let (name, rest) = env.entry.split_at_mut(TRACE_NAME.len());
                copy(name, TRACE_NAME);
                copy(rest, v);
                if let Some(i) = found {
                    *vars.add(i) = entry;
                    env.slot = i;
                } else if let Some([last, end]) = env.vars.get_mut(n..n + 2) {
                    env.slot = n;
                    // Append in our copy (`vars` may be the copy already).
                    *last = entry;
                    *end = core::ptr::null_mut();
                    if vars != env.vars.as_mut_ptr() {
                        for (i, d) in env.vars.iter_mut().take(n).enumerate() {
                            *d = *vars.add(i);
                        }
                        environ = env.vars.as_mut_ptr();
                    }
                }
            }
        }
    }
}

/// Unix time in milliseconds. A direct system call: musl's vDSO lookup
/// would add more to a static bootstrap than the call costs (it is only made
/// for logs and `remaining_ms`).
pub fn now_ms() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid out-parameter for clock_gettime.
    unsafe { libc::syscall(libc::SYS_clock_gettime, libc::CLOCK_REALTIME, &mut ts as *mut libc::timespec) };
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

/// Writes all of `parts` to stderr as one write where possible (one log line).
pub fn stderr(parts: &[&[u8]]) {
    let fd = core::mem::ManuallyDrop::new(Fd(2));
    let mut iov = [libc::iovec { iov_base: core::ptr::null_mut(), iov_len: 0 }; 8];
    let cnt = parts.len().min(8);
    for (v, p) in iov.iter_mut().zip(parts) {
        *v = libc::iovec { iov_base: p.as_ptr() as *mut libc::c_void, iov_len: p.len() };
    }
    // SAFETY: every iovec points into a slice borrowed for this call. A short
    // write to stderr loses part of a log line, which is all we can do.
    let _ = unsafe { libc::writev(fd.0, iov.as_ptr(), cnt as i32) };
}

/// Ends the process at once, without running atexit handlers.
pub fn exit(code: i32) -> ! {
    // SAFETY: _exit never returns and is always safe to call.
    unsafe { libc::_exit(code) }
}

/// Size of each of the two big buffers: the largest event or response
/// (6 MiB) plus room for framing.
pub const BIG: usize = 6 * 1024 * 1024 + 64 * 1024;
/// Size of the buffer for the /next response head: 1 MiB. Lambda's heads
/// stay under a few KiB (it limits what a caller can add, such as the client
/// context, to 3,583 bytes), but emulators pass a caller's values on
/// unchecked (AWS's RIE a client context of any size); untouched, the
/// buffer costs nothing.
pub const HEAD: usize = 1024 * 1024;

/// The runtime's storage: zero-initialised statics, so they live in .bss and
/// cost neither file size nor memory until a page is touched.
pub struct Storage {
    pub head: &'static mut [u8; HEAD],
    pub event: &'static mut [u8; BIG],
    pub out: &'static mut [u8; BIG],
}

struct Cell<T>(UnsafeCell<T>);
// SAFETY: handed out at most once, guarded by OWNER; the invocation state
// is touched only on the thread that holds it (see `on_runtime_thread`).
unsafe impl<T> Sync for Cell<T> {}
static HEAD_BUF: Cell<[u8; HEAD]> = Cell(UnsafeCell::new([0; HEAD]));
static EVENT_BUF: Cell<[u8; BIG]> = Cell(UnsafeCell::new([0; BIG]));
static OUT_BUF: Cell<[u8; BIG]> = Cell(UnsafeCell::new([0; BIG]));
/// The thread id of the thread that took the storage (the one that runs the
/// runtime); 0 before.
static OWNER: AtomicI32 = AtomicI32::new(0);

fn thread_id() -> i32 {
    // SAFETY: gettid takes no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as i32 }
}

/// Sets OWNER to `id` if it is still 0, atomically; true if it did.
#[cfg(not(target_arch = "aarch64"))]
fn claim(id: i32) -> bool {
    OWNER.compare_exchange(0, id, Ordering::AcqRel, Ordering::Acquire).is_ok()
}

/// The same compare-and-swap, spelled out. On aarch64 Rust outlines every
/// atomic read-modify-write into a libgcc helper that probes the CPU for LSE
/// first (a constructor and getauxval): ~1.4 KB of a ~21 KB static bootstrap
/// for this one call (`-C target-feature=-outline-atomics` is unstable, and
/// `+lse` would shut out ARMv8.0 CPUs such as the Raspberry Pi 4's). An
/// exclusive load/store pair (ARMv8.0: any aarch64 CPU) takes six instructions.
#[cfg(target_arch = "aarch64")]
fn claim(id: i32) -> bool {
    let old: i32;
    // SAFETY: OWNER is an aligned static i32 that only atomic operations
    // touch; LDAXR/STLXR retry until the store is exclusive, and CLREX drops
    // the reservation when OWNER was taken already.
    unsafe {
        core::arch::asm!(
            "2: ldaxr {old:w}, [{p}]",
            "cbnz {old:w}, 3f",
            "stlxr {fail:w}, {id:w}, [{p}]",
            "cbnz {fail:w}, 2b",
            "b 4f",
            "3: clrex",
            "4:",
            p = in(reg) OWNER.as_ptr(),
            id = in(reg) id,
            old = out(reg) old,
            fail = out(reg) _,
            options(nostack),
        );
    }
    old == 0
}

/// Hands out the static storage, once per process, to the calling thread.
pub fn storage() -> Option<Storage> {
    if !claim(thread_id()) {
        return None;
    }
    // SAFETY: OWNER guarantees these exclusive references are made only once.
    unsafe { Some(Storage { head: &mut *HEAD_BUF.0.get(), event: &mut *EVENT_BUF.0.get(), out: &mut *OUT_BUF.0.get() }) }
}

/// The current invocation, for logs and for a panic to report itself: the
/// runtime's address, the request id, and the socket of a stream in progress.
/// All-zero when empty, so the static costs no file size (.bss).
pub struct Current {
    /// `AWS_LAMBDA_RUNTIME_API`, once it parsed (a `&str`, so that the
    /// empty state is all zero and the static lives in .bss).
    pub addr: Option<&'static str>,
    /// The current invocation's id; empty between invocations.
    pub request_id: heapless::String<{ crate::runtime::MAX_REQUEST_ID }>,
    /// The socket of a stream in progress, plus one; 0 for none.
    pub stream_fd1: i32,
    /// The init hook is running (a panic then posts `/init/error`).
    pub init: bool,
}
static PANIC: Cell<Current> = Cell(UnsafeCell::new(Current { addr: None, request_id: heapless::String::new(), stream_fd1: 0, init: false }));

/// True on the thread that runs the runtime, or before the runtime started
/// (nothing writes the invocation state then). A program with threads (std)
/// may log or panic on others, which must leave that state alone.
pub fn on_runtime_thread() -> bool {
    let owner = OWNER.load(Ordering::Acquire);
    owner == 0 || owner == thread_id()
}

/// Gives access to the current invocation's state. Only the runtime's
/// thread writes it, and the closures given here never call back into it;
/// what other threads could call (logging, panic reports) checks
/// [`on_runtime_thread`] first.
pub fn with_current(f: &mut dyn FnMut(&mut Current)) {
    // SAFETY: see above, and every caller's `f` only copies in or out
    // (none logs, posts or calls back here), so this is the only borrow.
    f(unsafe { &mut *PANIC.0.get() })
}

/// A descriptor borrowed by number (the panic path), never closed.
pub fn borrow_fd(raw: i32) -> core::mem::ManuallyDrop<Fd> {
    core::mem::ManuallyDrop::new(Fd(raw))
}

/// Aborts the process (SIGABRT), as a Rust panic with panic = "abort" does.
pub fn abort() -> ! {
    // SAFETY: abort never returns and is always safe to call.
    unsafe { libc::abort() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cstr_is_core_from_bytes_with_nul() {
        for b in [&b""[..], b"\0", b"a\0", b"ab", b"a\0b\0", b"\0\0", b"abc\0"] {
            assert_eq!(cstr(b), core::ffi::CStr::from_bytes_with_nul(b).ok(), "{b:?}");
        }
    }
}
