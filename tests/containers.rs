//! The container images, built and run with podman (runc, explicit ulimits,
//! as these machines need): the FROM-scratch image answers the AWS CLI and
//! stays within its 64 KiB budget, unpacked (`podman image inspect`'s
//! Size); the UBI 9 micro file builds and runs on a local stand-in base (no
//! registry is reachable here).
#[path = "rie/support.rs"]
mod support;

use faas_tests::{out, root};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

const PODMAN: &str = "/usr/bin/podman";
/// Size budget of the scratch image (echo + faas-rie), unpacked.
const BUDGET: u64 = 64 * 1024;

fn podman(args: &[&str]) -> String {
    require(PODMAN, "install the Debian packages podman, runc, uidmap and slirp4netns");
    let o = run(Command::new(PODMAN).args(args), 300);
    assert!(o.status.success(), "podman {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// The build context: the two static binaries, as `make image` makes it.
fn context() -> std::path::PathBuf {
    let d = scratch("image");
    std::fs::copy(out("bin/faas-rie"), d.join("faas-rie")).unwrap();
    std::fs::copy(out("static/echo-rs"), d.join("bootstrap")).unwrap();
    d
}

/// Runs `image` with a free host port; returns the container id and port.
/// (No `--rm`: its exit status is read after `podman stop`; `Stop` removes it.)
fn start(image: &str) -> (String, u16) {
    let id = podman(&["run", "--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "-d", "-p", "127.0.0.1::8080", image]);
    let port = podman(&["port", &id, "8080"]).rsplit(':').next().unwrap().parse().unwrap();
    (id, port)
}

struct Stop(String);
impl Drop for Stop {
    fn drop(&mut self) {
        let _ = run(Command::new(PODMAN).args(["rm", "-f", "-t", "2", &self.0]), 60);
    }
}

/// Removes the test's images when dropped (declared before the container's
/// `Stop`, so dropped after it), so that test runs do not pile them up.
struct Rmi(Vec<String>);
impl Drop for Rmi {
    fn drop(&mut self) {
        let _ = run(Command::new(PODMAN).args(["rmi", "-f"]).args(&self.0), 60);
    }
}

/// Waits until the container answers an invoke (10 s at most).
fn first_answer(port: u16) -> String {
    let t = Instant::now();
    loop {
        let r = std::panic::catch_unwind(|| post(port, "function", "", br#"{"ping":1}"#));
        match r {
            Ok(r) if r.starts_with("HTTP/1.1 200") => return r,
            _ if t.elapsed() > Duration::from_secs(10) => panic!("the container never answered"),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// The image as a registry stores it: gzip-compressed layers, config and
/// manifest (podman push to an OCI layout directory).
fn compressed_size(image: &str) -> u64 {
    let dir = scratch("oci");
    podman(&["push", "--compression-format", "gzip", image, &format!("oci:{}", dir.join("layout").display())]);
    fn sum(p: &Path) -> u64 {
        std::fs::read_dir(p).unwrap().map(|e| e.unwrap().path()).map(|p| if p.is_dir() { sum(&p) } else { p.metadata().unwrap().len() }).sum()
    }
    sum(&dir.join("layout"))
}

#[test]
fn scratch_image_answers_the_cli_within_budget() {
    let name = format!("faas-rie-test-{}", std::process::id());
    let tag = format!("localhost/{name}:scratch");
    let _rmi = Rmi(vec![tag.clone()]);
    // The Makefile's own rule, with what `make test` built (CARGO=false: a
    // stale build fails here rather than rebuilding under `cargo test`);
    // twice: the same binaries give the same image (see SCRATCH_BUILD).
    let make_image = || {
        let o = run(Command::new("make").args(["-s", "image", &format!("IMAGE={name}"), "CARGO=false"]).current_dir(root()), 300);
        assert!(
            o.status.success(),
            "make image (CARGO=false: with a stale build, run `make` first): {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        podman(&["image", "inspect", "--format", "{{.Id}}", &tag])
    };
    let first = make_image();
    assert_eq!(make_image(), first, "make image is reproducible");
    assert_eq!(podman(&["image", "inspect", "--format", "{{json .Config.Entrypoint}}", &tag]), r#"["/faas-rie","--listen","0.0.0.0:8080"]"#);
    let (id, port) = start(&tag);
    let _stop = Stop(id.clone());
    first_answer(port);
    let (o, payload) = invoke(port, &["--function-name", "function", "--payload", r#"{"in":"container"}"#, "--log-type", "Tail"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(payload, r#"{"in":"container"}"#);
    let o = run(Command::new(PODMAN).args(["logs", &id]), 60);
    let logs = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(logs.contains("REPORT RequestId: ") && logs.contains("Invoke API on http://0.0.0.0:8080"), "{logs}");
    let raw: u64 = podman(&["image", "inspect", "--format", "{{.Size}}", &tag]).parse().unwrap();
    let packed = compressed_size(&tag);
    println!("scratch image: {raw} bytes unpacked, {packed} bytes compressed (budget {BUDGET})");
    // The layer is a tar: each binary fills whole 512-byte blocks, and the
    // two may fill 121 between them (faas-rie 81 and the echo 38 today).
    let blocks = |f: &str| std::fs::metadata(out(f)).unwrap().len().div_ceil(512);
    let (rie_blocks, echo_blocks) = (blocks("bin/faas-rie"), blocks("static/echo-rs"));
    assert!(
        raw <= BUDGET,
        "the scratch image is {raw} bytes unpacked, over {BUDGET}: faas-rie fills {rie_blocks} tar blocks and the echo {echo_blocks}, of 121"
    );
    assert!(packed < raw, "compressed ({packed}) is smaller than unpacked ({raw})");
    let files = std::fs::metadata(out("bin/faas-rie")).unwrap().len() + std::fs::metadata(out("static/echo-rs")).unwrap().len();
    println!("scratch image: the two binaries are {files} bytes; tar headers and metadata {} more", raw - files);
    // Two tar entries (no directories) and the image's metadata: about 4 KB.
    assert!(raw < files + 6 * 1024, "nothing but the two binaries: {raw} vs {files}");
    // SIGTERM (podman stop) ends faas-rie with status 0 (a SIGKILL after
    // the 5 s would leave 137).
    podman(&["stop", "-t", "5", &id]);
    assert_eq!(podman(&["inspect", "--format", "{{.State.ExitCode}}", &id]).trim(), "0", "faas-rie's exit status on SIGTERM");
}

#[test]
fn ubi9_micro_file_on_a_local_base() {
    // A stand-in for ubi-micro, assembled from files: podman import.
    let base = format!("localhost/faas-rie-test-base:{}", std::process::id());
    let root_fs = scratch("base");
    std::fs::create_dir_all(root_fs.join("etc")).unwrap();
    std::fs::write(root_fs.join("etc/os-release"), "NAME=\"stand-in for UBI 9 micro\"\n").unwrap();
    let tar = root_fs.join("base.tar");
    let o = run(Command::new("tar").arg("-C").arg(&root_fs).args(["-cf"]).arg(&tar).arg("etc"), 60);
    assert!(o.status.success());
    podman(&["import", tar.to_str().unwrap(), &base]);
    let tag = format!("localhost/faas-rie-test:ubi-{}", std::process::id());
    let _rmi = Rmi(vec![tag.clone(), base.clone()]);
    let file = root().join("containers/Containerfile.ubi9-micro");
    podman(&[
        "build",
        "-q",
        "--no-cache",
        "--omit-history",
        "--identity-label=false",
        "--layers=false",
        "--build-arg",
        &format!("BASE={base}"),
        "-t",
        &tag,
        "-f",
        file.to_str().unwrap(),
        context().to_str().unwrap(),
    ]);
    let (id, port) = start(&tag);
    let _stop = Stop(id);
    let r = first_answer(port);
    assert!(r.ends_with(r#"{"ping":1}"#), "{r}");
}
