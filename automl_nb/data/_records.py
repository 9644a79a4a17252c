"""The in-memory form of labelled image data, shared by readers, converters and datasets.

One :class:`ImageRecord` is one JSONL line of the Azure AutoML-for-Images schema. Labels keep
the task's shape: a class name (multi-class), a tuple of class names (multi-label) or a tuple
of :class:`ObjectAnnotation` (detection, instance segmentation). Coordinates are normalised
to [0, 1] as in the JSONL.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import Union

from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.tasks import Task


@dataclass(frozen=True)
class ObjectAnnotation:
    """One object of a detection or instance-segmentation label.

    Attributes:
        label: Class name.
        top_x, top_y, bottom_x, bottom_y: Normalised box corners, ``0 <= top < bottom <= 1``.
        is_crowd: Crowd regions are ignored by the metrics (``isCrowd`` in the JSONL).
        polygon: Instance-segmentation outline: one flattened normalised
            ``(x1, y1, x2, y2, ...)`` tuple per segment; empty for plain detection.
    """

    label: str
    top_x: float
    top_y: float
    bottom_x: float
    bottom_y: float
    is_crowd: bool = False
    polygon: tuple[tuple[float, ...], ...] = ()

    @property
    def box(self) -> tuple[float, float, float, float]:
        """``(top_x, top_y, bottom_x, bottom_y)``, normalised."""
        return (self.top_x, self.top_y, self.bottom_x, self.bottom_y)

    def to_json(self) -> dict[str, Any]:
        """The Azure JSONL form of this object."""
        out: dict[str, Any] = {
            "label": self.label,
            "topX": self.top_x,
            "topY": self.top_y,
            "bottomX": self.bottom_x,
            "bottomY": self.bottom_y,
            "isCrowd": int(self.is_crowd),
        }
        if self.polygon:
            out["polygon"] = [list(segment) for segment in self.polygon]
        return out


Label = Union[str, tuple[str, ...], tuple[ObjectAnnotation, ...]]  # noqa: UP007 - runtime alias on 3.10


@dataclass(frozen=True)
class ImageRecord:
    """One labelled image (one JSONL line).

    Attributes:
        image_url: The image reference exactly as written in the source.
        path: Where the image is read from: an absolute local path or an fsspec URL.
        label: ``str`` (multi-class), ``tuple[str, ...]`` (multi-label) or
            ``tuple[ObjectAnnotation, ...]`` (detection and instance segmentation; empty for a
            background image).
        width, height: Pixel size from ``image_details``, when given.
        format: Image format from ``image_details`` (``jpg``, ``png``, ...), when given.
        source: ``"file:line"`` of the record, for error messages.
    """

    image_url: str
    path: str
    label: Label
    width: int | None = None
    height: int | None = None
    format: str | None = None
    source: str | None = None

    @property
    def objects(self) -> tuple[ObjectAnnotation, ...]:
        """The boxes (and polygons) of a detection or segmentation record; ``()`` otherwise."""
        if isinstance(self.label, str):
            return ()
        return tuple(item for item in self.label if isinstance(item, ObjectAnnotation))

    @property
    def class_names(self) -> tuple[str, ...]:
        """The class names this record mentions (each once per object or label)."""
        if isinstance(self.label, str):
            return (self.label,)
        return tuple(
            item.label if isinstance(item, ObjectAnnotation) else item for item in self.label
        )

    def to_json(self, *, image_url: str | None = None) -> dict[str, Any]:
        """The Azure JSONL form of this record; ``image_url`` overrides the stored one."""
        out: dict[str, Any] = {"image_url": image_url if image_url is not None else self.image_url}
        details: dict[str, Any] = {}
        if self.format:
            details["format"] = self.format
        if self.width is not None:
            details["width"] = f"{self.width}px"
        if self.height is not None:
            details["height"] = f"{self.height}px"
        if details:
            out["image_details"] = details
        if isinstance(self.label, str):
            out["label"] = self.label
        else:
            out["label"] = [
                item.to_json() if isinstance(item, ObjectAnnotation) else item
                for item in self.label
            ]
        return out


@dataclass
class LabeledImages:
    """A list of :class:`ImageRecord` for one task, with its class list.

    Attributes:
        task: The task the labels are shaped for.
        records: The images, in source order.
        labels: Sorted class names (the model's class index order).
        source: Where the records came from (a JSONL path or an MLTable folder).
        dropped: Problems of lines dropped under ``invalid_lines: drop``.
        warnings: Legal but suspicious input (the same image on two lines, one class).
    """

    task: Task
    records: list[ImageRecord]
    labels: list[str] = field(default_factory=list)
    source: str | None = None
    dropped: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.labels:
            self.labels = sorted({name for r in self.records for name in r.class_names})

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[ImageRecord]:
        return iter(self.records)

    def __getitem__(self, index: int) -> ImageRecord:
        return self.records[index]

    def label_counts(self) -> Counter[str]:
        """Objects (detection) or images (classification) per class."""
        return Counter(name for r in self.records for name in r.class_names)

    def subset(self, indices: Iterable[int]) -> LabeledImages:
        """A new collection with the records at ``indices`` and the same class list."""
        return LabeledImages(
            task=self.task,
            records=[self.records[i] for i in indices],
            labels=list(self.labels),
            source=self.source,
        )


def write_jsonl(
    records: Iterable[ImageRecord],
    path: str | os.PathLike[str],
    *,
    relative_to_output: bool = True,
) -> Path:
    """Write records as Azure JSONL.

    Args:
        records: The records to write.
        path: Output file; parent folders are created.
        relative_to_output: Write local image paths relative to the output file's folder (so
            the JSONL and its images can move together). URLs are written as they are.

    Returns:
        The path written.

    Raises:
        DataError: A record holds a NaN or infinite number (nothing is written then).
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    base = out.parent.resolve()
    lines = []
    for record in records:
        url = record.image_url
        if relative_to_output and "://" not in record.path:
            url = os.path.relpath(Path(record.path).resolve(), base).replace(os.sep, "/")
        try:
            lines.append(json.dumps(record.to_json(image_url=url), allow_nan=False) + "\n")
        except ValueError:
            raise DataError(
                Problem(
                    "a coordinate is not a finite number (NaN or infinity); nothing was written",
                    file=record.source or record.image_url,
                )
            ) from None
    # Through a temporary file: a failed write never leaves a half-written JSONL behind.
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.writelines(lines)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return out
