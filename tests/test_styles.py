"""The synthetic writing styles: each makes the change it promises and keeps MNIST's normalisation."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from preprocessing.normalize import centre_by_mass, fit_box
from preprocessing.stroke import stroke_width
from training import styles


def drawn(strokes: list[list[tuple[int, int]]], closed: bool = False, ellipse: bool = False) -> np.ndarray:
    """A digit drawn with a round pen on a 112x112 canvas, MNIST-normalised to 28x28 like the styles' output."""
    canvas = np.zeros((112, 112), np.uint8)
    if ellipse:
        cv2.ellipse(canvas, (56, 56), (26, 40), 0, 0, 360, 255, 11, cv2.LINE_AA)
    for points in strokes:
        cv2.polylines(canvas, [np.int32(points).reshape(-1, 1, 2)], closed, 255, 11, cv2.LINE_AA)
    return centre_by_mass(fit_box(canvas.astype(np.float32) / 255.0))


ONE = drawn([[(56, 10), (56, 100)]])
SEVEN = drawn([[(20, 12), (90, 12), (45, 100)]])
CLOSED_FOUR = drawn([[(70, 10), (20, 70), (95, 70)], [(70, 10), (70, 102)]])
ZERO = drawn([], ellipse=True)


def _nine() -> np.ndarray:
    canvas = np.zeros((112, 112), np.uint8)
    cv2.circle(canvas, (52, 34), 24, 255, 10, cv2.LINE_AA)
    # MNIST-like curved tail sweeping down to the left.
    tail = np.int32([(76, 34), (76, 60), (68, 84), (50, 104)]).reshape(-1, 1, 2)
    cv2.polylines(canvas, [tail], False, 255, 10, cv2.LINE_AA)
    return centre_by_mass(fit_box(canvas.astype(np.float32) / 255.0))


NINE = _nine()
EXAMPLES = {"european_1": ONE, "crossed_7": SEVEN, "open_4": CLOSED_FOUR, "straight_9": NINE}


def ink_box(digit: np.ndarray, level: int = 60) -> tuple[int, int, int, int]:
    return cv2.boundingRect(cv2.findNonZero((digit > level).astype(np.uint8)))


def centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    m = cv2.moments(digit.astype(np.float32))
    return m["m10"] / m["m00"], m["m01"] / m["m00"]


def example_for(name: str) -> np.ndarray:
    return EXAMPLES.get(name, ZERO)


@pytest.mark.parametrize("name", list(styles.STYLES))
def test_every_style_returns_an_mnist_normalised_digit(name):
    out = styles.STYLES[name].make(example_for(name), np.random.default_rng(0))
    assert out.shape == (28, 28) and out.dtype == np.uint8
    assert out.max() == 255, "MNIST strokes have a saturated core"
    x, y, w, h = ink_box(out, 0)
    assert max(w, h) in (19, 20, 21) and x > 0 and y > 0 and x + w < 28 and y + h < 28
    cx, cy = centre_of_mass(out)
    assert abs(cx - 14) <= 1.0 and abs(cy - 14) <= 1.0


@pytest.mark.parametrize("name", list(styles.STYLES))
def test_styles_are_reproducible_and_random(name):
    digit = example_for(name)
    make = styles.STYLES[name].make
    a, b = make(digit, np.random.default_rng(5)), make(digit, np.random.default_rng(5))
    assert np.array_equal(a, b)
    others = [make(digit, np.random.default_rng(seed)) for seed in range(6, 10)]
    assert any(not np.array_equal(a, o) for o in others)


def test_european_one_gets_a_flag_to_the_upper_left():
    rng = np.random.default_rng(1)
    for _ in range(10):
        out = styles.european_one(ONE, rng)
        x, y, w, h = ink_box(out)
        assert w >= 0.3 * h, "the flag widens the 1"
        # Ink left of the stem, in the top half (the flag), not in the bottom third (beyond an optional foot).
        stem_x = int(np.argmax(out[20:].sum(axis=0)))
        assert out[:14, : stem_x - 3].sum() > 5 * 255


def test_crossed_seven_has_a_bar_across_the_stem():
    rng = np.random.default_rng(2)
    before = max(np.count_nonzero(SEVEN[r] > 100) for r in range(12, 22))
    for _ in range(10):
        out = styles.crossed_seven(SEVEN, rng)
        widest_lower_row = max(np.count_nonzero(out[r] > 100) for r in range(11, 22))
        assert widest_lower_row >= before + 4


def test_open_four_opens_the_loop_and_keeps_an_arm():
    assert styles.has_loop(CLOSED_FOUR)
    rng = np.random.default_rng(3)
    for _ in range(10):
        out = styles.open_four(CLOSED_FOUR, rng)
        assert not styles.has_loop(out)
        x, y, w, h = ink_box(out)
        assert out[y : y + h // 2, x : x + 5].sum() > 3 * 255, "the left arm rises above the bar"


def test_open_four_moves_the_arm_of_an_open_four_away_from_the_stem():
    open_four = drawn([[(50, 16), (28, 70), (95, 70)], [(75, 10), (75, 102)]])
    assert not styles.has_loop(open_four)
    rng = np.random.default_rng(0)
    x, y, w, h = ink_box(open_four)
    for _ in range(10):
        out = styles.open_four(open_four, rng)
        assert not styles.has_loop(out)
        # Just below the top, the arm and the stem are two separate strokes.
        runs = [np.count_nonzero(np.diff(np.flatnonzero(out[r] > 100)) > 1) + 1 for r in range(y + 3, y + 8) if out[r].any()]
        assert max(runs) == 2


def test_straight_nine_keeps_the_loop_and_straightens_the_stem():
    rng = np.random.default_rng(4)

    def bottom_spread(digit):
        ys, xs = np.nonzero(digit > 100)
        low = xs[ys >= ys.max() - 7]
        return low.max() - low.min()

    for _ in range(10):
        out = styles.straight_nine(NINE, rng)
        assert styles.has_loop(out)
        assert bottom_spread(out) < bottom_spread(NINE)


def test_thin_broken_thins_and_breaks_a_zero():
    assert styles.has_loop(ZERO)
    rng = np.random.default_rng(5)
    width = stroke_width(ZERO > 127)
    for _ in range(10):
        out = styles.thin_broken(ZERO, rng)
        assert not styles.has_loop(out), "a gap opens the ring"
        assert stroke_width(out > 127) < 0.8 * width


def test_small_scan_stretches_a_narrow_digit_towards_its_box():
    rng = np.random.default_rng(6)
    _, _, w0, h0 = ink_box(ONE)
    for _ in range(10):
        _, _, w, h = ink_box(styles.small_scan(ONE, rng))
        assert w / h > 1.3 * w0 / h0


def test_elastic_moves_strokes_but_keeps_the_digit():
    out = styles.elastic(ZERO, np.random.default_rng(7))
    assert not np.array_equal(out, ZERO)
    assert np.corrcoef(out.ravel().astype(float), ZERO.ravel().astype(float))[0, 1] > 0.4


def test_style_set_picks_only_suitable_digits():
    images = np.stack([ONE, SEVEN, CLOSED_FOUR, NINE, ZERO, CLOSED_FOUR])
    labels = np.array([1, 7, 4, 9, 0, 4])
    rng = np.random.default_rng(8)
    x, y = styles.style_set(images, labels, "open_4", rng)
    assert x.shape == (2, 28, 28) and list(y) == [4, 4]
    x, y = styles.style_set(images, labels, "thin_broken", rng, limit=3)
    assert x.shape == (3, 28, 28) and list(y) == [1, 7, 4]
    assert styles.style_set(images[:1], labels[:1], "straight_9", rng)[0].shape == (0, 28, 28)


def test_styled_pool_mixes_every_style():
    images = np.stack([ONE, SEVEN, CLOSED_FOUR, NINE, ZERO] * 2)
    labels = np.array([1, 7, 4, 9, 0] * 2)
    x, y = styles.styled_pool(images, labels, np.random.default_rng(9), per_style=2)
    # 4 class styles x 2 + 3 styles for any digit x 2
    assert x.shape == (14, 28, 28) and {1, 4, 7, 9} <= set(y.tolist())


def test_rejects_a_wrong_input():
    with pytest.raises(ValueError):
        styles.european_one(np.zeros((32, 32), np.uint8), np.random.default_rng(0))
    with pytest.raises(ValueError):
        styles.elastic(np.zeros((28, 28), np.float32), np.random.default_rng(0))


@pytest.mark.mnist
def test_styles_work_on_real_mnist_digits(mnist_dir):
    from training.data import load_mnist

    data = load_mnist(mnist_dir)
    rng = np.random.default_rng(10)
    for name in styles.STYLES:
        x, y = styles.style_set(data.x_test[:600], data.y_test[:600], name, rng, limit=40)
        assert len(x) >= 20, name
        ink = (x > 60).reshape(len(x), -1).sum(axis=1)
        assert ink.min() >= 12, f"{name}: a digit lost its ink"
        boxes = [ink_box(d, 0) for d in x]
        assert all(max(w, h) in (19, 20, 21) for _, _, w, h in boxes), name


@pytest.mark.parametrize("style, digit, label", [("european", ONE, 1), ("european", SEVEN, 7), ("thin_broken", ZERO, 0)])
def test_styled_scans_are_reproducible_dark_on_light_scans_of_one_digit(style, digit, label):
    from benchmarks.styled_scans import SCALE, styled_scans
    from preprocessing import preprocess

    first, again = (styled_scans(np.stack([digit]), np.array([label]), style, seed=3)[0] for _ in range(2))
    assert np.array_equal(first, again)
    assert first.dtype == np.uint8 and first.shape == (28 * SCALE + 40, 28 * SCALE + 40)
    assert first[0].min() == 255 and first.min() < 60, "white paper around dark ink"
    assert preprocess(first).ok
