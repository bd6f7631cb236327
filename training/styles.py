"""Writing styles MNIST barely has, synthesised from MNIST digits (pure numpy/OpenCV, no TensorFlow).

MNIST was written by American Census staff and students: its 1s are bare strokes, its 7s have
no crossbar, its 9s have curved tails. Real forms and drawings bring European 1s with a long
flag, crossed 7s, open-top 4s, 9s with a straight stem, thin or broken pen lines, and digits
scanned small and stretched to fill their box. Each function here turns one MNIST digit into
such a digit, still MNIST-normalised (longer side 20 px, centre of mass at the centre of 28x28),
so it can serve as training augmentation and as a held-out test of each style (made from MNIST
*test* digits, see ``style_set``).

Every style function takes a uint8 28x28 digit (white on black) and a ``numpy.random.Generator``
and returns a new uint8 28x28 digit. Strokes are added at the digit's own pen width, with a
slight bow, at a 4x working resolution, so they blend with the original ink.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from preprocessing.normalize import centre_by_mass, fit_box
from preprocessing.stroke import draw_at_width, stroke_width

MNIST_SIZE = 28
BOX_SIZE = 20
# Working resolution factor: lines drawn here are anti-aliased when shrunk back.
SCALE = 4
WORK = MNIST_SIZE * SCALE
# MNIST's soft stroke edges, as a Gaussian blur at the working resolution.
_EDGE_SIGMA = 0.6 * SCALE

StyleFn = Callable[[np.ndarray, np.random.Generator], np.ndarray]


# ---------------------------------------------------------------- shared helpers


def _check(digit: np.ndarray) -> None:
    if digit.shape != (MNIST_SIZE, MNIST_SIZE) or digit.dtype != np.uint8:
        raise ValueError(f"expected a uint8 28x28 digit, got {digit.dtype} {digit.shape}")


def _up(digit: np.ndarray) -> np.ndarray:
    """float32 coverage in [0, 1] at the working resolution."""
    return cv2.resize(digit, (WORK, WORK), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0


def _finish(coverage: np.ndarray) -> np.ndarray:
    """Back to an MNIST-normalised uint8 28x28 digit: 20-px box, centre of mass at the centre."""
    if not np.any(coverage > 0.02):
        return np.zeros((MNIST_SIZE, MNIST_SIZE), np.uint8)
    return centre_by_mass(fit_box(coverage, BOX_SIZE), MNIST_SIZE)


def _mask(coverage: np.ndarray) -> np.ndarray:
    return (coverage >= 0.5).astype(np.uint8)


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    points = cv2.findNonZero(mask)
    if points is None:
        return 0, 0, mask.shape[1], mask.shape[0]
    return tuple(int(v) for v in cv2.boundingRect(points))  # type: ignore[return-value]


def _pen(mask: np.ndarray) -> float:
    """The digit's stroke width at the working resolution (MNIST: about 2.5-3 px at 28x28)."""
    return max(stroke_width(mask), 1.5 * SCALE)


def _curve(p0, p1, bow: float, n: int = 12) -> np.ndarray:
    """Points of a quadratic Bezier from p0 to p1 whose middle bulges ``bow`` (fraction of length) sideways."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    d = p1 - p0
    normal = np.array([-d[1], d[0]])
    control = (p0 + p1) / 2 + bow * normal
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * control + t**2 * p1


def _stroke(shape: tuple[int, int], points: np.ndarray, width: float) -> np.ndarray:
    """Coverage of a round-pen polyline ``width`` px wide with MNIST-soft edges."""
    skeleton = np.zeros(shape, np.uint8)
    cv2.polylines(skeleton, [np.round(points).astype(np.int32).reshape(-1, 1, 2)], False, 1, 1, cv2.LINE_8)
    return cv2.GaussianBlur(draw_at_width(skeleton, width), (0, 0), _EDGE_SIGMA * 0.5)


def _skeleton(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen skeleton (uint8 0/1): OpenCV's ximgproc where installed (our requirements), else scikit-image's.

    The fallback serves training machines with a plain OpenCV build (no contrib modules);
    both implement the same algorithm.
    """
    if hasattr(cv2, "ximgproc"):
        from preprocessing.stroke import thin

        return thin(mask)
    from skimage.morphology import skeletonize

    return skeletonize(mask > 0, method="zhang").astype(np.uint8)


def _largest_hole(mask: np.ndarray, min_area: float) -> np.ndarray | None:
    """Contour points (N, 2) of the largest hole in the ink, or None when no hole is that big."""
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if hierarchy is None:
        return None
    holes = [c for c, h in zip(contours, hierarchy[0]) if h[3] >= 0 and cv2.contourArea(c) >= min_area]
    if not holes:
        return None
    return max(holes, key=cv2.contourArea).reshape(-1, 2)


def has_loop(digit: np.ndarray) -> bool:
    """True when the digit encloses a hole of at least ~2x2 px (a closed 4, a 9 with a closed head)."""
    _check(digit)
    mask = _mask(_up(digit))
    return _largest_hole(mask, min_area=(2 * SCALE) ** 2) is not None


# ---------------------------------------------------------------- the styles


def european_one(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 1 with a long flag (European style): a stroke from the top of the stem down to the left.

    The flag is 30-60% of the stem's length at 20-55 degrees below the horizontal, measured
    in the stem's own frame so that slanted 1s get a slanted flag; a fifth also get a foot.
    """
    _check(digit)
    cov = _up(digit)
    mask = _mask(cov)
    x, y, w, h = _box(mask)
    pen = _pen(mask)
    ys, xs = np.nonzero(mask)
    band = max(2, int(0.08 * h))
    top = np.array([xs[ys < y + band].mean(), y + pen / 2])
    bottom = np.array([xs[ys >= y + h - band].mean(), y + h - 1 - pen / 2])
    down = (bottom - top) / max(np.linalg.norm(bottom - top), 1.0)
    right = np.array([down[1], -down[0]])
    angle = np.deg2rad(rng.uniform(20, 55))
    length = rng.uniform(0.3, 0.6) * np.linalg.norm(bottom - top)
    end = top + length * (-np.cos(angle) * right + np.sin(angle) * down)
    width = pen * rng.uniform(0.8, 1.05)
    out = np.maximum(cov, _stroke(cov.shape, _curve(top, end, rng.uniform(-0.12, 0.08)), width))
    if rng.random() < 0.2:
        half = rng.uniform(0.15, 0.3) * h
        foot = _curve(bottom - half * right, bottom + half * right, rng.uniform(-0.05, 0.05))
        out = np.maximum(out, _stroke(cov.shape, foot, width))
    return _finish(out)


def crossed_seven(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 7 with a crossbar through the middle of its stem, as written in much of Europe."""
    _check(digit)
    cov = _up(digit)
    mask = _mask(cov)
    x, y, w, h = _box(mask)
    pen = _pen(mask)
    row = int(y + rng.uniform(0.45, 0.62) * h)
    cols = np.flatnonzero(mask[row])
    if cols.size == 0:  # a gap in the stem at that row: nearest ink row
        rows = np.flatnonzero(mask.any(axis=1))
        row = int(rows[np.argmin(np.abs(rows - row))])
        cols = np.flatnonzero(mask[row])
    # The stem is the longest run of ink on that row.
    runs = np.split(cols, np.flatnonzero(np.diff(cols) > 1) + 1)
    stem_x = float(max(runs, key=len).mean())
    span = max(w, 0.45 * h)
    left = stem_x - rng.uniform(0.25, 0.45) * span
    right = stem_x + rng.uniform(0.2, 0.4) * span
    tilt = np.tan(np.deg2rad(rng.uniform(-8, 5))) * (right - left)
    bar = _curve((left, row + tilt / 2), (right, row - tilt / 2), rng.uniform(-0.06, 0.06))
    return _finish(np.maximum(cov, _stroke(cov.shape, bar, pen * rng.uniform(0.8, 1.05))))


def open_four(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 4 with an open top: a separate left arm rises from the bar's left end, well apart from the stem.

    Above the bar, every stroke off the stem's line (fitted below the bar, where the stem is
    alone) is erased, and the arm is redrawn nearly vertical, stopping short of the top. Closed 4s (a
    triangle at the top) are opened this way; open ones get a differently placed arm.
    """
    _check(digit)
    cov = _up(digit)
    mask = _mask(cov)
    x, y, w, h = _box(mask)
    pen = _pen(mask)
    # The bar: the row with the most ink in the middle of the digit.
    lo, hi = y + int(0.35 * h), y + int(0.8 * h)
    bar_y = lo + int(np.argmax(mask[lo:hi].sum(axis=1))) if hi > lo else y + h // 2
    # The stem is the only stroke below the bar: fit its centre line there and extend it upwards.
    rows = [r for r in range(int(bar_y + pen), y + h) if mask[r].any()]
    if len(rows) < 0.15 * h:
        return _finish(cov)
    centres = [np.flatnonzero(mask[r]).mean() for r in rows]
    slope, intercept = np.polyfit(rows, centres, 1)
    slope = float(np.clip(slope, -0.5, 0.5))
    intercept = float(np.mean(centres) - slope * np.mean(rows))
    out = cov.copy()
    cols = np.arange(WORK)
    upper = range(y, max(y, int(bar_y - 0.7 * pen)))
    for r in upper:
        out[r, np.abs(cols - (slope * r + intercept)) > 0.8 * pen] = 0
    # No stem above the bar where the line says (an unusual 4): leave this one as it is.
    if sum(out[r].max() >= 0.5 for r in upper) < 0.6 * len(upper):
        return _finish(cov)
    bar_cols = np.flatnonzero(mask[int(bar_y - pen / 2) : int(bar_y + pen / 2) + 1].any(axis=0))
    if bar_cols.size == 0:
        return _finish(cov)
    start = np.array([bar_cols.min() + pen / 2, bar_y])
    end = np.array([start[0] + rng.uniform(-0.05, 0.12) * h, y + rng.uniform(0.0, 0.3) * h + pen / 2])
    arm = _curve(start, end, rng.uniform(-0.08, 0.08))
    return _finish(np.maximum(out, _stroke(cov.shape, arm, pen * rng.uniform(0.85, 1.05))))


def straight_nine(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 9 whose tail is a straight, nearly vertical stem from the right side of its loop.

    Needs a closed loop (select with ``has_loop``); other 9s are returned re-normalised.
    """
    _check(digit)
    cov = _up(digit)
    mask = _mask(cov)
    x, y, w, h = _box(mask)
    pen = _pen(mask)
    hole = _largest_hole(mask, min_area=(2 * SCALE) ** 2)
    if hole is None:
        return _finish(cov)
    hx, hy, hw, hh = cv2.boundingRect(hole.reshape(-1, 1, 2))
    head_bottom = int(hy + hh + 1.1 * pen)
    if head_bottom >= y + h - 2 * pen:  # the loop is the whole digit: no tail to replace
        return _finish(cov)
    out = cov.copy()
    out[head_bottom:] = 0
    # Start the stem at the loop's right edge, on the stroke's centre line.
    mid = int(hy + rng.uniform(0.3, 0.7) * hh)
    right_edge = np.flatnonzero(mask[mid]).max() if mask[mid].any() else hx + hw + pen / 2
    start = np.array([right_edge - pen / 2, mid])
    drop = (y + h - pen / 2) - start[1]
    end = start + np.array([np.tan(np.deg2rad(rng.uniform(-12, 4))) * drop, drop])
    stem = _curve(start, end, rng.uniform(-0.04, 0.04))
    return _finish(np.maximum(out, _stroke(cov.shape, stem, pen * rng.uniform(0.85, 1.05))))


def thin_broken(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A thin pen line (30-60% of the digit's width) with 1-3 gaps where the pen skipped.

    Gaps are 2-4 px at 28x28 and never closer together than a third of the digit, so a 0
    becomes an unclosed, broken ring rather than a scatter of dots.
    """
    _check(digit)
    cov = _up(digit)
    mask = _mask(cov)
    x, y, w, h = _box(mask)
    pen = _pen(mask)
    skeleton = _skeleton(mask)
    out = cv2.GaussianBlur(draw_at_width(skeleton, pen * rng.uniform(0.3, 0.6)), (0, 0), _EDGE_SIGMA * 0.5)
    points = np.column_stack(np.nonzero(skeleton)[::-1]).astype(float)
    if len(points) < 4:
        return _finish(out)
    gaps = int(rng.integers(1, 4))
    chosen: list[np.ndarray] = []
    for i in rng.permutation(len(points)):
        if len(chosen) == gaps:
            break
        if all(np.linalg.norm(points[i] - c) > max(w, h) / 3 for c in chosen):
            chosen.append(points[i])
    for centre in chosen:
        radius = int(round(rng.uniform(1.0, 2.0) * SCALE))
        cv2.circle(out, tuple(int(v) for v in centre), radius, 0.0, -1, cv2.LINE_AA)
    return _finish(out)


def small_scan(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A digit scanned small (10-16 px tall), binarised by the scanner and stretched to fill its box.

    The box stretch widens narrow digits towards a square (a 1 becomes a fat bar, up to 2.5x
    its width); the low resolution leaves blocky, stair-stepped edges once enlarged.
    """
    _check(digit)
    box = cv2.boundingRect(cv2.findNonZero((digit > 40).astype(np.uint8)) if digit.max() > 40 else np.zeros((1, 1, 2), np.int32))
    x, y, w, h = box
    crop = digit[y : y + h, x : x + w].astype(np.float32) / 255.0
    if crop.size == 0:
        return _finish(_up(digit))
    small_h = int(rng.integers(10, 17))
    aspect = w / h
    stretched = min(aspect + (1 - aspect) * rng.uniform(0.5, 1.0), 2.5 * aspect) if aspect < 1 else aspect
    small_w = max(2, int(round(small_h * stretched)))
    scan = cv2.resize(crop, (small_w, small_h), interpolation=cv2.INTER_AREA)
    # The scanner's threshold: grey ink rims become all or nothing, with a little sensor grey left.
    binary = (scan >= rng.uniform(0.3, 0.55)).astype(np.float32)
    scan = np.clip(binary * rng.uniform(0.85, 1.0) + 0.15 * scan, 0, 1)
    # Enlarged the way a box-filling step does it: nearest neighbour, blocky edges.
    scale = WORK * 0.7 / max(small_w, small_h)
    big = cv2.resize(scan, (max(1, round(small_w * scale)), max(1, round(small_h * scale))), interpolation=cv2.INTER_NEAREST)
    return _finish(cv2.GaussianBlur(big, (0, 0), SCALE * 0.5))


def elastic(digit: np.ndarray, rng: np.random.Generator, alpha: float = 34.0, sigma: float = 4.0) -> np.ndarray:
    """Elastic distortion (Simard et al. 2003): a smooth random displacement field, wobbly strokes."""
    _check(digit)
    fields = [cv2.GaussianBlur(rng.uniform(-1, 1, (MNIST_SIZE, MNIST_SIZE)).astype(np.float32), (0, 0), sigma) for _ in "xy"]
    # Displacements are in pixels at 28x28; the field is smooth, so a bilinear upsampling is exact enough.
    dx, dy = (cv2.resize(f * alpha * SCALE, (WORK, WORK), interpolation=cv2.INTER_LINEAR) for f in fields)
    grid_x, grid_y = np.meshgrid(np.arange(WORK, dtype=np.float32), np.arange(WORK, dtype=np.float32))
    out = cv2.remap(_up(digit), grid_x + dx, grid_y + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return _finish(out)


# ---------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Style:
    """A writing style: which digits it applies to (None: all), how to make it, and which sources suit it."""

    name: str
    digits: tuple[int, ...] | None
    make: StyleFn
    needs_loop: bool = False
    description: str = ""

    def applies(self, digit: np.ndarray, label: int) -> bool:
        """Whether this MNIST digit can be turned into this style."""
        if self.digits is not None and label not in self.digits:
            return False
        return not self.needs_loop or has_loop(digit)


STYLES: dict[str, Style] = {
    s.name: s
    for s in (
        Style("european_1", (1,), european_one, description="1 with a long flag"),
        Style("crossed_7", (7,), crossed_seven, description="7 with a crossbar"),
        Style("open_4", (4,), open_four, description="4 with an open top, arm apart from the stem"),
        Style("straight_9", (9,), straight_nine, needs_loop=True, description="9 with a straight stem"),
        Style("thin_broken", None, thin_broken, description="thin pen with 1-3 gaps"),
        Style("small_scan", None, small_scan, description="scanned at 10-16 px, stretched to its box"),
        Style("elastic", None, elastic, description="elastic distortion"),
    )
}


def style_set(
    images: np.ndarray, labels: np.ndarray, style: str, rng: np.random.Generator, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Apply ``style`` to every suitable digit of ``images`` (at most ``limit``); returns (images, labels).

    Made from MNIST *test* digits, this is the held-out test of how well a model reads the style.
    """
    spec = STYLES[style]
    out, out_labels = [], []
    for image, label in zip(images, labels):
        if limit is not None and len(out) >= limit:
            break
        if spec.applies(image, int(label)):
            out.append(spec.make(image, rng))
            out_labels.append(int(label))
    return np.asarray(out, np.uint8).reshape(-1, MNIST_SIZE, MNIST_SIZE), np.asarray(out_labels, labels.dtype)


def styled_pool(
    images: np.ndarray, labels: np.ndarray, rng: np.random.Generator, per_style: int = 4000
) -> tuple[np.ndarray, np.ndarray]:
    """A training pool: up to ``per_style`` random suitable digits of each style, shuffled.

    Meant for *training* digits; mixed into batches as augmentation (see ``training.augment``).
    """
    xs, ys = [], []
    for name in STYLES:
        order = rng.permutation(len(images))
        x, y = style_set(images[order], labels[order], name, rng, limit=per_style)
        xs.append(x)
        ys.append(y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    order = rng.permutation(len(x))
    return x[order], y[order]
