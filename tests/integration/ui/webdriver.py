"""webdriver.py: a small W3C WebDriver client for the UI tests: starts
chromedriver (Debian's chromium-driver) on a free loopback port and drives a
headless Chromium through WebDriver's HTTP protocol, with no client library.
Every wait is a condition polled against a deadline."""
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
ENTER = "\ue007"
TAB = "\ue004"


class WebDriverError(Exception):
    pass


def find_browser():
    """(chromium, chromedriver) paths, or None when either is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        return None
    return chromium, driver


class Browser:
    def __init__(self, chromium, driver, width=1280, height=800):
        self.profile = tempfile.mkdtemp(prefix="fs-ui-chromium-")
        self.log = open(os.path.join(self.profile, "chromedriver.log"), "w+")
        self.proc = subprocess.Popen([driver, "--port=0"], stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        self.port = self._read_port()
        self.base = "http://127.0.0.1:%d" % self.port
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--user-data-dir=" + os.path.join(self.profile, "data"),
                "--window-size=%d,%d" % (width, height), "--lang=en-GB"]
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
        }}}
        self.sid = self._send("POST", "/session", caps)["sessionId"]
        self.viewport(width, height)

    def viewport(self, width, height):
        """Sizes the window so that the page itself (the screenshot) is width x height."""
        outer = self.js("return [window.outerWidth - window.innerWidth, "
                        "window.outerHeight - window.innerHeight]")
        self._s("POST", "/window/rect", {"width": width + outer[0], "height": height + outer[1]})

    def _read_port(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.search(r"started successfully on port (\d+)", line)
            if m:
                return int(m.group(1))
        raise WebDriverError("chromedriver did not say its port")

    def _send(self, method, path, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read())["value"]
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")
            raise WebDriverError("%s %s: %s %s" % (method, path, e.code, detail[:500]))

    def _s(self, method, path, body=None):
        return self._send(method, "/session/%s%s" % (self.sid, path), body)

    # ---- navigation and scripts ----

    def get(self, url):
        self._s("POST", "/url", {"url": url})

    def url(self):
        return self._s("GET", "/url")

    def js(self, script, *args):
        return self._s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def screenshot(self, path):
        png = base64.b64decode(self._s("GET", "/screenshot"))
        with open(path, "wb") as f:
            f.write(png)

    def console(self):
        """Browser console entries since the last call."""
        return self._s("POST", "/se/log", {"type": "browser"})

    # ---- elements ----

    def find(self, css):
        """The first element matching css, or None."""
        found = self._s("POST", "/elements", {"using": "css selector", "value": css})
        return Element(self, found[0][ELEMENT]) if found else None

    def find_all(self, css):
        found = self._s("POST", "/elements", {"using": "css selector", "value": css})
        return [Element(self, f[ELEMENT]) for f in found]

    def xpath(self, expr):
        found = self._s("POST", "/elements", {"using": "xpath", "value": expr})
        return Element(self, found[0][ELEMENT]) if found else None

    def wait(self, cond, timeout, what, step=0.05):
        deadline = time.monotonic() + timeout
        while True:
            try:
                v = cond()
            except WebDriverError:
                v = None  # e.g. an element replaced while it was read
            if v:
                return v
            if time.monotonic() > deadline:
                raise WebDriverError("timed out after %ss waiting for %s" % (timeout, what))
            time.sleep(step)

    def click(self, css=None, xpath=None, timeout=30):
        """Clicks the element once it exists; an element the page replaced
        under the click (a live refresh) is looked up again."""
        def attempt():
            e = self.find(css) if css else self.xpath(xpath)
            if e is None:
                return False
            e.click()
            return True
        self.wait(attempt, timeout, "to click %s" % (css or xpath))

    def texts(self, css):
        """The texts of every element matching css, read at one instant."""
        return self.js("return [...document.querySelectorAll(arguments[0])]"
                       ".map(e => e.innerText)", css)

    def wait_css(self, css, timeout=30):
        return self.wait(lambda: self.find(css), timeout, css)

    def wait_text(self, css, text, timeout=30):
        """Waits for an element matching css whose text contains text."""
        def cond():
            for e in self.find_all(css):
                if text in e.text():
                    return e
            return None
        return self.wait(cond, timeout, "%r in %s" % (text, css))

    def keys(self, text):
        """Types text into whatever has the focus, key by key."""
        acts = []
        for ch in text:
            acts += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        self._s("POST", "/actions", {"actions": [{"type": "key", "id": "keyboard",
                                                   "actions": acts}]})

    def active_id(self):
        return self.js("return document.activeElement && document.activeElement.id")

    def quit(self):
        try:
            self._send("DELETE", "/session/%s" % self.sid, timeout=20)
        except Exception:  # noqa: BLE001: best effort at teardown
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


class Element:
    def __init__(self, browser, eid):
        self.b = browser
        self.eid = eid

    def _e(self, method, path, body=None):
        return self.b._s(method, "/element/%s%s" % (self.eid, path), body)

    def click(self):
        self._e("POST", "/click", {})

    def type(self, text):
        self._e("POST", "/value", {"text": text})

    def clear(self):
        self._e("POST", "/clear", {})

    def text(self):
        return self._e("GET", "/text")

    def prop(self, name):
        return self._e("GET", "/property/%s" % name)

    def attr(self, name):
        return self._e("GET", "/attribute/%s" % name)
