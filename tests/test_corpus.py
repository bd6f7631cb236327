"""The committed model on the project's own corpus (tests/corpus.py): digits drawn, printed,
photographed and scanned in many ways, all through the real preprocessing.

The per-condition table is printed and written to artifacts/corpus_report.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from preprocessing import NOISE_REASON, preprocess
from tests.corpus import condition_labels, condition_names, generate_corpus

N_PER_CONDITION = 100
# The original 13 conditions (canvas, photos, scans, colours, tiny crops, pens, fonts) together.
ORIGINAL_CONDITIONS = 13
# 0.990 with the classifier alone, 0.998 since unsure lone digits get a second opinion (2026-12-07).
MIN_ACCURACY = 0.99
# Paper kinds, scan defects and writing styles added for issue 9: floors measured with the
# committed model (2026-11-23, see README; raised where the second opinion on unsure digits lifted a class,
# 2026-12-07, and again where the stretch was undone and the second opinion heard more, later that day),
# to be raised to 0.97 as the model and preprocessing reach it; they catch regressions meanwhile.
MIN_CLASS_ACCURACY = {
    "pen/textured-paper": 0.96,
    "font/textured-paper": 0.95,
    "pen/edge-line-scan": 0.92,
    "font/edge-line-scan": 0.95,
    "pen/dithered-scan": 0.95,
    "pen/corner-shadow": 0.97,
    "pen/underlined": 0.96,
    "style/flag-1": 0.96,
    "style/crossed-7": 0.97,
    "style/open-top-4": 0.97,
    "style/straight-9": 0.97,
    "style/broken-0": 0.97,
    "style/stretched-16": 0.97,
    # Cropped to the ink at 72-256 px (2026-12-07, fifth session): seed 0 98% (88% before tight crops
    # were told at any size); seeds 1 / 2 / 3 / 7 / 11: 96 / 95 / 99 / 97 / 96%.
    "style/cropped-big": 0.97,
    # A marker digit 8-20% of a 600-1600 px grainy photo's height (2026-12-07, sixth session): seeds
    # 0 / 1 / 2 / 3 / 7 / 11 99 / 100 / 100 / 98 / 100 / 100% (88 / 95 / 85 / 88 / 96 / 88% before the
    # grain's ceiling and the wider grain test, see README).
    "pen/textured-page": 0.97,
    # A digit photographed in a squared or ruled notebook, the printed lines through it, a third with a
    # margin line (2026-12-07, seventh session): seeds 0 / 1 / 2 / 3 / 7 / 11 99 / 99 / 99 / 97 / 100 / 99%
    # (72 / 61 / 70 / 54 / 59 / 64% before the paper's lines were painted over, preprocessing/paper.py).
    "pen/notebook": 0.97,
}
# Share of the new classes' images that may give no digit at all.
MAX_NEW_MISSING = 0.015
# Clear digits on grainy paper: at most this share may be called noise or texture (seed 0: 4 of 200
# until coarse grain was smoothed at a wider scale and bold prints kept out of the lighting estimate,
# 1 until the other reading of 2026-12-07, none since; none on seeds 1-3, 7 and 11 either).
MAX_TEXTURED_AS_NOISE = 0.0
# Of the digits small in a big grainy photo (of 100): seed 0 had one, a green 2 on kraft paper that
# stands out of the grain's ceiling by too little (`ink._over_the_grain`), until the colour look before
# "noise" (`pipeline._chroma_look`, 2026-12-07, seventh session); none since.
MAX_TEXTURED_PAGE_AS_NOISE = 0
# Writing-style images called noise, per style class of 100.
MAX_STYLE_AS_NOISE = 1
REPORT = Path(__file__).resolve().parent.parent / "artifacts" / "corpus_report.md"


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(N_PER_CONDITION, seed=0)


@pytest.fixture(scope="module")
def prepared(corpus):
    """Each sample through the real preprocessing, once for all tests here."""
    return [preprocess(s.image) for s in corpus]


def test_corpus_is_deterministic_and_balanced(corpus):
    again = generate_corpus(3, seed=0)
    first = [s for s in corpus if s.condition == again[0].condition][:3]
    assert all(np.array_equal(a.image, b.image) and a.label == b.label for a, b in zip(first, again))
    assert not np.array_equal(generate_corpus(1, seed=1)[0].image, again[0].image), "the seed matters"
    assert len(corpus) == N_PER_CONDITION * len(condition_names())
    for name in condition_names():
        labels = Counter(s.label for s in corpus if s.condition == name)
        assert set(labels) == set(condition_labels(name)) and max(labels.values()) - min(labels.values()) <= 1, name
    for sample in corpus:
        assert sample.image.dtype == np.uint8 and sample.image.ndim in (2, 3)


def test_every_corpus_image_has_a_digit(corpus, prepared):
    original = set(condition_names()[:ORIGINAL_CONDITIONS])
    missing = [(s.condition, s.label, p.reason) for s, p in zip(corpus, prepared) if p.digit is None]
    old = [m for m in missing if m[0] in original]
    assert not old, f"{len(old)} corpus images gave no digit, e.g. {old[:5]}"
    # The new, harder classes: a few digits are still lost (measured 11 of 1,300).
    new = [m for m in missing if m[0] not in original]
    assert len(new) <= MAX_NEW_MISSING * (len(corpus) - N_PER_CONDITION * ORIGINAL_CONDITIONS), f"{len(new)}: {new[:5]}"


def accuracy_table(rows: dict[str, list[tuple[int, int | None]]]) -> str:
    """Markdown table of accuracy per condition plus the most frequent confusions."""
    lines = ["| condition | samples | accuracy | top confusions (true->predicted x count) |", "| --- | ---: | ---: | --- |"]
    total = correct = 0
    for name in condition_names():
        pairs = rows.get(name, [])
        ok = sum(1 for truth, guess in pairs if truth == guess)
        wrong = Counter(f"{t}->{'none' if g is None else g}" for t, g in pairs if t != g).most_common(4)
        lines.append(f"| {name} | {len(pairs)} | {ok / max(len(pairs), 1):.3f} | {', '.join(f'{k} x{v}' for k, v in wrong)} |")
        total += len(pairs)
        correct += ok
        if name == condition_names()[ORIGINAL_CONDITIONS - 1]:
            lines.append(f"| *original {ORIGINAL_CONDITIONS} conditions* | {total} | *{correct / max(total, 1):.3f}* | |")
    lines.append(f"| **overall** | {total} | **{correct / max(total, 1):.3f}** | |")
    return "\n".join(lines)


def test_model_accuracy_on_corpus(classifier, corpus, prepared):
    # The same path as DigitClassifier.predict_batch, reusing the preprocessing done above.
    found = [i for i, p in enumerate(prepared) if p.digit is not None]
    guesses: list[int | None] = [None] * len(corpus)
    if found:
        probabilities = classifier.lone_digit_probabilities(np.stack([prepared[i].digit for i in found]))
        for i, row in zip(found, probabilities):
            guesses[i] = int(np.argmax(row))
    rows: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    for sample, guess in zip(corpus, guesses):
        rows[sample.condition].append((sample.label, guess))
    table = accuracy_table(rows)
    original = condition_names()[:ORIGINAL_CONDITIONS]
    pairs = [p for name in original for p in rows[name]]
    overall = sum(t == g for t, g in pairs) / len(pairs)
    report = (
        "# Corpus accuracy\n\n"
        f"Model: `{classifier.path.name}`. Corpus: tests/corpus.py, {N_PER_CONDITION} samples per condition, seed 0.\n\n"
        f"{table}\n"
    )
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report)
    print("\n" + table)
    assert overall >= MIN_ACCURACY, f"corpus accuracy on the original conditions {overall:.3f} < {MIN_ACCURACY}\n{table}"
    for name, floor in MIN_CLASS_ACCURACY.items():
        accuracy = sum(t == g for t, g in rows[name]) / len(rows[name])
        assert accuracy >= floor, f"{name}: {accuracy:.3f} < {floor}\n{table}"


def test_the_second_opinion_reads_flagged_ones_and_broken_zeros(classifier, corpus, prepared):
    """Lone 1s with a flag or a serif, which the MNIST classifier takes for 7s, and thin broken 0s are
    read right far more often with the second opinion on unsure digits (model.second_opinion), and no
    digit loses more than a few (seed 0, since it is heard more: 1s 261 -> 301 right of 310, 0s 303 -> 308,
    7s 308 -> 305, the other digits unchanged; with style/cropped-big, 1s 267 -> 309 of 320, 0s 313 -> 318,
    7s 319 -> 316)."""
    found = [(s.label, p.digit) for s, p in zip(corpus, prepared) if p.digit is not None]
    labels = np.array([label for label, _ in found])
    digits = np.stack([digit for _, digit in found])
    alone = classifier.probabilities(digits).argmax(axis=1) == labels
    helped = classifier.lone_digit_probabilities(digits).argmax(axis=1) == labels
    right = {d: (int(alone[labels == d].sum()), int(helped[labels == d].sum())) for d in range(10)}
    print("\nright per digit, alone -> with the second opinion:", right)
    assert right[1][1] >= right[1][0] + 15 and right[0][1] >= right[0][0] + 4, right
    assert all(after >= before - 4 for before, after in right.values()), right
    assert helped.sum() >= alone.sum() + 25, (alone.sum(), helped.sum())


def test_textured_paper_is_not_called_noise(corpus, prepared):
    """A bold digit on grainy paper is a digit: neither the paper's grain nor the digit's size may make it 'noise'."""
    textured = [p for s, p in zip(corpus, prepared) if s.condition.endswith("/textured-paper")]
    noise = sum(p.reason == NOISE_REASON for p in textured)
    assert noise <= MAX_TEXTURED_AS_NOISE * len(textured), f"{noise} of {len(textured)} textured-paper digits called noise"
    # The digit small in a big photo: 7 of 100 were "noise" before the grain's ceiling (seed 0).
    page = [s.label for s, p in zip(corpus, prepared) if s.condition == "pen/textured-page" and p.reason == NOISE_REASON]
    assert len(page) <= MAX_TEXTURED_PAGE_AS_NOISE, f"{len(page)} textured-page digits called noise: {page}"


def test_thin_strokes_on_grain_are_not_called_noise(corpus, prepared):
    """A thin pen on grainy paper (the writing styles are shown on textured paper too): the grain that
    passes the plain threshold must not make the digit "noise" (seed 0: 3 broken 0s until the second
    look with the grain smoothed away). Stretched 16x16 scans are left out: a stretched 1 is a black box."""
    for name in condition_names():
        if name.startswith("style/") and name != "style/stretched-16":
            noise = [s.label for s, p in zip(corpus, prepared) if s.condition == name and p.reason == NOISE_REASON]
            assert len(noise) <= MAX_STYLE_AS_NOISE, f"{name}: {len(noise)} digits called noise"
