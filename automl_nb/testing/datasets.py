"""Tiny, real labelled image datasets for tests and examples.

Each ``make_*`` function writes real image files (drawn with Pillow) and an Azure
AutoML-for-Images JSONL file that points at them with paths relative to the JSONL, and returns
the JSONL path. The images carry a learnable signal (a class-specific colour or shape), so a
model trained for an epoch or two on them does better than chance.

Example:
    >>> import tempfile
    >>> from automl_nb.testing.datasets import make_classification_jsonl
    >>> path = make_classification_jsonl(tempfile.mkdtemp(), n=4, classes=("a", "b"))
    >>> path.name
    'train.jsonl'
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image
from PIL import ImageDraw

# Distinct, saturated colours: class i is drawn in _PALETTE[i % len(_PALETTE)].
_PALETTE: tuple[tuple[int, int, int], ...] = (
    (220, 40, 40),
    (40, 170, 60),
    (40, 80, 220),
    (230, 200, 30),
    (170, 50, 200),
    (30, 200, 210),
    (240, 130, 30),
    (120, 120, 120),
)

_FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "bmp": "BMP", "tif": "TIFF"}


def _background(size: int | tuple[int, int], rng: random.Random) -> Image.Image:
    width, height = (size, size) if isinstance(size, int) else size
    shade = rng.randint(10, 60)
    image = Image.new("RGB", (width, height), (shade, shade, shade))
    draw = ImageDraw.Draw(image)
    # A little clutter so images are not trivially identical.
    for _ in range(3):
        x, y = rng.randrange(width), rng.randrange(height)
        grey = rng.randint(60, 110)
        draw.point((x, y), fill=(grey, grey, grey))
    return image


def _save(image: Image.Image, path: Path, image_format: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pil_format = _FORMATS[image_format]
    kwargs: dict[str, Any] = {"quality": 90} if pil_format == "JPEG" else {}
    image.save(path, format=pil_format, **kwargs)


def _write_lines(path: Path, lines: Sequence[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(json.dumps(line) + "\n")
    return path


def write_lines(path: str | os.PathLike[str], lines: Sequence[dict[str, Any] | str]) -> Path:
    """Write JSONL lines: dicts are JSON-encoded, strings are written as they are (for
    deliberately malformed lines).

    Returns:
        The path written.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return out


def _details(image_format: str, width: int, height: int) -> dict[str, Any]:
    return {"format": image_format, "width": f"{width}px", "height": f"{height}px"}


def write_image(
    path: str | os.PathLike[str],
    *,
    size: int | tuple[int, int] = 32,
    color: tuple[int, int, int] = (200, 50, 50),
    mode: str = "RGB",
) -> Path:
    """Write one solid-colour image (format from the suffix) in the given Pillow ``mode``.

    Args:
        path: Output file; the suffix picks the format (``.png``, ``.jpg``, ``.bmp``, ...).
        size: Side length, or ``(width, height)``.
        color: RGB fill colour before conversion to ``mode``.
        mode: Pillow mode of the saved image (``RGB``, ``L``, ``P``, ``RGBA``, ``CMYK``,
            ``I;16``).

    Returns:
        The path written.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    width, height = (size, size) if isinstance(size, int) else size
    image = Image.new("RGB", (width, height), color)
    if mode == "I;16":
        import numpy as np

        grey = np.asarray(image.convert("L"), dtype=np.uint16) * 257
        image = Image.fromarray(grey.astype(np.uint16))
    elif mode != "RGB":
        image = image.convert(mode)
    image.save(out)
    return out


def make_classification_jsonl(
    directory: str | os.PathLike[str],
    *,
    n: int = 12,
    size: int = 32,
    classes: Sequence[str] = ("cat", "dog"),
    multilabel: bool = False,
    image_format: str = "png",
    name: str = "train.jsonl",
    seed: int = 0,
) -> Path:
    """Write a tiny multi-class (or multi-label) classification dataset.

    Multi-class: image ``i`` has class ``classes[i % len(classes)]`` and is filled with that
    class's colour. Multi-label: each image has one to ``len(classes)`` labels, each drawn as
    a coloured vertical band, and every class appears at least once when ``n >= len(classes)``.

    Args:
        directory: Folder to write ``images/`` and the JSONL into (created).
        n: Number of images.
        size: Image side in pixels.
        classes: Class names.
        multilabel: Write list labels (``image_classification_multilabel``).
        image_format: ``png``, ``jpg``, ``bmp`` or ``tif``.
        name: JSONL file name.
        seed: Seed of the clutter and of the multi-label draws.

    Returns:
        The JSONL path.
    """
    root = Path(directory)
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        image = _background(size, rng)
        draw = ImageDraw.Draw(image)
        if multilabel:
            first = i % len(classes)
            extra = rng.sample(range(len(classes)), rng.randint(0, len(classes) - 1))
            chosen = sorted({first, *extra})
            band = max(1, size // len(classes))
            for c in chosen:
                draw.rectangle([c * band, 0, (c + 1) * band - 1, size - 1], fill=_PALETTE[c % 8])
            label: Any = [classes[c] for c in chosen]
        else:
            c = i % len(classes)
            margin = size // 8
            draw.rectangle([margin, margin, size - margin, size - margin], fill=_PALETTE[c % 8])
            label = classes[c]
        rel = f"images/{i:04d}.{image_format}"
        _save(image, root / rel, image_format)
        lines.append(
            {"image_url": rel, "image_details": _details(image_format, size, size), "label": label}
        )
    return _write_lines(root / name, lines)


def make_multilabel_jsonl(directory: str | os.PathLike[str], **kwargs: Any) -> Path:
    """:func:`make_classification_jsonl` with ``multilabel=True``."""
    return make_classification_jsonl(directory, multilabel=True, **kwargs)


def _boxes(
    rng: random.Random, size: int, count: int, min_side: float
) -> list[tuple[float, float, float, float]]:
    boxes = []
    for _ in range(count):
        w = rng.uniform(min_side, 0.5)
        h = rng.uniform(min_side, 0.5)
        x0 = rng.uniform(0.0, 1.0 - w)
        y0 = rng.uniform(0.0, 1.0 - h)
        # Snap to the pixel grid so drawn shapes and written boxes agree exactly.
        px = [round(v * size) for v in (x0, y0, x0 + w, y0 + h)]
        boxes.append((px[0] / size, px[1] / size, px[2] / size, px[3] / size))
    return boxes


def make_detection_jsonl(
    directory: str | os.PathLike[str],
    *,
    n: int = 12,
    size: int = 64,
    classes: Sequence[str] = ("box", "disc"),
    max_objects: int = 3,
    background_images: int = 0,
    polygons: bool = False,
    image_format: str = "png",
    name: str = "train.jsonl",
    seed: int = 0,
) -> Path:
    """Write a tiny object-detection (or instance-segmentation) dataset.

    Each object is a filled shape in its class colour: a rectangle for detection, a diamond
    (4-point polygon inside the box) when ``polygons`` is true. The last ``background_images``
    images have no objects (an empty label list).

    Args:
        directory: Folder to write ``images/`` and the JSONL into (created).
        n: Number of images, background images included.
        size: Image side in pixels.
        classes: Class names; object ``k`` of image ``i`` has class ``(i + k) % len(classes)``.
        max_objects: Objects per image are drawn from 1..max_objects.
        background_images: How many of the ``n`` images have no objects.
        polygons: Also write a ``polygon`` per object (instance segmentation).
        image_format: ``png``, ``jpg``, ``bmp`` or ``tif``.
        name: JSONL file name.
        seed: Random seed.

    Returns:
        The JSONL path.
    """
    root = Path(directory)
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        image = _background(size, rng)
        draw = ImageDraw.Draw(image)
        objects: list[dict[str, Any]] = []
        if i < n - background_images:
            count = rng.randint(1, max_objects)
            for k, (x0, y0, x1, y1) in enumerate(_boxes(rng, size, count, 0.2)):
                c = (i + k) % len(classes)
                fill = _PALETTE[c % 8]
                obj: dict[str, Any] = {
                    "label": classes[c],
                    "topX": x0,
                    "topY": y0,
                    "bottomX": x1,
                    "bottomY": y1,
                    "isCrowd": 0,
                }
                if polygons:
                    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
                    poly = [cx, y0, x1, cy, cx, y1, x0, cy]
                    draw.polygon(
                        [(poly[j] * size, poly[j + 1] * size) for j in range(0, 8, 2)], fill=fill
                    )
                    obj["polygon"] = [poly]
                else:
                    draw.rectangle([x0 * size, y0 * size, x1 * size - 1, y1 * size - 1], fill=fill)
                objects.append(obj)
        rel = f"images/{i:04d}.{image_format}"
        _save(image, root / rel, image_format)
        lines.append(
            {
                "image_url": rel,
                "image_details": _details(image_format, size, size),
                "label": objects,
            }
        )
    return _write_lines(root / name, lines)


def make_segmentation_jsonl(directory: str | os.PathLike[str], **kwargs: Any) -> Path:
    """:func:`make_detection_jsonl` with ``polygons=True`` (instance segmentation)."""
    return make_detection_jsonl(directory, polygons=True, **kwargs)


def make_mltable(
    folder: str | os.PathLike[str],
    jsonl_name: str = "train.jsonl",
    *,
    invalid_lines: str = "error",
) -> Path:
    """Write an Azure ``MLTable`` file in ``folder`` that reads ``jsonl_name`` beside it.

    Returns:
        The folder (what a job's ``training_data.path`` of ``type: mltable`` points at).
    """
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    (root / "MLTable").write_text(
        "paths:\n"
        f"  - file: ./{jsonl_name}\n"
        "transformations:\n"
        "  - read_json_lines:\n"
        "        encoding: utf8\n"
        f"        invalid_lines: {invalid_lines}\n"
        "        include_path_column: false\n"
        "  - convert_column_types:\n"
        "      - columns: image_url\n"
        "        column_type: stream_info\n",
        encoding="utf-8",
    )
    return root


_MAKERS = {
    "image_classification": make_classification_jsonl,
    "image_classification_multilabel": make_multilabel_jsonl,
    "image_object_detection": make_detection_jsonl,
    "image_instance_segmentation": make_segmentation_jsonl,
}


def make_dataset(task: str, directory: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write a tiny dataset for ``task`` (a task name); keyword arguments go to the maker."""
    maker: Any = _MAKERS[str(task)]
    return Path(maker(directory, **kwargs))


def make_job_yaml(
    directory: str | os.PathLike[str],
    task: str,
    training_data: str,
    *,
    data_type: str = "uri_file",
    validation_data: str | None = None,
    extra: str = "",
    name: str = "job.yml",
) -> Path:
    """Write a minimal Azure-style job YAML (paths are written as given, relative or not).

    Args:
        directory: Folder of the YAML.
        task: Task name.
        training_data: ``training_data.path``.
        data_type: ``training_data.type`` (``mltable``, ``uri_file`` ...).
        validation_data: ``validation_data.path`` (same type), if any.
        extra: YAML text appended verbatim (e.g. ``"validation_data_size: 0.3\\n"``).
        name: File name.

    Returns:
        The YAML path.
    """
    text = (
        "type: automl\n"
        f"task: {task}\n"
        "target_column_name: label\n"
        f"training_data:\n  path: {training_data}\n  type: {data_type}\n"
    )
    if validation_data is not None:
        text += f"validation_data:\n  path: {validation_data}\n  type: {data_type}\n"
    text += "limits:\n  max_trials: 1\n" + extra
    out = Path(directory) / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
