"""Instance-id mask PNGs (0 background, 1..N objects) -> instance-segmentation polygons.

The layout of the Penn-Fudan pedestrian set is the model: ``PNGImages/`` (or ``images/``),
``PedMasks/*_mask.png`` (or ``masks/``, same stem with or without ``_mask``) and, when present,
``Annotation/*.txt`` in the PASCAL Annotation 1.00 text format, whose object names label the
instances. Without annotation files every instance gets ``label`` (default ``object``).
Palette, grayscale and colour-coded (RGB) masks are accepted; 255 is the VOC "void" border.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from automl_nb.data._records import ImageRecord
from automl_nb.data._records import LabeledImages
from automl_nb.data._records import ObjectAnnotation
from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.tasks import Task

from ._common import clean_polygon
from ._common import image_size
from ._common import list_images
from ._common import make_record
from ._common import mask_to_polygons
from ._common import read_text
from ._registry import register_format
from ._report import ConversionReport

_IMAGE_DIRS = ("PNGImages", "JPEGImages", "images", "Images", "imgs")
_MASK_DIRS = (
    "PedMasks",
    "SegmentationObject",
    "masks",
    "Masks",
    "instance_masks",
    "annotations_masks",
)
_ANNOTATION_DIRS = ("Annotation", "Annotations", "annotation")
_PASCAL_BOX = re.compile(
    r'Bounding box for object (\d+) "([^"]*)"[^:]*:\s*\(\s*([\d.]+)\s*,\s*([\d.]+)\s*\)\s*-\s*\(\s*([\d.]+)\s*,\s*([\d.]+)\s*\)'
)


def read_pascal_text(path: Path) -> list[tuple[str, tuple[float, float, float, float]]]:
    """``(name, (xmin, ymin, xmax, ymax))`` per object of a PASCAL Annotation 1.00 text file."""
    objects = []
    for match in _PASCAL_BOX.finditer(read_text(path)):
        x0, y0, x1, y1 = (float(v) for v in match.groups()[2:])
        objects.append((match.group(2), (x0, y0, x1, y1)))
    return objects


def _pick(src: Path, names: tuple[str, ...], given: str | os.PathLike[str] | None) -> Path | None:
    if given:
        return Path(given)
    return next((src / n for n in names if (src / n).is_dir()), None)


def _instance_ids(mask):
    """Integer instance-id array from a mask image (colour masks: one id per colour)."""
    import numpy as np

    array = np.asarray(mask)
    if array.ndim == 3:
        colours = array[..., :3].reshape(-1, 3)
        _, inverse = np.unique(colours, axis=0, return_inverse=True)
        ids = inverse.reshape(array.shape[:2])
        background = np.all(array[..., :3] == 0, axis=-1)
        ids = ids + 1
        ids[background] = 0
        return ids
    return array.astype(np.int64)


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@register_format(
    "masks",
    description="instance-id mask PNGs (0 background, 1..N objects), e.g. PennFudanPed",
    tasks=(Task.INSTANCE_SEGMENTATION, Task.OBJECT_DETECTION),
)
def read_masks(
    src: str | os.PathLike[str],
    *,
    report: ConversionReport,
    images: str | os.PathLike[str] | None = None,
    masks: str | os.PathLike[str] | None = None,
    label: str | None = None,
    **_: Any,
) -> LabeledImages:
    """Read images with instance-id masks as polygons (one object per mask id).

    Args:
        src: Dataset folder.
        report: Filled with skipped items and notes.
        images: Image folder (default ``PNGImages/``, ``JPEGImages/`` or ``images/``).
        masks: Mask folder (default ``PedMasks/``, ``SegmentationObject/`` or ``masks/``).
        label: Class name for every object (default: names from ``Annotation/*.txt``, else
            ``object``).
    """
    import numpy as np
    from PIL import Image

    src = Path(src)
    image_dir = _pick(src, _IMAGE_DIRS, images)
    mask_dir = _pick(src, _MASK_DIRS, masks)
    if image_dir is None or mask_dir is None or not mask_dir.is_dir():
        raise DataError(
            Problem(
                "expected an image folder (PNGImages/, images/) and a mask folder (PedMasks/, masks/)",
                file=str(src),
            )
        )
    ann_dir = _pick(src, _ANNOTATION_DIRS, None)
    mask_files = {p.stem.lower(): p for p in list_images(mask_dir)}
    used: set[str] = set()
    records: list[ImageRecord] = []
    for path in list_images(image_dir):
        key = next(
            (k for k in (f"{path.stem}_mask".lower(), path.stem.lower()) if k in mask_files), None
        )
        try:
            width, height = image_size(path)
        except OSError:
            report.skip("unreadable image", path.name)
            continue
        if key is None:
            # Not background: mask sets often cover only part of the images (VOC's
            # SegmentationObject); an image without objects has an all-zero mask.
            report.skip("image without a mask", path.name)
            continue
        used.add(key)
        try:
            with Image.open(mask_files[key]) as mask_image:
                ids = _instance_ids(mask_image)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            report.skip("unreadable mask", mask_files[key].name)
            continue
        if ids.shape[:2] != (height, width):
            report.skip("mask size differs from its image", mask_files[key].name)
            continue
        named = []
        text = ann_dir / f"{path.stem}.txt" if ann_dir else None
        if label is None and text is not None and text.is_file():
            named = read_pascal_text(text)
        values = [int(v) for v in np.unique(ids) if v != 0 and not (v == 255 and ids.max() == 255)]
        objects = []
        for index, value in enumerate(values):
            obj = _mask_object(ids == value, width, height, label or "object")
            if obj is None:
                report.skip("mask instance too small for a polygon", f"{path.name} id {value}")
                continue
            if named:
                obj = _named(obj, index, named, len(values), width, height)
            objects.append(obj)
        records.append(make_record(path, tuple(objects), width, height))
    for key, mask_path in mask_files.items():
        if key not in used:
            report.skip("mask without image", mask_path.name)
    if not records:
        found = "no image could be converted" if mask_files else "no images found"
        raise DataError(Problem(f"{found}\n{report}", file=str(image_dir)))
    return LabeledImages(task=Task.INSTANCE_SEGMENTATION, records=records, source=str(src))


def _mask_object(binary, width: int, height: int, label: str) -> ObjectAnnotation | None:
    import numpy as np

    segments = []
    for pixels in mask_to_polygons(binary):
        norm = [v / (width if i % 2 == 0 else height) for i, v in enumerate(pixels)]
        cleaned = clean_polygon(norm)
        if cleaned:
            segments.append(cleaned)
    if not segments:
        return None
    rows = np.flatnonzero(binary.any(axis=1))
    cols = np.flatnonzero(binary.any(axis=0))
    box = (cols[0] / width, rows[0] / height, (cols[-1] + 1) / width, (rows[-1] + 1) / height)
    x0, y0, x1, y1 = (float(v) for v in box)
    return ObjectAnnotation(label, x0, y0, x1, y1, polygon=tuple(segments))


def _named(obj: ObjectAnnotation, index: int, named, count: int, width: int, height: int):
    from dataclasses import replace

    if len(named) == count:  # mask id i is annotated object i (as in Penn-Fudan)
        return replace(obj, label=named[index][0])
    boxes = [(x0 / width, y0 / height, x1 / width, y1 / height) for _, (x0, y0, x1, y1) in named]
    best = max(range(len(named)), key=lambda i: _iou(obj.box, boxes[i]))
    return replace(obj, label=named[best][0]) if _iou(obj.box, boxes[best]) > 0.3 else obj
