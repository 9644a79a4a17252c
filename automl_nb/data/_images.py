"""Open images as RGB and check that every image of a dataset exists and decodes."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PIL import Image
from PIL import ImageOps
from PIL import UnidentifiedImageError

from automl_nb.data._records import ImageRecord
from automl_nb.data._records import LabeledImages
from automl_nb.data._sources import is_url
from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.errors import not_a_file_reason

_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")


def _read_bytes(path: str) -> bytes:
    """The bytes of a remote image, through the image cache (see :mod:`automl_nb.data._cache`)."""
    from automl_nb.data._cache import active_image_cache

    if path.startswith("memory://"):  # already in memory: a disk copy would only go stale
        return fetch_bytes(path)
    return active_image_cache().read(path, fetch_bytes)


def fetch_bytes(path: str) -> bytes:
    """Download a remote image's bytes with fsspec (no cache)."""
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec is a dependency
        raise DataError(
            Problem("reading image URLs needs fsspec (pip install fsspec)", file=path)
        ) from None
    try:
        with fsspec.open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise DataError(Problem("image not found", file=path)) from None
    except ImportError as exc:
        # fsspec raises ImportError naming the package a protocol needs (s3fs, gcsfs, adlfs).
        raise DataError(Problem(f"cannot read this URL: {exc}", file=path)) from None
    except ValueError as exc:
        raise DataError(Problem(f"cannot read this URL: {exc}", file=path)) from None


def _to_eight_bit(image: Image.Image) -> Image.Image:
    """Greyscale ``L`` from 16-bit, 32-bit integer and float images."""
    import numpy as np

    array = np.asarray(image, dtype=np.float64)
    if image.mode in _SIXTEEN_BIT_MODES:
        scale = 65535.0
    elif image.mode == "F":
        scale = 1.0 if array.size and array.max() <= 1.0 else 255.0
    else:  # "I": 32-bit integers that usually hold 8-bit or 16-bit data
        peak = float(array.max()) if array.size else 0.0
        scale = 255.0 if peak <= 255 else 65535.0 if peak <= 65535 else peak
    return Image.fromarray(np.clip(array / scale * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow image to RGB, applying its EXIF orientation.

    Greyscale, 1-bit, palette (with or without transparency), RGBA/LA (alpha dropped, as
    Pillow's own conversion does), CMYK, YCbCr and 16-bit/32-bit/float images are handled.
    """
    image = ImageOps.exif_transpose(image) or image
    if image.mode == "RGB":
        return image
    if image.mode in _SIXTEEN_BIT_MODES or image.mode in ("I", "F"):
        image = _to_eight_bit(image)
    elif image.mode == "P":
        # Palette transparency must go through RGBA, or Pillow warns and may mis-convert.
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    return image.convert("RGB")


def open_image(path: str | os.PathLike[str]) -> Image.Image:
    """Open a local image or an fsspec URL as an RGB :class:`PIL.Image.Image`.

    Args:
        path: Local path, ``file://`` URL, or any fsspec URL (``https://``, ``s3://``, ...).
            Use :func:`resolve_image_url` first for paths relative to a JSONL file and for
            ``azureml://`` datastore URIs.

    Returns:
        A fully loaded RGB image (the file is closed), EXIF orientation applied.

    Raises:
        DataError: The file does not exist or cannot be decoded.
    """
    path = os.fspath(path)
    source: Any
    if path.startswith("file://"):
        path = path[len("file://") :]
    if is_url(path):
        source = io.BytesIO(_read_bytes(path))
    else:
        source = path
        reason = not_a_file_reason(path)
        if reason:
            raise DataError(Problem(f"image {reason}", file=path))
    try:
        with Image.open(source) as image:
            image.load()
            return to_rgb(image)
    except FileNotFoundError:
        raise DataError(Problem("image not found", file=path)) from None
    except IsADirectoryError:
        raise DataError(Problem("image path is a folder, not a file", file=path)) from None
    except UnidentifiedImageError:
        raise DataError(Problem("not an image file Pillow can decode", file=path)) from None
    except Image.DecompressionBombError as exc:
        raise DataError(Problem(bomb_message(exc), file=path)) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataError(Problem(f"cannot decode image: {exc}", file=path)) from None


def bomb_message(exc: Exception) -> str:
    """The message for Pillow's ``DecompressionBombError``: the image claims too many pixels."""
    return (
        f"image too large to decode safely ({exc}); images over "
        f"{2 * (Image.MAX_IMAGE_PIXELS or 0)} pixels are refused"
    )


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(width, height)`` of an image from its header, after EXIF orientation.

    Raises:
        DataError: The file is missing, not an image, or claims too many pixels.
    """
    image = open_image(path) if is_url(os.fspath(path)) else None
    if image is not None:
        return image.size
    reason = not_a_file_reason(path)
    if reason:
        raise DataError(Problem(f"image {reason}", file=os.fspath(path)))
    try:
        with Image.open(path) as handle:
            width, height = handle.size
            orientation = handle.getexif().get(0x0112, 1)
    except FileNotFoundError:
        raise DataError(Problem("image not found", file=os.fspath(path))) from None
    except Image.DecompressionBombError as exc:
        raise DataError(Problem(bomb_message(exc), file=os.fspath(path))) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataError(
            Problem(f"cannot read image header: {exc}", file=os.fspath(path))
        ) from None
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _locate(record: ImageRecord) -> tuple[str | None, int | None]:
    if not record.source:
        return None, None
    file, sep, line = record.source.rpartition(":")
    if sep and line.isdigit():
        return file, int(line)
    return record.source, None


def check_image(path: str, *, decode: bool = False) -> str | None:
    """Why the image at ``path`` cannot be used, or ``None`` when it is fine.

    Args:
        path: Resolved local path or fsspec URL.
        decode: Decode all pixels (catches truncated files; slower) instead of checking the
            header and, for PNG, the chunk checksums.
    """
    if not is_url(path):
        reason = not_a_file_reason(path)
        if reason:
            return f"image file {reason}" if reason == "not found" else f"image {reason}"
    if decode or is_url(path):
        try:
            open_image(path)
        except DataError as exc:
            return exc.problems[0].message
        return None
    try:
        with Image.open(path) as image:
            image.verify()
    except UnidentifiedImageError:
        return "not an image file Pillow can decode"
    except Image.DecompressionBombError as exc:
        return bomb_message(exc)
    except (OSError, SyntaxError, ValueError) as exc:
        return f"cannot decode image: {exc}"
    return None


def _progress_printer(total: int) -> Callable[[int, int], None]:
    """Report ``done/total`` on stderr about every 5 % (only for sets of 200 images or more)."""
    step = max(1, total // 20)

    def report(done: int, total: int) -> None:
        if total >= 200 and (done % step == 0 or done == total):
            print(f"checking images: {done}/{total}", file=sys.stderr, flush=True)

    return report


def check_images(
    data: LabeledImages | Iterable[ImageRecord],
    *,
    workers: int | None = None,
    decode: bool = False,
    progress: bool | Callable[[int, int], None] = False,
) -> list[Problem]:
    """Check that each record's image exists and decodes.

    Args:
        data: The records to check.
        workers: Threads used (file access is I/O bound); default ``min(32, 4 * CPUs)``.
        decode: Decode every image fully instead of verifying headers (slower, catches
            truncated files).
        progress: ``True`` prints ``checking images: done/total`` on stderr for large sets;
            a callable gets ``(done, total)`` after each image.

    Returns:
        One :class:`Problem` per bad image, located at the record's ``file:line``, field
        ``image_url``, in record order. Empty when all images are fine.
    """
    records = list(data)
    if workers is None:
        workers = min(32, 4 * (os.cpu_count() or 1))
    paths = [r.path for r in records]
    report = _progress_printer(len(paths)) if progress is True else progress or None
    reasons: list[str | None] = []
    if len(records) <= 1 or workers <= 1:
        for path in paths:
            reasons.append(check_image(path, decode=decode))
            if report:
                report(len(reasons), len(paths))
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for reason in pool.map(lambda p: check_image(p, decode=decode), paths):
                reasons.append(reason)
                if report:
                    report(len(reasons), len(paths))
    problems = []
    for record, reason in zip(records, reasons):
        if reason is None:
            continue
        file, line = _locate(record)
        shown = (
            record.image_url
            if record.image_url == record.path
            else f"{record.image_url} -> {record.path}"
        )
        problems.append(Problem(reason, file=file, line=line, path="image_url", value=repr(shown)))
    return problems
