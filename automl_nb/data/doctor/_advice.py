"""Findings and recommendations (with the exact job YAML) from the doctor's statistics."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from automl_nb.data._records import LabeledImages
from automl_nb.tasks import Task

from ._files import FileInfo
from ._report import SEVERITIES
from ._report import DoctorReport
from ._report import Finding

MIN_IMAGES = 10  # Azure AutoML for Images refuses fewer training images
MIN_PER_CLASS = 10
SMALL_OBJECT_PX = 32  # COCO's "small" objects: under 32 x 32 pixels at the model's input
SMALL_SHARE = 0.3  # recommend tiling when this share of objects is small
IMBALANCE_WARN = 2.0
IMBALANCE_STRONG = 5.0
TILE_GRIDS = ((2, 1), (3, 2), (5, 3))  # the grids Azure documents, smallest first
TILE_OVERLAP = 0.25  # Azure's default tile_overlap_ratio
MAX_DETECTIONS = 100  # Azure's default box_detections_per_image


def _names(paths: Sequence[str], n: int = 3) -> tuple[str, ...]:
    return tuple(Path(p).name for p in paths[:n])


def _yaml(**params: object) -> str:
    lines = ["training_parameters:"]
    for key, value in params.items():
        lines.append(f"  {key}: '{value}'" if isinstance(value, str) else f"  {key}: {value}")
    return "\n".join(lines)


def tile_scale(
    width: float, height: float, grid: tuple[int, int], min_size: float, max_size: float
) -> float:
    """How much larger objects get when ``grid`` tiles (with 25 % overlap) replace the image."""
    cols, rows = grid
    tile_w = width / (1 + (cols - 1) * (1 - TILE_OVERLAP))
    tile_h = height / (1 + (rows - 1) * (1 - TILE_OVERLAP))
    whole = min(min_size / min(width, height), max_size / max(width, height))
    tiled = min(min_size / min(tile_w, tile_h), max_size / max(tile_w, tile_h))
    return tiled / whole


def advise(
    report: DoctorReport,
    *,
    train: LabeledImages,
    validation: LabeledImages | None,
    infos: Sequence[FileInfo],
    sizes: dict[int, tuple[int, int]],
    object_px: list[tuple[float, float, int]],
    max_size: float,
) -> list[Finding]:
    """All findings for ``report``, most severe first."""
    out: list[Finding] = []
    task = report.task
    out += _file_findings(report, train, infos)
    out += _count_findings(report, train, validation)
    if task.is_detection:
        out += _object_findings(report, train, sizes, object_px, max_size)
    else:
        small = [i for i, (w, h) in sizes.items() if min(w, h) < (report.input_size or 0)]
        if small:
            out.append(
                Finding(
                    "info",
                    "small_images",
                    f"{len(small)} images are smaller than the {report.input_size} px crop and are "
                    "upscaled; fine for thumbnails, but detail is limited",
                    items=_names([train.records[i].path for i in small]),
                )
            )
    order = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(out, key=lambda f: order.get(f.severity, 9))


def _file_findings(
    report: DoctorReport, train: LabeledImages, infos: Sequence[FileInfo]
) -> list[Finding]:
    out = []
    if train.dropped:
        out.append(
            Finding(
                "error",
                "invalid_lines",
                f"{len(train.dropped)} lines are invalid and were left out; training stops on "
                "them unless the MLTable says invalid_lines: drop",
                items=tuple(str(p) for p in train.dropped[:3]),
            )
        )
    if report.broken:
        out.append(
            Finding(
                "error",
                "broken_files",
                f"{len(report.broken)} image files are missing or cannot be decoded; fix or "
                "remove them (or read with invalid_lines: drop)",
                items=tuple(f"{Path(p).name}: {why}" for p, why in report.broken[:3]),
            )
        )
    mismatched = [
        r.path
        for r, info in zip(train.records, infos)
        if info.width and r.width and r.height and (r.width, r.height) != (info.width, info.height)
    ]
    if mismatched:
        out.append(
            Finding(
                "warning",
                "image_details_mismatch",
                f"{len(mismatched)} images have image_details width/height that differ from the "
                "file (rotated or re-saved?); the file's size is what training sees",
                items=_names(mismatched),
            )
        )
    odd_modes = {m: n for m, n in report.image_modes.items() if m not in ("RGB",)}
    if odd_modes:
        modes = ", ".join(f"{n} {m}" for m, n in odd_modes.items())
        out.append(
            Finding(
                "info", "image_modes", f"non-RGB images ({modes}) are converted to RGB when read"
            )
        )
    out += _duplicate_findings(report, train)
    return out


def _duplicate_findings(report: DoctorReport, train: LabeledImages) -> list[Finding]:
    """Copies and look-alikes, within the training data and across the split."""
    out: list[Finding] = []
    if report.exact_duplicates:
        n = sum(len(g) - 1 for g in report.exact_duplicates)
        out.append(
            Finding(
                "warning",
                "exact_duplicates",
                f"{n} images are byte-identical copies of another image; remove the copies",
                items=tuple(" = ".join(_names(g, 2)) for g in report.exact_duplicates[:3]),
            )
        )
    if report.near_duplicates:
        n = sum(len(g) for g in report.near_duplicates)
        out.append(
            Finding(
                "info",
                "near_duplicates",
                f"{n} images in {len(report.near_duplicates)} groups look alike (same picture "
                "re-scaled or re-compressed?); keep each group on one side of the split",
                items=tuple(" ~ ".join(_names(g, 2)) for g in report.near_duplicates[:3]),
            )
        )
    conflicts = _conflicting_duplicates(report, train)
    if conflicts:
        out.append(
            Finding(
                "warning",
                "conflicting_duplicates",
                f"{len(conflicts)} groups of duplicate images carry different labels",
                items=tuple(conflicts[:3]),
            )
        )
    if report.cross_split_duplicates:
        out.append(
            Finding(
                "warning",
                "train_validation_duplicates",
                f"{len(report.cross_split_duplicates)} validation images duplicate training "
                "images; validation scores will be optimistic - remove them from one side",
                items=tuple(
                    f"{Path(a).name} ~ {Path(b).name}"
                    for a, b, _ in report.cross_split_duplicates[:3]
                ),
            )
        )
    return out


def _conflicting_duplicates(report: DoctorReport, train: LabeledImages) -> list[str]:
    if not report.task.is_classification:
        return []
    label_of = {r.path: r.label for r in train.records}
    out = []
    for group in report.exact_duplicates + report.near_duplicates:
        labels = {str(label_of.get(p)) for p in group}
        if len(labels) > 1:
            out.append(" / ".join(f"{Path(p).name}: {label_of.get(p)}" for p in group[:2]))
    return out


def _count_findings(
    report: DoctorReport, train: LabeledImages, validation: LabeledImages | None
) -> list[Finding]:
    out = []
    task = report.task
    if report.images < MIN_IMAGES:
        out.append(
            Finding(
                "error",
                "too_few_images",
                f"only {report.images} images; AutoML for Images needs at least {MIN_IMAGES} "
                "training images",
            )
        )
    counts = {k: v for k, v in report.class_counts.items() if v > 0}
    if task.is_detection and not counts:
        out.append(Finding("error", "no_objects", "no image has an object to learn from"))
    few = sorted((n, name) for name, n in counts.items() if n < MIN_PER_CLASS)
    if few:
        unit = "objects" if task.is_detection else "images"
        out.append(
            Finding(
                "warning",
                "few_examples",
                f"{len(few)} classes have fewer than {MIN_PER_CLASS} {unit}; add examples "
                "(aim for 50 or more per class) or merge rare classes",
                items=tuple(f"{name} ({n})" for n, name in few[:5]),
            )
        )
    out += _imbalance_findings(task, counts)
    if task is Task.CLASSIFICATION_MULTILABEL:
        out += _multilabel_findings(report)
    if task.is_detection and report.background_images:
        out.append(
            Finding(
                "info",
                "background_images",
                f"{report.background_images} images have no objects; they are kept as "
                "background (negative) examples",
            )
        )
    if report.crowd_objects:
        out.append(
            Finding(
                "info",
                "crowd_objects",
                f"{report.crowd_objects} objects are marked isCrowd and are ignored by the metrics",
            )
        )
    if validation is not None:
        train_labels = set(train.labels)
        only_val = sorted({n for r in validation.records for n in r.class_names} - train_labels)
        if only_val:
            out.append(
                Finding(
                    "error",
                    "labels_only_in_validation",
                    "classes appear in validation but not in training: " + ", ".join(only_val),
                )
            )
    return out


def _imbalance_findings(task: Task, counts: dict[str, int]) -> list[Finding]:
    """How unbalanced the classes are, and what to do about it."""
    if len(counts) < 2:
        return []
    out: list[Finding] = []
    most, least = max(counts.values()), min(counts.values())
    ratio = most / least
    rare = min(counts, key=counts.get)  # type: ignore[arg-type]
    common = max(counts, key=counts.get)  # type: ignore[arg-type]
    if ratio >= IMBALANCE_WARN and task.is_classification:
        strength = 2 if ratio >= IMBALANCE_STRONG else 1
        how = "class weights" if strength == 2 else "square-root class weights"
        out.append(
            Finding(
                "warning",
                "class_imbalance",
                f"classes are imbalanced ({common}: {most} vs {rare}: {least}, {ratio:.1f}x); "
                f"weight the loss with {how}",
                yaml=_yaml(weighted_loss=strength),
            )
        )
    elif ratio >= IMBALANCE_STRONG and task.is_detection:
        out.append(
            Finding(
                "warning",
                "class_imbalance",
                f"classes are imbalanced ({common}: {most} vs {rare}: {least} objects, "
                f"{ratio:.0f}x); rare classes will score poorly - add images with them",
            )
        )
    return out


def _multilabel_findings(report: DoctorReport) -> list[Finding]:
    """Labels that carry no information, and images without any."""
    out: list[Finding] = []
    everywhere = [
        n for n, k in report.images_per_class.items() if k == report.images and report.images > 1
    ]
    if everywhere:
        out.append(
            Finding(
                "warning",
                "label_on_every_image",
                f"labels on every image carry no information: {', '.join(everywhere)}",
            )
        )
    if report.background_images:
        out.append(
            Finding(
                "info", "unlabelled_images", f"{report.background_images} images have no label"
            )
        )
    return out


def _object_findings(
    report: DoctorReport,
    train: LabeledImages,
    sizes: dict[int, tuple[int, int]],
    object_px: list[tuple[float, float, int]],
    max_size: float,
) -> list[Finding]:
    out = []
    tiny = [train.records[i].path for _, original, i in object_px if original < 2]
    if tiny:
        out.append(
            Finding(
                "warning",
                "tiny_boxes",
                f"{len(tiny)} boxes are under 2 px in the original image; likely annotation mistakes",
                items=_names(sorted(set(tiny))),
            )
        )
    most = max(report.labels_per_image, default=0)
    if most > MAX_DETECTIONS:
        out.append(
            Finding(
                "warning",
                "many_objects",
                f"up to {most} objects per image, more than the {MAX_DETECTIONS} detections "
                "a model returns per image by default",
                yaml=_yaml(box_detections_per_image=int(most * 1.2) + 1),
            )
        )
    if not object_px:
        return out
    small = [p for p in object_px if p[0] < SMALL_OBJECT_PX]
    share = len(small) / len(object_px)
    if share < SMALL_SHARE:
        return out
    min_size = float(report.input_size or 600)
    grid = TILE_GRIDS[-1]
    for candidate in TILE_GRIDS:
        still_small = sum(
            1
            for size, _, i in object_px
            if size * tile_scale(*sizes[i], candidate, min_size, max_size) < SMALL_OBJECT_PX
        )
        if still_small / len(object_px) < SMALL_SHARE / 3:
            grid = candidate
            break
    value = f"{grid[0]}x{grid[1]}"
    out.append(
        Finding(
            "warning",
            "small_objects",
            f"{share:.0%} of objects are smaller than {SMALL_OBJECT_PX} px at the model's input "
            f"(min_size {int(min_size)}); tile the images ({value} tiles enlarge them "
            "enough; tiling makes training and inference slower)",
            yaml=_yaml(tile_grid_size=value),
        )
    )
    return out
