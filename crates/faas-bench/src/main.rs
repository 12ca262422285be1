//! faas-bench: the driver behind `make bench` (issue 4).
//!
//! It plays the Lambda Runtime API on loopback, spawns every contender with
//! `AWS_LAMBDA_RUNTIME_API` pointing at itself and measures, side by side in
//! one run: sizes, cold start, warm invocations, memory and switching between
//! many warm functions. It writes `report.md`, SVG charts and `results.json`
//! to the output folder. `make bench` builds the contenders first; this
//! binary only runs them. `faas-bench --help` lists the options.

mod charts;
mod procfs;
mod report;
mod server;
mod stats;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use server::{Instance, Proto, Res, EVENT};

/// How much work a run does. `quick` keeps `make bench-quick` under a minute.
#[derive(Clone, Debug)]
pub struct Plan {
    pub quick: bool,
    /// Repeated runs of the warm measurement.
    pub rounds: usize,
    /// How many of those rounds (the first ones) go on to `total`
    /// invocations for the memory figures; the others stop after the timed
    /// window. RSS growth is a count of pages, not a timing: two rounds show
    /// its spread, and the run stays near ten minutes.
    pub mem_rounds: usize,
    /// Invocations before the timed window.
    pub warmup: u64,
    /// Timed invocations per round.
    pub warm: u64,
    /// Invocations in a memory round (RSS is read along the way).
    pub total: u64,
    /// Cold starts per contender.
    pub cold: usize,
    /// Functions kept warm at once for the switching figure.
    pub functions: usize,
    /// Round-robin passes over them (the first is not timed).
    pub passes: usize,
    pub density_reps: usize,
    /// `podman run` cold starts per image.
    pub podman_runs: usize,
    /// Invocations of the two runs under callgrind whose difference gives
    /// the user-space instructions of one warm invocation.
    pub instr_runs: (u64, u64),
}

impl Plan {
    fn full() -> Plan {
        Plan {
            quick: false,
            rounds: 5,
            mem_rounds: 2,
            warmup: 1_000,
            warm: 10_000,
            total: 100_000,
            cold: 20,
            functions: 100,
            passes: 11,
            density_reps: 3,
            podman_runs: 5,
            instr_runs: (200, 2_200),
        }
    }
    fn quick() -> Plan {
        Plan {
            quick: true,
            rounds: 2,
            mem_rounds: 1,
            warmup: 200,
            warm: 2_000,
            total: 10_000,
            cold: 5,
            functions: 20,
            passes: 4,
            density_reps: 1,
            podman_runs: 1,
            instr_runs: (50, 250),
        }
    }
    /// Invocation counts at which RSS is read.
    pub fn rss_points(&self) -> Vec<u64> {
        [1, 10, 100, 1_000, 10_000, 100_000].into_iter().filter(|&n| n <= self.total).collect()
    }
}

/// One program measured.
#[derive(Clone, Debug)]
pub struct Contender {
    pub id: &'static str,
    pub label: &'static str,
    pub proto: Proto,
    pub bin: PathBuf,
    pub zip: Option<PathBuf>,
    /// Static: goes into FROM-scratch images.
    pub image: bool,
}

fn contenders(root: &Path) -> Vec<Contender> {
    let b = |p: &str| root.join(p);
    let c = |id, label, proto, bin: &str, zip: Option<&str>, image| Contender { id, label, proto, bin: b(bin), zip: zip.map(b), image };
    vec![
        c("floor", "floor: TCP ping-pong, no HTTP (C, static)", Proto::Floor, "out/bench/bin/floor", None, false),
        c("bare-c", "bare C Runtime API loop (static)", Proto::RuntimeApi, "out/bench/bin/bare-c", Some("out/bench/zip/bare-c.zip"), true),
        c("faas-c-static", "faas echo-c (static, musl)", Proto::RuntimeApi, "out/static/echo-c", None, true),
        c("faas-rs-static", "faas echo-rs (static, musl)", Proto::RuntimeApi, "out/static/echo-rs", None, true),
        c("faas-c-dyn", "faas echo-c (dynamic, glibc)", Proto::RuntimeApi, "out/dynamic/echo-c", Some("out/zip/echo-c.zip"), false),
        c("faas-rs-dyn", "faas echo-rs (dynamic, glibc)", Proto::RuntimeApi, "out/dynamic/echo-rs", Some("out/zip/echo-rs.zip"), false),
        c("official-o3", "lambda_runtime, opt-level 3 (dynamic)", Proto::RuntimeApi, "out/bench/bin/official-o3", Some("out/bench/zip/official-o3.zip"), false),
        c("official-z", "lambda_runtime, opt-level z (dynamic)", Proto::RuntimeApi, "out/bench/bin/official-z", Some("out/bench/zip/official-z.zip"), false),
        c("official-o3-static", "lambda_runtime, opt-level 3 (static glibc)", Proto::RuntimeApi, "out/bench/bin/official-o3-static", None, true),
        c(
            "official-cpp",
            "aws-lambda-cpp 0.2.6 + curl 7.83.1, the official C++ runtime (dynamic)",
            Proto::RuntimeApi,
            "out/bench/bin/official-cpp",
            Some("out/bench/zip/official-cpp.zip"),
            false,
        ),
    ]
}

/// What `official-cpp` is built from (the Makefile pins the sdist by hash).
pub const CPP_VERSIONS: &str = "aws-lambda-cpp 0.2.6, curl 7.83.1 (from the awslambdaric 4.2.2 sdist)";

/// The contender every ratio is taken against.
pub const REFERENCE: &str = "faas-rs-static";

/// One round of the warm and memory measurement for one contender.
#[derive(Clone, Debug, Default)]
pub struct Warm {
    pub p50_us: f64,
    pub p99_us: f64,
    pub inv_per_s: f64,
    /// Scheduler CPU time of the runtime per invocation, over the timed window.
    pub cpu_us: f64,
    /// utime+stime per invocation over the whole round (tick resolution, so
    /// taken over every invocation).
    pub cpu_ticks_us: f64,
    /// (invocations so far, RSS bytes).
    pub rss: Vec<(u64, u64)>,
    /// Bytes of RSS in this process alone, after the last invocation.
    pub private: u64,
    /// Invocations in this round: `total` in a memory round, else warm-up
    /// and timed ones.
    pub invocations: u64,
}

#[derive(Clone, Debug, Default)]
pub struct Density {
    pub functions: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    pub rss_total: u64,
    pub pss_total: u64,
}

#[derive(Clone, Debug)]
pub enum Image {
    /// `podman image inspect` size.
    Built { bytes: u64, tag: String },
    /// No usable container engine: the sum of the files the image would hold.
    Estimated { bytes: u64, why: String },
    /// Not measurable (e.g. faas-rie not built yet).
    Pending(String),
}

impl Image {
    pub fn bytes(&self) -> Option<u64> {
        match self {
            Image::Built { bytes, .. } | Image::Estimated { bytes, .. } => Some(*bytes),
            Image::Pending(_) => None,
        }
    }
}

/// Everything measured for one contender.
#[derive(Clone, Debug)]
pub struct Row {
    pub c: Contender,
    pub failed: Option<String>,
    pub binary: Option<u64>,
    pub zip: Option<u64>,
    pub image: Option<Image>,
    pub image_rie: Option<Image>,
    pub cold_next_ms: Vec<f64>,
    pub cold_first_ms: Vec<f64>,
    pub warm: Vec<Warm>,
    pub density: Vec<Density>,
    /// `podman run` to first answered invocation, driver as the Runtime API.
    pub podman_ms: Vec<f64>,
    pub podman_note: Option<String>,
    /// `podman run` to first answered invocation through faas-rie.
    pub podman_rie_ms: Vec<f64>,
    pub podman_rie_note: Option<String>,
    /// User-space instructions per warm invocation (callgrind), or why not.
    pub instructions: Result<f64, String>,
    /// Instructions, and CPUID instructions among them, from exec to the
    /// first connect(2) (`startup`, single-stepped), or why not.
    pub startup: Result<(u64, u64), String>,
}

impl Row {
    pub fn ok(&self) -> bool {
        self.failed.is_none()
    }
    fn fail(&mut self, phase: &str, e: String) {
        if self.failed.is_none() {
            eprintln!("  !! {} failed in {phase}: {e}", self.c.id);
            self.failed = Some(format!("{phase}: {e}"));
        }
    }
}

pub struct Ctx {
    pub root: PathBuf,
    pub out: PathBuf,
    pub plan: Plan,
    pub start: Instant,
    pub podman: Result<String, String>,
    pub rie: Option<PathBuf>,
    /// What one CPUID instruction takes here, in µs (`startup --cpuid-cost`).
    pub cpuid_us: Result<f64, String>,
    pub finished_in: Duration,
}

impl Ctx {
    fn log(&self) -> PathBuf {
        self.out.join("contenders.log")
    }
    fn progress(&self, msg: &str) {
        eprintln!("[{:6.1}s] {msg}", self.start.elapsed().as_secs_f64());
    }
}

const USAGE: &str = "faas-bench: faas against the alternatives, side by side (make bench)

usage: faas-bench [--quick] [--root DIR] [--out DIR] [--functions N] [--rounds N] [--mem-rounds N] [--only ID,ID] [--no-podman]

  --quick        a small run (under a minute): make bench-quick
  --root DIR     the repository (default: .); contenders are read from DIR/out
  --out DIR      where report.md, results.json and the charts go (default: ROOT/out/bench)
  --functions N  warm functions kept at once for the switching figure (default 100; quick 20)
  --rounds N     repeated warm runs (default 5; quick 2)
  --mem-rounds N how many of them go on to 100,000 invocations (10,000 quick)
                 for the memory figures (default 2; quick 1)
  --only IDS     measure only these contenders (comma separated)
  --no-podman    skip container images and podman runs

Contenders are built by `make bench-build`; a missing one is reported as failed.
Exit status: 0 when every contender passed its echo check, 1 otherwise, 2 on bad usage.";

fn main() {
    let mut plan = Plan::full();
    let (mut root, mut out, mut only, mut podman, mut functions, mut rounds) = (PathBuf::from("."), None, None::<Vec<String>>, true, None, None);
    let mut mem_rounds = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = |name: &str| args.next().unwrap_or_else(|| usage_error(&format!("{name} needs a value")));
        match a.as_str() {
            "--quick" => plan = Plan::quick(),
            "--root" => root = PathBuf::from(val("--root")),
            "--out" => out = Some(PathBuf::from(val("--out"))),
            "--functions" => functions = Some(val("--functions").parse::<usize>().unwrap_or_else(|_| usage_error("--functions: a number"))),
            "--rounds" => rounds = Some(val("--rounds").parse::<usize>().unwrap_or_else(|_| usage_error("--rounds: a number"))),
            "--mem-rounds" => mem_rounds = Some(val("--mem-rounds").parse::<usize>().unwrap_or_else(|_| usage_error("--mem-rounds: a number"))),
            "--only" => only = Some(val("--only").split(',').map(str::to_string).collect()),
            "--no-podman" => podman = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => usage_error(&format!("unknown argument {other}")),
        }
    }
    if let Some(n) = functions {
        plan.functions = n.clamp(1, 1000);
    }
    if let Some(n) = rounds {
        plan.rounds = n.clamp(1, 50);
    }
    if let Some(n) = mem_rounds {
        plan.mem_rounds = n;
    }
    plan.mem_rounds = plan.mem_rounds.clamp(1, plan.rounds);
    let root = root.canonicalize().unwrap_or(root);
    let out = out.unwrap_or_else(|| root.join("out/bench"));
    std::fs::create_dir_all(&out).unwrap_or_else(|e| fatal(&format!("{}: {e}", out.display())));
    let _ = std::fs::remove_file(out.join("contenders.log"));
    let rie = Some(root.join("out/bin/faas-rie")).filter(|p| p.is_file());
    let mut ctx = Ctx {
        root: root.clone(),
        out,
        plan,
        start: Instant::now(),
        podman: Err("--no-podman".into()),
        rie,
        cpuid_us: Err("not measured".into()),
        finished_in: Duration::ZERO,
    };
    if podman {
        ctx.podman = probe_podman();
    }
    let mut rows: Vec<Row> = contenders(&root)
        .into_iter()
        .filter(|c| only.as_ref().is_none_or(|o| o.iter().any(|x| x == c.id)))
        .map(|c| Row {
            c,
            failed: None,
            binary: None,
            zip: None,
            image: None,
            image_rie: None,
            cold_next_ms: vec![],
            cold_first_ms: vec![],
            warm: vec![],
            density: vec![],
            podman_ms: vec![],
            podman_note: None,
            podman_rie_ms: vec![],
            podman_rie_note: None,
            instructions: Err("not measured".into()),
            startup: Err("not measured".into()),
        })
        .collect();
    ctx.progress(&format!(
        "faas-bench {} run: {} contenders; podman: {}; faas-rie: {}",
        if ctx.plan.quick { "quick" } else { "full" },
        rows.len(),
        ctx.podman.as_ref().map_or_else(|e| format!("unusable ({e})"), |v| v.clone()),
        ctx.rie.as_ref().map_or("not built yet (out/bin/faas-rie)".to_string(), |p| p.display().to_string())
    ));

    echo_checks(&ctx, &mut rows);
    sizes(&ctx, &mut rows);
    cold(&ctx, &mut rows);
    ctx.cpuid_us = startup(&ctx, &mut rows);
    warm(&ctx, &mut rows);
    instructions(&ctx, &mut rows);
    density(&ctx, &mut rows);
    podman_runs(&ctx, &mut rows);
    ctx.finished_in = ctx.start.elapsed();

    let summary = report::summary_table(&ctx, &rows);
    println!("\n{summary}");
    if let Err(e) = report::write_all(&ctx, &rows) {
        fatal(&format!("writing the report: {e}"));
    }
    ctx.progress(&format!("wrote {0}/report.md, {0}/results.json and the charts", ctx.out.display()));
    let failed: Vec<&str> = rows.iter().filter(|r| !r.ok()).map(|r| r.c.id).collect();
    if !failed.is_empty() {
        eprintln!("failed contenders: {}", failed.join(", "));
        std::process::exit(1);
    }
}

fn usage_error(msg: &str) -> ! {
    eprintln!("faas-bench: {msg}\n\n{USAGE}");
    std::process::exit(2)
}

fn fatal(msg: &str) -> ! {
    eprintln!("faas-bench: {msg}");
    std::process::exit(1)
}

fn spawn(ctx: &Ctx, c: &Contender, name: &str) -> Res<Instance> {
    if !c.bin.is_file() {
        return Err(format!("{} is not built (run `make bench-build`)", c.bin.display()));
    }
    let bin = c.bin.clone();
    Instance::spawn(c.proto, name, &ctx.log(), move |_| Command::new(bin))
}

/// Every contender must echo the event before it is timed at all.
fn echo_checks(ctx: &Ctx, rows: &mut [Row]) {
    ctx.progress("echo check: every contender must return the event unchanged");
    for r in rows.iter_mut() {
        let res = (|| {
            let mut i = spawn(ctx, &r.c, "echo-check")?;
            i.ready()?;
            for _ in 0..3 {
                i.invoke(EVENT)?;
            }
            let big: Vec<u8> = format!("{{\"data\":\"{}\"}}", "x".repeat(32 * 1024)).into_bytes();
            if r.c.proto == Proto::RuntimeApi {
                i.invoke(&big)?;
            }
            i.stop();
            Ok::<_, String>(())
        })();
        match res {
            Ok(()) => eprintln!("  ok   {}", r.c.id),
            Err(e) => r.fail("echo check", e),
        }
    }
}

fn file_size(p: &Path) -> Option<u64> {
    std::fs::metadata(p).ok().map(|m| m.len())
}

/// Runs a command with a time limit; returns stdout on success.
pub fn run_cmd(cmd: &mut Command, limit: Duration) -> Res<String> {
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| e.to_string())?;
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {}s", limit.as_secs()));
            }
        }
    }
    let o = child.wait_with_output().map_err(|e| e.to_string())?;
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
    } else {
        let err = String::from_utf8_lossy(&o.stderr);
        Err(format!("{}: {}", o.status, err.trim().lines().last().unwrap_or("")))
    }
}

fn podman() -> Command {
    let mut c = Command::new("podman");
    // runc, not crun: crun fails on these machines' hybrid cgroup layout.
    c.args(["--runtime", "runc"]);
    c
}

/// podman's ulimits must not exceed the host's hard limits (no CAP_SYS_RESOURCE here).
const ULIMITS: [&str; 4] = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];

fn probe_podman() -> Result<String, String> {
    let v = run_cmd(Command::new("podman").arg("--version"), Duration::from_secs(20)).map_err(|e| format!("podman --version: {e}"))?;
    run_cmd(podman().args(["images", "-q"]), Duration::from_secs(30)).map_err(|e| format!("podman images: {e}"))?;
    Ok(v)
}

fn sizes(ctx: &Ctx, rows: &mut [Row]) {
    ctx.progress("sizes: binaries, zips, FROM-scratch images");
    let rie_size = ctx.rie.as_deref().and_then(file_size);
    for r in rows.iter_mut() {
        r.binary = file_size(&r.c.bin);
        r.zip = r.c.zip.as_deref().and_then(file_size);
        if !r.c.image || r.binary.is_none() {
            continue;
        }
        r.image = Some(build_image(ctx, &r.c, false, r.binary.unwrap()));
        r.image_rie = Some(match (&ctx.rie, rie_size) {
            (Some(_), Some(n)) => build_image(ctx, &r.c, true, r.binary.unwrap() + n),
            _ => Image::Pending("faas-rie is not built yet (out/bin/faas-rie, `make rie`)".into()),
        });
    }
}

fn image_tag(c: &Contender, rie: bool) -> String {
    format!("localhost/faas-bench-{}{}:latest", c.id, if rie { "-rie" } else { "" })
}

/// A FROM-scratch image: the bootstrap alone (`/bootstrap`), or faas-rie as
/// the entrypoint with the bootstrap at /var/task/bootstrap.
fn build_image(ctx: &Ctx, c: &Contender, rie: bool, file_bytes: u64) -> Image {
    let why = match &ctx.podman {
        Err(e) => e.clone(),
        Ok(_) => {
            let dir = ctx.out.join("images").join(format!("{}{}", c.id, if rie { "-rie" } else { "" }));
            let _ = std::fs::remove_dir_all(&dir);
            let res = (|| {
                std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
                std::fs::copy(&c.bin, dir.join("bootstrap")).map_err(|e| e.to_string())?;
                let file = if rie {
                    std::fs::copy(ctx.rie.as_ref().unwrap(), dir.join("faas-rie")).map_err(|e| e.to_string())?;
                    "FROM scratch\nCOPY faas-rie /faas-rie\nCOPY bootstrap /var/task/bootstrap\nENTRYPOINT [\"/faas-rie\"]\n"
                } else {
                    "FROM scratch\nCOPY bootstrap /bootstrap\nENTRYPOINT [\"/bootstrap\"]\n"
                };
                std::fs::write(dir.join("Containerfile"), file).map_err(|e| e.to_string())?;
                let tag = image_tag(c, rie);
                // The image this replaces goes (with its intermediate layers),
                // so that runs leave no unnamed images behind.
                let _ = run_cmd(podman().args(["rmi", &tag]), Duration::from_secs(60));
                run_cmd(podman().args(["build", "-q", "-t", &tag, "-f"]).arg(dir.join("Containerfile")).arg(&dir), Duration::from_secs(120))?;
                let size = run_cmd(podman().args(["image", "inspect", "--format", "{{.Size}}", &tag]), Duration::from_secs(30))?;
                let bytes = size.trim().parse::<u64>().map_err(|e| format!("image size {size:?}: {e}"))?;
                Ok::<_, String>(Image::Built { bytes, tag })
            })();
            match res {
                Ok(i) => return i,
                Err(e) => format!("podman build failed: {e}"),
            }
        }
    };
    Image::Estimated { bytes: file_bytes, why }
}

/// Spawn to first `GET /next`, and to the first answered invocation.
fn cold(ctx: &Ctx, rows: &mut [Row]) {
    ctx.progress(&format!("cold start: {} spawns per contender, interleaved", ctx.plan.cold));
    for s in 0..ctx.plan.cold {
        for r in rows.iter_mut().filter(|r| r.ok()) {
            let res = (|| {
                let mut i = spawn(ctx, &r.c, "cold")?;
                let t_next = i.ready()?;
                i.invoke(EVENT)?;
                // When the answer was read, not after the 202 and the next /next.
                let t_first = i.answered;
                let sp = i.spawned;
                i.stop();
                Ok::<_, String>(((t_next - sp).as_secs_f64() * 1e3, (t_first - sp).as_secs_f64() * 1e3))
            })();
            match res {
                Ok((a, b)) => {
                    r.cold_next_ms.push(a);
                    r.cold_first_ms.push(b);
                }
                Err(e) => r.fail("cold start", e),
            }
        }
        if s == 0 || s + 1 == ctx.plan.cold {
            ctx.progress(&format!("  cold start {}/{}", s + 1, ctx.plan.cold));
        }
    }
}

/// Contenders that cannot be single-stepped to their first connect, and why.
const NOT_STEPPED: [(&str, &str); 1] = [("official-cpp", "curl gives up on the connection before it is made when every instruction is single-stepped")];

/// The cold start in instructions: each contender single-stepped from exec
/// to its first connect(2) by `out/bench/bin/startup` (a few seconds for
/// 100,000 instructions here), with the same environment as every spawn.
/// Returns what one CPUID costs here, the instruction a hypervisor traps.
fn startup(ctx: &Ctx, rows: &mut [Row]) -> Result<f64, String> {
    let tool = ctx.root.join("out/bench/bin/startup");
    let cost = run_cmd(Command::new(&tool).arg("--cpuid-cost"), Duration::from_secs(20))
        .and_then(|s| s.trim().parse::<f64>().map_err(|e| format!("{}: {e}: {s:?}", tool.display())));
    ctx.progress(&format!(
        "startup: each contender single-stepped from exec to its first connect; one CPUID here: {}",
        cost.as_ref().map_or_else(|e| e.clone(), |v| format!("{v:.2} µs"))
    ));
    for r in rows.iter_mut().filter(|r| r.ok()) {
        if let Some((_, why)) = NOT_STEPPED.iter().find(|(id, _)| *id == r.c.id) {
            r.startup = Err(why.to_string());
            continue;
        }
        let mut cmd = Command::new(&tool);
        // Nothing listens there: the contender is stopped before it connects.
        cmd.arg(&r.c.bin).env_clear().envs(server::env_for("127.0.0.1:9", "startup"));
        r.startup = run_cmd(&mut cmd, Duration::from_secs(300)).and_then(|s| {
            let v: Vec<u64> = s.split_whitespace().filter_map(|x| x.parse().ok()).collect();
            match v[..] {
                [n, c] => Ok((n, c)),
                _ => Err(format!("unexpected output from startup: {s:?}")),
            }
        });
        match &r.startup {
            Ok((n, c)) => ctx.progress(&format!("  {:20} {n:9} instructions to the first connect, {c} CPUID", r.c.id)),
            Err(e) => ctx.progress(&format!("  {:20} not measured: {e}", r.c.id)),
        }
    }
    cost
}

/// Warm invocations and memory: one process per contender per round, rounds
/// interleaved (and the order rotated) so that drift hits everyone alike.
fn warm(ctx: &Ctx, rows: &mut [Row]) {
    let p = &ctx.plan;
    ctx.progress(&format!(
        "warm + memory: {} rounds x ({} warm-up, {} timed) invocations per contender; the first {} go on to {} in all",
        p.rounds, p.warmup, p.warm, p.mem_rounds, p.total
    ));
    let points = p.rss_points();
    let n = rows.len();
    for round in 0..p.rounds {
        let total = if round < p.mem_rounds { p.total } else { p.warmup + p.warm };
        for k in 0..n {
            let r = &mut rows[(k + round) % n];
            if !r.ok() {
                continue;
            }
            let res = (|| {
                let mut i = spawn(ctx, &r.c, "warm")?;
                i.ready()?;
                let cpu_start = procfs::cpu(i.pid);
                let mut w = Warm { invocations: total, ..Warm::default() };
                let mut lat = Vec::with_capacity(p.warm as usize);
                let (mut cpu0, mut t0) = (cpu_start, Instant::now());
                let timed = p.warmup + 1..=p.warmup + p.warm;
                for done in 1..=total {
                    if done == *timed.start() {
                        cpu0 = procfs::cpu(i.pid);
                        t0 = Instant::now();
                    }
                    let rtt = i.invoke(EVENT)?;
                    if timed.contains(&done) {
                        lat.push(rtt.as_nanos() as u64);
                    }
                    if done == *timed.end() {
                        let wall = t0.elapsed().as_secs_f64();
                        let cpu = procfs::cpu(i.pid).since(cpu0);
                        w.inv_per_s = p.warm as f64 / wall;
                        w.cpu_us = cpu.sched_ns as f64 / 1e3 / p.warm as f64;
                    }
                    if points.contains(&done) {
                        w.rss.push((done, procfs::rss(i.pid)));
                    }
                }
                w.private = procfs::private(i.pid);
                let all = procfs::cpu(i.pid).since(cpu_start);
                w.cpu_ticks_us = all.ticks_ns as f64 / 1e3 / total as f64;
                lat.sort_unstable();
                w.p50_us = stats::quantile(&lat, 0.50) / 1e3;
                w.p99_us = stats::quantile(&lat, 0.99) / 1e3;
                i.stop();
                Ok::<_, String>(w)
            })();
            match res {
                Ok(w) => {
                    ctx.progress(&format!(
                        "  round {}/{} {:20} p50 {:8.1} us  p99 {:8.1} us  {:8.0} inv/s  cpu {:6.2} us/inv  rss {} KiB",
                        round + 1,
                        p.rounds,
                        r.c.id,
                        w.p50_us,
                        w.p99_us,
                        w.inv_per_s,
                        w.cpu_us,
                        w.rss.last().map_or(0, |x| x.1 / 1024)
                    ));
                    r.warm.push(w);
                }
                Err(e) => r.fail("warm", e),
            }
        }
    }
}

/// User-space instructions per warm invocation, counted by valgrind's
/// callgrind: the one CPU figure that repeats exactly from run to run (the
/// kernel's share, the sockets, is not in it). Each contender runs twice
/// under callgrind, for `instr_runs.0` and `instr_runs.1` invocations; the
/// difference in instructions over the difference in invocations leaves
/// out start-up and shutdown.
fn instructions(ctx: &Ctx, rows: &mut [Row]) {
    let (n1, n2) = ctx.plan.instr_runs;
    if let Err(e) = run_cmd(Command::new("valgrind").arg("--version"), Duration::from_secs(20)) {
        for r in rows.iter_mut() {
            r.instructions = Err(format!("valgrind not usable: {e}"));
        }
        ctx.progress(&format!("instructions: skipped, valgrind is not usable ({e})"));
        return;
    }
    ctx.progress(&format!("instructions: each contender under callgrind for {n1} and {n2} invocations"));
    for r in rows.iter_mut().filter(|r| r.ok()) {
        let count = |n: u64| -> Res<u64> {
            let log = ctx.out.join(format!("callgrind-{}-{n}.log", r.c.id));
            let _ = std::fs::remove_file(&log);
            let mut i = Instance::spawn(r.c.proto, "callgrind", &ctx.log(), |_| {
                let mut c = Command::new("valgrind");
                c.args(["--tool=callgrind", "--callgrind-out-file=/dev/null"]).arg(format!("--log-file={}", log.display())).arg(&r.c.bin);
                c
            })?;
            i.ready()?;
            for _ in 0..n {
                i.invoke(EVENT)?;
            }
            i.terminate(Duration::from_secs(30))?;
            let text = std::fs::read_to_string(&log).map_err(|e| format!("{}: {e}", log.display()))?;
            let _ = std::fs::remove_file(&log);
            text.lines()
                .find_map(|l| l.split("Collected : ").nth(1))
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| format!("no instruction count in callgrind's log:\n{text}"))
        };
        r.instructions = count(n1).and_then(|a| Ok((a, count(n2)?))).map(|(a, b)| (b as f64 - a as f64) / (n2 - n1) as f64);
        match &r.instructions {
            Ok(v) => ctx.progress(&format!("  {:20} {:9.0} user-space instructions per invocation", r.c.id, v)),
            Err(e) => ctx.progress(&format!("  {:20} not measured: {e}", r.c.id)),
        }
    }
}

/// N functions warm at once, invoked round-robin: every call switches function.
fn density(ctx: &Ctx, rows: &mut [Row]) {
    let p = &ctx.plan;
    ctx.progress(&format!("switching: {} warm functions per contender, {} round-robin passes, {} reps", p.functions, p.passes, p.density_reps));
    for rep in 0..p.density_reps {
        for r in rows.iter_mut().filter(|r| r.ok()) {
            let res = (|| {
                let mut fleet = Vec::with_capacity(p.functions);
                for f in 0..p.functions {
                    fleet.push(spawn(ctx, &r.c, &format!("fn-{f:03}"))?);
                }
                for i in fleet.iter_mut() {
                    i.ready()?;
                }
                // First pass: each function's first invocation, not timed.
                for i in fleet.iter_mut() {
                    i.invoke(EVENT)?;
                }
                let mut lat = Vec::with_capacity(p.functions * p.passes);
                for _ in 1..p.passes {
                    for i in fleet.iter_mut() {
                        lat.push(i.invoke(EVENT)?.as_nanos() as u64);
                    }
                }
                lat.sort_unstable();
                let d = Density {
                    functions: p.functions,
                    p50_us: stats::quantile(&lat, 0.5) / 1e3,
                    p99_us: stats::quantile(&lat, 0.99) / 1e3,
                    rss_total: fleet.iter().map(|i| procfs::rss(i.pid)).sum(),
                    pss_total: fleet.iter().map(|i| procfs::pss(i.pid)).sum(),
                };
                drop(fleet);
                Ok::<_, String>(d)
            })();
            match res {
                Ok(d) => {
                    ctx.progress(&format!(
                        "  rep {}/{} {:20} switch p50 {:8.1} us  p99 {:8.1} us  total RSS {:8.1} MiB  PSS {:8.1} MiB",
                        rep + 1,
                        p.density_reps,
                        r.c.id,
                        d.p50_us,
                        d.p99_us,
                        d.rss_total as f64 / 1048576.0,
                        d.pss_total as f64 / 1048576.0
                    ));
                    r.density.push(d);
                }
                Err(e) => r.fail("switching", e),
            }
        }
    }
}

fn free_port() -> Res<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn podman_rm(name: &str) {
    let _ = run_cmd(podman().args(["rm", "-f", "-t", "0", name]), Duration::from_secs(30));
}

/// `podman run` to the first answered invocation: the bootstrap-only image
/// with the driver as its Runtime API (host network), and, when faas-rie is
/// built, the faas-rie image invoked through its Invoke API.
fn podman_runs(ctx: &Ctx, rows: &mut [Row]) {
    if let Err(why) = &ctx.podman {
        for r in rows.iter_mut().filter(|r| r.c.image) {
            r.podman_note = Some(format!("skipped: {why}"));
        }
        return;
    }
    ctx.progress(&format!("podman run to first answered invocation: {} runs per image", ctx.plan.podman_runs));
    for run in 0..ctx.plan.podman_runs {
        for r in rows.iter_mut().filter(|r| r.ok() && r.c.image) {
            if let Some(Image::Built { tag, .. }) = r.image.clone() {
                let name = format!("faas-bench-{}-{}", r.c.id, std::process::id());
                let res = (|| {
                    let mut i = Instance::spawn(Proto::RuntimeApi, "podman", &ctx.log(), |addr| {
                        let mut c = podman();
                        c.args(["run", "--rm", "--name", &name, "--network", "host"]).args(ULIMITS);
                        for (k, v) in server::env_for(addr, "podman") {
                            c.arg("-e").arg(format!("{k}={v}"));
                        }
                        c.arg(&tag);
                        c
                    })?;
                    let sp = i.spawned;
                    let r = i.ready().and_then(|_| i.invoke(EVENT)).map(|_| (i.answered - sp).as_secs_f64() * 1e3);
                    podman_rm(&name);
                    i.stop();
                    r
                })();
                match res {
                    Ok(ms) => r.podman_ms.push(ms),
                    Err(e) => r.podman_note = Some(format!("failed: {e}")),
                }
            }
            match (&ctx.rie, r.image_rie.clone()) {
                (Some(_), Some(Image::Built { tag, .. })) => {
                    let name = format!("faas-bench-{}-rie-{}", r.c.id, std::process::id());
                    let res = (|| {
                        let port = free_port()?;
                        let mut cmd = podman();
                        cmd.args(["run", "--rm", "--name", &name, "-p", &format!("127.0.0.1:{port}:8080")]).args(ULIMITS).arg(&tag);
                        let log = std::fs::OpenOptions::new().create(true).append(true).open(ctx.log()).map_err(|e| e.to_string())?;
                        let t0 = Instant::now();
                        let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::from(log)).spawn().map_err(|e| e.to_string())?;
                        let deadline = t0 + Duration::from_secs(20);
                        let res = loop {
                            if Instant::now() > deadline {
                                break Err("no answer within 20 s".to_string());
                            }
                            if let Ok(Some(st)) = child.try_wait() {
                                break Err(format!("podman exited: {st}"));
                            }
                            match server::invoke_api(port, EVENT, Duration::from_secs(10)) {
                                Ok((200, body)) => break server::check_echo(EVENT, &body).map(|_| t0.elapsed().as_secs_f64() * 1e3),
                                Ok((s, body)) => break Err(format!("HTTP {s}: {}", String::from_utf8_lossy(&body))),
                                Err(_) => std::thread::sleep(Duration::from_millis(2)),
                            }
                        };
                        podman_rm(&name);
                        let _ = child.kill();
                        let _ = child.wait();
                        res
                    })();
                    match res {
                        Ok(ms) => r.podman_rie_ms.push(ms),
                        Err(e) => r.podman_rie_note = Some(format!("failed: {e}")),
                    }
                }
                (None, _) => r.podman_rie_note = Some("pending: faas-rie is not built yet (out/bin/faas-rie)".into()),
                _ => r.podman_rie_note = Some("no image".into()),
            }
        }
        ctx.progress(&format!("  podman run {}/{}", run + 1, ctx.plan.podman_runs));
    }
}
