"""Many people drawing at once: N browser sessions write numbers on the app's canvas at the same time.

    python benchmarks/sessions.py [--sessions 6] [--rounds 3]

Starts ``streamlit run app.py`` (the project's .streamlit/config.toml applies) and one headless
Chromium, then first ONE session alone (the baseline) and then N sessions together each write
"170" stroke by stroke, ``--rounds`` times, pressing Clear between rounds. Every stroke must be
answered with the number so far ("1", "17", "170"). Prints, for the baseline and the crowd:
strokes answered, p50/p95/max of mouse-up -> answer (measured by each page's own clock), errors
shown in any page, the server's resident memory (peak and at the end) and warnings or tracebacks
in the server's log. Needs Chromium (see tests/test_e2e.py); the browser shares the machine's
cores with the server, so on a small machine the latencies include the browsers' own work.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.digit_images import PATHS  # noqa: E402
from tests.test_e2e import (  # noqa: E402  (the real-browser test's selectors and settings, so both stay in step)
    ANSWER_SHOWN,
    CANVAS_HEIGHT,
    CANVAS_WIDTH,
    DIGIT_BOX,
    FLAGS,
    HINT,
    MOUSE_UP_CLOCK,
    chromium_path,
    free_port,
)

NUMBER = [("1", 0), ("7", 100), ("0", 260)]  # (digit, left edge in canvas pixels): the e2e test's 170
ANSWER_TIMEOUT_MS = 20_000
SHOTS = ROOT / "artifacts" / "sessions"  # the canvas of every stroke that was not answered


class Server:
    """``streamlit run app.py`` with its log in a file and its memory sampled every 100 ms."""

    def __init__(self, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(self.port),
                   "--server.address", "127.0.0.1"]
        self._log = open(log_path, "w")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT)
        self.peak_rss_mb = 0.0
        self._sampling = True
        threading.Thread(target=self._sample, daemon=True).start()

    def rss_mb(self) -> float:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def _sample(self) -> None:
        while self._sampling:
            self.peak_rss_mb = max(self.peak_rss_mb, self.rss_mb())
            time.sleep(0.1)

    def wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"streamlit exited:\n{self.log_path.read_text()}")
            try:
                if urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2).read() == b"ok":
                    return
            except OSError:
                time.sleep(0.1)
        sys.exit(f"streamlit not healthy after {timeout} s")

    def stop(self) -> None:
        self._sampling = False
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


async def draw_digit(page, canvas_key: str, digit: str, left: float) -> None:
    """One digit as the e2e test draws it: its polylines scaled to the canvas height, one stroke each."""
    scale = CANVAS_HEIGHT / DIGIT_BOX
    canvas = page.locator(f".st-key-{canvas_key} canvas.upper-canvas")
    for path in PATHS[digit]:
        box = await canvas.bounding_box()
        sx, sy = box["width"] / CANVAS_WIDTH, box["height"] / CANVAS_HEIGHT
        points = [(box["x"] + (left + x * scale) * sx, box["y"] + y * scale * sy) for x, y in path]
        await page.mouse.move(*points[0])
        await page.mouse.down()
        for point in points[1:]:
            await page.mouse.move(*point, steps=15)
        await page.mouse.up()


async def session(browser, url: str, rounds: int, results: dict) -> None:
    """One person: open the app, write 170 stroke by stroke ``rounds`` times, clearing in between."""
    context = await browser.new_context(viewport={"width": 1100, "height": 1400})
    page = await context.new_page()
    await page.add_init_script(MOUSE_UP_CLOCK)
    await page.goto(url)
    await page.get_by_text(HINT).wait_for(timeout=120_000)
    for version in range(rounds):
        key = f"canvas-{version}"
        canvas = page.locator(f".st-key-{key} canvas.upper-canvas")
        await canvas.wait_for(timeout=60_000)
        first_canvas = await canvas.element_handle()  # still in the page at the end of the round, unless re-created
        expected = ""
        for digit, left in NUMBER:
            expected += digit
            await draw_digit(page, key, digit, left)
            try:
                handle = await page.wait_for_function(ANSWER_SHOWN, arg=expected, polling="raf", timeout=ANSWER_TIMEOUT_MS)
                results["latencies"].append(await handle.json_value())
            except Exception:
                shown = await page.locator('[data-testid="stMetricValue"]:visible').all_inner_texts()
                results["missed"].append(f"round {version + 1}: expected {expected}, shown {shown}")
                if results.get("shots"):
                    name = f"missed-{len(results['missed'])}-{expected}.png"
                    await page.locator(f".st-key-{key}").screenshot(path=results["shots"] / name)
        if not await first_canvas.evaluate("c => c.isConnected"):
            results["recreated"] += 1
        if version + 1 < rounds:
            await page.get_by_role("button", name="Clear").click()
            await page.get_by_text(HINT).wait_for(timeout=60_000)
    results["errors"] += await page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count()
    await context.close()


async def crowd(url: str, sessions: int, rounds: int) -> dict:
    from playwright.async_api import async_playwright

    results = {"latencies": [], "missed": [], "errors": 0, "recreated": 0, "shots": SHOTS}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), headless=True, args=FLAGS)
        start = time.perf_counter()
        await asyncio.gather(*(session(browser, url, rounds, results) for _ in range(sessions)))
        results["seconds"] = time.perf_counter() - start
        await browser.close()
    return results


def summary(label: str, sessions: int, rounds: int, r: dict, server: Server) -> str:
    lat = sorted(r["latencies"])
    total = sessions * rounds * len(NUMBER)
    p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))] if lat else float("nan")
    return (f"| {label} | {len(lat)}/{total} | {statistics.median(lat) if lat else float('nan'):.0f} | {p95:.0f} | "
            f"{max(lat) if lat else float('nan'):.0f} | {r['errors']} | {server.peak_rss_mb:.0f} | {server.rss_mb():.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    SHOTS.mkdir(parents=True, exist_ok=True)
    log_path = Path(tempfile.gettempdir()) / f"sessions-benchmark-{os.getpid()}.log"
    server = Server(log_path)
    try:
        server.wait_healthy()
        print(f"server healthy, RSS {server.rss_mb():.0f} MB; load average {os.getloadavg()[0]:.2f}")
        rows = []
        for label, n in (("1 session alone", 1), (f"{args.sessions} sessions at once", args.sessions)):
            result = asyncio.run(crowd(server.url, n, args.rounds))
            rows.append(summary(label, n, args.rounds, result, server))
            for miss in result["missed"][:10]:
                print(f"  {label}: not answered: {miss}")
            if result["recreated"]:
                print(f"  {label}: in {result['recreated']} rounds the canvas element was re-created while drawing")
            print(f"{label}: {result['seconds']:.1f} s", flush=True)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        server.stop()
    log = log_path.read_text()
    alarming = [line for line in log.splitlines() if any(w in line for w in ("Traceback", "Error", "WARNING", "Warning"))]
    print()
    print("| | strokes answered | p50 ms | p95 ms | max ms | errors shown | server RSS peak MB | server RSS end MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print(f"\nserver log: {len(log.splitlines())} lines, {len(alarming)} with a warning, error or traceback ({log_path})")
    for line in alarming[:10]:
        print(f"  {line}")


if __name__ == "__main__":
    main()
