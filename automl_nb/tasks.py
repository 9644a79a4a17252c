"""The four AutoML-for-Images tasks and the facts every layer needs about them."""

from __future__ import annotations

from enum import Enum


class Task(str, Enum):
    """A task name as written in the job YAML (``task: image_object_detection``)."""

    CLASSIFICATION = "image_classification"
    CLASSIFICATION_MULTILABEL = "image_classification_multilabel"
    OBJECT_DETECTION = "image_object_detection"
    INSTANCE_SEGMENTATION = "image_instance_segmentation"

    def __str__(self) -> str:
        return self.value

    @property
    def is_classification(self) -> bool:
        """True for multi-class and multi-label classification."""
        return self in (Task.CLASSIFICATION, Task.CLASSIFICATION_MULTILABEL)

    @property
    def is_detection(self) -> bool:
        """True for object detection and instance segmentation (both predict boxes)."""
        return self in (Task.OBJECT_DETECTION, Task.INSTANCE_SEGMENTATION)

    @property
    def primary_metric(self) -> str:
        """The task's fixed primary metric (maximised)."""
        return PRIMARY_METRIC[self]


PRIMARY_METRIC: dict[Task, str] = {
    Task.CLASSIFICATION: "accuracy",
    Task.CLASSIFICATION_MULTILABEL: "iou",
    Task.OBJECT_DETECTION: "mean_average_precision",
    Task.INSTANCE_SEGMENTATION: "mean_average_precision",
}

TASK_NAMES: tuple[str, ...] = tuple(t.value for t in Task)


def as_task(value: str | Task) -> Task:
    """Return the :class:`Task` for a task name, or raise ``ValueError`` listing the valid ones."""
    if isinstance(value, Task):
        return value
    try:
        return Task(str(value).strip())
    except ValueError:
        raise ValueError(
            f"unknown task {value!r}; expected one of: {', '.join(TASK_NAMES)}"
        ) from None
