"""boto3 (unchanged, Debian python3-boto3) against two faas-rie instances:
argv[1] serves examples/context.c, argv[2] the fixture with a 1 s timeout.
Exits non-zero on the first failed check."""
import base64
import json
import sys
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

ctx_url, fix_url = sys.argv[1], sys.argv[2]
cfg = Config(read_timeout=120, connect_timeout=5)


def client(url):
    return boto3.client("lambda", endpoint_url=url, region_name="us-east-1", config=cfg)


ctx, fix = client(ctx_url), client(fix_url)
checks = 0


def check(name, ok, detail=""):
    global checks
    if not ok:
        sys.exit(f"boto3 check failed: {name}: {detail}")
    checks += 1


r = ctx.invoke(FunctionName="function", Payload=b'{"a":1}')
body = json.loads(r["Payload"].read())
check("success", r["StatusCode"] == 200 and r["ExecutedVersion"] == "$LATEST" and "FunctionError" not in r, r)

r = ctx.invoke(FunctionName="function", Payload=b'"fail"', LogType="Tail")
err = json.loads(r["Payload"].read())
check("function error", r["FunctionError"] == "Unhandled" and err["errorType"] == "Function.AskedToFail", err)
tail = base64.b64decode(r["LogResult"]).decode()
check("tail", "invocation 2, request" in tail and "REPORT RequestId" in tail, tail)

r = ctx.invoke(FunctionName="function", InvocationType="Event", Payload=b"{}")
check("event", r["StatusCode"] == 202, r)
r = ctx.invoke(FunctionName="function", InvocationType="DryRun", Payload=b"{}")
check("dry run", r["StatusCode"] == 204, r)

try:
    ctx.invoke(FunctionName="nope", Payload=b"{}")
    check("unknown function", False, "no error")
except ctx.exceptions.ResourceNotFoundException:
    check("unknown function", True)

try:
    ctx.invoke(FunctionName="function", Payload=b'"' + b"a" * (6 * 1024 * 1024) + b'"')
    check("too large", False, "no error")
except ctx.exceptions.RequestTooLargeException:
    check("too large", True)

r = fix.invoke(FunctionName="function", Payload=b'"sleep"')
err = json.loads(r["Payload"].read())
check("timeout", r.get("FunctionError") == "Unhandled" and err["errorType"] == "Sandbox.Timedout", err)

r = fix.invoke(FunctionName="function", Payload=b'"crash"')
err = json.loads(r["Payload"].read())
r2 = fix.invoke(FunctionName="function", Payload=b'{"ok":1}')
check("crash, recovery", err["errorType"] == "Runtime.ExitError" and json.loads(r2["Payload"].read()) == {"ok": 1}, err)

# The Event above ran as invocation 3 (after two synchronous ones); these 20
# must be 4..23, each once, whatever the SDK's retry policy.
with ThreadPoolExecutor(20) as pool:
    rs = list(pool.map(lambda i: json.loads(ctx.invoke(FunctionName="function", Payload=json.dumps({"n": i}).encode())["Payload"].read()), range(20)))
ids = {r["request_id"] for r in rs}
counts = sorted(r["invocations"] for r in rs)
check("20 concurrent", len(ids) == 20 and counts == list(range(4, 24)), counts)

print(f"boto3: {checks} checks passed")
