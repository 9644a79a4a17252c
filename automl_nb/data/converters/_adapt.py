"""Reshape converted labels for the requested task (polygons -> boxes, objects -> tags, ...)."""

from __future__ import annotations

from dataclasses import replace

from automl_nb.data._records import ImageRecord
from automl_nb.data._records import LabeledImages
from automl_nb.data._records import ObjectAnnotation
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.tasks import Task

from ._common import box_polygon
from ._report import ConversionReport


def natural_task(records: list[ImageRecord], default: Task) -> Task:
    """The task records fit without losing anything: segmentation when any object has a polygon."""
    if default.is_detection:
        has_polygon = any(
            isinstance(obj, ObjectAnnotation) and obj.polygon
            for r in records
            for obj in r.label
            if not isinstance(r.label, str)
        )
        return Task.INSTANCE_SEGMENTATION if has_polygon else Task.OBJECT_DETECTION
    return default


def adapt(data: LabeledImages, task: Task | None, report: ConversionReport) -> LabeledImages:
    """Return ``data`` with labels shaped for ``task`` (``None`` keeps the natural task).

    Detection sources become multi-label classification (the set of classes in each image)
    or multi-class classification (images with exactly one class). Classification sources
    cannot become detection data.

    Raises:
        ConfigError: ``task`` needs boxes the source does not have.
    """
    source_task = data.task
    if task is None or task == source_task:
        task = source_task
    if source_task.is_classification and task.is_detection:
        raise ConfigError(
            Problem(
                f"{report.format} data has no boxes, so it cannot be converted for {task}",
                path="task",
                value=str(task),
                suggestion=str(source_task),
            )
        )
    records: list[ImageRecord] = []
    for record in data.records:
        label = _adapt_label(record, source_task, task, report)
        if label is not None:
            records.append(replace(record, label=label))
    return LabeledImages(task=task, records=records, source=data.source)


def _adapt_label(record: ImageRecord, source: Task, target: Task, report: ConversionReport):
    label = record.label
    if source.is_detection:
        objects: tuple[ObjectAnnotation, ...] = label  # type: ignore[assignment]
        if target is Task.OBJECT_DETECTION:
            if any(obj.polygon for obj in objects):
                report.note("polygons reduced to boxes", sum(1 for o in objects if o.polygon))
            return tuple(replace(obj, polygon=()) for obj in objects)
        if target is Task.INSTANCE_SEGMENTATION:
            out = []
            for obj in objects:
                if not obj.polygon:
                    report.note("box-only objects given their rectangle as polygon")
                    obj = replace(obj, polygon=(box_polygon(obj.box),))
                out.append(obj)
            return tuple(out)
        names = tuple(sorted({obj.label for obj in objects}))
        if target is Task.CLASSIFICATION_MULTILABEL:
            return names
        if len(names) != 1:
            report.skip("image without exactly one class (multi-class needs one)", record.path)
            return None
        return names[0]
    if source is Task.CLASSIFICATION:
        return (label,) if target is Task.CLASSIFICATION_MULTILABEL else label
    # multi-label source
    if target is Task.CLASSIFICATION:
        if len(label) != 1:
            report.skip("image without exactly one label (multi-class needs one)", record.path)
            return None
        return label[0]
    return label
