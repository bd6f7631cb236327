"""Turn uploaded bytes into a uint8 pixel array, or explain in one line why that is impossible."""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
SUPPORTED_FORMATS = ("PNG", "JPEG", "BMP", "WEBP", "TIFF", "GIF")
_MAX_MESSAGE = 190

# Leading bytes of common files that are not (supported) images, for a helpful message.
_NOT_IMAGES = (
    (b"%PDF", "not an image (looks like PDF)"),
    (b"PK\x03\x04", "not an image (looks like a ZIP archive or Office document)"),
    (b"\x1f\x8b", "not an image (looks like a gzip archive)"),
    (b"Rar!", "not an image (looks like a RAR archive)"),
    (b"7z\xbc\xaf", "not an image (looks like a 7z archive)"),
    (b"\x7fELF", "not an image (looks like a program)"),
    (b"MZ", "not an image (looks like a Windows program)"),
    (b"ID3", "not an image (looks like MP3 audio)"),
    (b"OggS", "not an image (looks like Ogg audio or video)"),
    (b"8BPS", "unsupported image format: PSD"),
    (b"\x00\x00\x01\x00", "unsupported image format: ICO"),
    (b"II*\x00", "truncated or corrupt TIFF"),
    (b"MM\x00*", "truncated or corrupt TIFF"),
    (b"\x89PNG", "truncated or corrupt PNG"),
    (b"\xff\xd8\xff", "truncated or corrupt JPEG"),
    (b"GIF8", "truncated or corrupt GIF"),
    (b"BM", "truncated or corrupt BMP"),
)
_ISO_BRANDS = {b"heic": "HEIC", b"heix": "HEIC", b"mif1": "HEIF", b"msf1": "HEIF", b"avif": "AVIF", b"avis": "AVIF"}


class ImageDecodeError(ValueError):
    """The bytes are not a usable image; ``str(error)`` is a one-line reason for the user."""

    def __init__(self, reason: str):
        super().__init__(_one_line(reason))


def _one_line(text: str) -> str:
    """Collapse whitespace so messages never span lines, and keep them short."""
    text = " ".join(str(text).split()) or "unreadable image"
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _sniff(data: bytes) -> str:
    """Best guess at what non-image bytes are, as a one-line reason."""
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _ISO_BRANDS:
            return f"unsupported image format: {_ISO_BRANDS[brand]}"
        return "not an image (looks like a video or ISO media file)"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "truncated or corrupt WEBP"
    for magic, reason in _NOT_IMAGES:
        if data.startswith(magic):
            return reason
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in head or (head.startswith(b"<?xml") and b"svg" in head):
        return "unsupported image format: SVG"
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:512]:
        return "not an image (looks like HTML)"
    if head.startswith((b"{", b"[")):
        return "not an image (looks like JSON text)"
    try:
        sample = data[:4096].decode("utf-8")
    except UnicodeDecodeError:
        sample = None
    if sample is not None and all(ch.isprintable() or ch in "\r\n\t" for ch in sample):
        return "not an image (looks like plain text)"
    return "not a recognised image file (supported: PNG, JPEG, BMP, WebP, TIFF, GIF)"


def _header_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the file header alone, bypassing Pillow's bomb check (for the message)."""
    for fmt in SUPPORTED_FORMATS:
        factory, accept = Image.OPEN.get(fmt, (None, None))
        if factory is None or (accept and not accept(data[:16])):
            continue
        try:
            return factory(io.BytesIO(data), "").size
        except Exception:
            continue
    return None


def _to_array(im: Image.Image) -> np.ndarray:
    """Convert any Pillow mode to uint8 L, RGB or RGBA pixels."""
    mode = im.mode
    if mode in ("L", "RGB", "RGBA"):
        pass
    elif mode == "1":
        im = im.convert("L")
    elif mode in ("LA", "La", "PA", "RGBa"):
        im = im.convert("RGBA")
    elif mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif mode.startswith(("I", "F")):
        # 16-bit and float images: stretch their actual range to 8 bits, so a faint scan stays visible.
        values = np.asarray(im, dtype=np.float64)
        finite = values[np.isfinite(values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        scaled = np.zeros(values.shape, np.uint8) if hi <= lo else np.clip((values - lo) * (255.0 / (hi - lo)), 0, 255)
        return np.ascontiguousarray(np.nan_to_num(scaled).round().astype(np.uint8))
    else:  # CMYK, YCbCr, LAB, HSV, ...
        im = im.convert("RGB")
    return np.ascontiguousarray(np.asarray(im, dtype=np.uint8))


def decode_image(data: bytes, max_side: int = 1600) -> np.ndarray:
    """Decode image bytes to uint8 (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA.

    EXIF orientation is applied, animations give their first frame, and photos are shrunk so
    the longer side is at most ``max_side``. Raises ImageDecodeError with a one-line reason.
    """
    if data is None:
        raise ImageDecodeError("no file given")
    data = bytes(data)
    if not data:
        raise ImageDecodeError("empty file (0 bytes)")
    if len(data) > MAX_FILE_BYTES:
        raise ImageDecodeError(f"file too large: {len(data) / 1e6:.1f} MB (limit {MAX_FILE_BYTES / 1e6:.1f} MB)")
    fmt = "image"
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb warning becomes an error here; our stricter limit is checked below.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=SUPPORTED_FORMATS)
            fmt = im.format or fmt
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise ImageDecodeError(f"image too large: {width}x{height} pixels (limit {MAX_PIXELS // 1_000_000} MP)")
            if width < 1 or height < 1:
                raise ImageDecodeError(f"empty image: {width}x{height} pixels")
            if fmt == "JPEG" and max(width, height) > max_side:
                # Decode JPEGs at 1/2, 1/4 or 1/8 scale when they are far bigger than needed; the
                # requested size keeps the aspect ratio, else a 4:3 photo never qualifies.
                scale = max_side / max(width, height)
                wanted = (max(1, int(width * scale + 0.999)), max(1, int(height * scale + 0.999)))
                im.draft(im.mode if im.mode in ("L", "RGB", "CMYK") else None, wanted)
            im.load()
            with contextlib.suppress(Exception):  # broken EXIF is not worth rejecting the pixels for
                ImageOps.exif_transpose(im, in_place=True)
            array = _to_array(im)
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        size = _header_size(data)
        what = f"{size[0]}x{size[1]} pixels" if size else "over twice Pillow's own limit"
        raise ImageDecodeError(f"image too large: {what} (limit {MAX_PIXELS // 1_000_000} MP)") from exc
    except UnidentifiedImageError as exc:
        raise ImageDecodeError(_sniff(data)) from exc
    except MemoryError as exc:
        raise ImageDecodeError("image too large to decode in memory") from exc
    except Exception as exc:  # any decoder failure on hostile bytes means the same to a user
        raise ImageDecodeError(f"truncated or corrupt {fmt}") from exc
    if max(array.shape[:2]) > max_side:
        # OpenCV's area filter: several times faster than Pillow's Lanczos thumbnail on photos.
        array = _shrink(array, max_side)
    return array


def _shrink(array: np.ndarray, max_side: int) -> np.ndarray:
    """Area-average an 8-bit array so its longer side is ``max_side``."""
    import cv2

    h, w = array.shape[:2]
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(array, size, interpolation=cv2.INTER_AREA)


def decode_file(path: str | os.PathLike, max_side: int = 1600) -> np.ndarray:
    """Read and decode an image file; unreadable files raise ImageDecodeError too."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ImageDecodeError(f"file too large: {size / 1e6:.1f} MB (limit {MAX_FILE_BYTES / 1e6:.1f} MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise ImageDecodeError(f"cannot read {path.name}: {exc.strerror or type(exc).__name__}") from exc
    return decode_image(data, max_side=max_side)
