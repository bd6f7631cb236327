"""Hostile and odd uploads: each one is either refused with a one-line reason or decoded and then
preprocessed into a digit or a reason. Nothing else may happen (no other exception, no hang)."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from preprocessing import BLANK_REASON, NOISE_REASON, SPECKS_REASON, ImageDecodeError, decode_image, preprocess
from tests.corpus import pen_digit


def digit_array(label: int = 3, size: int = 160) -> np.ndarray:
    """Dark digit on light paper, grey uint8."""
    cov = pen_digit(label, None, size, size * 0.7, size * 0.06, (size / 2, size / 2))
    return np.round(235 - 210 * cov).astype(np.uint8)


def save(image: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def png_bomb(side: int = 20000) -> bytes:
    """A valid 1-bit PNG of side x side pixels (400 MP) that compresses to a few tens of KB."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
    row = bytes(1 + (side + 7) // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    return b"\x89PNG\r\n\x1a\n" + header + png_chunk(b"IDAT", body) + png_chunk(b"IEND", b"")


def png_with_zero_width() -> bytes:
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 10, 8, 0, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + png_chunk(b"IDAT", zlib.compress(b"")) + png_chunk(b"IEND", b"")


def jpeg_with_huge_header() -> bytes:
    """A small JPEG whose frame header claims 30000 x 30000 pixels."""
    data = bytearray(save(Image.fromarray(digit_array()), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 30000, 30000)
    return bytes(data)


def corrupt_png_data() -> bytes:
    data = bytearray(save(Image.fromarray(digit_array()), "PNG"))
    start = data.index(b"IDAT") + 40
    data[start : start + 200] = bytes(range(200))
    return bytes(data)


def exif_rotated_jpeg() -> bytes:
    stored = Image.fromarray(digit_array(7)[:, 20:140]).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": undoes ROTATE_90 (counter-clockwise)
    return save(stored, "JPEG", quality=92, exif=exif)


def rgba(alpha: np.ndarray, rgb=(0, 0, 0)) -> Image.Image:
    image = np.zeros(alpha.shape + (4,), np.uint8)
    image[:, :, :3] = rgb
    image[:, :, 3] = alpha
    return Image.fromarray(image)


def palette_with_transparency() -> bytes:
    image = Image.fromarray(digit_array(5)).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    background = image.getpixel((0, 0))
    return save(image, "PNG", transparency=background)


def animated_gif() -> bytes:
    frames = [Image.fromarray(digit_array(d)) for d in (6, 1, 8)]
    return save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def noise_png() -> bytes:
    rng = np.random.default_rng(0)
    return save(Image.fromarray(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)), "PNG")


def huge_file() -> bytes:
    rng = np.random.default_rng(1)
    return save(Image.fromarray(rng.integers(0, 256, (1900, 1900, 3), dtype=np.uint8)), "BMP")  # ~10.8 MB


DIGIT = "digit"  # decodes and preprocess finds a digit
REASON = "reason"  # decodes and preprocess explains why there is no digit
EITHER = "either"  # decodes; a digit or a reason are both acceptable

# name -> (bytes factory, expectation, message fragment for refusals / reason for no-digit cases)
CASES: dict[str, tuple[Callable[[], bytes], str, str | None]] = {
    "empty": (lambda: b"", "error", "empty file"),
    "truncated-png": (lambda: save(Image.fromarray(digit_array()), "PNG")[:300], "error", "truncated or corrupt PNG"),
    "truncated-jpeg": (lambda: save(Image.fromarray(digit_array()), "JPEG")[:400], "error", "truncated or corrupt JPEG"),
    "corrupt-png-data": (corrupt_png_data, "error", "corrupt PNG"),
    "truncated-gif": (lambda: animated_gif()[:200], "error", "GIF"),
    "png-signature-only": (lambda: b"\x89PNG\r\n\x1a\n", "error", "PNG"),
    "zero-width-png": (png_with_zero_width, "error", "PNG"),
    "random-bytes": (lambda: np.random.default_rng(5).bytes(5000), "error", "not a recognised image"),
    "plain-text": (lambda: b"hello, this is not a picture of a digit\n" * 20, "error", "plain text"),
    "svg": (lambda: b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><text>7</text></svg>', "error",
            "unsupported image format: SVG"),
    "pdf": (lambda: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "error", "looks like PDF"),
    "html": (lambda: b"<!DOCTYPE html><html><body><img src='digit.png'></body></html>", "error", "looks like HTML"),
    "json": (lambda: b'{"digit": 7}', "error", "JSON"),
    "zip": (lambda: b"PK\x03\x04" + bytes(100), "error", "ZIP"),
    "heic": (lambda: b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64), "error", "unsupported image format: HEIC"),
    "psd": (lambda: b"8BPS\x00\x01" + bytes(100), "error", "PSD"),
    "png-bomb-20000x20000": (png_bomb, "error", "image too large: 20000x20000 pixels (limit 40 MP)"),
    "jpeg-header-30000x30000": (jpeg_with_huge_header, "error", "image too large: 30000x30000"),
    "file-over-10-mb": (huge_file, "error", "file too large"),
    "1x1-png": (lambda: save(Image.new("L", (1, 1), 0), "PNG"), REASON, BLANK_REASON),
    "1x1-black-dot-on-white": (lambda: save(Image.new("RGB", (1, 1), (0, 0, 0)), "PNG"), REASON, BLANK_REASON),
    "1-pixel-tall-strip": (lambda: save(Image.new("L", (3000, 1), 255), "PNG"), REASON, BLANK_REASON),
    "16-bit-png": (lambda: save(Image.fromarray(digit_array(4).astype(np.uint16) * 257), "PNG"), DIGIT, None),
    "16-bit-png-faint": (lambda: save(Image.fromarray(digit_array(4).astype(np.uint16) + 20000), "PNG"), DIGIT, None),
    "palette-with-transparency": (palette_with_transparency, DIGIT, None),
    "la-png": (lambda: save(Image.fromarray(digit_array(2)).convert("LA"), "PNG"), DIGIT, None),
    "1-bit-png": (lambda: save(Image.fromarray(digit_array(9)).convert("1", dither=Image.Dither.NONE), "PNG"), DIGIT, None),
    "1-bit-png-dithered": (lambda: save(Image.fromarray(digit_array(9)).convert("1"), "PNG"), EITHER, None),
    "cmyk-jpeg": (lambda: save(Image.fromarray(digit_array(6)).convert("CMYK"), "JPEG"), DIGIT, None),
    "animated-gif": (animated_gif, DIGIT, None),
    "tiff": (lambda: save(Image.fromarray(digit_array(8)), "TIFF", compression="tiff_lzw"), DIGIT, None),
    "webp": (lambda: save(Image.fromarray(digit_array(0)).convert("RGB"), "WEBP", quality=70), DIGIT, None),
    "bmp": (lambda: save(Image.fromarray(digit_array(1)), "BMP"), DIGIT, None),
    "exif-rotated-jpeg": (exif_rotated_jpeg, DIGIT, None),
    "alpha-only-canvas-png": (lambda: save(rgba(235 - digit_array(3)), "PNG"), DIGIT, None),
    "alpha-with-faint-background": (lambda: save(rgba(255 - digit_array(3), rgb=(20, 20, 200)), "PNG"), DIGIT, None),
    "tiny-8x8-digit": (lambda: save(Image.fromarray(digit_array(1)).resize((8, 8), Image.Resampling.BOX), "PNG"), EITHER, None),
    "all-white": (lambda: save(Image.new("RGB", (300, 200), (255, 255, 255)), "PNG"), REASON, BLANK_REASON),
    "all-black": (lambda: save(Image.new("L", (280, 280), 0), "JPEG"), REASON, BLANK_REASON),
    "all-transparent": (lambda: save(Image.new("RGBA", (280, 280), (0, 0, 0, 0)), "PNG"), REASON, BLANK_REASON),
    "few-specks": (lambda: save(Image.fromarray(np.pad(np.zeros((2, 2), np.uint8), 150, constant_values=255)), "PNG"), REASON,
                   SPECKS_REASON),
    "pure-noise": (noise_png, REASON, NOISE_REASON),
}


def test_suite_is_big_enough():
    assert len(CASES) >= 25


@pytest.mark.parametrize("name", CASES)
def test_bad_input(name):
    factory, expectation, expected = CASES[name]
    data = factory()
    try:
        image = decode_image(data)
    except ImageDecodeError as exc:
        message = str(exc)
        assert expectation == "error", f"refused unexpectedly: {message}"
        assert message and "\n" not in message and len(message) < 200
        assert expected in message
        return
    assert expectation != "error", f"decoded although it should be refused: {image.shape}"
    assert image.dtype == np.uint8 and image.ndim in (2, 3)
    result = preprocess(image)
    assert (result.digit is None) != (result.reason is None)
    if expectation == DIGIT:
        assert result.digit is not None, result.reason
    elif expectation == REASON:
        assert result.digit is None
        assert result.reason == expected


def test_exif_rotation_gives_the_upright_digit():
    upright = preprocess(digit_array(7)[:, 20:140]).digit
    turned = preprocess(decode_image(exif_rotated_jpeg())).digit
    ignored = preprocess(np.asarray(Image.open(io.BytesIO(exif_rotated_jpeg())).convert("L"))).digit
    score = np.corrcoef(upright.ravel(), turned.ravel())[0, 1]
    assert score > 0.9
    assert np.corrcoef(upright.ravel(), ignored.ravel())[0, 1] < score - 0.3, "without EXIF the digit lies on its side"
