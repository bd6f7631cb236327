"""End to end: correct one answer in the real app in headless Chromium, and see it counted in "Your data".

    pytest -m e2e -s tests/test_e2e_feedback.py

The server saves to a throwaway SQLite file (``DIGITS_DB_URL``, marked single-user with
``DIGITS_DB_SHARED=0`` so delete and download are on). Browser setup as in ``tests/test_e2e.py``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from store import SampleStore
from tests.conftest import require
from tests.digit_images import PATHS
from tests.test_e2e import (
    ANSWER_MS,
    ARTIFACTS,
    FIRST_LOAD_MS,
    HINT,
    MOUSE_UP_CLOCK,
    Server,
    browser,  # noqa: F401  (the module's browser fixture)
    draw,
    free_port,
    wait_for_answer,
    wait_until_healthy,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e-store") / "samples.sqlite"


@pytest.fixture(scope="module")
def server(browser, db: Path) -> Server:  # noqa: F811
    """``streamlit run app.py`` saving to ``db``; its log goes to artifacts/e2e/feedback-server.log."""
    require((ROOT / "model" / "digits.onnx").is_file(), "no trained model at model/digits.onnx")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / "feedback-server.log"
    port = free_port()
    env = os.environ | {"DIGITS_DB_URL": f"sqlite:///{db}", "DIGITS_DB_SHARED": "0"}
    env.pop("DIGITS_SAVE", None)
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            server = Server(f"http://127.0.0.1:{port}", process, time.perf_counter())
            wait_until_healthy(server, log_path)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def page(browser, server: Server, request):  # noqa: F811
    context = browser.new_context(viewport={"width": 1100, "height": 1500}, accept_downloads=True)
    page = context.new_page()
    page.add_init_script(MOUSE_UP_CLOCK)
    page.goto(server.url)
    page.get_by_text(HINT).wait_for(timeout=FIRST_LOAD_MS)
    page.locator(".st-key-canvas-0 canvas.upper-canvas").wait_for(timeout=FIRST_LOAD_MS)
    yield page
    page.screenshot(path=ARTIFACTS / f"{request.node.name}.png")
    context.close()


def metric(page, label: str) -> str:
    """The visible value of the metric called ``label``."""
    card = page.locator('[data-testid="stMetric"]:visible').filter(has=page.get_by_text(label, exact=True))
    return card.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_correct_a_drawn_digit_and_see_it_in_your_data(page, db: Path) -> None:
    draw(page, "canvas-0", PATHS["7"])
    wait_for_answer(page, "7")
    # The person wrote a 1 with a long flag, say: the right answer is 1.
    page.locator(".st-key-draw-digit-1 button").click()
    page.get_by_text("Saved as 1, corrected.").wait_for(timeout=ANSWER_MS)
    # Saving reran the page: the drawing and its answer are still there.
    assert page.locator('[data-testid="stMetricValue"]:visible').all_inner_texts() == ["7"]
    page.screenshot(path=ARTIFACTS / "feedback-draw.png")

    page.get_by_role("tab", name="Your data").click()
    page.get_by_text("Newest samples").wait_for(timeout=ANSWER_MS)
    assert metric(page, "Samples") == "1" and metric(page, "Corrections") == "1"
    page.screenshot(path=ARTIFACTS / "feedback-your-data.png")

    with page.expect_download(timeout=ANSWER_MS) as download:
        page.get_by_role("button", name="Download all as a zip").click()
    names = zipfile.ZipFile(io.BytesIO(Path(download.value.path()).read_bytes())).namelist()
    store = SampleStore(f"sqlite:///{db}")
    [sample] = store.recent()
    assert (sample.label, sample.predicted, sample.source) == (1, 7, "draw")
    assert f"digits/1/{sample.id}.png" in names and "samples.csv" in names

    page.locator(f".st-key-delete-{sample.id} button").click()
    page.get_by_text("Nothing saved yet").wait_for(timeout=ANSWER_MS)
    assert len(store) == 0
    store.close()
    assert page.locator('[data-testid="stException"]').count() == 0
