"""fake_server.py: a tiny sync server on loopback that misbehaves on purpose,
for test_sync_daemons.py. It enrolls any code, and answers every pull with
what the test's `pull_answer(cursor, full)` returns (a PullResponse built with
`pull_page` or `resync_required`), counting the pulls. Given a push_refusal, it
refuses every pushed state with it, counting the pushes. Its Date headers run
date_offset_s from this computer's clock. Protobuf is written by hand (a few
varint, bytes and fixed64 fields), so the test needs no protobuf module; field
numbers are those of proto/fieldsync.proto.
"""
import email.utils
import http.server
import os
import socket
import struct
import threading
import time

import wire


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def uint_field(num, v):
    return varint(num << 3) + varint(v)


def bytes_field(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b


def fixed64_field(num, v):
    return varint(num << 3 | 1) + struct.pack("<Q", v)


def read_varints(body):
    """The varint fields of a message (others skipped): {number: value}."""
    out, i = {}, 0
    while i < len(body):
        key, i = _read_varint(body, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            out[num], i = _read_varint(body, i)
        elif wire == 1:
            i += 8
        elif wire == 2:
            n, i = _read_varint(body, i)
            i += n
        elif wire == 5:
            i += 4
        else:
            raise ValueError("wire type %d" % wire)
    return out


def _read_varint(b, i):
    v, shift = 0, 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def pull_page(next_cursor, more):
    """PullResponse{next_cursor, more} without states or removals."""
    return uint_field(3, next_cursor) + uint_field(4, 1 if more else 0)


def resync_required():
    return uint_field(5, 1)


def push_refused(body, reason, message):
    """A PushResponse refusing each state of the PushRequest body."""
    out = b""
    for state in wire.decode(body).get(1, []):
        s = wire.decode(state)
        ref = uint_field(1, s[1][0]) + bytes_field(2, s[2][0])
        refusal = uint_field(1, reason) + bytes_field(2, message.encode())
        out += bytes_field(1, bytes_field(1, ref) + bytes_field(3, refusal))
    return out


class FakeServer:
    def __init__(self, pull_answer, push_refusal=None, date_offset_s=0):
        self.pull_answer = pull_answer
        self.push_refusal = push_refusal  # (reason, message), or None: no push
        self.date_offset_s = date_offset_s
        self.pulls = []  # (cursor, full) of every pull, in order
        self.pushes = 0
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real server

            def setup(self):
                super().setup()
                # headers and body go out in two writes: without this, each
                # answer waits for the client's delayed ACK (40 ms)
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path == "/v1/enroll":
                    self.answer(fixed64_field(1, 0x5EED5EED5EED5EED) +
                                bytes_field(2, os.urandom(32)) + bytes_field(3, b"rep") +
                                bytes_field(4, b"fake-server"))
                elif self.path == "/v1/pull":
                    req = read_varints(body)
                    cursor, full = req.get(1, 0), bool(req.get(3, 0))
                    with fake.lock:
                        fake.pulls.append((cursor, full))
                    self.answer(fake.pull_answer(cursor, full))
                elif self.path == "/v1/push" and fake.push_refusal is not None:
                    with fake.lock:
                        fake.pushes += 1
                    self.answer(push_refused(body, *fake.push_refusal))
                else:
                    self.send_error(404)

            def answer(self, body):
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Fieldsync-Protocol", "1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def date_time_string(self, timestamp=None):
                return email.utils.formatdate(time.time() + fake.date_offset_s, usegmt=True)

            def log_message(self, fmt, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.httpd.server_address[1]

    def pull_count(self):
        with self.lock:
            return len(self.pulls)

    def push_count(self):
        with self.lock:
            return self.pushes

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
