//! faas-rie against the unchanged AWS CLI v2 (/usr/bin/aws, Debian awscli),
//! boto3 (Debian python3-boto3) and raw HTTP: every answer the Invoke API
//! gives, and the runtime's life (init error, timeout, crash, restart).
#[path = "rie/support.rs"]
mod support;

use faas_tests::{out, root};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::process::Command;
use support::*;

fn ex(name: &str) -> String {
    out(&format!("static/{name}")).display().to_string()
}

#[test]
fn cli_success_names_and_report() {
    let rie = Rie::start(&["--", &ex("echo-rs")], &[("AWS_LAMBDA_FUNCTION_NAME", "echo")]);
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:echo";
    for name in ["echo", "function", arn, "echo:$LATEST", "123456789012:function:echo"] {
        let (o, payload) = invoke(rie.port, &["--function-name", name, "--payload", r#"{"hello":"world"}"#]);
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let meta = json(&String::from_utf8_lossy(&o.stdout));
        assert_eq!((meta["StatusCode"].as_i64(), meta["ExecutedVersion"].as_str()), (Some(200), Some("$LATEST")));
        assert!(meta.get("FunctionError").is_none());
        assert_eq!(payload, r#"{"hello":"world"}"#);
    }
    // No payload (the CLI without --payload, an empty body): the event is
    // `{}`, as on Lambda.
    let (o, payload) = invoke(rie.port, &["--function-name", "echo"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(payload, "{}");
    assert!(post(rie.port, "echo", "", b"").ends_with("\r\n\r\n{}"));
    let log = rie.wait_stdout("REPORT RequestId: ", 7, 10);
    let report = log.lines().find(|l| l.starts_with("REPORT")).unwrap();
    for field in ["\tDuration: ", " ms\tBilled Duration: ", "\tMemory Size: 3008 MB", "\tMax Memory Used: ", "\tInit Duration: "] {
        assert!(report.contains(field), "{field:?} not in {report}");
    }
    let mem: u64 = report.split("Max Memory Used: ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(mem >= 1, "{report}");
    assert_eq!(log.matches("Init Duration").count(), 1, "only the first invoke after a start has an init duration:\n{log}");
    assert_eq!(log.matches("START RequestId: ").count(), 7);
}

/// The README's invoke commands (which `make run` prints too), run as they
/// are with AWS CLI v2 (Debian's /usr/bin/aws) and v1 (from PyPI, in
/// out/cli1-venv): the same block must work with both.
#[test]
fn readme_invoke_block_works_with_cli_v2_and_v1() {
    let block = faas_tests::readme_block("`make run` prints how to call the function", "sh");
    assert!(block.contains("127.0.0.1:9000"), "{block}");
    let v1 = root().join("out/cli1-venv/bin");
    require(v1.join("aws").to_str().unwrap(), "run `make cli1-venv` (AWS CLI v1 from PyPI)");
    let rie = Rie::start(&["--", &ex("echo-rs")], &[]);
    let script = block.replace("127.0.0.1:9000", &format!("127.0.0.1:{}", rie.port));
    for (major, path) in [("aws-cli/2.", "/usr/bin:/bin".to_string()), ("aws-cli/1.", format!("{}:/usr/bin:/bin", v1.display()))] {
        let version = run(Command::new("bash").args(["-c", "aws --version 2>&1"]).env("PATH", &path), 30);
        assert!(String::from_utf8_lossy(&version.stdout).starts_with(major), "{}", String::from_utf8_lossy(&version.stdout));
        let dir = scratch(&format!("readme-{major}"));
        let o = run(Command::new("bash").arg("-ec").arg(&script).current_dir(&dir).env("PATH", &path), 60);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "{major}: {}\n{stdout}", String::from_utf8_lossy(&o.stderr));
        // The CLI's metadata, then response.json, then curl's answer.
        let (meta, answers) = stdout.split_at(stdout.find('}').unwrap() + 1);
        let meta = json(meta);
        assert_eq!(meta["StatusCode"].as_i64(), Some(200), "{major}: {stdout}");
        assert!(unbase64(meta["LogResult"].as_str().unwrap()).contains("REPORT RequestId: "), "{major}: {stdout}");
        assert_eq!(answers.trim(), "{\"hello\":\"world\"}{\"hello\":\"world\"}", "{major}: the function's answer, through the CLI then curl");
    }
}

/// The README's main command, `make run`: it serves the echo under
/// faas-rie, says how to call it, answers, and stops on SIGTERM. Run with
/// `CARGO=false`: `make test` built everything already, so a stale build
/// fails here at once instead of rebuilding under the test's time limit.
#[test]
fn make_run_serves_the_echo_and_says_how_to_call_it() {
    use std::os::unix::process::CommandExt;
    struct Group(std::process::Child);
    impl Drop for Group {
        fn drop(&mut self) {
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.0.id())]).status();
            let _ = self.0.wait();
        }
    }
    let dir = scratch("make-run");
    let log = |f: &str| std::fs::File::create(dir.join(f)).unwrap();
    let mut make = Group(
        Command::new("make")
            .args(["-s", "run", "RUN_PORT=0", "CARGO=false"])
            .current_dir(root())
            .process_group(0)
            .stdout(log("stdout"))
            .stderr(log("stderr"))
            .spawn()
            .unwrap(),
    );
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
    let t = std::time::Instant::now();
    let port: u16 = loop {
        if let Some(p) = read("stderr").split("Invoke API on http://127.0.0.1:").nth(1).and_then(|p| p.split(',').next()) {
            break p.parse().unwrap();
        }
        assert!(
            make.0.try_wait().unwrap().is_none(),
            "make run exited (CARGO=false: with a stale build, run `make` first): {}{}",
            read("stdout"),
            read("stderr")
        );
        assert!(t.elapsed() < std::time::Duration::from_secs(30), "make run did not start: {}{}", read("stdout"), read("stderr"));
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let help = read("stdout");
    assert!(help.contains("aws lambda invoke") && help.contains("--function-name function") && help.contains("curl -d"), "{help}");
    assert!(post(port, "function", "", br#"{"hello":"world"}"#).ends_with("\r\n\r\n{\"hello\":\"world\"}"));
    let _ = Command::new("kill").args(["-TERM", "--", &format!("-{}", make.0.id())]).status();
    let t = std::time::Instant::now();
    while make.0.try_wait().unwrap().is_none() {
        assert!(t.elapsed() < std::time::Duration::from_secs(10), "make run did not stop on SIGTERM");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(read("stderr").contains("faas-rie: stopping"), "{}", read("stderr"));
}

#[test]
fn the_runtime_sees_the_arn_the_caller_used() {
    // As Lambda passes it on: a full ARN as it is (partition, region and
    // account included), a partial one in faas-rie's partition and region,
    // a bare name in its made-up account; a ?Qualifier= appended.
    let rie = Rie::start(&["--", &ex("context-c")], &[("AWS_REGION", "eu-west-3")]);
    let ours = "arn:aws:lambda:eu-west-3:012345678912:function:function";
    for (name, query, want) in [
        ("function", "", ours.to_string()),
        ("function:live", "", format!("{ours}:live")),
        ("function", "?Qualifier=7", format!("{ours}:7")),
        ("111122223333:function:function", "", "arn:aws:lambda:eu-west-3:111122223333:function:function".into()),
        ("arn:aws-cn:lambda:cn-north-1:111122223333:function:function:v2", "", "arn:aws-cn:lambda:cn-north-1:111122223333:function:function:v2".into()),
        ("arn:aws:lambda:us-west-2:111122223333:function:function", "?Qualifier=prod", "arn:aws:lambda:us-west-2:111122223333:function:function:prod".into()),
    ] {
        let r = http(
            rie.port,
            format!("POST /2015-03-31/functions/{name}/invocations{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{{}}")
                .as_bytes(),
        );
        let body = r.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        assert_eq!(json(body)["function_arn"].as_str(), Some(&want[..]), "{name}{query}: {r}");
    }
}

#[test]
fn cli_function_error_and_tail() {
    let rie = Rie::start(&["--", &ex("context-c")], &[]);
    let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", r#""fail""#, "--log-type", "Tail"]);
    assert!(o.status.success(), "a function error is not a CLI error: {}", String::from_utf8_lossy(&o.stderr));
    let meta = json(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(meta["StatusCode"].as_i64(), Some(200));
    assert_eq!(meta["FunctionError"].as_str(), Some("Unhandled"));
    assert_eq!(json(&payload)["errorType"].as_str(), Some("Function.AskedToFail"));
    let tail = unbase64(meta["LogResult"].as_str().expect("LogResult"));
    assert!(tail.contains("invocation 1, request "), "the function's own log line: {tail}");
    assert!(tail.contains("START RequestId: ") && tail.contains("REPORT RequestId: "), "{tail}");
    // An error the function reported is no failure of the platform: no
    // Status in the REPORT line, as on Lambda.
    assert!(!tail.contains("Status:"), "{tail}");
}

#[test]
fn cli_event_dryrun_unknown_too_large() {
    let rie = Rie::start(&["--", &ex("context-c")], &[]);
    let (o, _) = invoke(rie.port, &["--function-name", "function", "--invocation-type", "Event", "--payload", "{}"]);
    assert_eq!(json(&String::from_utf8_lossy(&o.stdout))["StatusCode"].as_i64(), Some(202));
    rie.wait_stdout("END RequestId: ", 1, 20); // it ran, later
    let (o, _) = invoke(rie.port, &["--function-name", "function", "--invocation-type", "DryRun", "--payload", "{}"]);
    assert_eq!(json(&String::from_utf8_lossy(&o.stdout))["StatusCode"].as_i64(), Some(204));
    let (o, _) = invoke(rie.port, &["--function-name", "nope", "--payload", "{}"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("ResourceNotFoundException"), "{}", String::from_utf8_lossy(&o.stderr));
    let big = scratch("big").join("big.json");
    std::fs::write(&big, format!("\"{}\"", "a".repeat(6 * 1024 * 1024))).unwrap();
    let (o, _) = invoke(rie.port, &["--function-name", "function", "--payload", &format!("fileb://{}", big.display())]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("RequestTooLargeException"), "{}", String::from_utf8_lossy(&o.stderr));
    // Neither DryRun, nor the unknown name, nor the oversized payload ran:
    // one more invoke, served in order after anything they had queued, is
    // only the second run.
    let (o, _) = invoke(rie.port, &["--function-name", "function", "--payload", "{}"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(rie.stdout().matches("START RequestId: ").count(), 2, "{}", rie.stdout());
}

/// A payload that is not JSON (RFC 8259, UTF-8) gets 400
/// InvalidRequestContentException, as on Lambda, and never reaches the
/// function; the offset of the first bad byte is in the message.
#[test]
fn payloads_must_be_json() {
    let rie = Rie::start(&["--", &ex("echo-rs")], &[]);
    let (o, _) = invoke(rie.port, &["--function-name", "function", "--payload", "hello"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("(InvalidRequestContentException)") && err.contains("Could not parse request body into json: not JSON at byte 0"),
        "{err}"
    );
    // What the CLI v2 sends for `--payload '{"a":1}'` without
    // `--cli-binary-format raw-in-base64-out` (the JSON read as base64),
    // strings that are not UTF-8 (a bad continuation, a surrogate), and
    // other mistakes.
    for (body, at) in [
        (&b"\x6a\xc6\xa2\xd6"[..], 0),
        (b"\"\xc3(\"", 1),
        (b"\"\xed\xa0\x80\"", 1),
        (b"{\"a\":1} x", 8),
        (b"[1,2", 4),
        (b"{\"a\":01}", 6),
        (b"\"tab\there\"", 4),
    ] {
        let r = post(rie.port, "function", "", body);
        assert!(r.starts_with("HTTP/1.1 400 ") && r.contains("x-amzn-ErrorType: InvalidRequestContentException\r\n"), "{r}");
        assert!(r.ends_with(&format!("not JSON at byte {at}\"}}")), "{:?}: {r}", String::from_utf8_lossy(body));
    }
    // JSON passes as it is: any value, any whitespace, any UTF-8.
    for body in [" \"\\u00e9 é 😀\" ".as_bytes(), b"-1.5e+3", b"null", b"[]", b"\t{\"a\" :\r\n[true, false]}\n"] {
        assert!(post(rie.port, "function", "", body).ends_with(&*String::from_utf8_lossy(body)), "{:?}", String::from_utf8_lossy(body));
    }
    assert_eq!(rie.wait_stdout("START RequestId: ", 5, 10).matches("START RequestId: ").count(), 5, "only the JSON ones ran");
}

#[test]
fn cli_timeout_then_fresh_runtime() {
    let rie = Rie::start(&["--", fixture().to_str().unwrap()], &[("AWS_LAMBDA_FUNCTION_TIMEOUT", "1")]);
    let t = std::time::Instant::now();
    let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", r#""sleep""#]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(t.elapsed().as_secs() < 30);
    assert_eq!(json(&String::from_utf8_lossy(&o.stdout))["FunctionError"].as_str(), Some("Unhandled"));
    let err = json(&payload);
    assert_eq!(err["errorType"].as_str(), Some("Sandbox.Timedout"));
    assert!(err["errorMessage"].as_str().unwrap().contains("Task timed out after 1.00 seconds"), "{payload}");
    let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", r#"{"again":1}"#]);
    assert!(o.status.success());
    assert_eq!(payload, r#"{"again":1}"#);
    assert_eq!(rie.stdout().matches("Init Duration").count(), 2, "the second invoke ran on a new runtime");
    let log = rie.wait_stdout("REPORT RequestId: ", 2, 10);
    let reports: Vec<_> = log.lines().filter(|l| l.starts_with("REPORT")).collect();
    // As Lambda writes it: the platform's failures have a Status.
    assert!(reports[0].contains(" MB\tInit Duration: ") && reports[0].ends_with(" ms\tStatus: timeout"), "{log}");
    assert!(!reports[1].contains("Status"), "{log}");
}

#[test]
fn cli_crash_then_recovery() {
    let rie = Rie::start(&["--", fixture().to_str().unwrap()], &[]);
    let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", r#""crash""#]);
    assert!(o.status.success(), "a crash is not retried as a 5xx: {}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(json(&String::from_utf8_lossy(&o.stdout))["FunctionError"].as_str(), Some("Unhandled"));
    let err = json(&payload);
    assert_eq!(err["errorType"].as_str(), Some("Runtime.ExitError"));
    assert!(err["errorMessage"].as_str().unwrap().contains("exit status 3"), "{payload}");
    let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", r#"{"after":"crash"}"#]);
    assert!(o.status.success());
    assert_eq!(payload, r#"{"after":"crash"}"#);
    let log = rie.wait_stdout("REPORT RequestId: ", 2, 10);
    assert_eq!(log.matches("START RequestId: ").count(), 2, "the crashed invoke ran once");
    // Its unfinished last line does not swallow faas-rie's own; its peak
    // memory, no longer in /proc, comes from wait4.
    assert!(log.lines().any(|l| l == "dying without a newline"), "{log}");
    let report = log.lines().find(|l| l.starts_with("REPORT")).unwrap();
    let mem: u64 = report.split("Max Memory Used: ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(mem >= 1, "{report}");
    // As Lambda writes it: the platform's failures have a Status.
    assert!(report.ends_with(" ms\tStatus: error\tError Type: Runtime.ExitError"), "{report}");
    assert!(!log.lines().filter(|l| l.starts_with("REPORT")).nth(1).unwrap().contains("Status"), "{log}");
}

#[test]
fn cli_twenty_concurrent_each_once() {
    require(AWS, "install the Debian package awscli (AWS CLI v2)");
    let rie = Rie::start(&["--", &ex("context-c")], &[]);
    let port = rie.port;
    let runs: Vec<_> =
        (0..20).map(|i| std::thread::spawn(move || invoke(port, &["--function-name", "function", "--payload", &format!("{{\"n\":{i}}}")]))).collect();
    let (mut ids, mut counts) = (BTreeSet::new(), BTreeSet::new());
    for r in runs {
        let (o, payload) = r.join().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v = json(&payload);
        ids.insert(v["request_id"].as_str().unwrap().to_string());
        counts.insert(v["invocations"].as_u64().unwrap());
    }
    assert_eq!(ids.len(), 20, "20 distinct invocations");
    assert_eq!(counts, (1..=20).collect(), "one runtime ran each invoke exactly once");
    assert_eq!(rie.stdout().matches("START RequestId: ").count(), 20);
}

#[test]
fn boto3_all_cases() {
    require("/usr/bin/python3", "install the Debian package python3");
    let ctx = Rie::start(&["--", &ex("context-c")], &[]);
    let fix = Rie::start(&["--", fixture().to_str().unwrap()], &[("AWS_LAMBDA_FUNCTION_TIMEOUT", "1")]);
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(root().join("tests/rie/boto3_check.py")).arg(ctx.url()).arg(fix.url());
    aws_env(&mut cmd);
    let o = run(&mut cmd, 300);
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "boto3 checks failed (python3-boto3 installed?):\n{text}");
    assert!(text.contains("boto3: 10 checks passed"), "{text}");
}

#[test]
fn init_error_served_to_the_triggering_invoke() {
    let rie = Rie::start(&["--", &ex("context-c")], &[("FAIL_INIT", "1")]);
    for _ in 0..2 {
        let r = post(rie.port, "function", "", b"{}");
        assert!(r.starts_with("HTTP/1.1 200 "), "{r}");
        assert!(r.contains("X-Amz-Function-Error: Unhandled") && r.contains(r#""errorType":"Function.BadConfig""#), "{r}");
    }
    let log = rie.wait_stdout("REPORT RequestId: ", 2, 10);
    let reports: Vec<_> = log.lines().filter(|l| l.starts_with("REPORT")).collect();
    assert!(reports.iter().all(|l| l.ends_with(" MB\tStatus: error\tError Type: Function.BadConfig")), "{log}");
    // Each failed init has its INIT_REPORT, before the invocation's START.
    let inits: Vec<_> = log.lines().filter(|l| l.starts_with("INIT_REPORT Init Duration: ")).collect();
    assert!(inits.len() == 2 && inits.iter().all(|l| l.ends_with(" ms\tPhase: init\tStatus: error\tError Type: Function.BadConfig")), "{log}");
    assert!(log.find("INIT_REPORT") < log.find("START RequestId: "), "{log}");
}

#[test]
fn streaming_relayed_with_error_trailers() {
    let rie = Rie::start(&["--", &ex("stream-c")], &[]);
    let r = post(rie.port, "function", "", br#""hi""#);
    assert!(r.contains("Transfer-Encoding: chunked") && dechunk(&r) == "start\n\"hi\"\nend\n", "{r}");
    // Every trailer it may send is declared (HTTP/1.1, RFC 9110 6.6.2).
    let trailers = "Trailer: X-Amz-Function-Error, X-Amz-Log-Result, Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n";
    assert!(r.contains(trailers), "{r}");
    let r = post(rie.port, "function", "X-Amz-Log-Type: Tail\r\n", br#""fail""#);
    assert!(r.contains("start\n") && r.contains("X-Amz-Function-Error: Unhandled"), "{r}");
    assert!(r.contains("Lambda-Runtime-Function-Error-Type: Function.StreamFailed") && r.contains("X-Amz-Log-Result: "), "{r}");
}

/// The SigV4 `Authorization` header every AWS SDK and the CLI send (not
/// checked: faas-rie only looks at its scheme).
const SIGNED: &str = "Authorization: AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00\r\n";

/// A whole (Content-Length) answer: its head and body.
fn whole(r: &str) -> (&str, &str) {
    let (head, body) = r.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head: {r}"));
    assert!(head.starts_with("HTTP/1.1 200 ") && !head.contains("chunked") && !head.contains("Trailer"), "{r}");
    assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())), "{r}");
    (head, body)
}

#[test]
fn streaming_buffered_for_signed_invoke() {
    // As Lambda answers Invoke (not InvokeWithResponseStream) of a
    // streaming function: the whole response, errors in headers, since the
    // SDKs and the CLI read no trailers.
    for f in ["stream-c", "stream-rs"] {
        let rie = Rie::start(&["--", &ex(f)], &[]);
        let r = post(rie.port, "function", SIGNED, br#""hi""#);
        let (head, body) = whole(&r);
        assert!(head.contains("Content-Type: text/plain\r\n") && !head.contains("X-Amz-Function-Error"), "{f}: {r}");
        assert_eq!(body, "start\n\"hi\"\nend\n", "{f}");
        let r = post(rie.port, "function", &format!("{SIGNED}X-Amz-Log-Type: Tail\r\n"), br#""fail""#);
        let (head, body) = whole(&r);
        assert!(head.contains("X-Amz-Function-Error: Unhandled\r\n"), "{f}: {r}");
        let doc = json(body);
        assert_eq!(
            (doc["errorType"].as_str(), doc["errorMessage"].as_str()),
            (Some("Function.StreamFailed"), Some("failed after the first chunk")),
            "{f}: {r}"
        );
        let tail = head.lines().find_map(|l| l.strip_prefix("X-Amz-Log-Result: ")).unwrap_or_else(|| panic!("{f}: no LogResult: {r}"));
        let tail = unbase64(tail);
        assert!(tail.contains("START RequestId: ") && tail.contains("REPORT RequestId: "), "{f}: {tail}");
        let r = post(rie.port, "function", SIGNED, br#""http""#);
        let (head, body) = whole(&r);
        assert!(head.contains("Content-Type: application/vnd.awslambda.http-integration-response\r\n"), "{f}: {r}");
        assert!(body.starts_with(r#"{"statusCode":201,"#) && body.ends_with("\0\0\0\0\0\0\0\0hello"), "{f}: {r}");
        // An unsigned caller (curl) still gets the stream live, chunked.
        let r = post(rie.port, "function", "", br#""hi""#);
        assert!(r.contains("Transfer-Encoding: chunked") && r.contains("start\n"), "{f}: {r}");
    }
    // Over 6 MiB: Function.ResponseSizeTooLarge at once; the runtime hears
    // 413 and goes on (the same runtime answers the next invoke).
    let rie = Rie::start(&["--", fixture().to_str().unwrap()], &[]);
    let r = post(rie.port, "function", SIGNED, br#""big""#);
    let (head, body) = whole(&r);
    assert!(head.contains("X-Amz-Function-Error: Unhandled\r\n"), "{head}");
    assert_eq!(json(body)["errorType"].as_str(), Some("Function.ResponseSizeTooLarge"), "{body}");
    assert!(body.contains("maximum allowed payload size (6291556 bytes)"), "{body}");
    let r = post(rie.port, "function", SIGNED, br#"{"after":"big"}"#);
    assert!(r.starts_with("HTTP/1.1 200 ") && r.ends_with(r#"{"after":"big"}"#) && !r.contains("X-Amz-Function-Error"), "{r}");
    let log = rie.wait_stdout("END RequestId: ", 2, 20);
    let mib: u32 = log.split("fixture: big stream: ").nth(1).and_then(|l| l.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{log}"));
    assert!(mib < 200, "the runtime's writes failed once it was cut off:\n{log}");
    assert_eq!(log.matches("Init Duration").count(), 1, "{log}");
}

#[test]
fn cli_streaming_function_error() {
    // `aws lambda invoke` of a streaming function that fails mid-stream:
    // a function error, as from Lambda, with its log tail.
    let rie = Rie::start(&["--", &ex("stream-c")], &[]);
    let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", r#""fail""#, "--log-type", "Tail"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let meta = json(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(meta["FunctionError"].as_str(), Some("Unhandled"), "{meta}");
    assert_eq!(json(&payload)["errorType"].as_str(), Some("Function.StreamFailed"), "{payload}");
    assert!(unbase64(meta["LogResult"].as_str().expect("LogResult")).contains("REPORT RequestId: "));
    let (o, payload) = invoke(rie.port, &["--function-name", "function", "--payload", r#""hi""#]);
    assert!(json(&String::from_utf8_lossy(&o.stdout)).get("FunctionError").is_none());
    assert_eq!(payload, "start\n\"hi\"\nend\n");
}

#[test]
fn tenant_id_reaches_the_runtime() {
    // TenantId, which current SDKs send as X-Amz-Tenant-Id, reaches the
    // function as Lambda-Runtime-Aws-Tenant-Id (tests/sdk.rs: through them).
    let rie = Rie::start(&["--", &ex("context-c")], &[]);
    let r = post(rie.port, "function", "X-Amz-Tenant-Id: tenant-7\r\n", b"{}");
    assert!(r.starts_with("HTTP/1.1 200 ") && r.contains(r#""tenant_id":"tenant-7""#), "{r}");
    let r = post(rie.port, "function", "", b"{}");
    assert!(r.contains(r#""tenant_id":null"#), "none when not given: {r}");
}

#[test]
fn raw_http_edges() {
    let rie = Rie::start(&["--queue", "1", "--", fixture().to_str().unwrap()], &[("AWS_LAMBDA_FUNCTION_TIMEOUT", "3")]);
    let r = http(rie.port, b"garbage\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 400 "), "{r}");
    let r = http(rie.port, b"POST /x HTTP/1.1\r\nContent-Length: zz\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 400 "), "{r}");
    let r = post(rie.port, "function", "X-Amz-Client-Context: !!\r\n", b"{}");
    assert!(r.starts_with("HTTP/1.1 400 ") && r.contains("InvalidRequestContentException"), "{r}");
    let r = http(rie.port, b"GET /nothing HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert!(r.starts_with("HTTP/1.1 404 "), "{r}");
    // Keep-alive: two invokes on one connection.
    let one = "POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nContent-Length: 3\r\n\r\n[1]";
    let two = "POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nConnection: close\r\nContent-Length: 3\r\n\r\n[2]";
    let r = http(rie.port, format!("{one}{two}").as_bytes());
    assert_eq!(r.matches("HTTP/1.1 200 OK").count(), 2, "{r}");
    assert!(r.ends_with("[2]") && r.contains("[1]"), "{r}");
    // One invoke runs, one waits, the third finds the queue full: 429. The
    // first has started (its START line) before the second is sent, and the
    // second is written whole before the third connects.
    let port = rie.port;
    let started = rie.stdout().matches("START RequestId: ").count();
    let first = std::thread::spawn(move || post(port, "function", "", br#""sleep""#));
    rie.wait_stdout("START RequestId: ", started + 1, 20);
    let mut second = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    second
        .write_all(b"POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 7\r\n\r\n\"sleep\"")
        .unwrap();
    let second = std::thread::spawn(move || {
        let mut v = String::new();
        second.read_to_string(&mut v).unwrap();
        v
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let busy = [first, second];
    let r = post(rie.port, "function", "", b"{}");
    assert!(r.starts_with("HTTP/1.1 429 ") && r.contains("TooManyRequestsException"), "{r}");
    for b in busy {
        let r = b.join().unwrap();
        assert!(r.contains("Sandbox.Timedout"), "{r}");
    }
}

/// HTTP/1.0 callers (ApacheBench, old proxies) get one whole answer per
/// connection, closed after it, even when they ask for keep-alive: before,
/// faas-rie kept such a connection open without saying so, and `ab -k`
/// waited for the close forever.
#[test]
fn http_1_0_callers_get_whole_answers_and_a_close() {
    let rie = Rie::start(&["--", &ex("stream-c")], &[]);
    let req = |body: &str| {
        let head = format!("POST /2015-03-31/functions/function/invocations HTTP/1.0\r\nConnection: Keep-Alive\r\nContent-Length: {}\r\n\r\n", body.len());
        // Two requests on the connection: only the first is answered.
        http(rie.port, format!("{head}{body}{head}{body}").as_bytes())
    };
    // A streamed response arrives whole: HTTP/1.0 has no chunks.
    let r = req(r#""hi""#);
    assert_eq!(r.matches("HTTP/1.1 ").count(), 1, "{r}");
    let (head, body) = r.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("\r\nConnection: close") && !head.contains("chunked"), "{r}");
    assert_eq!(body, "start\n\"hi\"\nend\n", "{r}");
    assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())), "{r}");
    // A failure mid-stream: the error document, X-Amz-Function-Error.
    let r = req(r#""fail""#);
    assert!(r.contains("X-Amz-Function-Error: Unhandled") && r.contains("Function.StreamFailed") && !r.contains("chunked"), "{r}");
}

/// ApacheBench (`ab`, HTTP/1.0, keep-alive asked for with -k): every
/// request answered, none failed, with and without -k.
#[test]
fn apache_bench_with_and_without_keep_alive() {
    require("/usr/bin/ab", "install the Debian package apache2-utils");
    let rie = Rie::start(&["--", &ex("echo-rs")], &[]);
    let payload = scratch("ab").join("event.json");
    std::fs::write(&payload, r#"{"hello":"world"}"#).unwrap();
    let url = format!("http://127.0.0.1:{}/2015-03-31/functions/function/invocations", rie.port);
    for k in [&["-k"][..], &[]] {
        let o = run(Command::new("/usr/bin/ab").args(k).args(["-n", "500", "-c", "4", "-s", "10", "-T", "application/json", "-p"]).arg(&payload).arg(&url), 60);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success(), "ab {k:?}: {out}{}", String::from_utf8_lossy(&o.stderr));
        for want in ["Complete requests:      500", "Failed requests:        0", "Document Length:        17 bytes"] {
            assert!(out.contains(want), "ab {k:?}: no {want:?} in {out}");
        }
        assert!(!out.contains("Non-2xx"), "ab {k:?}: {out}");
    }
}

/// Error bodies carry the message under the key Lambda's API model gives
/// each exception ("Message" for ResourceNotFoundException, "message" for
/// the others): SDKs generated from the model (the Go SDK v2, tests/sdk.rs)
/// read only that key, and showed an empty message for a lowercase one.
#[test]
fn error_bodies_use_the_models_message_key() {
    let rie = Rie::start(&["--", &ex("context-c")], &[]);
    let body = |r: &str| json(r.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no head: {r}")).1);
    let r = post(rie.port, "nope", "", b"{}");
    assert!(r.starts_with("HTTP/1.1 404 ") && r.contains("x-amzn-ErrorType: ResourceNotFoundException\r\n"), "{r}");
    let e = body(&r);
    assert!(e["Message"].as_str().is_some_and(|m| m.starts_with("Function not found: arn:aws:lambda:")) && e["message"].is_null(), "{r}");
    assert_eq!(e["Type"].as_str(), Some("User"), "{r}");
    for (headers, etype) in
        [("X-Amz-Client-Context: !!\r\n", "InvalidRequestContentException"), ("X-Amz-Invocation-Type: Bogus\r\n", "InvalidParameterValueException")]
    {
        let r = post(rie.port, "function", headers, b"{}");
        assert!(r.starts_with("HTTP/1.1 400 ") && r.contains(&format!("x-amzn-ErrorType: {etype}\r\n")), "{r}");
        let e = body(&r);
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()) && e["Message"].is_null(), "{r}");
    }
}

/// What a caller puts into the runtime's `/next` head is held to Lambda's
/// limits: up to 3,583 bytes of base64 client context, a name or ARN of 256,
/// a qualifier of 128, a tenant id of 256. Past them the invoke is refused
/// (before, each reached the runtime, and past what faas's `/next` head then
/// took, 16 KiB, made it exit); at them it is passed on whole. A trace header over 1,000
/// bytes is not passed on: the invocation gets its own trace id.
#[test]
fn caller_values_up_to_lambdas_limits() {
    let rie = Rie::start(&["--", &ex("context-c")], &[]);
    let b64 = |n: usize| {
        // {"custom":{"k":"xxx..."}}, n base64 characters with no padding.
        let raw = format!(r#"{{"custom":{{"k":"{}"}}}}"#, "x".repeat(n / 4 * 3 - 19));
        assert_eq!(raw.len() % 3, 0);
        let enc = faas_tests::base64_encode(raw.as_bytes());
        assert_eq!(enc.len(), n);
        (raw, enc)
    };
    let (raw, enc) = b64(3580);
    let r = post(rie.port, "function", &format!("X-Amz-Client-Context: {enc}\r\n"), b"{}");
    assert!(r.starts_with("HTTP/1.1 200 "), "{}", &r[..r.len().min(300)]);
    let v = json(r.split_once("\r\n\r\n").unwrap().1);
    assert_eq!(v["client_context"].as_str(), Some(raw.as_str()));
    let (_, enc) = b64(3584);
    let r = post(rie.port, "function", &format!("X-Amz-Client-Context: {enc}\r\n"), b"{}");
    assert!(r.starts_with("HTTP/1.1 400 ") && r.contains("x-amzn-ErrorType: InvalidRequestContentException\r\n"), "{r}");
    assert!(r.contains("at most 3583 bytes"), "{r}");
    // `name` may end in a query: the request is written out here.
    let invoke = |name: &str, headers: &str| {
        let (name, query) = name.split_once('?').unwrap_or((name, ""));
        let head = format!("POST /2015-03-31/functions/{name}/invocations?{query} HTTP/1.1\r\nConnection: close\r\n{headers}Content-Length: 2\r\n\r\n{{}}");
        http(rie.port, head.as_bytes())
    };
    let ok = |name: &str, headers: &str| {
        let r = invoke(name, headers);
        assert!(r.starts_with("HTTP/1.1 200 "), "{}", &r[..r.len().min(300)]);
        json(r.split_once("\r\n\r\n").unwrap().1)
    };
    let refused = |name: &str, headers: &str, what: &str| {
        let r = invoke(name, headers);
        assert!(r.starts_with("HTTP/1.1 400 ") && r.contains("x-amzn-ErrorType: ValidationException\r\n"), "{}", &r[..r.len().min(300)]);
        assert!(r.contains(&format!("Value at '{what}' failed to satisfy constraint")), "{r}");
    };
    let q = "q".repeat(128);
    assert!(ok(&format!("function?Qualifier={q}"), "")["function_arn"].as_str().unwrap().ends_with(&format!(":function:function:{q}")));
    refused(&format!("function?Qualifier={q}q"), "", "qualifier");
    let region = "r".repeat(256 - "arn:aws:lambda::000000000000:function:function".len());
    let arn = format!("arn:aws:lambda:{region}:000000000000:function:function");
    assert_eq!(ok(&arn, "")["function_arn"].as_str(), Some(arn.as_str()));
    refused(&arn.replace(":function:function", ":function:function:1"), "", "functionName");
    let t = "t".repeat(256);
    assert_eq!(ok("function", &format!("X-Amz-Tenant-Id: {t}\r\n"))["tenant_id"].as_str(), Some(t.as_str()));
    refused("function", &format!("X-Amz-Tenant-Id: {t}t\r\n"), "tenantId");
    let root = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    assert_eq!(ok("function", &format!("X-Amzn-Trace-Id: {root}\r\n"))["trace_id"].as_str(), Some(root));
    let long = format!("{root};Lineage={}", "l".repeat(20_000));
    let own = ok("function", &format!("X-Amzn-Trace-Id: {long}\r\n"))["trace_id"].as_str().unwrap().to_string();
    assert!(own.starts_with("Root=1-") && own.len() < 200, "{own}");
    // The runtime was never disturbed: one process served every invoke.
    assert_eq!(rie.stdout().matches("Init Duration").count(), 1, "{}", rie.stdout());
}

#[test]
fn sigterm_stops_child_and_exits_zero() {
    let mut rie = Rie::start(&["--", &ex("echo-rs")], &[]);
    assert!(post(rie.port, "function", "", b"1").ends_with("1"));
    let kids = children_of(rie.child.id());
    assert_eq!(kids.len(), 1, "the runtime: {kids:?}");
    let st = rie.stop();
    assert_eq!(st.code(), Some(0));
    let t = std::time::Instant::now();
    while !gone(kids[0]) {
        assert!(t.elapsed() < std::time::Duration::from_secs(10), "the runtime {} outlived faas-rie", kids[0]);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn execs_the_bootstrap_on_real_lambda_and_has_help() {
    let o = run(
        Command::new(out("bin/faas-rie"))
            .args(["--", "/bin/sh", "-c", "echo runtime api is $AWS_LAMBDA_RUNTIME_API"])
            .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:1"),
        10,
    );
    assert_eq!(String::from_utf8_lossy(&o.stdout), "runtime api is 127.0.0.1:1\n");
    let o = run(Command::new(out("bin/faas-rie")).arg("--help"), 10);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    for word in [
        "--listen",
        "--runtime-api",
        "--pool",
        "--queue",
        "--init-timeout",
        "--event-retries",
        "--retry-delay",
        "response-streaming-invocations",
        "AWS_LAMBDA_FUNCTION_TIMEOUT",
        "AWS_LAMBDA_RUNTIME_API",
    ] {
        assert!(help.contains(word), "--help does not mention {word}");
    }
    let o = run(Command::new(out("bin/faas-rie")).arg("--version"), 10);
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout), format!("faas-rie {}\n", env!("CARGO_PKG_VERSION")));
    // A command-line mistake points to --help; a bootstrap that cannot be
    // run does not (no option would fix it).
    let o = run(Command::new(out("bin/faas-rie")).arg("--bogus"), 10);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&o.stderr), "faas-rie: unknown option --bogus (try --help)\n");
    let o = run(Command::new(out("bin/faas-rie")).args(["--pool", "0"]), 10);
    assert_eq!((o.status.code(), String::from_utf8_lossy(&o.stderr).as_ref()), (Some(2), "faas-rie: bad value for --pool (try --help)\n"));
    let o = run(Command::new(out("bin/faas-rie")).arg("/nonexistent/bootstrap"), 10);
    assert_eq!((o.status.code(), String::from_utf8_lossy(&o.stderr).as_ref()), (Some(2), "faas-rie: cannot execute /nonexistent/bootstrap\n"));
}

#[test]
fn finds_the_bootstrap_where_lambda_does() {
    // /var/task, then /opt (a layer), then /var/runtime: in a private mount
    // namespace with tmpfs over /var and /opt, so the host is untouched.
    // AWS_LAMBDA_RUNTIME_API is set, so faas-rie execs what it found. It
    // runs in $LAMBDA_TASK_ROOT (/var/task by default), as on Lambda; a
    // bootstrap named on the command line runs where faas-rie was started.
    let script = r#"
        mount -t tmpfs tmpfs /var && mount -t tmpfs tmpfs /opt
        mkdir -p /var/task /var/runtime
        for d in /var/task /opt /var/runtime; do printf '#!/bin/sh\necho found in %s, runs in $(pwd -P)\n' $d > $d/bootstrap; chmod +x $d/bootstrap; done
        cd /
        "$RIE"; rm /var/task/bootstrap
        "$RIE"; rm /opt/bootstrap
        "$RIE"
        LAMBDA_TASK_ROOT=/opt "$RIE"
        cd /opt && "$RIE" /var/runtime/bootstrap
        rmdir /var/task && cd / && "$RIE"
    "#;
    let o = run(
        Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-ec", script])
            .env("RIE", out("bin/faas-rie"))
            .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:1"),
        20,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "found in /var/task, runs in /var/task\nfound in /opt, runs in /var/task\nfound in /var/runtime, runs in /var/task\n\
         found in /var/runtime, runs in /opt\nfound in /var/runtime, runs in /opt\nfound in /var/runtime, runs in /\n"
    );
}

#[test]
fn streaming_invoke_is_an_event_stream_botocore_decodes() {
    require("/usr/bin/python3", "install the Debian packages python3 and python3-boto3");
    let drip = scratch("drip").join("first-seen");
    let stream = Rie::start(&["--", &ex("stream-c")], &[]);
    let ctx = Rie::start(&["--", &ex("context-c")], &[]);
    let fix1 = Rie::start(&["--", fixture().to_str().unwrap()], &[("AWS_LAMBDA_FUNCTION_TIMEOUT", "1")]);
    let fix = Rie::start(&["--", fixture().to_str().unwrap()], &[("DRIP_FILE", drip.to_str().unwrap())]);
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.arg(root().join("tests/rie/eventstream_check.py")).args([stream.url(), ctx.url(), fix1.url(), fix.url()]).arg(&drip);
    let o = run(&mut cmd, 300);
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "event-stream checks failed (python3-botocore installed?):\n{text}");
    assert!(text.contains("eventstream: 36 checks passed"), "{text}");
}

/// Reads a chunked response to its end: the head, the body's length (not
/// kept: it may be 200 MiB) and the trailer lines.
fn chunked_response(port: u16, raw: &[u8]) -> (String, u64, String) {
    let mut s = std::io::BufReader::new(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
    s.get_ref().set_read_timeout(Some(std::time::Duration::from_secs(120))).unwrap();
    std::io::Write::write_all(s.get_mut(), raw).unwrap();
    let mut line = String::new();
    let mut read_line = |s: &mut std::io::BufReader<std::net::TcpStream>| {
        line.clear();
        std::io::BufRead::read_line(s, &mut line).unwrap();
        line.clone()
    };
    let mut head = String::new();
    while !head.ends_with("\r\n\r\n") {
        head += &read_line(&mut s);
    }
    assert!(head.contains("Transfer-Encoding: chunked"), "{head}");
    let mut body = 0;
    loop {
        let size = u64::from_str_radix(read_line(&mut s).trim_end(), 16).unwrap();
        if size == 0 {
            break;
        }
        std::io::copy(&mut std::io::Read::take(&mut s, size), &mut std::io::sink()).unwrap();
        body += size;
        assert_eq!(read_line(&mut s), "\r\n");
    }
    let mut trailers = String::new();
    loop {
        let l = read_line(&mut s);
        if l == "\r\n" || l.is_empty() {
            break;
        }
        trailers += &l;
    }
    (head, body, trailers)
}

#[test]
fn streamed_response_cut_at_200_mib() {
    let rie = Rie::start(&["--", fixture().to_str().unwrap()], &[]);
    let body = br#""big""#;
    let req = format!("POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n", body.len());
    let (head, got, trailers) = chunked_response(rie.port, &[req.as_bytes(), body].concat());
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    assert_eq!(got, 200 << 20, "the caller gets exactly 200 MiB of the 200 MiB + 1 KiB");
    assert!(
        trailers.contains("X-Amz-Function-Error: Unhandled") && trailers.contains("Lambda-Runtime-Function-Error-Type: Function.ResponseSizeTooLarge"),
        "{trailers}"
    );
    // The emulator and the runtime go on: the next invoke is answered by
    // the same runtime (one init only).
    let r = post(rie.port, "function", "", br#"{"after":"big"}"#);
    assert!(r.starts_with("HTTP/1.1 200 ") && r.ends_with(r#"{"after":"big"}"#), "{r}");
    let log = rie.wait_stdout("END RequestId: ", 2, 20);
    assert!(log.contains("fixture: big stream: 200 MiB written"), "{log}");
    assert_eq!(log.matches("Init Duration").count(), 1, "{log}");
}

/// The request id of an Event invoke, from its 202.
fn event(port: u16, payload: &[u8]) -> String {
    let r = post(port, "function", "X-Amz-Invocation-Type: Event\r\n", payload);
    assert!(r.starts_with("HTTP/1.1 202 "), "{r}");
    r.lines().find_map(|l| l.strip_prefix("x-amzn-RequestId: ")).unwrap().trim().to_string()
}

#[test]
fn failed_events_are_retried() {
    // Two retries (the default) 50 ms and 100 ms after the failures.
    let rie = Rie::start(&["--retry-delay", "50", "--", &ex("context-c")], &[]);
    let failing = event(rie.port, br#""fail""#);
    let fine = event(rie.port, b"{}");
    let start = |id: &str| format!("START RequestId: {id} ");
    rie.wait_stdout(&start(&failing), 3, 20);
    // A sync invoke after them, then time for a fourth attempt (due 200 ms
    // after the third) that must not come.
    assert!(post(rie.port, "function", "", b"{}").starts_with("HTTP/1.1 200 "));
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let log = rie.stdout();
    assert_eq!(log.matches(&start(&failing)).count(), 3, "a failed Event runs 1 + 2 times:\n{log}");
    assert_eq!(log.matches(&start(&fine)).count(), 1, "a successful Event runs once:\n{log}");

    // --event-retries 0: no retry.
    let once = Rie::start(&["--event-retries", "0", "--retry-delay", "0", "--", &ex("context-c")], &[]);
    let id = event(once.port, br#""fail""#);
    once.wait_stdout("END RequestId: ", 1, 20);
    assert!(post(once.port, "function", "", b"{}").starts_with("HTTP/1.1 200 "));
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(once.stdout().matches(&start(&id)).count(), 1);
}

#[test]
fn slow_init_is_retried_once_then_times_out() {
    // Init takes 1.5 s against a 1 s limit: timed out, retried with the
    // function timeout (5 s), and then it works.
    let rie = Rie::start(&["--init-timeout", "1", "--", fixture().to_str().unwrap()], &[("FIXTURE_INIT_MS", "1500"), ("AWS_LAMBDA_FUNCTION_TIMEOUT", "5")]);
    let r = post(rie.port, "function", "", br#"{"slow":"init"}"#);
    assert!(r.starts_with("HTTP/1.1 200 ") && r.ends_with(r#"{"slow":"init"}"#) && !r.contains("X-Amz-Function-Error"), "{r}");
    let log = rie.wait_stdout("REPORT RequestId: ", 1, 20);
    assert_eq!(log.matches("INIT_REPORT Init Duration: ").count(), 1, "{log}");
    assert!(log.contains("\tPhase: init\tStatus: timeout"), "{log}");
    assert_eq!(log.matches("Init Duration").count(), 2, "INIT_REPORT, then the REPORT of the retried init:\n{log}");

    // Init takes 2.5 s: over the limit, and over the 2 s function timeout
    // on the retry too: the invoke fails.
    let rie = Rie::start(&["--init-timeout", "1", "--", fixture().to_str().unwrap()], &[("FIXTURE_INIT_MS", "2500"), ("AWS_LAMBDA_FUNCTION_TIMEOUT", "2")]);
    let r = post(rie.port, "function", "", b"{}");
    assert!(r.starts_with("HTTP/1.1 200 ") && r.contains("X-Amz-Function-Error: Unhandled"), "{r}");
    assert!(r.contains(r#""errorType":"Sandbox.Timedout""#) && r.contains("Task timed out after 2.00 seconds"), "{r}");
    // Two INIT_REPORTs: the init, and its retry at the invoke (Lambda's
    // "suppressed init", phase invoke).
    let log = rie.wait_stdout("REPORT RequestId: ", 1, 10);
    let inits: Vec<_> = log.lines().filter(|l| l.starts_with("INIT_REPORT")).collect();
    assert_eq!(inits.len(), 2, "{log}");
    assert!(inits[0].ends_with("\tPhase: init\tStatus: timeout") && inits[1].ends_with("\tPhase: invoke\tStatus: timeout"), "{log}");
    assert!(log.lines().any(|l| l.starts_with("REPORT") && l.ends_with("\tStatus: timeout")), "{log}");
}

#[test]
fn faas_rie_within_its_byte_budget() {
    // The FROM-scratch image is faas-rie, a bootstrap (the static echo:
    // 18,996 B, 38 tar blocks of 512 B) and 3,890 B of tar headers and
    // metadata; 83 blocks (42,496 B) are faas-rie's share of the 64 KiB
    // (tests/containers.rs checks the whole).
    let size = std::fs::metadata(out("bin/faas-rie")).unwrap().len();
    println!("faas-rie: {size} bytes (budget 42496)");
    assert!(size <= 83 * 512, "out/bin/faas-rie is {size} bytes, over its 42,496-byte budget");
}
