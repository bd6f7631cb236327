"""Read a whole number: segmentation proposes where the digits are, the networks choose.

``preprocessing.segment`` finds the digit regions (detection). Most regions are plainly one
digit: the classifier reads them with confidence and they are kept. A region that is too wide
for one digit, that the classifier reads without confidence, or that the whole-digit check
doubts, may be two touching digits or half of a broken one. For those, candidate cuts and merges
with close neighbours are scored, and the segmentation whose digits score best wins (a small
dynamic programme over the pieces). A candidate's score is the classifier's log-probability,
plus the whole-digit check's (``training.whole_digit``: is this, seen in its surroundings,
exactly one whole digit?), plus a shape prior from MNIST's aspect ratios. The classifier alone
reads half of a 0 as a confident 1; the check is what tells it is half of something.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from preprocessing import normalize_digit
from preprocessing.context import context_window
from preprocessing.segment import DigitRegion, Segmentation, crossings, cut_paths, merge, segment

# Below this confidence a region is looked at again (a cut or a merge may read better); a lone
# region (a single digit, or two touching ones) only below the second.
RECHECK_CONFIDENCE = 0.9
RECHECK_CONFIDENCE_ALONE = 0.0
# Regions wider than MNIST writes the digit they are read as, by this many standard deviations
# (LOG_ASPECT), are looked at again too; so are regions this many times wider than the number's
# typical digit.
RECHECK_Z = 1.5
RECHECK_WIDTH = 1.6
# Candidate digits wider than this many digit heights are not considered.
MAX_WIDTH = 1.6
# Neighbours further apart than this many digit heights are never one digit.
MAX_MERGE_GAP = 0.2
# Score per digit read (log-probability units): the price of an extra cut.
DIGIT_COST = 0.2
# Weight of the shape prior, which is one-sided: a box wider than MNIST writes the digit (beyond
# SHAPE_SLACK standard deviations) is evidence of two digits read as one; a narrow one is only
# suspect when it is a sliver (beyond SLIVER standard deviations): people write narrow digits.
# CUT_COST: the price of each stroke a cut crosses beyond the first.
SHAPE_WEIGHT = 1.0
SHAPE_SLACK = 1.0
SLIVER = 3.0
CUT_COST = 1.0
# Wider than this (width / height), 98% of MNIST digits are not: one more price for reading it as one.
TWO_WIDE = 1.25
WIDE_COST = 1.5
# log(width / height) of each digit's bounding box in MNIST's 60,000 training images: mean and
# standard deviation per class (tests/test_reader.py recomputes them). A touching pair read as
# one digit is far wider than that digit is written; a sliver cut off a digit far narrower.
LOG_ASPECT = {
    0: (-0.096, 0.184), 1: (-0.884, 0.444), 2: (-0.064, 0.204), 3: (-0.217, 0.202), 4: (-0.224, 0.202),
    5: (-0.068, 0.242), 6: (-0.304, 0.209), 7: (-0.245, 0.206), 8: (-0.262, 0.212), 9: (-0.371, 0.201),
}

# Weight of the whole-digit check's log-probability in a candidate's score, and below what
# probability a region is looked at again.
WHOLE_WEIGHT = 1.0
RECHECK_WHOLE = 0.5

Probabilities = Callable[[np.ndarray], np.ndarray]
# uint8 (N, 32, 48, 2) context windows (preprocessing.context) -> (N,): the probability that each
# candidate is exactly one whole digit.
Wholeness = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Candidate:
    """One possible digit: its region, the 28x28 network input, the network's probabilities."""

    region: DigitRegion
    digit: np.ndarray
    probabilities: np.ndarray
    whole: float = 1.0  # the whole-digit check's probability that this is exactly one digit

    @property
    def label(self) -> int:
        return int(self.probabilities.argmax())

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())

    def score(self, height: float) -> float:
        """Log-probability of the best class, plus the log-likelihood of the box's shape for that class."""
        _, _, w, h = self.region.box
        mean, sd = LOG_ASPECT[self.label]
        z = (math.log(w / h) - mean) / sd
        excess = max(0.0, z - SHAPE_SLACK, -z - SLIVER)
        s = math.log(max(self.confidence, 1e-9)) - DIGIT_COST - SHAPE_WEIGHT * min(0.5 * excess**2, 8.0)
        s += WHOLE_WEIGHT * math.log(max(self.whole, 1e-4))
        if w > TWO_WIDE * h:
            s -= WIDE_COST
        if h < 0.5 * height:  # a fragment well below the digits' height
            s -= 2.0
        return s


def _classify(
    seg: Segmentation, regions: list[DigitRegion], probabilities: Probabilities, wholeness: Wholeness | None
) -> list[Candidate]:
    if not regions:
        return []
    digits = np.stack([normalize_digit(seg.crop(r)).digit for r in regions])
    probs = probabilities(digits)
    whole = np.ones(len(digits)) if wholeness is None else wholeness(np.stack([context_window(seg, r) for r in regions]))
    return [Candidate(r, d, p, float(w)) for r, d, p, w in zip(regions, digits, probs, whole)]


def _needs_second_look(c: Candidate, typical_width: float | None, confidence: float = RECHECK_CONFIDENCE) -> bool:
    _, _, w, h = c.region.box
    mean, sd = LOG_ASPECT[c.label]
    wide = math.log(w / h) > mean + RECHECK_Z * sd or (typical_width is not None and w > RECHECK_WIDTH * typical_width)
    return c.confidence < confidence or c.whole < RECHECK_WHOLE or wide


def typical_width(candidates: list[Candidate]) -> float | None:
    """The median width of the digits in a number of three or more (1s left out: they are narrow)."""
    widths = [c.region.box[2] for c in candidates if c.label != 1]
    return float(np.median(widths)) if len(candidates) >= 3 and len(widths) >= 2 else None


def cut_pieces(
    seg: Segmentation, regions: list[DigitRegion], doubtful: list[bool]
) -> tuple[list[DigitRegion], list[int], list[float]]:
    """The pieces the dynamic programme joins: each doubtful region cut at its candidate columns.

    Returns the pieces, per piece the index of the region it came from, and per piece the price
    of starting a digit there (the strokes its left cut crosses beyond the first; 0 at a region's edge).
    """
    atoms: list[DigitRegion] = []
    origin: list[int] = []
    price: list[float] = []
    for k, region in enumerate(regions):
        parts, prices = [region], [0.0]
        if doubtful[k]:
            edges = [None, *cut_paths(region, seg.digit_height), None]
            parts, prices = [], []
            for a, b in zip(edges, edges[1:]):
                part = region.between(a, b)
                if part is not None:
                    parts.append(part)
                    prices.append(0.0 if a is None else CUT_COST * max(0, crossings(region, a) - 1))
        atoms.extend(parts)
        origin.extend([k] * len(parts))
        price.extend(prices)
    return atoms, origin, price


def candidate_spans(
    atoms: list[DigitRegion], origin: list[int], doubtful: list[bool], height: float
) -> dict[tuple[int, int], DigitRegion]:
    """Every run of pieces that may be one digit, keyed by (first piece, last piece).

    Consecutive pieces of one region (a region cut, or not), or whole neighbouring regions (a
    digit broken in two) when one of them is doubtful and the gap between them small; never
    wider than MAX_WIDTH digit heights.
    """
    first_atom = {k: origin.index(k) for k in set(origin)}
    last_atom = {k: len(origin) - 1 - origin[::-1].index(k) for k in set(origin)}
    spans: dict[tuple[int, int], DigitRegion] = {}
    for i in range(len(atoms)):
        for j in range(i, len(atoms)):
            if origin[i] != origin[j]:
                whole = first_atom[origin[i]] == i and last_atom[origin[j]] == j
                gap = atoms[j].x0 - max(a.x1 for a in atoms[i:j])
                if gap > MAX_MERGE_GAP * height:
                    break
                if not any(doubtful[origin[k]] for k in range(i, j + 1)):
                    break
                if not whole:
                    continue
            span = merge(atoms[i : j + 1])
            if span.box[2] > MAX_WIDTH * height:
                break
            spans[(i, j)] = span
    return spans


def choose(seg: Segmentation, probabilities: Probabilities, wholeness: Wholeness | None = None) -> list[Candidate]:
    """The digits of the segmentation the networks read best, left to right."""
    first = _classify(seg, seg.regions, probabilities, wholeness)
    height = seg.digit_height
    width = typical_width(first)
    doubtful = [_needs_second_look(c, width) for c in first]
    if len(first) == 1:  # a lone region is split only when it is too wide for one digit, not for doubt alone
        doubtful = [_needs_second_look(first[0], width, RECHECK_CONFIDENCE_ALONE)]
    if not any(doubtful):
        return first
    atoms, origin, price = cut_pieces(seg, [c.region for c in first], doubtful)
    spans = candidate_spans(atoms, origin, doubtful, height)
    known: dict[tuple[int, int], Candidate] = {}
    first_atom = {k: origin.index(k) for k in set(origin)}
    last_atom = {k: len(origin) - 1 - origin[::-1].index(k) for k in set(origin)}
    for key in list(spans):
        i, j = key
        if i == j and first_atom[origin[i]] == last_atom[origin[i]]:  # an uncut region: read already
            known[key] = first[origin[i]]
            del spans[key]
    keys = list(spans)
    for key, cand in zip(keys, _classify(seg, [spans[k] for k in keys], probabilities, wholeness)):
        known[key] = cand
    # best[j]: best score of reading atoms 0..j-1; back[j]: where its last digit starts.
    n = len(atoms)
    best = [0.0] + [-math.inf] * n
    back = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j):
            cand = known.get((i, j - 1))
            if cand is None or best[i] == -math.inf:
                continue
            s = best[i] + cand.score(height) - price[i]
            if s > best[j]:
                best[j], back[j] = s, i
    if best[n] == -math.inf:
        return first
    chosen = []
    j = n
    while j > 0:
        i = back[j]
        chosen.append(known[(i, j - 1)])
        j = i
    return chosen[::-1]


def read_regions(
    image: np.ndarray, probabilities: Probabilities, wholeness: Wholeness | None = None
) -> tuple[list[Candidate], Segmentation]:
    """Segment ``image`` and choose its digits with the networks (``probabilities``: uint8 (N,28,28) -> (N,10);
    ``wholeness``, optional: context windows -> (N,), the whole-digit check)."""
    seg = segment(image)
    return ([] if seg.reason is not None else choose(seg, probabilities, wholeness)), seg
