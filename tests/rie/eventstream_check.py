"""InvokeWithResponseStream against faas-rie, the answers decoded and their
CRCs checked by botocore's own event-stream parser (EventStreamBuffer, in
Debian's python3-botocore). That botocore (1.29) and the AWS CLI (2.9)
predate the operation itself, so the requests are plain HTTP here.
argv: the URLs of faas-rie serving examples/stream.c, examples/context.c,
the fixture with a 1 s timeout, and the fixture with the default timeout;
then the file the fixture's "drip" waits for.
Exits non-zero on the first failed check."""
import base64
import http.client
import json
import os
import sys
import urllib.parse

from botocore.eventstream import EventStreamBuffer

stream_url, ctx_url, fix1_url, fix_url, drip_file = sys.argv[1:6]
checks = 0


def check(name, ok, detail=""):
    global checks
    if not ok:
        sys.exit(f"eventstream check failed: {name}: {detail}")
    checks += 1


def connect(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def invoke(url, payload, name="function", headers=None, on_event=None, conn=None):
    """One streaming invoke: (status, headers, events, body of a non-200);
    each event is (event type, message type, content type, payload)."""
    conn = conn or connect(url)
    conn.request("POST", f"/2021-11-15/functions/{name}/response-streaming-invocations", body=payload, headers=headers or {})
    r = conn.getresponse()
    hs = {k.lower(): v for k, v in r.getheaders()}
    if r.status != 200:
        return r.status, hs, [], r.read()
    buf, events = EventStreamBuffer(), []
    while True:
        data = r.read1(65536)
        if not data:
            break
        buf.add_data(data)
        for msg in buf:  # raises on a bad prelude or message CRC
            h = msg.headers
            ev = (h[":event-type"], h[":message-type"], h[":content-type"], msg.payload)
            events.append(ev)
            if on_event:
                on_event(ev)
    return r.status, hs, events, b""


def chunks(events):
    return [p for t, m, c, p in events if t == "PayloadChunk" and m == "event" and c == "application/octet-stream"]


def complete(events):
    """The InvokeComplete document; it must be the last event, and the only one."""
    done = [e for e in events if e[0] == "InvokeComplete"]
    check("one InvokeComplete, last", len(done) == 1 and events[-1] is done[0], events)
    t, m, c, p = done[0]
    check("InvokeComplete headers", (m, c) == ("event", "application/json"), done[0])
    return json.loads(p)


# A function that streams: each chunk it writes is a PayloadChunk event.
status, hs, events, _ = invoke(stream_url, b'"hi"', headers={"X-Amz-Log-Type": "Tail"})
check("status", status == 200, status)
check("content type", hs.get("content-type") == "application/vnd.amazon.eventstream", hs)
check("version and request id", hs.get("x-amz-executed-version") == "$LATEST" and len(hs.get("x-amzn-requestid", "")) == 36, hs)
check("chunked to the caller", hs.get("transfer-encoding") == "chunked", hs)
# (What arrives in one read is one event: how the three chunks group
# depends on timing; "drip" below shows that they go out as they come.)
check("PayloadChunk events", b"".join(chunks(events)) == b'start\n"hi"\nend\n' and events[0][0] == "PayloadChunk", events)
done = complete(events)
check("success has no error", "ErrorCode" not in done and "ErrorDetails" not in done, done)
tail = base64.b64decode(done.get("LogResult", "")).decode()
check("Tail log", "START RequestId: " + hs["x-amzn-requestid"] in tail and "REPORT RequestId" in tail, tail)

# Failing in mid-stream: the chunks so far, then the error.
status, hs, events, _ = invoke(stream_url, b'"fail"')
done = complete(events)
check("mid-stream failure", chunks(events) == [b"start\n"] and done.get("ErrorCode") == "Function.StreamFailed", events)
details = json.loads(done["ErrorDetails"])
check("error details", details["errorMessage"] == "failed after the first chunk" and "LogResult" not in done, done)

# A buffered response is one PayloadChunk; keep-alive carries a second invoke.
conn = connect(fix_url)
for i in range(2):
    body = json.dumps({"buffered": i}).encode()
    status, hs, events, _ = invoke(fix_url, body, conn=conn)
    check("buffered response", status == 200 and chunks(events) == [body] and complete(events) == {}, events)

# A function error, a timeout and a crash end in InvokeComplete.
status, hs, events, _ = invoke(ctx_url, b'"fail"', name="arn:aws:lambda:us-east-1:123456789012:function:function:live")
done = complete(events)
check("function error", status == 200 and chunks(events) == [] and done.get("ErrorCode") == "Function.AskedToFail", events)
check("its error document", json.loads(done["ErrorDetails"])["errorType"] == "Function.AskedToFail", done)
status, hs, events, _ = invoke(fix1_url, b'"sleep"')
done = complete(events)
check("timeout", done.get("ErrorCode") == "Sandbox.Timedout" and "Task timed out after 1.00 seconds" in done["ErrorDetails"], done)
status, hs, events, _ = invoke(fix_url, b'"crash"')
done = complete(events)
check("crash", done.get("ErrorCode") == "Runtime.ExitError" and "exit status 3" in done["ErrorDetails"], done)

# Relayed as it arrives: the function sends its second chunk only once this
# caller has the first (it waits for a file that is created on receipt).
def first_seen(ev):
    if chunks([ev]) == [b"first\n"]:
        open(drip_file, "w").close()


status, hs, events, _ = invoke(fix_url, b'"drip"', on_event=first_seen)
check("streamed as it arrives", chunks(events) == [b"first\n", b"second\n"] and complete(events) == {}, events)
check("drip file made", os.path.exists(drip_file))

# Service errors are plain AWS errors, not streams.
status, hs, _, body = invoke(stream_url, b"{}", headers={"X-Amz-Invocation-Type": "Event"})
check("no Event streaming", status == 400 and hs.get("x-amzn-errortype") == "InvalidParameterValueException", (status, hs, body))
status, hs, _, body = invoke(stream_url, b"{}", headers={"X-Amz-Invocation-Type": "DryRun"})
check("dry run", status == 204, status)
status, hs, _, body = invoke(stream_url, b"{}", name="nope")
check("unknown function", status == 404 and hs.get("x-amzn-errortype") == "ResourceNotFoundException", (status, body))

print(f"eventstream: {checks} checks passed")
