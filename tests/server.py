#!/usr/bin/env python3
"""A small OpenAI-compatible server for the ragpipe tests, with faults on demand.

    server.py [--port N] [--dim N] [--log FILE] [--latency MS] [--shuffle]
              [--require-key KEY] [--error-string] [--retry-after SPEC]
              [--tls CERT:KEY]
              [--fail KIND:N | --fail KIND@I,J,...]...

Prints "PORT n" as its first line on stdout once it listens on 127.0.0.1
(HTTPS with --tls, given PEM certificate and key files).

Endpoints: POST /v1/embeddings and /embeddings (OpenAI request and answer
shapes; "input" a string or a list of strings; encoding_format "float" or
"base64"), GET /v1/models and /health. Vectors are deterministic: the same
text gives the same L2-normalised vector, whatever the batch around it.

Requests are numbered from 1 in the order they arrive (all endpoints).
--fail KIND:N applies the fault to requests 1..N, --fail KIND@3,5 to requests
3 and 5; with several --fail flags the first that matches a request wins.
KIND is one of
    a status code    answer with it and an OpenAI-style error body
                     (429 and 503 carry Retry-After, see --retry-after)
    drop             read the request, close the connection without a word
    truncate         announce the full length, send half the body, close
    malformed        200 with a body that is not JSON
    count            200 with one vector too few
    dim              200 with vectors one longer than --dim
    nan              200 with a NaN in the first vector
    hang             accept and never answer (until the client goes away)
    huge             200 and an endless body

--log FILE gets one line per request, written before the answer starts:
    n=3 path=/v1/embeddings inputs=2 auth=ok|bad|none|- inflight=2 fault=- status=200 ms=12
auth is "-" when no --require-key was given; the key itself is never logged.
inflight counts the requests being handled when this one arrived, itself
included; a request stops counting just before its answer is sent, so a
client that starts the next one when an answer arrives never sees it counted
twice.

To add an endpoint (/v1/chat/completions): write a method taking the
parsed request and returning (status, body object), and add it to ROUTES.
"""

import argparse
import base64
import email.utils
import hashlib
import json
import math
import select
import socket
import ssl
import struct
import zlib
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("drop", "truncate", "malformed", "count", "dim", "nan", "hang", "huge")


def parse_fail(spec):
    """KIND:N or KIND@I,J -> (kind, predicate on the request number)."""
    if "@" in spec:
        kind, _, nums = spec.partition("@")
        wanted = {int(x) for x in nums.split(",") if x}
        match = wanted.__contains__
    elif ":" in spec:
        kind, _, n = spec.rpartition(":")
        first = int(n)
        match = lambda i, first=first: i <= first
    else:
        raise argparse.ArgumentTypeError(f"{spec}: expected KIND:N or KIND@I,J")
    if kind not in FAULTS and not (kind.isdigit() and 100 <= int(kind) <= 599):
        raise argparse.ArgumentTypeError(f"{kind}: unknown fault")
    return kind, match


def vector(text, dim):
    """Deterministic, finite, L2-normalised, from a hash of the text."""
    out = []
    block = 0
    while len(out) < dim:
        h = hashlib.sha256(f"{block}\0{text}".encode("utf-8", "surrogatepass")).digest()
        for i in range(0, len(h), 4):
            if len(out) == dim:
                break
            (u,) = struct.unpack(">I", h[i:i + 4])
            out.append(u / 2**31 - 1.0)
        block += 1
    norm = math.sqrt(sum(x * x for x in out)) or 1.0
    return [x / norm for x in out]


class State:
    def __init__(self, opts):
        self.opts = opts
        self.lock = threading.Lock()
        self.count = 0
        self.inflight = 0
        self.log = open(opts.log, "a", encoding="utf-8") if opts.log else None

    def arrive(self):
        with self.lock:
            self.count += 1
            self.inflight += 1
            return self.count, self.inflight

    def leave(self):
        with self.lock:
            self.inflight -= 1

    def fault(self, n):
        for kind, match in self.opts.fail:
            if match(n):
                return kind
        return None

    def write_log(self, line):
        if self.log:
            with self.lock:
                self.log.write(line + "\n")
                self.log.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ragpipe-test-server"

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            # here, not in accept(): a client that stalls the handshake
            # must not hold up the others
            self.request.settimeout(10)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()
        # Headers and body go out in two writes: without this, Nagle and the
        # client's delayed ACK add 40 ms to every answer on a kept-alive
        # connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # quiet: the log file says enough
        pass

    # -- plumbing -----------------------------------------------------------

    def do_GET(self):
        self.handle_request(None)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.handle_request(self.rfile.read(length) if length else b"")

    def auth_state(self):
        want = self.server.state.opts.require_key
        if want is None:
            return "-"
        got = self.headers.get("Authorization")
        if got is None:
            return "none"
        return "ok" if got == f"Bearer {want}" else "bad"

    def left(self):
        """This request stops counting as in flight (once)."""
        if not self.counted_out:
            self.counted_out = True
            self.server.state.leave()

    def handle_request(self, raw):
        st = self.server.state
        opts = st.opts
        self.t0 = time.monotonic()
        self.counted_out = False
        n, inflight = st.arrive()
        path = self.path.split("?", 1)[0]
        req, inputs = None, 0
        if raw:
            try:
                req = json.loads(raw)
                inp = req.get("input") if isinstance(req, dict) else None
                inputs = 1 if isinstance(inp, str) else len(inp) if isinstance(inp, list) else 0
            except ValueError:
                req = None
        auth = self.auth_state()
        kind = st.fault(n)
        status = 200
        try:
            if opts.latency:
                time.sleep(opts.latency / 1000)
            route = ROUTES.get((self.command, path))
            if route is None:
                status, body = 404, error_body(f"no route for {self.command} {path}", "not_found")
                kind = None
            elif auth in ("none", "bad"):
                status = 401
                # Like some servers, it echoes what it was given: the
                # client must keep the key out of its own messages.
                got = self.headers.get("Authorization") or ""
                body = error_body(f"Incorrect API key provided: {got.removeprefix('Bearer ')}"
                                  if got else "You didn't provide an API key.", "invalid_request_error")
                kind = None
            elif kind is not None and kind.isdigit():
                status = int(kind)
                body = error_body(f"injected fault: HTTP {status}",
                                  "server_error" if status >= 500 else "rate_limit_exceeded" if status == 429
                                  else "invalid_request_error")
            elif raw is not None and req is None:
                status, body = 400, error_body("the request body is not JSON", "invalid_request_error")
            else:
                status, body = route(self, req)
            self.log_line(n, path, inputs, auth, inflight, kind, status)
            if kind is None or kind.isdigit():
                self.send_json(status, body)
            else:
                getattr(self, "fault_" + kind)(status, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            self.left()

    def log_line(self, n, path, inputs, auth, inflight, kind, status):
        ms = int((time.monotonic() - self.t0) * 1000)
        self.server.state.write_log(f"n={n} path={path} inputs={inputs} auth={auth} inflight={inflight} "
                                    f"fault={kind or '-'} status={status} ms={ms}")

    def send_json(self, status, body, extra=()):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.left()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status in (429, 503):
            self.send_header("Retry-After", self.retry_after())
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def retry_after(self):
        spec = self.server.state.opts.retry_after
        if spec.startswith("date:"):
            return email.utils.formatdate(time.time() + float(spec[5:]), usegmt=True)
        return spec

    # -- faults ---------------------------------------------------------------

    def fault_drop(self, status, body):
        self.left()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def fault_truncate(self, status, body):
        data = json.dumps(body).encode()
        self.left()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def fault_malformed(self, status, body):
        self.send_json(200, b'{"object":"list","data":[{"embedding":[0.1,')

    def fault_count(self, status, body):
        if isinstance(body.get("data"), list) and body["data"]:
            body["data"].pop()
        self.send_json(status, body)

    def fault_dim(self, status, body):
        for d in body.get("data", []):
            if isinstance(d.get("embedding"), list):
                d["embedding"].append(0.0)
        self.send_json(status, body)

    def fault_nan(self, status, body):
        data = body.get("data", [])
        if data and isinstance(data[0].get("embedding"), list):
            data[0]["embedding"][0] = float("nan")
        # json.dumps writes NaN, which is not JSON: what a broken server sends
        self.send_json(status, json.dumps(body).encode())

    def fault_hang(self, status, body):
        self.left()
        self.close_connection = True
        # Wait for the client to give up (EOF), or an hour.
        end = time.monotonic() + 3600
        while time.monotonic() < end:
            r, _, _ = select.select([self.connection], [], [], 0.2)
            if r and not self.connection.recv(65536, socket.MSG_PEEK):
                return
            if r:
                self.connection.recv(65536)

    def fault_huge(self, status, body):
        self.left()
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Connection", "close")
        self.end_headers()  # no length: the body ends when the connection does
        self.wfile.write(b'{"object":"list","data":[{"object":"embedding","index":0,"embedding":[')
        chunk = b"0.0," * 16384
        while True:
            self.wfile.write(chunk)

    # -- endpoints ------------------------------------------------------------

    def embeddings(self, req):
        opts = self.server.state.opts
        if not isinstance(req, dict) or "input" not in req:
            return 400, error_body("'input' is required", "invalid_request_error")
        inp = req["input"]
        if isinstance(inp, str):
            inp = [inp]
        if not isinstance(inp, list) or not inp or not all(isinstance(s, str) for s in inp):
            return 400, error_body("'input' must be a string or a non-empty list of strings", "invalid_request_error")
        fmt = req.get("encoding_format", "float")
        if opts.cheap and fmt == "float" and not opts.shuffle:
            # A server for throughput measurements: 256 vectors made once,
            # picked by a checksum of the text, spliced in as bytes, so that
            # the client, not this Python process, is what gets measured.
            pre = CHEAP.get(opts.dim)
            if pre is None:
                pre = CHEAP[opts.dim] = [json.dumps(vector(str(k), opts.dim)).encode() for k in range(256)]
            items = b",".join(b'{"object":"embedding","index":%d,"embedding":%s}' % (i, pre[zlib.crc32(t.encode("utf-8", "surrogatepass")) & 255])
                              for i, t in enumerate(inp))
            return 200, b'{"object":"list","data":[' + items + b'],"model":' + json.dumps(req.get("model")).encode() + b"}"
        data = []
        for i, text in enumerate(inp):
            v = vector(text, opts.dim)
            if fmt == "base64":
                v = base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode()
            data.append({"object": "embedding", "index": i, "embedding": v})
        if opts.shuffle:
            data.reverse()
        tokens = sum(len(s) // 4 + 1 for s in inp)
        return 200, {"object": "list", "data": data, "model": req.get("model"),
                     "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}

    def models(self, req):
        return 200, {"object": "list", "data": [{"id": "test-embed", "object": "model", "owned_by": "ragpipe"}]}

    def health(self, req):
        return 200, {"status": "ok"}


def error_body(message, kind):
    if STATE.opts.error_string:
        return {"error": message}
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


ROUTES = {
    ("POST", "/v1/embeddings"): Handler.embeddings,
    ("POST", "/embeddings"): Handler.embeddings,
    ("GET", "/v1/models"): Handler.models,
    ("GET", "/models"): Handler.models,
    ("GET", "/health"): Handler.health,
}

STATE = None
CHEAP = {}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops the SYNs of a client opening more
    # connections at once, and each dropped one costs a second.
    request_queue_size = 128


def main():
    global STATE
    ap = argparse.ArgumentParser(description="OpenAI-compatible test server with fault injection")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    ap.add_argument("--dim", type=int, default=8, help="embedding dimension (default 8)")
    ap.add_argument("--shuffle", action="store_true", help="return the data array in reverse order")
    ap.add_argument("--cheap", action="store_true",
                    help="answer from 256 vectors made at start (picked by a checksum of each text), for measuring clients")
    ap.add_argument("--fail", type=parse_fail, action="append", default=[], metavar="KIND:N|KIND@I,J")
    ap.add_argument("--latency", type=int, default=0, metavar="MS", help="sleep this long in every request")
    ap.add_argument("--require-key", metavar="KEY", help="answer 401 unless Authorization: Bearer KEY")
    ap.add_argument("--error-string", action="store_true", help='error bodies as {"error":"..."}')
    ap.add_argument("--retry-after", default="1", metavar="SECONDS|date:SECONDS",
                    help="Retry-After sent with 429 and 503 (date: as an HTTP-date that far ahead)")
    ap.add_argument("--log", metavar="FILE", help="append one line per request")
    ap.add_argument("--tls", metavar="CERT:KEY", help="serve HTTPS with this PEM certificate and key")
    opts = ap.parse_args()
    if opts.dim < 1:
        ap.error("--dim must be at least 1")

    STATE = State(opts)
    server = Server(("127.0.0.1", opts.port), Handler)
    if opts.tls:
        cert, _, key = opts.tls.partition(":")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key or None)
        server.socket = ctx.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    server.state = STATE
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
