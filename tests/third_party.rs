//! Real third-party runtimes against faas-rie, to show it speaks the Runtime
//! API as AWS does: the official Python runtime interface client
//! (awslambdaric, from PyPI into out/ric-venv by `make ric-venv`), AWS's
//! Node.js one (aws-lambda-ric, from npm into out/node-ric), and the
//! official Rust runtime (lambda_runtime) in tests/official-rs: its echo, and
//! its response streaming (lambda_runtime::streaming); the official C++
//! runtime (aws-lambda-cpp, built for the bench). And the other way
//! round: faas's own bootstraps under a Runtime API emulator written by
//! others, cargo-lambda's `cargo lambda watch --only-lambda-apis`.
#[path = "rie/support.rs"]
mod support;

use faas_tests::root;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use support::*;

#[test]
fn python_awslambdaric() {
    let py = root().join("out/ric-venv/bin/python");
    require(py.to_str().unwrap(), "run `make ric-venv` (a venv with pip install awslambdaric==4.2.2)");
    let app = root().join("tests/rie");
    let rie =
        Rie::start(&["--", py.to_str().unwrap(), "-m", "awslambdaric", "app.handler"], &[("PYTHONPATH", app.to_str().unwrap()), ("PYTHONUNBUFFERED", "1")]);
    let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", r#"{"from":"cli"}"#, "--log-type", "Tail"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&payload);
    assert_eq!(v["echo"]["from"].as_str(), Some("cli"), "{payload}");
    assert_eq!(v["arn"].as_str(), Some("arn:aws:lambda:us-east-1:012345678912:function:function"));
    assert_eq!(v["remaining_ok"].as_bool(), Some(true), "a real epoch deadline");
    let meta = json(&String::from_utf8_lossy(&o.stdout));
    let tail = unbase64(meta["LogResult"].as_str().unwrap());
    assert!(tail.contains("python handler got {'from': 'cli'}"), "{tail}");
    // No payload: the event is {}, as on Lambda (awslambdaric fails to
    // parse an empty one: Runtime.UnmarshalError).
    let (o, payload) = invoke(rie.port, &["--function-name", "function"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(json(&payload)["echo"], json("{}"), "{payload}");
    let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", r#""fail""#]);
    assert!(o.status.success());
    assert_eq!(json(&String::from_utf8_lossy(&o.stdout))["FunctionError"].as_str(), Some("Unhandled"));
    let err = json(&payload);
    assert_eq!((err["errorType"].as_str(), err["errorMessage"].as_str()), (Some("ValueError"), Some("asked to fail")), "{payload}");
    // A long error message: awslambdaric sends it again as the X-Ray cause,
    // a header of up to 1 MiB, which Lambda takes and faas-rie must too.
    for n in [100_000, 900_000] {
        let r = post(rie.port, "function", "", format!(r#"{{"fail_with":{n}}}"#).as_bytes());
        assert!(r.starts_with("HTTP/1.1 200 ") && r.to_ascii_lowercase().contains("x-amz-function-error: unhandled"), "{}", &r[..r.len().min(300)]);
        let err = json(r.split("\r\n\r\n").nth(1).unwrap());
        assert_eq!((err["errorType"].as_str(), err["errorMessage"].as_str().map(str::len)), (Some("ValueError"), Some(n)), "{}", &r[..300]);
    }
    // A bigger event: Lambda (and faas-rie) send it chunked.
    let big = format!("\"{}\"", "x".repeat(300_000));
    let r = post(rie.port, "function", "", big.as_bytes());
    assert!(r.starts_with("HTTP/1.1 200 ") && r.contains(&"x".repeat(300_000)), "{}", &r[..r.len().min(300)]);
}

/// AWS's Node.js runtime interface client, aws-lambda-ric 3.3.0 (`make
/// node-ric`: npm ci as tests/rie/node-ric locks it; it builds its own
/// aws-lambda-cpp and curl), running tests/rie/node-ric/index.mjs from that
/// directory, as Lambda runs a function from /var/task.
#[test]
fn node_aws_lambda_ric() {
    let ric = root().join("out/node-ric/node_modules/.bin/aws-lambda-ric");
    require(ric.to_str().unwrap(), "run `make node-ric` (npm ci of aws-lambda-ric 3.3.0, as tests/rie/node-ric locks it)");
    let dir = root().join("tests/rie/node-ric");
    let start = |h: &str| Rie::start_under(&["env", "-C", dir.to_str().unwrap()], &["--", ric.to_str().unwrap(), h], &[]);
    let rie = start("index.handler");
    let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", r#"{"from":"cli"}"#, "--log-type", "Tail"]);
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stderr), rie.stderr());
    assert_eq!(json(&payload), json(r#"{"from":"cli"}"#));
    let tail = unbase64(json(&String::from_utf8_lossy(&o.stdout))["LogResult"].as_str().unwrap());
    assert!(tail.contains(r#"node handler got {"from":"cli"}"#), "{tail}");
    // No payload: the event is {}, as on Lambda (the client's JSON.parse
    // of an empty event fails).
    let (o, payload) = invoke(rie.port, &["--function-name", "function"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(json(&payload), json("{}"), "{payload}");

    // The context: the caller's client context (base64 of {"custom":{"k":"v"}})
    // and trace id, the request id the caller got, the ARN and the deadline.
    let (o, payload) =
        invoke(rie.port, &["--function-name", "function", "--payload", r#"{"kind":"context"}"#, "--client-context", "eyJjdXN0b20iOnsiayI6InYifX0="]);
    assert!(o.status.success());
    assert_eq!(json(&payload)["clientContext"]["custom"]["k"].as_str(), Some("v"), "{payload}");
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1";
    let r = post(rie.port, "function", &format!("X-Amzn-Trace-Id: {trace}\r\n"), br#"{"kind":"context"}"#);
    let id = r.lines().find_map(|l| l.strip_prefix("x-amzn-RequestId: ")).unwrap_or_else(|| panic!("{r}"));
    let v = json(r.split_once("\r\n\r\n").unwrap().1);
    assert_eq!((v["requestId"].as_str(), v["traceId"].as_str()), (Some(id), Some(trace)), "{r}");
    assert_eq!(v["arn"].as_str(), Some("arn:aws:lambda:us-east-1:012345678912:function:function"));
    assert!((1..=300_000).contains(&v["remaining"].as_i64().unwrap()), "{r}");

    // Errors: thrown, rejected, and one whose X-Ray cause header is 200 KB.
    for (kind, etype, msg) in [("throw", "TypeError", "thrown by the handler"), ("reject", "RangeError", "a rejected promise")] {
        let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", &format!(r#"{{"kind":"{kind}"}}"#)]);
        assert!(o.status.success());
        assert_eq!(json(&String::from_utf8_lossy(&o.stdout))["FunctionError"].as_str(), Some("Unhandled"), "{kind}");
        let err = json(&payload);
        assert_eq!((err["errorType"].as_str(), err["errorMessage"].as_str()), (Some(etype), Some(msg)), "{payload}");
    }
    let r = post(rie.port, "function", "", br#"{"kind":"long error","n":200000}"#);
    assert!(r.starts_with("HTTP/1.1 200 ") && r.contains("X-Amz-Function-Error: Unhandled"), "{}", &r[..r.len().min(300)]);
    assert_eq!(json(r.split_once("\r\n\r\n").unwrap().1)["errorMessage"].as_str().map(str::len), Some(200_000));

    // A log line longer than a pipe holds: the client writes it in pieces,
    // and answers before the last; END and REPORT still start lines.
    let r = post(rie.port, "function", "", br#"{"kind":"long line","n":100000}"#);
    assert!(r.ends_with("\r\n\r\n\"logged\""), "{r}");
    // (Its L's: runs of them, not the L of $LATEST or of a path.)
    let ls = |log: &str| log.split(|c| c != 'L').filter(|r| r.len() > 100).map(str::len).sum::<usize>();
    let t = Instant::now();
    while ls(&rie.stdout()) < 100_000 && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = rie.stdout();
    assert_eq!(ls(&log), 100_000);
    assert!(log.lines().all(|l| ["END RequestId: ", "REPORT RequestId: "].iter().all(|m| !l.contains(m) || l.starts_with(m))), "END or REPORT in a line");

    // process.exit: Runtime.ExitError, its peak memory reported, then a new runtime.
    let r = post(rie.port, "function", "", br#"{"kind":"exit"}"#);
    assert!(r.contains("Runtime.ExitError") && r.contains("exit status 3"), "{r}");
    let id = r.lines().find_map(|l| l.strip_prefix("x-amzn-RequestId: ")).unwrap_or_else(|| panic!("{r}"));
    let log = rie.wait_stdout(&format!("REPORT RequestId: {id}"), 1, 10);
    let report = log.lines().find(|l| l.starts_with(&format!("REPORT RequestId: {id}"))).unwrap();
    let mem: u64 = report.split("Max Memory Used: ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(mem >= 10, "Node.js uses more than 10 MB: {report}");
    let r = post(rie.port, "function", "", br#"{"after":"exit"}"#);
    assert!(r.ends_with(r#"{"after":"exit"}"#), "{r}");

    // awslambda.streamifyResponse, relayed live: the second chunk is only
    // written once the caller has read the first.
    let rie = start("index.stream");
    let file = scratch("node-ric-drip").join("first-seen");
    let ev = format!(r#"{{"kind":"drip","file":"{}"}}"#, file.display());
    let mut s = std::net::TcpStream::connect(("127.0.0.1", rie.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!("POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n", ev.len());
    s.write_all(&[head.as_bytes(), ev.as_bytes()].concat()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("first\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed before the first chunk: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    std::fs::write(&file, b"").unwrap();
    s.read_to_end(&mut got).unwrap();
    let r = String::from_utf8_lossy(&got);
    assert!(r.starts_with("HTTP/1.1 200 ") && r.contains("Transfer-Encoding: chunked"), "{r}");
    assert_eq!(dechunk(&r), "first\nsecond\n");

    // A stream that fails midway, through InvokeWithResponseStream, decoded
    // (and its CRCs checked) by botocore: the chunk, then the error.
    let o = run(Command::new("/usr/bin/python3").args(["-c", STREAM_EVENTS, &rie.port.to_string(), r#"{"kind":"fail"}"#]), 60);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&out);
    assert_eq!(v[0], json(r#"["PayloadChunk","first\n"]"#), "{out}");
    assert_eq!(v[1][0].as_str(), Some("InvokeComplete"), "{out}");
    assert_eq!(json(v[1][1].as_str().unwrap())["ErrorCode"].as_str(), Some("RangeError"), "{out}");
    assert_eq!(v.as_array().unwrap().len(), 2, "{out}");
}

/// InvokeWithResponseStream, unsigned, on 127.0.0.1:argv[1] with the
/// payload argv[2]: prints its events as [[event type, payload], ...].
const STREAM_EVENTS: &str = r#"
import http.client, json, sys
from botocore.eventstream import EventStreamBuffer
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=60)
c.request("POST", "/2021-11-15/functions/function/response-streaming-invocations", body=sys.argv[2])
r = c.getresponse()
assert r.status == 200, r.status
buf = EventStreamBuffer()
buf.add_data(r.read())
print(json.dumps([[m.headers.get(":event-type"), m.payload.decode()] for m in buf]))
"#;

#[test]
fn official_rust_lambda_runtime() {
    let manifest = root().join("tests/official-rs/Cargo.toml");
    let o = run(Command::new(env!("CARGO")).args(["build", "--release", "--locked", "--manifest-path"]).arg(&manifest), 900);
    assert!(o.status.success(), "cannot build tests/official-rs: {}", String::from_utf8_lossy(&o.stderr));
    let exe = root().join("tests/official-rs/target/release/official-echo");
    let rie = Rie::start(&["--", exe.to_str().unwrap()], &[]);
    for i in 0..3 {
        let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", &format!(r#"{{"official":{i}}}"#)]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(json(&payload), json(&format!(r#"{{"official":{i}}}"#)));
    }
}

/// The official C++ runtime (aws-lambda-cpp, as `make bench-build` builds it
/// for the bench from awslambdaric's sdist): its echo, through the CLI and
/// with an event big enough that faas-rie sends it chunked.
#[test]
fn official_cpp_runtime() {
    let exe = root().join("out/bench/bin/official-cpp");
    require(exe.to_str().unwrap(), "run `make bench-build` (it builds aws-lambda-cpp from the awslambdaric 4.2.2 sdist)");
    let rie = Rie::start(&["--", exe.to_str().unwrap()], &[]);
    for i in 0..3 {
        let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", &format!(r#"{{"cpp":{i}}}"#)]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(payload, format!(r#"{{"cpp":{i}}}"#));
    }
    let big = format!("\"{}\"", "c".repeat(300_000));
    let r = post(rie.port, "function", "", big.as_bytes());
    assert!(r.starts_with("HTTP/1.1 200 ") && r.ends_with(&big), "{}", &r[..r.len().min(300)]);
    assert_eq!(rie.stdout().matches("START RequestId: ").count(), 4, "one runtime, four invocations");
}

/// lambda_runtime's own response streaming through faas-rie: relayed live to
/// an unsigned caller, buffered and answered whole for the AWS CLI (signed).
/// lambda_runtime always sends a function URL's prelude (HTTP status and
/// headers, then eight NUL bytes); outside a function URL, Lambda passes it
/// on as part of the payload, and so does faas-rie.
#[test]
fn official_rust_lambda_runtime_streaming() {
    let manifest = root().join("tests/official-rs/Cargo.toml");
    let o = run(Command::new(env!("CARGO")).args(["build", "--release", "--locked", "--manifest-path"]).arg(&manifest), 900);
    assert!(o.status.success(), "cannot build tests/official-rs: {}", String::from_utf8_lossy(&o.stderr));
    let exe = root().join("tests/official-rs/target/release/official-stream");
    let rie = Rie::start(&["--", exe.to_str().unwrap()], &[]);
    let after_prelude = |payload: &str| {
        let (prelude, rest) = payload.split_once("\0\0\0\0\0\0\0\0").unwrap_or_else(|| panic!("no prelude: {payload:?}"));
        assert_eq!(json(prelude)["statusCode"].as_i64(), Some(200), "{prelude}");
        rest.to_string()
    };
    let r = post(rie.port, "function", "", br#"{"live":1}"#);
    assert!(r.starts_with("HTTP/1.1 200 ") && r.contains("Transfer-Encoding: chunked"), "{r}");
    assert!(r.contains("Content-Type: application/vnd.awslambda.http-integration-response\r\n"), "{r}");
    assert_eq!(after_prelude(&dechunk(&r)), "start\n{\"live\":1}\nend\n", "{r}");
    let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", r#"{"cli":2}"#]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(json(&String::from_utf8_lossy(&o.stdout)).get("FunctionError").is_none());
    assert_eq!(after_prelude(&payload), "start\n{\"cli\":2}\nend\n");
}

/// A process group (the process and anything it starts), stopped on drop:
/// SIGTERM, then SIGKILL if it is still there after 10 s.
struct Group {
    child: Child,
    dir: PathBuf,
}

impl Group {
    fn spawn(cmd: &mut Command, tag: &str) -> Group {
        let dir = scratch(tag);
        let child = cmd
            .process_group(0)
            .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
            .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        Group { child, dir }
    }

    fn output(&self) -> String {
        let read = |f| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default();
        format!("stdout:\n{}\nstderr:\n{}", read("stdout"), read("stderr"))
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let t = Instant::now();
        while self.alive() && t.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(20));
        }
        if self.alive() {
            let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        }
        let _ = self.child.wait();
    }
}

/// `cargo lambda watch --only-lambda-apis` (cargo-lambda 1.9.2, out of
/// `make cargo-lambda`) on a free loopback port: it serves the Runtime API
/// under /.rt and the Invoke API, and starts no function itself. It still
/// reads a Cargo project's metadata (`cargo metadata`, no build) and wants a
/// binary target in it, so it gets an empty one. Returns the process, its
/// port and the AWS_LAMBDA_RUNTIME_API value it tells the function to use.
fn cargo_lambda_watch() -> (Group, u16, String) {
    let bin = root().join("out/cargo-lambda/bin/cargo-lambda");
    require(bin.to_str().unwrap(), "run `make cargo-lambda` (cargo install cargo-lambda --version 1.9.2 --locked into out/cargo-lambda)");
    let project = scratch("cl-project");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(project.join("Cargo.toml"), "[package]\nname = \"placeholder\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n").unwrap();
    std::fs::write(project.join("src/main.rs"), "fn main() {}\n").unwrap();
    // A free port: the kernel picks one, we let it go and hand it over
    // (cargo-lambda would print port 0 in its URL if given 0).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut watch = Group::spawn(
        Command::new(&bin)
            .args(["lambda", "watch", "--only-lambda-apis", "--color", "never", "--invoke-address", "127.0.0.1", "--invoke-port", &port.to_string()])
            .arg("--manifest-path")
            .arg(project.join("Cargo.toml"))
            .current_dir(&project)
            .env("CARGO", env!("CARGO"))
            .env_remove("RUST_LOG"),
        "cargo-lambda",
    );
    let t = Instant::now();
    let api = loop {
        let out = watch.output();
        let api = out.split("AWS_LAMBDA_RUNTIME_API=").nth(1).map(|v| v.split_whitespace().next().unwrap_or("").to_string());
        if let Some(api) = api.filter(|_| std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()) {
            break api;
        }
        assert!(watch.alive(), "cargo lambda watch exited: {out}");
        assert!(t.elapsed() < Duration::from_secs(120), "cargo lambda watch did not start: {out}");
        std::thread::sleep(Duration::from_millis(50));
    };
    (watch, port, api)
}

/// A faas bootstrap with the environment cargo-lambda's only-Lambda-APIs
/// mode says the function must have (it prints these four variables).
fn bootstrap_under(api: &str, exe: &str) -> Group {
    let exe = root().join(exe);
    require(exe.to_str().unwrap(), "run `make all`");
    Group::spawn(
        Command::new(&exe)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api)
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "4096"),
        "cl-bootstrap",
    )
}

/// The status line and body of a raw Invoke API answer (chunked or not).
fn status_body(r: &str) -> (String, String) {
    let (head, body) = r.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head: {r}"));
    let status = head.lines().next().unwrap_or("").to_string();
    let chunked = head.lines().any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
    (status, if chunked { dechunk(r) } else { body.to_string() })
}

/// faas's bootstraps under cargo-lambda's emulator: the Runtime API under a
/// path prefix (`http://127.0.0.1:PORT/.rt`, exactly as cargo-lambda prints
/// it), the function named `_` (its default function), invoked through its
/// Invoke API, three times per bootstrap process. One emulator per bootstrap,
/// so that no earlier bootstrap's pending `next` can take an invocation.
#[test]
fn faas_bootstraps_under_cargo_lambda_watch() {
    let invoke_raw = |port: u16, event: &str| status_body(&post(port, "_", "Content-Type: application/json\r\n", event.as_bytes()));
    for exe in ["out/static/echo-rs", "out/dynamic/echo-c"] {
        let (watch, port, api) = cargo_lambda_watch();
        assert_eq!(api, format!("http://127.0.0.1:{port}/.rt"), "{}", watch.output());
        let mut boot = bootstrap_under(&api, exe);
        for i in 0..3 {
            let event = format!(r#"{{"cargo_lambda":{i},"exe":"{exe}"}}"#);
            let (status, body) = invoke_raw(port, &event);
            assert!(status.starts_with("HTTP/1.1 200 "), "{exe}: {status}\n{body}\n{}\n{}", watch.output(), boot.output());
            assert_eq!(body, event, "{exe}: the echo answers exactly the event");
        }
        // The AWS CLI v2, unchanged, on the same bootstrap process.
        let (o, payload) = invoke(port, &["--function-name", "_", "--payload", r#"{"cli":4}"#]);
        assert!(o.status.success(), "{exe}: {}\n{}", String::from_utf8_lossy(&o.stderr), boot.output());
        assert_eq!(json(&String::from_utf8_lossy(&o.stdout))["StatusCode"].as_i64(), Some(200));
        assert_eq!(payload, r#"{"cli":4}"#, "{exe}");
        assert!(boot.alive(), "{exe} exited: {}", boot.output());
    }

    // context-c: its context, a function error, and the context again from
    // the same process (three invocations on one connection or reconnects).
    let (watch, port, api) = cargo_lambda_watch();
    let mut boot = bootstrap_under(&api, "out/static/context-c");
    let (status, body) = invoke_raw(port, r#"{"n":1}"#);
    assert!(status.starts_with("HTTP/1.1 200 "), "{status}\n{body}\n{}\n{}", watch.output(), boot.output());
    let ctx = json(&body);
    assert_eq!(ctx["invocations"].as_u64(), Some(1), "{body}");
    assert_eq!(ctx["event_bytes"].as_u64(), Some(7), "{body}");
    // cargo-lambda sends these fixed values (not a real ARN, and a deadline
    // of 600000: a duration where Lambda sends epoch milliseconds).
    assert_eq!(ctx["function_arn"].as_str(), Some("function-arn"), "{body}");
    assert_eq!(ctx["deadline_ms"].as_u64(), Some(600_000), "{body}");
    assert!(ctx["request_id"].as_str().is_some_and(|id| id.len() == 36), "{body}");
    assert!(ctx["trace_id"].as_str().is_some_and(|t| t.starts_with("Root=1-")), "{body}");
    // A function error: cargo-lambda answers 500 with the error document the
    // runtime posted, as is (no X-Amz-Function-Error header, unlike Lambda).
    let (status, body) = invoke_raw(port, r#""fail""#);
    assert!(status.starts_with("HTTP/1.1 500 "), "{status}\n{body}\n{}", boot.output());
    let err = json(&body);
    assert_eq!(err["errorType"].as_str(), Some("Function.AskedToFail"), "{body}");
    assert_eq!(err["errorMessage"].as_str(), Some("the event asked to fail: \"quotes\", \\ and a\nnewline"), "{body}");
    let (status, body) = invoke_raw(port, r#"{"n":3}"#);
    assert!(status.starts_with("HTTP/1.1 200 "), "{status}\n{body}\n{}", boot.output());
    assert_eq!(json(&body)["invocations"].as_u64(), Some(3), "{body}");
    assert!(boot.alive(), "context-c exited: {}", boot.output());
}

/// A Rust user's own function under `cargo lambda watch`, which builds and
/// runs it: the README's handler as a binary crate named `bootstrap` (the
/// README's Cargo.toml, as tests/packaging.rs builds it), invoked through
/// cargo-lambda's Invoke API by its binary's name.
#[test]
fn cargo_lambda_watch_builds_and_runs_a_faas_binary_crate() {
    let bin = root().join("out/cargo-lambda/bin/cargo-lambda");
    require(bin.to_str().unwrap(), "run `make cargo-lambda` (cargo install cargo-lambda --version 1.9.2 --locked into out/cargo-lambda)");
    let project = scratch("cl-faas-crate");
    faas_tests::readme_project(&project, true);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut watch = Group::spawn(
        Command::new(&bin)
            .args(["lambda", "watch", "--color", "never", "--invoke-address", "127.0.0.1", "--invoke-port", &port.to_string()])
            .current_dir(&project)
            .env("CARGO", env!("CARGO"))
            .env("CARGO_TARGET_DIR", project.join("target"))
            .env("CARGO_NET_OFFLINE", "true")
            .env_remove("RUST_LOG"),
        "cargo-lambda-crate",
    );
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(watch.alive(), "cargo lambda watch exited: {}", watch.output());
        assert!(t.elapsed() < Duration::from_secs(120), "cargo lambda watch did not start: {}", watch.output());
        std::thread::sleep(Duration::from_millis(50));
    }
    // The first invoke builds the crate (a debug build), then runs it.
    for i in 0..3 {
        let event = format!(r#"{{"from":"cargo lambda watch","i":{i}}}"#);
        let head = format!(
            "POST /2015-03-31/functions/bootstrap/invocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            event.len()
        );
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(600))).unwrap();
        std::io::Write::write_all(&mut s, &[head.as_bytes(), event.as_bytes()].concat()).unwrap();
        let mut r = String::new();
        std::io::Read::read_to_string(&mut s, &mut r).unwrap();
        let (status, body) = status_body(&r);
        assert!(status.starts_with("HTTP/1.1 200 "), "{status}\n{body}\n{}", watch.output());
        assert_eq!(body, event, "the README's echo answers exactly the event");
    }
    assert!(watch.output().contains("Running `"), "cargo-lambda ran the crate it built: {}", watch.output());
    drop(watch);
    let _ = std::fs::remove_dir_all(&project);
}
