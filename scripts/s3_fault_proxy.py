#!/usr/bin/env python3
"""A small fault-injecting HTTP proxy for S3 tests: loopback only, bounded in time and connections.

    s3_fault_proxy.py UPSTREAM_URL [--slowdown P] [--reset P] [--latency P] [--max-latency-ms N]
                      [--fixed-latency-ms N]
                      [--seed N] [--lifetime S] [--max-connections N] [--tls-cert PEM --tls-key PEM]
                      [--control]

Listens on 127.0.0.1 (a free port, printed as "PORT <n>" on stdout once ready) and forwards each
request to UPSTREAM_URL unchanged (Host header included, so SigV4 signatures stay valid). Per
request, with the given probabilities: answers 503 SlowDown without forwarding; resets the
connection half-way through the request body (or, for bodiless requests, half-way through the
response body); sleeps up to --max-latency-ms before forwarding; with --fixed-latency-ms every request
sleeps that long first (a distant region's round trip). With --tls-cert/--tls-key it speaks
HTTPS to the client (plain HTTP to the upstream). Counts go to stderr on exit.

With --control a second loopback listener (printed as "CONTROL <n>", after "PORT <n>") changes the
faults while the proxy runs (the fault harness, scripts/chaos.py, drives it):

    GET  /stats     JSON counts: requests, slowdown, reset, latency, refused, forwarded, and the
                    multipart traffic seen (mpu_created, mpu_completed, mpu_aborted, parts, in_flight
                    requests)
    POST /faults    JSON body with any of slowdown, reset, latency (probabilities), max_latency_ms,
                    refuse_seconds (reset every connection at once for that long from now)
"""
import argparse
import http.client
import json
import random
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse

SLOWDOWN = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
            b"<Message>Please reduce your request rate.</Message><RequestId>FAULTPROXY</RequestId></Error>")


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("upstream")
    p.add_argument("--slowdown", type=float, default=0.0)
    p.add_argument("--reset", type=float, default=0.0)
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--max-latency-ms", type=int, default=200)
    p.add_argument("--fixed-latency-ms", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lifetime", type=float, default=300.0)
    p.add_argument("--max-connections", type=int, default=64)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--control", action="store_true")
    return p.parse_args()


ARGS = parse_args()
UP = urllib.parse.urlsplit(ARGS.upstream)
assert UP.hostname in ("127.0.0.1", "localhost", "::1"), "upstream must be on loopback"
RNG = random.Random(ARGS.seed)
RNG_LOCK = threading.Lock()
STATS = {"requests": 0, "slowdown": 0, "reset": 0, "latency": 0, "forwarded": 0, "absolute_form": 0,
         "refused": 0, "mpu_created": 0, "mpu_completed": 0, "mpu_aborted": 0, "parts": 0, "in_flight": 0,
         "by_operation": {}}
STATS_LOCK = threading.Lock()
REFUSE_UNTIL = [0.0]  # monotonic time until which every connection is reset at once


def count(name, delta=1):
    with STATS_LOCK:
        STATS[name] += delta


def count_operation(method, target):
    """Requests by S3 operation, roughly: LIST (GET with list-type), GET, HEAD, PUT, DELETE, POST."""
    name = "LIST" if method == "GET" and "list-type=" in target else method
    with STATS_LOCK:
        STATS["by_operation"][name] = STATS["by_operation"].get(name, 0) + 1
SLOTS = threading.BoundedSemaphore(ARGS.max_connections)
TLS = None
if ARGS.tls_cert:
    TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    TLS.load_cert_chain(ARGS.tls_cert, ARGS.tls_key)


def roll():
    with RNG_LOCK:
        return RNG.random(), RNG.random(), RNG.random(), RNG.random()


def reset(sock):
    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class Handler(socketserver.StreamRequestHandler):
    def setup(self):
        if TLS is not None:
            self.request.settimeout(30)
            try:
                self.request = TLS.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError):
                self.request = None
                return
        super().setup()

    def finish(self):
        if self.request is not None:
            super().finish()

    def handle(self):
        if self.request is None:
            return
        if time.monotonic() < REFUSE_UNTIL[0]:
            count("refused")
            reset(self.connection)
            return
        if not SLOTS.acquire(blocking=False):
            return
        try:
            self.serve()
        except (ConnectionError, OSError):
            pass
        finally:
            SLOTS.release()

    def serve(self):
        upstream = None
        while True:
            line = self.rfile.readline(65537)
            if not line or line in (b"\r\n", b"\n"):
                return
            method, target, _ = line.decode("latin-1").split(" ", 2)
            if target.startswith("http://"):
                # Sent to us as an HTTP proxy (http_proxy): forward in origin form.
                STATS["absolute_form"] += 1
                target = "/" + target[len("http://"):].partition("/")[2]
            headers = []
            while True:
                h = self.rfile.readline(65537)
                if h in (b"\r\n", b"\n", b""):
                    break
                name, _, value = h.decode("latin-1").partition(":")
                headers.append((name.strip(), value.strip()))
            length = int(next((v for n, v in headers if n.lower() == "content-length"), "0"))
            count("requests")
            count_operation(method, target)
            if time.monotonic() < REFUSE_UNTIL[0]:
                count("refused")
                reset(self.connection)
                return
            r_slow, r_reset, r_lat, r_ms = roll()
            if r_reset < ARGS.reset and length > 0:
                count("reset")
                self.rfile.read(length // 2)
                reset(self.connection)
                return
            body = self.rfile.read(length) if length else b""
            if r_slow < ARGS.slowdown:
                count("slowdown")
                self.wfile.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\n"
                                 b"Content-Length: %d\r\n\r\n" % len(SLOWDOWN) + SLOWDOWN)
                self.wfile.flush()
                continue
            if ARGS.fixed_latency_ms > 0:
                time.sleep(ARGS.fixed_latency_ms / 1000.0)
            if r_lat < ARGS.latency:
                count("latency")
                time.sleep(r_ms * ARGS.max_latency_ms / 1000.0)
            if upstream is None:
                upstream = http.client.HTTPConnection(UP.hostname, UP.port, timeout=120)
            upstream.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for n, v in headers:
                upstream.putheader(n, v)
            count("in_flight")
            try:
                upstream.endheaders(body if body else None)
                resp = upstream.getresponse()
                data = resp.read()
            finally:
                count("in_flight", -1)
            count("forwarded")
            if 200 <= resp.status < 300:
                query = urllib.parse.urlsplit(target).query
                if method == "POST" and query.startswith("uploads"):
                    count("mpu_created")
                elif method == "POST" and "uploadId=" in query:
                    count("mpu_completed")
                elif method == "DELETE" and "uploadId=" in query:
                    count("mpu_aborted")
                elif method == "PUT" and "partNumber=" in query:
                    count("parts")
            out = [b"HTTP/1.1 %d %s\r\n" % (resp.status, resp.reason.encode("latin-1"))]
            for n, v in resp.getheaders():
                if n.lower() in ("transfer-encoding", "content-length", "connection"):
                    continue
                out.append(("%s: %s\r\n" % (n, v)).encode("latin-1"))
            declared = int(resp.getheader("Content-Length", len(data))) if method == "HEAD" else len(data)
            out.append(b"Content-Length: %d\r\n\r\n" % declared)
            if length == 0 and len(data) > 1 and r_reset < ARGS.reset:
                count("reset")
                self.wfile.write(b"".join(out) + data[: len(data) // 2])
                self.wfile.flush()
                reset(self.connection)
                return
            self.wfile.write(b"".join(out) + (b"" if method == "HEAD" else data))
            self.wfile.flush()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Control(socketserver.StreamRequestHandler):
    """GET /stats and POST /faults (see the module's doc)."""

    def handle(self):
        line = self.rfile.readline(65537).decode("latin-1")
        if not line:
            return
        method, target, _ = line.split(" ", 2)
        length = 0
        while True:
            h = self.rfile.readline(65537)
            if h in (b"\r\n", b"\n", b""):
                break
            name, _, value = h.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        body = self.rfile.read(length) if length else b""
        status, answer = 200, {}
        if method == "POST" and target == "/faults":
            try:
                change = json.loads(body or b"{}")
                for name in ("slowdown", "reset", "latency"):
                    if name in change:
                        setattr(ARGS, name, float(change[name]))
                if "max_latency_ms" in change:
                    ARGS.max_latency_ms = int(change["max_latency_ms"])
                if "refuse_seconds" in change:
                    REFUSE_UNTIL[0] = time.monotonic() + float(change["refuse_seconds"])
            except (ValueError, TypeError) as e:
                status, answer = 400, {"error": str(e)}
        elif not (method == "GET" and target == "/stats"):
            status, answer = 404, {"error": "GET /stats or POST /faults"}
        if status == 200:
            with STATS_LOCK:
                answer = dict(STATS, slowdown_share=ARGS.slowdown, reset_share=ARGS.reset,
                              latency_share=ARGS.latency, max_latency_ms=ARGS.max_latency_ms,
                              refusing=time.monotonic() < REFUSE_UNTIL[0])
        out = json.dumps(answer).encode()
        self.wfile.write(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                         b"Connection: close\r\n\r\n" % (status, len(out)) + out)


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print("PORT %d" % server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    if ARGS.control:
        control = Server(("127.0.0.1", 0), Control)
        print("CONTROL %d" % control.server_address[1], flush=True)
        threading.Thread(target=control.serve_forever, daemon=True).start()
    stdin_closed = threading.Event()

    def watch_stdin():
        while sys.stdin.readline():  # a closed stdin (the test ended) stops the proxy
            pass
        stdin_closed.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        stdin_closed.wait(ARGS.lifetime)
    except KeyboardInterrupt:
        pass
    server.shutdown()
    print("fault proxy stats: %s" % STATS, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
