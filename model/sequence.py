"""The sequence reader's answer, decoded: which digits a line holds and where (``training.sequence_reader``).

The network gives, for each of 64 columns of the line's strip (``preprocessing.line``), the
probabilities of "no digit here" (the CTC blank) and of each digit. Best-path decoding keeps
each run of one digit as one ``Peak``: where it is in the ink map, and the digit probabilities
at its surest column. The reader (``model.reader``) takes the peaks as anchors: one digit per
peak, each cut out where the classifier and the whole-digit check agree best.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from preprocessing.line import LINE, LineMapping

# Output columns (one per 4 strip columns) and classes (0: the CTC blank, 1 + d: digit d).
STEPS = 64
CLASSES = 11
_COLUMNS_PER_STEP = LINE[1] / STEPS


@dataclass(frozen=True)
class Peak:
    """One digit the sequence reader sees: ``x`` (ink-map column of its centre), ``probabilities``
    (10 digit probabilities at its surest column, summing to 1), ``confidence`` (that column's
    probability of its digit)."""

    x: float
    probabilities: np.ndarray
    confidence: float

    @property
    def digit(self) -> int:
        return int(self.probabilities.argmax())


def decode(output: np.ndarray, mapping: LineMapping) -> list[Peak]:
    """Best-path CTC decoding of one strip's output ((64, 11), any leading 1s) into peaks, left to right."""
    probs = np.asarray(output, np.float64).reshape(STEPS, CLASSES)
    best = probs.argmax(1)
    peaks = []
    t = 0
    while t < STEPS:
        c = best[t]
        end = t + 1
        while end < STEPS and best[end] == c:
            end += 1
        if c != 0:
            run = probs[t:end, c]
            surest = t + int(run.argmax())
            column = (np.average(np.arange(t, end), weights=run) + 0.5) * _COLUMNS_PER_STEP
            digits = probs[surest, 1:] / max(probs[surest, 1:].sum(), 1e-12)
            peaks.append(Peak(mapping.to_ink(column), digits, float(probs[surest, c])))
        t = end
    return peaks
