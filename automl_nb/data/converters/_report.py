"""What a conversion did: counts per class, background images and what was skipped, and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from automl_nb.data._records import LabeledImages
from automl_nb.tasks import Task

# How many example items to keep per skip reason (the counts are always complete).
_EXAMPLES_PER_REASON = 5


@dataclass
class ConversionReport:
    """The outcome of converting one annotation source to Azure JSONL.

    Attributes:
        format: Source format name (``coco``, ``voc``, ...).
        source: The source file or folder.
        task: The task the labels were shaped for.
        output: The JSONL written, when one was.
        images: Images written.
        background_images: Images written without any object or label.
        objects: Boxes/polygons (detection) or image-label pairs (classification) written.
        per_class: ``objects`` per class name.
        skipped: Skip reason -> number of items (images, label files, lines or objects).
        examples: Skip reason -> the first few items skipped for it.
        notes: Conversions made on the way that change the data (``12 polygons -> boxes``).
    """

    format: str
    source: str
    task: Task
    output: str | None = None
    images: int = 0
    background_images: int = 0
    objects: int = 0
    per_class: dict[str, int] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    notes: Counter[str] = field(default_factory=Counter)

    def skip(self, reason: str, item: object = None, count: int = 1) -> None:
        """Count ``count`` items skipped for ``reason`` and keep ``item`` as an example."""
        if count <= 0:
            return
        self.skipped[reason] += count
        if item is not None:
            examples = self.examples.setdefault(reason, [])
            if len(examples) < _EXAMPLES_PER_REASON:
                examples.append(str(item))

    def note(self, message: str, count: int = 1) -> None:
        """Count one occurrence of a data-changing conversion (``box-only object -> rectangle``)."""
        self.notes[message] += count

    def count(self, data: LabeledImages) -> None:
        """Fill the image/object/class counts from the converted records."""
        self.task = data.task
        self.images = len(data.records)
        self.background_images = sum(1 for r in data.records if not r.label)
        counts = data.label_counts()
        self.objects = sum(counts.values())
        self.per_class = {name: counts.get(name, 0) for name in data.labels}

    @property
    def skipped_total(self) -> int:
        """All skipped items together."""
        return sum(self.skipped.values())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of the report."""
        return {
            "format": self.format,
            "source": self.source,
            "task": str(self.task),
            "output": self.output,
            "images": self.images,
            "background_images": self.background_images,
            "objects": self.objects,
            "per_class": dict(self.per_class),
            "skipped": dict(self.skipped),
            "examples": {k: list(v) for k, v in self.examples.items()},
            "notes": dict(self.notes),
        }

    def __str__(self) -> str:
        unit = "labels" if self.task.is_classification else "objects"
        if self.task is Task.CLASSIFICATION:
            unit = "images"
        head = f"{self.format} -> {self.output or 'records'} ({self.task})"
        lines = [
            head,
            f"  images: {self.images} ({self.background_images} background)"
            if self.task is not Task.CLASSIFICATION
            else f"  images: {self.images}",
            f"  {unit} per class ({len(self.per_class)} classes, {self.objects} in all):",
        ]
        width = max((len(name) for name in self.per_class), default=0)
        lines += [f"    {name:<{width}}  {n}" for name, n in self.per_class.items()]
        if self.skipped:
            lines.append(f"  skipped: {self.skipped_total}")
            for reason, n in self.skipped.most_common():
                example = ", ".join(self.examples.get(reason, [])[:3])
                lines.append(f"    {n} x {reason}" + (f" (e.g. {example})" if example else ""))
        if self.notes:
            lines.append("  notes:")
            lines += [f"    {n} x {message}" for message, n in self.notes.most_common()]
        return "\n".join(lines)
