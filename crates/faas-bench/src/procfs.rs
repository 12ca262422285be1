//! What a contender costs, read from /proc: CPU time (scheduler nanoseconds
//! summed over its threads, and utime+stime in clock ticks) and memory (RSS,
//! PSS, private).

use std::fs;

/// CPU time a process has used so far.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    /// Sum of `/proc/PID/task/*/schedstat` run time: nanosecond resolution.
    pub sched_ns: u64,
    /// `/proc/PID/stat` utime + stime, in nanoseconds (clock-tick resolution).
    pub ticks_ns: u64,
}

impl Cpu {
    pub fn since(self, before: Cpu) -> Cpu {
        Cpu { sched_ns: self.sched_ns.saturating_sub(before.sched_ns), ticks_ns: self.ticks_ns.saturating_sub(before.ticks_ns) }
    }
}

fn clk_tck() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

pub fn cpu(pid: u32) -> Cpu {
    let mut sched_ns = 0;
    if let Ok(dir) = fs::read_dir(format!("/proc/{pid}/task")) {
        for t in dir.flatten() {
            if let Ok(s) = fs::read_to_string(t.path().join("schedstat")) {
                sched_ns += s.split_whitespace().next().and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            }
        }
    }
    let mut ticks_ns = 0;
    if let Ok(s) = fs::read_to_string(format!("/proc/{pid}/stat")) {
        // Fields after the ")" that closes the command name; utime and stime
        // are fields 14 and 15 of the whole line.
        if let Some(rest) = s.rfind(')').map(|i| &s[i + 2..]) {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let ut: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0);
            let st: u64 = f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
            ticks_ns = (ut + st) * 1_000_000_000 / clk_tck();
        }
    }
    Cpu { sched_ns, ticks_ns }
}

/// Resident set size in bytes (`VmRSS`).
pub fn rss(pid: u32) -> u64 {
    kb_field(&format!("/proc/{pid}/status"), "VmRSS:")
}

/// Proportional set size in bytes: shared pages divided among their users.
pub fn pss(pid: u32) -> u64 {
    kb_field(&format!("/proc/{pid}/smaps_rollup"), "Pss:")
}

/// Bytes resident in this process alone (`Private_Clean` + `Private_Dirty`):
/// RSS without the pages it shares with other processes, such as the C
/// library and the loader of a dynamic build.
pub fn private(pid: u32) -> u64 {
    let path = format!("/proc/{pid}/smaps_rollup");
    kb_field(&path, "Private_Clean:") + kb_field(&path, "Private_Dirty:")
}

fn kb_field(path: &str, name: &str) -> u64 {
    fs::read_to_string(path)
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<u64>().ok()))
        .map_or(0, |kb| kb * 1024)
}
