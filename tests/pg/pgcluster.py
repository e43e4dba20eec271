#!/usr/bin/env python3
"""pgcluster.py: a throwaway PostgreSQL cluster for fieldsync's tests and
benchmarks. initdb in a new temp directory, postgres listening only on a Unix
socket inside it, stopped and removed at the end, also when the test fails or
is interrupted. initdb refuses to run as root, so under root (CI) the cluster
runs as the unprivileged user `nobody`; otherwise as the current user.

As a module:
    with Cluster() as pg:           # durable=True keeps fsync on (benchmarks)
        url = pg.create_db("t1")    # postgresql:///t1?host=...&user=fieldsync

From the command line (what C tests and benchmarks use):
    pgcluster.py run [--durable] -- CMD ARGS...
        starts a cluster, creates database `fieldsync`, runs CMD with
        FS_TEST_PG_URL set to its URL, stops the cluster; exits with CMD's code.
    pgcluster.py serve [--durable]
        starts a cluster, prints the URL of database `fieldsync` on one line,
        and stops it when its standard input closes.
"""
import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SUPERUSER = "fieldsync"
START_TIMEOUT = 60


def bindir():
    """Where initdb and postgres are: pg_config's bindir when it has them (on
    Debian that pg_config comes with libpq-dev and may point elsewhere), else
    the newest /usr/lib/postgresql/*/bin."""
    try:
        d = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                           check=True).stdout.strip()
        if os.path.exists(os.path.join(d, "initdb")):
            return d
    except (OSError, subprocess.CalledProcessError):
        pass
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not found:
        raise RuntimeError("no PostgreSQL server binaries (initdb): install postgresql-15 "
                           "(scripts/install-deps.sh)")
    return os.path.dirname(found[-1])


class Cluster:
    def __init__(self, durable=False):
        self.durable = durable
        self.bin = bindir()
        self.dir = None
        self.proc = None
        self.log = None
        # root: run as nobody; initdb will not run as root
        self.user = pwd.getpwnam("nobody") if os.geteuid() == 0 else None

    def _run_as(self):
        if self.user is None:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="fs-pg-")
        os.chmod(self.dir, 0o700)
        if self.user is not None:
            os.chown(self.dir, self.user.pw_uid, self.user.pw_gid)
        data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        subprocess.run([os.path.join(self.bin, "initdb"), "-D", data, "-U", SUPERUSER,
                        "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"],
                       check=True, capture_output=True, cwd=self.dir, **self._run_as())
        opts = ["-c", "listen_addresses=", "-c", "unix_socket_directories=" + self.dir,
                "-c", "max_connections=200", "-c", "shared_buffers=64MB"]
        if not self.durable:  # tests: a crash of the machine is not what they check
            opts += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                     "-c", "full_page_writes=off"]
        logf = open(self.log, "ab")
        if self.user is not None:
            os.chown(self.log, self.user.pw_uid, self.user.pw_gid)
        self.proc = subprocess.Popen([os.path.join(self.bin, "postgres"), "-D", data] + opts,
                                     stdout=logf, stderr=logf, stdin=subprocess.DEVNULL,
                                     cwd=self.dir, start_new_session=True, **self._run_as())
        logf.close()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited: %s" % self.log_tail())
            r = subprocess.run([os.path.join(self.bin, "pg_isready"), "-q", "-h", self.dir],
                               capture_output=True)
            if r.returncode == 0:
                return self
            if time.monotonic() > deadline:
                raise RuntimeError("postgres did not start in %ds: %s" %
                                   (START_TIMEOUT, self.log_tail()))
            time.sleep(0.05)

    def log_tail(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-2000:]
        except OSError:
            return "(no log)"

    def url(self, db):
        return "postgresql:///%s?host=%s&user=%s" % (db, self.dir, SUPERUSER)

    def psql(self, db, sql):
        """Runs SQL (as the superuser) and returns its unaligned output."""
        r = subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-A", "-t",
                            "-v", "ON_ERROR_STOP=1", "-h", self.dir, "-U", SUPERUSER,
                            "-d", db, "-c", sql], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("psql: %s" % r.stderr)
        return r.stdout.strip()

    def create_db(self, name):
        self.psql("postgres", 'CREATE DATABASE "%s"' % name)
        return self.url(name)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
        return False


def _stop_on_signals():
    """SIGTERM/SIGHUP (ctest's timeout, a closed terminal) unwind like Ctrl-C,
    so the finally clauses stop the cluster."""
    def handler(signum, frame):
        raise KeyboardInterrupt
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def main(argv):
    durable = "--durable" in argv
    args = [a for a in argv if a != "--durable"]
    if len(args) >= 1 and args[0] == "serve":
        _stop_on_signals()
        with Cluster(durable) as pg:
            print(pg.create_db("fieldsync"), flush=True)
            sys.stdin.read()
        return 0
    if len(args) >= 3 and args[0] == "run" and args[1] == "--":
        _stop_on_signals()
        with Cluster(durable) as pg:
            env = dict(os.environ, FS_TEST_PG_URL=pg.create_db("fieldsync"))
            child = subprocess.Popen(args[2:], env=env)
            try:
                return child.wait()
            except KeyboardInterrupt:
                child.kill()
                child.wait()
                return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
