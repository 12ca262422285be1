//! Deterministic budgets of the built artefacts (timings live in `make bench`).
use faas_tests::{glibc_versions, out, program_headers, readme_quotes, thousands};
use std::process::Command;

const KIB: u64 = 1024;

fn size(rel: &str) -> u64 {
    std::fs::metadata(out(rel)).unwrap().len()
}

/// Issue 2's budget is 32 KiB and its aim 24 KiB; the aim is what is held.
#[test]
fn static_echo_bootstraps_fit_24_kib() {
    for rel in ["static/echo-c", "static/echo-rs"] {
        let n = size(rel);
        eprintln!("{rel}: {n} bytes");
        assert!(n <= 24 * KIB, "{rel} is {n} bytes, over the 24 KiB aim");
    }
}

/// Issue 2 asks for <= 5 KiB zipped; the runtime is not there yet (see the
/// README's figures). This guards against regressions from where it is.
#[test]
fn dynamic_echo_zips_do_not_grow() {
    for rel in ["zip/echo-c.zip", "zip/echo-rs.zip"] {
        let n = size(rel);
        eprintln!("{rel}: {n} bytes");
        assert!(n <= 12 * KIB, "{rel} is {n} bytes, over the 12 KiB regression guard");
    }
}

/// The core has no panic path (every index is checked by `get`), so a
/// bootstrap whose handler cannot panic links none of core's formatting
/// machinery. A panic site leaves its location (a source path) in .rodata.
/// Issue 2's cold start in instructions, which repeat exactly where times
/// drift: single-stepped from exec to the first connect(2), a static echo
/// runs under 4,000 instructions (about 3,000 today) and no CPUID, which
/// a hypervisor traps (6-7 µs each on these machines). The dynamic ones are
/// the control: glibc's start-up alone runs ~90,000 and 41 CPUIDs (`make
/// cold-detail`), so a counter that saw nothing would fail here.
#[cfg(target_arch = "x86_64")]
#[test]
fn static_echoes_connect_within_4000_instructions_and_no_cpuid() {
    let count = |rel: &str| -> (u64, u64) {
        let o = Command::new(out("bench/bin/startup"))
            .arg(out(rel))
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
            .env("AWS_LAMBDA_FUNCTION_NAME", "budgets")
            .output()
            .expect("out/bench/bin/startup (make bench-build)");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "startup {rel}: {}{text}", String::from_utf8_lossy(&o.stderr));
        let v: Vec<u64> = text.split_whitespace().map(|x| x.parse().unwrap()).collect();
        eprintln!("{rel}: {} instructions to the first connect, {} CPUID", v[0], v[1]);
        (v[0], v[1])
    };
    for rel in ["static/echo-rs", "static/echo-c"] {
        let (n, cpuid) = count(rel);
        assert!(n <= 4_000 && cpuid == 0, "{rel}: {n} instructions and {cpuid} CPUID before it connects");
    }
    for rel in ["dynamic/echo-rs", "dynamic/echo-c"] {
        let (n, cpuid) = count(rel);
        assert!(n > 20_000 && cpuid > 0, "{rel}: only {n} instructions and {cpuid} CPUID counted through glibc's start-up");
    }
}

#[test]
fn bootstraps_without_panics_link_no_panic_machinery() {
    for name in ["echo-c", "context-c", "stream-c", "echo-rs", "stream-rs"] {
        for kind in ["static", "dynamic"] {
            let bin = std::fs::read(out(&format!("{kind}/{name}"))).unwrap();
            for needle in [&b"library/core/src"[..], b"crates/faas/src", b"c-abi/src", b"panicked"] {
                let found = bin.windows(needle.len()).any(|w| w == needle);
                assert!(!found, "{kind}/{name} holds {:?}: a panic path crept in", String::from_utf8_lossy(needle));
            }
        }
    }
}

#[test]
fn static_bootstraps_are_static_and_dynamic_ones_need_at_most_glibc_2_34() {
    for name in ["echo-c", "echo-rs", "context-c", "stream-c", "stream-rs", "typed-rs"] {
        let file = Command::new("file").arg(out(&format!("static/{name}"))).output().expect("file(1)");
        let file = String::from_utf8_lossy(&file.stdout);
        assert!(file.contains("statically linked"), "static/{name}: {file}");
        let dynamic = out(&format!("dynamic/{name}"));
        // The loader's own view: it needs glibc (and only glibc).
        let dyn_section = Command::new("readelf").arg("-d").arg(&dynamic).output().expect("readelf");
        let text = String::from_utf8_lossy(&dyn_section.stdout);
        let needed: Vec<&str> = text.lines().filter(|l| l.contains("(NEEDED)")).collect();
        assert!(needed.len() == 1 && needed[0].contains("[libc.so.6]"), "dynamic/{name} needs {needed:?}");
        assert!(text.contains("(VERNEED)"), "dynamic/{name} has no version needs: {text}");
        let versions = glibc_versions(&std::fs::read(&dynamic).unwrap());
        let newest = *versions.last().expect("links glibc symbols");
        eprintln!("dynamic/{name}: glibc versions {versions:?}");
        assert!(newest <= (2, 34), "dynamic/{name} needs GLIBC_{}.{}, newer than al2023 and UBI 9 have", newest.0, newest.1);
    }
}

#[test]
fn the_glibc_version_scan_sees_what_the_linker_recorded() {
    // A name past the limit is caught, a private one is not a version.
    assert_eq!(glibc_versions(b"\0GLIBC_2.2.5\0GLIBC_2.34\0GLIBC_PRIVATE\0GLIBC_2.38\0"), [(2, 2), (2, 34), (2, 38)]);
}

/// Every size the README quotes for today's build is the size `make` built
/// (sizes repeat to the byte for a commit): a change that moves one fails
/// here until the README says so. (The bench table is one dated run and
/// keeps that run's sizes; the arm64 figures are checked in tests/arm64.rs,
/// the image's in tests/containers.rs, cargo's and cargo-lambda's where
/// tests/packaging.rs builds them.)
#[test]
fn readme_sizes_are_todays() {
    let n = |rel: &str| thousands(size(rel));
    let (s_rs, s_c, d_rs) = (n("static/echo-rs"), n("static/echo-c"), n("dynamic/echo-rs"));
    let (z_rs, z_c, zs_rs) = (n("zip/echo-rs.zip"), n("zip/echo-c.zip"), n("zip-static/echo-rs.zip"));
    readme_quotes("static echoes", &format!("Rust {s_rs}, C {s_c} bytes"));
    readme_quotes("dynamic echo zips", &format!("The dynamic (glibc) echo zip is {z_c} bytes in C and {z_rs} in Rust"));
    readme_quotes("zip-static against zip", &format!("(echo-rs: {zs_rs} against {z_rs} bytes)"));
    readme_quotes("the dynamic Rust echo", &format!("and {d_rs} linked `-no-pie`"));
    readme_quotes("faas-rie", &format!("faas-rie is {} bytes, static", n("bin/faas-rie")));
    readme_quotes("std-rs", &format!("into `out/std/std-rs` ({} bytes", n("std/std-rs")));
    readme_quotes("std-rs zip", &format!("`out/std/std-rs.zip` ({} bytes)", n("std/std-rs.zip")));
    // The code segment: the first LOAD's FileSiz, as `readelf -lW` shows it.
    let headers = program_headers(&std::fs::read(out("dynamic/echo-c")).unwrap());
    let code = headers.iter().find(|h| h.0 == 1).expect("a PT_LOAD segment").1;
    readme_quotes("the dynamic C echo's code segment", &format!("code segment is {} bytes", thousands(code)));
}

#[test]
fn thousands_and_the_elf_reader_read_right() {
    assert_eq!([0, 714, 1000, 19188, 1139334].map(thousands), ["0", "714", "1,000", "19,188", "1,139,334"]);
    let mut elf = vec![0u8; 0x40 + 2 * 56];
    elf[0x20] = 0x40; // e_phoff
    elf[0x36] = 56; // e_phentsize
    elf[0x38] = 2; // e_phnum
    elf[0x40] = 6; // PT_PHDR first
    elf[0x40 + 56] = 1; // then PT_LOAD, FileSiz 0x4a94
    elf[0x40 + 56 + 0x20..0x40 + 56 + 0x22].copy_from_slice(&[0x94, 0x4a]);
    assert_eq!(program_headers(&elf), [(6, 0), (1, 0x4a94)]);
}
