"""fsd.py: helpers for fieldsyncd's integration tests: start the real daemon on a
temp directory, talk JSON-RPC to its socket, wait on conditions with deadlines
(never a bare sleep as synchronisation), read its memory and context switches
from /proc."""
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SKIP = 77  # ctest SKIP_RETURN_CODE


class TestFailure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise TestFailure(what)


def wait_for(cond, timeout, what, step=0.01):
    """Polls cond() until it is true or the deadline passes (then fails)."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TestFailure("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(step)


def zone_off_utc():
    """A POSIX TZ whose calendar day differs from UTC's right now (14 hours east
    from 10:00 UTC on, else 12 hours west), its offset in hours, and a function
    giving its day (offset days from today) as YYYY-MM-DD."""
    east = datetime.datetime.now(datetime.timezone.utc).hour >= 10
    hours = 14 if east else -12
    zone = datetime.timezone(datetime.timedelta(hours=hours))

    def day(offset=0):
        return (datetime.datetime.now(zone).date() + datetime.timedelta(days=offset)).isoformat()
    return "TST%+d" % -hours, hours, day  # POSIX TZ counts hours west


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def rss_kb(pid, key="VmRSS"):
    return int(proc_status(pid)[key].split()[0])


def cpu_ticks(pid):
    """User + system CPU time of pid, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def ctx_switches(pid):
    """Voluntary context switches of every thread of pid."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
            for line in f:
                if line.startswith("voluntary_ctxt_switches"):
                    total += int(line.split(":")[1])
    return total


def flip_byte(path, offset):
    """Damages one byte of a file, as a bad disk would."""
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x20]))


def print_logs(root):
    """Prints the end of every *.log file under root (after a failure)."""
    for dirpath, _, files in os.walk(root):
        for name in sorted(files):
            if name.endswith(".log"):
                with open(os.path.join(dirpath, name), errors="replace") as f:
                    print("--- %s ---\n%s" % (name, f.read()[-3000:]))


class Daemon:
    def __init__(self, binary, config=None, root=None):
        self.binary = binary
        self.root = root or tempfile.mkdtemp(prefix="fsd-it-")
        self.runtime = os.path.join(self.root, "run")
        self.data = os.path.join(self.root, "data")
        self.confdir = os.path.join(self.root, "config")
        os.makedirs(os.path.join(self.confdir, "fieldsync"), exist_ok=True)
        os.makedirs(self.runtime, mode=0o700, exist_ok=True)
        self.socket = os.path.join(self.runtime, "fieldsync", "fieldsyncd.sock")
        self.conf = os.path.join(self.confdir, "fieldsync", "fieldsyncd.conf")
        self.log = os.path.join(self.root, "daemon.log")
        settings = {"test_fast_kdf": "true", "log_level": "debug", "log_target": "stderr"}
        settings.update(config or {})
        self.write_config(settings)
        self.proc = None

    def write_config(self, settings):
        with open(self.conf, "w") as f:
            f.write("# written by the integration test\n")
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))

    def env(self, extra=None):
        e = dict(os.environ)
        e.update({"HOME": self.root, "XDG_RUNTIME_DIR": self.runtime,
                  "XDG_DATA_HOME": self.data, "XDG_CONFIG_HOME": self.confdir})
        e.pop("JOURNAL_STREAM", None)
        e.update(extra or {})
        return e

    def start(self, args=(), env=None, wait=True, preexec_fn=None):
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen([self.binary] + list(args), env=self.env(env),
                                     stdout=logf, stderr=logf, preexec_fn=preexec_fn)
        logf.close()
        if wait:
            wait_for(self.connectable, 10, "the daemon's socket")
        return self

    def connectable(self):
        if self.proc.poll() is not None:
            raise TestFailure("daemon exited with %s: %s" % (self.proc.returncode, self.log_text()))
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(self.socket)
            s.close()
            return True
        except OSError:
            return False

    def client(self, timeout=10):
        return Client(self.socket, timeout)

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=10):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise TestFailure("daemon did not stop within %ds of SIGTERM" % timeout)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


class RpcError(Exception):
    def __init__(self, err):
        super().__init__("%s %s" % (err.get("code"), err.get("message")))
        self.code = err.get("code")
        self.name = (err.get("data") or {}).get("name")
        self.field = (err.get("data") or {}).get("field")
        self.message = err.get("message")


class Client:
    def __init__(self, path, timeout=10):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.next_id = 1
        self.notes = []

    def send_raw(self, data):
        self.sock.sendall(data)

    def read_message(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("daemon closed the connection")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def response(self, want_id):
        while True:
            msg = self.read_message()
            if "id" not in msg:
                self.notes.append(msg)
                continue
            check(msg.get("id") == want_id, "answer id %r, expected %r" % (msg.get("id"), want_id))
            return msg

    def call_raw(self, method, params=None):
        rid = self.next_id
        self.next_id += 1
        req = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            req["params"] = params
        self.send_raw((json.dumps(req) + "\n").encode())
        return self.response(rid)

    def call(self, method, params=None):
        msg = self.call_raw(method, params)
        if "error" in msg:
            raise RpcError(msg["error"])
        return msg["result"]

    def error(self, method, params=None):
        msg = self.call_raw(method, params)
        check("error" in msg, "%s %r should have failed: %r" % (method, params, msg))
        return RpcError(msg["error"])

    def wait_note(self, pred, timeout=5):
        deadline = time.monotonic() + timeout
        while True:
            for n in self.notes:
                if pred(n):
                    self.notes.remove(n)
                    return n
            left = deadline - time.monotonic()
            if left <= 0:
                raise TestFailure("no matching notification within %ss" % timeout)
            self.sock.settimeout(left)
            self.notes.append(self.read_message())

    def closed_by_peer(self, timeout):
        """True when the daemon closes the connection within timeout seconds."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()
