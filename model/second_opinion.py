"""A second opinion on lone digits the classifier is not sure of.

The classifier learned from MNIST, whose writers crossed no 7s, gave their 1s no flag and seldom
broke a stroke: a European 1 or a printed 1 with a serif is, to it, a 7 with a short bar, and a
thin 0 with gaps anything. A second network of the same architecture, trained a short while with
the synthetic writing styles of ``training/styles.py`` mixed in (``model/second_opinion.onnx``),
reads those better but MNIST's own short-barred 7s worse. So it is asked only about a lone digit
the classifier reads with less than ``UNSURE`` confidence, and the two networks' probabilities are
averaged, the second network's weighing a little more (``WEIGHT``): on a digit the classifier is unsure
of, the styles it was not trained on are the likelier reason. What the classifier is sure of stays its
answer. In a number the sequence reader, trained with the same styles, already gives the reader a
second view of each digit, and averaging there as well read more numbers wrong (README, Results).
"""

from __future__ import annotations

import numpy as np

# A lone digit read with less confidence than this is also shown to the second network, and the weight
# of its probabilities in the average (0.95 and 0.5 until the third session of 2026-12-07: corpus seeds
# 0-3 and 7/11, 2,600 images each, 121 -> 91 misread; MNIST test through the pipeline 49 -> 50; the 7
# renderings of 3,000 MNIST test digits 135 -> 137; README, Results).
UNSURE = 0.99
WEIGHT = 0.6


def unsure_rows(probabilities: np.ndarray) -> np.ndarray:
    """(N,) bool: the rows (N, 10) whose top probability is below ``UNSURE``."""
    return probabilities.max(axis=1) < UNSURE


def combine(probabilities: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The classifier's rows averaged with the second network's rows for the same digits (weighing ``WEIGHT``)."""
    return (1.0 - WEIGHT) * probabilities + WEIGHT * second
