"""Check and normalise the pixel arrays the pipeline accepts, and render them for display."""

from __future__ import annotations

import cv2
import numpy as np

# Longer side above which images are shrunk before any analysis: digits stay well resolved
# and a 12-megapixel photo costs no more than an 800-pixel one.
MAX_ANALYSIS_SIDE = 800


def as_uint8_image(image: np.ndarray) -> np.ndarray:
    """Return ``image`` as contiguous uint8 (H, W), (H, W, 3) or (H, W, 4).

    Accepts (H, W, 1) and grey+alpha (H, W, 2) too, and bool or uint16 pixels (scaled to 8 bits).
    Anything else raises ValueError with the reason.
    """
    if not isinstance(image, np.ndarray):
        image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (2, 3, 4)):
        raise ValueError(f"expected an image of shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"expected a non-empty image, got shape {image.shape}")
    if image.dtype == np.bool_:
        image = image.astype(np.uint8) * 255
    elif image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels (or bool/uint16), got dtype {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 2:
        grey, alpha = image[:, :, 0], image[:, :, 1]
        image = np.dstack([grey, grey, grey, alpha])
    return np.ascontiguousarray(image)


def analysis_factor(shape: tuple[int, ...], max_side: int = MAX_ANALYSIS_SIDE) -> int:
    """The whole factor ``shrink_for_analysis`` divides a picture of this shape by (1: not shrunk)."""
    return max(1, -(-max(shape[:2]) // max_side))


def shrink_for_analysis(image: np.ndarray, max_side: int = MAX_ANALYSIS_SIDE) -> np.ndarray:
    """Shrink ``image`` by a whole factor so its longer side is at most ``max_side`` (no-op for smaller ones).

    Whole factors keep OpenCV's area averaging on its fast path (a 1600-px photo halves in ~1 ms).
    """
    h, w = image.shape[:2]
    factor = analysis_factor(image.shape, max_side)
    if factor <= 1:
        return image
    size = (max(1, w // factor), max(1, h // factor))
    return cv2.resize(image[: size[1] * factor, : size[0] * factor], size, interpolation=cv2.INTER_AREA)


def to_display_rgb(image: np.ndarray) -> np.ndarray:
    """RGB (or grey) view of an input for display; transparency is flattened onto a contrasting colour."""
    if image.ndim == 2 or image.shape[2] == 3:
        return image
    rgb = cv2.cvtColor(image, cv2.COLOR_RGBA2RGB)
    alpha = cv2.extractChannel(image, 3)
    if cv2.minMaxLoc(alpha)[0] == 255:  # fully opaque (the app's canvas): nothing to flatten
        return rgb
    opaque = cv2.threshold(alpha, 127, 255, cv2.THRESH_BINARY)[1]
    # Dark ink is shown on white, light ink on black, so the drawing stays visible.
    mean = cv2.mean(rgb, mask=opaque)
    bright_ink = cv2.countNonZero(opaque) > 0 and 0.299 * mean[0] + 0.587 * mean[1] + 0.114 * mean[2] > 127
    a3 = cv2.cvtColor(alpha, cv2.COLOR_GRAY2RGB)
    ink = cv2.multiply(rgb, a3, scale=1.0 / 255)
    if bright_ink:
        return ink
    return cv2.add(ink, cv2.bitwise_not(a3))
