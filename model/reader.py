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

The sequence reader (``model.sequence``), when present, reads the whole line without cutting it and
says how many digits it holds and where: regions holding none or several of its digits are looked
at again and cut between them, a candidate pays for each of its digits too few or too many, and a
candidate holding exactly one is read by both networks together.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from model.sequence import Peak, decode
from preprocessing import normalize_digit
from preprocessing.context import context_window
from preprocessing.line import line_image
from preprocessing.segment import DigitRegion, Segmentation, crossings, cut_paths, merge, segment
from preprocessing.stroke import largest_piece_share

# Below this confidence a region is looked at again (a cut or a merge may read better); a lone
# region (a single digit, or two touching ones) only below the second.
RECHECK_CONFIDENCE = 0.9
RECHECK_CONFIDENCE_ALONE = 0.0
# Regions wider than MNIST writes the digit they are read as, by this many standard deviations
# (LOG_ASPECT), are looked at again too; so are regions this many times wider than the number's
# typical digit.
RECHECK_Z = 1.5
RECHECK_WIDTH = 1.6
# Candidate digits wider than this many digit heights are not considered. A digit may be written
# wide and flat (a 0 or a 6 twice as wide as tall): the shape prior and WIDE_COST weigh against
# such a candidate, but it must be there to be chosen (1.6 until 2026-12-06: corpus seeds 0-3,
# digits not touching, 74 -> 69 wrong, a wide 0 read as "07" or a 6 as "60").
MAX_WIDTH = 2.5
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

# The sequence reader (model.sequence): a candidate holding none or several of its digits pays this
# per digit too few or too many; its digit probabilities weigh this much beside the classifier's: less
# on a region as segmentation found it, a whole digit as the classifier was trained on, more on a piece
# cut from a region or regions merged, where the classifier sees a digit cut out of its context.
PEAK_COST = 6.0
SEQUENCE_WEIGHT = 0.5
SEQUENCE_WEIGHT_CUT = 2.0
# The weight with which the candidates are scored against each other, where to cut and what to merge.
SEQUENCE_WEIGHT_CHOICE = 1.0
# With the sequence reader counting the digits, the whole-digit check weighs less: it was trained on
# cuts labelled by their ink, and a cut between touching digits always takes a little of the other.
# (0.25 until 2026-12-06, when the sequence reader's weights changed: with 0.4, corpus seeds 2/3 read
# 53 -> 52 numbers wrong, seeds 0/1 43 -> 41; 0.6 lost touching pairs.)
WHOLE_WEIGHT_WITH_SEQUENCE = 0.4
# A lone region the classifier reads as one digit, not too wide for it, is cut where the sequence reader
# sees that digit and others in it only when it is at least this sure of each (2026-12-07: a canvas 4
# drawn in two strokes was read "14" at 100%; see _lone_region_doubtful).
LONE_PEAKS_SURE = 0.9
# Regions joined into a digit the sequence reader sees there too (a digit broken in two) pay for an
# extra digit beside it only as far as it is more sure of it than EVEN_ODDS, scaled to 0-1: it sees an
# unsure 1 in the left arc of a thin 0 broken in two (2026-12-07: the realistic corpus through read,
# seeds 0-3, +2; number corpus seeds 0-5 read exactly as before; without the condition on the digit,
# +4 there but a touching "34" joined into a 7).
EVEN_ODDS = 0.5
# A piece shorter than this many digit heights, with none of the sequence reader's digits in it, may be
# left out of the reading for this price.
FRAGMENT = 0.5
SKIP_COST = 1.0

# A 1 is one stroke: in 6,740 of MNIST's 6,742 training 1s the largest piece holds at least ONE_PIECE
# of the ink, once the gaps of a skipping pen are bridged. A candidate read as 1 whose ink lies in
# several pieces, none of them most of it, is a sliver cut off a digit with a speck beside it, or the
# detached arm of a broken 4 (a "!"); it pays PIECES_COST. Corpus seeds 0-3, together with the gaps
# bridged in normalisation: numbers whose digits do not touch 62 -> 58 wrong, touching 31 -> 31.
ONE_PIECE = 0.75
PIECES_COST = 6.0

Probabilities = Callable[[np.ndarray], np.ndarray]
# uint8 (N, 32, 48, 2) context windows (preprocessing.context) -> (N,): the probability that each
# candidate is exactly one whole digit.
Wholeness = Callable[[np.ndarray], np.ndarray]
# uint8 (N, 32, 256) line strips (preprocessing.line) -> (N, 64, 11): per column, CTC blank and digit probabilities.
Sequence = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Candidate:
    """One possible digit: its region, the 28x28 network input, the network's probabilities."""

    region: DigitRegion
    digit: np.ndarray
    classified: np.ndarray  # the classifier's probabilities for the 28x28 digit
    whole: float = 1.0  # the whole-digit check's probability that this is exactly one digit
    # The sequence reader's digits whose centre lies in this candidate (None: no sequence reader).
    peaks: tuple[Peak, ...] | None = None
    # Whether this is a region as segmentation found it (not a piece cut from one, nor regions merged).
    found: bool = True
    # Whether this joins regions as segmentation found them (a digit broken in two).
    merged: bool = False

    def joint(self, weight: float) -> np.ndarray:
        """The classifier's probabilities, times the sequence reader's to the power ``weight`` where it
        sees exactly one digit here, normalised."""
        if self.peaks is None or len(self.peaks) != 1:
            return self.classified
        joint = self.classified * self.peaks[0].probabilities**weight
        total = joint.sum()
        return joint / total if total > 0 else self.classified

    @property
    def probabilities(self) -> np.ndarray:
        """What the digit is: both networks' probabilities together, the sequence reader's weighed by
        whether this is a region as found or a piece cut or merged."""
        return self.joint(SEQUENCE_WEIGHT if self.found else SEQUENCE_WEIGHT_CUT)

    @property
    def label(self) -> int:
        return int(self.probabilities.argmax())

    @property
    def choice(self) -> np.ndarray:
        """The probabilities the candidates are scored with (where to cut, what to merge)."""
        return self.joint(SEQUENCE_WEIGHT_CHOICE)

    @property
    def sequence_agrees(self) -> bool | None:
        """Whether the sequence reader sees exactly one digit here, the same one the classifier reads (None: not asked)."""
        if self.peaks is None:
            return None
        return len(self.peaks) == 1 and self.peaks[0].digit == int(self.classified.argmax())

    @property
    def confidence(self) -> float:
        return float(self.probabilities.max())

    def score(self, height: float) -> float:
        """Log-probability of the best class, plus the log-likelihood of the box's shape for that class."""
        _, _, w, h = self.region.box
        choice = self.choice
        mean, sd = LOG_ASPECT[int(choice.argmax())]
        z = (math.log(w / h) - mean) / sd
        excess = max(0.0, z - SHAPE_SLACK, -z - SLIVER)
        s = math.log(max(float(choice.max()), 1e-9)) - DIGIT_COST - SHAPE_WEIGHT * min(0.5 * excess**2, 8.0)
        s += (WHOLE_WEIGHT if self.peaks is None else WHOLE_WEIGHT_WITH_SEQUENCE) * math.log(max(self.whole, 1e-4))
        if w > TWO_WIDE * h:
            s -= WIDE_COST
        if h < 0.5 * height:  # a fragment well below the digits' height
            s -= 2.0
        if self.peaks is not None:
            s -= PEAK_COST * self.peak_mismatch
        if int(choice.argmax()) == 1 and largest_piece_share(self.region.mask) < ONE_PIECE:
            s -= PIECES_COST
        return s

    @property
    def peak_mismatch(self) -> float:
        """How far this is from holding exactly one of the sequence reader's digits: 1 for none, and
        for each one too many its confidence (an unsure extra digit counts less)."""
        if not self.peaks:
            return 1.0
        extra = sorted(p.confidence for p in self.peaks)[:-1]
        if self.merged and int(self.classified.argmax()) in {p.digit for p in self.peaks}:
            # Regions joined into the digit the sequence reader sees there too: an extra digit beside
            # it counts only as far as it is above even odds.
            extra = [max(0.0, (c - EVEN_ODDS) / (1 - EVEN_ODDS)) for c in extra]
        return float(sum(extra))


def _classify(
    seg: Segmentation, regions: list[DigitRegion], probabilities: Probabilities, wholeness: Wholeness | None
) -> list[Candidate]:
    if not regions:
        return []
    crops = [seg.crop(r) for r in regions]
    digits = np.stack([normalize_digit(c).digit for c in crops])
    probs = probabilities(digits)
    if wholeness is None:
        whole = np.ones(len(digits))
    else:
        whole = wholeness(np.stack([context_window(seg, r, c) for r, c in zip(regions, crops)]))
    return [Candidate(r, d, p, float(w)) for r, d, p, w in zip(regions, digits, probs, whole)]


def _too_wide(c: Candidate, typical_width: float | None) -> bool:
    """Wider than MNIST writes the digit it is read as, or than the number's typical digit."""
    _, _, w, h = c.region.box
    mean, sd = LOG_ASPECT[int(c.choice.argmax())]
    return math.log(w / h) > mean + RECHECK_Z * sd or (typical_width is not None and w > RECHECK_WIDTH * typical_width)


def _needs_second_look(c: Candidate, typical_width: float | None, confidence: float = RECHECK_CONFIDENCE) -> bool:
    return float(c.choice.max()) < confidence or c.whole < RECHECK_WHOLE or _too_wide(c, typical_width)


def _lone_region_doubtful(c: Candidate, typical_width: float | None) -> bool:
    """Whether the only region of a picture may be two touching digits, or a digit and a piece.

    The classifier's doubt alone does not split it (RECHECK_CONFIDENCE_ALONE). Where the sequence
    reader sees one digit there or none (or is absent), it is looked at again when it is too wide
    for one digit or the whole-digit check doubts it (or the sequence reader sees none). Where the
    sequence reader sees several, only when it is too wide, or the sequence reader is sure of each,
    or the classifier is unsure, or reads none of them: an open 4 drawn in two strokes, its stem
    apart, leaves the check unsure of so big a digit and the sequence reader seeing a faint 1 in
    the first stroke beside the 4 the classifier reads; that is one digit.
    """
    if c.peaks is None or len(c.peaks) <= 1:
        return _needs_second_look(c, typical_width, RECHECK_CONFIDENCE_ALONE) or c.peaks == ()
    sure = min(p.confidence for p in c.peaks) >= LONE_PEAKS_SURE
    read = int(c.classified.argmax())
    return (
        _too_wide(c, typical_width)
        or sure
        or float(c.classified.max()) < RECHECK_CONFIDENCE
        or read not in {p.digit for p in c.peaks}
    )


def typical_width(candidates: list[Candidate]) -> float | None:
    """The median width of the digits in a number of three or more (1s left out: they are narrow)."""
    widths = [c.region.box[2] for c in candidates if c.label != 1]
    return float(np.median(widths)) if len(candidates) >= 3 and len(widths) >= 2 else None


def cut_pieces(
    seg: Segmentation, regions: list[DigitRegion], doubtful: list[bool], near: list[tuple[float, ...]] | None = None
) -> tuple[list[DigitRegion], list[int], list[float]]:
    """The pieces the dynamic programme joins: each doubtful region cut at its candidate columns.

    ``near``: per region, ink-map columns where a cut is wanted (between two of the sequence
    reader's digits). Returns the pieces, per piece the index of the region it came from, and per
    piece the price of starting a digit there (the strokes its left cut crosses beyond the first;
    0 at a region's edge).
    """
    atoms: list[DigitRegion] = []
    origin: list[int] = []
    price: list[float] = []
    for k, region in enumerate(regions):
        parts, prices = [region], [0.0]
        if doubtful[k]:
            edges = [None, *cut_paths(region, seg.digit_height, near=near[k] if near else ()), None]
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
            # Wider than a digit of this line is; or of its own height, for the pieces of a digit
            # broken across (a 2's top apart from its body), which make the line's height look small.
            if span.box[2] > MAX_WIDTH * max(height, span.box[3]):
                break
            spans[(i, j)] = span
    return spans


def assign_peaks(peaks: list[Peak] | None, regions: list[DigitRegion]) -> list[tuple[Peak, ...] | None]:
    """Per region, the sequence reader's digits closest to it (each peak goes to one region: the one
    whose columns hold it, or the nearest; among overlapping ones, the one whose centre is nearest).
    All None without a sequence reader."""
    if peaks is None:
        return [None] * len(regions)
    owned: list[list[Peak]] = [[] for _ in regions]
    for p in peaks:
        distance = [(max(r.x0 - p.x, p.x - r.x1 + 1, 0.0), abs(p.x - (r.x0 + r.x1) / 2)) for r in regions]
        owned[min(range(len(regions)), key=distance.__getitem__)].append(p)
    return [tuple(o) for o in owned]


def _between_peaks(region: DigitRegion, peaks: tuple[Peak, ...] | None) -> tuple[float, ...]:
    """Columns halfway between consecutive peaks within the region: where a cut is wanted."""
    if not peaks:
        return ()
    return tuple((a.x + b.x) / 2 for a, b in zip(peaks, peaks[1:]))


def choose(
    seg: Segmentation,
    probabilities: Probabilities,
    wholeness: Wholeness | None = None,
    peaks: list[Peak] | None = None,
) -> list[Candidate]:
    """The digits of the segmentation the networks read best, left to right.

    ``peaks``: the digits the sequence reader sees in the line (``model.sequence``), or None. With
    them, a candidate that holds no peak or several pays PEAK_COST for each one too few or too
    many, regions holding several peaks are cut between them, and a candidate with exactly one
    peak is read by the classifier and the sequence reader together.
    """
    first = _classify(seg, seg.regions, probabilities, wholeness)
    first = [dataclasses.replace(c, peaks=p) for c, p in zip(first, assign_peaks(peaks, seg.regions))]
    height = seg.digit_height
    width = typical_width(first)
    if len(first) == 1:
        doubtful = [_lone_region_doubtful(first[0], width)]
    else:
        doubtful = [_needs_second_look(c, width) for c in first]
        if peaks is not None:  # a region that is not exactly one of the sequence reader's digits
            doubtful = [d or len(c.peaks) != 1 for d, c in zip(doubtful, first)]
    if not any(doubtful):
        return first
    near = [_between_peaks(c.region, c.peaks) for c in first]
    atoms, origin, price = cut_pieces(seg, [c.region for c in first], doubtful, near)
    spans = candidate_spans(atoms, origin, doubtful, height)
    known: dict[tuple[int, int], Candidate] = {}
    first_atom = {k: origin.index(k) for k in set(origin)}
    last_atom = {k: len(origin) - 1 - origin[::-1].index(k) for k in set(origin)}
    atom_peaks = assign_peaks(peaks, atoms)

    def peaks_of(i: int, j: int) -> tuple[Peak, ...] | None:
        return None if peaks is None else sum(atom_peaks[i : j + 1], ())

    for key in list(spans):
        i, j = key
        if i == j and first_atom[origin[i]] == last_atom[origin[i]]:  # an uncut region: read already
            known[key] = dataclasses.replace(first[origin[i]], peaks=peaks_of(i, j))
            del spans[key]
    keys = list(spans)
    for key, cand in zip(keys, _classify(seg, [spans[k] for k in keys], probabilities, wholeness)):
        i, j = key
        found = origin[i] == origin[j] and first_atom[origin[i]] == i and last_atom[origin[j]] == j
        known[key] = dataclasses.replace(cand, peaks=peaks_of(*key), found=found, merged=origin[i] != origin[j])
    # A fragment well below the digits' height in which the sequence reader sees no digit (the end
    # of a ruled line left on a digit, a stray mark) may be left out.
    skippable = [
        peaks is not None and not atom_peaks[k] and atoms[k].box[3] < FRAGMENT * height for k in range(len(atoms))
    ]
    # best[j]: best score of reading atoms 0..j-1; back[j]: where its last digit starts (None: atom j-1 left out).
    n = len(atoms)
    best = [0.0] + [-math.inf] * n
    back: list[int | None] = [0] * (n + 1)
    for j in range(1, n + 1):
        if skippable[j - 1] and best[j - 1] - SKIP_COST > best[j]:
            best[j], back[j] = best[j - 1] - SKIP_COST, None
        for i in range(j):
            cand = known.get((i, j - 1))
            if cand is None or best[i] == -math.inf:
                continue
            s = best[i] + cand.score(height) - price[i]
            if s > best[j]:
                best[j], back[j] = s, i
    chosen = []
    j = n
    while j > 0 and best[n] > -math.inf:
        i = back[j]
        if i is None:
            j -= 1
            continue
        chosen.append(known[(i, j - 1)])
        j = i
    # Left to right as segment orders regions: the pieces of a region cut in two may lie on both
    # sides of a neighbour's centre (a long region, a smaller one beside its middle).
    return sorted(chosen, key=lambda c: c.region.x0 + c.region.x1) or first


def read_regions(
    image: np.ndarray,
    probabilities: Probabilities,
    wholeness: Wholeness | None = None,
    sequence: Sequence | None = None,
    seg: Segmentation | None = None,
) -> tuple[list[Candidate], Segmentation]:
    """Segment ``image`` and choose its digits with the networks (``probabilities``: uint8 (N,28,28) -> (N,10);
    ``wholeness``, optional: context windows -> (N,), the whole-digit check; ``sequence``, optional:
    line strips -> per-column CTC probabilities, the sequence reader). ``seg``: ``segment(image)``, if made already."""
    seg = segment(image) if seg is None else seg
    if seg.reason is not None:
        return [], seg
    peaks = None
    if sequence is not None:
        strip, mapping = line_image(seg)
        peaks = decode(sequence(strip[None])[0], mapping)
    return choose(seg, probabilities, wholeness, peaks), seg
