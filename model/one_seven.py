"""1 or 7: a second opinion where the classifier hesitates between the two.

The classifier learned from MNIST, whose writers crossed no 7s and gave their 1s no flag: a 1 with
a long flag (the European 1) or a printed 1 with a serif at its top is, to it, a 7 with a short
bar. A second network, trained a short while with the synthetic writing styles of
``training/styles.py`` mixed in (``model/one_seven.onnx``), reads those 1s as 1s, but reads some of
MNIST's short-barred 7s as 1s too. So it is asked only about lone digits the classifier reads as
1 or 7 without being sure which: the classifier's share between the two is averaged with the
second network's; the other eight probabilities, and every digit the classifier is sure of, stay
the classifier's. In a number the sequence reader, trained with the same styles, already has its say.
"""

from __future__ import annotations

import numpy as np

# Rows whose 1-or-7 split the classifier makes at least this surely (the larger of the two over
# their sum) keep it.
SURE = 0.95
# Weight of the second network's split in the average.
WEIGHT = 0.5


def unsure_rows(probabilities: np.ndarray) -> np.ndarray:
    """(N,) bool: the rows read as 1 or 7 whose split between the two is not sure."""
    top = probabilities.argmax(axis=1)
    split = _share_of_one(probabilities)
    return ((top == 1) | (top == 7)) & (np.maximum(split, 1.0 - split) < SURE)


def settle(probabilities: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The classifier's rows (N, 10) with the 1-or-7 split of each row averaged with ``second``'s
    (the second network's rows for the same digits); the mass of 1 and 7 together is kept."""
    mass = probabilities[:, 1] + probabilities[:, 7]
    share = (1.0 - WEIGHT) * _share_of_one(probabilities) + WEIGHT * _share_of_one(second)
    settled = probabilities.copy()
    settled[:, 1] = mass * share
    settled[:, 7] = mass * (1.0 - share)
    return settled


def _share_of_one(probabilities: np.ndarray) -> np.ndarray:
    mass = probabilities[:, 1] + probabilities[:, 7]
    return np.divide(probabilities[:, 1], mass, out=np.full(len(mass), 0.5), where=mass > 0)
