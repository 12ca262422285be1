//! The only module that talks to libc; the rest of the crate denies unsafe
//! code. Sockets are non-blocking and every descriptor is close-on-exec, so
//! the child runtime inherits nothing but its stdout and stderr.
#![allow(unsafe_code)]

use alloc::vec::Vec;
use core::ffi::{c_char, c_int, c_void};

/// An owned descriptor; closed on drop.
#[derive(Debug)]
pub struct Fd(c_int);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: we own this descriptor and nobody uses it after drop.
        unsafe { libc::close(self.0) };
    }
}

impl Fd {
    pub fn raw(&self) -> c_int {
        self.0
    }
}

fn errno() -> c_int {
    // SAFETY: __errno_location always returns this thread's errno slot.
    unsafe { *libc::__errno_location() }
}

/// What a non-blocking read or write did.
pub enum Io {
    Done(usize),
    /// Nothing to do now: poll again.
    Again,
    /// End of stream or a broken connection.
    Closed,
}

fn io(n: isize) -> Io {
    match n {
        1.. => Io::Done(n as usize),
        0 => Io::Closed,
        _ if matches!(errno(), libc::EAGAIN | libc::EINTR) => Io::Again,
        _ => Io::Closed,
    }
}

pub fn read(fd: &Fd, buf: &mut [u8]) -> Io {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
    io(unsafe { libc::read(fd.0, buf.as_mut_ptr() as *mut c_void, buf.len()) })
}

/// Sends without ever raising SIGPIPE.
pub fn send(fd: &Fd, buf: &[u8]) -> Io {
    if buf.is_empty() {
        return Io::Done(0);
    }
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes.
    io(unsafe { libc::send(fd.0, buf.as_ptr() as *const c_void, buf.len(), libc::MSG_NOSIGNAL) })
}

/// Writes all of `buf` to a blocking descriptor (our stdout and stderr).
pub fn write_all(fd: c_int, mut buf: &[u8]) {
    while !buf.is_empty() {
        // SAFETY: `buf` is valid for reads of `buf.len()` bytes.
        let n = unsafe { libc::write(fd, buf.as_ptr() as *const c_void, buf.len()) };
        if n > 0 {
            buf = &buf[n as usize..];
        } else if n < 0 && errno() == libc::EINTR {
            continue;
        } else {
            return; // nobody reads our output: drop it rather than stop serving
        }
    }
}

fn sockaddr(ip: &[u8], port: u16) -> (libc::sockaddr_in6, libc::socklen_t, c_int) {
    // SAFETY: sockaddr_in6 is a plain C struct for which all-zero is valid.
    let mut sa: libc::sockaddr_in6 = unsafe { core::mem::zeroed() };
    if ip.len() == 4 {
        // SAFETY: sockaddr_in is smaller than sockaddr_in6 and has no invalid bit patterns.
        let v4 = unsafe { &mut *(&mut sa as *mut libc::sockaddr_in6 as *mut libc::sockaddr_in) };
        v4.sin_family = libc::AF_INET as libc::sa_family_t;
        v4.sin_port = port.to_be();
        v4.sin_addr.s_addr = u32::from_ne_bytes([ip[0], ip[1], ip[2], ip[3]]);
        (sa, core::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t, libc::AF_INET)
    } else {
        sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sa.sin6_port = port.to_be();
        sa.sin6_addr.s6_addr.copy_from_slice(&ip[..16]);
        (sa, core::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t, libc::AF_INET6)
    }
}

/// A non-blocking TCP listener on `ip` (4 or 16 bytes) and `port` (0: any);
/// returns it with the port actually bound.
pub fn listen(ip: &[u8], port: u16) -> Option<(Fd, u16)> {
    let (mut sa, len, family) = sockaddr(ip, port);
    // SAFETY: plain syscall; the descriptor is owned by `Fd` at once.
    let fd = Fd(unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, 0) });
    if fd.0 < 0 {
        return None;
    }
    let one: c_int = 1;
    let mut got = len;
    // SAFETY: every pointer refers to a live local of the size passed.
    let ok = unsafe {
        libc::setsockopt(fd.0, libc::SOL_SOCKET, libc::SO_REUSEADDR, &one as *const c_int as *const c_void, 4);
        libc::bind(fd.0, &sa as *const libc::sockaddr_in6 as *const libc::sockaddr, len) == 0
            && libc::listen(fd.0, 1024) == 0
            && libc::getsockname(fd.0, &mut sa as *mut libc::sockaddr_in6 as *mut libc::sockaddr, &mut got) == 0
    };
    // sin_port and sin6_port sit at the same offset.
    ok.then(|| (fd, u16::from_be(sa.sin6_port)))
}

/// Accepts one connection, non-blocking, with Nagle off (small heads must
/// not wait for an ACK).
pub fn accept(lst: &Fd) -> Option<Fd> {
    // SAFETY: NULL address arguments are allowed; the result is owned at once.
    let fd = unsafe { libc::accept4(lst.0, core::ptr::null_mut(), core::ptr::null_mut(), libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK) };
    if fd < 0 {
        return None;
    }
    let one: c_int = 1;
    // SAFETY: `one` outlives the call and its size is passed.
    unsafe { libc::setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, &one as *const c_int as *const c_void, 4) };
    Some(Fd(fd))
}

pub fn poll(fds: &mut [libc::pollfd], timeout_ms: c_int) {
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd.
    unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
}

fn sigset(sigs: &[c_int]) -> libc::sigset_t {
    // SAFETY: sigset_t is plain data, initialised by sigemptyset.
    let mut set: libc::sigset_t = unsafe { core::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t.
    unsafe {
        libc::sigemptyset(&mut set);
        for &s in sigs {
            libc::sigaddset(&mut set, s);
        }
    }
    set
}

/// Blocks SIGCHLD, SIGTERM and SIGINT and returns a signalfd that reports
/// them, so signals are handled in the poll loop like any other input.
/// SIGPIPE is ignored: a vanished reader is seen as a write error.
pub fn signals() -> Option<Fd> {
    let set = sigset(&[libc::SIGCHLD, libc::SIGTERM, libc::SIGINT]);
    // SAFETY: `set` is a valid sigset_t; SIG_IGN is a valid disposition.
    let fd = unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        libc::sigprocmask(libc::SIG_BLOCK, &set, core::ptr::null_mut());
        libc::signalfd(-1, &set, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK)
    };
    (fd >= 0).then_some(Fd(fd))
}

/// The next pending signal number from a signalfd, if any.
pub fn next_signal(fd: &Fd) -> Option<u32> {
    // SAFETY: signalfd_siginfo is plain data; the kernel fills it whole.
    let mut si: libc::signalfd_siginfo = unsafe { core::mem::zeroed() };
    let n = core::mem::size_of::<libc::signalfd_siginfo>();
    // SAFETY: `si` is valid for writes of `n` bytes.
    let got = unsafe { libc::read(fd.0, &mut si as *mut libc::signalfd_siginfo as *mut c_void, n) };
    (got == n as isize).then_some(si.ssi_signo)
}

/// A pipe for the child's stdout and stderr: (read end, non-blocking; write end).
pub fn pipe() -> Option<(Fd, Fd)> {
    let mut p = [0 as c_int; 2];
    // SAFETY: `p` has room for the two descriptors.
    let rc = unsafe { libc::pipe2(p.as_mut_ptr(), libc::O_CLOEXEC) };
    if rc != 0 {
        return None;
    }
    // SAFETY: p[0] is a descriptor we own.
    unsafe { libc::fcntl(p[0], libc::F_SETFL, libc::O_NONBLOCK) };
    Some((Fd(p[0]), Fd(p[1])))
}

/// NUL-terminated copies of strings, and the pointer array execve wants.
pub struct CArgs {
    _store: Vec<Vec<u8>>,
    ptrs: Vec<*const c_char>,
}

impl CArgs {
    pub fn new(items: &[Vec<u8>]) -> Self {
        let store: Vec<Vec<u8>> = items.iter().map(|s| s.iter().copied().filter(|&b| b != 0).chain([0]).collect()).collect();
        let mut ptrs: Vec<*const c_char> = store.iter().map(|s| s.as_ptr() as *const c_char).collect();
        ptrs.push(core::ptr::null());
        CArgs { _store: store, ptrs }
    }
}

/// Starts `argv[0]` with `argv` and `env`, its stdout and stderr on `out`, in
/// a process group of its own (so a timeout kills whatever it started too).
/// Returns the pid.
pub fn spawn(argv: &CArgs, env: &CArgs, out: &Fd) -> Option<i32> {
    let empty = sigset(&[]);
    // SAFETY: fork in a single-threaded process. The child only makes
    // async-signal-safe calls (setpgid, sigprocmask, signal, dup2, execve,
    // write, _exit) on memory prepared before the fork.
    unsafe {
        let pid = libc::fork();
        if pid == 0 {
            libc::setpgid(0, 0);
            libc::sigprocmask(libc::SIG_SETMASK, &empty, core::ptr::null_mut());
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::dup2(out.0, 1);
            libc::dup2(out.0, 2);
            libc::execve(argv.ptrs[0], argv.ptrs.as_ptr(), env.ptrs.as_ptr());
            let msg = b"faas-rie: cannot execute the bootstrap\n";
            libc::write(2, msg.as_ptr() as *const c_void, msg.len());
            libc::_exit(127);
        }
        if pid < 0 {
            return None;
        }
        libc::setpgid(pid, pid); // also here, so no kill can race the child's own call
        Some(pid)
    }
}

/// Replaces this process with `argv[0]` (the environment is kept); returns
/// only on failure.
pub fn exec(argv: &CArgs) {
    extern "C" {
        static environ: *const *const c_char;
    }
    let empty = sigset(&[]);
    // SAFETY: argv is a NULL-terminated array of NUL-terminated strings that
    // outlives the call; environ is the process environment.
    unsafe {
        libc::sigprocmask(libc::SIG_SETMASK, &empty, core::ptr::null_mut());
        libc::execve(argv.ptrs[0], argv.ptrs.as_ptr(), environ);
    }
}

/// Every `NAME=value` entry of our environment.
pub fn environment() -> Vec<&'static [u8]> {
    extern "C" {
        static environ: *const *const c_char;
    }
    let mut out = Vec::new();
    // SAFETY: environ is a NULL-terminated array of NUL-terminated strings,
    // which we never change, so they live for the whole process.
    unsafe {
        let mut p = environ;
        while !p.is_null() && !(*p).is_null() {
            out.push(core::ffi::CStr::from_ptr(*p).to_bytes());
            p = p.add(1);
        }
    }
    out
}

/// Sends `sig` to the process group of `pid`.
pub fn kill_group(pid: i32, sig: c_int) {
    // SAFETY: plain syscall.
    unsafe { libc::kill(-pid, sig) };
}

/// An exited child, not yet reaped: while it is a zombie its pid (and so
/// its process group id) cannot be reused, so its group can still be killed.
pub fn exited() -> Option<i32> {
    // SAFETY: siginfo_t is plain data, a valid out-parameter for waitid.
    let mut si: libc::siginfo_t = unsafe { core::mem::zeroed() };
    // SAFETY: as above; si_pid reads the field waitid filled in.
    let pid = unsafe {
        libc::waitid(libc::P_ALL, 0, &mut si, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT);
        si.si_pid()
    };
    (pid > 0).then_some(pid)
}

/// Reaps child `pid` (see [`exited`]): its wait status.
pub fn reap(pid: i32) -> c_int {
    let mut status: c_int = 0;
    // SAFETY: `status` is a valid out-parameter.
    unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    status
}

/// Orphans of our children become ours, so that we reap them.
pub fn subreaper() {
    // SAFETY: plain syscall.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1) };
}

/// Sends `sig` to process `pid` alone.
pub fn kill(pid: i32, sig: c_int) {
    // SAFETY: plain syscall.
    unsafe { libc::kill(pid, sig) };
}

/// Monotonic time in microseconds, for durations.
pub fn mono_us() -> u64 {
    clock(libc::CLOCK_MONOTONIC) / 1000
}

/// Unix time in milliseconds, for deadlines.
pub fn real_ms() -> u64 {
    clock(libc::CLOCK_REALTIME) / 1_000_000
}

fn clock(id: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid out-parameter.
    unsafe { libc::clock_gettime(id, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Random bytes for request ids and trace ids.
pub fn random(buf: &mut [u8]) {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes. If getrandom
    // fails, the ids mix in the clock, which is enough to tell them apart.
    unsafe { libc::getrandom(buf.as_mut_ptr() as *mut c_void, buf.len(), 0) };
}

/// The whole of a small file (e.g. /proc/PID/status), at most `max` bytes.
pub fn read_file(path: &[u8], max: usize) -> Option<Vec<u8>> {
    let path = CArgs::new(&[path.to_vec()]);
    // SAFETY: the path is NUL-terminated; the descriptor is owned at once.
    let fd = Fd(unsafe { libc::open(path.ptrs[0], libc::O_RDONLY | libc::O_CLOEXEC) });
    if fd.0 < 0 {
        return None;
    }
    let mut out = alloc::vec![0u8; max];
    let mut len = 0;
    while len < max {
        // SAFETY: the slice is valid for writes of its length.
        let n = unsafe { libc::read(fd.0, out[len..].as_mut_ptr() as *mut c_void, max - len) };
        if n <= 0 {
            break;
        }
        len += n as usize;
    }
    out.truncate(len);
    Some(out)
}

/// True if `path` names something we may execute.
pub fn executable(path: &[u8]) -> bool {
    let path = CArgs::new(&[path.to_vec()]);
    // SAFETY: the path is NUL-terminated.
    unsafe { libc::access(path.ptrs[0], libc::X_OK) == 0 }
}

/// True if `path` exists.
pub fn exists(path: &[u8]) -> bool {
    let path = CArgs::new(&[path.to_vec()]);
    // SAFETY: the path is NUL-terminated.
    unsafe { libc::access(path.ptrs[0], libc::F_OK) == 0 }
}

pub fn exit(code: c_int) -> ! {
    // SAFETY: _exit never returns and is always safe to call.
    unsafe { libc::_exit(code) }
}

/// The allocator. musl's malloc would cost 8 KB of the 64 KiB image budget,
/// so: power-of-two size classes from 16 B to 64 KiB with free lists, carved
/// from 1 MiB mmap arenas, and larger blocks as mappings of their own (grown
/// with mremap, so a 6 MiB payload is never copied while it grows).
/// GlobalAlloc hands `dealloc` the layout, so blocks need no header.
pub struct Alloc;

const CLASSES: usize = 13; // 16 << 12 = 64 KiB
const ARENA: usize = 1 << 20;

struct Heap {
    free: [*mut u8; CLASSES],
    bump: usize,
    end: usize,
}

struct HeapCell(core::cell::UnsafeCell<Heap>);
// SAFETY: faas-rie is single-threaded (the child after fork only execs).
unsafe impl Sync for HeapCell {}
static HEAP: HeapCell = HeapCell(core::cell::UnsafeCell::new(Heap { free: [core::ptr::null_mut(); CLASSES], bump: 0, end: 0 }));

/// The size class of a layout, or `None` for a large block. Alignments
/// above 16 are never asked for here and are refused.
fn class(l: core::alloc::Layout) -> Option<usize> {
    let size = l.size().max(16).next_power_of_two();
    (size <= 16 << (CLASSES - 1)).then(|| size.trailing_zeros() as usize - 4)
}

fn pages(n: usize) -> usize {
    (n + 4095) & !4095
}

fn map(len: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping touches no existing memory.
    let p = unsafe { libc::mmap(core::ptr::null_mut(), len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) };
    if p == libc::MAP_FAILED {
        core::ptr::null_mut()
    } else {
        p as *mut u8
    }
}

// SAFETY: blocks never overlap (a block is on a free list or handed out,
// never both), are aligned to 16 (arenas are page-aligned and every class
// is a multiple of 16), and large blocks are whole mappings.
unsafe impl core::alloc::GlobalAlloc for Alloc {
    unsafe fn alloc(&self, l: core::alloc::Layout) -> *mut u8 {
        if l.align() > 16 {
            return core::ptr::null_mut();
        }
        let Some(c) = class(l) else { return map(pages(l.size())) };
        let h = &mut *HEAP.0.get();
        let p = h.free[c];
        if !p.is_null() {
            h.free[c] = *(p as *mut *mut u8);
            return p;
        }
        let size = 16usize << c;
        if h.end - h.bump < size {
            let a = map(ARENA);
            if a.is_null() {
                return a;
            }
            (h.bump, h.end) = (a as usize, a as usize + ARENA);
        }
        h.bump += size;
        (h.bump - size) as *mut u8
    }

    unsafe fn dealloc(&self, p: *mut u8, l: core::alloc::Layout) {
        match class(l) {
            Some(c) => {
                let h = &mut *HEAP.0.get();
                *(p as *mut *mut u8) = h.free[c];
                h.free[c] = p;
            }
            None => {
                libc::munmap(p as *mut c_void, pages(l.size()));
            }
        }
    }

    unsafe fn realloc(&self, p: *mut u8, l: core::alloc::Layout, size: usize) -> *mut u8 {
        let new = core::alloc::Layout::from_size_align_unchecked(size, l.align());
        match (class(l), class(new)) {
            (None, None) => {
                let q = libc::mremap(p as *mut c_void, pages(l.size()), pages(size), libc::MREMAP_MAYMOVE);
                if q == libc::MAP_FAILED {
                    core::ptr::null_mut()
                } else {
                    q as *mut u8
                }
            }
            (a, b) if a == b => p,
            _ => {
                let q = self.alloc(new);
                if !q.is_null() {
                    core::ptr::copy_nonoverlapping(p, q, l.size().min(size));
                    self.dealloc(p, l);
                }
                q
            }
        }
    }
}

/// A panic or an allocation failure: say so and abort.
pub fn abort(msg: &[u8]) -> ! {
    write_all(2, msg);
    // SAFETY: abort never returns and is always safe to call.
    unsafe { libc::abort() }
}

/// The C entry point: collects the arguments and runs the program.
#[cfg(not(test))]
#[no_mangle]
pub extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    let mut args = Vec::new();
    for i in 1..argc.max(0) as usize {
        // SAFETY: the C runtime passes argc valid NUL-terminated strings,
        // which live for the whole process.
        args.push(unsafe { core::ffi::CStr::from_ptr(*argv.add(i)) }.to_bytes());
    }
    crate::start(&args)
}
