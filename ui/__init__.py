"""Small display helpers for the Streamlit app: formatting only, no image processing."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from model.classifier import Prediction, Reading, format_confidence
from model.second_opinion import UNSURE
from preprocessing.image import to_display_rgb

# Digit images are shown this many screen pixels wide: 28 x 4, so every pixel is a crisp 4x4 block.
DISPLAY_SIZE = 112
STEP_SIZE = 84  # the pipeline's steps, smaller so several fit on a row
DIGIT_ROW_SIZE = 56  # each digit of a number: eight of them fit on a row
UPLOAD_WIDTH = 480  # uploads are shown at most this wide, with the digits' boxes drawn on
BOX_COLOUR = (37, 99, 235)  # the theme's primary blue
MARKDOWN_SPECIAL = set("\\`*_{}[]<>()#+-.!|~$:")


def enlarge(image: np.ndarray, size: int = DISPLAY_SIZE) -> np.ndarray:
    """Repeat each pixel so a small image is about ``size`` pixels wide.

    Browsers smooth images they scale up, which turns a 28x28 digit into a blur;
    repeating pixels ourselves keeps them visible as blocks. Large images are returned as they are.
    """
    factor = max(1, size // max(image.shape[:2]))
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def with_boxes(image: np.ndarray, boxes: list[tuple[int, int, int, int] | None], longest: int = 960) -> np.ndarray:
    """An RGB copy of ``image``, at most ``longest`` px, with a rectangle around each box (input pixels)."""
    shown = to_display_rgb(image)
    scale = min(1.0, longest / max(shown.shape[:2]))
    if scale < 1.0:
        shown = cv2.resize(shown, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    shown = cv2.cvtColor(shown, cv2.COLOR_GRAY2RGB) if shown.ndim == 2 else shown.copy()
    thickness = max(2, round(max(shown.shape[:2]) / 200))
    for box in boxes:
        if box is not None:
            x, y, w, h = (round(v * scale) for v in box)
            cv2.rectangle(shown, (x - thickness, y - thickness), (x + w + thickness, y + h + thickness), BOX_COLOUR, thickness)
    return shown


def digit_caption(prediction: Prediction) -> str:
    """'7 · 99%' under a digit of a number; an unsure digit is marked."""
    mark = " ⚠" if prediction.low_confidence else ""
    return f"{prediction.digit} · {format_confidence(prediction.confidence)}{mark}"


def unsure_number_text(reading: Reading) -> str:
    """The warning shown when any digit of a number is below the confidence threshold."""
    unsure = [str(i) for i, d in enumerate(reading.digits, 1) if d.low_confidence]
    which = "digit " + unsure[0] if len(unsure) == 1 else "digits " + ", ".join(unsure)
    return f"Not sure about {which} (marked ⚠), so the whole number is a guess. Try writing it larger and clearer."


def plain(text: str) -> str:
    """Escape Markdown, so a file called my_digit_7.png is shown as written and not in italics."""
    return "".join("\\" + c if c in MARKDOWN_SPECIAL else c for c in text)


def confidence_text(confidence: float) -> str:
    """'confidence 98.7%' ('confidence > 99.9%' near certainty)."""
    return f"confidence {format_confidence(confidence)}"


def unsure_text(digit: int, confidence: float) -> str:
    """The warning shown when the network's best answer is below the confidence threshold."""
    return f"Not sure — this looks most like a {digit} ({confidence:.0%}). Try writing it larger and clearer."


def probability_chart(probabilities: list[float], digit: int | None = None) -> tuple[pd.DataFrame, dict]:
    """Data and Vega-Lite spec for ``st.vega_lite_chart``: ten bars on a fixed 0-100% axis, the answer highlighted.

    A plain spec rather than an Altair chart: Altair validates its schema on every rerun (~20 ms of the
    time between lifting the pen and seeing the answer).
    """
    data = pd.DataFrame({"digit": [str(d) for d in range(10)], "probability": probabilities})
    data["answer"] = data["digit"] == str(digit)
    spec = {
        "height": 170,
        "mark": {"type": "bar", "cornerRadiusEnd": 2},
        "encoding": {
            # Nominal x: the digits are labels, not quantities.
            "x": {"field": "digit", "type": "nominal", "title": None, "axis": {"labelAngle": 0, "labelFontSize": 13}},
            "y": {"field": "probability", "type": "quantitative", "title": None, "scale": {"domain": [0, 1]},
                  "axis": {"format": "%", "tickCount": 5}},
            "color": {"condition": {"test": "datum.answer", "value": "#2563eb"}, "value": "#cbd5e1"},
            "tooltip": [{"field": "digit"}, {"field": "probability", "format": ".1%"}],
        },
    }
    return data, spec


def load_card(path: Path) -> dict | None:
    """The training run's model card, or None when there is none (yet) or it is unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def per_class_table(card: dict) -> pd.DataFrame:
    """Precision, recall and F1 (in %) and the number of test images per digit, from the card's test results."""
    rows = card.get("test", {}).get("per_class", {})
    table = pd.DataFrame.from_dict(rows, orient="index").rename(columns={"f1-score": "F1", "support": "test images"})
    table.index.name = "digit"
    scores = [c for c in ("precision", "recall", "F1") if c in table]
    table[scores] = table[scores] * 100
    return table


def duration_text(seconds: float) -> str:
    """'42 s', '13 min' or '1 h 3 min': short enough for a metric in a quarter of the page."""
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def number_reader_lines(model_dir: Path) -> list[str]:
    """One Markdown line per helper network the number reader uses, with its measured figure."""
    lines = []
    check = load_card(model_dir / "whole_digit.json")
    if check and "accuracy" in check:
        lines.append(
            f"- **Whole-digit check**: is a cut-out candidate exactly one whole digit? Right on "
            f"{check['accuracy']:.1%} of {check.get('examples', 0):,} held-out candidates."
        )
    sequence = load_card(model_dir / "sequence.json")
    if sequence and "held_out_accuracy" in sequence:
        lines.append(
            f"- **Sequence reader**: reads the whole line at once (how many digits, where, which); "
            f"{sequence['held_out_accuracy']:.1%} of {sequence.get('held_out_lines', 0):,} held-out lines read exactly."
        )
    return lines


def second_opinion_text(model_dir: Path) -> str | None:
    """A Markdown paragraph on the second opinion on lone digits (``model.second_opinion``), or None without its card."""
    card = load_card(model_dir / "second_opinion.json")
    if not card or "test_accuracy" not in card:
        return None
    european = card.get("test_styles", {}).get("european_1", {})
    styles = f" and {european['accuracy']:.1%} of European 1s made from them" if "accuracy" in european else ""
    return (
        f"A lone digit the classifier reads with less than {UNSURE:.0%} confidence is also shown to a second network, "
        "trained with synthetic writing styles (a 1 with a flag, a crossed 7, an open 4, a thin broken 0, ...), "
        f"and the answer is the two networks' average. On its own it reads {card['test_accuracy']:.2%} of MNIST "
        f"test{styles} right."
    )

