//! Real third-party runtimes against faas-rie, to show it speaks the Runtime
//! API as AWS does: the official Python runtime interface client
//! (awslambdaric, from PyPI into out/ric-venv by `make ric-venv`) and the
//! official Rust runtime (lambda_runtime) in tests/official-rs: its echo, and
//! its response streaming (lambda_runtime::streaming).
#[path = "rie/support.rs"]
mod support;

use faas_tests::root;
use std::process::Command;
use support::*;

#[test]
fn python_awslambdaric() {
    let py = root().join("out/ric-venv/bin/python");
    require(py.to_str().unwrap(), "run `make ric-venv` (a venv with pip install awslambdaric==4.2.2)");
    let app = root().join("tests/rie");
    let rie = Rie::start(&["--", py.to_str().unwrap(), "-m", "awslambdaric", "app.handler"], &[("PYTHONPATH", app.to_str().unwrap()), ("PYTHONUNBUFFERED", "1")]);
    let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", r#"{"from":"cli"}"#, "--log-type", "Tail"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&payload);
    assert_eq!(v["echo"]["from"].as_str(), Some("cli"), "{payload}");
    assert_eq!(v["arn"].as_str(), Some("arn:aws:lambda:us-east-1:012345678912:function:function"));
    assert_eq!(v["remaining_ok"].as_bool(), Some(true), "a real epoch deadline");
    let meta = json(&String::from_utf8_lossy(&o.stdout));
    let tail = unbase64(meta["LogResult"].as_str().unwrap());
    assert!(tail.contains("python handler got {'from': 'cli'}"), "{tail}");
    let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", r#""fail""#]);
    assert!(o.status.success());
    assert_eq!(json(&String::from_utf8_lossy(&o.stdout))["FunctionError"].as_str(), Some("Unhandled"));
    let err = json(&payload);
    assert_eq!((err["errorType"].as_str(), err["errorMessage"].as_str()), (Some("ValueError"), Some("asked to fail")), "{payload}");
    // A bigger event: Lambda (and faas-rie) send it chunked.
    let big = format!("\"{}\"", "x".repeat(300_000));
    let r = post(rie.port, "function", "", big.as_bytes());
    assert!(r.starts_with("HTTP/1.1 200 ") && r.contains(&"x".repeat(300_000)), "{}", &r[..r.len().min(300)]);
}

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
