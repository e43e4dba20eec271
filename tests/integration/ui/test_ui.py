#!/usr/bin/env python3
"""`fieldsync ui` between real processes: the real fieldsyncd (and, for the
browser case, fieldsync-server and a second daemon), the real bridge, and a
headless Chromium driven over WebDriver (Debian's chromium, chromium-driver).

usage: test_ui.py SERVER DAEMON CLI DEMO CASE
Cases:
  guard    the bridge's defences over plain HTTP: token, Host, Origin,
           Sec-Fetch-Site, allowlist, body cap, security headers; unlock,
           events, a daemon that goes away, a prompt stop
  open     --open: xdg-open gets a private file, never the token
  browser  the rep's day in Chromium: open, unlock, add a visit, see it on a
           second daemon, live updates, resolve a conflict, errors, lock.
           FIELDSYNC_UI_SCREENSHOTS=DIR saves the screenshots of docs/ui.md.
Exit 77 (skipped) when the browser case finds no chromium or chromedriver.
"""
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import traceback

from uitest import EventStream, TestFailure, Ui, check
from fsd import Daemon, print_logs, wait_for
import browser_case

PASSPHRASE = "correct horse battery staple"
SKIP = 77


def security_headers(headers, what):
    csp = headers.get("content-security-policy", "")
    for part in ("default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
        check(part in csp, "%s: CSP %r lacks %s" % (what, csp, part))
    check("unsafe-inline" not in csp and "unsafe-eval" not in csp, "%s: CSP %r" % (what, csp))
    check(headers.get("x-content-type-options") == "nosniff", "%s: nosniff" % what)
    check(headers.get("cache-control") == "no-store", "%s: no-store" % what)
    check(headers.get("x-frame-options") == "DENY", "%s: X-Frame-Options" % what)
    check(headers.get("referrer-policy") == "no-referrer", "%s: Referrer-Policy" % what)


def check_token(ui):
    # the entry URL sets the token's cookie and moves on to / from our origin
    st, h, body = ui.request("GET", "/?token=" + ui.token, token=None)
    check(st == 200 and b'content="0;url=/"' in body, "entry URL: %s %r" % (st, body))
    cookie = h.get("set-cookie", "")
    check(cookie.startswith(ui.cookie + ";") and "HttpOnly" in cookie and
          "SameSite=Strict" in cookie and "Path=/" in cookie,
          "entry cookie %r" % cookie.replace(ui.token, "<token>"))
    security_headers(h, "entry page")
    st, _, body = ui.request("GET", "/?token=" + "0" * 64, token=None)
    check(st == 403 and b"token" in body, "a wrong token in the entry URL: %s" % st)
    for path in ("/", "/app.js", "/api/events"):
        st, h, _ = ui.request("GET", path, token=None)
        check(st == 403, "GET %s without a token: %s" % (path, st))
        security_headers(h, "403 answer")
        st, _, _ = ui.request("GET", path, token=None,
                              headers={"Cookie": "fieldsync_ui_%d=%s" % (ui.port, "f" * 64)})
        check(st == 403, "GET %s with a wrong cookie: %s" % (path, st))
    st, _ = ui.call("status", token=None)
    check(st == 403, "POST without a token: %s" % st)
    wrong = ui.token[:-1] + ("1" if ui.token[-1] != "1" else "2")
    st, _ = ui.call("status", token=None, headers={"X-Fieldsync-Token": wrong})
    check(st == 403, "POST with a wrong token header: %s" % st)
    # a cookie for another port (another start) does not count
    st, _, _ = ui.request("GET", "/", token=None, headers={
        "Cookie": "fieldsync_ui_%d=%s" % (ui.port + 1, ui.token)})
    check(st == 403, "the token under another port's cookie name: %s" % st)
    st, h, body = ui.request("GET", "/")
    check(st == 200 and b'src="/app.js"' in body, "GET / with the cookie: %s" % st)
    check(h["content-type"].startswith("text/html"), "index type %r" % h["content-type"])
    security_headers(h, "index.html")
    st, h, _ = ui.request("GET", "/app.js", token="header")
    check(st == 200 and h["content-type"].startswith("text/javascript"), "app.js: %s" % st)
    st, _, _ = ui.request("GET", "/no-such-file.js")
    check(st == 404, "an unknown path: %s" % st)


def check_host_origin(ui):
    for host in ("evil.example:%d" % ui.port, "127.0.0.1:%d" % (ui.port + 1), "127.0.0.1",
                 "127.0.0.1.evil.example:%d" % ui.port, ""):
        st, _ = ui.call("status", host=host)
        check(st == 403, "Host %r with the right token: %s" % (host, st))
    st, _ = ui.call("status", host="localhost:%d" % ui.port)
    check(st == 200, "Host localhost:PORT: %s" % st)
    for origin in ("http://evil.example", "http://127.0.0.1:%d" % (ui.port + 1), "null",
                   "https://127.0.0.1:%d" % ui.port, "http://localhost:%d" % ui.port):
        st, ans = ui.call("status", headers={"Origin": origin})
        check(st == 403, "POST from Origin %r: %s %r" % (origin, st, ans))
    st, _ = ui.call("status", headers={"Origin": "http://127.0.0.1:%d" % ui.port})
    check(st == 200, "POST from our own Origin: %s" % st)
    for site in ("cross-site", "same-site"):
        st, _ = ui.call("status", headers={"Sec-Fetch-Site": site})
        check(st == 403, "Sec-Fetch-Site %s: %s" % (site, st))
        st, _, _ = ui.request("GET", "/api/events", headers={"Sec-Fetch-Site": site})
        check(st == 403, "events with Sec-Fetch-Site %s: %s" % (site, st))
    st, _ = ui.call("status", headers={"Sec-Fetch-Site": "same-origin"})
    check(st == 200, "Sec-Fetch-Site same-origin: %s" % st)


def check_requests(ui, d):
    for method, params in (("init", {"passphrase": "x"}), ("sync.forget", None),
                           ("change_passphrase", {"old": PASSPHRASE, "new": "x"}),
                           ("sync.enroll", {"url": "http://127.0.0.1:1", "code": "x"}),
                           ("record.delete", {"kind": "account", "id": "acc-1"}),
                           ("subscribe", None), ("no.such.method", None)):
        st, ans = ui.call(method, params)
        check(st == 403 and ans["error"]["name"] == "not_allowed", "%s: %s %r" % (method, st, ans))
    big = '{"method":"status","params":{"pad":"%s"}}' % ("x" * 300000)
    st, _, _ = ui.request("POST", "/api/call", body=big,
                          headers={"Content-Type": "application/json"})
    check(st == 413, "a 300 KB body: %s" % st)
    st, _, _ = ui.request("POST", "/api/call", body='{"method":"status"}',
                          headers={"Content-Type": "text/plain"})
    check(st == 415, "a text/plain body: %s" % st)
    for body in ('{"method":', '[1]', '{"method":"status","params":[]}', '{"method":1}',
                 '{"method":"status","id":1}', '{"method":"status","method":"lock"}'):
        st, _, data = ui.request("POST", "/api/call", body=body,
                                 headers={"Content-Type": "application/json"})
        check(st == 400, "body %r: %s %r" % (body, st, data))
    st, _, _ = ui.request("GET", "/api/call")
    check(st == 405, "GET /api/call: %s" % st)
    st, _, _ = ui.request("DELETE", "/")
    check(st == 405, "DELETE /: %s" % st)


def check_unlock_and_events(ui, d):
    st, ans = ui.call("record.list", {"kind": "account"})
    check(st == 200 and ans["error"]["name"] == "locked" and ans["error"]["code"] == -32001,
          "a locked store through the bridge: %s %r" % (st, ans))
    st, ans = ui.call("unlock", {"passphrase": "wrong " + PASSPHRASE})
    check(ans.get("error", {}).get("name") == "auth_failed", "wrong passphrase: %r" % ans)
    ev = EventStream(ui)
    check(ev.status == 200 and "content-type: text/event-stream" in ev.headers,
          "event stream: %s %s" % (ev.status, ev.headers))
    check("content-security-policy" in ev.headers, "the stream carries the headers too")
    ev.wait(lambda e, p: e == "bridge" and p["daemon"] == "connected", what="connected")
    check(ui.result("unlock", {"passphrase": PASSPHRASE})["state"] == "unlocked", "unlock")
    ev.wait(lambda e, p: e == "state.changed" and p["state"] == "unlocked", what="unlocked")
    check(not d.client().call("record.get", {"kind": "account", "id": "acc-1"})["deleted"],
          "the refused record.delete changed nothing")
    # a change made elsewhere (another client of the daemon) reaches the page
    d.client().call("record.put", {"kind": "account", "id": "acc-2", "record": {"name": "Birch"}})
    ev.wait(lambda e, p: e == "record.changed" and p["id"] == "acc-2", what="record.changed")
    put = ui.result("record.put", {"kind": "account", "id": "acc-3", "record": {"name": "Cedar"}})
    check(put["created"], "record.put through the bridge: %r" % put)
    st, ans = ui.call("record.put", {"kind": "visit", "record": {"next_step_date": "2026-02-30"}})
    check(st == 200 and ans["error"]["name"] == "invalid_params" and
          ans["error"]["field"] == "next_step_date", "a refused edit: %r" % ans)
    for log in (ui.log_text(), d.log_text()):
        check(PASSPHRASE not in log and ui.token not in log, "a secret in a log")
    return ev


def check_daemon_gone(ui, d, ev):
    d.stop()
    ev.wait(lambda e, p: e == "bridge" and p["daemon"] == "lost", what="daemon lost")
    check(ev.ended(5), "the stream ends after the daemon went away")
    st, ans = ui.call("status")
    check(st == 502 and ans["error"]["name"] == "unreachable" and
          "fieldsyncd" in ans["error"]["message"], "daemon stopped: %s %r" % (st, ans))
    ev2 = EventStream(ui)
    ev2.wait(lambda e, p: e == "bridge" and p["daemon"] == "unreachable", what="unreachable")
    check(ev2.ended(5), "an unreachable daemon's stream ends (the browser retries)")
    d.start()
    check(ui.result("status")["state"] == "locked", "a restarted daemon is found again")


def case_guard(bins, root):
    d = Daemon(bins["daemon"], root=os.path.join(root, "d")).start()
    try:
        c = d.client()
        c.call("init", {"passphrase": PASSPHRASE})
        c.call("record.put", {"kind": "account", "id": "acc-1", "record": {"name": "Alder"}})
        c.call("lock")
        check_guard(bins, root, d)
    finally:
        d.cleanup()


def check_guard(bins, root, d):
    ui = Ui(bins["cli"], d.socket, root)
    try:
        check_token(ui)
        check_host_origin(ui)
        check_requests(ui, d)
        ev = check_unlock_and_events(ui, d)
        check_daemon_gone(ui, d, ev)
        check(ui.result("unlock", {"passphrase": PASSPHRASE})["state"] == "unlocked", "unlock")
        # stopping with a stream open waits for nothing (the keep-alive is 15 s)
        ev = EventStream(ui)
        ev.wait(lambda e, p: e == "bridge" and p["daemon"] == "connected", what="connected")
        rc, took = ui.stop()
        check(rc == 0 and took < 5, "stop with an open stream: exit %s after %.1fs" % (rc, took))
        check(ev.ended(5), "the stream ends when the UI stops")
    finally:
        ui.stop()


def case_open(bins, root):
    d = Daemon(bins["daemon"], root=os.path.join(root, "d")).start(["--init"])
    try:
        check_open(bins, root, d)
    finally:
        d.cleanup()


def check_open(bins, root, d):
    fake = os.path.join(root, "bin")
    os.makedirs(fake)
    seen = os.path.join(root, "xdg-open.args")
    with open(os.path.join(fake, "xdg-open"), "w") as f:
        f.write('#!/bin/sh\nprintf "%%s\\n" "$@" > "%s.tmp" && mv "%s.tmp" "%s"\n' %
                (seen, seen, seen))
    os.chmod(os.path.join(fake, "xdg-open"), 0o755)
    env = d.env({"PATH": fake + os.pathsep + os.environ["PATH"]})
    ui = Ui(bins["cli"], d.socket, root, env=env, args=["--open"])
    try:
        wait_for(lambda: os.path.exists(seen), 10, "xdg-open to run")
        with open(seen) as f:
            args = f.read().split("\n")[:-1]
        opener = os.path.join(d.runtime, "fieldsync", "ui-%d.html" % ui.port)
        check(args == [opener], "xdg-open got %r, expected the file %s" %
              ([a.replace(ui.token, "<token>") for a in args], opener))
        check(ui.token not in " ".join(args), "the token is not on xdg-open's command line")
        st = os.stat(opener)
        check(stat.S_IMODE(st.st_mode) == 0o600, "opener mode %o" % stat.S_IMODE(st.st_mode))
        with open(opener) as f:
            check(ui.url in f.read(), "the opener file forwards to the URL")
        rc, _ = ui.stop()
        check(rc == 0, "ui --open exit %s" % rc)
        check(not os.path.exists(opener), "the opener file is removed when the UI stops")
    finally:
        ui.stop()
    env.pop("XDG_RUNTIME_DIR")
    p = subprocess.run([bins["cli"], "--socket", d.socket, "ui", "--open"], env=env,
                       capture_output=True, text=True, timeout=30)
    check(p.returncode == 1 and "XDG_RUNTIME_DIR" in p.stderr, "--open without a runtime dir: "
          "%s %s" % (p.returncode, p.stderr))


def main():
    if len(sys.argv) != 6 or sys.argv[5] not in ("guard", "open", "browser"):
        print(__doc__)
        return 2
    bins = dict(zip(("server", "daemon", "cli", "demo"), sys.argv[1:5]))
    case = sys.argv[5]
    root = tempfile.mkdtemp(prefix="fs-ui-it-")
    try:
        if case == "guard":
            case_guard(bins, root)
        elif case == "open":
            case_open(bins, root)
        elif not browser_case.available():
            print("SKIP: no chromium or chromedriver (scripts/install-deps.sh installs them)")
            return SKIP
        else:
            browser_case.run(bins, root, PASSPHRASE)
        print("%s: ok" % case)
        return 0
    except TestFailure as e:
        traceback.print_exc()
        print("FAIL %s: %s" % (case, e))
        print_logs(root)
        return 1
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
