"""The Streamlit app, headless: ``streamlit.testing.v1.AppTest`` runs app.py without a browser.

The canvas is a JavaScript component, so a drawing is injected as the value the component would send.
"""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import ui
from tests.conftest import require
from tests.digit_images import draw_digit, png_bytes, write

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
CANVAS_KEY = "canvas-0"  # the first canvas of a session; Clear moves on to canvas-1, ...


def digit_png(digit: int) -> bytes:
    """A photo-like upload: dark ink on white paper."""
    return png_bytes(draw_digit(str(digit)))


def canvas_value(digit: int) -> dict:
    """What st_canvas 0.13 stores for a drawing: Fabric JSON plus the canvas as a PNG data URL.

    The app draws white ink on a black background, so the canvas PNG is opaque RGBA.
    """
    grey = draw_digit(str(digit), ink=255, background=0)
    rgba = np.dstack([grey, grey, grey, np.full_like(grey, 255)])
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    data = base64.b64encode(buf.getvalue()).decode()
    raw = {"version": "6.7.1", "objects": [{"type": "path", "stroke": "#FFFFFF", "strokeWidth": 18}], "background": "#000000"}
    return {"drawing": {"raw": raw, "data": f"data:image/png;base64,{data}"}, "backgroundFit": None}


@pytest.fixture
def app() -> AppTest:
    """The app with the trained model (``$DIGITS_MODEL`` or the committed one), after its first run."""
    path = Path(os.environ.get("DIGITS_MODEL") or ROOT / "model" / "digits.onnx")
    require(path.is_file(), f"no trained model at {path}")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    return at


def metric_values(at: AppTest, label: str = "Prediction") -> list[str]:
    return [m.value for m in at.metric if m.label in (label, "Best guess")]


def uploader(at: AppTest):
    return at.file_uploader(key="uploads")


# --- Draw -----------------------------------------------------------------------------------------


def test_blank_canvas_shows_a_hint_and_no_prediction(app: AppTest) -> None:
    assert any("Draw a digit or a whole number in the box" in i.value for i in app.info)
    assert metric_values(app) == []
    assert [t.label for t in app.tabs] == ["Draw", "Upload", "Your data", "Model"]


@pytest.mark.parametrize("digit", [7, 1, 0])
def test_drawn_digit_is_recognised(app: AppTest, digit: int) -> None:
    app.session_state[CANVAS_KEY] = canvas_value(digit)
    app.run()
    assert not app.exception, app.exception
    assert metric_values(app) == [str(digit)]
    assert any(c.value.startswith("confidence ") for c in app.caption)
    assert not any("Draw a digit or a whole number in the box" in i.value for i in app.info)


def test_canvas_without_strokes_is_blank(app: AppTest) -> None:
    """What the canvas sends after its own toolbar reset: an image, but no objects."""
    value = canvas_value(7)
    value["drawing"]["raw"]["objects"] = []
    app.session_state[CANVAS_KEY] = value
    app.run()
    assert metric_values(app) == []
    assert any("Draw a digit or a whole number in the box" in i.value for i in app.info)


def test_clear_gives_an_empty_canvas(app: AppTest) -> None:
    app.session_state[CANVAS_KEY] = canvas_value(7)
    app.run()
    assert metric_values(app) == ["7"]
    app.button(key="clear").click().run()
    assert app.session_state["canvas_version"] == 1
    assert metric_values(app) == []
    assert any("Draw a digit or a whole number in the box" in i.value for i in app.info)


# --- Upload ---------------------------------------------------------------------------------------


def test_uploaded_png_is_recognised(app: AppTest) -> None:
    uploader(app).upload("seven.png", digit_png(7), "image/png")
    app.run()
    assert not app.exception, app.exception
    assert metric_values(app) == ["7"]
    assert [h.value for h in app.tabs[1].subheader] == [ui.plain("seven.png")]


def test_a_number_written_small_on_a_photographed_page_is_read(app: AppTest) -> None:
    """A 2400x1800 JPEG of a page with "2024" written 35 px tall: decoded at 1600 px and analysed at
    800, its digits are 12 px, and the part of the photo that holds them is read again closer; the
    app shows that reading like any other."""
    number = cv2.resize(write("2024", paper=235), None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    page = np.full((1800, 2400, 3), 235, np.uint8)
    page[900 : 900 + number.shape[0], 1000 : 1000 + number.shape[1]] = number[..., None]
    uploader(app).upload("page.jpg", cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes(), "image/jpeg")
    app.run()
    assert not app.exception, app.exception
    assert metric_values(app) == ["2024"]


def test_bad_file_gets_an_error_with_a_reason(app: AppTest) -> None:
    uploader(app).upload("notes.png", b"this is not an image", "image/png")
    app.run()
    assert not app.exception, app.exception
    assert metric_values(app) == []
    assert len(app.error) == 1
    message = app.error[0].value
    assert message.startswith("Cannot read this file: ") and len(message) > len("Cannot read this file: ") + 5
    assert "\n" not in message


def test_several_files_one_bad(app: AppTest) -> None:
    uploader(app).set_value([
        ("seven.png", digit_png(7), "image/png"),
        ("broken.jpg", b"\xff\xd8\xff\xe0 truncated jpeg", "image/jpeg"),
        ("zero.png", digit_png(0), "image/png"),
    ])
    app.run()
    assert not app.exception, app.exception
    assert metric_values(app) == ["7", "0"]
    assert len(app.error) == 1
    assert [h.value for h in app.tabs[1].subheader][:3] == [ui.plain(n) for n in ("seven.png", "broken.jpg", "zero.png")]


def test_a_file_that_breaks_the_pipeline_does_not_stop_the_others(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    from model import DigitClassifier

    real_read = DigitClassifier.read

    def read(self, image: np.ndarray):
        if image.shape[0] < 100:
            raise RuntimeError("simulated pipeline failure")
        return real_read(self, image)

    monkeypatch.setattr(DigitClassifier, "read", read)
    uploader(app).set_value([("small.png", png_bytes(draw_digit("1", size=56)), "image/png"),
                             ("seven.png", digit_png(7), "image/png")])
    app.run()
    assert not app.exception, app.exception
    assert [e.value for e in app.error] == ["Cannot process this image: simulated pipeline failure"]
    assert metric_values(app) == ["7"]


def test_blank_upload_says_why_there_is_no_digit(app: AppTest) -> None:
    uploader(app).upload("empty-page.png", png_bytes(np.full((200, 200), 255, np.uint8)), "image/png")
    app.run()
    assert not app.exception, app.exception
    assert metric_values(app) == []
    assert app.info and all(i.value for i in app.info)


# --- One result card ------------------------------------------------------------------------------


def _low_confidence_card() -> None:
    import numpy as np

    from app import show_prediction
    from model import Prediction

    probabilities = [0.0] * 10
    probabilities[4], probabilities[9] = 0.62, 0.38
    show_prediction(Prediction(4, 0.62, probabilities, np.zeros((28, 28), np.uint8)), steps_key="test")


def _no_digit_card() -> None:
    from app import show_prediction
    from model import Prediction

    show_prediction(Prediction(None, None, None, None, "No ink found: the image is blank."))


def test_low_confidence_is_a_guess_with_a_warning() -> None:
    at = AppTest.from_function(_low_confidence_card, default_timeout=60).run()
    assert not at.exception, at.exception
    assert [(m.label, m.value) for m in at.metric] == [("Best guess", "4")]
    assert at.warning[0].value.startswith("Not sure — this looks most like a 4 (62%)")


def test_no_digit_shows_the_reason_and_no_answer() -> None:
    at = AppTest.from_function(_no_digit_card, default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.metric.len == 0
    assert at.info[0].value == "No ink found: the image is blank."


# --- Model problems and the Model tab -------------------------------------------------------------


def test_missing_model_is_an_error_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGITS_MODEL", str(tmp_path / "digits.keras"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert "No trained model at" in at.error[0].value
    assert "python -m training.train" in at.error[0].value
    # Draw and Upload still work, they just say there is no model.
    uploader(at).upload("seven.png", digit_png(7), "image/png")
    at.run()
    assert not at.exception, at.exception
    assert sum("once a model is available" in i.value for i in at.info) == 2
    assert any("No model card" in i.value for i in at.info)


def test_corrupt_model_is_an_error_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "digits.keras").write_bytes(b"PK\x03\x04 definitely not a keras archive")
    monkeypatch.setenv("DIGITS_MODEL", str(tmp_path / "digits.keras"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert "Cannot load the model" in at.error[0].value
    assert "python -m training.train" in at.error[0].value


def test_model_tab_shows_the_card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    per_class = {str(d): {"precision": 0.99, "recall": 0.98, "f1-score": 0.985, "support": 1000} for d in range(10)}
    card = {"name": "mnist-test", "architecture": "cnn", "parameters": 123456, "created": "2026-01-01T00:00:00+00:00",
            "training": {"epochs_run": 12, "best_epoch": 10, "train_seconds": 754.2},
            "test": {"accuracy": 0.9931, "loss": 0.02, "per_class": per_class}}
    (tmp_path / "model_card.json").write_text(json.dumps(card))
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "confusion_matrix.png").write_bytes(png_bytes(np.full((40, 60), 255, np.uint8)))
    (tmp_path / "reports" / "comparison.md").write_text("| model | accuracy |\n|---|---|\n| cnn | 99.3% |\n")
    monkeypatch.setenv("DIGITS_MODEL", str(tmp_path / "digits.keras"))  # no model: the card is still shown
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == "99.31%"
    assert metrics["Parameters"] == "123,456"
    assert metrics["Training time"] == "13 min"
    assert metrics["Epochs"] == "10 of 12"
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 10
    headings = [h.value for h in at.subheader]
    assert "Confusion matrix" in headings and "Compared with other models" in headings
    assert "Training curves" not in headings  # figures that do not exist are skipped silently
    # No helper networks in this folder.
    assert "Reading whole numbers" not in headings and "A second opinion on unsure digits" not in headings


def test_model_tab_describes_the_number_readers_helpers() -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()  # the committed model, with its helpers beside it
    assert not at.exception, at.exception
    assert "Reading whole numbers" in [h.value for h in at.subheader]
    text = " ".join(m.value for m in at.markdown)
    assert "Whole-digit check" in text and "Sequence reader" in text and "held-out lines read exactly" in text
    assert "A second opinion on unsure digits" in [h.value for h in at.subheader] and "European 1s" in text


# --- Display helpers ------------------------------------------------------------------------------


def test_enlarge_keeps_pixels_as_blocks() -> None:
    small = np.arange(28 * 28, dtype=np.uint8).reshape(28, 28)
    big = ui.enlarge(small)
    assert big.shape == (112, 112)
    assert (big[:4, :4] == small[0, 0]).all() and (big[-4:, -4:] == small[-1, -1]).all()
    assert ui.enlarge(np.zeros((300, 200, 3), np.uint8)).shape == (300, 200, 3)


def test_text_helpers() -> None:
    assert ui.confidence_text(0.98734) == "confidence 98.7%"
    assert ui.confidence_text(0.99996) == "confidence > 99.9%"  # softmax is never certain
    assert ui.duration_text(42) == "42 s" and ui.duration_text(2423) == "40 min" and ui.duration_text(3780) == "1 h 3 min"
    assert ui.plain("my_digit_7.png") == "my\\_digit\\_7\\.png"
