//! report.md, results.json and the charts, from the measured rows.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use crate::charts::{self, Bar, Line, Panel};
use crate::stats::{median, paired_ratio, spread};
use crate::{run_cmd, Ctx, Image, Plan, Row, Warm, REFERENCE};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

fn med_spread(v: &[f64]) -> (f64, f64, f64) {
    let (lo, hi) = spread(v);
    (median(v), lo, hi)
}

fn num(v: f64, digits: usize) -> String {
    if v.is_finite() {
        format!("{v:.digits$}")
    } else {
        "–".into()
    }
}

/// "median (min–max)".
fn ms(v: &[f64], digits: usize) -> String {
    if v.is_empty() {
        return "–".into();
    }
    let (m, lo, hi) = med_spread(v);
    format!("{} ({}–{})", num(m, digits), num(lo, digits), num(hi, digits))
}

fn bytes(n: Option<u64>) -> String {
    n.map_or("–".into(), |n| {
        let s = n.to_string();
        let mut out = String::new();
        for (i, ch) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        out
    })
}

fn image_cell(i: &Option<Image>) -> String {
    match i {
        None => "–".into(),
        Some(Image::Built { bytes: b, .. }) => bytes(Some(*b)),
        Some(Image::Estimated { bytes: b, .. }) => format!("{} (sum of files)", bytes(Some(*b))),
        Some(Image::Pending(_)) => "pending".into(),
    }
}

// Per-row series, one value per round (or rep), for medians and paired ratios.
fn p50(r: &Row) -> Vec<f64> {
    r.warm.iter().map(|w| w.p50_us).collect()
}
fn p99(r: &Row) -> Vec<f64> {
    r.warm.iter().map(|w| w.p99_us).collect()
}
fn ips(r: &Row) -> Vec<f64> {
    r.warm.iter().map(|w| w.inv_per_s).collect()
}
fn cpu(r: &Row) -> Vec<f64> {
    r.warm.iter().map(|w| w.cpu_us).collect()
}
fn cpu_ticks(r: &Row) -> Vec<f64> {
    r.warm.iter().map(|w| w.cpu_ticks_us).collect()
}
/// The rounds that went on to the plan's `total` invocations: the memory
/// figures come from these alone, so that every one covers the same span.
fn mem<'r>(r: &'r Row, p: &'r Plan) -> impl Iterator<Item = &'r Warm> {
    r.warm.iter().filter(move |w| w.invocations == p.total)
}
fn rss_at(r: &Row, p: &Plan, n: u64) -> Vec<f64> {
    mem(r, p).filter_map(|w| w.rss.iter().find(|x| x.0 == n).map(|x| x.1 as f64)).collect()
}
fn rss_last(r: &Row, p: &Plan) -> Vec<f64> {
    mem(r, p).filter_map(|w| w.rss.last().map(|x| x.1 as f64)).collect()
}
/// Bytes of RSS growth per invocation, from 10,000 invocations (1,000 in a
/// quick run) to the last.
fn growth(r: &Row, p: &Plan) -> Vec<f64> {
    mem(r, p)
        .filter_map(|w| {
            let last = w.rss.last()?;
            let from = w.rss.iter().rev().find(|x| x.0 <= 10_000 && x.0 < last.0).or(w.rss.first())?;
            (last.0 > from.0).then(|| (last.1 as f64 - from.1 as f64) / (last.0 - from.0) as f64)
        })
        .collect()
}
fn private_kib(r: &Row, p: &Plan) -> Vec<f64> {
    mem(r, p).map(|w| w.private as f64 / 1024.0).collect()
}
fn sw_p50(r: &Row) -> Vec<f64> {
    r.density.iter().map(|d| d.p50_us).collect()
}
fn sw_p99(r: &Row) -> Vec<f64> {
    r.density.iter().map(|d| d.p99_us).collect()
}
fn per_gib(r: &Row) -> Vec<f64> {
    r.density.iter().map(|d| d.functions as f64 / (d.rss_total as f64 / GIB)).collect()
}
fn per_gib_pss(r: &Row) -> Vec<f64> {
    r.density.iter().map(|d| d.functions as f64 / (d.pss_total as f64 / GIB)).collect()
}
fn rss_total_mib(r: &Row) -> Vec<f64> {
    r.density.iter().map(|d| d.rss_total as f64 / 1048576.0).collect()
}

fn last_point(ctx: &Ctx) -> u64 {
    ctx.plan.rss_points().last().copied().unwrap_or(1)
}

/// The one-screen table printed at the end and put first in the report.
pub fn summary_table(ctx: &Ctx, rows: &[Row]) -> String {
    let (last, p) = (last_point(ctx), &ctx.plan);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| contender | binary B | zip B | scratch image B | cold: spawn→/next ms | cold: spawn→answer ms | start-up instr (CPUID) | warm p50 µs | warm p99 µs | inv/s | CPU µs/inv | user instr/inv | RSS@1 KiB | RSS@{last} KiB | growth B/inv | switch p50 µs ({} fns) | fns/GiB |",
        ctx.plan.functions
    );
    let _ = writeln!(s, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for r in rows {
        if let Some(f) = &r.failed {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | FAILED: {} | | | | | | | | | | | | |",
                r.c.id,
                bytes(r.binary),
                bytes(r.zip),
                image_cell(&r.image),
                f.replace('|', "/")
            );
            continue;
        }
        let kib = |v: Vec<f64>| num(median(&v) / 1024.0, 0);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.c.id,
            bytes(r.binary),
            bytes(r.zip),
            image_cell(&r.image),
            num(median(&r.cold_next_ms), 2),
            num(median(&r.cold_first_ms), 2),
            r.startup.as_ref().map_or("–".into(), |(n, c)| format!("{} ({c})", num(*n as f64, 0))),
            num(median(&p50(r)), 1),
            num(median(&p99(r)), 1),
            num(median(&ips(r)), 0),
            num(median(&cpu(r)), 2),
            r.instructions.as_ref().map_or("–".into(), |v| num(*v, 0)),
            kib(rss_at(r, p, 1)),
            kib(rss_last(r, p)),
            num(median(&growth(r, p)), 3),
            num(median(&sw_p50(r)), 1),
            num(median(&per_gib(r)), 0),
        );
    }
    s
}

fn sh(cmd: &str, args: &[&str]) -> String {
    run_cmd(Command::new(cmd).args(args), Duration::from_secs(20)).unwrap_or_else(|e| format!("unavailable ({e})"))
}

fn lock_version(lock: &str, name: &str) -> String {
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l.trim() == format!("name = \"{name}\"") {
            if let Some(v) = lines.next().and_then(|v| v.trim().strip_prefix("version = ")) {
                return v.trim_matches('"').to_string();
            }
        }
    }
    "unknown".into()
}

struct Env {
    date: String,
    command: String,
    cpu: String,
    cores: String,
    kernel: String,
    mem: String,
    rustc: String,
    cc: String,
    musl: String,
    lambda_runtime: String,
    tokio: String,
    git: String,
}

fn environment(ctx: &Ctx) -> Env {
    let lock = std::fs::read_to_string(ctx.root.join("tests/official-rs/Cargo.lock")).unwrap_or_default();
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let dirty = !sh("git", &["-C", &ctx.root.to_string_lossy(), "status", "--porcelain"]).is_empty();
    Env {
        date: sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        command: std::env::var("FAAS_BENCH_COMMAND").unwrap_or_else(|_| std::env::args().collect::<Vec<_>>().join(" ")),
        cpu: cpuinfo.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).unwrap_or("unknown").trim().to_string(),
        cores: std::thread::available_parallelism().map_or("?".into(), |n| n.to_string()),
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string(),
        mem: std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<f64>().ok()))
            .map_or("?".into(), |kb| format!("{:.1} GiB", kb / 1048576.0)),
        rustc: sh("rustc", &["-V"]),
        cc: sh("cc", &["--version"]).lines().next().unwrap_or("").to_string(),
        musl: sh("sh", &["-c", "dpkg-query -W -f '${Version}' musl-dev 2>/dev/null || echo unknown"]),
        lambda_runtime: lock_version(&lock, "lambda_runtime"),
        tokio: lock_version(&lock, "tokio"),
        git: format!(
            "{}{}",
            sh("git", &["-C", &ctx.root.to_string_lossy(), "rev-parse", "--short", "HEAD"]),
            if dirty { " (with uncommitted changes)" } else { "" }
        ),
    }
}

fn image_json(i: &Option<Image>) -> Value {
    match i {
        None => Value::Null,
        Some(Image::Built { bytes, tag }) => json!({"bytes": bytes, "how": "podman image inspect", "tag": tag}),
        Some(Image::Estimated { bytes, why }) => json!({"bytes": bytes, "how": "sum of files", "why": why}),
        Some(Image::Pending(why)) => json!({"bytes": null, "how": "pending", "why": why}),
    }
}

fn stat_json(v: &[f64]) -> Value {
    if v.is_empty() {
        return Value::Null;
    }
    let (m, lo, hi) = med_spread(v);
    json!({"median": m, "min": lo, "max": hi, "runs": v})
}

/// Paired ratios of every contender against the reference, per figure.
fn ratios(rows: &[Row], p: &Plan) -> Vec<(String, Vec<(&'static str, f64)>)> {
    let Some(rf) = rows.iter().find(|r| r.c.id == REFERENCE && r.ok()) else { return vec![] };
    let fl = rows.iter().find(|r| r.c.id == "floor" && r.ok());
    rows.iter()
        .filter(|r| r.ok())
        .map(|r| {
            let mut v = vec![
                ("binary", r.binary.zip(rf.binary).map_or(f64::NAN, |(a, b)| a as f64 / b as f64)),
                ("cold→/next", paired_ratio(&r.cold_next_ms, &rf.cold_next_ms)),
                ("cold→answer", paired_ratio(&r.cold_first_ms, &rf.cold_first_ms)),
                ("warm p50", paired_ratio(&p50(r), &p50(rf))),
                ("CPU/inv", paired_ratio(&cpu(r), &cpu(rf))),
                ("user instr/inv", r.instructions.as_ref().ok().zip(rf.instructions.as_ref().ok()).map_or(f64::NAN, |(a, b)| a / b)),
                ("RSS last", paired_ratio(&rss_last(r, p), &rss_last(rf, p))),
                ("switch p50", paired_ratio(&sw_p50(r), &sw_p50(rf))),
                ("fns/GiB", paired_ratio(&per_gib(r), &per_gib(rf))),
            ];
            if let Some(fl) = fl {
                // The floor only connects: about the cost of a spawn.
                v.push(("cold→/next × floor", paired_ratio(&r.cold_next_ms, &fl.cold_next_ms)));
                v.push(("p50 × floor", paired_ratio(&p50(r), &p50(fl))));
                v.push(("switch × floor", paired_ratio(&sw_p50(r), &sw_p50(fl))));
            }
            (r.c.id.to_string(), v)
        })
        .collect()
}

pub fn write_all(ctx: &Ctx, rows: &[Row]) -> Result<(), Box<dyn std::error::Error>> {
    let env = environment(ctx);
    let out = &ctx.out;
    let p = &ctx.plan;
    let last = last_point(ctx);
    let ok: Vec<&Row> = rows.iter().filter(|r| r.ok()).collect();
    let idx = |r: &Row| rows.iter().position(|x| x.c.id == r.c.id).unwrap_or(0);

    // --- charts
    let bar = |r: &Row, v: &[f64]| {
        let (m, lo, hi) = med_spread(v);
        Bar { name: r.c.id.to_string(), color: idx(r), median: m, lo, hi }
    };
    let one = |r: &Row, v: Option<u64>| v.map(|n| Bar { name: r.c.id.to_string(), color: idx(r), median: n as f64, lo: n as f64, hi: n as f64 });
    let mut size_panels = vec![
        Panel { title: "binary".into(), unit: "bytes (log)".into(), log: true, bars: rows.iter().filter_map(|r| one(r, r.binary)).collect() },
        Panel { title: "Lambda zip".into(), unit: "bytes (log)".into(), log: true, bars: rows.iter().filter_map(|r| one(r, r.zip)).collect() },
        Panel {
            title: "FROM-scratch image, bootstrap only".into(),
            unit: "bytes (log)".into(),
            log: true,
            bars: rows.iter().filter_map(|r| one(r, r.image.as_ref().and_then(Image::bytes))).collect(),
        },
    ];
    let rie_bars: Vec<Bar> = rows.iter().filter_map(|r| one(r, r.image_rie.as_ref().and_then(Image::bytes))).collect();
    if !rie_bars.is_empty() {
        size_panels.push(Panel { title: "FROM-scratch image with faas-rie".into(), unit: "bytes (log)".into(), log: true, bars: rie_bars });
    }
    charts::bars(&out.join("sizes.svg"), "Size (log scale)", &size_panels, true)?;
    charts::bars(
        &out.join("cold.svg"),
        &format!("Cold start: median of {} spawns, whisker = min–max", p.cold),
        &[
            Panel { title: "spawn → first GET /next".into(), unit: "ms".into(), log: false, bars: ok.iter().map(|r| bar(r, &r.cold_next_ms)).collect() },
            Panel {
                title: "spawn → first answered invocation".into(),
                unit: "ms".into(),
                log: false,
                bars: ok.iter().map(|r| bar(r, &r.cold_first_ms)).collect(),
            },
        ],
        false,
    )?;
    charts::bars(
        &out.join("warm.svg"),
        &format!("Warm invocations: median of {} rounds of {} invocations", p.rounds, p.warm),
        &[
            Panel { title: "runtime CPU per invocation".into(), unit: "µs".into(), log: false, bars: ok.iter().map(|r| bar(r, &cpu(r))).collect() },
            Panel { title: "round trip p50".into(), unit: "µs".into(), log: false, bars: ok.iter().map(|r| bar(r, &p50(r))).collect() },
        ],
        false,
    )?;
    let series: Vec<Line> = ok
        .iter()
        .map(|r| Line {
            name: r.c.id.to_string(),
            color: idx(r),
            points: p.rss_points().iter().map(|&n| (n as f64, median(&rss_at(r, p, n)) / 1024.0)).filter(|x| x.1.is_finite() && x.1 > 0.0).collect(),
        })
        .collect();
    charts::lines(&out.join("rss.svg"), "RSS versus invocations (median of rounds)", "invocations (log)", "RSS KiB (log)", &series)?;
    charts::bars(
        &out.join("density.svg"),
        &format!("{} warm functions invoked round-robin", p.functions),
        &[
            Panel {
                title: "warm functions per GiB (RSS)".into(),
                unit: "functions (log)".into(),
                log: true,
                bars: ok.iter().map(|r| bar(r, &per_gib(r))).collect(),
            },
            Panel {
                title: "latency when switching function every call, p50".into(),
                unit: "µs".into(),
                log: false,
                bars: ok.iter().map(|r| bar(r, &sw_p50(r))).collect(),
            },
        ],
        false,
    )?;

    // --- results.json
    let contenders: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.c.id,
                "label": r.c.label,
                "path": r.c.bin.strip_prefix(&ctx.root).unwrap_or(&r.c.bin).to_string_lossy(),
                "status": if r.ok() { "ok" } else { "failed" },
                "failure": r.failed,
                "size": {"binary": r.binary, "zip": r.zip, "image": image_json(&r.image), "image_with_faas_rie": image_json(&r.image_rie)},
                "cold_ms": {"spawn_to_next": stat_json(&r.cold_next_ms), "spawn_to_first_answer": stat_json(&r.cold_first_ms)},
                "startup_to_first_connect": {"instructions": r.startup.as_ref().ok().map(|s| s.0), "cpuid": r.startup.as_ref().ok().map(|s| s.1), "note": r.startup.as_ref().err()},
                "podman_run_to_first_answer_ms": {"driver_as_runtime_api": stat_json(&r.podman_ms), "note": r.podman_note,
                    "through_faas_rie": stat_json(&r.podman_rie_ms), "faas_rie_note": r.podman_rie_note},
                "warm": {
                    "p50_us": stat_json(&p50(r)), "p99_us": stat_json(&p99(r)), "inv_per_s": stat_json(&ips(r)),
                    "cpu_us_per_inv_schedstat": stat_json(&cpu(r)), "cpu_us_per_inv_utime_stime": stat_json(&cpu_ticks(r)),
                    "user_instructions_per_inv": r.instructions.as_ref().ok(), "user_instructions_note": r.instructions.as_ref().err(),
                },
                "memory": {
                    "rss_bytes": p.rss_points().iter().map(|&n| json!({"invocations": n, "rss": stat_json(&rss_at(r, p, n))})).collect::<Vec<_>>(),
                    "growth_bytes_per_inv": stat_json(&growth(r, p)),
                    "private_bytes": stat_json(&mem(r, p).map(|w| w.private as f64).collect::<Vec<_>>()),
                },
                "switching": {
                    "functions": p.functions, "p50_us": stat_json(&sw_p50(r)), "p99_us": stat_json(&sw_p99(r)),
                    "rss_total_bytes": stat_json(&r.density.iter().map(|d| d.rss_total as f64).collect::<Vec<_>>()),
                    "pss_total_bytes": stat_json(&r.density.iter().map(|d| d.pss_total as f64).collect::<Vec<_>>()),
                    "functions_per_gib_rss": stat_json(&per_gib(r)), "functions_per_gib_pss": stat_json(&per_gib_pss(r)),
                },
            })
        })
        .collect();
    let ratio_json: Value = ratios(rows, p)
        .into_iter()
        .map(|(id, v)| (id, v.into_iter().map(|(k, x)| (k.to_string(), json!(x))).collect::<serde_json::Map<_, _>>().into()))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let results = json!({
        "schema": 1,
        "mode": if p.quick { "quick" } else { "full" },
        "date": env.date, "command": env.command, "wall_seconds": ctx.finished_in.as_secs_f64(),
        "machine": {"cpu": env.cpu, "cores": env.cores, "kernel": env.kernel, "memory": env.mem, "cpuid_us": ctx.cpuid_us.as_ref().ok()},
        "versions": {"faas": faas::VERSION, "git": env.git, "rustc": env.rustc, "cc": env.cc, "musl": env.musl,
            "lambda_runtime": env.lambda_runtime, "tokio": env.tokio, "aws_lambda_cpp": crate::CPP_VERSIONS,
            "podman": ctx.podman.as_ref().map_or_else(|e| format!("unusable: {e}"), |v| v.clone())},
        "plan": {"rounds": p.rounds, "mem_rounds": p.mem_rounds, "instr_runs": [p.instr_runs.0, p.instr_runs.1], "warmup": p.warmup, "timed": p.warm, "total": p.total, "cold_spawns": p.cold,
            "functions": p.functions, "passes": p.passes, "density_reps": p.density_reps, "podman_runs": p.podman_runs},
        "event_bytes": crate::EVENT.len(),
        "reference": REFERENCE,
        "contenders": contenders,
        "ratios_vs_reference": ratio_json,
    });
    std::fs::write(out.join("results.json"), serde_json::to_string_pretty(&results)?)?;

    // --- report.md
    let mut m = String::new();
    let _ = writeln!(m, "# faas-bench report\n");
    let _ = writeln!(
        m,
        "Run on {} with `{}` ({} run, {:.0} s).  \nMachine: {}, {} cores, {}, Linux {}.  \n\
         Built: faas {} (git {}), {}, {}, musl {}; official runtime: lambda_runtime {}, tokio {}; official C++ runtime: {}; {}.\n",
        env.date,
        env.command,
        if p.quick { "quick" } else { "full" },
        ctx.finished_in.as_secs_f64(),
        env.cpu,
        env.cores,
        env.mem,
        env.kernel,
        faas::VERSION,
        env.git,
        env.rustc,
        env.cc,
        env.musl,
        env.lambda_runtime,
        env.tokio,
        crate::CPP_VERSIONS,
        ctx.podman.as_ref().map_or_else(|e| format!("podman unusable: {e}"), |v| v.clone()),
    );
    if p.quick {
        let _ = writeln!(m, "> This is a **quick** run (`make bench-quick`): few repetitions, for checking the harness. Quote figures from `make bench`.\n");
    }
    let _ = writeln!(
        m,
        "## Summary\n\nMedians; spreads are in the sections below. Every contender got the same {}-byte event from the same driver on the same machine.\n",
        crate::EVENT.len()
    );
    m.push_str(&summary_table(ctx, rows));
    let _ = writeln!(m, "\n## Contenders\n");
    for r in rows {
        let _ = writeln!(
            m,
            "- `{}`: {} (`{}`){}",
            r.c.id,
            r.c.label,
            r.c.bin.strip_prefix(&ctx.root).unwrap_or(&r.c.bin).display(),
            r.failed.as_ref().map_or(String::new(), |f| format!(" — **FAILED, not timed**: {f}"))
        );
    }
    let rt = ratios(rows, p);
    if !rt.is_empty() {
        let _ = writeln!(m, "\n## Ratios, pair by pair\n\nEach contender's figure divided by `{REFERENCE}`'s from the same round (or spawn, or rep), then the median of those ratios; the last three columns divide by the floor instead (for cold starts: a static program that only connects and sends one byte, so about what spawning any program costs here). Above 1 means more (bigger, slower, hungrier) than the reference, except functions/GiB.\n");
        let _ = writeln!(m, "| contender | {} |", rt[0].1.iter().map(|x| x.0).collect::<Vec<_>>().join(" | "));
        let _ = writeln!(m, "|---|{}", "--:|".repeat(rt[0].1.len()));
        for (id, v) in &rt {
            let _ = writeln!(m, "| {id} | {} |", v.iter().map(|x| num(x.1, 2)).collect::<Vec<_>>().join(" | "));
        }
    }
    let _ = writeln!(m, "\n## Size\n\n![sizes](sizes.svg)\n");
    let _ = writeln!(
        m,
        "| contender | binary B | Lambda zip B | FROM-scratch image, bootstrap only, B | FROM-scratch image with faas-rie, B |\n|---|--:|--:|--:|--:|"
    );
    for r in rows {
        let _ = writeln!(m, "| {} | {} | {} | {} | {} |", r.c.id, bytes(r.binary), bytes(r.zip), image_cell(&r.image), image_cell(&r.image_rie));
    }
    let notes: Vec<String> = rows
        .iter()
        .flat_map(|r| [&r.image, &r.image_rie].into_iter().flatten().map(move |i| (r.c.id, i)))
        .filter_map(|(id, i)| match i {
            Image::Estimated { why, .. } => Some(format!("- `{id}`: image size is the sum of its files: {why}")),
            Image::Pending(why) => Some(format!("- `{id}`: image with faas-rie pending: {why}")),
            Image::Built { .. } => None,
        })
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(m, "\n{}", notes.join("\n"));
    }
    let _ = writeln!(m, "\nZips hold one file, `bootstrap` (the dynamic build for faas, as for `provided.al2023`). Images are `FROM scratch` with the static build; their size is what `podman image inspect` reports.\n");

    let _ = writeln!(m, "## Cold start\n\n![cold start](cold.svg)\n\nMedian (min–max) of {} spawns per contender, interleaved; page cache warm.\n", p.cold);
    let _ = writeln!(m, "| contender | spawn → first GET /next, ms | spawn → first answered invocation, ms | `podman run` → first answer (driver as Runtime API, host network), ms | `podman run` → first answer through faas-rie, ms |\n|---|--:|--:|--:|--:|");
    for r in &ok {
        let pod = if r.podman_ms.is_empty() { r.podman_note.clone().unwrap_or("–".into()) } else { ms(&r.podman_ms, 1) };
        let rie = if r.podman_rie_ms.is_empty() { r.podman_rie_note.clone().unwrap_or("–".into()) } else { ms(&r.podman_rie_ms, 1) };
        let (pod, rie) = if r.c.image { (pod, rie) } else { ("–".into(), "–".into()) };
        let _ = writeln!(m, "| {} | {} | {} | {} | {} |", r.c.id, ms(&r.cold_next_ms, 2), ms(&r.cold_first_ms, 2), pod, rie);
    }
    let cpuid = ctx.cpuid_us.as_ref().map_or_else(|e| format!("not measured ({e})"), |v| format!("{v:.2} µs"));
    let _ = writeln!(
        m,
        "\nThe same start-up in instructions, which repeat where times drift: each contender single-stepped under ptrace (`out/bench/bin/startup`, from `crates/faas-bench/tools/startup.c`) from its exec to its first connect(2), with the spawns' environment; a rep-prefixed string instruction counts once. A dynamic build's count includes the loader's work. CPUID is counted apart: under a hypervisor each one traps to it, and one took {cpuid} on this machine (`startup --cpuid-cost`). The count of a dynamic build may vary by a few dozen between runs.\n\n| contender | instructions, exec → first connect | CPUID among them | × {REFERENCE} |\n|---|--:|--:|--:|"
    );
    let rf = rows.iter().find(|r| r.c.id == REFERENCE).and_then(|r| r.startup.as_ref().ok().copied());
    for r in &ok {
        match &r.startup {
            Ok((n, c)) => {
                let _ = writeln!(m, "| {} | {} | {c} | {} |", r.c.id, num(*n as f64, 0), rf.map_or("–".into(), |f| num(*n as f64 / f.0 as f64, 2)));
            }
            Err(e) => {
                let _ = writeln!(m, "| {} | not measured: {} | | |", r.c.id, e.lines().next().unwrap_or_default().replace('|', "/"));
            }
        }
    }

    let _ = writeln!(m, "\n## Warm invocations\n\n![warm](warm.svg)\n\nMedian (min–max) over {} rounds; each round is a fresh process, {} warm-up invocations, then {} timed ones.\n", p.rounds, p.warmup, p.warm);
    let _ = writeln!(m, "| contender | round trip p50 µs | p99 µs | invocations/s | runtime CPU µs/inv (schedstat) | CPU µs/inv (utime+stime, every invocation of the round) |\n|---|--:|--:|--:|--:|--:|");
    for r in &ok {
        let _ = writeln!(m, "| {} | {} | {} | {} | {} | {} |", r.c.id, ms(&p50(r), 1), ms(&p99(r), 1), ms(&ips(r), 0), ms(&cpu(r), 2), ms(&cpu_ticks(r), 2));
    }
    let (n1, n2) = p.instr_runs;
    let _ = writeln!(
        m,
        "\nUser-space instructions per warm invocation, counted by valgrind's callgrind: exact and repeatable, unlike the times above, but without the kernel's share (the socket calls, most of the CPU time here). Each contender ran under callgrind for {n1} and for {n2} invocations of the same event; the figure is the difference in instructions over the difference in invocations, which leaves start-up and shutdown out.\n\n| contender | user instructions/inv | × {REFERENCE} |\n|---|--:|--:|"
    );
    let rf = rows.iter().find(|r| r.c.id == REFERENCE).and_then(|r| r.instructions.as_ref().ok().copied());
    for r in &ok {
        match &r.instructions {
            Ok(v) => {
                let _ = writeln!(m, "| {} | {} | {} |", r.c.id, num(*v, 0), rf.map_or("–".into(), |f| num(v / f, 2)));
            }
            Err(e) => {
                let _ = writeln!(m, "| {} | not measured: {} | |", r.c.id, e.lines().next().unwrap_or_default().replace('|', "/"));
            }
        }
    }

    let _ = writeln!(m, "\n## Memory\n\n![rss](rss.svg)\n\nRSS (`VmRSS`) in KiB after n invocations, median (min–max) over the memory rounds: the first {} of the {} go on to {} invocations, the others stop after the timed window; growth is bytes per invocation from invocation {} to {}. Private is the part of the last RSS that is this process's alone (`Private_Clean` + `Private_Dirty` in `/proc/PID/smaps_rollup`); the rest is shared with other processes, such as the C library and the loader of a dynamic build.\n", p.mem_rounds, p.rounds, p.total, if last > 10_000 { 10_000 } else { 1_000 }, last);
    let pts = p.rss_points();
    let _ = writeln!(
        m,
        "| contender | {} | growth B/inv | private KiB |\n|---|{}--:|--:|",
        pts.iter().map(|n| format!("after {n}")).collect::<Vec<_>>().join(" | "),
        "--:|".repeat(pts.len())
    );
    for r in &ok {
        let cells: Vec<String> = pts.iter().map(|&n| ms(&rss_at(r, p, n).iter().map(|b| b / 1024.0).collect::<Vec<_>>(), 0)).collect();
        let _ = writeln!(m, "| {} | {} | {} | {} |", r.c.id, cells.join(" | "), ms(&growth(r, p), 3), ms(&private_kib(r, p), 0));
    }

    let _ = writeln!(
        m,
        "\n## Switching between {} warm functions\n\n![density](density.svg)\n\n{} processes of each contender are kept warm at once and invoked round-robin, so every invocation goes to a different function than the one before; {} timed passes, median (min–max) over {} reps. Density is {} divided by the total RSS, in GiB; PSS counts shared pages once.\n",
        p.functions,
        p.functions,
        p.passes - 1,
        p.density_reps,
        p.functions
    );
    let _ = writeln!(m, "| contender | switch p50 µs | switch p99 µs | total RSS MiB | functions/GiB (RSS) | functions/GiB (PSS) |\n|---|--:|--:|--:|--:|--:|");
    for r in &ok {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} | {} | {} |",
            r.c.id,
            ms(&sw_p50(r), 1),
            ms(&sw_p99(r), 1),
            ms(&rss_total_mib(r), 1),
            ms(&per_gib(r), 0),
            ms(&per_gib_pss(r), 0)
        );
    }

    let _ = writeln!(
        m,
        "\n## Method\n\n\
         The driver (`crates/faas-bench`) is one thread that plays the Lambda Runtime API on 127.0.0.1 (HTTP parsed by `faas::http`) and spawns each contender with `AWS_LAMBDA_RUNTIME_API` pointing at a fresh listener, so every contender meets the same server, the same {}-byte event and the same machine. \
         A round trip is the time from writing the `/next` response (the event) to having read the whole `/response` POST; the driver then answers 202 and waits for the next `GET /next` before the next invocation. \
         The floor is a C program that echoes raw bytes back over one loopback TCP connection: the same round trip with no HTTP and no runtime. \
         Runtime CPU is the contender's own scheduler time (`/proc/PID/task/*/schedstat`, nanoseconds) over the timed window, cross-checked with `utime+stime` from `/proc/PID/stat` over all invocations; RSS is `VmRSS` from `/proc/PID/status`. \
         Before any timing each contender must echo the event (and a 32 KiB one) unchanged; a contender that fails is reported as failed and not timed. \
         Rounds, spawns and reps are interleaved across contenders (warm rounds rotate the order), each figure is the median with its min–max spread, and ratios are taken pair by pair within the same round. \
         The driver is not pinned to a core and the machine is shared, so absolute times drift between runs; compare ratios.\n",
        crate::EVENT.len()
    );
    std::fs::write(out.join("report.md"), m)?;
    let _ = Path::new("");
    Ok(())
}
