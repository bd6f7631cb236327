"""Training examples for the whole-digit check: the reader's own candidate crops, labelled.

The reader (``model.reader``) cuts doubtful regions into pieces and joins pieces and close
neighbours into candidate digits. The classifier was trained on whole digits only, so it reads a
half of a 0 or two touching digits with confidence. To teach a second network what a whole digit
is, numbers are composed here from MNIST *training* digits (random heights, gaps, touching and
overlapping neighbours, broken strokes, thin and fat pens, ruled lines), segmented by
``preprocessing.segment``, and every candidate the reader could consider is cut out with its
surroundings as the reader does (``preprocessing.context``) and labelled by the ink it holds:
whole (exactly one digit, all of it) or not (a part of a digit, or parts of two). Candidates in
between (most of a digit) are left out.

    x, whole, digit = make_examples(images, labels, numbers=3000, seed=0)
"""

from __future__ import annotations

import cv2
import numpy as np

from model.reader import candidate_spans, cut_pieces
from preprocessing.context import context_window
from preprocessing.segment import segment

# A candidate is whole when it holds this share of one digit's ink and little of any other...
WHOLE_SHARE = 0.92
OTHER_SHARE = 0.04
# ...and surely not whole when it holds less than this share, or this much of another digit.
PART_SHARE = 0.8
MIXED_SHARE = 0.12


def _glyph(digit: np.ndarray, height: int, rng: np.random.Generator) -> np.ndarray:
    """A digit's ink (float32 0..1) ``height`` px tall, with the pen of a random writer."""
    ys, xs = np.nonzero(digit > 30)
    g = digit[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32) / 255.0
    scale = height / g.shape[0] * rng.uniform(1.0, 1.15) if rng.random() < 0.2 else height / g.shape[0]
    width = max(1, round(g.shape[1] * scale * rng.uniform(0.85, 1.2)))
    g = np.clip(cv2.resize(g, (width, max(1, round(g.shape[0] * scale))), interpolation=cv2.INTER_CUBIC), 0, 1)
    pen = rng.random()
    if pen < 0.2:  # a fat marker
        k = int(rng.integers(2, max(3, height // 7)))
        g = cv2.dilate(g, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    elif pen < 0.4:  # a thin pen: the centre line only
        g = cv2.ximgproc.thinning((g > 0.5).astype(np.uint8) * 255).astype(np.float32) / 255
        g = cv2.GaussianBlur(g, (0, 0), 0.6) * 1.6
    if rng.random() < 0.25:  # a broken stroke: a thin gap across the digit
        gap = max(1, round(rng.uniform(0.02, 0.08) * g.shape[0]))
        if rng.random() < 0.6:
            row = int(rng.uniform(0.15, 0.6) * g.shape[0])
            g[row : row + gap] = 0
        else:
            col = int(rng.uniform(0.25, 0.75) * g.shape[1])
            g[:, col : col + gap] = 0
    return np.clip(g, 0, 1)


def compose(digits: list[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Ink coverage (float32 0..1) of a row of digits, and the owner map (digit index per inked pixel, -1 none)."""
    height = int(rng.integers(24, 110))
    glyphs = [_glyph(d, max(8, round(height * rng.uniform(0.85, 1.12))), rng) for d in digits]
    touching = rng.random() < 0.5
    width = sum(g.shape[1] for g in glyphs) + height * (len(glyphs) + 2)
    cov = np.zeros((3 * height, width), np.float32)
    owner = np.full(cov.shape, -1, np.int16)
    x = height
    for i, g in enumerate(glyphs):
        h, w = g.shape
        y = max(0, min(cov.shape[0] - h, int(height + height * rng.uniform(-0.1, 0.1) + (height - h) * rng.uniform(0, 1))))
        if i > 0:
            gap = rng.uniform(-0.3, 0.05) if touching and rng.random() < 0.6 else rng.uniform(0.02, 0.5)
            x = max(0, x + int(gap * min(w, glyphs[i - 1].shape[1])))
        window = cov[y : y + h, x : x + w]
        mine = g > np.maximum(window, 0.3)
        owner[y : y + h, x : x + w][mine] = i
        np.maximum(window, g, out=window)
        x += w
    if rng.random() < 0.2:  # a ruled line or an underline
        ys = np.nonzero(cov.any(1))[0]
        line_y = int(ys.max() + rng.uniform(-0.05, 0.1) * height)
        cv2.line(cov, (0, line_y), (cov.shape[1] - 1, line_y), float(rng.uniform(0.5, 0.9)), max(1, height // 25))
    return cov[:, : x + height], owner[:, : x + height]


def render(cov: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """As a person gives it: light ink on a dark canvas, or dark ink on noisy, blurred paper."""
    if rng.random() < 0.5:
        return np.round(cov * 255).astype(np.uint8)
    paper, ink = rng.uniform(170, 250), rng.uniform(0, 110)
    image = paper * (1 - cov) + ink * cov + rng.normal(0, rng.uniform(1, 8), cov.shape)
    return cv2.GaussianBlur(np.clip(image, 0, 255).astype(np.uint8), (0, 0), rng.uniform(0.3, 1.2))


def label_candidates(seg, owner_ink: np.ndarray, regions) -> list[tuple[int, int]]:
    """Per region: (1, digit index) when it is one whole digit, (0, -1) when surely not, (-1, -1) in between."""
    inked = seg.ink >= 80
    totals = np.bincount(owner_ink[inked & (owner_ink >= 0)].ravel(), minlength=owner_ink.max() + 1)
    out = []
    for region in regions:
        x, y, w, h = region.box
        mine = owner_ink[y : y + h, x : x + w][(region.mask > 0) & inked[y : y + h, x : x + w]]
        counts = np.bincount(mine[mine >= 0], minlength=len(totals))
        if counts.sum() == 0:
            out.append((0, -1))
            continue
        k = int(counts.argmax())
        share, other = counts[k] / max(totals[k], 1), (counts.sum() - counts[k]) / counts.sum()
        if share >= WHOLE_SHARE and other <= OTHER_SHARE:
            out.append((1, k))
        elif share < PART_SHARE or other > MIXED_SHARE:
            out.append((0, -1))
        else:
            out.append((-1, -1))
    return out


def make_examples(
    images: np.ndarray, labels: np.ndarray, numbers: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidates in context (uint8 (N, 32, 48, 2)), whole-digit labels (0/1) and digits (-1 when not whole)."""
    rng = np.random.default_rng(seed)
    xs, wholes, digits = [], [], []
    for _ in range(numbers):
        picks = rng.integers(0, len(images), int(rng.integers(1, 7)))
        cov, owner = compose([images[i] for i in picks], rng)
        seg = segment(render(cov, rng))
        if seg.reason is not None:
            continue
        owner_ink = cv2.resize(owner, (seg.ink.shape[1], seg.ink.shape[0]), interpolation=cv2.INTER_NEAREST)
        doubtful = [True] * len(seg.regions)
        atoms, origin, _ = cut_pieces(seg, seg.regions, doubtful)
        regions = list(candidate_spans(atoms, origin, doubtful, seg.digit_height).values())
        for region, (whole, k) in zip(regions, label_candidates(seg, owner_ink, regions)):
            if whole < 0:
                continue
            xs.append(context_window(seg, region))
            wholes.append(whole)
            digits.append(int(labels[picks[k]]) if whole else -1)
    return np.stack(xs), np.array(wholes, np.uint8), np.array(digits, np.int8)
