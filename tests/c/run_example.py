"""Runs one bootstrap against the fake Runtime API and checks what it posted.

    python3 tests/c/run_example.py SCENARIO -- COMMAND [ARGS...]

SCENARIO is echo, context, context-init-error or stream (the C examples of
the same names). COMMAND is the bootstrap, perhaps wrapped (valgrind ...).
The run passes when every invocation got the right answer, nothing
unexpected reached the API, the bootstrap exited with status 1 after the
final 500 from /next, and its stderr holds no sanitizer or valgrind report.
Exit status 0 on success, 1 with a list of failures otherwise.
"""

import base64
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_runtime_api import Event, FakeRuntimeAPI  # noqa: E402

TIMEOUT = 120  # seconds; a hang is a failure, never a wait forever

TRACE = "Root=1-5e1b4151-5ac6c58f3aa4b2d4a5e2a6f1;Parent=1234567890abcdef;Sampled=1"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:fake-fn:$LATEST"
CLIENT_CONTEXT = '{"client":{"installation_id":"inst-1"},"custom":{"k":"v:w"},"env":{"platform":"x"}}'
COGNITO = '{"cognitoIdentityId":"us-east-1:abc","cognitoIdentityPoolId":"us-east-1:pool"}'
TENANT = "tenant-42"


def events():
    """The events the scenarios draw on, with a fresh deadline."""
    deadline = int(time.time() * 1000) + 300_000
    big = b'{"data":"' + b"0123456789abcdef" * 9375 + b'"}'  # 150,011 bytes
    return {
        "min": Event("req-min-0001", b'{"hello":"world"}', [("Lambda-Runtime-Aws-Request-Id", "req-min-0001")]),
        # Every context header, names in mixed case, values with ':' and ';'.
        "all": Event("req-all-0002", b'{"key":"value with \\"quotes\\"","n":[1,2,3]}', [
            ("Lambda-Runtime-Aws-Request-Id", "req-all-0002"),
            ("lambda-runtime-deadline-ms", str(deadline)),
            ("Lambda-Runtime-Invoked-Function-Arn", ARN),
            ("LAMBDA-RUNTIME-TRACE-ID", TRACE),
            ("Lambda-Runtime-Client-Context", CLIENT_CONTEXT),
            ("Lambda-Runtime-Cognito-Identity", COGNITO),
            ("Lambda-Runtime-Aws-Tenant-Id", TENANT),
        ]),
        # Chunked, as Lambda sends events of about 100 KB and more: chunk
        # sizes from 1 byte up, an extension on each chunk and a trailer.
        "chunked": Event("req-chunked-0003", big, [("Lambda-Runtime-Aws-Request-Id", "req-chunked-0003")],
                         chunks=[1, 7, 300, 4096, 65536]),
        "empty": Event("req-empty-0004", b"", [("Lambda-Runtime-Aws-Request-Id", "req-empty-0004")]),
        "binary": Event("req-binary-0005", "\"é€😀\"\x00\x01\xff".encode("utf-8", "surrogatepass"),
                        [("Lambda-Runtime-Aws-Request-Id", "req-binary-0005")]),
        "fail": Event("req-fail-0006", b'"fail"', [("Lambda-Runtime-Aws-Request-Id", "req-fail-0006")]),
    }, deadline


class Checker:
    def __init__(self):
        self.failures = []

    def eq(self, what, got, want):
        if got != want:
            g, w = repr(got), repr(want)
            self.failures.append("%s: got %s, want %s" % (what, g[:300], w[:300]))

    def true(self, what, cond):
        if not cond:
            self.failures.append(what)


def one_post(c, api, request_id, kind):
    posts = [p for p in api.posts if p.request_id == request_id]
    c.eq("posts for %s" % request_id, [p.kind for p in posts], [kind])
    return posts[0] if len(posts) == 1 and posts[0].kind == kind else None


def error_doc(c, what, raw, error_type, message):
    try:
        doc = json.loads(raw)
    except ValueError as e:
        c.failures.append("%s: error body is not JSON (%s): %r" % (what, e, raw[:200]))
        return
    c.eq(what + " error body", doc, {"errorMessage": message, "errorType": error_type, "stackTrace": []})


def check_echo(c, api, ev, _deadline):
    for name in ("min", "all", "chunked", "empty", "binary"):
        p = one_post(c, api, ev[name].request_id, "response")
        if p:
            c.eq("echo %s: body" % name, p.body, ev[name].body)
            c.eq("echo %s: content type" % name, p.headers.get("content-type"), "application/json")


def check_context(c, api, ev, deadline):
    def response(name):
        p = one_post(c, api, ev[name].request_id, "response")
        if not p:
            return None
        try:
            return json.loads(p.body)
        except ValueError as e:
            c.failures.append("context %s: response is not JSON (%s): %r" % (name, e, p.body[:300]))
            return None

    r = response("all")
    if r:
        remaining = r.pop("remaining_ms", None)
        c.eq("context all", r, {
            "request_id": "req-all-0002", "function_arn": ARN, "trace_id": TRACE, "env_trace_id": TRACE,
            "client_context": CLIENT_CONTEXT, "cognito_identity": COGNITO, "tenant_id": TENANT,
            "deadline_ms": deadline, "event_bytes": len(ev["all"].body), "invocations": 1,
        })
        c.true("context all: remaining_ms %r not in (0, 300000]" % remaining,
               isinstance(remaining, int) and 0 < remaining <= 300_000)
    r = response("min")
    if r:
        # No trace id this time: _X_AMZN_TRACE_ID must have been unset.
        c.eq("context min", r, {
            "request_id": "req-min-0001", "function_arn": None, "trace_id": None, "env_trace_id": None,
            "client_context": None, "cognito_identity": None, "tenant_id": None,
            "deadline_ms": 0, "remaining_ms": 0, "event_bytes": len(ev["min"].body), "invocations": 2,
        })
    r = response("chunked")
    if r:
        c.eq("context chunked: event_bytes", r.get("event_bytes"), len(ev["chunked"].body))
        c.eq("context chunked: invocations", r.get("invocations"), 3)
    p = one_post(c, api, ev["fail"].request_id, "error")
    if p:
        c.eq("context fail: error type header", p.headers.get("lambda-runtime-function-error-type"),
             "Function.AskedToFail")
        error_doc(c, "context fail", p.body, "Function.AskedToFail",
                  'the event asked to fail: "quotes", \\ and a\nnewline')


def check_init_error(c, api, _ev, _deadline):
    c.eq("init error: posts", [(p.kind, p.request_id) for p in api.posts], [("init_error", None)])
    if api.posts:
        p = api.posts[0]
        c.eq("init error: type header", p.headers.get("lambda-runtime-function-error-type"), "Function.BadConfig")
        error_doc(c, "init error", p.body, "Function.BadConfig", "FAIL_INIT is set")


def check_stream(c, api, ev, _deadline):
    for name in ("min", "chunked", "all"):
        p = one_post(c, api, ev[name].request_id, "response")
        if p:
            c.eq("stream %s: body" % name, p.body, b"start\n" + ev[name].body + b"\nend\n")
            c.true("stream %s: not chunked" % name, p.chunked)
            c.eq("stream %s: response mode" % name, p.headers.get("lambda-runtime-function-response-mode"),
                 "streaming")
            c.eq("stream %s: content type" % name, p.headers.get("content-type"), "text/plain")
            c.eq("stream %s: error trailers" % name,
                 {k: v for k, v in p.trailers.items() if k.startswith("lambda-runtime-function-error")}, {})
    p = one_post(c, api, ev["fail"].request_id, "response")
    if p:
        c.eq("stream fail: body", p.body, b"start\n")
        c.eq("stream fail: error type trailer", p.trailers.get("lambda-runtime-function-error-type"),
             "Function.StreamFailed")
        try:
            doc = base64.b64decode(p.trailers.get("lambda-runtime-function-error-body", ""), validate=True)
        except ValueError as e:
            c.failures.append("stream fail: error body trailer is not base64: %s" % e)
        else:
            error_doc(c, "stream fail", doc, "Function.StreamFailed", "failed after the first chunk")


# name: (events served in order, check, environment, address shape)
SCENARIOS = {
    "echo": (["min", "all", "chunked", "empty", "binary"], check_echo, {}, "plain"),
    "context": (["all", "min", "chunked", "fail"], check_context, {}, "prefix"),
    "context-init-error": (["min"], check_init_error, {"FAIL_INIT": "1"}, "plain"),
    "stream": (["min", "chunked", "fail", "all"], check_stream, {}, "plain"),
}

# Reports that must never appear on a bootstrap's stderr.
SANITIZER_REPORT = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:")


def main(argv):
    if len(argv) < 3 or argv[1] != "--" or argv[0] not in SCENARIOS:
        sys.exit("usage: run_example.py {%s} -- COMMAND..." % ",".join(SCENARIOS))
    scenario, command = argv[0], argv[2:]
    names, check, env_extra, shape = SCENARIOS[scenario]
    ev, deadline = events()
    prefix = "/fake-prefix" if shape == "prefix" else ""
    api = FakeRuntimeAPI([ev[n] for n in names], prefix=prefix).start()
    env = dict(os.environ, **env_extra)
    env.pop("_X_AMZN_TRACE_ID", None)
    env["AWS_LAMBDA_RUNTIME_API"] = ("http://%s%s/" % (api.address, prefix)) if prefix else api.address
    label = "%s: %s" % (scenario, " ".join(command))
    try:
        proc = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        api.stop()
        print("FAIL %s: still running after %d s (hang?); stderr:\n%s" % (label, TIMEOUT,
              (e.stderr or b"").decode("utf-8", "replace")[-3000:]))
        return 1
    api.stop()
    stderr = proc.stderr.decode("utf-8", "replace")

    c = Checker()
    c.eq("exit status (1 after the final 500 from /next)", proc.returncode, 1)
    c.eq("unexpected requests", api.unexpected, [])
    want_next = 0 if scenario == "context-init-error" else len(names) + 1
    c.eq("GET /next calls", api.next_calls, want_next)
    check(c, api, ev, deadline)
    report = SANITIZER_REPORT.search(stderr)
    if report:
        c.failures.append("sanitizer report on stderr (%r)" % report.group(0))
    if os.path.basename(command[0]) == "valgrind":
        summary = re.search(r"ERROR SUMMARY: (\d+) errors", stderr)
        c.true("valgrind: no clean 'ERROR SUMMARY: 0 errors' line", summary is not None and summary.group(1) == "0")
    if c.failures:
        print("FAIL %s" % label)
        for f in c.failures:
            print("  - " + f)
        print("  posts: %r" % api.posts)
        print("  stderr (last 4000 characters):\n" + stderr[-4000:])
        return 1
    print("ok   %s (%d invocations, %d posts)" % (label, len(names), len(api.posts)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
