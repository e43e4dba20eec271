"""uitest.py: helpers of the `fieldsync ui` tests: run the real `fieldsync ui`
against a real fieldsyncd, talk HTTP to it as a browser or an attacker would,
and read its Server-Sent Events. Waits have deadlines; nothing sleeps."""
import http.client
import json
import os
import select
import signal
import socket
import subprocess
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
import sys  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
sys.path.insert(0, os.path.join(HERE, "..", "sync"))
from fsd import TestFailure, check  # noqa: E402,F401


class Ui:
    """`fieldsync ui` on a daemon's socket: its URL, port and token."""

    def __init__(self, cli_bin, socket_path, root, env=None, args=()):
        self.log = os.path.join(root, "ui.log")
        env = dict(env or os.environ)
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen([cli_bin, "--socket", socket_path, "ui"] + list(args),
                                         stdout=subprocess.PIPE, stderr=logf, env=env,
                                         stdin=subprocess.DEVNULL)
        self.url = self._first_line(10)
        parsed = urllib.parse.urlsplit(self.url)
        check(parsed.hostname == "127.0.0.1", "the UI listens on 127.0.0.1: %s" % self.url)
        self.port = parsed.port
        self.token = urllib.parse.parse_qs(parsed.query)["token"][0]
        self.cookie = "fieldsync_ui_%d=%s" % (self.port, self.token)
        self.host = "127.0.0.1:%d" % self.port

    def _first_line(self, timeout):
        deadline = time.monotonic() + timeout
        buf = b""
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise TestFailure("fieldsync ui printed no URL: %s" % self.log_text())
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise TestFailure("fieldsync ui closed stdout: %s" % self.log_text())
                buf += chunk
        return buf.split(b"\n")[0].decode()

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def request(self, method, path, headers=None, body=None, host=None, token="cookie"):
        """(status, headers dict with lower-case names, body bytes). token:
        "cookie", "header" or None; host: the Host header (None: ours)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        hdrs = {"Host": self.host if host is None else host}
        if token == "cookie":
            hdrs["Cookie"] = self.cookie
        elif token == "header":
            hdrs["X-Fieldsync-Token"] = self.token
        hdrs.update(headers or {})
        data = body if body is None or isinstance(body, bytes) else body.encode()
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in hdrs.items():
            if v is not None:
                conn.putheader(k, v)
        if data is not None:
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data)
        resp = conn.getresponse()
        out = (resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        conn.close()
        return out

    def call(self, method, params=None, **kw):
        """POST /api/call: (status, decoded JSON answer)."""
        body = {"method": method}
        if params is not None:
            body["params"] = params
        kw.setdefault("headers", {})
        kw["headers"].setdefault("Content-Type", "application/json")
        status, _, data = self.request("POST", "/api/call", body=json.dumps(body), **kw)
        try:
            return status, json.loads(data)
        except ValueError:
            return status, {"raw": data.decode(errors="replace")}

    def result(self, method, params=None):
        status, ans = self.call(method, params)
        check(status == 200 and "result" in ans, "%s through the bridge: %s %r" %
              (method, status, ans))
        return ans["result"]

    def stop(self, timeout=10):
        """SIGTERM; returns (exit code, seconds it took)."""
        if self.proc.poll() is not None:
            return self.proc.returncode, 0.0
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure("fieldsync ui did not stop within %ds of SIGTERM" % timeout)
        self.proc.stdout.close()
        return rc, time.monotonic() - t0


class EventStream:
    """A raw GET /api/events, parsed into (event, data) pairs."""

    def __init__(self, ui, headers=None):
        self.sock = socket.create_connection(("127.0.0.1", ui.port), timeout=10)
        hdrs = {"Host": ui.host, "Cookie": ui.cookie, "Accept": "text/event-stream"}
        hdrs.update(headers or {})
        req = "GET /api/events HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in hdrs.items())
        self.sock.sendall((req + "\r\n").encode())
        self.buf = b""
        try:
            head = self._until(b"\r\n\r\n", 10)
        except EOFError:
            raise TestFailure("the bridge closed the event stream without an answer")
        self.status = int(head.split(b" ", 2)[1])
        self.headers = head.decode(errors="replace").lower()
        self.chunked = b"transfer-encoding: chunked" in head.lower()
        self.text = ""
        self.events = []

    def _until(self, mark, timeout):
        deadline = time.monotonic() + timeout
        while mark not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure("no %r from the event stream within %ss" % (mark, timeout))
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        head, _, self.buf = self.buf.partition(mark)
        return head

    def _read_body(self, timeout):
        """Appends the next piece of the body (de-chunked) to self.text."""
        if self.chunked:
            size = int(self._until(b"\r\n", timeout).split(b";")[0], 16)
            if size == 0:
                raise EOFError
            while len(self.buf) < size + 2:
                self._until_more(timeout)
            self.text += self.buf[:size].decode()
            self.buf = self.buf[size + 2:]
        else:
            self._until_more(timeout)
            self.text += self.buf.decode()
            self.buf = b""

    def _until_more(self, timeout):
        self.sock.settimeout(timeout)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def next(self, timeout=10):
        """The next (event, data) pair; comments (keep-alives) are skipped."""
        deadline = time.monotonic() + timeout
        while "\n\n" not in self.text:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure("no event within %ss (have %r)" % (timeout, self.text))
            try:
                self._read_body(left)
            except socket.timeout:
                continue
            except EOFError:
                raise TestFailure("the event stream ended (have %r)" % self.text)
        block, _, self.text = self.text.partition("\n\n")
        fields = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                continue
            k, _, v = line.partition(": ")
            fields[k] = v
        if "event" not in fields:
            return self.next(max(0.01, deadline - time.monotonic()))
        return fields["event"], json.loads(fields.get("data", "null"))

    def wait(self, pred, timeout=10, what="an event"):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure("timed out waiting for %s" % what)
            ev = self.next(left)
            if pred(*ev):
                return ev

    def ended(self, timeout):
        """True when the bridge ends the stream within timeout seconds."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                try:
                    self._read_body(max(0.01, deadline - time.monotonic()))
                except socket.timeout:
                    pass
        except (EOFError, ConnectionResetError):
            return True
        return False

    def close(self):
        self.sock.close()
