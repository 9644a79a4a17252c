"""Helpers shared by the format converters: files, image headers, boxes and polygons."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from collections.abc import Sequence
from pathlib import Path

from automl_nb.data._labels import MIN_POLYGON_AREA
from automl_nb.data._labels import polygon_area
from automl_nb.data._records import ImageRecord
from automl_nb.data._records import ObjectAnnotation
from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.errors import not_a_file_reason

# Extensions Azure accepts in ``image_details.format`` plus a few common ones; compared in
# lower case so ``IMG_001.JPG`` counts.
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif"}
)


def is_image_file(path: Path) -> bool:
    """True for a visible file with an image extension (any case)."""
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def list_images(folder: Path, *, recursive: bool = True) -> list[Path]:
    """Image files under ``folder`` in a stable (sorted) order; hidden folders are skipped."""
    if not folder.is_dir():
        return []
    found: list[Path] = []
    if recursive:
        for root, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            found.extend(Path(root) / name for name in sorted(files))
    else:
        found = sorted(folder.iterdir())
    return [p for p in found if p.is_file() and is_image_file(p)]


def read_text(path: Path) -> str:
    """A text file's content with a UTF-8 BOM removed and Windows/Mac line endings unified.

    Raises:
        DataError: ``path`` is missing, a folder, a FIFO or a device, or cannot be read.
    """
    reason = not_a_file_reason(path)
    if reason:
        raise DataError(Problem(f"cannot read this file: it {reason}", file=str(path)))
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(
            Problem(f"cannot read this file: {exc.strerror}", file=str(path))
        ) from None
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = raw.decode("utf-16")  # Windows tools (Notepad) save "Unicode" text this way
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def image_size(path: Path) -> tuple[int, int]:
    """``(width, height)`` from the image header (no full decode; any mode, incl. L and P).

    Raises:
        OSError: The file is missing or not a readable image.
    """
    from PIL import Image

    reason = not_a_file_reason(path)
    if reason:
        raise OSError(f"the image {reason}")
    try:
        with Image.open(path) as image:
            return int(image.width), int(image.height)
    except Image.DecompressionBombError as exc:
        raise OSError(f"image too large to decode safely: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:  # PIL raises several types on bad files
        raise OSError(f"not a readable image: {exc}") from exc


def image_format(path: Path) -> str:
    """The JSONL ``image_details.format`` for a file: its lower-case extension, no dot."""
    return path.suffix.lower().lstrip(".") or "jpg"


def make_record(path: Path, label, width: int, height: int) -> ImageRecord:
    """An :class:`ImageRecord` for a local image file (absolute path, size and format)."""
    resolved = path.resolve()
    return ImageRecord(
        image_url=str(resolved),
        path=str(resolved),
        label=label,
        width=width,
        height=height,
        format=image_format(path),
    )


def clamp01(value: float) -> float:
    """``value`` limited to [0, 1] (annotation tools often overshoot the border by a pixel)."""
    return 0.0 if value < 0.0 else 1.0 if value > 1.0 else float(value)


def normalised_box(
    x0: float, y0: float, x1: float, y1: float, width: float, height: float
) -> tuple[float, float, float, float] | None:
    """Pixel corners -> normalised corners clamped to the image, or None if none of the box
    is inside it.

    Raises:
        ValueError: A corner is not a finite number, or the corners are inverted
            (``x0 > x1``): the box is never swapped into a new one. An empty box is None.
    """
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
        raise ValueError(f"box corners must be finite numbers (got {(x0, y0, x1, y1)})")
    if x0 > x1 or y0 > y1:
        raise ValueError(
            f"box is inverted: need xmin <= xmax and ymin <= ymax (got {(x0, y0, x1, y1)}); "
            "it is not swapped into another box"
        )
    if width <= 0 or height <= 0:
        return None
    box = (clamp01(x0 / width), clamp01(y0 / height), clamp01(x1 / width), clamp01(y1 / height))
    if box[2] <= box[0] or box[3] <= box[1]:
        return None
    return box


def was_clipped(x0: float, y0: float, x1: float, y1: float, width: float, height: float) -> bool:
    """True when the pixel box reaches outside the image (and is clipped to it)."""
    return x0 < 0 or y0 < 0 or x1 > width or y1 > height


def number(value: object, what: str) -> float:
    """A finite float from a number or numeric text.

    Raises:
        ValueError: Anything else (text, ``None``, ``nan``, ``inf``), naming ``what``.
    """
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number (got {value!r})")
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number (got {value!r})") from None
    if not math.isfinite(result):
        raise ValueError(f"{what} must be a finite number (got {value!r})")
    return result


def polygon_bounds(
    segments: Iterable[Sequence[float]],
) -> tuple[float, float, float, float] | None:
    """``(min_x, min_y, max_x, max_y)`` over flattened ``x, y`` segments; None if empty."""
    xs: list[float] = []
    ys: list[float] = []
    for seg in segments:
        xs.extend(seg[0::2])
        ys.extend(seg[1::2])
    if not xs or not ys:
        return None
    return min(xs), min(ys), max(xs), max(ys)


def clean_polygon(values: Sequence[float]) -> tuple[float, ...] | None:
    """A normalised flattened polygon, clamped to [0, 1]; None with fewer than 3 points or no
    area."""
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"polygon coordinates must be finite numbers (got {list(values)[:8]})")
    if len(values) % 2:
        values = values[:-1]
    if len(values) < 6:
        return None
    cleaned = tuple(round(clamp01(v), 6) for v in values)
    if polygon_area(cleaned) <= MIN_POLYGON_AREA:
        return None  # all points on one line: an outline of nothing
    return cleaned


def box_polygon(box: Sequence[float]) -> tuple[float, ...]:
    """The rectangle of a normalised box as one flattened polygon segment."""
    x0, y0, x1, y1 = box
    return (x0, y0, x1, y0, x1, y1, x0, y1)


def annotation_from_polygons(
    label: str, segments: Sequence[tuple[float, ...]], *, is_crowd: bool = False
) -> ObjectAnnotation | None:
    """An object whose box is the extent of its normalised polygon segments."""
    segments = tuple(s for s in segments if s)
    bounds = polygon_bounds(segments)
    if bounds is None or bounds[2] <= bounds[0] or bounds[3] <= bounds[1]:
        return None
    return ObjectAnnotation(label, *bounds, is_crowd=is_crowd, polygon=segments)


def mask_to_polygons(mask, *, tolerance: float = 1.0, min_points: int = 3) -> list[list[float]]:
    """Outline(s) of a binary mask as pixel-coordinate flattened polygons.

    The contour is traced at the 0.5 level around the padded mask and shifted by half a pixel,
    so it follows the pixel edges (a mask covering columns 3..5 gives x from 3 to 6). Each
    connected part becomes one segment; ``tolerance`` (pixels) drives the Douglas-Peucker
    simplification, as in Azure's own mask-to-polygon step.
    """
    import numpy as np
    from skimage.measure import approximate_polygon
    from skimage.measure import find_contours

    binary = np.asarray(mask).astype(bool)
    if not binary.any():
        return []
    padded = np.pad(binary, 1).astype(np.uint8)
    segments: list[list[float]] = []
    for contour in find_contours(padded, 0.5):
        if tolerance > 0:
            contour = approximate_polygon(contour, tolerance=tolerance)
        if len(contour) > 1 and np.allclose(contour[0], contour[-1]):
            contour = contour[:-1]  # find_contours closes the ring; JSONL polygons are open
        if len(contour) < min_points:
            continue
        # (row, col) of the padded array -> (x, y) pixel-edge coordinates of the original
        points = contour[:, ::-1] - 0.5
        segments.append([round(float(v), 2) for v in points.reshape(-1)])
    return segments


def unique_stems(paths: Sequence[str]) -> list[str]:
    """One distinct file stem per path (``a/1.jpg``, ``b/1.jpg`` -> ``1``, ``b_1``)."""
    used: set[str] = set()
    out: list[str] = []
    for path in paths:
        p = Path(path)
        stem = p.stem
        if stem in used:
            stem = f"{p.parent.name}_{p.stem}" if p.parent.name else stem
        base, n = stem, 1
        while stem in used:
            n += 1
            stem = f"{base}_{n}"
        used.add(stem)
        out.append(stem)
    return out
