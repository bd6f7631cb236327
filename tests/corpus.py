"""The project's own test corpus: digits as users give them, rendered deterministically.

Two sources of digit shapes:

* pen strokes: hand-designed centre lines for each digit (one or more polylines per digit, with
  two styles for some digits), smoothed with Catmull-Rom splines, jittered, slanted, rotated and
  drawn with anti-aliased cv2.polylines at a random width;
* fonts: OpenCV's built-in fonts (the FONT_HERSHEY_* constants; in OpenCV 5 they select its
  built-in sans and italic outline fonts at several weights) and, where available, the "uni" face.

Each shape is composed onto a background that mimics one way of giving us a digit: the
Streamlit canvas (ink only in alpha), baked-in backgrounds of any colour and polarity, photos of
paper (uneven light, shadow, paper and pen colour, noise, blur, JPEG), grey scans, tiny
already-cropped digits that touch their frame, hair-thin pens and fat markers.

Excluded as unfair for a model trained on MNIST handwriting (documented, not hidden):
* '0' and '1' from OpenCV 5's sans and italic fonts (every FONT_HERSHEY_* constant): they draw
  a slashed zero and a one with a flag and a foot serif, which MNIST's writers (almost) never
  use; the "uni" face's plain zero and footless one are kept;
* closed-top fonts' '4' is kept (MNIST has both forms), and no font draws a crossed 7.

    from tests.corpus import generate_corpus
    samples = generate_corpus(n_per_condition=100, seed=0)   # list of Sample(image, label, condition)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

Stroke = list[tuple[float, float]]


@dataclass(frozen=True)
class Sample:
    """One corpus image: uint8 (H, W), (H, W, 3) or (H, W, 4); its true digit; how it was made."""

    image: np.ndarray
    label: int
    condition: str


# Centre lines in a box 0..0.6 wide and 0..1 tall (y down). Each digit has one or more styles;
# each style is a list of strokes; each stroke is smoothed separately, so a new stroke that
# starts where the last ended makes a sharp corner (a 7's elbow).
PEN_DESIGNS: dict[int, list[list[Stroke]]] = {
    0: [
        [[(0.30, 0.0), (0.08, 0.15), (0.0, 0.5), (0.08, 0.85), (0.30, 1.0), (0.52, 0.85), (0.6, 0.5), (0.52, 0.15), (0.30, 0.0),
          (0.12, 0.1)]],
    ],
    1: [
        [[(0.3, 0.0), (0.3, 1.0)]],
        [[(0.12, 0.18), (0.34, 0.0)], [(0.34, 0.0), (0.3, 1.0)]],
    ],
    2: [
        [[(0.03, 0.22), (0.15, 0.04), (0.35, 0.0), (0.55, 0.12), (0.56, 0.32), (0.4, 0.55), (0.0, 1.0)],
         [(0.0, 1.0), (0.6, 0.98)]],
    ],
    3: [
        [[(0.03, 0.12), (0.28, 0.0), (0.52, 0.08), (0.55, 0.28), (0.3, 0.47)],
         [(0.3, 0.47), (0.55, 0.6), (0.58, 0.84), (0.32, 1.0), (0.0, 0.9)]],
    ],
    4: [
        [[(0.12, 0.0), (0.02, 0.62)], [(0.02, 0.62), (0.6, 0.62)], [(0.45, 0.05), (0.45, 1.0)]],
        [[(0.42, 0.0), (0.0, 0.68)], [(0.0, 0.68), (0.6, 0.68)], [(0.44, 0.0), (0.44, 1.0)]],
    ],
    5: [
        [[(0.55, 0.0), (0.1, 0.0)], [(0.1, 0.0), (0.05, 0.45)],
         [(0.05, 0.45), (0.3, 0.38), (0.55, 0.52), (0.57, 0.78), (0.38, 0.98), (0.0, 0.9)]],
        [[(0.1, 0.02), (0.58, 0.0)], [(0.1, 0.0), (0.06, 0.45)],
         [(0.06, 0.45), (0.32, 0.38), (0.56, 0.55), (0.55, 0.82), (0.35, 1.0), (0.02, 0.88)]],
    ],
    6: [
        [[(0.52, 0.0), (0.22, 0.22), (0.05, 0.58), (0.1, 0.9), (0.32, 1.0), (0.52, 0.88), (0.55, 0.66), (0.35, 0.52), (0.12, 0.6),
          (0.05, 0.72)]],
    ],
    7: [
        [[(0.0, 0.02), (0.6, 0.0)], [(0.6, 0.0), (0.42, 0.45), (0.25, 1.0)]],
    ],
    8: [
        [[(0.5, 0.1), (0.3, 0.0), (0.07, 0.12), (0.1, 0.33), (0.3, 0.47), (0.52, 0.62), (0.56, 0.86), (0.3, 1.0), (0.04, 0.86),
          (0.08, 0.62), (0.3, 0.47), (0.5, 0.33), (0.53, 0.12), (0.3, 0.0)]],
    ],
    9: [
        [[(0.56, 0.15), (0.32, 0.0), (0.06, 0.1), (0.04, 0.35), (0.3, 0.46), (0.55, 0.3)],
         [(0.56, 0.1), (0.55, 0.55), (0.5, 1.0)]],
    ],
}

_FONTS = {
    "sans": [cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX,
             cv2.FONT_HERSHEY_PLAIN],
    "italic": [cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX, cv2.FONT_HERSHEY_SIMPLEX | cv2.FONT_ITALIC,
               cv2.FONT_HERSHEY_DUPLEX | cv2.FONT_ITALIC],
}
# OpenCV 5 draws the Hershey constants with its outline fonts: slashed zero, footed one.
_PRINT_STYLE = int(cv2.__version__.split(".")[0]) >= 5


def _catmull_rom(points: Stroke, samples: int = 12) -> np.ndarray:
    """Smooth curve through the control points (the ends are repeated so the curve reaches them)."""
    p = np.asarray(points, np.float64)
    if len(p) < 3:
        return np.linspace(p[0], p[-1], samples)
    p = np.vstack([p[0], p, p[-1]])
    out = []
    t = np.linspace(0, 1, samples, endpoint=False)[:, None]
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        a, b, c = -p0 + p2, 2 * p0 - 5 * p1 + 4 * p2 - p3, -p0 + 3 * p1 - 3 * p2 + p3
        out.append(0.5 * (2 * p1 + a * t + b * t**2 + c * t**3))
    out.append(p[-2][None])
    return np.vstack(out)


def _affine(rng: np.random.Generator, angle_range: float = 15.0) -> np.ndarray:
    """Random rotation (degrees) and slant as a 2x2 matrix."""
    angle = np.deg2rad(rng.uniform(-angle_range, angle_range))
    shear = rng.uniform(-0.25, 0.15)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return rot @ np.array([[1.0, shear], [0.0, 1.0]])


def pen_digit(label: int, rng: np.random.Generator | None, size: int, height: float, width: float,
              centre: tuple[float, float], style: int = 0) -> np.ndarray:
    """Ink coverage (float32 0..1, size x size) of a pen-drawn digit ``height`` px tall.

    With ``rng`` None the digit is drawn exactly as designed (style ``style``, no jitter or slant).
    """
    styles = PEN_DESIGNS[label]
    strokes = styles[rng.integers(len(styles))] if rng is not None else styles[style % len(styles)]
    if rng is None:
        return draw_strokes(strokes, size, height, width, centre)
    strokes = [[tuple(p) for p in np.asarray(stroke) + rng.normal(0, 0.025, (len(stroke), 2))] for stroke in strokes]
    return draw_strokes(strokes, size, height, width, centre, _affine(rng), rng.uniform(0.8, 1.2))


def draw_strokes(strokes: list[Stroke], size: int, height: float, width: float, centre: tuple[float, float],
                 matrix: np.ndarray | None = None, aspect: float = 1.0) -> np.ndarray:
    """Draw strokes given in the designs' unit box (0..0.6 x 0..1) as anti-aliased coverage."""
    matrix = np.eye(2) if matrix is None else matrix
    canvas = np.zeros((size, size), np.uint8)
    shift = 4  # sub-pixel precision bits for cv2.polylines
    for stroke in strokes:
        curve = _catmull_rom(stroke)
        curve = (curve - [0.3, 0.5]) * [aspect, 1.0]
        curve = curve @ matrix.T * height + centre
        points = np.round(curve * (1 << shift)).astype(np.int32)
        cv2.polylines(canvas, [points], False, 255, max(1, round(width)), cv2.LINE_AA, shift)
    return canvas.astype(np.float32) / 255.0


def font_digit(label: int, face, rng: np.random.Generator, size: int, height: float, weight: int,
               centre: tuple[float, float]) -> np.ndarray:
    """Ink coverage of a font digit ``height`` px tall, rotated and placed at ``centre``."""
    big = np.zeros((200, 200), np.uint8)
    if isinstance(face, int):
        scale = 4.0 if (face & 0xF) != cv2.FONT_HERSHEY_PLAIN else 8.0  # PLAIN is half the size of the others
        cv2.putText(big, str(label), (40, 160), face, scale, 255, weight, cv2.LINE_AA)
    else:
        cv2.putText(big, str(label), (40, 160), 255, face, 130, 150 + 150 * weight)
    ys, xs = np.nonzero(big)
    glyph = big[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    scale = height / glyph.shape[0]
    matrix = _affine(rng, 12.0) * scale
    gc = np.array([glyph.shape[1] / 2.0, glyph.shape[0] / 2.0])
    m = np.hstack([matrix, (np.asarray(centre) - matrix @ gc)[:, None]])
    flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.warpAffine(glyph, m, (size, size), flags=flags).astype(np.float32) / 255.0


# --- backgrounds -------------------------------------------------------------------------------

def _compose(coverage: np.ndarray, background: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Blend ink colour over a background (float arrays, H x W x C) by coverage."""
    c = coverage[:, :, None]
    return background * (1.0 - c) + ink * c


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    flag = cv2.IMREAD_GRAYSCALE if image.ndim == 2 else cv2.IMREAD_COLOR_RGB
    return cv2.imdecode(buf, flag)


def _lighting(rng: np.random.Generator, size: int) -> np.ndarray:
    """A multiplicative light field: a gradient, a vignette and sometimes a soft shadow."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / np.float32(size)
    angle = rng.uniform(0, 2 * np.pi)
    field = 1.0 - rng.uniform(0.1, 0.45) * ((np.cos(angle) * (xx - 0.5) + np.sin(angle) * (yy - 0.5)) + 0.5)
    field *= 1.0 - rng.uniform(0.0, 0.3) * ((xx - 0.5) ** 2 + (yy - 0.5) ** 2) * 2
    if rng.random() < 0.5:
        edge = rng.uniform(0.15, 0.85)
        shadow = 1.0 / (1.0 + np.exp(-(xx - edge) / 0.05)) if rng.random() < 0.5 else 1.0 / (1.0 + np.exp(-(yy - edge) / 0.05))
        field *= 1.0 - rng.uniform(0.15, 0.35) * shadow
    return field


def _random_colour_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Background and ink colours that differ clearly in brightness (either polarity)."""
    weights = np.array([0.299, 0.587, 0.114])
    while True:
        bg, ink = rng.integers(0, 256, 3).astype(np.float32), rng.integers(0, 256, 3).astype(np.float32)
        if abs(float(weights @ bg) - float(weights @ ink)) >= 90:
            return bg, ink


def _place(rng: np.random.Generator, size: int, frac: tuple[float, float]) -> tuple[float, float, tuple[float, float]]:
    """Digit height and a centre that keeps the digit inside the image."""
    height = size * rng.uniform(*frac)
    margin = height * 0.55
    cx = rng.uniform(margin * 0.7, size - margin * 0.7)
    cy = rng.uniform(margin, size - margin)
    return height, 0.0, (cx, cy)


def _shape(rng: np.random.Generator, label: int, size: int, height: float, width: float, centre, source: str) -> np.ndarray:
    if source == "pen":
        return pen_digit(label, rng, size, height, width, centre)
    faces = _font_faces(label)
    face = faces[rng.integers(len(faces))]
    return font_digit(label, face, rng, size, height, int(rng.integers(1, 4)), centre)


def _font_faces(label: int) -> list:
    faces: list = [] if (label in (0, 1) and _PRINT_STYLE) else _FONTS["sans"] + _FONTS["italic"]
    if hasattr(cv2, "FontFace"):
        with contextlib.suppress(cv2.error):
            faces.append(cv2.FontFace("uni"))
    return faces or [cv2.FONT_HERSHEY_SIMPLEX]


# Each condition: (source, renderer). A renderer draws one sample for a label.
def _on_transparent_canvas(rng, label, source, frac: tuple[float, float], pen: tuple[float, float]) -> np.ndarray:
    """The Streamlit canvas: 280x280 RGBA, black ink that lives only in the alpha channel."""
    size = 280
    height, _, centre = _place(rng, size, frac)
    cov = _shape(rng, label, size, height, rng.uniform(*pen), centre, source)
    image = np.zeros((size, size, 4), np.uint8)
    image[:, :, 3] = np.round(cov * 255).astype(np.uint8)
    return image


def _canvas_alpha(rng, label, source):
    return _on_transparent_canvas(rng, label, source, (0.45, 0.85), (10, 26))


def _white_on_black(rng, label, source):
    size = 280
    height, _, centre = _place(rng, size, (0.45, 0.85))
    cov = _shape(rng, label, size, height, rng.uniform(10, 26), centre, source)
    return np.round(np.repeat(cov[:, :, None], 3, axis=2) * 255).astype(np.uint8)


def _black_on_white(rng, label, source):
    size = int(rng.integers(150, 400))
    height, _, centre = _place(rng, size, (0.4, 0.85))
    cov = _shape(rng, label, size, height, size * rng.uniform(0.02, 0.08), centre, source)
    return np.round(255 * (1.0 - cov)).astype(np.uint8)


def _coloured(rng, label, source):
    size = int(rng.integers(200, 360))
    height, _, centre = _place(rng, size, (0.4, 0.8))
    cov = _shape(rng, label, size, height, size * rng.uniform(0.03, 0.08), centre, source)
    bg, ink = _random_colour_pair(rng)
    image = _compose(cov, np.broadcast_to(bg, (size, size, 3)), ink)
    if rng.random() < 0.5:  # an RGBA export with the background baked in
        return np.dstack([np.round(image).astype(np.uint8), np.full((size, size), 255, np.uint8)])
    return np.round(image).astype(np.uint8)


def _photo(rng, label, source):
    size = int(rng.integers(300, 700))
    height, _, centre = _place(rng, size, (0.3, 0.7))
    cov = _shape(rng, label, size, height, size * rng.uniform(0.012, 0.045), centre, source)
    paper = rng.uniform([200, 190, 160], [255, 250, 245]).astype(np.float32)
    pen = rng.uniform([0, 0, 20], [90, 90, 160]).astype(np.float32)
    light = _lighting(rng, size)[:, :, None]
    image = _compose(cov * rng.uniform(0.75, 1.0), np.broadcast_to(paper, (size, size, 3)), pen) * light
    image = image.astype(np.float32) + rng.standard_normal(image.shape, dtype=np.float32) * np.float32(rng.uniform(2, 7))
    specks = rng.integers(0, 12)
    for _ in range(specks):  # dust and dirt away from the digit's centre
        x, y = rng.integers(0, size, 2)
        cv2.circle(image, (int(x), int(y)), int(rng.integers(1, 3)), (60, 60, 60), -1, cv2.LINE_AA)
    image = cv2.GaussianBlur(np.clip(image, 0, 255).astype(np.uint8), (0, 0), rng.uniform(0.5, 1.5))
    return _jpeg(image, int(rng.integers(35, 85)))


def _scan(rng, label, source):
    size = int(rng.integers(100, 300))
    height, _, centre = _place(rng, size, (0.45, 0.85))
    cov = _shape(rng, label, size, height, size * rng.uniform(0.03, 0.07), centre, source)
    paper, ink = rng.uniform(200, 245), rng.uniform(10, 90)
    image = paper * (1 - cov) + ink * cov + rng.normal(0, 3, cov.shape)
    return _jpeg(np.clip(image, 0, 255).astype(np.uint8), int(rng.integers(60, 95)))


def _tiny(rng, label, source):
    """An already-cropped digit 16-64 px, touching its frame, binary or grey, either polarity."""
    size = int(rng.integers(16, 65))
    big = 160
    cov = _shape(rng, label, big, big * 0.7, big * rng.uniform(0.06, 0.12), (big / 2, big / 2), source)
    ys, xs = np.nonzero(cov > 0.1)
    cov = cov[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    scale = size / max(cov.shape)
    dsize = (max(1, round(cov.shape[1] * scale)), max(1, round(cov.shape[0] * scale)))
    small = cv2.resize(cov, dsize, interpolation=cv2.INTER_AREA)
    # Pad only the short side (centred); the long side touches the frame.
    pad = size - small.shape[1] if small.shape[0] >= small.shape[1] else size - small.shape[0]
    a, b = pad // 2, pad - pad // 2
    small = np.pad(small, ((0, 0), (a, b)) if small.shape[0] >= small.shape[1] else ((a, b), (0, 0)))
    if rng.random() < 0.4:
        small = (small > 0.5).astype(np.float32)
    image = small * 255 if rng.random() < 0.5 else 255 * (1 - small)
    return np.round(image).astype(np.uint8)


def _thin_pen(rng, label, source):
    size = int(rng.integers(200, 400))
    height, _, centre = _place(rng, size, (0.4, 0.8))
    cov = _shape(rng, label, size, height, 1, centre, source)
    return np.round(255 * (1.0 - cov)).astype(np.uint8)


def _fat_marker(rng, label, source):
    return _on_transparent_canvas(rng, label, source, (0.6, 0.85), (28, 40))


_RENDERERS: dict[str, Callable] = {
    "canvas-alpha": _canvas_alpha,
    "white-on-black": _white_on_black,
    "black-on-white": _black_on_white,
    "coloured": _coloured,
    "photo": _photo,
    "scan": _scan,
    "tiny-crop": _tiny,
    "thin-pen": _thin_pen,
    "fat-marker": _fat_marker,
}
# Fonts are shown on a subset of backgrounds: they are print, not handwriting.
_CONDITIONS = [("pen", name) for name in _RENDERERS] + [
    ("font", "black-on-white"),
    ("font", "white-on-black"),
    ("font", "photo"),
    ("font", "tiny-crop"),
]


def condition_names() -> list[str]:
    """All condition names, in report order."""
    return [f"{source}/{name}" for source, name in _CONDITIONS]


def generate_corpus(n_per_condition: int = 120, seed: int = 0) -> list[Sample]:
    """Deterministic corpus: ``n_per_condition`` samples per condition, labels cycling 0-9."""
    samples = []
    for index, (source, name) in enumerate(_CONDITIONS):
        rng = np.random.default_rng([seed, index])
        for k in range(n_per_condition):
            label = k % 10
            image = _RENDERERS[name](rng, label, source)
            samples.append(Sample(np.ascontiguousarray(image), label, f"{source}/{name}"))
    return samples
