//! The AWS SDK for Rust (aws-sdk-lambda, locked in Cargo.lock beside this
//! file, built by `make sdk-rust`) against faas-rie: Invoke and
//! InvokeWithResponseStream, the answers parsed by the SDK itself (its
//! event-stream decoder checks every CRC). The same checks as
//! tests/rie/js/lambda_check.js.
//! Arguments: the URLs of faas-rie serving examples/context.c,
//! examples/stream.c, examples/stream-rs, the fixture (with $DRIP_FILE) and
//! the fixture with a 1 s timeout; then the file the fixture's "drip" waits
//! for. Exits non-zero on the first failed check.
use aws_sdk_lambda::config::{retry::RetryConfig, BehaviorVersion, Credentials, Region};
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::operation::RequestId;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, InvokeWithResponseStreamResponseEvent as Ev, LogType};
use aws_sdk_lambda::Client;
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};

static CHECKS: AtomicUsize = AtomicUsize::new(0);
const VERSION: &str = "aws-sdk-lambda"; // the version comes from Cargo.lock, printed by main

fn check(name: &str, ok: bool, detail: impl std::fmt::Debug) {
    if !ok {
        eprintln!("{VERSION} check failed: {name}: {detail:?}");
        std::process::exit(1);
    }
    CHECKS.fetch_add(1, Ordering::Relaxed);
}

/// Dummy credentials and region; no retries: every invoke runs exactly once.
fn client(url: &str) -> Client {
    let conf = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

fn text(b: Option<&Blob>) -> String {
    String::from_utf8_lossy(b.map(Blob::as_ref).unwrap_or_default()).into_owned()
}

fn unb64(s: Option<&str>) -> String {
    String::from_utf8_lossy(&B64.decode(s.unwrap_or_default()).unwrap_or_default()).into_owned()
}

fn parse(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// One InvokeWithResponseStream's head, and its events in order: a payload
/// chunk as `("PayloadChunk", text)`, the end as `("InvokeComplete", {..})`.
struct Stream {
    status: i32,
    version: Option<String>,
    content_type: Option<String>,
    request_id: String,
    events: Vec<(&'static str, Value)>,
}

impl Stream {
    fn chunks(&self) -> Vec<String> {
        self.events.iter().filter(|(k, _)| *k == "PayloadChunk").map(|(_, v)| v.as_str().unwrap().to_string()).collect()
    }

    /// The InvokeComplete event, checked to be the one last event.
    fn complete(&self) -> Value {
        let names: Vec<&str> = self.events.iter().map(|(k, _)| *k).collect();
        let ok = names.iter().filter(|n| **n == "InvokeComplete").count() == 1 && names.last() == Some(&"InvokeComplete");
        check("one InvokeComplete, last", ok, &names);
        self.events.last().unwrap().1.clone()
    }

    fn head(&self, name: &str) {
        let ok = self.status == 200 && self.version.as_deref() == Some("$LATEST") && self.content_type.as_deref() == Some("application/vnd.amazon.eventstream");
        check(&format!("{name}: status, version, content type"), ok, (self.status, &self.version, &self.content_type));
        check(&format!("{name}: request id"), self.request_id.len() == 36, &self.request_id);
    }
}

/// The InvokeComplete fields that are set, as JSON (`{}` when none is).
fn complete_fields(code: Option<&str>, details: Option<&str>, log: Option<&str>) -> Value {
    let mut v = json!({});
    for (k, x) in [("ErrorCode", code), ("ErrorDetails", details), ("LogResult", log)] {
        if let Some(x) = x {
            v[k] = json!(x);
        }
    }
    v
}

async fn stream(
    c: &Client,
    payload: &str,
    set: impl FnOnce(
        aws_sdk_lambda::operation::invoke_with_response_stream::builders::InvokeWithResponseStreamFluentBuilder,
    ) -> aws_sdk_lambda::operation::invoke_with_response_stream::builders::InvokeWithResponseStreamFluentBuilder,
    mut on_chunk: impl FnMut(&str),
) -> Result<Stream, aws_sdk_lambda::Error> {
    let req = c.invoke_with_response_stream().function_name("function").payload(Blob::new(payload.as_bytes().to_vec()));
    let mut r = set(req).send().await?;
    let mut s = Stream {
        status: r.status_code(),
        version: r.executed_version().map(str::to_string),
        content_type: r.response_stream_content_type().map(str::to_string),
        request_id: r.request_id().unwrap_or_default().to_string(),
        events: vec![],
    };
    let mut odd = vec![];
    loop {
        match r.event_stream.recv().await {
            Ok(Some(Ev::PayloadChunk(p))) => {
                let t = text(p.payload());
                on_chunk(&t);
                s.events.push(("PayloadChunk", json!(t)));
            }
            Ok(Some(Ev::InvokeComplete(d))) => s.events.push(("InvokeComplete", complete_fields(d.error_code(), d.error_details(), d.log_result()))),
            Ok(Some(other)) => odd.push(format!("{other:?}")),
            Ok(None) => break,
            Err(e) => {
                odd.push(format!("stream error: {e:?}"));
                break;
            }
        }
    }
    // (One check per stream, not per event: how the chunks group depends on timing.)
    check("one member per event, no stream error", odd.is_empty(), &odd);
    Ok(s)
}

fn plain(
    b: aws_sdk_lambda::operation::invoke_with_response_stream::builders::InvokeWithResponseStreamFluentBuilder,
) -> aws_sdk_lambda::operation::invoke_with_response_stream::builders::InvokeWithResponseStreamFluentBuilder {
    b
}

/// An error the SDK raised for a call: its code (the exception's name), its
/// message and the HTTP status.
fn fails_with<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    name: &str,
    r: Result<T, aws_sdk_lambda::error::SdkError<E, aws_sdk_lambda::config::http::HttpResponse>>,
    code: &str,
    msg: &str,
) {
    match r {
        Ok(v) => check(name, false, ("no error", v)),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
            let (c, m) =
                e.as_service_error().map(|s| (s.code().unwrap_or_default().to_string(), s.message().unwrap_or_default().to_string())).unwrap_or_default();
            check(name, c == code && m.contains(msg) && status >= 400, (c, m, status, e));
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [ctx_url, stream_c_url, stream_rs_url, fix_url, fix1_url, drip_file] = &args[..] else {
        eprintln!("usage: lambda-check CONTEXT STREAM-C STREAM-RS FIXTURE FIXTURE-1S DRIP-FILE");
        std::process::exit(2);
    };
    let (ctx, stream_c, stream_rs, fix, fix1) = (client(ctx_url), client(stream_c_url), client(stream_rs_url), client(fix_url), client(fix1_url));
    let bytes = |s: &str| Blob::new(s.as_bytes().to_vec());
    let invoke = |c: &Client| c.invoke().function_name("function");

    // --- Invoke ---
    let r = invoke(&ctx).payload(bytes(r#"{"a":1}"#)).send().await.expect("invoke");
    let body = parse(&text(r.payload()));
    let ok = r.status_code() == 200 && r.executed_version() == Some("$LATEST") && r.function_error().is_none() && r.log_result().is_none();
    check("success", ok, &r);
    check("the request id is the function's", body["request_id"].as_str() == r.request_id() && body["event_bytes"] == 7, &body);
    let n = body["invocations"].as_u64().unwrap();

    let r = invoke(&ctx).payload(bytes(r#""fail""#)).log_type(LogType::Tail).send().await.expect("invoke");
    let err = parse(&text(r.payload()));
    check("function error", r.status_code() == 200 && r.function_error() == Some("Unhandled"), &r);
    let want = json!({"errorMessage": "the event asked to fail: \"quotes\", \\ and a\nnewline", "errorType": "Function.AskedToFail", "stackTrace": []});
    check("its error document", err == want, &err);
    let rid = r.request_id().unwrap_or_default().to_string();
    let tail = unb64(r.log_result());
    let ok = tail.contains(&format!("invocation {}, request {rid}", n + 1))
        && tail.contains(&format!("START RequestId: {rid}"))
        && tail.contains(&format!("REPORT RequestId: {rid}"));
    check("Tail log", ok, &tail);

    let cc = json!({"client": {"installation_id": "i-1", "app_title": "sdk test"}, "custom": {"k": "v"}, "env": {"locale": "fr"}});
    let r = invoke(&ctx).payload(bytes("{}")).client_context(B64.encode(cc.to_string())).send().await.expect("invoke");
    let body = parse(&text(r.payload()));
    check("ClientContext reaches the function", parse(body["client_context"].as_str().unwrap_or("null")) == cc, &body);

    // The runtime sees the ARN the caller used, account included.
    let arn = "arn:aws:lambda:us-east-1:111122223333:function:function";
    let r = ctx.invoke().function_name(arn).qualifier("live").payload(bytes("{}")).send().await.expect("invoke");
    let body = parse(&text(r.payload()));
    check("ARN and Qualifier", body["function_arn"] == format!("{arn}:live"), &body);

    let r = invoke(&ctx).payload(bytes("{}")).tenant_id("tenant-42").send().await.expect("invoke");
    let body = parse(&text(r.payload()));
    check("TenantId reaches the function", body["tenant_id"] == "tenant-42", &body);
    let last = body["invocations"].as_u64().unwrap();

    let r = invoke(&ctx).invocation_type(InvocationType::Event).payload(bytes(r#"{"event":1}"#)).send().await.expect("invoke");
    check("Event", r.status_code() == 202 && text(r.payload()).is_empty() && r.function_error().is_none(), &r);
    let r = invoke(&ctx).invocation_type(InvocationType::DryRun).payload(bytes("{}")).send().await.expect("invoke");
    check("DryRun", r.status_code() == 204 && text(r.payload()).is_empty(), &r);
    // One runtime takes jobs oldest first: the Event ran before this invoke,
    // the DryRun never ran.
    let r = invoke(&ctx).payload(bytes("{}")).send().await.expect("invoke");
    check("the Event ran once, the DryRun not", parse(&text(r.payload()))["invocations"] == last + 2, last);

    fails_with("unknown function", ctx.invoke().function_name("nope").payload(bytes("{}")).send().await, "ResourceNotFoundException", "Function not found");
    let big = Blob::new(vec![b'a'; (6 << 20) + 2]);
    fails_with("too large", invoke(&ctx).payload(big.clone()).send().await, "RequestTooLargeException", "");

    // A streaming function called with plain Invoke: all it sent, as one payload.
    let r = invoke(&stream_c).payload(bytes(r#""plain""#)).send().await.expect("invoke");
    check("streaming function, plain Invoke", r.status_code() == 200 && text(r.payload()) == "start\n\"plain\"\nend\n", &r);
    // One that fails mid-stream: a function error with its document, and the
    // Tail log, in headers (as Lambda, faas-rie buffers the stream for a
    // signed Invoke: the SDK reads no trailers).
    for (name, c) in [("stream-c", &stream_c), ("stream-rs", &stream_rs)] {
        let r = invoke(c).payload(bytes(r#""fail""#)).log_type(LogType::Tail).send().await.expect("invoke");
        let doc = if r.function_error().is_some() { parse(&text(r.payload())) } else { json!({}) };
        check(
            &format!("{name}: mid-stream failure, plain Invoke"),
            r.status_code() == 200 && r.function_error() == Some("Unhandled") && doc["errorType"] == "Function.StreamFailed",
            &r,
        );
        check(&format!("{name}: its Tail log"), unb64(r.log_result()).contains("REPORT RequestId: "), &r);
    }

    // --- InvokeWithResponseStream ---
    for (name, c) in [("stream-c", &stream_c), ("stream-rs", &stream_rs)] {
        let s = stream(c, r#""hi""#, |b| b.log_type(LogType::Tail), |_| {}).await.expect("stream");
        s.head(name);
        check(&format!("{name}: PayloadChunks"), s.chunks().concat() == "start\n\"hi\"\nend\n" && s.events[0].0 == "PayloadChunk", &s.events);
        let done = s.complete();
        check(&format!("{name}: success"), done.get("ErrorCode").is_none() && done.get("ErrorDetails").is_none(), &done);
        let tail = unb64(done["LogResult"].as_str());
        let rid = &s.request_id;
        check(&format!("{name}: Tail log"), tail.contains(&format!("START RequestId: {rid}")) && tail.contains(&format!("REPORT RequestId: {rid}")), &tail);

        let s = stream(c, r#""fail""#, plain, |_| {}).await.expect("stream");
        s.head(name);
        let done = s.complete();
        let ok = s.chunks().concat() == "start\n" && done["ErrorCode"] == "Function.StreamFailed" && done.get("LogResult").is_none();
        check(&format!("{name}: mid-stream failure"), ok, &s.events);
        let want = json!({"errorMessage": "failed after the first chunk", "errorType": "Function.StreamFailed", "stackTrace": []});
        check(&format!("{name}: ErrorDetails"), parse(done["ErrorDetails"].as_str().unwrap_or("null")) == want, &done);
    }

    // A buffered function through InvokeWithResponseStream: its response is
    // the stream's one PayloadChunk; its client context and qualifier reach it.
    let s = stream(&ctx, r#"{"buffered":1}"#, |b| b.client_context(B64.encode(cc.to_string())).qualifier("live").tenant_id("tenant-s"), |_| {})
        .await
        .expect("stream");
    s.head("buffered");
    let names: Vec<&str> = s.events.iter().map(|(k, _)| *k).collect();
    check("buffered: one PayloadChunk", names == ["PayloadChunk", "InvokeComplete"] && s.complete() == json!({}), &s.events);
    let body = parse(&s.chunks().concat());
    check("buffered: the function's answer", body["request_id"] == s.request_id.as_str() && body["event_bytes"] == 14, &body);
    let ok = parse(body["client_context"].as_str().unwrap_or("null")) == cc
        && body["function_arn"].as_str().unwrap_or_default().ends_with(":live")
        && body["tenant_id"] == "tenant-s";
    check("buffered: context", ok, &body);
    let s = stream(&fix, r#"{"echo":[1,2]}"#, plain, |_| {}).await.expect("stream");
    check("buffered echo", s.chunks().concat() == r#"{"echo":[1,2]}"# && s.complete() == json!({}), &s.events);

    let s = stream(&ctx, r#""fail""#, |b| b.log_type(LogType::Tail), |_| {}).await.expect("stream");
    let done = s.complete();
    let details = parse(done["ErrorDetails"].as_str().unwrap_or("null"));
    check(
        "buffered function error",
        s.chunks().is_empty() && done["ErrorCode"] == "Function.AskedToFail" && details["errorType"] == "Function.AskedToFail",
        &s.events,
    );
    check("its Tail log", unb64(done["LogResult"].as_str()).contains("REPORT RequestId: "), &done);

    let s = stream(&fix1, r#""sleep""#, plain, |_| {}).await.expect("stream");
    let done = s.complete();
    check(
        "timeout",
        done["ErrorCode"] == "Sandbox.Timedout" && done["ErrorDetails"].as_str().unwrap_or_default().contains("Task timed out after 1.00 seconds"),
        &done,
    );
    let s = stream(&fix, r#""crash""#, plain, |_| {}).await.expect("stream");
    let done = s.complete();
    check("crash", done["ErrorCode"] == "Runtime.ExitError" && done["ErrorDetails"].as_str().unwrap_or_default().contains("exit status 3"), &done);

    // Relayed as it arrives: the fixture sends its second chunk only once the
    // SDK has handed this loop the first (it waits for a file made on receipt).
    let drip = |t: &str| {
        if t == "first\n" {
            std::fs::write(drip_file, "").unwrap();
        }
    };
    let s = stream(&fix, r#""drip""#, plain, drip).await.expect("stream");
    check("streamed as it arrives", s.chunks() == ["first\n", "second\n"] && s.complete() == json!({}), &s.events);

    // Twenty streams at once: each gets its own chunks and its own InvokeComplete.
    let mut set = tokio::task::JoinSet::new();
    for i in 0..20 {
        let c = stream_c.clone();
        set.spawn(async move { (i, stream(&c, &format!(r#"{{"n":{i}}}"#), plain, |_| {}).await.expect("stream")) });
    }
    let mut ids = std::collections::HashSet::new();
    let mut all = 0;
    while let Some(r) = set.join_next().await {
        let (i, s) = r.expect("task");
        check("concurrent stream", s.chunks().concat() == format!("start\n{{\"n\":{i}}}\nend\n") && s.complete() == json!({}), (i, &s.events));
        ids.insert(s.request_id.clone());
        all += 1;
    }
    check("20 concurrent streams, 20 request ids", all == 20 && ids.len() == 20, &ids);

    let r = stream_c
        .invoke_with_response_stream()
        .function_name("function")
        .payload(bytes("{}"))
        .invocation_type(aws_sdk_lambda::types::ResponseStreamingInvocationType::DryRun)
        .send()
        .await;
    match r {
        Ok(mut r) => {
            let status = r.status_code();
            let first = r.event_stream.recv().await;
            check("stream DryRun", status == 204 && matches!(first, Ok(None)), (status, first));
        }
        Err(e) => check("stream DryRun", false, e),
    }
    let ev = stream_c
        .invoke_with_response_stream()
        .function_name("function")
        .payload(bytes("{}"))
        .invocation_type(aws_sdk_lambda::types::ResponseStreamingInvocationType::from("Event"))
        .send()
        .await;
    fails_with("stream Event", ev.map(|_| ()), "InvalidParameterValueException", "");
    let nope = stream_c.invoke_with_response_stream().function_name("nope").payload(bytes("{}")).send().await;
    fails_with("stream unknown function", nope.map(|_| ()), "ResourceNotFoundException", "Function not found");
    let large = stream_c.invoke_with_response_stream().function_name("function").payload(big).send().await;
    fails_with("stream too large", large.map(|_| ()), "RequestTooLargeException", "");

    println!("{VERSION} {} (rustc): {} checks passed", env!("LAMBDA_SDK_VERSION"), CHECKS.load(Ordering::Relaxed));
}
