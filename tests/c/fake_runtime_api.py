"""A small fake Lambda Runtime API (2018-06-01) for the C tests.

Python 3 standard library only. It serves a fixed list of events on
GET /runtime/invocation/next (Content-Length or chunked framing, any
headers), records every POST to /response, /error and /init/error (chunked
bodies and trailers included), and answers 500 to /next once the events run
out, so a runtime exits. Anything else it is sent is recorded as unexpected.

    api = FakeRuntimeAPI([Event("id-1", b'{"a":1}')], prefix="/pre")
    api.start()   # listens on 127.0.0.1, a free port: api.address
    ...           # run a bootstrap with AWS_LAMBDA_RUNTIME_API=api.address
    api.stop()
    api.posts, api.unexpected, api.next_calls
"""

import http.server
import threading
import urllib.parse

API = "/2018-06-01/runtime"


class Event:
    """One invocation served on /next.

    headers: extra response headers (name, value), e.g. the context ones;
    chunks: None for Content-Length framing, or a list of chunk sizes to cut
    the body into (with a chunk extension on each and a trailer at the end).
    """

    def __init__(self, request_id, body, headers=(), chunks=None):
        self.request_id = request_id
        self.body = body
        self.headers = list(headers)
        self.chunks = chunks


class Post:
    """One recorded POST."""

    def __init__(self, kind, request_id, headers, body, trailers):
        self.kind = kind              # "response", "error" or "init_error"
        self.request_id = request_id  # None for init_error
        self.headers = headers        # {lower-case name: value}
        self.body = body              # bytes, de-chunked
        self.trailers = trailers      # {lower-case name: value}
        self.chunked = "chunked" in headers.get("transfer-encoding", "").lower()

    def __repr__(self):
        return "Post(%s, %r, %d bytes, trailers=%r)" % (self.kind, self.request_id, len(self.body), self.trailers)


def chunked(body, sizes):
    """Encodes body as HTTP/1.1 chunks of the given sizes (the last repeats),
    each with a chunk extension, and a trailer after the last chunk."""
    out, at, i = [], 0, 0
    while at < len(body):
        n = sizes[min(i, len(sizes) - 1)]
        piece = body[at:at + n]
        out.append(b"%x;chunk=%d\r\n%s\r\n" % (len(piece), i, piece))
        at += len(piece)
        i += 1
    out.append(b"0\r\nX-Fake-Trailer: done\r\n\r\n")
    return b"".join(out)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real Runtime API

    def log_message(self, fmt, *args):  # quiet: the test prints what matters
        pass

    def _reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _path(self):
        """The path below the prefix, or None if it is not under it."""
        path = urllib.parse.urlsplit(self.path).path
        prefix = self.server.api.prefix + API
        return path[len(prefix):] if path.startswith(prefix + "/") else None

    def _read_body(self):
        """Reads the request body; returns (body, trailers)."""
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" not in te.lower():
            n = int(self.headers.get("Content-Length", "0"))
            return self.rfile.read(n), {}
        body, trailers = [], {}
        while True:
            line = self.rfile.readline()
            if not line.endswith(b"\r\n"):
                raise ValueError("chunk size line not ended by CRLF: %r" % line)
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                break
            body.append(self.rfile.read(size))
            if self.rfile.read(2) != b"\r\n":
                raise ValueError("chunk data not followed by CRLF")
        while True:
            line = self.rfile.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            trailers[name.strip().lower()] = value.strip()
        return b"".join(body), trailers

    def do_GET(self):
        api = self.server.api
        if self._path() != "/invocation/next":
            api.record_unexpected("GET %s" % self.path)
            return self._reply(404, b'{"errorType":"NotFound"}')
        event = api.take_event()
        if event is None:
            # Out of events: the Runtime API's "exit promptly".
            return self._reply(500, b'{"errorType":"Fake.Done","errorMessage":"no more events"}')
        self.send_response(200)
        for name, value in event.headers:
            self.send_header(name, value)
        if event.chunks:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(chunked(event.body, event.chunks))
        else:
            self.send_header("Content-Length", str(len(event.body)))
            self.end_headers()
            self.wfile.write(event.body)

    def do_POST(self):
        api = self.server.api
        path = self._path()
        try:
            body, trailers = self._read_body()
        except ValueError as e:
            api.record_unexpected("POST %s: bad body: %s" % (self.path, e))
            self.close_connection = True
            return self._reply(400)
        headers = {k.lower(): v for k, v in self.headers.items()}
        parts = (path or "").split("/")
        if path == "/init/error":
            api.record(Post("init_error", None, headers, body, trailers))
        elif len(parts) == 4 and parts[1] == "invocation" and parts[3] in ("response", "error"):
            request_id = urllib.parse.unquote(parts[2])
            api.record(Post(parts[3], request_id, headers, body, trailers))
        elif self.path.endswith("/2020-01-01/extension/register"):
            # A runtime's graceful-shutdown extension: this fake has no
            # Extensions API, which the runtime must survive (it logs it).
            api.extension_registrations += 1
            return self._reply(404, b'{"errorType":"NotFound"}')
        else:
            api.record_unexpected("POST %s" % self.path)
            return self._reply(404, b'{"errorType":"NotFound"}')
        self._reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])

    def do_PUT(self):
        self.server.api.record_unexpected("PUT %s" % self.path)
        self.close_connection = True
        self._reply(405)


class FakeRuntimeAPI:
    def __init__(self, events, prefix=""):
        self.prefix = prefix.rstrip("/")
        self._events = list(events)
        self._lock = threading.Lock()
        self.posts = []
        self.unexpected = []
        self.extension_registrations = 0
        self.next_calls = 0
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.api = self
        self._thread = None

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def take_event(self):
        with self._lock:
            self.next_calls += 1
            return self._events.pop(0) if self._events else None

    def record(self, post):
        with self._lock:
            self.posts.append(post)

    def record_unexpected(self, what):
        with self._lock:
            self.unexpected.append(what)
