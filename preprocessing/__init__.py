"""OpenCV preprocessing: decode uploads, find the ink, pick the digit, normalise it like MNIST.

    from preprocessing import decode_image, preprocess
    result = preprocess(decode_image(data))   # result.digit: 28x28 uint8 or None (result.reason says why)

Each step is usable on its own: ``extract_ink`` -> ``select_digit`` / ``find_digit_box`` -> ``to_mnist``.
For a written number, ``segment`` finds every digit's region left to right (``model.reader`` lets
the network settle touching and broken digits) and ``normalize_digit`` prepares each.
"""

from preprocessing.components import (
    BLANK_REASON,
    BLOCK_REASON,
    NOISE_REASON,
    SPECKS_REASON,
    DigitSelection,
    find_digit_box,
    find_lines,
    remove_lines,
    select_digit,
)
from preprocessing.decode import MAX_FILE_BYTES, MAX_PIXELS, ImageDecodeError, decode_file, decode_image
from preprocessing.image import as_uint8_image
from preprocessing.ink import INK_LEVEL, InkMap, analyse_ink, extract_ink
from preprocessing.normalize import centre_by_mass, fit_box, normalize_digit, to_mnist
from preprocessing.pipeline import Preprocessed, preprocess
from preprocessing.segment import DigitRegion, Segmentation, segment
from preprocessing.stroke import stroke_width, thin

__all__ = [
    "BLANK_REASON",
    "BLOCK_REASON",
    "INK_LEVEL",
    "MAX_FILE_BYTES",
    "MAX_PIXELS",
    "NOISE_REASON",
    "SPECKS_REASON",
    "DigitRegion",
    "DigitSelection",
    "ImageDecodeError",
    "InkMap",
    "Preprocessed",
    "Segmentation",
    "analyse_ink",
    "as_uint8_image",
    "centre_by_mass",
    "decode_file",
    "decode_image",
    "extract_ink",
    "find_digit_box",
    "find_lines",
    "fit_box",
    "normalize_digit",
    "preprocess",
    "remove_lines",
    "segment",
    "select_digit",
    "stroke_width",
    "thin",
    "to_mnist",
]
