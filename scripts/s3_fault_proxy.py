#!/usr/bin/env python3
"""A small fault-injecting HTTP proxy for S3 tests: loopback only, bounded in time and connections.

    s3_fault_proxy.py UPSTREAM_URL [--slowdown P] [--reset P] [--latency P] [--max-latency-ms N]
                      [--seed N] [--lifetime S] [--max-connections N] [--tls-cert PEM --tls-key PEM]

Listens on 127.0.0.1 (a free port, printed as "PORT <n>" on stdout once ready) and forwards each
request to UPSTREAM_URL unchanged (Host header included, so SigV4 signatures stay valid). Per
request, with the given probabilities: answers 503 SlowDown without forwarding; resets the
connection half-way through the request body (or, for bodiless requests, half-way through the
response body); sleeps up to --max-latency-ms before forwarding. With --tls-cert/--tls-key it speaks
HTTPS to the client (plain HTTP to the upstream). Counts go to stderr on exit.
"""
import argparse
import http.client
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
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lifetime", type=float, default=300.0)
    p.add_argument("--max-connections", type=int, default=64)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    return p.parse_args()


ARGS = parse_args()
UP = urllib.parse.urlsplit(ARGS.upstream)
assert UP.hostname in ("127.0.0.1", "localhost", "::1"), "upstream must be on loopback"
RNG = random.Random(ARGS.seed)
RNG_LOCK = threading.Lock()
STATS = {"requests": 0, "slowdown": 0, "reset": 0, "latency": 0, "forwarded": 0, "absolute_form": 0}
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
            STATS["requests"] += 1
            r_slow, r_reset, r_lat, r_ms = roll()
            if r_reset < ARGS.reset and length > 0:
                STATS["reset"] += 1
                self.rfile.read(length // 2)
                reset(self.connection)
                return
            body = self.rfile.read(length) if length else b""
            if r_slow < ARGS.slowdown:
                STATS["slowdown"] += 1
                self.wfile.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\n"
                                 b"Content-Length: %d\r\n\r\n" % len(SLOWDOWN) + SLOWDOWN)
                self.wfile.flush()
                continue
            if r_lat < ARGS.latency:
                STATS["latency"] += 1
                time.sleep(r_ms * ARGS.max_latency_ms / 1000.0)
            if upstream is None:
                upstream = http.client.HTTPConnection(UP.hostname, UP.port, timeout=120)
            upstream.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for n, v in headers:
                upstream.putheader(n, v)
            upstream.endheaders(body if body else None)
            resp = upstream.getresponse()
            data = resp.read()
            STATS["forwarded"] += 1
            out = [b"HTTP/1.1 %d %s\r\n" % (resp.status, resp.reason.encode("latin-1"))]
            for n, v in resp.getheaders():
                if n.lower() in ("transfer-encoding", "content-length", "connection"):
                    continue
                out.append(("%s: %s\r\n" % (n, v)).encode("latin-1"))
            declared = int(resp.getheader("Content-Length", len(data))) if method == "HEAD" else len(data)
            out.append(b"Content-Length: %d\r\n\r\n" % declared)
            if length == 0 and len(data) > 1 and r_reset < ARGS.reset:
                STATS["reset"] += 1
                self.wfile.write(b"".join(out) + data[: len(data) // 2])
                self.wfile.flush()
                reset(self.connection)
                return
            self.wfile.write(b"".join(out) + (b"" if method == "HEAD" else data))
            self.wfile.flush()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print("PORT %d" % server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
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
