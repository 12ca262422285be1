"""`make rie-figures`: faas-rie's figures, measured (not asserted).

- added latency per invocation: end-to-end invoke time through faas-rie
  minus the REPORT Duration (the bootstrap's own Runtime API round trip,
  /next answered to /response received), i.e. the Invoke API hop and the
  hand-over; the Python client's own overhead is included (an upper bound);
- invocations per second, one keep-alive client, one runtime;
- time from `podman run` to the first answered invoke of the scratch image;
- image sizes (unpacked, and compressed as a registry stores it).
"""
import argparse
import os
import re
import socket
import statistics
import subprocess
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("--rie", required=True)
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


# --- latency and throughput, on the host ---
tmp = tempfile.mkdtemp(prefix="rie-figures-")
out, err = open(os.path.join(tmp, "out"), "w+"), open(os.path.join(tmp, "err"), "w+")
rie = subprocess.Popen([a.rie, "--listen", "127.0.0.1:0", "--runtime-api", "127.0.0.1:0", "--", a.bootstrap], stdout=out, stderr=err)
try:
    port = None
    for _ in range(500):
        m = re.search(r"Invoke API on http://127\.0\.0\.1:(\d+)", open(err.name).read())
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.01)
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for _ in range(200):  # warm up (and start the runtime)
        s.sendall(REQ)
        read_response(s)
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
    fn_us = statistics.median(durs) * 1e3
    print(f"invoke end to end (median of {a.n}):      {e2e_us:8.1f} us")
    print(f"REPORT Duration, runtime round trip:      {fn_us:8.1f} us")
    print(f"faas-rie added latency per invocation:    {e2e_us - fn_us:8.1f} us (upper bound: includes this Python client)")
    print(f"invocations per second (1 client, 1 runtime): {a.n / total:8.0f}")
finally:
    rie.terminate()
    rie.wait(10)

# --- the container ---
eng = a.engine
tag = "localhost/faas-echo:figures"
# As `make image` builds it: podman leaves out the history and its label.
lean = ["--no-cache"] + (["--omit-history", "--identity-label=false"] if os.path.basename(eng) == "podman" else [])
subprocess.run([eng, "build", "-q", *lean, "-t", tag, "-f", "containers/Containerfile", a.context], check=True, stdout=subprocess.DEVNULL)
runflags = ["--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"] if eng.endswith("podman") else []
starts = []
for _ in range(3):
    t0 = time.perf_counter()
    cid = subprocess.run([eng, "run", *runflags, "-d", "--rm", "-p", "127.0.0.1::8080", tag], check=True, capture_output=True, text=True).stdout.strip()
    port = int(subprocess.run([eng, "port", cid, "8080"], check=True, capture_output=True, text=True).stdout.strip().rsplit(":", 1)[1])
    while True:
        try:
            if invoke_once(port):
                break
        except OSError:
            pass
        time.sleep(0.002)
    starts.append(time.perf_counter() - t0)
    subprocess.run([eng, "rm", "-f", "-t", "2", cid], capture_output=True)
print(f"{eng} run to first answered invoke (median of 3): {statistics.median(starts) * 1000:6.0f} ms")

unpacked = int(subprocess.run([eng, "image", "inspect", "--format", "{{.Size}}", tag], check=True, capture_output=True, text=True).stdout)
oci = tempfile.mkdtemp(prefix="rie-oci-")
packed = None
if eng.endswith("podman"):
    subprocess.run([eng, "push", "-q", "--compression-format", "gzip", tag, f"oci:{oci}/l"], check=True, capture_output=True)
    packed = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(oci) for f in fs)
print(f"scratch image (echo + faas-rie): {unpacked} bytes unpacked" + (f", {packed} bytes compressed (budget 65536)" if packed else ""))
print(f"faas-rie binary: {os.path.getsize(a.rie)} bytes; echo bootstrap: {os.path.getsize(a.bootstrap)} bytes")
