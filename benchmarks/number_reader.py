"""How well whole numbers are read, with and without the number reader's helper networks.

    MNIST_DIR=... python benchmarks/number_reader.py [--seeds 0 1] [--per-condition 25]

Reads the generated number corpus (``tests/number_corpus.py``: numbers of 1 to 8 MNIST *test*
digits, per layout and renderer) with three readers built from the committed files: the digit
classifier alone, with the whole-digit check, and with the check and the sequence reader (what
the app serves, which also asks the second opinion about unsure lone digits). Prints, per corpus
seed and reader, the share of numbers read exactly right per layout, and how many wrong answers
were shown as certain (not marked as a guess).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from model import DEFAULT_MODEL_PATH, load_classifier  # noqa: E402
from model.classifier import SECOND_OPINION_NAME, SEQUENCE_NAME, WHOLE_DIGIT_NAME  # noqa: E402
from tests.number_corpus import LAYOUTS, generate_numbers  # noqa: E402
from training.data import load_for_command  # noqa: E402

READERS = {
    "classifier alone": (),
    "+ whole-digit check": (WHOLE_DIGIT_NAME,),
    # What the app serves: also the second opinion on unsure lone digits (model.second_opinion).
    "+ check + sequence reader": (WHOLE_DIGIT_NAME, SEQUENCE_NAME, SECOND_OPINION_NAME),
}


def reader(folder: Path, helpers: tuple[str, ...]):
    """The committed classifier with only ``helpers`` beside it (copied into ``folder``)."""
    folder.mkdir()
    shutil.copy(DEFAULT_MODEL_PATH, folder / DEFAULT_MODEL_PATH.name)
    for name in helpers:
        shutil.copy(DEFAULT_MODEL_PATH.parent / name, folder / name)
    return load_classifier(folder / DEFAULT_MODEL_PATH.name)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--per-condition", type=int, default=25, help="numbers per layout and renderer (default: %(default)s)")
    p.add_argument("--data-dir")
    args = p.parse_args(argv)
    mnist = load_for_command(args.data_dir)
    columns = [*LAYOUTS, "not touching", "wrong shown as certain", "ms per number"]
    print("| seed | numbers | reader | " + " | ".join(columns) + " |")
    print("|---|---:|---|" + "---:|" * len(columns))
    with tempfile.TemporaryDirectory() as tmp:
        readers = {name: reader(Path(tmp) / str(k), helpers) for k, (name, helpers) in enumerate(READERS.items())}
        for seed in args.seeds:
            numbers = generate_numbers(mnist.x_test, mnist.y_test, args.per_condition, seed=seed)
            for name, clf in readers.items():
                right: dict[str, list[bool]] = defaultdict(list)
                certain_wrong = 0
                start = time.perf_counter()
                for sample in numbers:
                    reading = clf.read(sample.image)
                    ok = reading.text == sample.text
                    right[sample.layout].append(ok)
                    certain_wrong += not ok and not reading.low_confidence
                ms = 1000 * (time.perf_counter() - start) / len(numbers)
                apart = [v for layout in LAYOUTS if layout != "touching" for v in right[layout]]
                wrong = len(numbers) - sum(sum(v) for v in right.values())
                cells = [f"{np.mean(right[layout]):.1%}" for layout in LAYOUTS]
                cells += [f"**{np.mean(apart):.1%}**", f"{certain_wrong} of {wrong}", f"{ms:.0f}"]
                print(f"| {seed} | {len(numbers)} | {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
