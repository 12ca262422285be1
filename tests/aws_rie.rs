//! faas's bootstraps under AWS's own Runtime Interface Emulator: the Go
//! program (aws-lambda-rie) that AWS puts in its Lambda base images and that
//! `sam local invoke` runs. `make aws-rie` takes it from the AWS SAM CLI
//! 1.170.0 wheel on PyPI, pinned by its sha256. Every example, static and
//! dynamic, with the answers this emulator gives (it differs from Lambda,
//! and from faas-rie, in places: no `X-Amz-Function-Error`, a 502 when the
//! runtime dies); and what only a real emulator shows: the internal
//! extension that faas registers for SIGTERM, a timeout's reset, a crash's
//! restart.
#[path = "rie/support.rs"]
mod support;

use faas_tests::root;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};
use support::*;

/// One aws-lambda-rie process serving `bootstrap` on free loopback ports,
/// its output (and the bootstrap's, which it passes on) in one file.
struct AwsRie {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl AwsRie {
    fn start(bootstrap: &str, args: &[&str], env: &[(&str, &str)]) -> AwsRie {
        let rie = root().join("out/aws-rie/aws-lambda-rie");
        require(rie.to_str().unwrap(), "run `make aws-rie` (it takes aws-lambda-rie from the AWS SAM CLI wheel on PyPI)");
        let exe = root().join(bootstrap);
        require(exe.to_str().unwrap(), "run `make all`");
        // Two free ports: both held until the emulator starts, so that they
        // differ (the emulator cannot be given port 0).
        let held = [0; 2].map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
        let [port, api] = held.each_ref().map(|l| l.local_addr().unwrap().port());
        drop(held);
        let log = scratch("aws-rie").join("log");
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(rie)
            .args(["--log-level", "info", "--runtime-interface-emulator-address", &format!("127.0.0.1:{port}")])
            .args(["--runtime-api-address", &format!("127.0.0.1:{api}")])
            .arg(&exe)
            .args(args)
            .env_remove("AWS_LAMBDA_FUNCTION_NAME")
            .envs(env.iter().copied())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        let mut r = AwsRie { child, port, log };
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(r.child.try_wait().unwrap().is_none(), "aws-lambda-rie exited: {}", r.output());
            assert!(t.elapsed() < Duration::from_secs(20), "aws-lambda-rie did not start: {}", r.output());
            std::thread::sleep(Duration::from_millis(20));
        }
        r
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Status code and body of one invocation (raw HTTP, as curl would).
    fn invoke(&self, event: &[u8], headers: &str) -> (u16, String) {
        let r = post(self.port, "function", headers, event);
        let (head, body) = r.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no answer: {r}\n{}", self.output()));
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let chunked = head.lines().any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
        (status, if chunked { dechunk(&r) } else { body.to_string() })
    }

    /// Waits (at most 10 s) until the log holds `needle` `n` times.
    fn wait_for(&self, needle: &str, n: usize) -> String {
        let t = Instant::now();
        loop {
            let s = self.output();
            if s.matches(needle).count() >= n {
                return s;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "no {n} x {needle:?} in aws-lambda-rie's output:\n{s}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let t = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(t.elapsed() < Duration::from_secs(10), "aws-lambda-rie did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for AwsRie {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The echoes, static and dynamic: twenty events and one of exactly 6 MiB
/// (Lambda's limit) answered byte for byte by one runtime process, then the
/// unchanged AWS CLI v2 through the same emulator.
#[test]
fn echoes_under_aws_rie() {
    for exe in ["out/static/echo-c", "out/static/echo-rs", "out/dynamic/echo-c", "out/dynamic/echo-rs"] {
        let rie = AwsRie::start(exe, &[], &[]);
        for i in 0..20 {
            let event = format!(r#"{{"aws_rie":{i},"exe":"{exe}","text":"caf\u00e9 \"q\""}}"#);
            assert_eq!(rie.invoke(event.as_bytes(), ""), (200, event), "{exe}\n{}", rie.output());
        }
        let big = format!("\"{}\"", "b".repeat(6 * 1024 * 1024 - 2));
        let (status, body) = rie.invoke(big.as_bytes(), "");
        assert!(status == 200 && body == big, "{exe}: {status}, {} bytes back\n{}", body.len(), rie.output());
        let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", r#"{"cli":"v2"}"#]);
        assert!(o.status.success(), "{exe}: {}\n{}", String::from_utf8_lossy(&o.stderr), rie.output());
        assert_eq!(json(&String::from_utf8_lossy(&o.stdout))["StatusCode"].as_i64(), Some(200));
        assert_eq!(payload, r#"{"cli":"v2"}"#, "{exe}");
        let log = rie.output();
        assert_eq!(log.matches("INIT START").count(), 1, "{exe}: one runtime process for every invocation:\n{log}");
        assert_eq!(log.matches("INVOKE RTDONE(status: success").count(), 22, "{exe}:\n{log}");
    }
}

/// context-c: the context this emulator sends (its request id, its fixed ARN,
/// the caller's client context, 300 KB of it too; no trace id, so
/// `_X_AMZN_TRACE_ID` is unset),
/// a function error with a message that needs escaping, and an init error.
#[test]
fn context_and_errors_under_aws_rie() {
    let rie = AwsRie::start("out/dynamic/context-c", &[], &[]);
    let cc = r#"{"custom":{"from":"aws-rie"}}"#;
    let b64 = faas_tests::base64_encode(cc.as_bytes());
    let (status, body) = rie.invoke(br#"{"n":1}"#, &format!("X-Amz-Client-Context: {b64}\r\n"));
    assert_eq!(status, 200, "{body}\n{}", rie.output());
    let ctx = json(&body);
    let id = ctx["request_id"].as_str().unwrap();
    assert!(rie.output().contains(&format!("START RequestId: {id} ")), "the emulator's request id: {body}");
    assert_eq!(ctx["function_arn"].as_str(), Some("arn:aws:lambda:us-east-1:012345678912:function:test_function"), "{body}");
    assert_eq!(ctx["client_context"].as_str(), Some(cc), "{body}");
    assert!(ctx["trace_id"].is_null() && ctx["env_trace_id"].is_null(), "{body}");
    let (deadline, remaining) = (ctx["deadline_ms"].as_u64().unwrap(), ctx["remaining_ms"].as_u64().unwrap());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    assert!(deadline > now && deadline <= now + 300_000, "an epoch deadline within the default 300 s: {body}");
    assert!(remaining > 290_000 && remaining <= 300_000, "{body}");

    // This emulator passes on a client context of any size (Lambda stops
    // at 3,583 bytes of base64): 300 KB of it reach the handler whole.
    let big = format!(r#"{{"custom":{{"k":"{}"}}}}"#, "k".repeat(300_000));
    let (status, body) = rie.invoke(b"{}", &format!("X-Amz-Client-Context: {}\r\n", faas_tests::base64_encode(big.as_bytes())));
    assert_eq!(status, 200, "{}\n{}", &body[..body.len().min(300)], rie.output());
    assert_eq!(json(&body)["client_context"].as_str(), Some(big.as_str()));

    let (status, body) = rie.invoke(br#""fail""#, "");
    assert_eq!(status, 200, "this emulator answers a function error with 200 and no X-Amz-Function-Error: {body}");
    let err = json(&body);
    assert_eq!(err["errorType"].as_str(), Some("Function.AskedToFail"), "{body}");
    assert_eq!(err["errorMessage"].as_str(), Some("the event asked to fail: \"quotes\", \\ and a\nnewline"), "{body}");
    assert_eq!(err["stackTrace"], json("[]"), "{body}");
    let (status, body) = rie.invoke(b"{}", "");
    assert_eq!((status, json(&body)["invocations"].as_u64()), (200, Some(4)), "the same process goes on: {body}");
    drop(rie);

    let rie = AwsRie::start("out/static/context-c", &[], &[("FAIL_INIT", "1")]);
    let (status, body) = rie.invoke(b"{}", "");
    assert_eq!(status, 502, "{body}\n{}", rie.output());
    let err = json(&body);
    assert_eq!((err["errorType"].as_str(), err["errorMessage"].as_str()), (Some("Function.BadConfig"), Some("FAIL_INIT is set")), "{body}");
}

/// typed-rs: a panic is the invocation's error (`Runtime.Panic`, with the
/// message and where), the emulator starts a new runtime, and typed JSON
/// goes on; an init error from the Rust init hook, and a panic in it.
#[test]
fn rust_panics_and_init_errors_under_aws_rie() {
    for exe in ["out/static/typed-rs", "out/dynamic/typed-rs"] {
        let rie = AwsRie::start(exe, &[], &[]);
        let (status, body) = rie.invoke(br#"{"name":"aws"}"#, "");
        assert_eq!(status, 200, "{exe}: {body}\n{}", rie.output());
        assert_eq!(json(&body)["greeting"].as_str(), Some("hello"), "{exe}: {body}");
        let (status, body) = rie.invoke(br#"{"name":"panic"}"#, "");
        assert_eq!(status, 502, "{exe}: the runtime aborts after reporting: {body}\n{}", rie.output());
        let err = json(&body);
        assert_eq!(err["errorType"].as_str(), Some("Runtime.Panic"), "{exe}: {body}");
        assert_eq!(err["errorMessage"].as_str(), Some("asked to panic at examples/typed-rs/src/lib.rs:40"), "{exe}: {body}");
        let (status, body) = rie.invoke(br#"{"name":"again"}"#, "");
        assert_eq!(status, 200, "{exe}: {body}\n{}", rie.output());
        assert_eq!((json(&body)["name"].as_str(), json(&body)["times"].as_u64()), (Some("again"), Some(0)), "a new process: {body}");
        assert_eq!(rie.wait_for("INIT START", 2).matches("INIT START").count(), 2, "{exe}");
        let (status, body) = rie.invoke(b"{}", "");
        assert_eq!(status, 200, "{exe}: {body}");
        assert_eq!(json(&body)["errorType"].as_str(), Some("Function.MissingName"), "{exe}: {body}");
    }
    let rie = AwsRie::start("out/dynamic/typed-rs", &[], &[("GREETING", "fail")]);
    let (status, body) = rie.invoke(br#"{"name":"x"}"#, "");
    assert_eq!(status, 502, "{body}\n{}", rie.output());
    let err = json(&body);
    assert_eq!((err["errorType"].as_str(), err["errorMessage"].as_str()), (Some("Function.BadConfig"), Some("GREETING=fail")), "{body}");
    drop(rie);
    // A panic in the init hook is the init error too.
    let rie = AwsRie::start("out/static/typed-rs", &[], &[("GREETING", "panic")]);
    let (status, body) = rie.invoke(br#"{"name":"x"}"#, "");
    assert_eq!(status, 502, "{body}\n{}", rie.output());
    let err = json(&body);
    assert_eq!(err["errorType"].as_str(), Some("Runtime.Panic"), "{body}");
    assert!(err["errorMessage"].as_str().is_some_and(|m| m.starts_with("GREETING=panic at ")), "{body}");
}

/// Streamed responses (C and Rust): this emulator collects the stream and
/// answers it whole. One that fails mid-stream keeps what was sent (the
/// emulator drops the error trailers), and the runtime serves on.
#[test]
fn streams_under_aws_rie() {
    for exe in ["out/static/stream-c", "out/dynamic/stream-rs"] {
        let rie = AwsRie::start(exe, &[], &[]);
        let event = format!("\"{}\"", "s".repeat(100_000));
        assert_eq!(rie.invoke(event.as_bytes(), ""), (200, format!("start\n{event}\nend\n")), "{exe}\n{}", rie.output());
        assert_eq!(rie.invoke(br#""fail""#, ""), (200, "start\n".to_string()), "{exe}\n{}", rie.output());
        assert_eq!(rie.invoke(br#""ok""#, ""), (200, "start\n\"ok\"\nend\n".to_string()), "{exe}\n{}", rie.output());
        assert_eq!(rie.output().matches("INIT START").count(), 1, "{exe}: one runtime process:\n{}", rie.output());
    }
}

/// What only a real emulator shows. faas_run_graceful registers an internal
/// extension, which aws-lambda-rie accepts; so when the function times out
/// (the emulator resets the runtime) and when the emulator shuts down, the
/// runtime gets SIGTERM and its shutdown hook runs. A crash (exit without
/// an answer) is `Runtime.ExitError`; after each, a new runtime serves.
#[test]
fn timeout_crash_and_shutdown_under_aws_rie() {
    let fixture = fixture();
    let exe = fixture.strip_prefix(root()).unwrap().to_str().unwrap().to_string();
    let mut rie = AwsRie::start(&exe, &["graceful"], &[("AWS_LAMBDA_FUNCTION_TIMEOUT", "1")]);
    assert_eq!(rie.invoke(br#""first""#, ""), (200, r#""first""#.to_string()), "{}", rie.output());
    let log = rie.output();
    assert!(log.contains("Internal agent faas (") && log.contains("registered"), "the internal extension:\n{log}");

    let (status, body) = rie.invoke(br#""sleep""#, "");
    assert_eq!((status, body.as_str()), (200, "Task timed out after 1.00 seconds"), "{}", rie.output());
    rie.wait_for("fixture: shutdown hook", 1);
    assert_eq!(rie.invoke(br#""after timeout""#, ""), (200, r#""after timeout""#.to_string()), "{}", rie.output());

    let (status, body) = rie.invoke(br#""crash""#, "");
    assert_eq!(status, 502, "{body}\n{}", rie.output());
    assert_eq!(json(&body)["errorType"].as_str(), Some("Runtime.ExitError"), "{body}");
    assert_eq!(rie.invoke(br#""after crash""#, ""), (200, r#""after crash""#.to_string()), "{}", rie.output());
    assert_eq!(rie.output().matches("INIT START").count(), 3, "{}", rie.output());

    rie.terminate();
    let log = rie.wait_for("fixture: shutdown hook", 2);
    assert_eq!(log.matches("faas: SIGTERM: shutting down").count(), 2, "{log}");
}
