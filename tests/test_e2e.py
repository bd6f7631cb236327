"""End to end: the real app in headless Chromium, drawn on with the mouse like a person would.

    pytest -m e2e -s tests/test_e2e.py

Uses Debian's Chromium (``CHROMIUM_PATH``, default /usr/lib/chromium/chromium or /usr/bin/chromium) or,
failing that, a browser installed with ``playwright install chromium``. Screenshots and the server log go to
``artifacts/e2e/``; timings are printed and saved to ``artifacts/e2e/timings.json``.
Set ``E2E_DOCS_SCREENSHOT=1`` to also refresh ``docs/screenshot.png`` (test_docs_screenshot).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import require
from tests.digit_images import PATHS, draw_digit, png_bytes

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "e2e"
CANVAS_WIDTH, CANVAS_HEIGHT = 680, 220  # the app's canvas in canvas pixels
DIGIT_BOX = 280  # digit paths (tests/digit_images.py PATHS) are drawn in a 280x280 box
# Without these Chromium stalls on network lookups on a closed network.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]
FIRST_LOAD_MS = 90_000  # the first page of a fresh server imports TensorFlow
ANSWER_MS = 15_000
# The goal is 400 ms from mouse-up to answer (~200 ms of it is the canvas's own send delay); only a
# gross regression fails the test, the measured times are printed and saved for the record.
STROKE_LIMIT_MS = 3_000
HINT = "Draw a digit or a whole number in the box"
# A hand-drawn looking 2026 for the README's screenshot: (paths in the digit box, left edge on the canvas).
DOCS_TWO = [[(82, 100), (92, 70), (115, 52), (148, 47), (180, 57), (200, 82), (201, 112), (186, 142), (160, 170),
             (128, 198), (95, 226), (88, 233), (130, 231), (175, 229), (212, 233)]]
DOCS_SIX = [[(190, 45), (150, 85), (118, 140), (108, 190), (125, 228), (165, 236), (195, 205), (188, 168), (155, 155),
             (120, 175)]]
DOCS_NUMBER = [(DOCS_TWO, 0), (PATHS["0"], 140), (DOCS_TWO, 290), (DOCS_SIX, 430)]

# Records the time of the last mouse-up in the page, so latency is measured by the page's own clock.
MOUSE_UP_CLOCK = "window.addEventListener('mouseup', () => { window.__mouseUp = performance.now(); }, true);"
# The visible Draw-tab answer equals ``digit``: returns ms since the last mouse-up, else null.
ANSWER_SHOWN = """digit => {
  const shown = [...document.querySelectorAll('[data-testid="stMetricValue"]')].filter(e => e.offsetParent !== null);
  return shown.length === 1 && shown[0].innerText.trim() === digit ? performance.now() - window.__mouseUp : null;
}"""


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    started: float
    timings: dict = field(default_factory=dict)


def chromium_path() -> str | None:
    """Debian's Chromium; None when there is none (then Playwright's own browser is tried)."""
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/lib/chromium/chromium", "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        path = chromium_path()
        try:
            browser = p.chromium.launch(executable_path=path, headless=True, args=FLAGS)
        except sync_api.Error as exc:
            reason = str(exc).splitlines()[0]
            require(False, f"no usable Chromium (set CHROMIUM_PATH or run `playwright install chromium`): {reason}")
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(browser) -> Server:
    """``streamlit run app.py`` on a free port; its log goes to artifacts/e2e/server.log."""
    model = Path(os.environ.get("DIGITS_MODEL") or ROOT / "model" / "digits.onnx")
    require(model.is_file(), f"no trained model at {model}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "server.log"
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    with open(log_path, "w") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            server = Server(f"http://127.0.0.1:{port}", process, started)
            wait_until_healthy(server, log_path)
            server.timings["healthy_s"] = round(time.perf_counter() - started, 2)
            yield server
            rss = subprocess.run(["ps", "-o", "rss=", "-p", str(process.pid)], capture_output=True, text=True).stdout.strip()
            if rss:
                server.timings["server_rss_mb"] = round(int(rss) / 1024)
            report(server.timings)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_healthy(server: Server, log_path: Path, timeout: float = 60) -> None:
    """Poll /_stcore/health; fail at once, with the log, if the process exits."""
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            pytest.fail(f"streamlit exited with {server.process.returncode}:\n{log_path.read_text()}")
        try:
            if urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"streamlit not healthy after {timeout:.0f} s:\n{log_path.read_text()}")
        time.sleep(0.1)


def report(timings: dict) -> None:
    latencies = timings.get("stroke_to_answer_ms", [])
    if latencies:
        timings["stroke_to_answer_median_ms"] = round(statistics.median(latencies))
        timings["stroke_to_answer_max_ms"] = round(max(latencies))
    (ARTIFACTS / "timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    print(f"\nE2E timings: {json.dumps(timings)}", flush=True)


@pytest.fixture
def page(browser, server: Server, request):
    """A fresh browser context (a fresh Streamlit session) on the app; a screenshot is kept at the end."""
    context = browser.new_context(viewport={"width": 1100, "height": 1500})
    page = context.new_page()
    page.add_init_script(MOUSE_UP_CLOCK)
    page.goto(server.url)
    page.get_by_text(HINT).wait_for(timeout=FIRST_LOAD_MS)
    page.locator(".st-key-canvas-0 canvas.upper-canvas").wait_for(timeout=FIRST_LOAD_MS)
    yield page
    page.screenshot(path=ARTIFACTS / f"{request.node.name}.png")
    context.close()


def draw(page, canvas_key: str, paths: list[list[tuple[int, int]]], left: float | None = None) -> None:
    """Draw one digit with the mouse, one stroke per polyline.

    ``paths`` are in a 280x280 digit box, scaled to the canvas height; the box's left edge is at
    ``left`` canvas pixels (default: the middle of the canvas).
    """
    scale = CANVAS_HEIGHT / DIGIT_BOX
    left = (CANVAS_WIDTH - DIGIT_BOX * scale) / 2 if left is None else left
    canvas = page.locator(f".st-key-{canvas_key} canvas.upper-canvas")
    canvas.scroll_into_view_if_needed()
    for path in paths:
        box = canvas.bounding_box()  # read again for every stroke: each rerun may move the layout
        sx, sy = box["width"] / CANVAS_WIDTH, box["height"] / CANVAS_HEIGHT
        points = [(box["x"] + (left + x * scale) * sx, box["y"] + y * scale * sy) for x, y in path]
        page.mouse.move(*points[0])
        page.mouse.down()
        for point in points[1:]:
            page.mouse.move(*point, steps=15)
        page.mouse.up()


def wait_for_answer(page, digit: str) -> float:
    """Wait until the Draw tab shows ``digit``; return the ms from the last mouse-up."""
    try:
        return page.wait_for_function(ANSWER_SHOWN, arg=digit, polling="raf", timeout=ANSWER_MS).json_value()
    except Exception:
        shown = page.locator('[data-testid="stMetricValue"]:visible').all_inner_texts()
        pytest.fail(f"the app did not answer {digit} (it shows {shown}); see artifacts/e2e/", pytrace=False)


def test_first_render(page, server: Server) -> None:
    """The first page after the server starts: canvas, hint, tabs (the page fixture waited for the hint)."""
    server.timings["first_render_s"] = round(time.perf_counter() - server.started, 2)
    assert page.locator(".st-key-canvas-0 canvas.upper-canvas").is_visible()
    assert page.get_by_role("tab", name="Upload").is_visible() and page.get_by_role("tab", name="Model").is_visible()
    assert page.locator('[data-testid="stException"]').count() == 0
    print(f"\nserver start -> first full render: {server.timings['first_render_s']} s", flush=True)


@pytest.mark.parametrize("digit", ["7", "1", "0"])
def test_draw_clear_and_draw_again(page, server: Server, digit: str) -> None:
    """Draw a digit, see it recognised after mouse-up, clear, see the hint, draw it again."""
    latencies = server.timings.setdefault("stroke_to_answer_ms", [])
    for version in (0, 1):
        draw(page, f"canvas-{version}", PATHS[digit])
        latency = wait_for_answer(page, digit)
        latencies.append(round(latency))
        print(f"\ndrew {digit} (canvas {version}): mouse-up -> answer {latency:.0f} ms", flush=True)
        assert latency < STROKE_LIMIT_MS
        # The caption under the answer comes with the same rerun, but may paint a frame after the metric.
        page.get_by_text("confidence").first.wait_for(timeout=ANSWER_MS)
        if version == 0:
            page.screenshot(path=ARTIFACTS / f"draw-{digit}.png")
            page.get_by_role("button", name="Clear").click()
            page.get_by_text(HINT).wait_for(timeout=ANSWER_MS)
            assert page.locator('[data-testid="stMetricValue"]:visible').count() == 0
    assert page.locator('[data-testid="stException"]').count() == 0


def test_draw_a_number(page, server: Server) -> None:
    """Three digits side by side on the wide canvas are read as one number, each digit shown."""
    latencies = server.timings.setdefault("number_stroke_to_answer_ms", [])
    for digit, left in (("1", 0), ("7", 100), ("0", 260)):
        draw(page, "canvas-0", PATHS[digit], left)
    latency = wait_for_answer(page, "170")
    latencies.append(round(latency))
    print(f"\ndrew 170: mouse-up -> answer {latency:.0f} ms", flush=True)
    assert latency < STROKE_LIMIT_MS
    captions = page.get_by_text("for the whole number")
    assert captions.count() == 1 and captions.first.is_visible()
    # Each digit's network input; the images may come in a moment after the answer on a busy machine.
    page.locator('[data-testid="stImage"]:visible').nth(2).wait_for(timeout=ANSWER_MS)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_upload_good_and_corrupt_files(page) -> None:
    """Two files at once: the digit is recognised, the corrupt file gets a one-line error."""
    page.get_by_role("tab", name="Upload").click()
    page.locator('.st-key-uploads input[type="file"]').set_input_files([
        {"name": "seven.png", "mimeType": "image/png", "buffer": png_bytes(draw_digit("7"))},
        {"name": "corrupt.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n but then nothing useful"},
    ])
    error = page.get_by_text("Cannot read this file")
    error.wait_for(timeout=ANSWER_MS)
    answers = page.locator('[data-testid="stMetricValue"]:visible')
    answers.first.wait_for(timeout=ANSWER_MS)
    assert answers.all_inner_texts() == ["7"]
    assert error.count() == 1
    message = error.inner_text()
    assert "\n" not in message.strip() and len(message) > len("Cannot read this file: ") + 5
    assert page.get_by_text("seven.png").first.is_visible() and page.get_by_text("corrupt.png").first.is_visible()
    assert page.locator('[data-testid="stException"]').count() == 0


def test_docs_screenshot(page) -> None:
    """A drawn 2026 with its answer and each digit's network input, cropped to the content.

    Saved as a test artefact; with E2E_DOCS_SCREENSHOT=1 it also refreshes the README's docs/screenshot.png.
    """
    for paths, left in DOCS_NUMBER:
        draw(page, "canvas-0", paths, left)
    wait_for_answer(page, "2026")
    page.mouse.move(5, 5)  # the canvas shows its toolbar while hovered
    page.wait_for_timeout(600)
    title, tabs = page.locator("h1").first.bounding_box(), page.locator('[data-testid="stTabs"]').bounding_box()
    top, bottom = title["y"] - 40, tabs["y"] + tabs["height"] + 40
    clip = {"x": tabs["x"] - 40, "y": top, "width": tabs["width"] + 80, "height": bottom - top}
    page.screenshot(path=ARTIFACTS / "screenshot.png", clip=clip)
    if os.environ.get("E2E_DOCS_SCREENSHOT"):
        page.screenshot(path=ROOT / "docs" / "screenshot.png", clip=clip)
