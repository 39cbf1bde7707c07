#!/usr/bin/env python3
"""A small OpenAI-compatible server for the ragpipe tests, with faults on demand.

    server.py [--port N] [--dim N] [--log FILE] [--latency MS] [--shuffle]
              [--require-key KEY] [--error-string] [--retry-after SPEC]
              [--tls CERT:KEY] [--requests FILE] [--reply TEXT]...
              [--chunk-delay MS] [--finish REASON]
              [--fail KIND:N | --fail KIND@I,J,...]...

Prints "PORT n" as its first line on stdout once it listens on 127.0.0.1
(HTTPS with --tls, given PEM certificate and key files).

Endpoints: POST /v1/embeddings and /embeddings (OpenAI request and answer
shapes; "input" a string or a list of strings; encoding_format "float" or
"base64"), POST /v1/chat/completions and /chat/completions, GET /v1/models
and /health. Vectors are deterministic: the same text gives the same
L2-normalised vector, whatever the batch around it.

Chat completions answer deterministically. With --reply TEXT (repeatable)
request k gets the k-th text (cycling); otherwise the answer names the
passages it was given, one sentence each with its marker: it reads the last
user message's lines that start with "[n] " (rag-answer's numbered
passages) and answers "Passage n is from SOURCE [n]." for each, in order
(SOURCE: the rest of that line up to the first comma), or "I was given no
passages." With "stream": true the answer goes out as server-sent events
(a role chunk, the text a few characters per event, a chunk with
finish_reason, "data: [DONE]") in chunked transfer encoding, --chunk-delay
MS apart; finish_reason is "stop" or --finish REASON. --requests FILE gets
every chat request body, one JSON line each, so that tests can check the
prompt.

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
    cut              (chat, streamed) half the events, then the connection
                     is closed in the middle of a chunk
    early            (chat, streamed) half the events, then a clean end
                     without finish_reason or [DONE]
    sse              (chat, streamed) a line that is no event-stream field
                     in the middle of the stream
A chat request with "malformed" gets 200 with a body that is not JSON, or
(streamed) an event whose data is not JSON.

--log FILE gets one line per request, written before the answer starts:
    n=3 path=/v1/embeddings inputs=2 auth=ok|bad|none|- inflight=2 fault=- status=200 ms=12
auth is "-" when no --require-key was given; the key itself is never logged.
inflight counts the requests being handled when this one arrived, itself
included; a request stops counting just before its answer is sent, so a
client that starts the next one when an answer arrives never sees it counted
twice.

To add an endpoint: write a method taking the parsed request and returning
(status, body object), and add it to ROUTES.
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

FAULTS = ("drop", "truncate", "malformed", "count", "dim", "nan", "hang", "huge", "cut", "early", "sse")


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
        self.chats = 0
        self.inflight = 0
        self.log = open(opts.log, "a", encoding="utf-8") if opts.log else None
        self.requests = open(opts.requests, "a", encoding="utf-8") if opts.requests else None

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

    def write_request(self, req):
        if self.requests:
            with self.lock:
                self.requests.write(json.dumps(req, ensure_ascii=False) + "\n")
                self.requests.flush()


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
                if isinstance(req, dict) and isinstance(req.get("messages"), list):
                    inputs = len(req["messages"])
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
            if isinstance(body, Stream) and kind in (None, "cut", "early", "sse", "malformed"):
                self.send_stream(body, kind)
            elif kind is None or kind.isdigit():
                self.send_json(status, body)
            else:
                getattr(self, "fault_" + kind)(status, {"stream": True} if isinstance(body, Stream) else body)
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
        if isinstance(body, dict) and body.get("object") == "chat.completion":
            self.send_json(200, b'{"id":"x","object":"chat.completion","choices":[{"message":{"content":"par')
            return
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

    # the faults of streamed chat answers are in send_stream; elsewhere they
    # answer normally
    def fault_cut(self, status, body):
        self.send_json(status, body)

    fault_early = fault_sse = fault_cut

    def send_stream(self, stream, kind):
        """Server-sent events in chunked encoding, with the faults of a stream."""
        self.left()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        events = stream.events()
        half = max(1, len(events) // 2)
        delay = self.server.state.opts.chunk_delay / 1000

        def chunk(data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        for i, ev in enumerate(events):
            if i == half and kind == "cut":
                # a chunk announced and never finished, then the connection goes
                self.wfile.write(b"%x\r\n%s" % (len(ev) + 100, ev))
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if i == half and kind == "early":
                break
            if i == half and kind == "sse":
                chunk(b"this is not an event-stream line\n\n")
            if i == half and kind == "malformed":
                chunk(b'data: {"choices":[{"delta":{"content":"oops"}\n\n')
            chunk(ev)
            if delay:
                time.sleep(delay)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

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

    def chat(self, req):
        st = self.server.state
        opts = st.opts
        if not isinstance(req, dict) or not isinstance(req.get("messages"), list) or not req["messages"]:
            return 400, error_body("'messages' must be a non-empty list", "invalid_request_error")
        for m in req["messages"]:
            if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant") \
                    or not isinstance(m.get("content"), str):
                return 400, error_body("each message needs a role and a string content", "invalid_request_error")
        st.write_request(req)
        with st.lock:
            st.chats += 1
            k = st.chats
        if opts.reply:
            text = opts.reply[(k - 1) % len(opts.reply)]
        else:
            text = echo_passages(req["messages"][-1]["content"])
        finish = opts.finish or "stop"
        if req.get("stream") and not opts.ignore_stream:
            return 200, Stream(req.get("model"), text, finish)
        words = len(text.split())
        return 200, {"id": "chatcmpl-test", "object": "chat.completion", "created": 0, "model": req.get("model"),
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                  "finish_reason": finish}],
                     "usage": {"prompt_tokens": 1, "completion_tokens": words, "total_tokens": words + 1}}

    def models(self, req):
        return 200, {"object": "list", "data": [{"id": "test-embed", "object": "model", "owned_by": "ragpipe"}]}

    def health(self, req):
        return 200, {"status": "ok"}


def echo_passages(prompt):
    """One sentence per numbered passage of rag-answer's prompt."""
    out = []
    for line in prompt.split("\n"):
        if line.startswith("[") and "] " in line:
            n = line[1:line.index("] ")]
            if n.isdigit():
                source = line[line.index("] ") + 2:].split(",")[0].split("，")[0]
                out.append(f"Passage {n} is from {source} [{n}].")
    return " ".join(out) if out else "I was given no passages."


class Stream:
    """A streamed chat answer: its events, in order."""

    def __init__(self, model, text, finish):
        self.model, self.text, self.finish = model, text, finish

    def events(self):
        def ev(delta, finish=None):
            obj = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": self.model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n"
        out = [ev({"role": "assistant", "content": ""})]
        # a few characters at a time, cutting anywhere (in the middle of
        # "[1]", between the bytes of nothing: whole characters)
        for i in range(0, len(self.text), 3):
            out.append(ev({"content": self.text[i:i + 3]}))
        out.append(ev({}, self.finish))
        out.append(b"data: [DONE]\n\n")
        return out


def error_body(message, kind):
    if STATE.opts.error_string:
        return {"error": message}
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


ROUTES = {
    ("POST", "/v1/embeddings"): Handler.embeddings,
    ("POST", "/embeddings"): Handler.embeddings,
    ("POST", "/v1/chat/completions"): Handler.chat,
    ("POST", "/chat/completions"): Handler.chat,
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
    ap.add_argument("--requests", metavar="FILE", help="append every chat request body, one JSON line each")
    ap.add_argument("--reply", action="append", default=[], metavar="TEXT",
                    help="the chat answer (repeat: one per request, in order, cycling)")
    ap.add_argument("--chunk-delay", type=int, default=0, metavar="MS", help="pause between streamed events")
    ap.add_argument("--ignore-stream", action="store_true",
                    help='answer chat requests whole, as JSON, even with "stream": true')
    ap.add_argument("--finish", metavar="REASON", help="finish_reason of chat answers (default stop)")
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
