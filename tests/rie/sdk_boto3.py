"""A current boto3 (from PyPI, pinned in tests/rie/sdk-requirements.txt, in
out/sdk-venv) against faas-rie: Invoke and InvokeWithResponseStream, the
answers parsed by the SDK itself (its event-stream parser checks every CRC).
argv: the URLs of faas-rie serving examples/context.c, examples/stream.c,
examples/stream-rs, the fixture (with $DRIP_FILE) and the fixture with a
1 s timeout; then the file the fixture's "drip" waits for.
Exits non-zero on the first failed check."""
import base64
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore
from botocore.config import Config

ctx_url, stream_c_url, stream_rs_url, fix_url, fix1_url, drip_file = sys.argv[1:7]
# No retries: every invoke here must run exactly once.
cfg = Config(read_timeout=120, connect_timeout=5, retries={"total_max_attempts": 1})
checks = 0


def check(name, ok, detail=""):
    global checks
    if not ok:
        sys.exit(f"boto3 {boto3.__version__} check failed: {name}: {detail!r}")
    checks += 1


def client(url):
    return boto3.client("lambda", endpoint_url=url, region_name="us-east-1", config=cfg)


ctx, stream_c, stream_rs, fix, fix1 = map(client, (ctx_url, stream_c_url, stream_rs_url, fix_url, fix1_url))


def fails_with(name, call, exc, text=""):
    try:
        call()
        check(name, False, "no error")
    except exc as e:
        check(name, text in str(e), str(e))


# --- Invoke ---

r = ctx.invoke(FunctionName="function", Payload=b'{"a":1}')
body = json.loads(r["Payload"].read())
check("success", r["StatusCode"] == 200 and r["ExecutedVersion"] == "$LATEST" and "FunctionError" not in r and "LogResult" not in r, r)
check("the request id is the function's", body["request_id"] == r["ResponseMetadata"]["RequestId"] and body["event_bytes"] == 7, body)
n = body["invocations"]

r = ctx.invoke(FunctionName="function", Payload=b'"fail"', LogType="Tail")
err = json.loads(r["Payload"].read())
check("function error", r["StatusCode"] == 200 and r["FunctionError"] == "Unhandled", r)
check("its error document", err == {"errorMessage": 'the event asked to fail: "quotes", \\ and a\nnewline', "errorType": "Function.AskedToFail", "stackTrace": []}, err)
tail = base64.b64decode(r["LogResult"]).decode()
rid = r["ResponseMetadata"]["RequestId"]
check("Tail log", f"invocation {n + 1}, request {rid}" in tail and f"START RequestId: {rid}" in tail and f"REPORT RequestId: {rid}" in tail, tail)

cc = {"client": {"installation_id": "i-1", "app_title": "sdk test"}, "custom": {"k": "v"}, "env": {"locale": "fr"}}
r = ctx.invoke(FunctionName="function", Payload=b"{}", ClientContext=base64.b64encode(json.dumps(cc).encode()).decode())
body = json.loads(r["Payload"].read())
check("ClientContext reaches the function", json.loads(body["client_context"]) == cc, body)

# The runtime sees the ARN the caller used, account included.
r = ctx.invoke(FunctionName="arn:aws:lambda:us-east-1:111122223333:function:function", Qualifier="live", Payload=b"{}")
body = json.loads(r["Payload"].read())
check("ARN and Qualifier", body["function_arn"] == "arn:aws:lambda:us-east-1:111122223333:function:function:live", body)

r = ctx.invoke(FunctionName="function", Payload=b"{}", TenantId="tenant-42")
body = json.loads(r["Payload"].read())
check("TenantId reaches the function", body["tenant_id"] == "tenant-42", body)
last = body["invocations"]

r = ctx.invoke(FunctionName="function", InvocationType="Event", Payload=b'{"event":1}')
check("Event", r["StatusCode"] == 202 and r["Payload"].read() == b"" and "FunctionError" not in r, r)
r = ctx.invoke(FunctionName="function", InvocationType="DryRun", Payload=b"{}")
check("DryRun", r["StatusCode"] == 204 and r["Payload"].read() == b"", r)
# One runtime takes jobs oldest first: the Event ran before this invoke,
# the DryRun never ran.
r = ctx.invoke(FunctionName="function", Payload=b"{}")
check("the Event ran once, the DryRun not", json.loads(r["Payload"].read())["invocations"] == last + 2, last)

fails_with("unknown function", lambda: ctx.invoke(FunctionName="nope", Payload=b"{}"), ctx.exceptions.ResourceNotFoundException, "Function not found")
fails_with("too large", lambda: ctx.invoke(FunctionName="function", Payload=b'"' + b"a" * (6 << 20) + b'"'), ctx.exceptions.RequestTooLargeException)

# A streaming function called with plain Invoke: all it sent, as one payload.
r = stream_c.invoke(FunctionName="function", Payload=b'"plain"')
check("streaming function, plain Invoke", r["StatusCode"] == 200 and r["Payload"].read() == b'start\n"plain"\nend\n', r)
# One that fails mid-stream: a function error with its document, and the
# Tail log, in headers (as Lambda, faas-rie buffers the stream for a signed
# Invoke: the SDK reads no trailers).
for name, c in (("stream-c", stream_c), ("stream-rs", stream_rs)):
    r = c.invoke(FunctionName="function", Payload=b'"fail"', LogType="Tail")
    p = r["Payload"].read()
    err = json.loads(p) if r.get("FunctionError") else {}
    check(f"{name}: mid-stream failure, plain Invoke", r["StatusCode"] == 200 and r.get("FunctionError") == "Unhandled" and err.get("errorType") == "Function.StreamFailed", (r, p))
    check(f"{name}: its Tail log", "REPORT RequestId: " in base64.b64decode(r.get("LogResult", "")).decode(), r)


# --- InvokeWithResponseStream ---

def stream(c, payload, on_event=None, **kw):
    """(response without its stream, the events as (name, value) pairs)."""
    r = c.invoke_with_response_stream(FunctionName=kw.pop("FunctionName", "function"), Payload=payload, **kw)
    events, odd = [], []
    for ev in r["EventStream"]:
        if len(ev) != 1:
            odd.append(ev)
            continue
        (name, value), = ev.items()
        events.append((name, value))
        if on_event:
            on_event(name, value)
    # (One check per stream, not per event: how the chunks group depends on timing.)
    check("one member per event", odd == [], odd)
    return {k: v for k, v in r.items() if k != "EventStream"}, events


def chunks(events):
    return b"".join(v["Payload"] for k, v in events if k == "PayloadChunk")


def complete(events):
    """The InvokeComplete event: the last, and the only one."""
    names = [k for k, v in events]
    check("one InvokeComplete, last", names.count("InvokeComplete") == 1 and names[-1] == "InvokeComplete" and set(names) <= {"PayloadChunk", "InvokeComplete"}, names)
    return events[-1][1]


def stream_head(name, r):
    check(f"{name}: status, version, content type", r["StatusCode"] == 200 and r["ExecutedVersion"] == "$LATEST" and r["ResponseStreamContentType"] == "application/vnd.amazon.eventstream", r)
    check(f"{name}: request id", len(r["ResponseMetadata"]["RequestId"]) == 36, r)


for name, c in (("stream-c", stream_c), ("stream-rs", stream_rs)):
    r, events = stream(c, b'"hi"', LogType="Tail")
    stream_head(name, r)
    check(f"{name}: PayloadChunks", chunks(events) == b'start\n"hi"\nend\n' and events[0][0] == "PayloadChunk", events)
    done = complete(events)
    check(f"{name}: success", "ErrorCode" not in done and "ErrorDetails" not in done, done)
    rid = r["ResponseMetadata"]["RequestId"]
    tail = base64.b64decode(done["LogResult"]).decode()
    check(f"{name}: Tail log", f"START RequestId: {rid}" in tail and f"REPORT RequestId: {rid}" in tail, tail)

    r, events = stream(c, b'"fail"')
    stream_head(name, r)
    done = complete(events)
    check(f"{name}: mid-stream failure", chunks(events) == b"start\n" and done["ErrorCode"] == "Function.StreamFailed" and "LogResult" not in done, events)
    check(f"{name}: ErrorDetails", json.loads(done["ErrorDetails"]) == {"errorMessage": "failed after the first chunk", "errorType": "Function.StreamFailed", "stackTrace": []}, done)

# A buffered function through InvokeWithResponseStream: its response is the
# stream's one PayloadChunk; its client context and qualifier reach it.
r, events = stream(ctx, b'{"buffered":1}', ClientContext=base64.b64encode(json.dumps(cc).encode()).decode(), Qualifier="live", TenantId="tenant-s")
stream_head("buffered", r)
check("buffered: one PayloadChunk", [k for k, v in events] == ["PayloadChunk", "InvokeComplete"] and complete(events) == {}, events)
body = json.loads(chunks(events))
check("buffered: the function's answer", body["request_id"] == r["ResponseMetadata"]["RequestId"] and body["event_bytes"] == 14, body)
check("buffered: context", json.loads(body["client_context"]) == cc and body["function_arn"].endswith(":live") and body["tenant_id"] == "tenant-s", body)
r, events = stream(fix, b'{"echo":[1,2]}')
check("buffered echo", chunks(events) == b'{"echo":[1,2]}' and complete(events) == {}, events)

r, events = stream(ctx, b'"fail"', LogType="Tail")
done = complete(events)
check("buffered function error", chunks(events) == b"" and done["ErrorCode"] == "Function.AskedToFail" and json.loads(done["ErrorDetails"])["errorType"] == "Function.AskedToFail", events)
check("its Tail log", "REPORT RequestId: " in base64.b64decode(done["LogResult"]).decode(), done)

r, events = stream(fix1, b'"sleep"')
done = complete(events)
check("timeout", done["ErrorCode"] == "Sandbox.Timedout" and "Task timed out after 1.00 seconds" in done["ErrorDetails"], done)
r, events = stream(fix, b'"crash"')
done = complete(events)
check("crash", done["ErrorCode"] == "Runtime.ExitError" and "exit status 3" in done["ErrorDetails"], done)


# Relayed as it arrives: the fixture sends its second chunk only once the
# SDK has handed this loop the first (it waits for a file made on receipt).
def first_seen(name, value):
    if name == "PayloadChunk" and value["Payload"] == b"first\n":
        open(drip_file, "w").close()


r, events = stream(fix, b'"drip"', on_event=first_seen)
check("streamed as it arrives", [v["Payload"] for k, v in events if k == "PayloadChunk"] == [b"first\n", b"second\n"] and complete(events) == {}, events)

# Twenty streams at once, on twenty connections: each gets its own chunks
# and its own InvokeComplete.
many = boto3.client("lambda", endpoint_url=stream_c_url, region_name="us-east-1", config=cfg.merge(Config(max_pool_connections=20)))
with ThreadPoolExecutor(20) as pool:
    got = list(pool.map(lambda i: stream(many, json.dumps({"n": i}).encode()), range(20)))
check("20 concurrent streams", all(chunks(ev) == b'start\n{"n": %d}\nend\n' % i and complete(ev) == {} for i, (r, ev) in enumerate(got)), got)
check("20 request ids", len({r["ResponseMetadata"]["RequestId"] for r, ev in got}) == 20, got)

r, events = stream(stream_c, b"{}", InvocationType="DryRun")
check("stream DryRun", r["StatusCode"] == 204 and events == [], (r, events))
fails_with("stream Event", lambda: stream(stream_c, b"{}", InvocationType="Event"), stream_c.exceptions.InvalidParameterValueException)
fails_with("stream unknown function", lambda: stream(stream_c, b"{}", FunctionName="nope"), stream_c.exceptions.ResourceNotFoundException, "Function not found")
fails_with("stream too large", lambda: stream(stream_c, b'"' + b"a" * (6 << 20) + b'"'), stream_c.exceptions.RequestTooLargeException)

print(f"boto3 {boto3.__version__} (botocore {botocore.__version__}): {checks} checks passed")
