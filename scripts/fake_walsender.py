#!/usr/bin/env python3
"""A fake PostgreSQL walsender for tests: it speaks just enough of the frontend/backend protocol
(startup without a password, a simple query answered with CopyBothResponse) to send, after
START_REPLICATION, the CopyData frames a test chooses, then waits for the client to go away.

    fake_walsender.py FRAMES   FRAMES: truncated-insert | unknown-message | truncated-xlogdata

Listens on 127.0.0.1 (a free port, printed as "PORT <n>" on stdout once ready); serves any number
of connections for at most 60 s. A normal connection (no START_REPLICATION) is accepted and left idle.
"""
import socket
import struct
import sys
import threading
import time

FRAMES = sys.argv[1]


def message(kind, payload=b""):
    return kind + struct.pack("!I", len(payload) + 4) + payload


def xlogdata(payload, lsn=0x1000000):
    return b"w" + struct.pack("!QQQ", lsn, lsn + len(payload), 0) + payload


def frames():
    begin = b"B" + struct.pack("!QQI", 0x1000100, 0, 7)
    if FRAMES == "truncated-insert":
        # Begin, then an Insert cut off after its relation id: the tuple's column count is missing.
        return [xlogdata(begin), xlogdata(b"I" + struct.pack("!I", 16384) + b"N")]
    if FRAMES == "unknown-message":
        return [xlogdata(begin), xlogdata(b"\x7f\x00\x01\x02")]
    if FRAMES == "truncated-xlogdata":
        return [b"w" + struct.pack("!Q", 1)]
    raise SystemExit("unknown FRAMES " + FRAMES)


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError
        data += chunk
    return data


def serve(conn):
    try:
        while True:
            length = struct.unpack("!I", read_exact(conn, 4))[0]
            body = read_exact(conn, length - 4)
            code = struct.unpack("!I", body[:4])[0]
            if code in (80877103, 80877104):   # SSLRequest, GSSENCRequest: not here
                conn.sendall(b"N")
                continue
            break
        conn.sendall(message(b"R", struct.pack("!I", 0))
                     + b"".join(message(b"S", k + b"\0" + v + b"\0") for k, v in [
                         (b"server_version", b"15.0"), (b"client_encoding", b"UTF8"), (b"server_encoding", b"UTF8"),
                         (b"integer_datetimes", b"on"), (b"standard_conforming_strings", b"on"), (b"DateStyle", b"ISO, YMD")])
                     + message(b"K", struct.pack("!II", 1, 2)) + message(b"Z", b"I"))
        while True:
            kind = read_exact(conn, 1)
            length = struct.unpack("!I", read_exact(conn, 4))[0]
            body = read_exact(conn, length - 4)
            if kind == b"X":
                return
            if kind == b"Q" and body.startswith(b"START_REPLICATION"):
                conn.sendall(message(b"W", b"\x00" + struct.pack("!H", 0)) + b"".join(message(b"d", f) for f in frames()))
            elif kind == b"Q":
                conn.sendall(message(b"E", b"SERROR\0C0A000\0Mthe fake walsender only streams\0\0") + message(b"Z", b"I"))
            # CopyData from the client (status updates) and anything else: ignored.
    except (ConnectionError, OSError):
        pass
    finally:
        conn.close()


def main():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(1)
    print("PORT", listener.getsockname()[1], flush=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
