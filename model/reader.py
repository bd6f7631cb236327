"""Read a whole number: segmentation proposes where the digits are, the network chooses.

``preprocessing.segment`` finds the digit regions (detection). Most regions are plainly one
digit: the network reads them with confidence and they are kept. A region that is too wide for
one digit, or that the network reads without confidence, may be two touching digits or half of
a broken one. For those, candidate cuts and merges with close neighbours are scored by the
network, and the segmentation whose digits it reads most confidently wins (a small dynamic
programme over the pieces, with a shape prior).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from preprocessing import normalize_digit
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

Probabilities = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Candidate:
    """One possible digit: its region, the 28x28 network input, the network's probabilities."""

    region: DigitRegion
    digit: np.ndarray
    probabilities: np.ndarray

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
        if w > TWO_WIDE * h:
            s -= WIDE_COST
        if h < 0.5 * height:  # a fragment well below the digits' height
            s -= 2.0
        return s


def _classify(seg: Segmentation, regions: list[DigitRegion], probabilities: Probabilities) -> list[Candidate]:
    if not regions:
        return []
    digits = np.stack([normalize_digit(seg.crop(r)).digit for r in regions])
    probs = probabilities(digits)
    return [Candidate(r, d, p) for r, d, p in zip(regions, digits, probs)]


def _needs_second_look(c: Candidate, typical_width: float | None, confidence: float = RECHECK_CONFIDENCE) -> bool:
    _, _, w, h = c.region.box
    mean, sd = LOG_ASPECT[c.label]
    wide = math.log(w / h) > mean + RECHECK_Z * sd or (typical_width is not None and w > RECHECK_WIDTH * typical_width)
    return c.confidence < confidence or wide


def typical_width(candidates: list[Candidate]) -> float | None:
    """The median width of the digits in a number of three or more (1s left out: they are narrow)."""
    widths = [c.region.box[2] for c in candidates if c.label != 1]
    return float(np.median(widths)) if len(candidates) >= 3 and len(widths) >= 2 else None


def _atoms(seg: Segmentation, first: list[Candidate], doubtful: list[bool]) -> tuple[list[DigitRegion], list[int], list[float]]:
    """The pieces the dynamic programme joins: each doubtful region cut at its candidate columns.

    Returns the pieces, per piece the index of the region it came from, and per piece the price
    of starting a digit there (the strokes its left cut crosses beyond the first; 0 at a region's edge).
    """
    atoms: list[DigitRegion] = []
    origin: list[int] = []
    price: list[float] = []
    for k, c in enumerate(first):
        parts, prices = [c.region], [0.0]
        if doubtful[k]:
            edges = [None, *cut_paths(c.region, seg.digit_height), None]
            parts, prices = [], []
            for a, b in zip(edges, edges[1:]):
                part = c.region.between(a, b)
                if part is not None:
                    parts.append(part)
                    prices.append(0.0 if a is None else CUT_COST * max(0, crossings(c.region, a) - 1))
        atoms.extend(parts)
        origin.extend([k] * len(parts))
        price.extend(prices)
    return atoms, origin, price


def choose(seg: Segmentation, probabilities: Probabilities) -> list[Candidate]:
    """The digits of the segmentation the network reads best, left to right."""
    first = _classify(seg, seg.regions, probabilities)
    height = seg.digit_height
    width = typical_width(first)
    doubtful = [_needs_second_look(c, width) for c in first]
    if len(first) == 1:  # a lone region is split only when it is too wide for one digit, not for doubt alone
        doubtful = [_needs_second_look(first[0], width, RECHECK_CONFIDENCE_ALONE)]
    if not any(doubtful):
        return first
    atoms, origin, price = _atoms(seg, first, doubtful)
    # Candidate spans: consecutive pieces of one region (a region cut, or not), or whole
    # neighbouring regions (a digit broken in two) when one of them is doubtful and the gap small.
    first_atom = {k: origin.index(k) for k in set(origin)}
    last_atom = {k: len(origin) - 1 - origin[::-1].index(k) for k in set(origin)}
    spans: dict[tuple[int, int], DigitRegion] = {}
    known: dict[tuple[int, int], Candidate] = {}
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
            if i == j and first_atom[origin[i]] == last_atom[origin[i]]:
                known[(i, j)] = first[origin[i]]
            else:
                spans[(i, j)] = span
    keys = list(spans)
    for key, cand in zip(keys, _classify(seg, [spans[k] for k in keys], probabilities)):
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


def read_regions(image: np.ndarray, probabilities: Probabilities) -> tuple[list[Candidate], Segmentation]:
    """Segment ``image`` and choose its digits with the network (``probabilities``: uint8 (N,28,28) -> (N,10))."""
    seg = segment(image)
    return ([] if seg.reason is not None else choose(seg, probabilities)), seg
