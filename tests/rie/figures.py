"""`make rie-figures`: faas-rie's figures, measured (not asserted), and the
same for AWS's own emulator (aws-lambda-rie, `make aws-rie`) side by side,
with the same bootstrap, client and engine:

- an invoke's round trip end to end, one keep-alive client, one runtime
  (median; the Python client's own time is in it, alike for both);
- invocations per second, the same loop;
- faas-rie's added latency: that round trip minus the REPORT Duration (the
  bootstrap's own Runtime API round trip, /next answered to /response
  received), i.e. the Invoke API hop and the hand-over (an upper bound);
- time from `podman run` to the first answered invoke of a FROM-scratch
  image holding the emulator and the static echo (runs interleaved);
- those images' sizes (unpacked, and compressed as a registry stores it).
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--rie", required=True)
ap.add_argument("--aws-rie", help="aws-lambda-rie, to measure side by side")
ap.add_argument("--bootstrap", required=True)
ap.add_argument("--engine", default="podman")
ap.add_argument("--context", required=True)
ap.add_argument("-n", type=int, default=3000)
a = ap.parse_args()

REQ = b"POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 13\r\n\r\n{\"figure\":1} "


def read_response(s, buf=b""):
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, _, rest = buf.partition(b"\r\n\r\n")
    n = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(rest) < n:
        rest += s.recv(65536)
    return head, rest[n:]


def invoke_once(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(REQ)
        head, _ = read_response(s)
        return head.startswith(b"HTTP/1.1 200")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def host_figures(name, cmd, port):
    """Round trips through an emulator started as `cmd`, listening on `port`."""
    tmp = tempfile.mkdtemp(prefix="rie-figures-")
    out = open(os.path.join(tmp, "out"), "w+")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(1000):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.01)
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(200):  # warm up (and start the runtime)
            s.sendall(REQ)
            assert read_response(s)[0].startswith(b"HTTP/1.1 200"), name
        before = open(out.name).read().count("REPORT")
        lat = []
        t0 = time.perf_counter()
        for _ in range(a.n):
            t = time.perf_counter()
            s.sendall(REQ)
            read_response(s)
            lat.append(time.perf_counter() - t)
        total = time.perf_counter() - t0
        s.close()
        time.sleep(0.2)
        reports = open(out.name).read().split("\n")
        durs = [float(m.group(1)) for l in reports if (m := re.search(r"\tDuration: ([\d.]+) ms", l))][before:before + a.n]
        e2e_us = statistics.median(lat) * 1e6
        print(f"{name}: invoke end to end (median of {a.n}): {e2e_us:8.1f} us; invocations per second (1 client, 1 runtime): {a.n / total:6.0f}")
        return e2e_us, statistics.median(durs) * 1e3
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


# --- latency and throughput, on the host ---
port = free_port()
e2e_us, fn_us = host_figures("faas-rie", [a.rie, "--listen", f"127.0.0.1:{port}", "--runtime-api", "127.0.0.1:0", "--", a.bootstrap], port)
print(f"faas-rie: REPORT Duration, runtime round trip: {fn_us:8.1f} us")
print(f"faas-rie: added latency per invocation: {e2e_us - fn_us:8.1f} us (upper bound: includes this Python client)")
if a.aws_rie:
    port = free_port()
    cmd = [a.aws_rie, "--runtime-interface-emulator-address", f"127.0.0.1:{port}", "--runtime-api-address", f"127.0.0.1:{free_port()}", a.bootstrap]
    aws_us, _ = host_figures("aws-lambda-rie", cmd, port)
    print(f"round trip, aws-lambda-rie / faas-rie: {aws_us / e2e_us:.2f}")

# --- the containers ---
eng = a.engine
# As `make image` builds it: podman leaves out the history and its label.
lean = ["--no-cache"] + (["--omit-history", "--identity-label=false", "--layers=false"] if os.path.basename(eng) == "podman" else [])
images = {"faas-rie": ("localhost/faas-echo:figures", "containers/Containerfile", a.context)}
if a.aws_rie:
    ctx = tempfile.mkdtemp(prefix="rie-figures-aws-")
    shutil.copy(a.aws_rie, os.path.join(ctx, "aws-lambda-rie"))
    shutil.copy(a.bootstrap, os.path.join(ctx, "bootstrap"))
    with open(os.path.join(ctx, "Containerfile"), "w") as f:
        f.write('FROM scratch\nCOPY aws-lambda-rie bootstrap /\nENTRYPOINT ["/aws-lambda-rie", "/bootstrap"]\n')
    images["aws-lambda-rie"] = ("localhost/faas-echo:figures-aws-rie", os.path.join(ctx, "Containerfile"), ctx)
for tag, file, context in images.values():
    subprocess.run([eng, "rmi", tag], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # no unnamed leftovers
    subprocess.run([eng, "build", "-q", *lean, "-t", tag, "-f", file, context], check=True, stdout=subprocess.DEVNULL)
runflags = ["--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"] if eng.endswith("podman") else []
starts = {name: [] for name in images}
for _ in range(5):
    for name, (tag, _, _) in images.items():
        t0 = time.perf_counter()
        cid = subprocess.run([eng, "run", *runflags, "-d", "--rm", "-p", "127.0.0.1::8080", tag], check=True, capture_output=True, text=True).stdout.strip()
        port = int(subprocess.run([eng, "port", cid, "8080"], check=True, capture_output=True, text=True).stdout.strip().rsplit(":", 1)[1])
        while True:
            try:
                if invoke_once(port):
                    break
            except OSError:
                pass
            if time.perf_counter() - t0 > 60:
                raise SystemExit(f"{name}: no answer within 60 s")
            time.sleep(0.002)
        starts[name].append(time.perf_counter() - t0)
        subprocess.run([eng, "rm", "-f", "-t", "2", cid], capture_output=True)
for name, (tag, _, _) in images.items():
    unpacked = int(subprocess.run([eng, "image", "inspect", "--format", "{{.Size}}", tag], check=True, capture_output=True, text=True).stdout)
    packed = None
    if eng.endswith("podman"):
        oci = tempfile.mkdtemp(prefix="rie-oci-")
        subprocess.run([eng, "push", "-q", "--compression-format", "gzip", tag, f"oci:{oci}/l"], check=True, capture_output=True)
        packed = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(oci) for f in fs)
        shutil.rmtree(oci, ignore_errors=True)
    print(f"{name}: {eng} run to first answered invoke (median of 5, interleaved): {statistics.median(starts[name]) * 1000:6.0f} ms")
    print(f"{name}: scratch image (echo + emulator): {unpacked} bytes unpacked" + (f", {packed} bytes compressed" if packed else ""))
print(f"faas-rie binary: {os.path.getsize(a.rie)} bytes; echo bootstrap: {os.path.getsize(a.bootstrap)} bytes")
if a.aws_rie:
    print(f"aws-lambda-rie binary: {os.path.getsize(a.aws_rie)} bytes")
