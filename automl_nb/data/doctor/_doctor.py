"""``diagnose``: statistics, file checks and duplicate search over a labelled dataset."""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from automl_nb.data._records import ImageRecord
from automl_nb.data._records import LabeledImages
from automl_nb.data._records import ObjectAnnotation
from automl_nb.tasks import Task
from automl_nb.tasks import as_task

from ._advice import advise
from ._files import FileInfo
from ._files import cross_pairs
from ._files import exact_groups
from ._files import inspect_file
from ._files import near_pairs
from ._report import DoctorReport

# Model input defaults (Azure): classification crop 224; Faster/Mask R-CNN min_size 600,
# max_size 1333 (torchvision's GeneralizedRCNNTransform resize rule).
DEFAULT_CROP_SIZE = 224
DEFAULT_MIN_SIZE = 600
DEFAULT_MAX_SIZE = 1333
SIZE_BINS: tuple[tuple[str, float, float], ...] = (
    ("<8", 0, 8),
    ("8-16", 8, 16),
    ("16-32", 16, 32),
    ("32-64", 32, 64),
    ("64-128", 64, 128),
    ("128-256", 128, 256),
    (">=256", 256, float("inf")),
)


def resize_scale(width: float, height: float, min_size: float, max_size: float) -> float:
    """Scale torchvision detectors apply: short side to ``min_size``, long side <= ``max_size``."""
    return min(min_size / min(width, height), max_size / max(width, height))


def _load(data, task) -> LabeledImages:
    if isinstance(data, LabeledImages):
        return data
    from automl_nb.data.converters import load_jsonl

    # Bad lines become findings instead of stopping the check at the first one.
    return load_jsonl(os.fspath(data), task, invalid_lines="drop")


def diagnose(
    data: LabeledImages | str | os.PathLike[str],
    *,
    task: str | Task | None = None,
    validation: LabeledImages | str | os.PathLike[str] | None = None,
    input_size: int | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
    check_files: bool = True,
    near_duplicate_distance: int = 2,
) -> DoctorReport:
    """Check a dataset and recommend settings, in seconds for hundreds of images.

    Args:
        data: Records, or a JSONL file / MLTable folder (read with the data layer).
        task: Task of ``data`` when it is a path (default: guessed from the labels).
        validation: Validation records or path; duplicates across the split are reported.
        input_size: Model input size: the crop size for classification (default 224),
            ``min_size`` for detection (default 600).
        max_size: Detection ``max_size`` (default 1333).
        check_files: Open every image: missing/undecodable files, true sizes, grayscale and
            palette images, exact and near duplicates. Without it only labels are used.
        near_duplicate_distance: Perceptual-hash bits two images may differ in and still
            count as near duplicates (0-64; 2 finds re-scaled or re-compressed copies).

    Returns:
        A :class:`DoctorReport` (``print`` it, show it in a notebook, or ``to_dict()`` it).
    """
    start = time.perf_counter()
    task = as_task(task) if task is not None else None
    train = _load(data, task)
    task = train.task
    val = _load(validation, task) if validation is not None else None
    if input_size is None:
        input_size = DEFAULT_MIN_SIZE if task.is_detection else DEFAULT_CROP_SIZE

    report = DoctorReport(
        task=task, source=train.source, images=len(train), labels=list(train.labels)
    )
    counts = train.label_counts()
    report.class_counts = {name: counts.get(name, 0) for name in train.labels}
    per_image = Counter(name for r in train.records for name in set(r.class_names))
    report.images_per_class = {name: per_image.get(name, 0) for name in train.labels}
    if task is not Task.CLASSIFICATION:
        report.labels_per_image = dict(
            sorted(Counter(len(r.class_names) for r in train.records).items())
        )
        report.background_images = sum(1 for r in train.records if not r.label)
    if task.is_detection:
        report.crowd_objects = sum(
            1
            for r in train.records
            for o in r.label
            if isinstance(o, ObjectAnnotation) and o.is_crowd
        )

    infos: list[FileInfo] = []
    if check_files:
        infos = [inspect_file(r.path) for r in train.records]
        report.broken = [
            (i.path, i.error) for i in infos if i.error and not i.error.startswith("remote")
        ]
        report.image_modes = dict(Counter(i.mode for i in infos if i.mode).most_common())
        names = [r.path for r in train.records]
        report.exact_duplicates = [[names[i] for i in g] for g in exact_groups(infos)]
        exact = {frozenset(g) for g in exact_groups(infos)}
        near = _group_pairs(near_pairs([i.dhash for i in infos], near_duplicate_distance))
        report.near_duplicates = [
            [names[i] for i in sorted(g)] for g in near if frozenset(g) not in exact
        ]
        if val is not None:
            val_infos = [inspect_file(r.path) for r in val.records]
            report.cross_split_duplicates = [
                (names[i], val.records[j].path, kind)
                for i, j, kind in cross_pairs(infos, val_infos, near_duplicate_distance)
            ]
    sizes = _sizes(train.records, infos)
    if sizes:
        widths, heights = [w for w, _ in sizes.values()], [h for _, h in sizes.values()]
        report.image_sizes = {
            "width": _stats(widths),
            "height": _stats(heights),
        }
    object_px = (
        _object_sizes(train.records, sizes, input_size, max_size) if task.is_detection else []
    )
    if task.is_detection:
        report.input_size = input_size
        report.object_sizes = _histogram(object_px)
    else:
        report.input_size = input_size

    report.findings = advise(
        report,
        train=train,
        validation=val,
        infos=infos,
        sizes=sizes,
        object_px=object_px,
        max_size=max_size,
    )
    report.seconds = time.perf_counter() - start
    return report


def _stats(values: Sequence[float]) -> dict[str, float]:
    return {
        "min": float(min(values)),
        "median": float(statistics.median(values)),
        "max": float(max(values)),
    }


def _group_pairs(pairs: list[tuple[int, int]]) -> list[set[int]]:
    """Connected groups of the pair graph (union-find)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    groups: dict[int, set[int]] = {}
    for x in parent:
        groups.setdefault(find(x), set()).add(x)
    return [g for g in groups.values() if len(g) > 1]


def _sizes(
    records: Sequence[ImageRecord], infos: Sequence[FileInfo]
) -> dict[int, tuple[int, int]]:
    """Index -> (width, height): the file's own size when checked, else ``image_details``."""
    out: dict[int, tuple[int, int]] = {}
    for i, record in enumerate(records):
        info = infos[i] if infos else None
        if info is not None and info.width and info.height:
            out[i] = (info.width, info.height)
        elif record.width and record.height:
            out[i] = (record.width, record.height)
        elif not infos and "://" not in record.path and Path(record.path).is_file():
            try:
                from PIL import Image

                with Image.open(record.path) as image:
                    out[i] = image.size
            except OSError:
                pass
    return out


def _object_sizes(
    records: Sequence[ImageRecord], sizes: dict[int, tuple[int, int]], min_size: int, max_size: int
) -> list[tuple[float, float, int]]:
    """``(size after resize, size in the original image, record index)`` per object."""
    out = []
    for i, record in enumerate(records):
        if i not in sizes:
            continue
        width, height = sizes[i]
        scale = resize_scale(width, height, min_size, max_size)
        for obj in record.label:
            if not isinstance(obj, ObjectAnnotation):
                continue
            w = (obj.bottom_x - obj.top_x) * width
            h = (obj.bottom_y - obj.top_y) * height
            original = max(w, 0.0) ** 0.5 * max(h, 0.0) ** 0.5
            out.append((original * scale, original, i))
    return out


def _histogram(object_px: list[tuple[float, float, int]]) -> dict[str, int]:
    hist = {name: 0 for name, _, _ in SIZE_BINS}
    for size, _, _ in object_px:
        for name, low, high in SIZE_BINS:
            if low <= size < high:
                hist[name] += 1
                break
    return hist
