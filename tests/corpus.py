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


# --- writing styles MNIST barely has -----------------------------------------------------------

def _broken_ellipse(rng: np.random.Generator) -> list[Stroke]:
    """A zero as 2-3 arcs of an ellipse with gaps between them (a thin pen skipping on paper)."""
    pieces = int(rng.integers(2, 4))
    gap = rng.uniform(0.04, 0.1) * 2 * np.pi
    start = rng.uniform(0, 2 * np.pi)
    cuts = start + np.sort(rng.uniform(0, 2 * np.pi, pieces - 1))
    bounds = [start, *cuts, start + 2 * np.pi]
    strokes = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b - a <= gap + 0.2:
            continue
        t = np.linspace(a + gap / 2, b - gap / 2, 10)
        strokes.append([(0.3 + 0.3 * float(np.cos(v)), 0.5 + 0.5 * float(np.sin(v))) for v in t])
    return strokes


# name -> (digit or None for any, designs: lists of strokes as in PEN_DESIGNS, or a function of rng).
STYLES: dict[str, tuple[int | None, list[list[Stroke]] | Callable | None]] = {
    "flag-1": (1, [
        [[(0.02, 0.38), (0.36, 0.0)], [(0.36, 0.0), (0.33, 1.0)]],
        [[(0.08, 0.3), (0.22, 0.15), (0.38, 0.0)], [(0.38, 0.0), (0.34, 1.0)]],
        [[(0.0, 0.45), (0.38, 0.0)], [(0.38, 0.0), (0.36, 1.0)], [(0.14, 1.0), (0.58, 1.0)]],
    ]),
    "crossed-7": (7, [
        [[(0.0, 0.02), (0.6, 0.0)], [(0.6, 0.0), (0.42, 0.45), (0.25, 1.0)], [(0.2, 0.5), (0.64, 0.47)]],
        [[(0.0, 0.14), (0.02, 0.02)], [(0.02, 0.02), (0.6, 0.0)], [(0.6, 0.0), (0.38, 0.5), (0.3, 1.0)],
         [(0.16, 0.52), (0.6, 0.5)]],
    ]),
    "open-top-4": (4, [
        [[(0.08, 0.0), (0.04, 0.35), (0.12, 0.6), (0.6, 0.6)], [(0.5, 0.0), (0.48, 1.0)]],
        [[(0.02, 0.0), (0.08, 0.42), (0.32, 0.55), (0.55, 0.45)], [(0.58, 0.0), (0.55, 1.0)]],
        [[(0.15, 0.05), (0.0, 0.58)], [(0.0, 0.58), (0.6, 0.58)], [(0.42, 0.22), (0.42, 1.0)]],
    ]),
    "straight-9": (9, [
        [[(0.58, 0.18), (0.35, 0.0), (0.08, 0.08), (0.02, 0.28), (0.2, 0.44), (0.45, 0.4), (0.58, 0.25)],
         [(0.58, 0.05), (0.58, 1.0)]],
        [[(0.58, 0.2), (0.3, 0.0), (0.03, 0.15), (0.1, 0.42), (0.4, 0.42), (0.58, 0.2)], [(0.58, 0.2), (0.58, 1.0)]],
        [[(0.5, 0.1), (0.3, 0.0), (0.08, 0.1), (0.06, 0.3), (0.3, 0.38), (0.52, 0.2)], [(0.54, 0.1), (0.5, 0.5), (0.45, 1.0)]],
    ]),
    "broken-0": (0, _broken_ellipse),
    "stretched-16": (None, None),
    "cropped-big": (None, None),
}
# The backgrounds a writing style is shown on.
_STYLE_PAPERS = ["canvas-alpha", "black-on-white", "white-on-black", "photo", "scan", "tiny-crop", "textured-paper"]


def style_digit(style: str, rng: np.random.Generator, size: int, height: float, width: float,
                centre: tuple[float, float]) -> np.ndarray:
    """Ink coverage of a digit in one of STYLES, jittered, slanted and rotated like pen_digit."""
    _, designs = STYLES[style]
    if callable(designs):
        strokes = designs(rng)
        width = min(width, max(1.0, height * rng.uniform(0.015, 0.035)))  # a thin pen
    else:
        strokes = designs[rng.integers(len(designs))]
    strokes = [[tuple(p) for p in np.asarray(stroke) + rng.normal(0, 0.02, (len(stroke), 2))] for stroke in strokes]
    return draw_strokes(strokes, size, height, width, centre, _affine(rng), rng.uniform(0.8, 1.2))


def _stretched_16(rng: np.random.Generator, label: int) -> np.ndarray:
    """A digit scanned at 16x16 and stretched to fill that box (aspect not kept), shown at 16-64 px."""
    big = 160
    source = "pen" if rng.random() < 0.7 else "font"
    cov = _shape(rng, label, big, big * 0.7, big * rng.uniform(0.05, 0.1), (big / 2, big / 2), source)
    ys, xs = np.nonzero(cov > 0.1)
    cov = cov[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    small = cv2.resize(cov, (16, 16), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.4:
        small = (small > 0.4).astype(np.float32)
    shown = int(rng.choice([16, 16, 24, 32, 48, 64]))
    if shown != 16:
        small = cv2.resize(small, (shown, shown), interpolation=cv2.INTER_NEAREST if rng.random() < 0.5 else cv2.INTER_LINEAR)
    paper, ink = rng.uniform(200, 255), rng.uniform(0, 70)
    image = paper * (1 - small) + ink * small
    return np.round(image if rng.random() < 0.75 else 255 - image).astype(np.uint8)


def _cropped_big(rng: np.random.Generator, label: int) -> np.ndarray:
    """A digit cropped to its ink and shown 72-256 px tall: at its own shape (a form's box cut to the
    digit), or scanned at 16x16 and stretched to that square box."""
    big = 160
    source = "pen" if rng.random() < 0.7 else "font"
    cov = _shape(rng, label, big, big * 0.7, big * rng.uniform(0.05, 0.1), (big / 2, big / 2), source)
    ys, xs = np.nonzero(cov > 0.1)
    cov = cov[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    height = int(rng.integers(72, 257))
    if rng.random() < 0.5:
        small = cv2.resize(cov, (16, 16), interpolation=cv2.INTER_AREA)
        if rng.random() < 0.4:
            small = (small > 0.4).astype(np.float32)
        interpolation = cv2.INTER_NEAREST if rng.random() < 0.5 else cv2.INTER_LINEAR
        shown = cv2.resize(small, (height, height), interpolation=interpolation)
    else:
        width = max(1, round(cov.shape[1] * height / cov.shape[0]))
        shown = cv2.resize(cov, (width, height), interpolation=cv2.INTER_LINEAR)
    paper, ink = rng.uniform(200, 255), rng.uniform(0, 70)
    image = np.clip(paper * (1 - shown) + ink * shown, 0, 255)
    return np.round(image if rng.random() < 0.75 else 255 - image).astype(np.uint8)


# --- backgrounds -------------------------------------------------------------------------------

def _compose(coverage: np.ndarray, background: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """Blend ink colour over a background (float arrays, H x W x C) by coverage."""
    c = coverage[:, :, None]
    return background * (1.0 - c) + ink * c


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    # imencode and imdecode(IMREAD_COLOR) use the same channel order, so RGB comes back as RGB.
    flag = cv2.IMREAD_GRAYSCALE if image.ndim == 2 else cv2.IMREAD_COLOR
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
    if source in STYLES:
        return style_digit(source, rng, size, height, width, centre)
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


# --- paper kinds and scan defects from real uploads -----------------------------------------

# Coloured papers people photograph: (low, high) RGB of the paper's colour.
_PAPERS = [
    ((225, 200, 60), (255, 240, 150)),   # yellow
    ((230, 170, 180), (255, 215, 225)),  # pink
    ((160, 200, 225), (205, 230, 250)),  # light blue
    ((170, 215, 160), (215, 245, 205)),  # light green
    ((170, 135, 90), (215, 180, 135)),   # kraft / cardboard
    ((175, 175, 170), (225, 225, 220)),  # grey recycled
]
_MARKERS = [(20, 20, 25), (25, 40, 140), (150, 25, 30), (25, 100, 45), (80, 30, 110)]


def _grain(rng: np.random.Generator, size: int) -> np.ndarray:
    """Paper texture (float32, zero mean, grey levels): fine grain, mottling at a few px, fibres and blotches."""
    fine = rng.standard_normal((size, size), dtype=np.float32) * np.float32(rng.uniform(5, 16))
    mottle = cv2.GaussianBlur(rng.standard_normal((size, size), dtype=np.float32), (0, 0), rng.uniform(1.0, 2.5))
    mottle *= np.float32(rng.uniform(8, 20) / max(float(mottle.std()), 1e-3))
    # Blotches a few percent of the page wide: smooth noise drawn coarse and enlarged (cheap).
    coarse = rng.standard_normal((24, 24), dtype=np.float32)
    blotch = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    blotch *= np.float32(rng.uniform(3, 10) / max(float(blotch.std()), 1e-3))
    texture = fine + mottle + blotch
    for _ in range(int(rng.integers(0, 60))):  # fibres: short faint curved lines, darker or lighter
        x, y = rng.uniform(0, size, 2)
        angle, length = rng.uniform(0, np.pi), size * rng.uniform(0.01, 0.05)
        end = (x + length * np.cos(angle), y + length * np.sin(angle))
        shade = float(rng.choice([-1, 1]) * rng.uniform(10, 30))
        cv2.line(texture, (int(x), int(y)), (int(end[0]), int(end[1])), shade, 1, cv2.LINE_AA)
    return texture


def _textured_paper(rng, label, source):
    """A phone photo of a bold marker digit on grainy coloured paper: grain, colour noise, uneven light, JPEG."""
    return _on_grainy_paper(rng, label, source, (300, 900), (0.3, 0.75))


def _textured_page(rng, label, source):
    """The same, of a whole page: the digit 8-20% of the photo's height, the photo 600-1600 px."""
    return _on_grainy_paper(rng, label, source, (600, 1600), (0.08, 0.2))


def _on_grainy_paper(rng, label, source, sizes: tuple[int, int], frac: tuple[float, float]) -> np.ndarray:
    size = int(rng.integers(*sizes))
    height, _, centre = _place(rng, size, frac)
    return _grainy_photo(rng, size, _shape(rng, label, size, height, height * rng.uniform(0.07, 0.16), centre, source))


def blank_grainy_photo(rng: np.random.Generator, size: int) -> np.ndarray:
    """A photo of grainy coloured paper with nothing on it, made as the textured-paper classes are."""
    return _grainy_photo(rng, size, np.zeros((size, size), np.float32))


def _grainy_photo(rng: np.random.Generator, size: int, cov: np.ndarray) -> np.ndarray:
    low, high = _PAPERS[rng.integers(len(_PAPERS))]
    paper = rng.uniform(low, high).astype(np.float32)
    marker = np.asarray(_MARKERS[rng.integers(len(_MARKERS))], np.float32) + rng.uniform(-15, 15, 3).astype(np.float32)
    texture = _grain(rng, size)[:, :, None]
    # Marker ink is thin paint: the paper's grain shows through it, weaker.
    image = _compose(cov * rng.uniform(0.8, 1.0), paper + texture, np.clip(marker + 0.4 * texture, 0, 255))
    image = image * _lighting(rng, size)[:, :, None]
    noise = rng.uniform(3, 10)
    image += rng.standard_normal(image.shape, dtype=np.float32) * np.float32(noise)  # sensor noise, per colour
    image = cv2.GaussianBlur(np.clip(image, 0, 255).astype(np.uint8), (0, 0), rng.uniform(0.4, 1.2))
    return _jpeg(image, int(rng.integers(30, 85)))


def _edge_line_scan(rng, label, source):
    """A scan crop of a form box: a bold digit and a dark box or scanner line along one or two edges.

    The line runs the whole side, a few pixels in from the edge or right on it, maybe skewed a
    little; sometimes the digit touches it.
    """
    size = int(rng.integers(48, 220))
    height, _, centre = _place(rng, size, (0.5, 0.8))
    cov = _shape(rng, label, size, height, size * rng.uniform(0.05, 0.11), centre, source)
    lines = np.zeros((size, size), np.uint8)
    thickness = max(1, round(size * rng.uniform(0.01, 0.06)))
    sides = rng.choice(4, size=int(rng.integers(1, 3)), replace=False)
    for side in sides:
        inset = float(rng.uniform(0, 0.12)) * size
        skew = float(rng.uniform(-0.03, 0.03)) * size
        a, b = (inset, inset + skew) if side in (0, 2) else (inset + skew, inset)
        if side in (1, 3):  # measured from the far edge
            a, b = size - 1 - a, size - 1 - b
        if side in (0, 1):  # horizontal: top, bottom
            p, q = (-5, a), (size + 5, b)
        else:  # vertical: left, right
            p, q = (a, -5), (b, size + 5)
        cv2.line(lines, (int(p[0] * 16), int(p[1] * 16)), (int(q[0] * 16), int(q[1] * 16)), 255, thickness, cv2.LINE_AA, 4)
    cov = np.maximum(cov, lines.astype(np.float32) / 255.0 * rng.uniform(0.7, 1.0))
    paper, ink = rng.uniform(200, 250), rng.uniform(10, 80)
    image = paper * (1 - cov) + ink * cov + rng.normal(0, 3, cov.shape)
    image = np.clip(image, 0, 255).astype(np.uint8)
    return _jpeg(image, int(rng.integers(60, 95))) if rng.random() < 0.6 else image


def _dithered_scan(rng, label, source):
    """A 1-bit scan with error diffusion: pencil-grey ink on light paper, only black and white dots."""
    size = int(rng.integers(60, 320))
    height, _, centre = _place(rng, size, (0.45, 0.85))
    cov = _shape(rng, label, size, height, size * rng.uniform(0.04, 0.1), centre, source)
    paper, ink = rng.uniform(190, 245), rng.uniform(20, 130)
    grey = np.clip(paper * (1 - cov) + ink * cov + rng.normal(0, 4, cov.shape), 0, 255).astype(np.uint8)
    from PIL import Image  # Pillow's Floyd-Steinberg, as scanners and "save as 1-bit" produce

    dots = np.asarray(Image.fromarray(grey).convert("1"), np.uint8) * 255
    return dots if rng.random() < 0.8 else 255 - dots


def _corner_shadow(rng, label, source):
    """A phone photo of paper with a hand's or phone's shadow over a corner, hard or soft edged."""
    size = int(rng.integers(250, 700))
    height, _, centre = _place(rng, size, (0.35, 0.7))
    cov = _shape(rng, label, size, height, size * rng.uniform(0.015, 0.05), centre, source)
    paper = rng.uniform([205, 195, 175], [255, 250, 240]).astype(np.float32)
    pen = rng.uniform([0, 0, 20], [90, 90, 160]).astype(np.float32)
    image = _compose(cov, np.broadcast_to(paper, (size, size, 3)), pen)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / np.float32(size)
    corner = rng.integers(4)
    u = xx if corner % 2 == 0 else 1 - xx
    v = yy if corner < 2 else 1 - yy
    # The shadow's edge is a curve across the corner reaching 25-60% along each side.
    reach = rng.uniform(0.25, 0.6, 2)
    inside = 1.0 - (u / reach[0] + v / reach[1]) - 0.15 * np.sin(6 * u + 3 * v)
    softness = rng.uniform(0.01, 0.12)
    shadow = 1.0 / (1.0 + np.exp(-inside / softness))
    image *= (1.0 - rng.uniform(0.35, 0.7) * shadow)[:, :, None]
    image += rng.standard_normal(image.shape, dtype=np.float32) * np.float32(rng.uniform(2, 6))
    image = cv2.GaussianBlur(np.clip(image, 0, 255).astype(np.uint8), (0, 0), rng.uniform(0.5, 1.2))
    return _jpeg(image, int(rng.integers(40, 90)))


def _underlined(rng, label, source):
    """A digit with an underline close below it (or touching it), on a scan or a photo-like page."""
    size = int(rng.integers(150, 400))
    height, _, centre = _place(rng, size, (0.4, 0.7))
    centre = (centre[0], min(centre[1], size - height * 0.75))
    width = size * rng.uniform(0.02, 0.06)
    cov = _shape(rng, label, size, height, width, centre, source)
    ys, xs = np.nonzero(cov > 0.3)
    gap = height * rng.uniform(-0.02, 0.15)
    y = ys.max() + gap + width / 2
    half = (xs.max() - xs.min()) * rng.uniform(0.6, 1.0) + height * rng.uniform(0.0, 0.3)
    x_mid = (xs.max() + xs.min()) / 2 + rng.uniform(-0.15, 0.15) * height
    tilt = rng.uniform(-0.05, 0.05) * half
    line = np.zeros((size, size), np.uint8)
    p = (int((x_mid - half) * 16), int((y - tilt) * 16))
    q = (int((x_mid + half) * 16), int((y + tilt) * 16))
    cv2.line(line, p, q, 255, max(1, round(width * rng.uniform(0.5, 1.0))), cv2.LINE_AA, 4)
    cov = np.maximum(cov, line.astype(np.float32) / 255.0)
    paper, ink = rng.uniform(200, 250), rng.uniform(10, 90)
    image = paper * (1 - cov) + ink * cov + rng.normal(0, 3, cov.shape)
    return _jpeg(np.clip(image, 0, 255).astype(np.uint8), int(rng.integers(50, 95)))


# Printed lines of notebooks: light blue, grey, or the pale violet of French school paper (RGB
# taken off the paper's colour per channel, low and high).
_RULINGS = [((50, 20, 0), (110, 60, 15)), ((40, 40, 40), (90, 90, 90)), ((10, 50, 10), (40, 100, 40))]


def _notebook(rng, label, source):
    """A phone photo of a digit written in a squared or ruled notebook (``notebook_photo``)."""
    size = int(rng.integers(300, 700))
    height, _, centre = _place(rng, size, (0.25, 0.6))
    cov = _shape(rng, label, size, height, size * rng.uniform(0.012, 0.035), centre, source)
    return notebook_photo(rng, cov, height)


def notebook_photo(rng: np.random.Generator, cov: np.ndarray, height: float) -> np.ndarray:
    """A phone photo of writing (``cov``: ink coverage 0..1, ``height``: the digits' height in px) in a
    squared or ruled notebook: the paper's thin printed lines run across the whole photo, through
    the digits and around them (squares of half to nine tenths of the digits' height; ruled lines
    0.9-1.4 digit heights apart, the digits sitting on one), a few degrees askew, as wide as the
    photo's zoom makes them (1-2.5% of the digits' height); in a third of them the red or pink
    margin line too, upright, anywhere across the photo."""
    rows, cols = cov.shape
    squared = rng.random() < 0.6
    spacing = height * (rng.uniform(0.5, 0.9) if squared else rng.uniform(0.9, 1.4))
    ys = np.nonzero(cov > 0.3)[0]
    # Ruled: one line a little under the digits' foot (or touching it); squared: anywhere.
    first = ys.max() + height * rng.uniform(-0.03, 0.08) if not squared and ys.size else rng.uniform(0, spacing)
    up = 16 * 4  # lines drawn 4x finer with 4 fractional bits, then shrunk: sub-pixel widths
    big = np.zeros((rows * 4, cols * 4), np.uint8)
    # Printed lines are 0.1-0.2 mm wide, a digit 7-10 mm tall: the closer the photo, the wider they are.
    thickness = max(2, round(4 * height * rng.uniform(0.008, 0.025)))
    angle = np.radians(rng.uniform(-3, 3))
    c, s_ = np.cos(angle), np.sin(angle)
    cx, cy = cols / 2, rows / 2
    reach = max(rows, cols)
    for k in range(-int(2 * reach / spacing) - 2, int(2 * reach / spacing) + 3):
        offset = first + k * spacing - cy
        for vertical in ((False, True) if squared else (False,)):
            # A line at distance ``offset`` from the centre, normal to it turned by ``angle``.
            nx, ny = (c, -s_) if vertical else (s_, c)
            px, py = cx + offset * nx, cy + offset * ny
            dx, dy = -ny * 2 * reach, nx * 2 * reach
            p = (int((px - dx) * up), int((py - dy) * up))
            q = (int((px + dx) * up), int((py + dy) * up))
            cv2.line(big, p, q, 255, thickness, cv2.LINE_AA, 4)
    lines = cv2.resize(big, (cols, rows), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    paper = rng.uniform([215, 210, 195], [255, 252, 245]).astype(np.float32)
    low, high = _RULINGS[rng.integers(len(_RULINGS))]
    ruling = paper - rng.uniform(low, high).astype(np.float32)
    pen = rng.uniform([0, 0, 20], [90, 90, 160]).astype(np.float32)
    page = _compose(lines, np.broadcast_to(paper, (rows, cols, 3)), ruling)
    # A third of the photos show the notebook's red or pink margin line, upright, a little wider than
    # the ruling, anywhere across (its own random stream).
    margin = np.random.default_rng(rng.integers(1 << 32))
    if margin.random() < 0.35:
        band = np.zeros((rows * 4, cols * 4), np.uint8)
        x = margin.uniform(0.05, 0.95) * cols
        tilt = rows * np.tan(angle) * margin.uniform(0.8, 1.2)
        width = max(2, round(4 * height * margin.uniform(0.015, 0.04)))
        cv2.line(band, (int((x - tilt / 2) * up), -up), (int((x + tilt / 2) * up), (rows + 1) * up), 255, width, cv2.LINE_AA, 4)
        red = paper * np.array([1.0, margin.uniform(0.35, 0.7), margin.uniform(0.4, 0.75)], np.float32)
        page = _compose(cv2.resize(band, (cols, rows), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0, page, red)
    image = _compose(cov * rng.uniform(0.8, 1.0), page, pen)
    light = _lighting(rng, rows) if rows == cols else cv2.resize(_lighting(rng, 256), (cols, rows))
    image = image * light[:, :, None]
    image = image + rng.standard_normal(image.shape, dtype=np.float32) * np.float32(rng.uniform(2, 6))
    image = cv2.GaussianBlur(np.clip(image, 0, 255).astype(np.uint8), (0, 0), rng.uniform(0.5, 1.2))
    return _jpeg(image, int(rng.integers(40, 85)))


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
    "textured-paper": _textured_paper,
    "edge-line-scan": _edge_line_scan,
    "dithered-scan": _dithered_scan,
    "corner-shadow": _corner_shadow,
    "underlined": _underlined,
    "textured-page": _textured_page,
    "notebook": _notebook,
}
# Fonts are shown on a subset of backgrounds: they are print, not handwriting.
# The first 13 conditions keep their order (each condition's random stream is seeded by its
# index, so older conditions render exactly as before); new ones are appended.
_CONDITIONS = [("pen", name) for name in list(_RENDERERS)[:9]] + [
    ("font", "black-on-white"),
    ("font", "white-on-black"),
    ("font", "photo"),
    ("font", "tiny-crop"),
] + [("pen", name) for name in list(_RENDERERS)[9:14]] + [("font", "textured-paper"), ("font", "edge-line-scan")] + [
    ("style", name) for name in STYLES
] + [("pen", "textured-page"), ("pen", "notebook")]


def condition_names() -> list[str]:
    """All condition names, in report order."""
    return [f"{source}/{name}" for source, name in _CONDITIONS]


def condition_labels(name: str) -> list[int]:
    """The digits a condition holds: all ten, or the one digit a writing style is about."""
    source, _, style = name.partition("/")
    if source == "style" and STYLES[style][0] is not None:
        return [STYLES[style][0]]
    return list(range(10))


def _render(rng: np.random.Generator, source: str, name: str, label: int) -> np.ndarray:
    if source != "style":
        return _RENDERERS[name](rng, label, source)
    if name == "stretched-16":
        return _stretched_16(rng, label)
    if name == "cropped-big":
        return _cropped_big(rng, label)
    # A writing style is shown on the ways people give us digits, chosen at random per sample.
    paper = _STYLE_PAPERS[rng.integers(len(_STYLE_PAPERS))]
    return _RENDERERS[paper](rng, label, name)


def generate_corpus(n_per_condition: int = 120, seed: int = 0) -> list[Sample]:
    """Deterministic corpus: ``n_per_condition`` samples per condition, labels cycling over the condition's digits."""
    return [s for name in condition_names() for s in condition_samples(name, n_per_condition, seed)]


def condition_samples(condition: str, n: int, seed: int = 0) -> list[Sample]:
    """The first ``n`` samples of one condition, exactly as ``generate_corpus(n, seed)`` holds them."""
    source, name = condition.split("/")
    rng = np.random.default_rng([seed, _CONDITIONS.index((source, name))])
    labels = condition_labels(condition)
    samples = []
    for k in range(n):
        label = labels[k % len(labels)]
        samples.append(Sample(np.ascontiguousarray(_render(rng, source, name, label)), label, condition))
    return samples
