"""The dashboard in a real browser: Debian's chromium, headless, driven by Selenium through
/usr/bin/chromedriver, over HTTPS against the real `dongfeng` binary with the simulator feed.

Usage: dashboard_test.py DONGFENG_BINARY OUTPUT_DIR
Starts its own servers (port 0, temporary cert and data folders, the repository's Public/ as the
static root), always stops them, prints one line per check and a final "N passed, M failed" line,
and exits non-zero on any failure. Screenshots go to OUTPUT_DIR.

Checks, on a server at the simulator's default rate:
  page loads; the connection indicator says connected (in Chinese, the default); opportunity rows
  appear within 30 s; a risk alert appears; the chart draws; switching the language changes the
  headings and survives a reload; a forced WebSocket disconnect (held offline for a few seconds so
  events happen meanwhile) is followed by a reconnect and a resume with no gap: the opportunity
  seqs the page received equal those of GET /api/v1/opportunities?since_seq=<first - 1> up to the
  page's last one; no duplicates; no console errors.
Then, on a second server with the simulator at BURST_TICKS_PER_SECOND and the ticks channel
subscribed: the page keeps up (events/s measured in the page), stays responsive (every
execute_script round trip < 1 s), requestAnimationFrame keeps firing, the DOM stays capped, and
there are still no console errors."""
import json
import os
import re
import shutil
import signal
import ssl
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ws_e2e  # noqa: E402  (the server runner is shared with the WebSocket end-to-end test)
CHROMEDRIVER = "/usr/bin/chromedriver"
TIME_LIMIT_S = 420               # the whole script, servers and browser included
# The burst: the simulator at 1,000 ticks/s (its ceiling today: it advances market time by whole
# milliseconds, so faster settings still give ~1,000/s) plus INGEST_TICKS_PER_SECOND posted to
# /api/v1/ticks for four more symbols by this script: ~1,600 events/s on the ticks channel.
BURST_TICKS_PER_SECOND = 1000
INGEST_TICKS_PER_SECOND = 600
INGEST_SYMBOLS = ["900001.SH", "900002.SH", "900003.SZ", "900004.SZ"]
BURST_SECONDS = 10
EN_HEADINGS = ["Chart", "Opportunities", "System", "Risk alerts"]
ZH_HEADINGS = ["行情图", "交易机会", "系统状态", "风险警报"]


class CheckFailed(Exception):
    """A check's expectation not met (any other exception fails the check too)."""


def require(condition, message):
    if not condition:
        raise CheckFailed(message)


def wait_for(what, fn, timeout, interval=0.25):
    """Polls fn until it returns something truthy; returns it, or fails naming `what`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise CheckFailed(f"{what}: not within {timeout:g} s (last: {last!r})")


class Server(ws_e2e.Server):
    """The dongfeng binary with the simulator (ws_e2e's server: free port, its own cert and data
    folders, stopped by PID), plus REST helpers for the checks."""

    def __init__(self, binary, workdir, extra_env=None):
        os.makedirs(workdir, exist_ok=True)
        self.started = time.monotonic()
        # The default outbound cap (ws_e2e lowers it for its slow-client check).
        env = {"DFP_WEBSOCKET_OUTBOUND_CAP_BYTES": str(1 << 20)}
        env.update(extra_env or {})
        super().__init__(binary, workdir, feed="simulator", extra_env=env)
        self.url = f"https://127.0.0.1:{self.port}"
        self.ctx = ssl.create_default_context(cafile=self.cert)
        self.http = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                urllib.request.HTTPSHandler(context=self.ctx))

    def get(self, path):
        with self.http.open(self.url + path, timeout=10) as r:
            return json.loads(r.read())

    def post_ticks(self, ticks):
        request = urllib.request.Request(self.url + "/api/v1/ticks", data=json.dumps(ticks).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with self.http.open(request, timeout=10) as r:
            return json.loads(r.read())

    def opportunity_seqs(self, after, up_to):
        """Every opportunity seq in (after, up_to] from the REST API, paging with next_since_seq."""
        seqs, since = [], after
        while True:
            page = self.get(f"/api/v1/opportunities?since_seq={since}&limit=1000")
            items = page["items"]
            seqs += [o["seq"] for o in items if o["seq"] <= up_to]
            if not items or items[-1]["seq"] >= up_to or page["next_since_seq"] <= since:
                return seqs
            since = page["next_since_seq"]


class Browser:
    """Headless chromium through Selenium; keeps every console message it has seen."""

    def __init__(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        options = webdriver.ChromeOptions()
        for arg in ["--headless=new", "--no-sandbox", "--ignore-certificate-errors", "--window-size=1280,800"]:
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.console = []
        self.viewport(1280, 800)

    def viewport(self, width, height, scale=1, mobile=False):
        # --window-size includes the (invisible) window frame; this sets the page's viewport exactly.
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile})

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def stats(self):
        return self.js("return window.dongfeng ? window.dongfeng.stats() : null")

    def collect_console(self):
        self.console += self.driver.get_log("browser")
        return self.console

    def severe(self):
        return [e for e in self.collect_console() if e.get("level") == "SEVERE"]

    def screenshot(self, path, full_page=False):
        if not full_page:
            self.driver.save_screenshot(path)
            return
        import base64
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def quit(self):
        try:
            self.driver.quit()
        except Exception:
            pass


class Run:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, fn):
        started = time.monotonic()
        try:
            detail = fn()
            self.passed += 1
            took = time.monotonic() - started
            print(f"PASS {name}" + (f" — {detail}" if detail else "") + f" [{took:.1f} s]", flush=True)
            return True
        except Exception as e:  # noqa: BLE001 - every failure is reported, the run goes on
            self.failed += 1
            kind = "" if isinstance(e, CheckFailed) else f"{type(e).__name__}: "
            print(f"FAIL {name} — {kind}{e}", flush=True)
            return False


def headings(b):
    return b.js("return [...document.querySelectorAll('main h2')].map(h => h.textContent.trim())")


def main_checks(run, b, server, out):
    loaded_at = {}

    def page_loads():
        b.driver.get(server.url + "/")
        loaded_at["t"] = time.monotonic()
        require(b.js("return document.readyState") in ("interactive", "complete"), "document not loaded")
        wait_for("window.dongfeng test hook", lambda: b.js("return typeof window.dongfeng === 'object'"), 10)
        require(headings(b) == ZH_HEADINGS, f"default (Chinese) headings expected {ZH_HEADINGS}, got {headings(b)}")
        severe = b.severe()
        require(not severe, f"console errors: {severe}")
        return f"{server.url}/, headings {headings(b)}"
    if not run.check("page loads with no console errors", page_loads):
        return

    def connected():
        state = wait_for("indicator data-state=connected",
                         lambda: b.js("const c = document.getElementById('conn');"
                                      "return c.dataset.state === 'connected' && c.textContent.trim()"), 15)
        require(state == "已连接", f"indicator text {state!r}, expected 已连接")
        return f"indicator says {state!r}"
    run.check("connection indicator shows connected", connected)

    def rows():
        n = wait_for("opportunity rows",
                     lambda: b.js("return document.querySelectorAll('table.opps tbody tr').length"),
                     max(1, 30 - (time.monotonic() - loaded_at["t"])))
        first = b.js("const r = document.querySelector('table.opps tbody tr');"
                     "return [...r.children].map(c => c.textContent.trim())")
        require(first[1][0] in "▲▼", f"direction without an arrow: {first}")
        return f"{n} rows {time.monotonic() - loaded_at['t']:.1f} s after load; first row {first}"
    run.check("opportunity rows appear within 30 s", rows)

    def alert():
        n = wait_for("risk alert items", lambda: b.js("return document.querySelectorAll('.alert-list li').length"), 60)
        cls = b.js("return document.querySelector('.alert-list li').className")
        require(re.search(r"sev-(info|warning|critical)", cls), f"alert without severity styling: {cls}")
        text = b.js("return document.querySelector('.alert-list li').innerText.replace(/\\s+/g, ' ')")
        return f"{n} alerts; newest: {text[:90]}"
    run.check("a risk alert appears", alert)

    def chart():
        stats = wait_for("bars on the chart", lambda: (lambda s: s if s and s["chartBars"] > 0 else None)(b.stats()), 30)
        painted = b.js("""
            const c = document.querySelector('#chart canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
            return [n, c.width, c.height];""")
        require(painted[0] > 2000, f"canvas nearly blank: {painted}")
        legend = b.js("return document.querySelector('[data-role=chart-legend]').textContent")
        require(stats["chartSymbol"] in legend, f"legend {legend!r} does not name {stats['chartSymbol']}")
        return f"{stats['chartSymbol']}: {stats['chartBars']} bars, {painted[0]} painted pixels on {painted[1]}x{painted[2]}"
    run.check("chart draws bars for the selected symbol", chart)

    def hit_rates():
        # Live scoring: a strategy in a row shows its hit rate (GET /api/v1/strategies) once
        # enough of its signals had the bars after them close; it agrees with the API.
        cell = wait_for("a strategy with its hit rate", lambda: b.js(
            "return [...document.querySelectorAll('table.opps tbody td.col-strategies')]"
            ".map(c => [c.textContent, c.title]).find(([text]) => /%/.test(text)) || null"), 60)
        m = re.search(r"([a-z_]+) (\d+)%", cell[0])
        require(m, f"no 'name NN%' in {cell[0]!r}")
        items = server.get("/api/v1/strategies")["items"]
        score = next(i["live_score"] for i in items if i["name"] == m.group(1))
        rates = [round(h["hit_rate"] * 100) for h in score["horizons"] if h["hit_rate"] is not None]
        require(rates, f"{m.group(1)} has no scored horizon in the API: {score}")
        require(cell[1], "no tooltip with the hit rate's detail")
        return f"{cell[0]!r}; API hit rates {rates}"
    run.check("strategies show their live hit rate", hit_rates)

    def language():
        before = headings(b)
        b.driver.find_element("id", "lang-toggle").click()
        after = wait_for("English headings", lambda: (lambda h: h if h == EN_HEADINGS else None)(headings(b)), 5)
        require(before != after, "headings did not change")
        require(b.js("return document.documentElement.lang") == "en", "html lang not en")
        conn = b.js("return document.querySelector('#conn .conn-text').textContent")
        require(conn == "Connected", f"indicator not translated: {conn!r}")
        b.screenshot(os.path.join(out, "dashboard-1280x800-en.png"))
        b.driver.refresh()
        wait_for("page after reload", lambda: b.js("return typeof window.dongfeng === 'object'"), 10)
        require(headings(b) == EN_HEADINGS, f"language not remembered over a reload: {headings(b)}")
        b.driver.find_element("id", "lang-toggle").click()
        wait_for("Chinese headings again", lambda: headings(b) == ZH_HEADINGS, 5)
        return f"{before} -> {after}; remembered across reload; back to 中文"
    run.check("switching language changes the headings", language)

    def reconnect():
        wait_for("connected after reload", lambda: b.js("return window.dongfeng.state() === 'connected'"), 15)
        wait_for("opportunities on the page", lambda: len(b.js("return window.dongfeng.opportunitySeqs()")), 30)
        # Offline for 6 s so events happen meanwhile; again (up to 6 times) if no opportunity
        # happened to fire in that window (the simulator is a calm market), since then the
        # resume would not be exercised.
        for attempt in range(1, 7):
            before = b.stats()
            b.js("window.dongfeng.forceReconnect(6000)")
            wait_for("indicator leaves connected", lambda: b.js("return window.dongfeng.state()") != "connected", 3, 0.05)
            shown = b.js("return document.getElementById('conn').textContent.trim()")
            gap_start = b.stats()["resumeSeq"]  # the socket is closed: nothing arrives until the resume
            after = wait_for("reconnected", lambda: (lambda s: s if s["connects"] > before["connects"] and
                                                     b.js("return window.dongfeng.state()") == "connected" else None)(b.stats()), 20)
            missed = server.opportunity_seqs(gap_start, after["helloSeq"])
            if missed:
                break
        require(missed, f"no opportunity fired during {attempt} offline windows: the resume was not exercised")
        time.sleep(3)  # some live events after the resume
        seqs = b.js("return window.dongfeng.opportunitySeqs()")
        require(len(seqs) == len(set(seqs)), f"duplicates: {len(seqs) - len(set(seqs))} seqs received twice")
        first, last = min(seqs), max(seqs)
        expected = server.opportunity_seqs(first - 1, last)
        missing = sorted(set(expected) - set(seqs))
        extra = sorted(set(seqs) - set(expected))
        require(not missing and not extra, f"page vs REST in [{first}, {last}]: missing {missing[:20]}, extra {extra[:20]}")
        require(set(missed) <= set(seqs), f"missed while offline and not replayed: {sorted(set(missed) - set(seqs))}")
        notice = b.js("const n = document.getElementById('notice'); return n.hidden ? '' : n.textContent")
        return (f"offline ({shown!r}) over seq {gap_start}..{after['helloSeq']}, {len(missed)} opportunities "
                f"fired meanwhile and were replayed (notice {notice!r}); page has {len(seqs)} seqs {first}..{last} "
                f"= REST, 0 duplicates")
    run.check("forced disconnect: reconnect and resume with no gap", reconnect)

    def shots():
        b.screenshot(os.path.join(out, "dashboard-1280x800.png"))
        rows = b.js("return document.querySelectorAll('table.opps tbody tr').length")
        return f"{os.path.join(out, 'dashboard-1280x800.png')} ({rows} rows, {time.monotonic() - loaded_at['t']:.0f} s after first load)"
    run.check("screenshot 1280x800 (中文)", shots)

    def narrow():
        b.viewport(390, 844, scale=2, mobile=True)
        time.sleep(1.5)  # resize observers and a frame or two
        width = b.js("return [document.documentElement.clientWidth, document.documentElement.scrollWidth]")
        require(width[0] == 390 and width[1] <= 390, f"page wider than the 390 px viewport: {width}")
        canvas = b.js("const c = document.querySelector('#chart canvas'); return [c.width, c.clientWidth, devicePixelRatio]")
        require(canvas[0] == round(canvas[1] * canvas[2]), f"canvas not devicePixelRatio-sized: {canvas}")
        b.screenshot(os.path.join(out, "dashboard-390.png"))
        b.screenshot(os.path.join(out, "dashboard-390-full.png"), full_page=True)
        b.viewport(1280, 800)
        return f"no horizontal overflow; canvas {canvas[0]} px for {canvas[1]} css px at dpr {canvas[2]}"
    run.check("readable at 390 px wide (screenshots)", narrow)

    def console():
        severe = b.severe()
        require(not severe, f"console errors: {severe}")
        errors = b.stats()["errors"]
        require(not errors, f"page errors: {errors}")
        return f"{len(b.console)} console messages, none SEVERE"
    run.check("no console errors during the session", console)


class Loader:
    """Posts INGEST_TICKS_PER_SECOND ticks (wall-clock timestamps, a random walk per symbol) to
    /api/v1/ticks in batches ten times a second, until stopped."""

    def __init__(self, server):
        import random
        self.server, self.random = server, random.Random(7)
        self.prices = {s: 50.0 + 10 * i for i, s in enumerate(INGEST_SYMBOLS)}
        self.accepted = self.rejected = self.errors = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        per_batch = INGEST_TICKS_PER_SECOND // 10
        next_at = time.monotonic()
        while not self.stopping.is_set():
            now_ms = int(time.time() * 1000)
            batch = []
            for i in range(per_batch):
                symbol = INGEST_SYMBOLS[i % len(INGEST_SYMBOLS)]
                price = self.prices[symbol] = round(max(1.0, self.prices[symbol] * (1 + self.random.gauss(0, 0.0008))), 2)
                batch.append({"symbol": symbol, "ts": now_ms - 99 + i * 100 // per_batch, "price": price,
                              "volume": 100 * self.random.randint(1, 20), "bid": round(price - 0.01, 2), "ask": round(price + 0.01, 2)})
            try:
                result = self.server.post_ticks(batch)
                self.accepted += result["accepted"]
                self.rejected += len(result["rejected"])
            except Exception:  # noqa: BLE001 - a busy server (503) is counted, not fatal
                self.errors += 1
            next_at += 0.1
            self.stopping.wait(max(0.0, next_at - time.monotonic()))

    def stop(self):
        self.stopping.set()
        self.thread.join(5)


def burst_checks(run, b, server, out):
    def keeps_up():
        b.driver.get(server.url + "/")
        wait_for("connected", lambda: b.js("return window.dongfeng && window.dongfeng.state() === 'connected'"), 20)
        loader = Loader(server)
        try:
            # Opportunities start ~16 s after the server: measure while the table is live too.
            wait_for("opportunity rows", lambda: b.js("return document.querySelectorAll('table.opps tbody tr').length"),
                     max(1, 35 - (time.monotonic() - server.started)))
            b.js("""
                window.__probe = { maxGap: 0, frames: 0 };
                let last = performance.now();
                const f = (t) => { const p = window.__probe; p.maxGap = Math.max(p.maxGap, t - last); last = t; p.frames++;
                                   requestAnimationFrame(f); };
                requestAnimationFrame(f);""")
            ticks_before = server.get("/admin/health")["pipeline"]["ticks"]
            start = b.js("return [performance.now(), window.dongfeng.stats().messages]")
            worst_rtt, samples = 0.0, 0
            end = time.monotonic() + BURST_SECONDS
            while time.monotonic() < end:
                t0 = time.monotonic()
                b.js("return window.dongfeng.stats().frames")
                worst_rtt = max(worst_rtt, time.monotonic() - t0)
                samples += 1
                time.sleep(0.2)
            t0 = time.monotonic()
            now, messages, probe, rows, alerts, ticks_shown = b.js("""
                return [performance.now(), window.dongfeng.stats().messages, window.__probe,
                        document.querySelectorAll('table.opps tbody tr').length,
                        document.querySelectorAll('.alert-list li').length,
                        document.querySelector('[data-stat=ticksPerSec]').textContent]""")
            worst_rtt = max(worst_rtt, time.monotonic() - t0)
            ticks_after = server.get("/admin/health")["pipeline"]["ticks"]
        finally:
            loader.stop()
        seconds = (now - start[0]) / 1000
        rate = (messages - start[1]) / seconds
        server_rate = (ticks_after - ticks_before) / seconds
        fps = probe["frames"] / seconds
        stats = b.stats()
        b.screenshot(os.path.join(out, "dashboard-burst-1280x800.png"))
        require(worst_rtt < 1.0, f"execute_script round trip took {worst_rtt:.2f} s")
        require(rate >= 1000, f"page received {rate:.0f} messages/s, expected >= 1000")
        require(rate >= 0.9 * server_rate, f"page received {rate:.0f} messages/s of the pipeline's {server_rate:.0f} ticks/s")
        require(fps >= 20, f"requestAnimationFrame ran {fps:.1f} times/s")
        require(probe["maxGap"] < 1000, f"a frame took {probe['maxGap']:.0f} ms")
        require(0 < rows <= 200 and alerts <= 100, f"table/alerts not live or not capped: {rows} rows, {alerts} alerts")
        require(stats["longestTaskMs"] < 1000, f"a main-thread task took {stats['longestTaskMs']:.0f} ms")
        return (f"pipeline {server_rate:.0f} ticks/s ({loader.accepted} ingested, {loader.rejected} rejected, "
                f"{loader.errors} failed posts); page received {rate:.0f} messages/s (panel: {ticks_shown} ticks/s), "
                f"{fps:.0f} frames/s, worst frame gap {probe['maxGap']:.0f} ms, longest task {stats['longestTaskMs']:.0f} ms, "
                f"worst round trip {worst_rtt * 1000:.0f} ms over {samples} calls; {rows} rows, {alerts} alerts")
    run.check("burst over 1,000 events/s: page keeps up and stays responsive", keeps_up)

    def console():
        severe = b.severe()
        require(not severe, f"console errors: {severe}")
        return None
    run.check("no console errors under the burst", console)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        print("usage: dashboard_test.py DONGFENG_BINARY OUTPUT_DIR")
        return 2
    binary, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    missing = [p for p in (CHROMEDRIVER,) if not os.access(p, os.X_OK)]
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        missing.append("chromium")
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (Python)")
    if missing:
        print(f"missing: {', '.join(missing)} (Tests/run.sh installs them)")
        print("0 passed, 1 failed")
        return 1

    def out_of_time(signum, frame):
        raise TimeoutError(f"dashboard_test.py: over its {TIME_LIMIT_S} s limit")
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(TIME_LIMIT_S)

    started = time.monotonic()
    run = Run()
    work = tempfile.mkdtemp(prefix="dongfeng-dashboard-")
    server = browser = None
    try:
        try:
            server = Server(binary, os.path.join(work, "normal"))
            browser = Browser()
            main_checks(run, browser, server, out)
        finally:
            if server:
                server.stop()
        server = Server(binary, os.path.join(work, "burst"),
                        {"DFP_SIMULATOR_TICKS_PER_SECOND": str(BURST_TICKS_PER_SECOND)})
        burst_checks(run, browser, server, out)
    except Exception as e:  # noqa: BLE001 - setup failures count as a failed check
        run.failed += 1
        print(f"FAIL setup — {type(e).__name__}: {e}", flush=True)
        if server:
            print("server log (last lines):\n  " + "\n  ".join(server.log[-20:]))
    finally:
        signal.alarm(0)
        if browser:
            browser.quit()
        if server:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"screenshots in {out}; {time.monotonic() - started:.0f} s")
    print(f"{run.passed} passed, {run.failed} failed")
    return 0 if run.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
