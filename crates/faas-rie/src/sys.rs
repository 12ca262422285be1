//! The only module with unsafe code: the program entry, Linux system calls,
//! the few memory functions the compiler calls, and the allocator. faas-rie
//! links no C library at all (its start-up code and wrappers would cost a
//! sixth of the 64 KiB image; glibc's memcpy would not even work without
//! its start-up code): `_start` is below, every call is a raw system call,
//! so any C compiler links it (`-nostdlib`). Sockets are non-blocking and
//! every descriptor is close-on-exec, so the child runtime inherits nothing
//! but its stdout and stderr.
#![allow(unsafe_code)]

use alloc::vec::Vec;
use core::ffi::{c_char, c_int};
use core::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering::Relaxed};

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!("faas-rie makes raw system calls for x86_64 and aarch64 only");

// A raw system call: `sc!(number, args..)` is the result, or `-errno`.
// Unsafe: the arguments must be valid for the call. Only the registers a
// call uses are loaded.
#[cfg(target_arch = "x86_64")]
macro_rules! sc {
    (@ $n:expr; $($r:tt = $a:expr),*) => {{
        let r: isize;
        core::arch::asm!("syscall", inlateout("rax") $n as isize => r, $(in($r) $a as usize,)* lateout("rcx") _, lateout("r11") _, options(nostack));
        r
    }};
    ($n:expr) => { sc!(@ $n;) };
    ($n:expr, $a:expr) => { sc!(@ $n; "rdi" = $a) };
    ($n:expr, $a:expr, $b:expr) => { sc!(@ $n; "rdi" = $a, "rsi" = $b) };
    ($n:expr, $a:expr, $b:expr, $c:expr) => { sc!(@ $n; "rdi" = $a, "rsi" = $b, "rdx" = $c) };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr) => { sc!(@ $n; "rdi" = $a, "rsi" = $b, "rdx" = $c, "r10" = $d) };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr) => { sc!(@ $n; "rdi" = $a, "rsi" = $b, "rdx" = $c, "r10" = $d, "r8" = $e) };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr) => { sc!(@ $n; "rdi" = $a, "rsi" = $b, "rdx" = $c, "r10" = $d, "r8" = $e, "r9" = $f) };
}

#[cfg(target_arch = "aarch64")]
macro_rules! sc {
    (@ $n:expr, $a:expr; $($r:tt = $b:expr),*) => {{
        let r: isize;
        core::arch::asm!("svc 0", in("x8") $n, inlateout("x0") $a as isize => r, $(in($r) $b as usize,)* options(nostack));
        r
    }};
    ($n:expr) => { sc!(@ $n, 0;) };
    ($n:expr, $a:expr) => { sc!(@ $n, $a;) };
    ($n:expr, $a:expr, $b:expr) => { sc!(@ $n, $a; "x1" = $b) };
    ($n:expr, $a:expr, $b:expr, $c:expr) => { sc!(@ $n, $a; "x1" = $b, "x2" = $c) };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr) => { sc!(@ $n, $a; "x1" = $b, "x2" = $c, "x3" = $d) };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr) => { sc!(@ $n, $a; "x1" = $b, "x2" = $c, "x3" = $d, "x4" = $e) };
    ($n:expr, $a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr) => { sc!(@ $n, $a; "x1" = $b, "x2" = $c, "x3" = $d, "x4" = $e, "x5" = $f) };
}

// The kernel starts us with argc, the argv pointers, NULL, the environment
// pointers and NULL on the stack; `start` gets that address.
#[cfg(all(not(test), target_arch = "x86_64"))]
core::arch::global_asm!(".globl _start", "_start:", "xor ebp, ebp", "mov rdi, rsp", "and rsp, -16", "call {0}", "ud2", sym start);
#[cfg(all(not(test), target_arch = "aarch64"))]
core::arch::global_asm!(".globl _start", "_start:", "mov x29, xzr", "mov x30, xzr", "mov x0, sp", "bl {0}", "brk #0", sym start);

// What the compiler calls for copies, fills and comparisons (strlen: it
// recognises the loop in `entry`; memcmp: debug builds). Written in assembly, so that no compiler
// turns their loops back into calls to themselves; on x86_64 the string
// instructions (fast on every CPU with ERMS), on aarch64 plain byte loops.
#[cfg(all(not(test), target_arch = "x86_64"))]
core::arch::global_asm!(
    ".globl memcpy, memmove, memset, memcmp, bcmp, strlen",
    "memmove:",
    "cmp rdi, rsi",
    "jbe memcpy",
    "mov rax, rdi",
    "lea rsi, [rsi + rdx - 1]",
    "lea rdi, [rdi + rdx - 1]",
    "mov rcx, rdx",
    "std",
    "rep movsb",
    "cld",
    "ret",
    "memcpy:",
    "mov rax, rdi",
    "mov rcx, rdx",
    "rep movsb",
    "ret",
    "memset:",
    "mov r8, rdi",
    "mov eax, esi",
    "mov rcx, rdx",
    "rep stosb",
    "mov rax, r8",
    "ret",
    "memcmp:",
    "bcmp:",
    "mov rcx, rdx",
    "xor eax, eax",
    "repe cmpsb",
    "je 1f",
    "movzx eax, byte ptr [rdi - 1]",
    "movzx ecx, byte ptr [rsi - 1]",
    "sub eax, ecx",
    "1: ret",
    "strlen:",
    "mov rcx, -1",
    "xor eax, eax",
    "repne scasb",
    "not rcx",
    "lea rax, [rcx - 1]",
    "ret",
);
#[cfg(all(not(test), target_arch = "aarch64"))]
core::arch::global_asm!(
    ".globl memcpy, memmove, memset, memcmp, bcmp, strlen",
    "memmove:",
    "cmp x0, x1",
    "b.ls memcpy",
    "add x1, x1, x2",
    "add x3, x0, x2",
    "cbz x2, 2f",
    "1: ldrb w4, [x1, #-1]!",
    "strb w4, [x3, #-1]!",
    "subs x2, x2, #1",
    "b.ne 1b",
    "2: ret",
    "memcpy:",
    "mov x3, x0",
    "cbz x2, 2f",
    "1: ldrb w4, [x1], #1",
    "strb w4, [x3], #1",
    "subs x2, x2, #1",
    "b.ne 1b",
    "2: ret",
    "memset:",
    "mov x3, x0",
    "cbz x2, 2f",
    "1: strb w1, [x3], #1",
    "subs x2, x2, #1",
    "b.ne 1b",
    "2: ret",
    "memcmp:",
    "bcmp:",
    "cbz x2, 2f",
    "1: ldrb w3, [x0], #1",
    "ldrb w4, [x1], #1",
    "subs w3, w3, w4",
    "b.ne 3f",
    "subs x2, x2, #1",
    "b.ne 1b",
    "2: mov w0, #0",
    "ret",
    "3: mov w0, w3",
    "ret",
    "strlen:",
    "mov x1, x0",
    "1: ldrb w2, [x1], #1",
    "cbnz w2, 1b",
    "sub x0, x1, x0",
    "sub x0, x0, #1",
    "ret",
);

static ARGC: AtomicUsize = AtomicUsize::new(0);
static ARGV: AtomicPtr<*const c_char> = AtomicPtr::new(core::ptr::null_mut());
static ENVP: AtomicPtr<*const c_char> = AtomicPtr::new(core::ptr::null_mut());

/// The entry point proper, called by `_start`.
///
/// # Safety
/// `sp` is the initial stack pointer the kernel set: argc, then the argv
/// and environment arrays.
#[cfg(not(test))]
unsafe extern "C" fn start(sp: *const usize) -> ! {
    let argv = sp.add(1) as *mut *const c_char;
    ARGC.store(*sp, Relaxed);
    ARGV.store(argv, Relaxed);
    ENVP.store(argv.add(*sp + 1), Relaxed);
    exit(crate::start())
}

/// Debug builds of `core` still name an unwinder; release builds do not.
/// (Here, not in lib.rs: `no_mangle` counts as unsafe code.)
#[cfg(all(not(test), debug_assertions))]
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

/// Entry `i` of a NULL-terminated array of C strings, as bytes.
fn entry(list: &AtomicPtr<*const c_char>, i: usize) -> Option<&'static [u8]> {
    let p = list.load(Relaxed);
    if p.is_null() {
        return None;
    }
    // SAFETY: the kernel's argv and environment arrays are NULL-terminated,
    // their strings NUL-terminated; we never change them, so they live for
    // the whole process. `i` never passes the NULL: callers stop there.
    unsafe {
        let s = *p.add(i);
        if s.is_null() {
            return None;
        }
        let mut n = 0;
        while *s.add(n) != 0 {
            n += 1;
        }
        Some(core::slice::from_raw_parts(s.cast::<u8>(), n))
    }
}

/// Command-line argument `i` (0 is the program).
pub fn arg(i: usize) -> Option<&'static [u8]> {
    if i < ARGC.load(Relaxed) {
        entry(&ARGV, i)
    } else {
        None
    }
}

/// Environment entry `i` (`NAME=value`).
pub fn env(i: usize) -> Option<&'static [u8]> {
    entry(&ENVP, i)
}

/// An owned descriptor; closed on drop.
#[derive(Debug)]
pub struct Fd(c_int);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: we own this descriptor and nobody uses it after drop.
        unsafe { sc!(libc::SYS_close, self.0) };
    }
}

impl Fd {
    pub fn raw(&self) -> c_int {
        self.0
    }
}

fn fd(r: isize) -> Option<Fd> {
    (r >= 0).then(|| Fd(r as c_int))
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
        _ if n == -(libc::EAGAIN as isize) || n == -(libc::EINTR as isize) => Io::Again,
        _ => Io::Closed,
    }
}

/// Reads what there is into the spare room of `v`, making room for 16 KiB
/// at least (no zero-filling, no copy).
pub fn read_more(fd: &Fd, v: &mut Vec<u8>) -> Io {
    v.reserve(16 * 1024);
    let (len, room) = (v.len(), v.capacity() - v.len());
    // SAFETY: the spare capacity is valid for writes of `room` bytes, and
    // only the bytes read are then counted in.
    unsafe {
        let r = io(sc!(libc::SYS_read, fd.0, v.as_mut_ptr().add(len), room));
        if let Io::Done(n) = r {
            v.set_len(len + n);
        }
        r
    }
}

/// Sends without ever raising SIGPIPE.
pub fn send(fd: &Fd, buf: &[u8]) -> Io {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes.
    io(unsafe { sc!(libc::SYS_sendto, fd.0, buf.as_ptr(), buf.len(), libc::MSG_NOSIGNAL, 0, 0) })
}

/// Writes all of `buf` to a blocking descriptor (our stdout and stderr).
#[inline(never)]
pub fn write_all(fd: c_int, mut buf: &[u8]) {
    while !buf.is_empty() {
        // SAFETY: `buf` is valid for reads of `buf.len()` bytes.
        let n = unsafe { sc!(libc::SYS_write, fd, buf.as_ptr(), buf.len()) };
        if n > 0 {
            buf = &buf[n as usize..];
        } else if n != -(libc::EINTR as isize) {
            return; // nobody reads our output: drop it rather than stop serving
        }
    }
}

/// Ends our side of a connection (the peer reads end of stream) while we
/// still read what it sends.
pub fn shutdown_write(fd: &Fd) {
    // SAFETY: plain system call on a descriptor we own.
    unsafe { sc!(libc::SYS_shutdown, fd.0, libc::SHUT_WR) };
}

/// A non-blocking TCP listener on `ip` (4 or 16 bytes) and `port` (0: any);
/// returns it with the port actually bound.
pub fn listen(ip: &[u8], port: u16) -> Option<(Fd, u16)> {
    // sockaddr_in and sockaddr_in6 agree on family and port; an IPv4 address
    // sits at offset 4, an IPv6 one at offset 8.
    let mut sa = [0u8; 28];
    let v4 = ip.len() == 4;
    let family = if v4 { libc::AF_INET } else { libc::AF_INET6 };
    sa[..2].copy_from_slice(&(family as u16).to_ne_bytes());
    sa[2..4].copy_from_slice(&port.to_be_bytes());
    let at = if v4 { 4 } else { 8 };
    faas::http::copy(&mut sa[at..], ip); // (copy_from_slice: a panic path)
    let len = if v4 { 16 } else { 28 };
    let one: c_int = 1;
    let mut got = len as libc::socklen_t;
    // SAFETY: every pointer refers to a live local of the size passed; the
    // descriptor is owned by `Fd` at once.
    unsafe {
        let fd = fd(sc!(libc::SYS_socket, family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, 0))?;
        sc!(libc::SYS_setsockopt, fd.0, libc::SOL_SOCKET, libc::SO_REUSEADDR, &one as *const c_int, 4);
        let ok = sc!(libc::SYS_bind, fd.0, sa.as_ptr(), len) == 0
            && sc!(libc::SYS_listen, fd.0, 1024) == 0
            && sc!(libc::SYS_getsockname, fd.0, sa.as_mut_ptr(), &mut got as *mut libc::socklen_t) == 0;
        ok.then(|| (fd, u16::from_be_bytes([sa[2], sa[3]])))
    }
}

/// Accepts one connection, non-blocking, with Nagle off (small heads must
/// not wait for an ACK). `Err(true)`: none for want of a descriptor.
pub fn accept(lst: &Fd) -> Result<Fd, bool> {
    let one: c_int = 1;
    // SAFETY: NULL address arguments are allowed; the result is owned at
    // once; `one` outlives the call and its size is passed.
    unsafe {
        let r = sc!(libc::SYS_accept4, lst.0, 0, 0, libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK);
        let fd = fd(r).ok_or(r == -(libc::EMFILE as isize) || r == -(libc::ENFILE as isize))?;
        sc!(libc::SYS_setsockopt, fd.0, libc::IPPROTO_TCP, libc::TCP_NODELAY, &one as *const c_int, 4);
        Ok(fd)
    }
}

/// Our limit on open descriptors as we found it (soft, hard), for the
/// runtimes: as Lambda's 1,024, not what we raised it to.
static NOFILE: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// Raises the soft limit on open descriptors to the hard one (each
/// connection holds one, and 1,024, a common soft limit, is no more than
/// the connections we take); returns the limit.
pub fn nofile() -> u64 {
    let [soft, hard] = raise_nofile();
    NOFILE[0].store(soft, Relaxed);
    NOFILE[1].store(hard, Relaxed);
    hard
}

/// Sets the soft limit on open descriptors to the hard one; returns both as
/// they were (zeros if they cannot be read).
fn raise_nofile() -> [u64; 2] {
    let mut r = [0u64; 2];
    // SAFETY: `r` is a struct rlimit64, read and then written by the kernel.
    unsafe {
        if sc!(libc::SYS_prlimit64, 0, libc::RLIMIT_NOFILE, 0, r.as_mut_ptr()) == 0 {
            sc!(libc::SYS_prlimit64, 0, libc::RLIMIT_NOFILE, [r[1]; 2].as_ptr(), 0);
        }
    }
    r
}

/// Waits for the descriptors (`timeout_ms` < 0: no limit). ppoll refuses
/// more descriptors than the soft limit on open files: if that was lowered
/// from outside, it is raised to the hard limit again, and this call sleeps
/// (100 ms at most) rather than return at once, so the loop cannot spin.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i64) {
    let ts = [timeout_ms / 1000, timeout_ms % 1000 * 1_000_000];
    let tsp = if timeout_ms < 0 { core::ptr::null() } else { ts.as_ptr() };
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd; `ts` is a timespec.
    if unsafe { sc!(libc::SYS_ppoll, fds.as_mut_ptr(), fds.len(), tsp, 0, 8) } == -(libc::EINVAL as isize) {
        raise_nofile();
        let nap = [0, if timeout_ms < 0 { 100 } else { timeout_ms.min(100) } * 1_000_000];
        // SAFETY: `nap` is a timespec.
        unsafe { sc!(libc::SYS_nanosleep, nap.as_ptr(), 0) };
    }
}

const fn bit(sig: c_int) -> u64 {
    1 << (sig - 1)
}

/// Blocks SIGCHLD, SIGTERM, SIGINT and SIGPIPE, and returns a signalfd for
/// the first three, so signals are handled in the poll loop like any other
/// input. SIGPIPE stays blocked: a vanished reader is seen as a write error.
pub fn signals() -> Option<Fd> {
    let set = bit(libc::SIGCHLD) | bit(libc::SIGTERM) | bit(libc::SIGINT);
    let all = set | bit(libc::SIGPIPE);
    // SAFETY: the sets are kernel sigsets of 8 bytes, as passed.
    unsafe {
        sc!(libc::SYS_rt_sigprocmask, libc::SIG_BLOCK, &all as *const u64, 0, 8);
        fd(sc!(libc::SYS_signalfd4, -1i32, &set as *const u64, 8, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK))
    }
}

/// The next pending signal number from a signalfd, if any.
pub fn next_signal(fd: &Fd) -> Option<u32> {
    // A signalfd_siginfo (128 bytes); ssi_signo comes first.
    let mut si = core::mem::MaybeUninit::<[u32; 32]>::uninit();
    // SAFETY: `si` is valid for writes of its 128 bytes; ssi_signo is read
    // only once the kernel wrote the whole of it.
    unsafe { (sc!(libc::SYS_read, fd.0, si.as_mut_ptr(), 128) == 128).then(|| *(si.as_ptr() as *const u32)) }
}

/// A pipe for the child's stdout and stderr: (read end, non-blocking; write end).
pub fn pipe() -> Option<(Fd, Fd)> {
    let mut p = [0 as c_int; 2];
    // SAFETY: `p` has room for the two descriptors, which we then own.
    unsafe {
        if sc!(libc::SYS_pipe2, p.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return None;
        }
        sc!(libc::SYS_fcntl, p[0], libc::F_SETFL, libc::O_NONBLOCK);
    }
    Some((Fd(p[0]), Fd(p[1])))
}

/// The pointer array execve wants, over NUL-terminated strings laid end to end.
fn c_list(block: &[u8]) -> Vec<*const c_char> {
    let mut v = Vec::new();
    let mut at = 0;
    for (i, &b) in block.iter().enumerate() {
        if b == 0 {
            v.push(block[at..].as_ptr() as *const c_char);
            at = i + 1;
        }
    }
    v.push(core::ptr::null());
    v
}

/// What the child says if the bootstrap cannot be executed.
pub const CANNOT_EXEC: &[u8] = b"faas-rie: cannot execute the bootstrap\n";

/// Starts the program `argv` (NUL-terminated strings laid end to end) with
/// the environment `env` (the same), its stdout and stderr on `out`, in a
/// process group of its own (so a timeout kills whatever it started too),
/// with the limit on descriptors we were started with. Returns the pid.
pub fn spawn(argv: &[u8], env: &[u8], out: &Fd) -> Option<i32> {
    let (argv, env) = (c_list(argv), c_list(env));
    let lim = [NOFILE[0].load(Relaxed), NOFILE[1].load(Relaxed)];
    // SAFETY: a fork (clone with only SIGCHLD) of a single-threaded
    // process. The child makes only system calls, on memory prepared before
    // the fork, then execs or exits.
    unsafe {
        let pid = sc!(libc::SYS_clone, libc::SIGCHLD, 0, 0, 0, 0);
        if pid == 0 {
            sc!(libc::SYS_setpgid, 0, 0);
            sc!(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &0u64 as *const u64, 0, 8);
            if lim[1] > 0 {
                sc!(libc::SYS_prlimit64, 0, libc::RLIMIT_NOFILE, lim.as_ptr(), 0);
            }
            sc!(libc::SYS_dup3, out.0, 1, 0);
            sc!(libc::SYS_dup3, out.0, 2, 0);
            sc!(libc::SYS_execve, argv[0], argv.as_ptr(), env.as_ptr());
            write_all(2, CANNOT_EXEC);
            exit(127);
        }
        if pid < 0 {
            return None;
        }
        sc!(libc::SYS_setpgid, pid, pid); // also here, so no kill can race the child's own call
        Some(pid as i32)
    }
}

/// Replaces this process with the program `argv` (NUL-terminated strings
/// laid end to end), keeping our environment and signal mask (nothing has
/// been blocked yet); returns only on failure.
pub fn exec(argv: &[u8]) {
    let argv = c_list(argv);
    // SAFETY: both arrays are NULL-terminated arrays of NUL-terminated
    // strings that outlive the call.
    unsafe { sc!(libc::SYS_execve, argv[0], argv.as_ptr(), ENVP.load(Relaxed)) };
}

/// Sends `sig` to process `pid`, or to its process group if `pid` < 0.
pub fn kill(pid: i32, sig: c_int) {
    // SAFETY: plain system call.
    unsafe { sc!(libc::SYS_kill, pid, sig) };
}

/// An exited child, not yet reaped: while it is a zombie its pid (and so
/// its process group id) cannot be reused, so its group can still be killed.
pub fn exited() -> Option<i32> {
    // A siginfo_t (128 bytes); si_pid is at offset 16 on 64-bit Linux, and
    // Linux always writes it (0 when no child has exited).
    let mut si = core::mem::MaybeUninit::<[i32; 32]>::uninit();
    // SAFETY: `si` is valid for writes of its 128 bytes; si_pid is read
    // only after a successful call, which wrote it.
    let pid = unsafe {
        let ok = sc!(libc::SYS_waitid, libc::P_ALL, 0, si.as_mut_ptr(), libc::WEXITED | libc::WNOHANG | libc::WNOWAIT, 0) == 0;
        if ok {
            *(si.as_ptr() as *const i32).add(4)
        } else {
            0
        }
    };
    (pid > 0).then_some(pid)
}

/// Reaps child `pid` (see [`exited`]): its wait status, and its peak
/// resident memory in KiB (/proc no longer has it).
#[inline(never)]
pub fn reap(pid: i32) -> (c_int, u64) {
    let mut status: c_int = 0;
    // SAFETY: an all-zero rusage is valid; both are valid out-parameters.
    let mut ru: libc::rusage = unsafe { core::mem::zeroed() };
    unsafe { sc!(libc::SYS_wait4, pid, &mut status as *mut c_int, libc::WNOHANG, &mut ru as *mut libc::rusage) };
    (status, ru.ru_maxrss as u64)
}

/// Orphans of our children become ours, so that we reap them.
pub fn subreaper() {
    // SAFETY: plain system call.
    unsafe { sc!(libc::SYS_prctl, libc::PR_SET_CHILD_SUBREAPER, 1) };
}

/// Monotonic time in microseconds, for durations.
pub fn mono_us() -> u64 {
    clock(libc::CLOCK_MONOTONIC) / 1000
}

/// Unix time in milliseconds, for deadlines.
pub fn real_ms() -> u64 {
    clock(libc::CLOCK_REALTIME) / 1_000_000
}

#[inline(never)]
fn clock(id: libc::clockid_t) -> u64 {
    let mut ts = [0u64; 2];
    // SAFETY: `ts` is a valid timespec out-parameter.
    unsafe { sc!(libc::SYS_clock_gettime, id, ts.as_mut_ptr()) };
    ts[0] * 1_000_000_000 + ts[1]
}

/// Random bytes for request ids and trace ids.
pub fn random(buf: &mut [u8]) {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes. If getrandom
    // fails, the ids mix in the clock, which is enough to tell them apart.
    unsafe { sc!(libc::SYS_getrandom, buf.as_mut_ptr(), buf.len(), 0) };
}

/// A small file (e.g. /proc/PID/status; the path NUL-terminated), empty
/// if it cannot be read.
pub fn read_file(path: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    if path.last() == Some(&0) {
        // SAFETY: the path is NUL-terminated; the descriptor is owned at once.
        if let Some(fd) = fd(unsafe { sc!(libc::SYS_openat, libc::AT_FDCWD, path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) }) {
            while let Io::Done(_) = read_more(&fd, &mut v) {}
        }
    }
    v
}

/// True if the NUL-terminated `path` may be accessed with `mode`
/// (`libc::F_OK`: exists; `libc::X_OK`: may be executed).
pub fn access(path: &[u8], mode: c_int) -> bool {
    if path.last() != Some(&0) {
        return false;
    }
    // SAFETY: the path is NUL-terminated.
    unsafe { sc!(libc::SYS_faccessat, libc::AT_FDCWD, path.as_ptr(), mode, 0) == 0 }
}

/// Makes `path` (NUL-terminated) the working directory, if it can.
pub fn chdir(path: &[u8]) {
    if path.last() == Some(&0) {
        // SAFETY: the path is NUL-terminated.
        unsafe { sc!(libc::SYS_chdir, path.as_ptr()) };
    }
}

#[inline(never)]
pub fn exit(code: c_int) -> ! {
    // SAFETY: exit_group never returns.
    unsafe {
        sc!(libc::SYS_exit_group, code);
        core::hint::unreachable_unchecked()
    }
}

/// A panic or an allocation failure: say so and abort.
pub fn abort(msg: &[u8]) -> ! {
    write_all(2, msg);
    // SAFETY: plain system calls.
    unsafe { sc!(libc::SYS_kill, sc!(libc::SYS_getpid), libc::SIGABRT) };
    exit(134)
}

/// The allocator: power-of-two size classes from 16 B to 64 KiB with free
/// lists, carved from 1 MiB mmap arenas, and larger blocks as mappings of
/// their own (grown with mremap, so a 6 MiB payload is never copied while
/// it grows). GlobalAlloc hands `dealloc` the layout, so blocks need no header.
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

/// A failed mapping call returns -errno: null.
#[inline(never)]
fn mapped(p: isize) -> *mut u8 {
    if (p as usize) > (-4096isize) as usize {
        core::ptr::null_mut()
    } else {
        p as *mut u8
    }
}

fn map(len: usize) -> *mut u8 {
    // SAFETY: an anonymous private mapping touches no existing memory.
    mapped(unsafe { sc!(libc::SYS_mmap, 0, len, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1i32, 0) })
}

// SAFETY: blocks never overlap (a block is on a free list or handed out,
// never both), are aligned to 16 (arenas are page-aligned and every class
// is a multiple of 16), and large blocks are whole mappings.
unsafe impl core::alloc::GlobalAlloc for Alloc {
    unsafe fn alloc(&self, l: core::alloc::Layout) -> *mut u8 {
        if l.align() > 16 {
            return core::ptr::null_mut();
        }
        let Some(c) = class(l) else {
            return map(pages(l.size()));
        };
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
                sc!(libc::SYS_munmap, p, pages(l.size()));
            }
        }
    }

    unsafe fn realloc(&self, p: *mut u8, l: core::alloc::Layout, size: usize) -> *mut u8 {
        let new = core::alloc::Layout::from_size_align_unchecked(size, l.align());
        match (class(l), class(new)) {
            (None, None) => mapped(sc!(libc::SYS_mremap, p, pages(l.size()), pages(size), libc::MREMAP_MAYMOVE)),
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
