"""The numpy/OpenCV augmentation: right shapes and ranges, reproducible, and each change does what it says."""

from __future__ import annotations

import cv2
import numpy as np

from training.augment import Augmentation, affine_matrices, augment_batch, mix_styles

NONE = Augmentation(rotation_deg=0, zoom=0, shear=0, shift_px=0, thickness_rate=0, blur_rate=0)


def digits(n: int = 64) -> np.ndarray:
    images = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        cv2.circle(images[i], (14, 14), 5 + i % 4, 255, 2 + i % 2)
    return images


def test_batch_is_float_in_unit_range_with_a_channel():
    out = augment_batch(digits(), np.random.default_rng(0))
    assert out.shape == (64, 28, 28, 1) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_same_seed_same_batch_and_different_seeds_differ():
    a = augment_batch(digits(), np.random.default_rng(1))
    assert np.array_equal(a, augment_batch(digits(), np.random.default_rng(1)))
    assert not np.array_equal(a, augment_batch(digits(), np.random.default_rng(2)))


def test_no_change_ranges_give_the_images_back():
    images = digits()
    out = augment_batch(images, np.random.default_rng(3), NONE)
    assert np.allclose(out[..., 0], images / 255.0, atol=1e-6)


def test_shift_moves_the_centre_of_mass_by_at_most_the_range():
    images = digits(200)
    before = augment_batch(images, np.random.default_rng(4), NONE)[..., 0]
    after = augment_batch(images, np.random.default_rng(4), Augmentation(0, 0, 0, 2.0, 0, 0))[..., 0]
    ys, xs = np.mgrid[:28, :28]

    def centre(batch):
        mass = batch.sum(axis=(1, 2))
        return np.stack([(batch * xs).sum(axis=(1, 2)) / mass, (batch * ys).sum(axis=(1, 2)) / mass], axis=1)

    shift = np.linalg.norm(centre(after) - centre(before), axis=1)
    assert shift.max() <= 2 * np.sqrt(2) + 0.05 and shift.mean() > 0.5


def test_rotation_keeps_the_ink_and_the_centre():
    m = affine_matrices(500, np.random.default_rng(5), Augmentation(12, 0, 0, 0, 0, 0))
    linear = m[:, :, :2]
    assert np.allclose(np.linalg.det(linear), 1.0, atol=1e-5)  # rotation only: area kept
    centre = np.full(2, 13.5)
    assert np.allclose(linear @ centre + m[:, :, 2], centre, atol=1e-4)
    angles = np.degrees(np.arctan2(linear[:, 1, 0], linear[:, 0, 0]))
    assert np.abs(angles).max() <= 12.0 and np.abs(angles).max() > 10.0


def test_thickness_changes_the_amount_of_ink():
    images = digits(300)
    base = augment_batch(images, np.random.default_rng(6), NONE).sum(axis=(1, 2, 3))
    changed = augment_batch(images, np.random.default_rng(6), Augmentation(0, 0, 0, 0, 0.5, 0)).sum(axis=(1, 2, 3))
    ratio = changed / base
    assert (ratio > 1.2).sum() > 50 and (ratio < 0.8).sum() > 50  # dilated and eroded ones


def test_mix_styles_swaps_the_given_fraction_with_its_labels():
    images, labels = digits(1000), np.zeros(1000, np.int64)
    pool = (np.full((10, 28, 28), 7, np.uint8), np.full(10, 7, np.int64))
    same = mix_styles(images, labels, pool, 0.0, np.random.default_rng(7))
    assert same[0] is images
    mixed, mixed_labels = mix_styles(images, labels, pool, 0.25, np.random.default_rng(7))
    swapped = mixed_labels == 7
    assert 0.2 < swapped.mean() < 0.3
    assert np.all(mixed[swapped] == 7) and np.array_equal(mixed[~swapped], images[~swapped])
    assert labels.max() == 0, "the caller's arrays are left alone"
