//! The built bootstraps (Rust and C examples, static and dynamic) against a
//! Runtime API served by the test process: every point of the runtime's
//! contract, including a hostile server. Run `make all` first.
use faas_tests::{base64_decode, out, run_script, FakeApi, Next, Proc};
use std::path::PathBuf;

const ECHOES: [&str; 4] = ["static/echo-c", "static/echo-rs", "dynamic/echo-c", "dynamic/echo-rs"];
const MIB: usize = 1024 * 1024;

fn echoes() -> impl Iterator<Item = (&'static str, PathBuf)> {
    ECHOES.iter().map(|e| (*e, out(e)))
}

fn json_value(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

#[test]
fn echo_roundtrip_on_one_connection() {
    let big = vec![b'x'; 100_000];
    for (name, bin) in echoes() {
        let script = vec![
            Next::event("a", br#"{"hello":"world"}"#),
            Next::event("b", b""),
            Next::Chunked { id: "c".into(), body: big.clone(), chunk: 7000 },
            Next::event("d", "ünïcödé \0 bytes".as_bytes()),
        ];
        let (api, p, st) = run_script(&bin, script, &[]);
        assert_eq!(st.code(), Some(1), "{name}: exits 1 on the final 500; stderr: {}", p.stderr());
        let posts = api.posts();
        let got: Vec<(&str, &[u8])> = posts.iter().map(|r| (r.path.as_str(), &r.body[..])).collect();
        assert_eq!(
            got,
            [
                ("/2018-06-01/runtime/invocation/a/response", &br#"{"hello":"world"}"#[..]),
                ("/2018-06-01/runtime/invocation/b/response", b""),
                ("/2018-06-01/runtime/invocation/c/response", &big[..]),
                ("/2018-06-01/runtime/invocation/d/response", "ünïcödé \0 bytes".as_bytes()),
            ],
            "{name}"
        );
        assert_eq!(posts[0].header("Content-Type"), Some("application/json"), "{name}");
        assert_eq!(api.connections(), 1, "{name}: one kept-alive connection for everything");
        assert!(p.stderr().contains("fatal"), "{name}: says why it exits: {}", p.stderr());
    }
}

#[test]
fn six_mib_events_work_and_larger_ones_are_reported() {
    let six = vec![b'6'; 6 * MIB];
    for (name, bin) in echoes() {
        let script = vec![
            Next::Chunked { id: "chunked".into(), body: six.clone(), chunk: 65536 },
            Next::event("length", &six),
            Next::event("too-big", &vec![b'7'; 6 * MIB + 1]),
            Next::Chunked { id: "too-big-chunked".into(), body: vec![b'8'; 7 * MIB], chunk: 100_000 },
            Next::event("after", b"\"still here\""),
        ];
        let (api, _p, _) = run_script(&bin, script, &[]);
        let posts = api.posts();
        assert_eq!(posts.len(), 5, "{name}: {:#?}", posts.iter().map(|r| (&r.path, r.conn, r.body.len())).collect::<Vec<_>>());
        assert_eq!((posts[0].path.as_str(), posts[0].body.len()), ("/2018-06-01/runtime/invocation/chunked/response", 6 * MIB), "{name}");
        assert!(posts[0].body == six && posts[1].body == six, "{name}: 6 MiB echoed intact");
        for r in &posts[2..4] {
            assert!(r.path.ends_with("/error"), "{name}: {}", r.path);
            assert_eq!(r.header("Lambda-Runtime-Function-Error-Type"), Some("Runtime.EventTooLarge"), "{name}");
        }
        assert_eq!(posts[4].body, b"\"still here\"", "{name}: the loop goes on");
        assert_eq!(api.connections(), 1, "{name}: the oversized bodies were drained, not dropped");
    }
}

#[test]
fn address_shapes() {
    let bin = out("static/echo-c");
    let v4 = FakeApi::start(vec![Next::event("1", b"1")]);
    let v6 = FakeApi::start_on("[::1]:0", vec![Next::event("2", b"2")]);
    let pre = FakeApi::start(vec![Next::event("3", b"3")]);
    let local = FakeApi::start(vec![Next::event("4", b"4")]);
    let cases = [
        (&v4, format!("127.0.0.1:{}", v4.port), ""),
        (&v6, format!("[::1]:{}", v6.port), ""),
        (&pre, format!("http://127.0.0.1:{}/some/prefix/", pre.port), "/some/prefix"),
        (&local, format!("localhost:{}", local.port), ""),
    ];
    for (api, addr, prefix) in cases {
        let mut p = Proc::spawn(&bin, &[("AWS_LAMBDA_RUNTIME_API", &addr)]);
        p.wait(30);
        let posts = api.posts();
        assert_eq!(posts.len(), 1, "{addr}: {}", p.stderr());
        assert!(posts[0].path.starts_with(&format!("{prefix}/2018-06-01/runtime/invocation/")), "{addr}: {}", posts[0].path);
        let host = api.requests()[0].header("Host").unwrap().to_string();
        assert_eq!(host, addr.trim_start_matches("http://").split('/').next().unwrap(), "{addr}");
    }
    for bad in [None, Some(""), Some("9001"), Some("example.com:9001"), Some("https://127.0.0.1:1"), Some("[::1]:99999")] {
        let env: Vec<(&str, &str)> = bad.iter().map(|v| ("AWS_LAMBDA_RUNTIME_API", *v)).collect();
        let mut p = Proc::spawn(&bin, &env);
        let st = p.wait(10);
        assert_eq!(st.code(), Some(1), "{bad:?}");
        assert!(p.stderr().contains("AWS_LAMBDA_RUNTIME_API"), "{bad:?}: names the variable: {}", p.stderr());
    }
}

#[test]
fn context_headers_reach_the_handler() {
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:my-fn:PROD";
    let headers = |trace: bool| {
        let mut h = vec![
            ("lambda-runtime-deadline-ms".to_string(), "4102444800000".to_string()),
            ("LAMBDA-RUNTIME-INVOKED-FUNCTION-ARN".into(), arn.into()),
            ("Lambda-Runtime-Client-Context".into(), r#"{"client":{"app_title":"t"},"custom":{"k":"v"}}"#.into()),
            ("Lambda-Runtime-Cognito-Identity".into(), r#"{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}"#.into()),
            ("Lambda-Runtime-Aws-Tenant-Id".into(), "tenant-7".into()),
        ];
        if trace {
            h.push(("Lambda-Runtime-Trace-Id".into(), "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1".into()));
        }
        h
    };
    for bin in ["static/context-c", "dynamic/context-c"] {
        let script = vec![
            Next::Event { id: "with-trace".into(), headers: headers(true), body: b"{}".to_vec() },
            Next::Event { id: "no-trace".into(), headers: headers(false), body: b"{}".to_vec() },
            Next::Event { id: "bare".into(), headers: vec![], body: b"{}".to_vec() },
        ];
        let (api, p, _) = run_script(&out(bin), script, &[("_X_AMZN_TRACE_ID", "stale-from-environment")]);
        let posts = api.posts();
        assert_eq!(posts.len(), 3, "{bin}: {}", p.stderr());
        let v: Vec<serde_json::Value> = posts.iter().map(|r| json_value(&r.body)).collect();
        assert_eq!(v[0]["request_id"], "with-trace");
        assert_eq!(v[0]["function_arn"], arn, "{bin}: header values keep their colons");
        assert_eq!(v[0]["trace_id"], v[0]["env_trace_id"], "{bin}: _X_AMZN_TRACE_ID follows the invocation");
        assert!(v[0]["trace_id"].as_str().unwrap().starts_with("Root=1-5759e988"));
        assert_eq!(v[0]["client_context"], r#"{"client":{"app_title":"t"},"custom":{"k":"v"}}"#);
        assert_eq!(v[0]["cognito_identity"], r#"{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}"#);
        assert_eq!(v[0]["tenant_id"], "tenant-7");
        assert_eq!(v[0]["deadline_ms"], 4102444800000u64);
        let remaining = v[0]["remaining_ms"].as_u64().unwrap();
        assert!(remaining > 1_000_000_000, "{bin}: remaining_ms {remaining}");
        assert!(v[1]["trace_id"].is_null() && v[1]["env_trace_id"].is_null(), "{bin}: unset when absent: {}", v[1]);
        assert_eq!(v[2]["function_arn"], serde_json::Value::Null, "{bin}: only the request id is mandatory");
        assert_eq!((v[2]["deadline_ms"].as_u64(), v[2]["remaining_ms"].as_u64()), (Some(0), Some(0)));
        assert!(p.stderr().contains("invocation 3, request bare"), "{bin}: handler log lines: {}", p.stderr());
    }
}

/// `_X_AMZN_TRACE_ID` when it was not in the environment at start: faas
/// appends it in its own copy of the environment, then only rewrites its
/// value while it stays there (two traced invocations in a row), and
/// removes it and appends it again around an invocation without one.
#[test]
fn trace_id_follows_traced_invocations_in_a_row() {
    let traces = ["Root=1-00000001-aaaaaaaaaaaaaaaaaaaaaaaa", "Root=1-00000002-bb;Sampled=1", "", "Root=1-00000004-dd", "Root=1-5"];
    for bin in ["static/context-c", "dynamic/context-c"] {
        let script = traces
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let headers = if t.is_empty() { vec![] } else { vec![("Lambda-Runtime-Trace-Id".to_string(), t.to_string())] };
                Next::Event { id: format!("t{i}"), headers, body: b"{}".to_vec() }
            })
            .collect();
        let (api, p, _) = run_script(&out(bin), script, &[]);
        let posts = api.posts();
        assert_eq!(posts.len(), traces.len(), "{bin}: {}", p.stderr());
        for (r, t) in posts.iter().zip(traces) {
            let v = json_value(&r.body);
            let want = if t.is_empty() { serde_json::Value::Null } else { t.into() };
            assert_eq!((&v["trace_id"], &v["env_trace_id"]), (&want, &want), "{bin}: {v}");
        }
    }
}

#[test]
fn function_errors_are_posted_as_json() {
    for bin in ["static/context-c", "dynamic/context-c"] {
        let (api, p, _) = run_script(&out(bin), vec![Next::event("e1", b"\"fail\""), Next::event("ok", b"{}")], &[]);
        let posts = api.posts();
        assert_eq!(posts.len(), 2, "{bin}: {}", p.stderr());
        let e = &posts[0];
        assert_eq!(e.path, "/2018-06-01/runtime/invocation/e1/error");
        assert_eq!(e.header("Lambda-Runtime-Function-Error-Type"), Some("Function.AskedToFail"));
        assert_eq!(e.header("Content-Type"), Some("application/vnd.aws.lambda.error+json"));
        let v = json_value(&e.body);
        assert_eq!(v["errorType"], "Function.AskedToFail");
        assert_eq!(v["errorMessage"], "the event asked to fail: \"quotes\", \\ and a\nnewline");
        assert_eq!(v["stackTrace"], serde_json::json!([]));
        assert!(posts[1].path.ends_with("/ok/response"), "{bin}: the loop goes on");
    }
    // A typed Rust handler: a JSON error and a missing field are errors too.
    let script = vec![
        Next::event("bad-json", b"{not json"),
        Next::event("no-name", b"{}"),
        Next::event("ok", br#"{"name":"Ada","times":2}"#),
        Next::event("escapes", br#"{"name":"Jos\u00e9 \"J\"\\"}"#),
        // serde-json-core alone took these, and recursed into the nesting
        // until the stack overflowed (SIGSEGV) somewhere past 100,000 levels.
        Next::event("deep", &[br#"{"name":"x","a":"#.as_slice(), &[b'['; 1 << 20], &[b']'; 1 << 20], b"}"].concat()),
        Next::event("unknown-value", br#"{"name":"x","a":tru}"#),
        Next::event("raw-newline", b"{\"name\":\"x\ny\"}"),
        Next::event("after", br#"{"name":"Ada"}"#),
    ];
    let (api, p, _) = run_script(&out("static/typed-rs"), script, &[]);
    let posts = api.posts();
    assert_eq!(posts.len(), 8, "{}", p.stderr());
    for e in &posts[4..7] {
        assert_eq!(e.header("Lambda-Runtime-Function-Error-Type"), Some("Function.InvalidJson"), "{}", e.path);
    }
    assert_eq!(json_value(&posts[7].body)["name"], "Ada");
    assert_eq!(posts[0].header("Lambda-Runtime-Function-Error-Type"), Some("Function.InvalidJson"));
    assert_eq!(json_value(&posts[1].body)["errorType"], "Function.MissingName");
    let v = json_value(&posts[2].body);
    assert_eq!((v["greeting"].as_str(), v["name"].as_str(), v["times"].as_u64()), (Some("hello"), Some("Ada"), Some(2)));
    // Escapes are decoded on the way in and made once on the way out.
    assert_eq!(json_value(&posts[3].body)["name"].as_str(), Some("Jos\u{e9} \"J\"\\"), "{}", posts[3].text());
}

#[test]
fn init_errors_are_posted_then_the_process_exits() {
    let cases = [("static/context-c", ("FAIL_INIT", "1"), "Function.BadConfig"), ("static/typed-rs", ("GREETING", "fail"), "Function.BadConfig")];
    for (bin, env, kind) in cases {
        let (api, p, st) = run_script(&out(bin), vec![Next::event("never", b"{}")], &[env]);
        assert_eq!(st.code(), Some(1), "{bin}");
        let reqs = api.requests();
        assert_eq!(reqs.len(), 1, "{bin}: nothing but the init error: {reqs:#?}");
        assert_eq!(reqs[0].path, "/2018-06-01/runtime/init/error");
        assert_eq!(reqs[0].header("Lambda-Runtime-Function-Error-Type"), Some(kind));
        assert_eq!(json_value(&reqs[0].body)["errorType"], kind);
        assert!(p.stderr().contains("init failed"), "{bin}: {}", p.stderr());
    }
}

#[test]
fn a_panic_in_init_is_posted_as_the_init_error() {
    for bin in ["static/typed-rs", "dynamic/typed-rs"] {
        let (api, p, st) = run_script(&out(bin), vec![Next::event("never", b"{}")], &[("GREETING", "panic")]);
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&st), Some(6), "{bin}: aborts: {}", p.stderr());
        let reqs = api.requests();
        assert_eq!(reqs.len(), 1, "{bin}: nothing but the init error: {reqs:#?}");
        assert_eq!(reqs[0].path, "/2018-06-01/runtime/init/error", "{bin}");
        assert_eq!(reqs[0].header("Lambda-Runtime-Function-Error-Type"), Some("Runtime.Panic"), "{bin}");
        let msg = json_value(&reqs[0].body)["errorMessage"].as_str().unwrap().to_string();
        assert!(msg.starts_with("GREETING=panic at ") && msg.contains("lib.rs:"), "{bin}: {msg}");
    }
}

#[test]
fn a_panic_is_reported_as_the_invocations_error() {
    for bin in ["static/typed-rs", "dynamic/typed-rs"] {
        let (api, p, st) = run_script(&out(bin), vec![Next::event("boom", br#"{"name":"panic"}"#), Next::event("never", b"{}")], &[]);
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&st), Some(6), "{bin}: aborts: {}", p.stderr());
        let posts = api.posts();
        assert_eq!(posts.len(), 1, "{bin}");
        assert_eq!(posts[0].path, "/2018-06-01/runtime/invocation/boom/error");
        assert_eq!(posts[0].header("Lambda-Runtime-Function-Error-Type"), Some("Runtime.Panic"));
        let msg = json_value(&posts[0].body)["errorMessage"].as_str().unwrap().to_string();
        assert!(msg.starts_with("asked to panic at ") && msg.contains("lib.rs:"), "{bin}: {msg}");
    }
}

/// examples/std-rs: faas in a program with std. Owned replies go out with
/// `out.respond`, owned errors with `out.fail`; a panic hook reports panics
/// through `faas::report_panic`, with the message std formatted, and leaves
/// another thread's to std; an init error is posted; and the binary, built
/// by cargo alone, needs glibc (no newer than al2023's) and libgcc_s only.
#[test]
fn a_program_with_std_answers_fails_and_reports_formatted_panics() {
    let bin = out("std/std-rs");
    let script = vec![
        Next::event("a", br#"{"name":"Ada"}"#),
        Next::event("b", b"{not json"),
        Next::event("c", b"{}"),
        Next::event("boom", br#"{"name":"panic"}"#),
        Next::event("never", b"{}"),
    ];
    let (api, p, st) = run_script(&bin, script, &[("GREETING", "Hi")]);
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&st), Some(6), "aborts after the panic: {}", p.stderr());
    let posts = api.posts();
    let paths: Vec<&str> = posts.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/2018-06-01/runtime/invocation/a/response",
            "/2018-06-01/runtime/invocation/b/error",
            "/2018-06-01/runtime/invocation/c/response",
            "/2018-06-01/runtime/invocation/boom/error"
        ],
        "{}",
        p.stderr()
    );
    let v = json_value(&posts[0].body);
    assert_eq!((v["message"].as_str(), v["invocation"].as_u64(), v["request_id"].as_str()), (Some("Hi, Ada!"), Some(1), Some("a")));
    assert_eq!(posts[1].header("Lambda-Runtime-Function-Error-Type"), Some("Function.InvalidJson"));
    assert!(json_value(&posts[1].body)["errorMessage"].as_str().unwrap().contains("line 1 column 2"), "serde_json's message");
    assert_eq!(json_value(&posts[2].body)["message"], "Hi, world!");
    assert_eq!(posts[3].header("Lambda-Runtime-Function-Error-Type"), Some("Runtime.Panic"));
    let msg = json_value(&posts[3].body)["errorMessage"].as_str().unwrap().to_string();
    assert!(msg.starts_with("asked to panic by request boom at examples/std-rs/src/main.rs:"), "formatted by std: {msg}");

    // A panic on another thread is std's: faas's hook neither reports it
    // nor touches the invocation's state; with panic = "abort" the process
    // then ends, and Lambda would report Runtime.ExitError.
    let (api, p, st) = run_script(&bin, vec![Next::event("t", br#"{"name":"thread-panic"}"#)], &[]);
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&st), Some(6), "{}", p.stderr());
    assert!(api.posts().is_empty(), "nothing posted for another thread's panic: {:?}", api.posts());
    let err = p.stderr();
    assert!(err.contains("panicked at") && err.contains("asked to panic on another thread") && !err.contains("faas: panic"), "std's own hook: {err}");

    let (api, p, st) = run_script(&bin, vec![Next::event("never", b"{}")], &[("GREETING", "")]);
    assert_eq!(st.code(), Some(1), "{}", p.stderr());
    let reqs = api.requests();
    assert_eq!(reqs.len(), 1, "nothing but the init error: {reqs:#?}");
    assert_eq!((reqs[0].path.as_str(), reqs[0].header("Lambda-Runtime-Function-Error-Type")), ("/2018-06-01/runtime/init/error", Some("Function.BadConfig")));

    let o = std::process::Command::new("readelf").arg("-d").arg(&bin).output().expect("readelf");
    let needed: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .map(|l| l.rsplit('[').next().unwrap().trim_end_matches(']').to_string())
        .collect();
    assert_eq!(needed, ["libc.so.6", "libgcc_s.so.1"], "what provided.al2023 has");
    let newest = *faas_tests::glibc_versions(&std::fs::read(&bin).unwrap()).last().expect("links glibc symbols");
    assert!(newest <= (2, 34), "std-rs needs GLIBC_{}.{}", newest.0, newest.1);
}

#[test]
fn response_statuses_413_4xx_continue_and_500_exits() {
    for (name, bin) in echoes() {
        let api = FakeApi::start((0..4).map(|i| Next::event(&i.to_string(), b"{}")).collect());
        api.post_status(&[413, 400, 403, 500]);
        let mut p = Proc::spawn(&bin, &[("AWS_LAMBDA_RUNTIME_API", &api.addr())]);
        let st = p.wait(30);
        assert_eq!(st.code(), Some(1), "{name}");
        let posts = api.posts();
        assert_eq!(posts.len(), 4, "{name}: 413, 400 and 403 are logged and the loop goes on; {}", p.stderr());
        assert!(posts.iter().all(|r| r.path.ends_with("/response")), "{name}: a 413 is not retried through /error");
        let nexts = api.requests().iter().filter(|r| r.method == "GET").count();
        assert_eq!(
            nexts,
            4,
            "{name}: after the 500, no further /next: {:#?}",
            api.requests().iter().map(|r| format!("{} {} {}", r.method, r.path, r.conn)).collect::<Vec<_>>()
        );
        assert!(p.stderr().contains("413"), "{name}: {}", p.stderr());
    }
}

/// A /next answer whose head carries a client context of `n` bytes.
fn big_head(id: &str, n: usize) -> Next {
    Next::Event { id: id.into(), headers: vec![("Lambda-Runtime-Client-Context".into(), "c".repeat(n))], body: b"\"ok\"".to_vec() }
}

/// Framing that cannot be read (conflicting lengths, an unknown transfer
/// coding) after a request id arrived is that invocation's error, posted on
/// a new connection; the loop goes on.
#[test]
fn unreadable_framing_is_the_invocations_error() {
    let bad: [&[u8]; 2] = [
        b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: two-lengths\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n{\"a\":1}",
        b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: gzip\r\nTransfer-Encoding: gzip\r\n\r\n{}",
    ];
    for (name, bin) in echoes() {
        let script = vec![Next::Raw(bad[0].to_vec()), Next::Raw(bad[1].to_vec()), Next::event("after", b"{}")];
        let (api, p, st) = run_script(&bin, script, &[]);
        assert_eq!(st.code(), Some(1), "{name}: the script's end");
        let posts: Vec<(String, String)> = api
            .posts()
            .iter()
            .map(|r| (r.path.rsplit('/').take(2).collect::<Vec<_>>().join("<"), json_value(&r.body)["errorType"].as_str().unwrap_or("").to_string()))
            .collect();
        let want = [("error<two-lengths", "Runtime.InvalidEvent"), ("error<gzip", "Runtime.InvalidEvent"), ("response<after", "")];
        assert_eq!(posts, want.map(|(a, b)| (a.to_string(), b.to_string())), "{name}: {}", p.stderr());
    }
}

/// A server that answers a post (413) and closes before reading all of its
/// body: the runtime's send fails, but the answer is read, not lost, and the
/// 6 MB response is not sent twice.
#[test]
fn an_answer_before_the_body_is_read_counts() {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let big = format!("\"{}\"", "b".repeat(6_000_000));
    let server = std::thread::spawn(move || {
        let mut heads = Vec::new();
        for (i, conn) in listener.incoming().enumerate() {
            let mut w = conn.unwrap();
            let mut r = BufReader::new(w.try_clone().unwrap());
            let mut head = String::new();
            while !head.ends_with("\r\n\r\n") && r.read_line(&mut head).unwrap_or(0) > 0 {}
            heads.push(head.lines().next().unwrap_or("").to_string());
            match i {
                0 => {
                    let h = format!("HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: big\r\nContent-Length: {}\r\n\r\n", big.len());
                    w.write_all(h.as_bytes()).unwrap();
                    w.write_all(big.as_bytes()).unwrap();
                    // The runtime posts its 6 MB answer on this connection.
                    let mut post = String::new();
                    while !post.ends_with("\r\n\r\n") && r.read_line(&mut post).unwrap_or(0) > 0 {}
                    heads.push(post.lines().next().unwrap_or("").to_string());
                    let mut some = [0u8; 1000];
                    let _ = r.read(&mut some);
                    let _ = w.write_all(b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
                    // Closed with the rest unread: the runtime's send fails.
                }
                _ => {
                    let _ = w.write_all(b"HTTP/1.1 500 Done\r\nContent-Length: 0\r\n\r\n");
                    return heads;
                }
            }
        }
        heads
    });
    let mut p = Proc::spawn(&out("static/echo-c"), &[("AWS_LAMBDA_RUNTIME_API", &addr)]);
    let st = p.wait(30);
    assert_eq!(st.code(), Some(1), "{}", p.stderr());
    let heads = server.join().unwrap();
    assert_eq!(heads.iter().filter(|h| h.starts_with("POST")).count(), 1, "sent once: {heads:?}\n{}", p.stderr());
    // faas_respond() returned FAAS_ETOOLARGE (the echo passes it on), not
    // FAAS_EIO: the 413 was read.
    let err = p.stderr();
    assert!(err.contains("answered 413") && err.contains("payload or header over its limit") && !err.contains("socket read or write failed"), "{err}");
}

#[test]
fn hostile_runtime_api() {
    let ok = |id: &str| Next::event(id, b"\"ok\"");
    let no_id = || Next::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_vec());
    let cases: Vec<(&str, Vec<Next>, &[&str], &str)> = vec![
        // (name, script, ids answered with /response, in order; what the
        // first line on stderr says)
        ("close before the head", vec![Next::RawClose(vec![]), ok("after")], &["after"], "answered 500"),
        ("reset in mid-head", vec![Next::RawClose(b"HTTP/1.1 200 OK\r\nLambda-Runt".to_vec()), ok("x")], &[], "GET /next failed, exiting: the Runtime API closed the connection in mid-message"),
        ("truncated body", vec![Next::RawClose(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: t\r\nContent-Length: 100\r\n\r\nshort".to_vec()), ok("after")], &["after"], "event not readable: the Runtime API closed the connection in mid-message"),
        ("bad chunk size", vec![Next::Raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec()), ok("after")], &["after"], "event not readable: malformed chunked body"),
        ("missing request id", vec![Next::Raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".to_vec()), ok("after")], &["after"], "invocation without Lambda-Runtime-Aws-Request-Id"),
        ("Content-Length not a number", vec![Next::Raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: t\r\nContent-Length: 2x\r\n\r\n{}".to_vec()), ok("after")], &["after"], "event not readable: bad Content-Length or Transfer-Encoding"),
        ("Transfer-Encoding gzip", vec![Next::Raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: t\r\nTransfer-Encoding: gzip\r\n\r\n{}".to_vec()), ok("after")], &["after"], "event not readable: bad Content-Length or Transfer-Encoding"),
        // Three in a row are skipped; a fourth ends the process.
        ("three missing request ids", [vec![no_id(); 3], vec![ok("after")]].concat(), &["after"], "invocation without Lambda-Runtime-Aws-Request-Id"),
        ("four missing request ids", [vec![no_id(); 4], vec![ok("never")]].concat(), &[], "invocation without Lambda-Runtime-Aws-Request-Id"),
        ("garbage status line", vec![Next::Raw(b"SPDY/9 what\r\n\r\n".to_vec()), ok("never")], &[], "GET /next failed, exiting: malformed status line or header"),
        ("not HTTP/1.x", vec![Next::Raw(b"HTTX/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: t\r\nContent-Length: 2\r\n\r\n{}".to_vec()), ok("never")], &[], "GET /next failed, exiting: malformed status line or header"),
        ("head over 1 MiB", vec![Next::Raw([&b"HTTP/1.1 200 OK\r\nX: "[..], &vec![b'a'; 1_100_000], b"\r\n\r\n"].concat()), ok("never")], &[], "GET /next failed, exiting: payload or header over its limit"),
        // Up to 1 MiB is fine (emulators pass a caller's client context on
        // whatever its size); it is read in pieces.
        ("head of 900 KB", vec![big_head("big", 900_000), ok("after")], &["big", "after"], "answered 500"),
        ("HTTP/1.0 until close", vec![Next::RawClose(b"HTTP/1.0 200 OK\r\nLambda-Runtime-Aws-Request-Id: old\r\n\r\n\"ten\"".to_vec()), ok("after")], &["old", "after"], "answered 500"),
        ("403 on /next", vec![Next::Raw(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_vec()), ok("never")], &[], "answered 403"),
        ("one byte at a time", vec![Next::Dribble(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: slow\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n\"ok\"\r\n0\r\n\r\n".to_vec()), ok("after")], &["slow", "after"], "answered 500"),
        ("Content-Length longer than the body", vec![Next::RawClose(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: t\r\nContent-Length: 9999\r\n\r\n{}".to_vec()), ok("after")], &["after"], "event not readable: the Runtime API closed the connection in mid-message"),
        ("chunk extensions and trailers", vec![Next::Raw(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: ext\r\nTransfer-Encoding: chunked\r\n\r\n3;a=b\r\n\"ok\r\n1\r\n\"\r\n0\r\nX-Trailer: 1\r\n\r\n".to_vec())], &["ext"], "answered 500"),
        // Interim answers come before the real one and have no body.
        ("100 and 103 before the answer", vec![Next::Raw(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: c\r\nContent-Length: 4\r\n\r\n\"ok\"".to_vec())], &["c"], "answered 500"),
        // 304 has no body whatever the headers say: not a wait for a close.
        ("304 on /next", vec![Next::Raw(b"HTTP/1.1 304 Not Modified\r\n\r\n".to_vec()), ok("never")], &[], "answered 304"),
        // An id that could not be posted back is skipped like a missing one.
        ("request id over 128 bytes", vec![Next::event(&"r".repeat(129), b"{}"), ok("after")], &["after"], "invocation without Lambda-Runtime-Aws-Request-Id"),
    ];
    for (name, bin) in echoes() {
        for (case, script, answered, why) in &cases {
            let (api, p, st) = run_script(&bin, script.clone(), &[]);
            let got: Vec<String> =
                api.posts().iter().filter(|r| r.path.ends_with("/response")).map(|r| r.path.split('/').nth(4).unwrap().to_string()).collect();
            assert_eq!(got, *answered, "{name} / {case}: stderr {}", p.stderr());
            assert_eq!(st.code(), Some(1), "{name} / {case}: a clear exit, not a crash");
            let first = p.stderr().lines().next().unwrap_or_default().to_string();
            assert!(first.starts_with("faas: ") && first.contains(why), "{name} / {case}: explained ({why}): {}", p.stderr());
        }
    }
    // Events that cannot be read whole are reported for their request id.
    let (api, _, _) = run_script(&out("static/echo-c"), cases[2].1.clone(), &[]);
    let errors: Vec<_> = api.posts().into_iter().filter(|r| r.path.ends_with("/error")).collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].path.as_str(), errors[0].header("Lambda-Runtime-Function-Error-Type")),
        ("/2018-06-01/runtime/invocation/t/error", Some("Runtime.InvalidEvent"))
    );
}

#[test]
fn interim_and_bodiless_answers_to_posts() {
    // 100 Continue (unasked for) and 103 before the 202; a 204 with no
    // length: each post is done, on the same kept-alive connection.
    let answers: [&[u8]; 3] = [
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
    ];
    for (name, bin) in echoes() {
        let api = FakeApi::start((0..3).map(|i| Next::event(&i.to_string(), b"{}")).collect());
        api.post_raw(&answers);
        let mut p = Proc::spawn(&bin, &[("AWS_LAMBDA_RUNTIME_API", &api.addr())]);
        let st = p.wait(30);
        assert_eq!(st.code(), Some(1), "{name}: exits on the script's final 500: {}", p.stderr());
        let posts = api.posts();
        assert_eq!(posts.len(), 3, "{name}: {}", p.stderr());
        assert!(api.requests().iter().all(|r| r.conn == 0), "{name}: one connection throughout");
        assert!(!p.stderr().contains("failed:"), "{name}: no post failed: {}", p.stderr());
    }
}

#[test]
fn request_ids_up_to_128_bytes_are_answered() {
    // Percent-encoded, 128 bytes of '%' take 384 in the request line.
    let ids = ["r".repeat(128), "%".repeat(128), "r".repeat(129)];
    for (name, bin) in echoes() {
        let (api, p, _) = run_script(&bin, ids.iter().map(|id| Next::event(id, b"{}")).collect(), &[]);
        let paths: Vec<String> = api.posts().iter().map(|r| r.path.clone()).collect();
        let want = [format!("/2018-06-01/runtime/invocation/{}/response", ids[0]), format!("/2018-06-01/runtime/invocation/{}/response", "%25".repeat(128))];
        assert_eq!(paths, want, "{name}: {}", p.stderr());
        assert!(p.stderr().contains("over 128 bytes"), "{name}: the skipped one is explained: {}", p.stderr());
    }
}

#[test]
fn a_stream_does_not_start_on_a_connection_the_server_closed() {
    // The server closes the connection right after the event (as an idle
    // kept-alive socket can die across freeze and thaw). A stream's head
    // would still go out on it, and its chunks would not: the runtime must
    // open a new connection before it starts the stream.
    // The runtime is stopped while the server sends and closes, so that it
    // finds both when it resumes, as after a thaw.
    let event = b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: s1\r\nContent-Length: 9\r\n\r\n\"payload\"".to_vec();
    for bin in ["static/stream-c", "static/stream-rs", "dynamic/stream-c", "dynamic/stream-rs"] {
        let gate = faas_tests::Gate::default();
        let api = FakeApi::start(vec![Next::GatedClose(gate.clone(), event.clone())]);
        let mut p = Proc::spawn(&out(bin), &[("AWS_LAMBDA_RUNTIME_API", &api.addr())]);
        let t = std::time::Instant::now();
        while api.requests().is_empty() {
            assert!(t.elapsed().as_secs() < 10, "{bin}: no GET /next");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        send_signal(p.pid(), 19); // SIGSTOP
        let stopped = || std::fs::read_to_string(format!("/proc/{}/stat", p.pid())).is_ok_and(|s| s.rsplit(") ").next().is_some_and(|r| r.starts_with('T')));
        while !stopped() {
            assert!(t.elapsed().as_secs() < 30, "{bin}: not stopped");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        gate.0.store(true, std::sync::atomic::Ordering::SeqCst);
        while !gate.1.load(std::sync::atomic::Ordering::SeqCst) {
            assert!(t.elapsed().as_secs() < 30, "{bin}: the server did not close");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        send_signal(p.pid(), 18); // SIGCONT
        p.wait(30);
        let posts = api.posts();
        assert_eq!(posts.len(), 1, "{bin}: {}", p.stderr());
        assert_eq!((posts[0].path.as_str(), posts[0].text()), ("/2018-06-01/runtime/invocation/s1/response", "start\n\"payload\"\nend\n".into()), "{bin}");
        assert_ne!(posts[0].conn, 0, "{bin}: on a new connection");
    }
}

#[test]
fn c_handler_codes_after_an_answer_attempt() {
    // tests/c/answers.c: a response whose content type cannot be sent
    // (nothing goes out) returns FAAS_EINVAL, which the runtime posts as the
    // invocation's error; a non-zero code after a stream began ends the
    // stream with error trailers, as faas.h says.
    let dir = std::env::temp_dir().join(format!("faas-answers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bin = dir.join("answers");
    let st = std::process::Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-Os", "-I"])
        .arg(faas_tests::root().join("include"))
        .arg(faas_tests::root().join("tests/c/answers.c"))
        .arg(out("lib/libfaas.a"))
        .arg("-o")
        .arg(&bin)
        .status()
        .unwrap();
    assert!(st.success(), "building tests/c/answers.c");
    let script = vec![
        Next::event("bad-type", b"\"bad type\""),
        Next::event("ignored", b"\"bad type, ignored\""),
        Next::event("code", b"\"code after stream\""),
        Next::event("ok", b"{}"),
        Next::event("non-ascii-type", b"\"non-ASCII type\""),
        Next::event("non-ascii-error", b"\"non-ASCII error\""),
        Next::event("long", b"\"long stream error\""),
    ];
    let (api, p, _) = run_script(&bin, script, &[]);
    let posts = api.posts();
    let paths: Vec<&str> = posts.iter().map(|r| r.path.as_str()).collect();
    let want = ["bad-type/error", "ignored/error", "code/response", "ok/response", "non-ascii-type/error", "non-ascii-error/error", "long/response"]
        .map(|p| format!("/2018-06-01/runtime/invocation/{p}"));
    assert_eq!(paths, want, "{}", p.stderr());
    for e in &posts[..2] {
        let v = json_value(&e.body);
        assert_eq!((v["errorType"].as_str(), v["errorMessage"].as_str()), (Some("Function.Error"), Some("invalid argument")), "{}", e.path);
    }
    assert_eq!(posts[2].text(), "partial", "the chunk sent before the code");
    assert_eq!(posts[2].trailer("Lambda-Runtime-Function-Error-Type"), Some("Function.Error"));
    let body = json_value(&base64_decode(posts[2].trailer("Lambda-Runtime-Function-Error-Body").unwrap()));
    assert_eq!(body["errorMessage"].as_str(), Some("invalid argument"));
    assert_eq!(posts[3].text(), "{}");
    // A content type that is not ASCII is refused like one with CR or LF;
    // an error type that is not ASCII goes out as Runtime.Unknown.
    let v = json_value(&posts[4].body);
    assert_eq!((v["errorType"].as_str(), v["errorMessage"].as_str()), (Some("Function.Error"), Some("invalid argument")));
    assert_eq!(json_value(&posts[5].body)["errorType"].as_str(), Some("Runtime.Unknown"));
    assert_eq!(posts[5].header("Lambda-Runtime-Function-Error-Type"), Some("Runtime.Unknown"));
    // A long message is cut so that its trailer line stays under 4 KiB
    // (what faas's own decoder, and so faas-rie, takes).
    let b64 = posts[6].trailer("Lambda-Runtime-Function-Error-Body").unwrap();
    assert!(b64.len() < 4000, "{}", b64.len());
    let body = json_value(&base64_decode(b64));
    assert_eq!(body["errorType"].as_str(), Some("Function.Long"));
    let m = body["errorMessage"].as_str().unwrap();
    assert!(m.len() > 1000 && m.bytes().all(|b| b == b'm'), "{}", m.len());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn streamed_responses() {
    for bin in ["static/stream-c", "static/stream-rs", "dynamic/stream-c", "dynamic/stream-rs"] {
        let script = vec![Next::event("s1", b"\"payload\""), Next::event("s2", b"\"fail\""), Next::event("s3", b"3"), Next::event("s4", b"\"http\"")];
        let (api, p, _) = run_script(&out(bin), script, &[]);
        let posts = api.posts();
        assert_eq!(posts.len(), 4, "{bin}: {}", p.stderr());
        let s = &posts[0];
        assert_eq!(s.header("Lambda-Runtime-Function-Response-Mode"), Some("streaming"), "{bin}");
        assert_eq!(s.header("Transfer-Encoding"), Some("chunked"), "{bin}");
        assert_eq!(s.header("Content-Type"), Some("text/plain"), "{bin}");
        assert_eq!(s.header("Trailer"), Some("Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"), "{bin}");
        assert_eq!(s.text(), "start\n\"payload\"\nend\n", "{bin}");
        assert!(s.trailers.is_empty(), "{bin}");
        let f = &posts[1];
        assert_eq!(f.text(), "start\n", "{bin}: the part sent before the failure");
        assert_eq!(f.trailer("Lambda-Runtime-Function-Error-Type"), Some("Function.StreamFailed"), "{bin}");
        let body = base64_decode(f.trailer("Lambda-Runtime-Function-Error-Body").unwrap());
        let v = json_value(&body);
        assert_eq!((v["errorType"].as_str(), v["errorMessage"].as_str()), (Some("Function.StreamFailed"), Some("failed after the first chunk")), "{bin}");
        let conns: Vec<usize> = posts.iter().map(|r| r.conn).collect();
        assert!(conns[0] != conns[1] && conns[1] != conns[2], "{bin}: the connection closes after each stream: {conns:?}");
        // A function URL's answer: the prelude, eight NUL bytes, the body.
        let h = &posts[3];
        assert_eq!(h.header("Content-Type"), Some("application/vnd.awslambda.http-integration-response"), "{bin}");
        assert_eq!(h.header("Lambda-Runtime-Function-Response-Mode"), Some("streaming"), "{bin}");
        assert_eq!(h.body, b"{\"statusCode\":201,\"headers\":{\"x-faas\":\"yes\"},\"cookies\":[\"a=b\"]}\0\0\0\0\0\0\0\0hello", "{bin}");
        assert!(h.trailers.is_empty(), "{bin}");
    }
}

#[test]
fn memory_stays_flat_over_10000_invocations() {
    let n = 10_000;
    // The dynamic builds (the Lambda zips) use glibc's environment: flat
    // too, but over 128 KiB (glibc and the loader; see the README).
    for bin in ["static/echo-c", "static/echo-rs", "dynamic/echo-c", "dynamic/echo-rs"] {
        // Every other invocation carries a new trace id (set, then unset):
        // glibc's setenv would keep each value; faas must keep none.
        let traced = |i: usize| vec![("Lambda-Runtime-Trace-Id".to_string(), format!("Root=1-{i:08x}-{:024x}", i * 7919))];
        let mut script: Vec<Next> = (0..n)
            .map(|i| Next::Event { id: format!("id-{i}"), headers: if i % 2 == 0 { traced(i) } else { vec![] }, body: br#"{"k":"v"}"#.to_vec() })
            .collect();
        script.push(Next::Stall(3000));
        let api = FakeApi::start(script);
        let mut p = Proc::spawn(&out(bin), &[("AWS_LAMBDA_RUNTIME_API", &api.addr())]);
        api.wait_posts(100, 30);
        // (Reading /proc races the process a little; the last /next stalls.)
        let early = p.status_kb("VmRSS");
        api.wait_posts(n, 120);
        let (late, peak) = (p.status_kb("VmRSS"), p.status_kb("VmHWM"));
        p.wait(30);
        eprintln!("{bin}: RSS after 100: {early} kB, after {n}: {late} kB, peak {peak} kB");
        assert!(late <= early, "{bin}: RSS grew from {early} to {late} kB");
        if bin.starts_with("static/") {
            assert!(peak <= 128, "{bin}: peak RSS {peak} kB over the 128 KiB budget");
        }
    }
}

#[test]
fn graceful_shutdown_on_sigterm() {
    let cases = [
        ("static/context-c", "shutting down after 1 invocations"),
        ("dynamic/context-c", "shutting down after 1 invocations"),
        ("static/typed-rs", "shutting down after 1 greetings"),
        ("dynamic/typed-rs", "shutting down after 1 greetings"),
    ];
    for (bin, said) in cases {
        let api = FakeApi::start(vec![Next::event("one", br#"{"name":"Ada"}"#), Next::Stall(20_000)]);
        let mut p = Proc::spawn(&out(bin), &[("AWS_LAMBDA_RUNTIME_API", &api.addr())]);
        api.wait_posts(1, 10);
        // The extension's event/next comes on its own connection, which the
        // server may record after the first post: wait for it too.
        let t = std::time::Instant::now();
        while !api.requests().iter().any(|r| r.path == "/2020-01-01/extension/event/next") && t.elapsed().as_secs() < 10 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let reqs = api.requests();
        let find = |path: &str| reqs.iter().position(|r| r.path == path).unwrap_or_else(|| panic!("{bin}: no {path}: {reqs:#?}"));
        let (register, ext_next) = (find("/2020-01-01/extension/register"), find("/2020-01-01/extension/event/next"));
        let first_next = find("/2018-06-01/runtime/invocation/next");
        assert!(register < first_next, "{bin}: registered during init, before the first /next");
        assert_eq!(reqs[register].header("Lambda-Extension-Name"), Some("faas"));
        assert_eq!(reqs[register].text(), r#"{"events":[]}"#);
        assert_eq!(reqs[ext_next].header("Lambda-Extension-Identifier"), Some("ext-1"));
        // Now blocked in the long poll on the second /next (the server got
        // it, so the runtime is past its last look at the flag): SIGTERM ends it.
        let t = std::time::Instant::now();
        while api.requests().iter().filter(|r| r.path == "/2018-06-01/runtime/invocation/next").count() < 2 {
            assert!(t.elapsed().as_secs() < 10, "{bin}: no second /next");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        send_signal(p.pid(), 15);
        let st = p.wait(5);
        assert_eq!(st.code(), Some(0), "{bin}: {}", p.stderr());
        assert!(p.stderr().contains(said), "{bin}: the hook ran: {}", p.stderr());
    }
}

/// Without an Extensions API, graceful shutdown is off, as faas.h says: the
/// function runs as with faas_run(), and SIGTERM is not caught (it ends the
/// process as it would any other, with no shutdown hook).
#[test]
fn without_extensions_sigterm_is_not_caught() {
    for (bin, hook) in [("static/context-c", "shutting down after"), ("dynamic/typed-rs", "shutting down after")] {
        let api = FakeApi::start(vec![Next::event("one", br#"{"name":"Ada"}"#), Next::Stall(20_000)]);
        api.refuse_extensions();
        let mut p = Proc::spawn(&out(bin), &[("AWS_LAMBDA_RUNTIME_API", &api.addr())]);
        api.wait_posts(1, 10);
        let t = std::time::Instant::now();
        while api.requests().iter().filter(|r| r.path == "/2018-06-01/runtime/invocation/next").count() < 2 {
            assert!(t.elapsed().as_secs() < 10, "{bin}: no second /next");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        send_signal(p.pid(), 15);
        let st = p.wait(5);
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&st), Some(15), "{bin}: {}", p.stderr());
        assert!(p.stderr().contains("graceful shutdown is off"), "{bin}: {}", p.stderr());
        assert!(!p.stderr().contains(hook), "{bin}: no hook: {}", p.stderr());
    }
}

#[test]
fn sigterm_between_the_flag_check_and_the_long_poll_is_not_lost() {
    // tests/c/sigterm_race.c, preloaded into the dynamic builds, raises
    // SIGTERM inside the long poll's recv wrapper, before the real recv:
    // after the runtime's last look at its flag. The hook must still run
    // at once (a runtime that then blocked in recv would wait for SIGKILL).
    let dir = std::env::temp_dir().join(format!("faas-sigterm-race-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let so = dir.join("sigterm_race.so");
    let st = std::process::Command::new("cc")
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-O2", "-o"])
        .arg(&so)
        .arg(faas_tests::root().join("tests/c/sigterm_race.c"))
        .arg("-ldl")
        .status()
        .unwrap();
    assert!(st.success(), "building the shim");
    for (bin, said) in [("dynamic/context-c", "shutting down after 1 invocations"), ("dynamic/typed-rs", "shutting down after 1 greetings")] {
        let api = FakeApi::start(vec![Next::event("one", br#"{"name":"Ada"}"#), Next::Stall(20_000)]);
        let mut p = Proc::spawn(&out(bin), &[("AWS_LAMBDA_RUNTIME_API", &api.addr()), ("LD_PRELOAD", so.to_str().unwrap())]);
        let st = p.wait(5);
        assert_eq!(st.code(), Some(0), "{bin}: {}", p.stderr());
        assert!(p.stderr().contains(said), "{bin}: the hook ran: {}", p.stderr());
        assert_eq!(api.posts().len(), 1, "{bin}: the one event was answered");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sends a signal with kill(1), keeping the tests free of unsafe code.
fn send_signal(pid: u32, sig: i32) {
    let st = std::process::Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status().unwrap();
    assert!(st.success());
}

#[test]
fn json_logs_carry_the_request_id_and_respect_the_level() {
    let bin = out("static/context-c");
    let script = || vec![Next::event("req-1", b"{}"), Next::event("req-2", b"{}")];
    let (_, p, _) = run_script(&bin, script(), &[("AWS_LAMBDA_LOG_FORMAT", "JSON"), ("AWS_LAMBDA_LOG_LEVEL", "info")]);
    let lines: Vec<serde_json::Value> = p.stderr().lines().map(|l| json_value(l.as_bytes())).collect();
    let handler: Vec<&serde_json::Value> = lines.iter().filter(|v| v["level"] == "INFO").collect();
    assert_eq!(handler.len(), 2, "{}", p.stderr());
    assert_eq!((handler[0]["message"].as_str(), handler[0]["requestId"].as_str()), (Some("invocation 1, request req-1"), Some("req-1")));
    assert_eq!(handler[1]["requestId"], "req-2");
    let ts = handler[0]["timestamp"].as_str().unwrap();
    assert!(ts.len() == 24 && ts.ends_with('Z') && ts.starts_with("20"), "{ts}");
    let runtime: Vec<_> = lines.iter().filter(|v| v["level"] == "ERROR").collect();
    assert!(runtime.iter().any(|v| v["message"].as_str().unwrap().contains("fatal")), "runtime messages are JSON too: {}", p.stderr());
    // WARN filters the handler's INFO lines out; text format is plain lines.
    let (_, p, _) = run_script(&bin, script(), &[("AWS_LAMBDA_LOG_FORMAT", "JSON"), ("AWS_LAMBDA_LOG_LEVEL", "WARN")]);
    assert!(!p.stderr().contains("invocation 1"), "{}", p.stderr());
    let (_, p, _) = run_script(&bin, script(), &[]);
    assert!(p.stderr().lines().any(|l| l == "invocation 1, request req-1"), "{}", p.stderr());
    // From Rust, the same.
    let greet = || vec![Next::event("rs-1", br#"{"name":"Ada Lovelace"}"#)];
    let (_, p, _) = run_script(&out("static/typed-rs"), greet(), &[("AWS_LAMBDA_LOG_FORMAT", "json")]);
    let line = p.stderr().lines().map(|l| json_value(l.as_bytes())).find(|v| v["level"] == "INFO").expect("an INFO line");
    assert_eq!((line["message"].as_str(), line["requestId"].as_str()), (Some("greeting Ada Lovelace"), Some("rs-1")));
    let (_, p, _) = run_script(&out("static/typed-rs"), greet(), &[("AWS_LAMBDA_LOG_FORMAT", "JSON"), ("AWS_LAMBDA_LOG_LEVEL", "ERROR")]);
    assert!(!p.stderr().contains("greeting"), "{}", p.stderr());
}

/// A Rust handler that fails its stream (which closes the stream's
/// connection), opens a connection of its own (which takes the descriptor
/// the stream had: say, to its database) and then panics: the panic is
/// reported, but never sent down that connection, as it would be if the
/// runtime still took the descriptor for the stream's. A bootstrap of its
/// own, a binary crate built here.
#[test]
fn a_panic_after_a_failed_stream_sends_nothing_on_a_reused_descriptor() {
    let dir = faas_tests::root().join(format!("target/runtime-api-tests/panic-after-fail-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let faas = faas_tests::root().join("crates/faas");
    let manifest = format!(
        "[package]\nname = \"panic-after-fail\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n\n[dependencies]\nfaas = {{ path = {:?} }}\n\
         libc = {{ version = \"0.2\", default-features = false }}\n\n[profile.release]\npanic = \"abort\"\nlto = true\n\n[profile.dev]\npanic = \"abort\"\n",
        faas.display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        r#"#![no_std]
#![no_main]
use faas::{Context, Handler, HandlerError, Out, Response};

struct FailThenPanic;

impl Handler for FailThenPanic {
    fn handle<'a>(&mut self, _: &'a [u8], _: &Context<'a>, out: Out<'a, '_>) -> Result<Response<'a>, HandlerError<'a>> {
        let mut s = out.stream("text/plain")?;
        s.write(b"start\n")?;
        s.fail(HandlerError::new("Function.Failed", "failed on purpose"))?;
        // A connection of the handler's own, to the Unix socket at $PEER.
        // SAFETY: plain libc calls on a zeroed sockaddr_un.
        unsafe {
            let fd = libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
            let mut a: libc::sockaddr_un = core::mem::zeroed();
            a.sun_family = libc::AF_UNIX as libc::sa_family_t;
            let path = libc::getenv(c"PEER".as_ptr());
            libc::strncpy(a.sun_path.as_mut_ptr(), path, a.sun_path.len() - 1);
            libc::connect(fd, (&raw const a).cast(), core::mem::size_of::<libc::sockaddr_un>() as u32);
        }
        panic!("after the failed stream");
    }
}

faas::main!(|| Ok::<_, HandlerError>(FailThenPanic));
"#,
    )
    .unwrap();
    std::fs::copy(faas_tests::root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let o = std::process::Command::new(env!("CARGO"))
        .args(["build", "--release", "--offline", "--quiet"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The handler's peer: what reaches it before the process dies.
    let sock = dir.join("peer.sock");
    let peer = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let got = std::thread::spawn(move || {
        let (mut c, _) = peer.accept().unwrap();
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut c, &mut v);
        v
    });
    let (api, p, st) = run_script(&dir.join("target/release/panic-after-fail"), vec![Next::event("s1", b"{}")], &[("PEER", sock.to_str().unwrap())]);
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&st), Some(6), "aborts: {}", p.stderr());
    let stderr = p.stderr();
    assert!(stderr.contains("panic: after the failed stream at src/main.rs:"), "{stderr}");
    let posts = api.posts();
    assert!(!posts.is_empty(), "{stderr}");
    assert_eq!((posts[0].text().as_str(), posts[0].trailer("Lambda-Runtime-Function-Error-Type")), ("start\n", Some("Function.Failed")), "{stderr}");
    let sent = got.join().unwrap();
    assert!(sent.is_empty(), "the panic went down the handler's own connection: {:?}", String::from_utf8_lossy(&sent));
    let _ = std::fs::remove_dir_all(&dir);
}
