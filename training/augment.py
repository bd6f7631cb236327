"""On-the-fly augmentation that mimics real inputs after our preprocessing (numpy/OpenCV, any Keras backend).

Our pipeline already centres and scales the digit, so what is left over in real inputs is
small: a slanted or rotated hand, a box that is not quite MNIST's, a shift of a pixel or
two from the centre of mass, strokes thinner or thicker than MNIST's, and blur from photos.
Writing styles MNIST lacks (``training.styles``) come in as a pool of pre-made digits that
replace a fraction of each batch.

Plain numpy and OpenCV, so the same code feeds TensorFlow on a CPU and PyTorch or JAX on a GPU.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SIZE = 28
# A 3x3 cross: dilating or eroding with it changes a stroke by about one pixel per side.
_CROSS = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
# OpenCV filters take many channels at once (up to 128 in OpenCV 5): batches are filtered as channel stacks.
_CHANNELS = 128


@dataclass(frozen=True)
class Augmentation:
    """Ranges of the random changes; the defaults are the production model's."""

    rotation_deg: float = 12.0
    zoom: float = 0.12
    shear: float = 0.15
    shift_px: float = 2.0
    thickness_rate: float = 0.15
    blur_rate: float = 0.15


def affine_matrices(n: int, rng: np.random.Generator, aug: Augmentation) -> np.ndarray:
    """(n, 2, 3) random affine maps about the image centre: rotation, zoom, x-shear, shift."""
    angle = np.deg2rad(rng.uniform(-aug.rotation_deg, aug.rotation_deg, n))
    zoom = rng.uniform(1 - aug.zoom, 1 + aug.zoom, n)
    shear = rng.uniform(-aug.shear, aug.shear, n)
    shift = rng.uniform(-aug.shift_px, aug.shift_px, (n, 2))
    cos, sin = np.cos(angle) * zoom, np.sin(angle) * zoom
    # Linear part: rotation-and-zoom times an x-shear.
    linear = np.empty((n, 2, 2))
    linear[:, 0, 0], linear[:, 0, 1] = cos, cos * shear - sin
    linear[:, 1, 0], linear[:, 1, 1] = sin, sin * shear + cos
    centre = np.full(2, (SIZE - 1) / 2.0)
    offset = centre - linear @ centre + shift
    return np.concatenate([linear, offset[:, :, None]], axis=2).astype(np.float32)


def _per_channel(fn, stack: np.ndarray) -> np.ndarray:
    """Apply an OpenCV filter to an (H, W, N) stack in chunks of at most _CHANNELS channels."""
    parts = [fn(stack[:, :, i : i + _CHANNELS]) for i in range(0, stack.shape[2], _CHANNELS)]
    parts = [p[:, :, None] if p.ndim == 2 else p for p in parts]
    return np.concatenate(parts, axis=2)


def augment_batch(images: np.ndarray, rng: np.random.Generator, aug: Augmentation = Augmentation()) -> np.ndarray:
    """Augment uint8 (N, 28, 28) digits; returns float32 (N, 28, 28, 1) in [0, 1], the model's input."""
    n = len(images)
    out = np.empty((n, SIZE, SIZE), np.float32)
    for i, m in enumerate(affine_matrices(n, rng, aug)):
        out[i] = cv2.warpAffine(images[i], m, (SIZE, SIZE), flags=cv2.INTER_LINEAR, borderValue=0)
    out /= 255.0
    if n == 0:
        return out[..., None]
    stack = np.ascontiguousarray(out.transpose(1, 2, 0))
    u = rng.random(n)
    thicker, thinner = u < aug.thickness_rate, (u >= aug.thickness_rate) & (u < 2 * aug.thickness_rate)
    if thicker.any():
        stack[:, :, thicker] = _per_channel(lambda s: cv2.dilate(s, _CROSS), stack[:, :, thicker])
    if thinner.any():
        eroded = _per_channel(lambda s: cv2.erode(s, _CROSS), stack[:, :, thinner])
        # Erosion can wipe out thin digits; keep it only where enough ink survives.
        keeps = eroded.sum(axis=(0, 1)) > 0.4 * stack[:, :, thinner].sum(axis=(0, 1))
        idx = np.flatnonzero(thinner)[keeps]
        stack[:, :, idx] = eroded[:, :, keeps]
    blurred = rng.random(n) < aug.blur_rate
    if blurred.any():
        sigma = float(rng.uniform(0.6, 1.0))
        stack[:, :, blurred] = _per_channel(lambda s: cv2.GaussianBlur(s, (3, 3), sigma), stack[:, :, blurred])
    return np.clip(stack.transpose(2, 0, 1), 0.0, 1.0)[..., None]


def mix_styles(
    images: np.ndarray, labels: np.ndarray, pool: tuple[np.ndarray, np.ndarray] | None, rate: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Replace a random fraction ``rate`` of a batch by digits from a styled pool (``training.styles``)."""
    if pool is None or rate <= 0 or len(pool[0]) == 0:
        return images, labels
    swap = np.flatnonzero(rng.random(len(images)) < rate)
    if swap.size == 0:
        return images, labels
    images, labels = images.copy(), labels.copy()
    pick = rng.integers(0, len(pool[0]), swap.size)
    images[swap], labels[swap] = pool[0][pick], pool[1][pick]
    return images, labels
