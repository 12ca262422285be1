//! faas-rie against current AWS SDKs that nobody here wrote, pinned and
//! installed by make: boto3 from PyPI (`make sdk-venv`: out/sdk-venv, pins in
//! tests/rie/sdk-requirements.txt), the AWS SDK for JavaScript v3 from the
//! npm registry (`make sdk-js`: out/sdk-js, locked by tests/rie/js) and the
//! AWS SDK for Rust from crates.io (`make sdk-rust`: out/sdk-rust, locked by
//! tests/rie/rust-sdk, whose checks are those of the JavaScript one). Unlike
//! Debian's AWS CLI 2.9 and botocore 1.29 (tests/rie.rs), all three have
//! InvokeWithResponseStream: its event stream is parsed by the SDKs
//! themselves. The checks are in tests/rie/sdk_boto3.py,
//! tests/rie/js/lambda_check.js and tests/rie/rust-sdk/src/main.rs; each
//! prints how many passed.
//!
//! A third SDK comes from Debian, as no Go module can be fetched here: the
//! AWS SDK for Go v2 1.17.1 (golang-github-aws-aws-sdk-go-v2-dev, Go 1.19
//! from golang-go), against which `make sdk-go` builds
//! tests/rie/go/lambda_check.go offline in GOPATH mode (out/sdk-go). That
//! version predates InvokeWithResponseStream, so it checks Invoke only:
//! success, function error, Tail, ClientContext, Qualifier, Event, DryRun,
//! the SDK's typed exceptions and their messages, a streaming function's
//! whole output and mid-stream failure, a timeout, a crash and twenty
//! concurrent invokes. It found that faas-rie sent ResourceNotFoundException's
//! message under "message", where Lambda's model (and so the Go SDK) has
//! "Message": the SDK then showed an empty message.
#[path = "rie/support.rs"]
mod support;

use faas_tests::{out, root};
use std::path::PathBuf;
use std::process::{Command, Output};
use support::*;

fn ex(name: &str) -> String {
    out(&format!("static/{name}")).display().to_string()
}

/// The five faas-rie instances the scripts use (context.c, stream.c,
/// stream-rs, the fixture with $DRIP_FILE, the fixture with a 1 s timeout)
/// and the drip file; the scripts take their URLs, then that file.
struct Five {
    ries: Vec<Rie>,
    drip: PathBuf,
}

impl Five {
    fn start() -> Five {
        let drip = scratch("sdk-drip").join("first-seen");
        let fixture = fixture();
        let ries = vec![
            Rie::start(&["--", &ex("context-c")], &[]),
            Rie::start(&["--", &ex("stream-c")], &[]),
            Rie::start(&["--", &ex("stream-rs")], &[]),
            Rie::start(&["--", fixture.to_str().unwrap()], &[("DRIP_FILE", drip.to_str().unwrap())]),
            Rie::start(&["--", fixture.to_str().unwrap()], &[("AWS_LAMBDA_FUNCTION_TIMEOUT", "1")]),
        ];
        Five { ries, drip }
    }

    fn args(&self, cmd: &mut Command) {
        cmd.args(self.ries.iter().map(Rie::url)).arg(&self.drip);
    }

    /// The script's output, asserted: it passed, and all its checks ran.
    fn passed(&self, o: &Output, what: &str, checks: usize) -> String {
        let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(o.status.success(), "{what} checks failed:\n{text}\nfaas-rie (context.c) stdout:\n{}", self.ries[0].stdout());
        assert!(text.contains(&format!(": {checks} checks passed")), "{what}: not all {checks} checks ran:\n{text}");
        println!("{}", text.trim());
        text
    }
}

#[test]
fn boto3_current_from_pypi() {
    let py = root().join("out/sdk-venv/bin/python");
    require(py.to_str().unwrap(), "run `make sdk-venv` (a venv with boto3 from PyPI, pinned in tests/rie/sdk-requirements.txt)");
    let five = Five::start();
    let mut cmd = Command::new(&py);
    cmd.arg(root().join("tests/rie/sdk_boto3.py"));
    five.args(&mut cmd);
    aws_env(&mut cmd);
    let o = run(&mut cmd, 300);
    let text = five.passed(&o, "boto3", 114);
    // The version the requirements pin is the one that ran.
    let pins = std::fs::read_to_string(root().join("tests/rie/sdk-requirements.txt")).unwrap();
    let boto3 = pins.lines().find_map(|l| l.strip_prefix("boto3==")).unwrap();
    assert!(text.contains(&format!("boto3 {boto3} ")), "boto3 {boto3} did not run: {text}");
}

#[test]
fn javascript_sdk_v3_from_npm() {
    require("/usr/bin/node", "install the Debian package nodejs (Node.js 20 or later)");
    let modules = root().join("out/sdk-js/node_modules");
    require(modules.join("@aws-sdk/client-lambda/package.json").to_str().unwrap(), "run `make sdk-js` (npm ci of tests/rie/js into out/sdk-js)");
    let five = Five::start();
    let mut cmd = Command::new("/usr/bin/node");
    cmd.arg(root().join("tests/rie/js/lambda_check.js")).env("NODE_PATH", &modules);
    five.args(&mut cmd);
    aws_env(&mut cmd);
    let o = run(&mut cmd, 300);
    let text = five.passed(&o, "@aws-sdk/client-lambda", 114);
    let lock = std::fs::read_to_string(root().join("tests/rie/js/package.json")).unwrap();
    let pinned = lock.split("\"@aws-sdk/client-lambda\": \"").nth(1).and_then(|s| s.split('"').next()).unwrap();
    assert!(text.contains(&format!("@aws-sdk/client-lambda {pinned} ")), "@aws-sdk/client-lambda {pinned} did not run: {text}");
}

#[test]
fn go_sdk_v2_from_debian() {
    let exe = root().join("out/sdk-go/lambda_check");
    require(
        exe.to_str().unwrap(),
        "run `make sdk-go` (builds tests/rie/go/lambda_check.go against the Debian packages golang-go and golang-github-aws-aws-sdk-go-v2-dev)",
    );
    let five = Five::start();
    let mut cmd = Command::new(&exe);
    five.args(&mut cmd);
    aws_env(&mut cmd);
    let o = run(&mut cmd, 300);
    let text = five.passed(&o, "aws-sdk-go-v2", 138);
    // Debian's SDK is the one that ran: its version, as its own sources state it.
    let meta = std::fs::read_to_string("/usr/share/gocode/src/github.com/aws/aws-sdk-go-v2/aws/go_module_metadata.go")
        .expect("the Debian package golang-github-aws-aws-sdk-go-v2-dev is not installed");
    let debian = meta.split("goModuleVersion = \"").nth(1).and_then(|s| s.split('"').next()).unwrap();
    assert!(text.contains(&format!("aws-sdk-go-v2 {debian}, ")), "aws-sdk-go-v2 {debian} (Debian's) did not run: {text}");
}

#[test]
fn rust_sdk_from_crates_io() {
    let exe = root().join("out/sdk-rust/release/lambda-check");
    require(exe.to_str().unwrap(), "run `make sdk-rust` (builds tests/rie/rust-sdk: aws-sdk-lambda from crates.io, as its Cargo.lock pins it)");
    let five = Five::start();
    let mut cmd = Command::new(&exe);
    five.args(&mut cmd);
    aws_env(&mut cmd);
    let o = run(&mut cmd, 300);
    let text = five.passed(&o, "aws-sdk-lambda", 132);
    let lock = std::fs::read_to_string(root().join("tests/rie/rust-sdk/Cargo.lock")).unwrap();
    let pinned = lock.split("name = \"aws-sdk-lambda\"\nversion = \"").nth(1).and_then(|s| s.split('"').next()).unwrap();
    assert!(text.contains(&format!("aws-sdk-lambda {pinned} ")), "aws-sdk-lambda {pinned} did not run: {text}");
}
