"""Written numbers for testing the reader: real MNIST *test* digits placed side by side.

Each number (1 to 8 digits) is composed like handwriting on a line: the digits' heights vary a
little, they sit on a slightly wavy baseline, and the gaps between them are natural. Layouts:

* ``apart``: every digit stands free (gaps of 8-45% of the digit height);
* ``touching``: one pair of neighbours is pushed together until their ink touches or overlaps a
  little, the way fast handwriting joins "00" or "23" at the baseline;
* ``broken``: one digit has a stroke cut by a thin gap (a 5's bar lifted off, a broken loop);
* ``ruled``: written on ruled paper or underlined, the line close under or touching the digits.

The composed ink is then rendered like an input people give: the app's canvas, a transparent
canvas, a phone photo of paper, a grey scan, a hair-thin pen, a fat marker, or a phone photo of a
squared or ruled notebook page, its printed lines through the digits (``tests.corpus.notebook_photo``).

    from tests.number_corpus import generate_numbers
    numbers = generate_numbers(mnist_test_images, mnist_test_labels, n_per_condition=40, seed=0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from tests.corpus import _jpeg, _lighting, notebook_photo

LAYOUTS = ("apart", "touching", "broken", "ruled")
MAX_DIGITS = 8


@dataclass(frozen=True)
class NumberSample:
    """One image of a written number: the image, the digits written, how it was made."""

    image: np.ndarray
    text: str
    layout: str
    renderer: str

    @property
    def condition(self) -> str:
        return f"{self.layout}/{self.renderer}"


def _tight(digit: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(digit > 30)
    return digit[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32) / 255.0


def _fits_at(canvas: np.ndarray, glyph: np.ndarray, x: int, y: int) -> bool:
    """True when ``glyph`` placed at (x, y) leaves a clear gap (2 px) to the ink already there."""
    h, w = glyph.shape
    window = canvas[max(0, y - 2) : y + h + 2, max(0, x - 2) : x + w + 2]
    grown = cv2.dilate((glyph > 0.15).astype(np.uint8), np.ones((5, 5), np.uint8))
    region = window[: grown.shape[0], : grown.shape[1]] > 0.15
    return not np.any(region & (grown[: region.shape[0], : region.shape[1]] > 0))


def _touches(canvas: np.ndarray, glyph: np.ndarray, x: int, y: int) -> bool:
    h, w = glyph.shape
    return bool(np.any((canvas[y : y + h, x : x + w] > 0.3) & (glyph > 0.3)))


def compose_number(
    digits: list[np.ndarray], labels_of: list[int], rng: np.random.Generator, layout: str, height: int = 48
) -> np.ndarray:
    """Coverage (float32 0..1, ink = 1) of a row of MNIST digits (and their labels) written ``height`` px tall."""
    glyphs = []
    for d in digits:
        g = _tight(d)
        scale = height * rng.uniform(0.88, 1.1) / g.shape[0]
        size = (max(1, round(g.shape[1] * scale)), max(1, round(g.shape[0] * scale)))
        glyphs.append(np.clip(cv2.resize(g, size, interpolation=cv2.INTER_CUBIC), 0, 1))
    if layout == "broken":
        i = int(rng.integers(len(glyphs)))
        g = glyphs[i].copy()
        gap = max(2, round(rng.uniform(0.03, 0.07) * g.shape[0]))
        loop = int(labels_of[i]) in (0, 6, 8, 9)
        if not loop or rng.random() < 0.5:  # a lifted top bar, a 4 in two strokes, a break across the upper loop
            row = int(rng.uniform(0.18, 0.4) * g.shape[0])
            g[row : row + gap] = 0
        else:  # a loop drawn in two strokes that do not meet
            col = int(rng.uniform(0.3, 0.7) * g.shape[1])
            g[:, col : col + gap] = 0
        glyphs[i] = g
    touch_at = int(rng.integers(1, len(glyphs))) if layout == "touching" and len(glyphs) > 1 else -1

    margin = height
    width = sum(g.shape[1] for g in glyphs) + len(glyphs) * height + 2 * margin
    canvas = np.zeros((height * 3, width), np.float32)
    x = prev_right = margin
    for i, g in enumerate(glyphs):
        y = int(height + height * rng.uniform(-0.06, 0.06) + (height - g.shape[0]) * rng.uniform(0.3, 1.0))
        if i > 0:
            # Slide the digit left from a safe distance to where it would meet the previous one.
            start = x + height
            x = start
            while x > 0 and _fits_at(canvas, g, x - 1, y):
                x -= 1
            if i == touch_at:
                # Push on until the ink touches, overlapping the boxes by at most a third of the
                # narrower digit: touching handwriting, not one digit written over another.
                limit = prev_right - int(0.3 * min(g.shape[1], glyphs[i - 1].shape[1]))
                while x > limit and not _touches(canvas, g, x, y):
                    x -= 1
                x = max(limit, x - int(rng.integers(0, max(1, round(0.04 * height)) + 1)))
            else:
                x += int(rng.uniform(0.08, 0.45) * height)
        canvas[y : y + g.shape[0], x : x + g.shape[1]] = np.maximum(canvas[y : y + g.shape[0], x : x + g.shape[1]], g)
        x += g.shape[1]
        prev_right = x
    canvas = canvas[:, : x + margin]
    if layout == "ruled":
        ys, xs = np.nonzero(canvas > 0.3)
        bottom = int(ys.max())
        thickness = max(1, round(height * rng.uniform(0.02, 0.06)))
        line_y = bottom + int(rng.uniform(-0.05, 0.12) * height)
        if rng.random() < 0.5:  # an underline, a little longer than the number
            x0 = max(0, int(xs.min() - rng.uniform(0.1, 0.6) * height))
            x1 = min(canvas.shape[1] - 1, int(xs.max() + rng.uniform(0.1, 0.6) * height))
        else:  # ruled paper: the line runs from edge to edge, another one above the digits
            x0, x1 = 0, canvas.shape[1] - 1
            top = int(ys.min() - rng.uniform(0.25, 0.5) * height)
            cv2.line(canvas, (x0, top), (x1, top), 0.8, thickness, cv2.LINE_AA)
        cv2.line(canvas, (x0, line_y), (x1, line_y), 0.8, thickness, cv2.LINE_AA)
    ys, xs = np.nonzero(canvas > 0.05)
    pad = int(height * rng.uniform(0.3, 0.8))
    y0, y1 = max(0, ys.min() - pad), min(canvas.shape[0], ys.max() + pad)
    return np.ascontiguousarray(canvas[y0:y1])


def _resized(cov: np.ndarray, height: int) -> np.ndarray:
    scale = height / cov.shape[0]
    size = (max(1, round(cov.shape[1] * scale)), height)
    return np.clip(cv2.resize(cov, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR), 0, 1)


def _app_canvas(cov, rng):
    """The app's canvas: white pen on a black background, baked in (alpha 255 everywhere)."""
    cov = _resized(cov, int(rng.integers(200, 281)))
    grey = np.round(cov * 255).astype(np.uint8)
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


def _transparent_canvas(cov, rng):
    """A transparent canvas export: black ink that lives only in the alpha channel."""
    cov = _resized(cov, int(rng.integers(150, 281)))
    image = np.zeros((*cov.shape, 4), np.uint8)
    image[:, :, 3] = np.round(cov * 255).astype(np.uint8)
    return image


def _photo(cov, rng):
    """A phone photo of paper: paper and pen colour, uneven light, noise, blur, JPEG."""
    return _photographed(_resized(cov, int(rng.integers(160, 420))), rng)


def _photographed(
    cov: np.ndarray, rng: np.random.Generator, blur: float = 1.0, quality: tuple[int, int] = (40, 85)
) -> np.ndarray:
    """``cov`` written on paper and photographed: paper and pen colour, uneven light, noise, a blur
    of 0.5-1.3 px times ``blur``, JPEG of a quality in ``quality``."""
    h, w = cov.shape
    paper = rng.uniform([200, 190, 160], [255, 250, 245]).astype(np.float32)
    pen = rng.uniform([0, 0, 20], [90, 90, 160]).astype(np.float32)
    light = cv2.resize(_lighting(rng, 256), (w, h))[:, :, None]
    c = (cov * rng.uniform(0.75, 1.0))[:, :, None]
    image = (paper * (1 - c) + pen * c) * light
    image = image + rng.standard_normal(image.shape).astype(np.float32) * np.float32(rng.uniform(2, 6))
    image = cv2.GaussianBlur(np.clip(image, 0, 255).astype(np.uint8), (0, 0), rng.uniform(0.5, 1.3) * blur)
    return _jpeg(image, int(rng.integers(*quality)))


def _scan(cov, rng):
    cov = _resized(cov, int(rng.integers(60, 200)))
    paper, ink = rng.uniform(200, 245), rng.uniform(10, 90)
    image = paper * (1 - cov) + ink * cov + rng.normal(0, 3, cov.shape)
    return _jpeg(np.clip(image, 0, 255).astype(np.uint8), int(rng.integers(60, 95)))


def _thin_pen(cov, rng):
    """A ball-point line 1-2 px wide: the digits' centre lines redrawn thin."""
    cov = _resized(cov, int(rng.integers(200, 320)))
    skeleton = cv2.ximgproc.thinning((cov > 0.5).astype(np.uint8) * 255)
    if rng.random() < 0.5:
        skeleton = cv2.dilate(skeleton, np.ones((2, 2), np.uint8))
    line = cv2.GaussianBlur(skeleton.astype(np.float32) / 255, (0, 0), 0.6)
    return np.round(255 * (1 - np.clip(line * 1.6, 0, 1))).astype(np.uint8)


def _notebook(cov, rng):
    """A phone photo of the number written in a squared or ruled notebook, the paper's lines through it."""
    cov = _resized(cov, int(rng.integers(160, 420)))
    # The digits' height: their ink's extent, less the baseline's waver.
    return notebook_photo(rng, cov, _digit_rows(cov) / 1.1)


def _fat_marker(cov, rng):
    cov = _resized(cov, int(rng.integers(200, 281)))
    k = int(rng.integers(5, 10))
    fat = cv2.dilate(cov, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    grey = np.round(fat * 255).astype(np.uint8)
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


def number_in_a_big_photo(cov: np.ndarray, rng: np.random.Generator, width: int, digit_share: float) -> np.ndarray:
    """A phone photo (``width`` px wide, 4:3) of a page with the number written small somewhere on it,
    its digits ``digit_share`` of the photo's height; light, noise, blur and JPEG as in ``_photo``."""
    height = width * 3 // 4
    cov = _resized(cov, max(8, round(digit_share * height * cov.shape[0] / _digit_rows(cov))))
    page = np.zeros((height, width), np.float32)
    y, x = (int(rng.integers(0, max(1, n - c))) for n, c in zip(page.shape, cov.shape))
    page[y : y + cov.shape[0], x : x + cov.shape[1]] = cov[: height - y, : width - x]
    return _photographed(page, rng, blur=width / 1000, quality=(60, 90))


def blank_page_photo(rng: np.random.Generator, width: int) -> np.ndarray:
    """A phone photo (``width`` px wide, 4:3) of a page with nothing written on it, as ``number_in_a_big_photo``."""
    return _photographed(np.zeros((width * 3 // 4, width), np.float32), rng, blur=width / 1000, quality=(60, 90))


def _digit_rows(cov: np.ndarray) -> int:
    """The rows holding ink: the digits' height, baseline waver included."""
    ys = np.nonzero(cov.max(axis=1) > 0.3)[0]
    return int(ys.max() - ys.min() + 1) if len(ys) else cov.shape[0]


RENDERERS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "canvas": _app_canvas,
    "canvas-alpha": _transparent_canvas,
    "photo": _photo,
    "scan": _scan,
    "thin-pen": _thin_pen,
    "fat-marker": _fat_marker,
    "notebook": _notebook,
}
# Each condition's random stream is seeded by its place among the conditions as first made (the
# first six renderers, layout by layout), so older conditions render exactly as before; newer ones
# are numbered after them.
_FIRST_RENDERERS = 6


def _stream(layout: str, renderer: str) -> int:
    """The index seeding a condition's random stream (see ``_FIRST_RENDERERS``)."""
    k, lay = list(RENDERERS).index(renderer), LAYOUTS.index(layout)
    if k < _FIRST_RENDERERS:
        return lay * _FIRST_RENDERERS + k
    return len(LAYOUTS) * _FIRST_RENDERERS + lay * (len(RENDERERS) - _FIRST_RENDERERS) + k - _FIRST_RENDERERS


def condition_names() -> list[str]:
    return [f"{layout}/{renderer}" for layout in LAYOUTS for renderer in RENDERERS]


def generate_numbers(
    images: np.ndarray, labels: np.ndarray, n_per_condition: int = 40, seed: int = 0
) -> list[NumberSample]:
    """Deterministic corpus: ``n_per_condition`` numbers per layout and renderer, lengths cycling 1..8.

    ``images``/``labels``: MNIST test digits (uint8 (N, 28, 28), (N,)); digits are drawn at random.
    A touching number has at least two digits.
    """
    return [
        sample
        for layout, renderer in ((lay, ren) for lay in LAYOUTS for ren in RENDERERS)
        for sample in condition_numbers(images, labels, layout, renderer, n_per_condition, seed)
    ]


def condition_numbers(
    images: np.ndarray, labels: np.ndarray, layout: str, renderer: str, n: int, seed: int = 0
) -> list[NumberSample]:
    """The first ``n`` numbers of one layout and renderer, exactly as ``generate_numbers(..., n, seed)`` holds them."""
    rng = np.random.default_rng([seed, _stream(layout, renderer)])
    samples = []
    for k in range(n):
        length = k % MAX_DIGITS + 1
        if layout == "touching":
            length = max(2, length)
        picks = rng.integers(0, len(images), length)
        cov = compose_number([images[i] for i in picks], [int(labels[i]) for i in picks], rng, layout)
        text = "".join(str(int(labels[i])) for i in picks)
        image = RENDERERS[renderer](cov, rng)
        samples.append(NumberSample(np.ascontiguousarray(image), text, layout, renderer))
    return samples
