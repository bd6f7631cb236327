"""The committed model on the project's own corpus (tests/corpus.py): digits drawn, printed,
photographed and scanned in many ways, all through the real preprocessing.

The per-condition table is printed and written to artifacts/corpus_report.md.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from preprocessing import preprocess
from tests.corpus import condition_names, generate_corpus

N_PER_CONDITION = 100
MIN_ACCURACY = 0.97
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
        assert set(labels) == set(range(10)) and max(labels.values()) - min(labels.values()) <= 1, name
    for sample in corpus:
        assert sample.image.dtype == np.uint8 and sample.image.ndim in (2, 3)


def test_every_corpus_image_has_a_digit(corpus, prepared):
    missing = [(s.condition, s.label, p.reason) for s, p in zip(corpus, prepared) if p.digit is None]
    assert not missing, f"{len(missing)} corpus images gave no digit, e.g. {missing[:5]}"


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
    lines.append(f"| **overall** | {total} | **{correct / max(total, 1):.3f}** | |")
    return "\n".join(lines)


def test_model_accuracy_on_corpus(classifier, corpus, prepared):
    # The same path as DigitClassifier.predict_batch, reusing the preprocessing done above.
    found = [i for i, p in enumerate(prepared) if p.digit is not None]
    guesses: list[int | None] = [None] * len(corpus)
    if found:
        probabilities = classifier.probabilities(np.stack([prepared[i].digit for i in found]))
        for i, row in zip(found, probabilities):
            guesses[i] = int(np.argmax(row))
    rows: dict[str, list[tuple[int, int | None]]] = defaultdict(list)
    for sample, guess in zip(corpus, guesses):
        rows[sample.condition].append((sample.label, guess))
    table = accuracy_table(rows)
    overall = sum(t == g for pairs in rows.values() for t, g in pairs) / len(corpus)
    report = (
        "# Corpus accuracy\n\n"
        f"Model: `{classifier.path.name}`. Corpus: tests/corpus.py, {N_PER_CONDITION} samples per condition, seed 0.\n\n"
        f"{table}\n"
    )
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report)
    print("\n" + table)
    assert overall >= MIN_ACCURACY, f"corpus accuracy {overall:.3f} < {MIN_ACCURACY}\n{table}"
