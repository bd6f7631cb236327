"""decode_image / decode_file: every supported format and mode, orientation, size limits, errors."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image

from preprocessing import MAX_FILE_BYTES, ImageDecodeError, decode_file, decode_image, preprocess
from tests.corpus import pen_digit


def digit_rgb(size: int = 120) -> np.ndarray:
    """A dark 2 on light paper, RGB."""
    cov = pen_digit(2, None, size, size * 0.7, size * 0.07, (size / 2, size / 2))
    grey = np.round(240 - 200 * cov).astype(np.uint8)
    return np.dstack([grey, grey, np.full_like(grey, 220)])


def encode(image: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def assert_one_line(exc: ImageDecodeError) -> str:
    message = str(exc)
    assert message and "\n" not in message and len(message) < 200
    return message


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "WEBP", "TIFF", "GIF"])
def test_every_format_decodes(fmt):
    rgb = digit_rgb()
    data = encode(Image.fromarray(rgb), fmt)
    out = decode_image(data)
    assert out.dtype == np.uint8 and out.shape[:2] == rgb.shape[:2]
    grey = out if out.ndim == 2 else out[:, :, :3].mean(axis=2)
    # Lossy formats and GIF's palette change pixels a little, not the picture.
    assert np.abs(grey - rgb.mean(axis=2)).mean() < 12
    assert preprocess(out).digit is not None


@pytest.mark.parametrize(
    "mode, shape",
    [("1", (60, 50)), ("L", (60, 50)), ("LA", (60, 50, 4)), ("P", (60, 50, 3)), ("RGB", (60, 50, 3)), ("RGBA", (60, 50, 4)),
     ("CMYK", (60, 50, 3)), ("I;16", (60, 50)), ("I", (60, 50)), ("F", (60, 50))],
)
def test_every_mode_becomes_uint8_grey_rgb_or_rgba(mode, shape):
    rgb = digit_rgb(60)[:, :50]
    image = Image.fromarray(rgb).convert(mode) if mode not in ("I;16", "I", "F") else None
    if mode == "I;16":
        image = Image.fromarray(rgb[:, :, 0].astype(np.uint16) * 100)
    elif mode in ("I", "F"):
        image = Image.fromarray(rgb[:, :, 0].astype(np.int32 if mode == "I" else np.float32) * 7 - 300)
    fmt = "TIFF" if mode in ("I", "F", "CMYK") else "PNG"
    out = decode_image(encode(image, fmt))
    assert out.dtype == np.uint8 and out.shape == shape


def test_sixteen_bit_is_scaled_by_its_range():
    values = np.full((40, 40), 1000, np.uint16)
    values[10:30, 18:22] = 1400  # a faint bar: 400 levels of 65535
    out = decode_image(encode(Image.fromarray(values), "PNG"))
    assert out.ndim == 2 and out.min() == 0 and out.max() == 255


def test_palette_with_transparency_becomes_rgba():
    image = Image.new("P", (40, 40), 0)
    image.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    image.paste(1, (15, 5, 25, 35))
    out = decode_image(encode(image, "PNG", transparency=0))
    assert out.shape == (40, 40, 4)
    assert out[0, 0, 3] == 0 and out[20, 20, 3] == 255


def test_animated_gif_gives_first_frame():
    frames = [Image.fromarray(np.full((30, 30), v, np.uint8)) for v in (0, 255, 128)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(data)).n_frames == 3
    out = decode_image(data)
    assert out[..., :3].max() == 0


@pytest.mark.parametrize("orientation, undo", [(3, Image.Transpose.ROTATE_180), (6, Image.Transpose.ROTATE_90),
                                                (8, Image.Transpose.ROTATE_270), (2, Image.Transpose.FLIP_LEFT_RIGHT)])
def test_exif_orientation_is_applied(orientation, undo):
    upright = digit_rgb(100)[:, :70]  # not square, so a missed rotation changes the shape
    # Store the pixels as a camera would (turned), with the tag that says how to turn them back.
    stored = Image.fromarray(upright).transpose(undo)
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = decode_image(encode(stored, "JPEG", quality=95, exif=exif))
    assert out.shape == upright.shape
    assert np.abs(out.astype(int) - upright.astype(int)).mean() < 6


def test_big_jpeg_is_downscaled_while_decoding():
    big = np.tile(digit_rgb(400), (8, 10, 1))  # 3200 x 4000
    data = encode(Image.fromarray(big), "JPEG", quality=80)
    start = time.perf_counter()
    out = decode_image(data)
    elapsed = time.perf_counter() - start
    assert max(out.shape[:2]) <= 1600 and max(out.shape[:2]) >= 1000
    assert out.shape[1] > out.shape[0], "aspect ratio kept"
    assert elapsed < 2.0


def test_max_side_applies_to_every_format():
    data = encode(Image.fromarray(digit_rgb(500)), "PNG")
    assert max(decode_image(data, max_side=200).shape[:2]) == 200
    sixteen = encode(Image.fromarray(np.arange(500 * 300, dtype=np.uint16).reshape(300, 500)), "PNG")
    assert decode_image(sixteen, max_side=100).shape == (60, 100)


def test_size_limit_on_bytes():
    with pytest.raises(ImageDecodeError, match="too large") as info:
        decode_image(b"\x89PNG" + bytes(MAX_FILE_BYTES))
    assert_one_line(info.value)


def test_decode_file(tmp_path):
    path = tmp_path / "digit.png"
    path.write_bytes(encode(Image.fromarray(digit_rgb()), "PNG"))
    assert decode_file(path).shape == (120, 120, 3)
    with pytest.raises(ImageDecodeError, match="cannot read") as info:
        decode_file(tmp_path / "missing.png")
    assert_one_line(info.value)
    with pytest.raises(ImageDecodeError, match="cannot read"):
        decode_file(tmp_path)  # a directory
    big = tmp_path / "big.png"
    with open(big, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ImageDecodeError, match="too large"):
        decode_file(big)


def test_error_is_a_value_error_with_a_short_message():
    with pytest.raises(ValueError) as info:
        decode_image(b"")
    assert str(info.value) == "empty file (0 bytes)"
    long_reason = ImageDecodeError("line one\nline two " + "x" * 500)
    assert_one_line(long_reason)
