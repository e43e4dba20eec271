"""browser_case.py: the `browser` case of test_ui.py: a rep's day in headless
Chromium against the real fieldsync-server, two real fieldsyncd (the laptop
behind `fieldsync ui`, and a tablet) and the real bridge. Each step waits for
what the rep would see; FIELDSYNC_UI_SCREENSHOTS=DIR keeps a screenshot of
each screen (docs/ui.md shows them)."""
import os
import subprocess
import time

from uitest import Ui, check
from test_sync_daemons import Device, Server
import webdriver as wd

SHOTS = os.environ.get("FIELDSYNC_UI_SCREENSHOTS")


def available():
    return wd.find_browser() is not None


class Page:
    """The browser on the UI, with the waits a rep's eyes would do."""

    def __init__(self, b):
        self.b = b
        self.console = []

    def ready(self):
        self.b.wait(lambda: self.b.js(
            "const m = document.querySelector('main');"
            "return document.readyState === 'complete' && m && !m.hasAttribute('aria-busy')"),
            15, "the page to finish drawing")

    def view(self, heading, timeout=30):
        """Waits until the page shows heading as its title."""
        self.b.wait(lambda: self.b.js(
            "const h = document.querySelector('main h1');"
            "return !document.querySelector('main').hasAttribute('aria-busy') && h &&"
            " h.textContent === arguments[0]", heading), timeout, "the %r page" % heading)

    def nav(self, name, heading):
        self.b.click('a[data-nav="%s"]' % name)
        self.view(heading)

    def main_text(self):
        return self.b.js("return document.querySelector('main').innerText")

    def wait_text(self, text, timeout=30, where="main"):
        self.b.wait(lambda: text in self.b.js(
            "return document.querySelector(arguments[0]).innerText", where),
            timeout, "%r on the page" % text)

    def keys(self, text):
        """Types text wherever the focus is (as a keyboard would)."""
        self.b.keys(text)

    def shot(self, name, top=True):
        """A screenshot for docs/ui.md: from the top of the page, without the
        passing notices of earlier steps."""
        if SHOTS:
            os.makedirs(SHOTS, exist_ok=True)
            self.b.js("document.getElementById('toasts').replaceChildren();" +
                      ("window.scrollTo(0, 0);" if top else ""))
            self.b.screenshot(os.path.join(SHOTS, name + ".png"))

    def collect_console(self):
        self.console += self.b.console()
        return self.console


def local_time(days, hour):
    t = time.localtime(time.time() + days * 86400)
    return int(time.mktime((t.tm_year, t.tm_mon, t.tm_mday, hour, 0, 0, 0, 0, -1)))


def load_book(bins, a):
    """A small generated book on the laptop, and two visits planned soon."""
    subprocess.run([bins["demo"], "--socket", a.d.socket, "--accounts", "40", "--seed", "3",
                    "--owner", "rep", "--quiet"], check=True, timeout=120, env=a.d.env())
    accts = a.c.call("record.list", {"kind": "account", "tier": "quoted", "limit": 3})["items"]
    check(len(accts) >= 2, "the demo book has quoted accounts: %r" % accts)
    for n, acc, days, hour, what in (
            (1, accts[1], 0, 16, "walk the plant with the maintenance lead"),
            (2, accts[0], 1, 10, "present the retrofit quote")):
        a.put("visit", "planned-%d" % n, {
            "account_id": acc["id"], "kind": "follow_up", "status": "planned",
            "planned_at": local_time(days, hour), "objective": what})
    a.sync()
    return accts[0]


def unlock(page, passphrase, heading):
    """Unlocks with the keyboard alone; the page goes on to heading."""
    b = page.b
    b.wait_css("#passphrase")
    check(b.active_id() == "passphrase", "the passphrase field has the focus")
    page.keys(passphrase + wd.ENTER)
    page.view(heading)


def step_open_and_unlock(page, ui, passphrase, opener):
    b = page.b
    b.get("file://" + opener)  # as xdg-open hands it to the browser
    b.wait_css("#unlock-form")
    page.ready()
    check(ui.token not in b.js("return document.cookie"), "the page's script cannot read the token")
    check(not b.url().endswith(ui.token) and "token" not in b.url(), "the token left the URL")
    page.shot("unlock")
    page.keys("not the passphrase" + wd.ENTER)
    b.wait_text("#unlock-error", "Wrong passphrase")
    check(b.find("#passphrase").prop("value") == "", "the field is emptied after a try")
    unlock(page, passphrase, "Today")
    page.shot("today")
    page.wait_text("walk the plant with the maintenance lead")


def step_accounts(page, acc):
    b = page.b
    page.nav("accounts", "Accounts")
    b.click(xpath="//nav[@class='tabs']/a[text()='Quoted']")
    page.wait_text(acc["name"])
    page.shot("accounts")
    # "/" jumps to the search from anywhere; the hits lead to the account
    b.js("document.activeElement.blur()")
    page.keys("/")
    b.wait(lambda: b.active_id() == "account-search", 15, "the search field to take the focus")
    word = acc["name"].split()[0]
    page.keys(word + wd.ENTER)
    b.wait_css("main mark")
    b.click(xpath="//a[starts-with(@href, '#/open/account/%s')]" % acc["id"])
    page.view(acc["name"])
    page.shot("account")


def step_add_visit(page, a, acc):
    b = page.b
    b.click(xpath="//a[text()='Add a visit']")
    page.view("New visit")
    b.find("#f-kind option[value='demo']").click()
    b.find("#f-objective").type("UITEST show the quayside crane running")
    b.js("const d = new Date(); d.setDate(d.getDate() + 1); d.setHours(11, 0, 0, 0);"
         "const p = n => String(n).padStart(2, '0');"
         "document.querySelector('#f-planned_at').value = `${d.getFullYear()}-${p(d.getMonth()"
         " + 1)}-${p(d.getDate())}T11:00`;")
    b.find("#f-next_step").type("send the crane quote")
    page.shot("visit")
    # a date the daemon refuses: the page says which field and why, keeps the form
    b.js("const f = document.querySelector('#f-next_step_date'); f.type = 'text';"
         "f.value = '2026-02-30';")
    b.find("#visit-form button[type='submit']").click()
    b.wait_text("#err-next_step_date", "next_step_date")
    check("Not saved" in b.find("#form-error").text(), "the form says it was not saved")
    check(b.find("#f-next_step_date").attr("aria-invalid") == "true", "the field is marked")
    b.find("#f-next_step_date").clear()
    b.find("#f-next_step_date").type("2026-12-24")
    b.find("#visit-form button[type='submit']").click()
    page.view(acc["name"])
    page.wait_text("UITEST show the quayside crane running")
    visits = a.c.call("record.list", {"kind": "visit", "account_id": acc["id"], "limit": 1000})
    mine = [v for v in visits["items"] if v.get("objective", "").startswith("UITEST")]
    check(len(mine) == 1, "one visit added: %r" % mine)
    v = mine[0]
    check(v["kind"] == "demo" and v["status"] == "planned" and v["next_step"] ==
          "send the crane quote" and v["next_step_date"] == "2026-12-24", "the visit: %r" % v)
    return v


def step_sync_to_tablet(page, b_dev, visit):
    b = page.b
    page.nav("sync", "Sync")
    b.click("#sync-now")
    page.wait_text("Last sync seen here", timeout=60)
    page.wait_text("Waiting to send\n0")
    page.shot("sync")
    b_dev.sync()
    got = b_dev.get("visit", visit["id"])
    check(got["record"]["objective"] == visit["objective"], "the tablet has the visit: %r" % got)


def step_edit_visit(page, a, b_dev, acc):
    """The tablet changes a visit's outcome while the laptop's form for it is
    open: the form says so, and saving sends only what the rep changed there
    (a box ticked), so both edits stand with no conflict and every other field,
    the seconds of its time included, stays as it was."""
    b = page.b
    visits = a.c.call("record.list", {"kind": "visit", "account_id": acc["id"], "limit": 1000})
    v = next(x for x in visits["items"] if x.get("outcome") and x["planned_at"] % 60 != 0)
    b.js("location.hash = arguments[0]", "#/visit/" + v["id"])
    page.view("Visit")
    b_dev.put("visit", v["id"], {"outcome": "UITEST tablet: they want it on Friday"})
    b_dev.sync()
    a.sync()
    b.wait(lambda: "changed on another device" in b.find(".notice").text(), 30,
           "the form's notice of the remote change")
    b.find("#f-next_step_done").click()
    b.find("#visit-form button[type='submit']").click()
    page.view(acc["name"])
    a.sync()
    b_dev.sync()
    want = dict(v, outcome="UITEST tablet: they want it on Friday",
                next_step_done=not v.get("next_step_done", False))
    for dev in (a, b_dev):
        rec = dev.get("visit", v["id"])
        check(rec["conflicts"] == [] and rec["record"] == want,
              "%s: both edits kept, nothing else touched: %r, expected %r" %
              (dev.name, rec, want))


def step_live(page, a, b_dev, acc):
    """A change made on the tablet appears on the laptop's open page."""
    b = page.b
    b.js("location.hash = arguments[0]", "#/account/" + acc["id"])
    page.view(acc["name"])
    b.js("window.__notReloaded = true")
    b_dev.put("account", acc["id"], {"notes": "UITEST the tablet says: ask for Mrs Hale"})
    b_dev.sync()
    a.sync()
    page.wait_text("UITEST the tablet says: ask for Mrs Hale")
    check(b.js("return window.__notReloaded === true"), "updated in place, not reloaded")


def step_conflict(page, a, b_dev, acc):
    b = page.b
    a.put("account", acc["id"], {"tier": "opportunity_tier"})
    b_dev.put("account", acc["id"], {"tier": "contracted"})
    a.sync()
    b_dev.sync()
    a.sync()
    b.wait(lambda: b.find("#conflict-count").text() == "1", 30, "the header's conflict count")
    page.nav("conflicts", "Conflicts")
    b.wait_css(".choice")
    page.shot("conflicts")
    values = b.texts(".choice[data-field='tier'] .value")
    check(sorted(values) == ["Contracted", "Opportunity"], "side by side: %r" % values)
    writers = " ".join(b.texts(".choice[data-field='tier'] .small"))
    check("this device" in writers and "tablet (rep)" in writers,
          "each value names the device that wrote it: %r" % writers)
    b.click(xpath="//div[contains(@class,'choice')][div[@class='value' and "
            "text()='Contracted']]//button")
    page.wait_text("No conflicts")
    check(a.conflicts() == [], "resolved on the laptop")
    check(a.get("account", acc["id"])["record"]["tier"] == "contracted", "the chosen value")
    a.sync()
    b_dev.sync()
    check(b_dev.conflicts() == [] and
          b_dev.get("account", acc["id"])["record"]["tier"] == "contracted",
          "resolved on the tablet too")


def step_pipeline(page, a):
    """The stale deals read as the report gives them: title, account, days."""
    stale = a.c.call("report.pipeline")["stale"]
    check(stale, "the demo book has stale deals")
    page.nav("pipeline", "Pipeline")
    rows = page.b.js("return [...document.querySelectorAll('main tr.stale')]"
                     ".map(r => [...r.cells].map(c => c.innerText.trim()))")
    o = stale[0]
    check(len(rows) == min(len(stale), 100) and
          rows[0][:2] == [o["title"] or o["id"], o["account_name"] or o["account_id"]] and
          rows[0][4] == str(o["days"]), "the stale table %r shows %r" % (rows[:2], o))
    page.shot("pipeline")


def step_daemon_restart(page, a, passphrase):
    """fieldsyncd stops: the page says so; it comes back locked: the page asks."""
    b = page.b
    a.d.stop()
    b.wait(lambda: "Cannot reach fieldsyncd" in b.js(
        "return document.querySelector('#banners').innerText"), 30, "the unreachable banner")
    page.shot("unreachable")
    a.d.start()
    b.wait_css("#passphrase", timeout=40)
    b.wait(lambda: b.js("return document.querySelector('#banners').innerText") == "", 20,
           "the banner to go")
    unlock(page, passphrase, "Pipeline")
    a.c = a.d.client(timeout=60)
    b.click("#lock")
    b.wait_css("#passphrase")
    check(a.c.call("status")["state"] == "locked", "locked from the page")


def run(bins, root, passphrase):
    chromium, driver = wd.find_browser()
    srv = Server(bins["server"], root)
    srv.admin("user", "add", "rep", "--role", "rep")
    srv.start()
    devices, ui, b = [], None, None
    try:
        a = Device(bins["daemon"], bins["cli"], srv, "laptop", passphrase=passphrase)
        devices.append(a)
        acc = load_book(bins, a)
        tablet = Device(bins["daemon"], bins["cli"], srv, "tablet")
        devices.append(tablet)
        tablet.sync()
        a.c.call("lock")
        fake = os.path.join(root, "bin")
        os.makedirs(fake)
        with open(os.path.join(fake, "xdg-open"), "w") as f:
            f.write("#!/bin/sh\nexit 0\n")  # the test's browser opens the file itself
        os.chmod(os.path.join(fake, "xdg-open"), 0o755)
        env = a.d.env({"PATH": fake + os.pathsep + os.environ["PATH"]})
        ui = Ui(bins["cli"], a.d.socket, root, env=env, args=["--open"])
        opener = os.path.join(a.d.runtime, "fieldsync", "ui-%d.html" % ui.port)
        b = wd.Browser(chromium, driver)
        page = Page(b)
        step_open_and_unlock(page, ui, passphrase, opener)
        step_accounts(page, acc)
        visit = step_add_visit(page, a, acc)
        step_sync_to_tablet(page, tablet, visit)
        step_edit_visit(page, a, tablet, acc)
        step_live(page, a, tablet, acc)
        step_conflict(page, a, tablet, acc)
        step_pipeline(page, a)
        errors = [e for e in page.collect_console() if e["level"] == "SEVERE"]
        check(errors == [], "browser console errors: %r" % errors)
        step_daemon_restart(page, a, passphrase)
        csp = [e for e in page.collect_console() if "Content Security Policy" in e["message"]]
        check(csp == [], "CSP violations: %r" % csp)
        rc, _ = ui.stop()
        check(rc == 0, "fieldsync ui exit %s" % rc)
    finally:
        if b is not None:
            b.quit()
        if ui is not None:
            ui.stop()
        for dev in devices:
            dev.cleanup()
        srv.stop()
