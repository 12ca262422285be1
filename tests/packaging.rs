//! The packages, each built and installed by the real tool, then used: a C
//! handler is compiled against the installed files through pkg-config and
//! answers an invocation from a Runtime API served by this test, then one
//! through the package's own faas-rie.
//!
//! - `make install` / `make uninstall` with DESTDIR and PREFIX;
//! - `make dist`: offline-buildable, reproducible, its sha256 recorded in
//!   PKGBUILD and Formula/faas.rb;
//! - rpm/faas.spec: rpmbuild -ba, rpmlint, rpm --root -i (tests/packaging/rpm.sh);
//! - PKGBUILD: makepkg as an unprivileged user, pacman -U --root (pacman.sh);
//! - Formula/faas.rb: ruby -c, version and sha256; its install and test
//!   blocks under a stand-in for brew (tests/packaging/brew.rb);
//! - the Lambda zips: `bootstrap` at the root, mode 0755;
//! - the README's handlers (Rust with its Cargo.toml, and C), built as a
//!   project of their own;
//! - one version everywhere (tests/packaging/check-versions.sh).
//!
//! Needs (Debian): rpm rpmlint makepkg pacman-package-manager libarchive-tools
//! fakeroot ruby curl zip unzip pkgconf iproute2 util-linux passwd; and root.
use faas_tests::{out, readme_block, readme_project, readme_quotes_near, root};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use std::{env, fs, thread};

// ---------------------------------------------------------------- helpers

/// The version every file must state: the workspace Cargo.toml's.
fn version() -> String {
    let toml = fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let line = toml.lines().find(|l| l.starts_with("version = ")).expect("no version in Cargo.toml");
    line.trim_start_matches("version = ").trim_matches('"').to_string()
}

/// Fails with the apt package to install when a tool is missing: CI starts
/// clean, and a test that quietly skips proves nothing.
fn need(tool: &str, apt: &str) {
    let found = env::var_os("PATH").map(|p| env::split_paths(&p).any(|d| d.join(tool).is_file())).unwrap_or(false);
    assert!(found, "`{tool}` is not installed: apt-get install {apt}");
}

/// A command without the outer make's and cargo's state (jobserver fds).
fn cmd(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new(program);
    for v in ["MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES", "CARGO_MAKEFLAGS", "CARGO_TARGET_DIR"] {
        c.env_remove(v);
    }
    c
}

/// Runs `c`, failing with its output unless it succeeds; returns stdout.
fn run(c: &mut Command) -> String {
    let what = format!("{c:?}");
    let o: Output = c.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{what} failed ({}):\n{stdout}\n{stderr}", o.status);
    eprintln!("{stdout}{stderr}");
    stdout
}

fn make() -> Command {
    let mut c = cmd("make");
    c.current_dir(root()).arg("--no-print-directory");
    c
}

/// A fresh scratch directory under /tmp (traversable by the makepkg user,
/// unlike a checkout under /root), removed when the test passes.
struct Scratch(PathBuf);
impl Scratch {
    fn new(name: &str) -> Scratch {
        let p = env::temp_dir().join(format!("faas-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
}
impl Drop for Scratch {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("kept {} for inspection", self.0.display());
        } else {
            let _ = fs::remove_dir_all(&self.0);
        }
    }
}

/// Every regular file and symlink under `dir`, relative to it.
fn files_under(dir: &Path) -> BTreeSet<String> {
    fn walk(base: &Path, d: &Path, acc: &mut BTreeSet<String>) {
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() && !p.is_symlink() {
                walk(base, &p, acc);
            } else {
                acc.insert(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut acc = BTreeSet::new();
    if dir.exists() {
        walk(dir, dir, &mut acc);
    }
    acc
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o7777
}

fn sha256_of(p: &Path) -> String {
    run(cmd("sha256sum").arg(p)).split_whitespace().next().unwrap().to_string()
}

// ------------------------------------------------ using an installed tree

/// Compiles the installed echo example against the installed header and
/// library, found through the installed faas.pc only, and returns the binary.
fn build_handler(sysroot: &Path, prefix: &str, libdir: &str, work: &Path) -> PathBuf {
    need("pkg-config", "pkgconf");
    let pc_dir = format!("{}{libdir}/pkgconfig", sysroot.display());
    let pc = fs::read_to_string(format!("{pc_dir}/faas.pc")).expect("faas.pc is not installed");
    assert!(pc.contains(&format!("\nVersion: {}\n", version())), "faas.pc has the wrong version:\n{pc}");
    assert!(pc.contains(&format!("\nprefix={prefix}\n")), "faas.pc has the wrong prefix:\n{pc}");
    // Under the prefix, as ${prefix}/...: relocatable (pkg-config --define-prefix).
    let rel = libdir.strip_prefix(prefix).map_or(libdir.to_string(), |r| format!("${{prefix}}{r}"));
    assert!(pc.contains(&format!("\nlibdir={rel}\n")), "faas.pc has the wrong libdir (want {rel}):\n{pc}");
    assert!(pc.contains("\nincludedir=${prefix}/include\n"), "faas.pc has the wrong includedir:\n{pc}");

    let pkg_config = |arg: &str| {
        run(cmd("pkg-config")
            .args([arg, "faas"])
            .env("PKG_CONFIG_SYSROOT_DIR", sysroot)
            .env("PKG_CONFIG_LIBDIR", &pc_dir)
            .env_remove("PKG_CONFIG_PATH")
            // Keep -I/usr/include and -L/usr/lib64: under the sysroot they are ours.
            .env("PKG_CONFIG_ALLOW_SYSTEM_CFLAGS", "1")
            .env("PKG_CONFIG_ALLOW_SYSTEM_LIBS", "1"))
        .trim()
        .to_string()
    };
    assert_eq!(pkg_config("--modversion"), version());
    let flags = pkg_config("--cflags") + " " + &pkg_config("--libs");
    assert!(flags.contains(&format!("-I{}", sysroot.display())), "flags outside the installed tree: {flags}");

    let source = sysroot.join(format!("{prefix}/share/doc/faas/examples/echo.c").trim_start_matches('/'));
    let bootstrap = work.join("bootstrap");
    run(cmd("cc").args(["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-Os"]).arg(&source).args(flags.split_whitespace()).arg("-o").arg(&bootstrap));
    bootstrap
}

/// Checks that `bootstrap` (build_handler's echo, linked with a package's
/// libfaas.a) is no larger than the same echo linked with the tree's
/// libfaas.a, built with the release profile (opt-level z): a distribution's
/// RUSTFLAGS must not undo it. Not the same to the byte: the paths of the
/// vendored crates differ.
fn assert_size_optimised(package: &str, bootstrap: &Path, work: &Path) {
    let tree = work.join("bootstrap-tree");
    let r = root();
    run(cmd("cc").args(["-std=c99", "-Os", "-I"]).arg(r.join("include")).arg(r.join("examples/echo.c")).arg(r.join("out/lib/libfaas.a")).arg("-o").arg(&tree));
    let size = |p: &Path| fs::metadata(p).unwrap().len();
    let (theirs, ours) = (size(bootstrap), size(&tree));
    println!("{package}: the echo linked with its libfaas.a is {theirs} bytes; with the tree's, {ours}");
    assert!(theirs <= ours + 512, "{package}: its libfaas.a is not size-optimised: the echo is {theirs} bytes against {ours}");
}

/// Runs `bootstrap` against a one-invocation Runtime API on 127.0.0.1 and
/// checks that it echoes the event. After the one invocation the next /next
/// gets a 500, on which a runtime must exit promptly.
fn invoke_echo(bootstrap: &Path) {
    let event = br#"{"hello":"from the packaging test","n":42}"#.to_vec();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let response: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
    let server = {
        let (seen, response, event) = (seen.clone(), response.clone(), event.clone());
        thread::spawn(move || {
            let mut served = false;
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut conn = conn;
                while let Some((method, path, body)) = read_request(&mut reader) {
                    seen.lock().unwrap().push(format!("{method} {path}"));
                    let next = path.ends_with("/2018-06-01/runtime/invocation/next");
                    let reply: Vec<u8> = if method == "STOP" {
                        return;
                    } else if method == "GET" && next && !served {
                        served = true;
                        let deadline = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 30_000;
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                             Lambda-Runtime-Aws-Request-Id: pkg-req-1\r\n\
                             Lambda-Runtime-Deadline-Ms: {deadline}\r\n\
                             Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:pkg\r\n\
                             Lambda-Runtime-Trace-Id: Root=1-00000000-000000000000000000000000\r\n\
                             Content-Length: {}\r\n\r\n",
                            event.len()
                        )
                        .into_bytes();
                        r.extend_from_slice(&event);
                        r
                    } else if method == "POST" && path.ends_with("/2018-06-01/runtime/invocation/pkg-req-1/response") {
                        *response.lock().unwrap() = Some(body);
                        b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"status\":\"OK\"}\n".to_vec()
                    } else {
                        let b = r#"{"errorType":"Test.Done","errorMessage":"one invocation only"}"#;
                        format!(
                            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{b}",
                            b.len()
                        )
                        .into_bytes()
                    };
                    if conn.write_all(&reply).is_err() {
                        break;
                    }
                }
            }
        })
    };

    let mut child =
        cmd(bootstrap).env_clear().env("AWS_LAMBDA_RUNTIME_API", addr.to_string()).env("AWS_LAMBDA_FUNCTION_NAME", "pkg").stdin(Stdio::null()).spawn().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} did not exit after the Runtime API's 500; requests: {:?}", bootstrap.display(), seen.lock().unwrap());
        }
        thread::sleep(Duration::from_millis(20));
    };
    // Wake the accept loop and stop the server.
    if let Ok(mut s) = TcpStream::connect(addr) {
        let _ = s.write_all(b"STOP / HTTP/1.1\r\n\r\n");
    }
    server.join().unwrap();
    let got = response.lock().unwrap().clone();
    assert_eq!(
        got.as_deref().map(String::from_utf8_lossy),
        Some(String::from_utf8_lossy(&event)),
        "the handler did not echo the event; requests: {:?}",
        seen.lock().unwrap()
    );
    assert!(!status.success(), "a 500 from /next must end the runtime with a failure status, got {status}");
}

/// Runs the installed `faas-rie` with `bootstrap` and invokes it once over
/// the Invoke API, as the AWS CLI would: the packaged emulator and the
/// handler built from the packaged files must work together.
fn invoke_through_rie(rie: &Path, bootstrap: &Path) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = cmd(rie)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--runtime-api", "127.0.0.1:0", "--"])
        .arg(bootstrap)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let event = r#"{"hello":"through faas-rie"}"#;
    let request = format!(
        "POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{event}",
        event.len()
    );
    let start = Instant::now();
    let answer = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(mut s) => {
                s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                s.write_all(request.as_bytes()).unwrap();
                let mut r = BufReader::new(s);
                let mut status = String::new();
                r.read_line(&mut status).unwrap();
                let mut rest = String::new();
                let _ = std::io::Read::read_to_string(&mut r, &mut rest);
                break (status, rest);
            }
            Err(_) if start.elapsed() < Duration::from_secs(10) => thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} did not listen on 127.0.0.1:{port}: {e}", rie.display());
            }
        }
    };
    run(cmd("kill").arg("-TERM").arg(child.id().to_string()));
    let status = child.wait().unwrap();
    let (line, rest) = answer;
    assert!(line.starts_with("HTTP/1.1 200"), "faas-rie answered {line}{rest}");
    assert!(rest.ends_with(event), "faas-rie's answer is not the echoed event:\n{line}{rest}");
    assert!(!rest.to_ascii_lowercase().contains("x-amz-function-error"), "a function error:\n{rest}");
    assert!(status.success(), "faas-rie must exit 0 on SIGTERM, got {status}");
}

/// One HTTP/1.1 request: method, path and body (Content-Length or chunked).
/// None when the connection closes first.
fn read_request(r: &mut impl BufRead) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let (mut length, mut chunked) = (0usize, false);
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse().ok()?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    let mut t = String::new();
                    if r.read_line(&mut t).ok()? == 0 || t.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0; size + 2];
            r.read_exact(&mut chunk).ok()?;
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length, 0);
        r.read_exact(&mut body).ok()?;
    }
    Some((method, path, body))
}

// ------------------------------------------------------------- make dist

struct Dist {
    tarball: PathBuf,
    /// Where `make dist` stamped its copies of PKGBUILD and Formula/faas.rb
    /// (the tracked ones stay as they are).
    recipes: PathBuf,
    sha256: String,
    sha256_again: String,
}

/// `make dist`, once for the whole test binary (rpm and pacman share the
/// tarball), run twice to check that it is reproducible.
fn dist() -> &'static Dist {
    static DIST: OnceLock<Dist> = OnceLock::new();
    DIST.get_or_init(|| {
        need("git", "git");
        let tarball = root().join(format!("dist/faas-{}.tar.gz", version()));
        let recipes = root().join("dist/recipes"); // dist/ is ignored by git
        let _ = fs::remove_dir_all(&recipes);
        let stamp = format!("RECIPES={}", recipes.display());
        run(make().arg("dist").arg(&stamp));
        let sha256 = sha256_of(&tarball);
        run(make().arg("dist").arg(&stamp));
        let sha256_again = sha256_of(&tarball);
        Dist { tarball, recipes, sha256, sha256_again }
    })
}

// ----------------------------------------------------------------- tests

/// The licenses of the crates compiled into libfaas.a and faas-rie are
/// installed with faas's own (c-abi/THIRD-PARTY-NOTICES, which `make
/// install` installs): the committed file is what `make notices` writes for
/// today's Cargo.lock, and the spec declares each crate as bundled, in both
/// packages that ship it.
#[test]
fn third_party_notices_match_the_lock_file() {
    let o = cmd("/usr/bin/python3").arg(root().join("c-abi/notices.py")).current_dir(root()).output().unwrap();
    assert!(o.status.success(), "c-abi/notices.py: {}", String::from_utf8_lossy(&o.stderr));
    let committed = std::fs::read_to_string(root().join("c-abi/THIRD-PARTY-NOTICES")).unwrap();
    assert!(String::from_utf8_lossy(&o.stdout) == committed, "c-abi/THIRD-PARTY-NOTICES is stale: run `make notices`");
    let spec = std::fs::read_to_string(root().join("rpm/faas.spec")).unwrap();
    let crates: Vec<(&str, &str)> = committed
        .lines()
        .filter(|l| l.contains(", used under "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, rest)| (n, rest.split(' ').next().unwrap()))
        .collect();
    assert!(crates.len() >= 5, "{crates:?}");
    for (name, version) in crates {
        let line = format!("Provides:       bundled(crate({name})) = {version}\n");
        assert_eq!(spec.matches(&line).count(), 2, "rpm/faas.spec: {line:?} in faas and faas-devel");
    }
}

#[test]
fn one_version_everywhere() {
    let script = root().join("tests/packaging/check-versions.sh");
    run(cmd(&script).arg(root()));

    // And the check does fail on a disagreement.
    let s = Scratch::new("versions");
    for f in ["Cargo.toml", "rpm/faas.spec", "PKGBUILD", "Formula/faas.rb", "include/faas.h", "c-abi/faas.pc.in"] {
        fs::create_dir_all(s.0.join(f).parent().unwrap()).unwrap();
        fs::copy(root().join(f), s.0.join(f)).unwrap();
    }
    run(cmd(&script).arg(&s.0));
    let pkgbuild = fs::read_to_string(s.0.join("PKGBUILD")).unwrap();
    fs::write(s.0.join("PKGBUILD"), pkgbuild.replace(&format!("pkgver={}", version()), "pkgver=99.0.0")).unwrap();
    let o = cmd(&script).arg(&s.0).output().unwrap();
    assert!(!o.status.success(), "check-versions.sh accepted pkgver=99.0.0");
    assert!(String::from_utf8_lossy(&o.stderr).contains("PKGBUILD pkgver says '99.0.0'"));
}

#[test]
fn lambda_zips_hold_an_executable_bootstrap_at_the_root() {
    need("unzip", "unzip");
    // out/zip holds the dynamic builds, out/zip-static the static ones.
    for (dir, build) in [("zip", "dynamic"), ("zip-static", "static")] {
        let zips: Vec<PathBuf> = fs::read_dir(out(dir)).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "zip")).collect();
        assert!(zips.len() >= 6, "expected a zip per example in out/{dir}, found {zips:?}");
        for zip in zips {
            let listing = run(cmd("unzip").arg("-Z").arg(&zip));
            let entries: Vec<&str> = listing.lines().filter(|l| l.starts_with(['-', 'd', 'l'])).collect();
            assert_eq!(entries.len(), 1, "{}: one entry expected:\n{listing}", zip.display());
            let fields: Vec<&str> = entries[0].split_whitespace().collect();
            // -rwxr-xr-x  3.0 unx  12345 bx defX 20-Jan-01 00:00 bootstrap
            assert_eq!(fields[0], "-rwxr-xr-x", "{}: bootstrap must be mode 0755:\n{listing}", zip.display());
            assert_eq!(fields[2], "unx", "{}: Unix attributes are what carry the mode:\n{listing}", zip.display());
            assert_eq!(fields.last(), Some(&"bootstrap"), "{}: bootstrap must be at the root:\n{listing}", zip.display());
            // And it is that example's build, byte for byte.
            let name = zip.file_stem().unwrap().to_str().unwrap();
            let inside = cmd("unzip").arg("-p").arg(&zip).arg("bootstrap").output().unwrap().stdout;
            assert!(inside == fs::read(out(&format!("{build}/{name}"))).unwrap(), "{}: not out/{build}/{name}", zip.display());
        }
    }
}

/// A user's project outside this repository: the README's Rust handler and
/// `Cargo.toml` (with the path to this repository's core), built as the
/// README says (release, and debug too), linked by `cc` with `-s`; and the
/// README's C handler compiled against out/lib/libfaas.a. Each bootstrap
/// must then answer an invocation.
#[test]
fn readme_handlers_build_in_a_project_of_their_own() {
    let s = Scratch::new("user-project");
    readme_project(&s.0, false);
    for (profile, flag) in [("release", Some("--release")), ("debug", None)] {
        run(cmd("cargo").current_dir(&s.0).args(["build", "--offline", "--quiet"]).args(flag).env("CARGO_TARGET_DIR", s.0.join("target")));
        let bootstrap = s.0.join(format!("bootstrap-{profile}"));
        run(cmd("cc").arg(s.0.join(format!("target/{profile}/libmy_function.a"))).arg("-s").arg("-o").arg(&bootstrap));
        invoke_echo(&bootstrap);
    }
    // The same source as a binary crate named bootstrap: `cargo build` alone.
    let bin = s.0.join("bin");
    readme_project(&bin, true);
    run(cmd("cargo").current_dir(&bin).args(["build", "--offline", "--quiet", "--release"]).env("CARGO_TARGET_DIR", bin.join("target")));
    invoke_echo(&bin.join("target/release/bootstrap"));
    let built = fs::metadata(bin.join("target/release/bootstrap")).unwrap().len();
    eprintln!("cargo build --release: bootstrap {built} bytes");
    readme_quotes_near("cargo build --release", "`target/release/bootstrap` (", built, 16);
    // And so cargo-lambda packages it as it does the official runtime's
    // functions (`--compiler cargo`: Zig, its default, is not installed here).
    let cargo_lambda = out("cargo-lambda/bin/cargo-lambda");
    assert!(cargo_lambda.exists(), "run `make cargo-lambda` (cargo-lambda 1.9.2 into out/cargo-lambda)");
    run(cmd(&cargo_lambda).current_dir(&bin).args(["lambda", "build", "--release", "--offline", "--compiler", "cargo", "--output-format", "zip"]));
    let zip = bin.join("target/lambda/bootstrap/bootstrap.zip");
    let zipped = fs::metadata(&zip).unwrap().len();
    eprintln!("cargo lambda build --release: zip {zipped} bytes");
    readme_quotes_near("cargo lambda build --release", "`target/lambda/bootstrap/bootstrap.zip` (", zipped, 16);
    let listing = run(cmd("unzip").arg("-Z").arg(&zip));
    let entries: Vec<&str> = listing.lines().filter(|l| l.starts_with(['-', 'd', 'l'])).collect();
    assert!(entries.len() == 1 && entries[0].starts_with("-rwxr-xr-x") && entries[0].ends_with(" bootstrap"), "{listing}");
    let unzipped = bin.join("from-zip");
    fs::write(&unzipped, cmd("unzip").arg("-p").arg(&zip).arg("bootstrap").output().unwrap().stdout).unwrap();
    fs::set_permissions(&unzipped, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    invoke_echo(&unzipped);

    fs::write(s.0.join("handler.c"), readme_block("## A handler in C", "c")).unwrap();
    let bootstrap = s.0.join("bootstrap-c");
    run(cmd("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-Os"])
        .arg("-I")
        .arg(root().join("include"))
        .arg(s.0.join("handler.c"))
        .arg(out("lib/libfaas.a"))
        .arg("-o")
        .arg(&bootstrap));
    invoke_echo(&bootstrap);
}

#[test]
fn make_install_then_uninstall_leaves_nothing_behind() {
    let s = Scratch::new("install");
    let destdir = s.0.join("dest");
    let prefix = "/opt/faas";
    // Files that were there before and must stay.
    let keep = ["opt/faas/lib/libother.a", "opt/faas/share/doc/other/README"];
    for k in keep {
        fs::create_dir_all(destdir.join(k).parent().unwrap()).unwrap();
        fs::write(destdir.join(k), "not faas").unwrap();
    }
    let vars = [format!("DESTDIR={}", destdir.display()), format!("PREFIX={prefix}")];
    run(make().arg("install").args(&vars));

    let expected: BTreeSet<String> = [
        "bin/faas-rie",
        "lib/libfaas.a",
        "lib/pkgconfig/faas.pc",
        "include/faas.h",
        "share/doc/faas/README.md",
        "share/doc/faas/examples/echo.c",
        "share/doc/faas/examples/context.c",
        "share/doc/faas/examples/stream.c",
        "share/licenses/faas/LICENSE-MIT",
        "share/licenses/faas/LICENSE-APACHE",
        "share/licenses/faas/THIRD-PARTY-NOTICES",
    ]
    .iter()
    .map(|f| format!("opt/faas/{f}"))
    .chain(keep.iter().map(|k| k.to_string()))
    .collect();
    assert_eq!(files_under(&destdir), expected);
    for f in &expected {
        let want = if f.ends_with("bin/faas-rie") { 0o755 } else { 0o644 };
        if !keep.contains(&f.as_str()) {
            assert_eq!(mode(&destdir.join(f)), want, "{f}");
        }
    }
    let installed_h = fs::read(destdir.join("opt/faas/include/faas.h")).unwrap();
    assert_eq!(installed_h, fs::read(root().join("include/faas.h")).unwrap());

    let bootstrap = build_handler(&destdir, prefix, &format!("{prefix}/lib"), &s.0);
    invoke_echo(&bootstrap);
    invoke_through_rie(&destdir.join("opt/faas/bin/faas-rie"), &bootstrap);

    run(make().arg("uninstall").args(&vars));
    assert_eq!(files_under(&destdir), keep.iter().map(|k| k.to_string()).collect());
    for gone in ["opt/faas/share/doc/faas", "opt/faas/share/licenses/faas"] {
        assert!(!destdir.join(gone).exists(), "{gone} was left behind");
    }
}

#[test]
fn dist_tarball_vendors_is_reproducible_and_matches_the_recipes() {
    let d = dist();
    assert_eq!(d.sha256, d.sha256_again, "make dist is not reproducible (or the tree changed between two runs)");
    let v = version();

    let listing = run(cmd("tar").arg("-tzf").arg(&d.tarball));
    let names: BTreeSet<&str> = listing.lines().collect();
    let top = format!("faas-{v}/");
    assert!(names.iter().all(|n| n.starts_with(&top)), "everything must be under {top}");
    for must in ["Makefile", "Cargo.lock", "rpm/faas.spec", "c-abi/faas.pc.in", "include/faas.h", "LICENSE-MIT", "LICENSE-APACHE", ".cargo/config.toml"] {
        assert!(names.contains(format!("{top}{must}").as_str()), "{must} is not in the tarball");
    }
    for mustnt in ["PKGBUILD", "Formula/faas.rb"] {
        assert!(!names.contains(format!("{top}{mustnt}").as_str()), "{mustnt} records the tarball's sha256 and cannot be in it");
    }
    // Every registry crate of Cargo.lock is vendored.
    let lock = fs::read_to_string(root().join("Cargo.lock")).unwrap();
    for pkg in lock.split("[[package]]").filter(|p| p.contains("source = \"registry+")) {
        let name = pkg.lines().find_map(|l| l.strip_prefix("name = ")).unwrap().trim_matches('"');
        let found = names.iter().any(|n| n.starts_with(&format!("{top}vendor/{name}/")) || n.starts_with(&format!("{top}vendor/{name}-")));
        assert!(found, "crate {name} is not vendored");
    }
    let config = run(cmd("tar").arg("-xzOf").arg(&d.tarball).arg(format!("{top}.cargo/config.toml")));
    for line in ["replace-with = \"vendored-sources\"", "directory = \"vendor\"", "offline = true"] {
        assert!(config.contains(line), ".cargo/config.toml lacks `{line}`:\n{config}");
    }

    // The recipes record this tarball.
    let formula = fs::read_to_string(d.recipes.join("Formula/faas.rb")).unwrap();
    assert!(formula.contains(&format!("\n  sha256 \"{}\"\n", d.sha256)), "Formula/faas.rb's sha256 is not the tarball's {}", d.sha256);
    assert!(formula.contains(&format!("/releases/download/v{v}/faas-{v}.tar.gz\"")), "Formula/faas.rb's url does not name {v}");
    let repo = fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let repo = repo.lines().find_map(|l| l.strip_prefix("repository = ")).unwrap().trim_matches('"');
    assert!(formula.contains(&format!("  url \"{repo}/releases/")), "Formula/faas.rb's url is not under {repo}");
    let pkgbuild = fs::read_to_string(d.recipes.join("PKGBUILD")).unwrap();
    assert!(pkgbuild.contains(&format!("\nsha256sums=('{}')\n", d.sha256)), "PKGBUILD's sha256sums is not the tarball's");

    need("ruby", "ruby");
    // Only the sha256 line differs from the tracked recipes.
    for f in ["PKGBUILD", "Formula/faas.rb"] {
        let (ours, tracked) = (fs::read_to_string(d.recipes.join(f)).unwrap(), fs::read_to_string(root().join(f)).unwrap());
        let differ: Vec<_> = ours.lines().zip(tracked.lines()).filter(|(a, b)| a != b).collect();
        assert!(ours.lines().count() == tracked.lines().count() && differ.iter().all(|(a, _)| a.contains(&d.sha256)), "{f}: {differ:?}");
    }
    let syntax = run(cmd("ruby").arg("-c").arg(d.recipes.join("Formula/faas.rb")));
    assert_eq!(syntax.trim(), "Syntax OK");
}

/// Formula/faas.rb's own `install` and `test` blocks, run by
/// tests/packaging/brew.rb, a stand-in for the part of Homebrew that runs a
/// formula (brew itself cannot be fetched here: its installer and taps are
/// on github.com). The keg holds the files, and the formula's test (a
/// handler compiled through pkgconf, invoked through the keg's faas-rie)
/// passes. The stand-in checks for real: a wrong sha256 stops the install,
/// and a test that expects another answer fails.
#[test]
fn homebrew_formula_installs_and_passes_its_own_test() {
    need("ruby", "ruby");
    need("pkgconf", "pkgconf");
    need("curl", "curl");
    let d = dist();
    let s = Scratch::new("brew");
    let shim = root().join("tests/packaging/brew.rb");
    let formula = d.recipes.join("Formula/faas.rb");
    let said = run(cmd("ruby").arg(&shim).arg(&formula).arg(&d.tarball).arg(&s.0));
    assert!(said.contains("==> test passed"), "{said}");
    let keg = s.0.join(format!("Cellar/faas/{}", version()));
    for f in ["bin/faas-rie", "lib/libfaas.a", "include/faas.h", "lib/pkgconfig/faas.pc", "share/licenses/faas/LICENSE-MIT"] {
        assert!(keg.join(f).is_file(), "the keg has no {f}: {:?}", files_under(&keg));
    }
    assert_eq!(mode(&keg.join("bin/faas-rie")), 0o755);

    let text = fs::read_to_string(&formula).unwrap();
    let fails = |name: &str, formula: String, args: &[&str], says: &str| {
        let f = s.0.join(name);
        fs::write(&f, formula).unwrap();
        let o = cmd("ruby").arg(&shim).arg(&f).arg(&d.tarball).arg(&s.0).args(args).stdin(Stdio::null()).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && stderr.contains(says), "{name}: expected a failure saying {says:?}, got {}:\n{stderr}", o.status);
    };
    fails("wrong-sha256.rb", text.replace(&d.sha256, &"0".repeat(64)), &[], "sha256 mismatch");
    let answer = r#"assert_equal "{\"hello\":\"brew\"}", answer"#;
    assert!(text.contains(answer), "the formula's test no longer checks the answer as {answer}");
    fails("wrong-answer.rb", text.replace(answer, r#"assert_equal "{\"hello\":\"ale\"}", answer"#), &["--test-only"], "TestFailure");
}

#[test]
fn rpm_builds_lints_installs_and_its_files_build_a_working_handler() {
    need("rpmbuild", "rpm");
    need("rpmlint", "rpmlint");
    let d = dist();
    let s = Scratch::new("rpm");
    let work = s.0.join("rpm");
    run(cmd(root().join("tests/packaging/rpm.sh")).arg(&d.tarball).arg(&work));

    let rpms = run(cmd("sh").arg("-c").arg(format!("ls {}/top/RPMS/*/*.rpm", work.display())));
    let v = version();
    for name in ["faas", "faas-devel"] {
        assert!(rpms.lines().any(|r| r.ends_with(&format!("/{name}-{v}-1.x86_64.rpm"))), "no {name}-{v}-1 in:\n{rpms}");
    }
    let devel = rpms.lines().find(|r| r.contains("/faas-devel-")).unwrap();
    let provides = run(cmd("rpm").args(["-qp", "--provides"]).arg(devel));
    assert!(provides.contains("faas-static = "), "faas-devel must provide faas-static:\n{provides}");

    let sysroot = work.join("root");
    let installed = files_under(&sysroot);
    for f in [
        "usr/bin/faas-rie",
        "usr/lib64/libfaas.a",
        "usr/lib64/pkgconfig/faas.pc",
        "usr/include/faas.h",
        "usr/share/licenses/faas/LICENSE-MIT",
        "usr/share/doc/faas/README.md",
    ] {
        assert!(installed.contains(f), "{f} is not installed; got {installed:?}");
    }
    assert_eq!(mode(&sysroot.join("usr/bin/faas-rie")), 0o755);
    let bootstrap = build_handler(&sysroot, "/usr", "/usr/lib64", &s.0);
    invoke_echo(&bootstrap);
    invoke_through_rie(&sysroot.join("usr/bin/faas-rie"), &bootstrap);
    // rpm.sh built it with Fedora's Rust flags (opt-level 3, debuginfo 2),
    // which the spec overrides for size.
    assert_size_optimised("rpm", &bootstrap, &s.0);
}

#[test]
fn pacman_package_builds_installs_and_its_files_build_a_working_handler() {
    need("makepkg", "makepkg");
    need("pacman", "pacman-package-manager");
    let d = dist();
    let s = Scratch::new("pacman");
    let work = s.0.join("pacman");
    run(cmd(root().join("tests/packaging/pacman.sh")).arg(&d.tarball).arg(d.recipes.join("PKGBUILD")).arg(&work));

    let v = version();
    let info = run(cmd("pacman").args(["-Qi", "--root"]).arg(work.join("root")).arg("--dbpath").arg(work.join("db")).arg("faas"));
    assert!(info.lines().any(|l| l.starts_with("Version") && l.trim_end().ends_with(&format!(": {v}-1"))), "pacman -Qi:\n{info}");

    let sysroot = work.join("root");
    let installed = files_under(&sysroot);
    for f in [
        "usr/bin/faas-rie",
        "usr/lib/libfaas.a",
        "usr/lib/pkgconfig/faas.pc",
        "usr/include/faas.h",
        "usr/share/licenses/faas/LICENSE-MIT",
        "usr/share/doc/faas/README.md",
    ] {
        assert!(installed.contains(f), "{f} is not installed; got {installed:?}");
    }
    assert_eq!(mode(&sysroot.join("usr/bin/faas-rie")), 0o755);
    let bootstrap = build_handler(&sysroot, "/usr", "/usr/lib", &s.0);
    invoke_echo(&bootstrap);
    invoke_through_rie(&sysroot.join("usr/bin/faas-rie"), &bootstrap);
    // pacman.sh set RUSTFLAGS="-C opt-level=2 ..." in makepkg.conf, which
    // the PKGBUILD overrides for size.
    assert_size_optimised("pacman", &bootstrap, &s.0);
}
