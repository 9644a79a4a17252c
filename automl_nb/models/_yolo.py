"""``yolov5``: a known Azure name that automl-nb does not implement yet.

It is registered so that listings show it with Azure's defaults and so that asking for it
gives a clear error naming the model to use instead (``fasterrcnn_resnet50_fpn``).
"""

from __future__ import annotations

from automl_nb.models._cfg import DETECTION_TASKS
from automl_nb.models._cfg import ModelCfg
from automl_nb.models._cfg import yolo_defaults
from automl_nb.models._registry import register_model
from automl_nb.tasks import Task

# yolov5_backbone map from the reference, for when the model exists.
YOLO_BACKBONE_GROUPS: tuple[tuple[str, ...], ...] = tuple((f"model.{i}.",) for i in range(10))


@register_model(tasks=DETECTION_TASKS, family="yolo", available=False)
def yolov5(task: Task) -> ModelCfg:
    """YOLOv5-style one-stage detector (not available yet)."""
    return ModelCfg(
        name="yolov5",
        task=task,
        tasks=DETECTION_TASKS,
        family="yolo",
        arch="yolov5",
        input_size=(3, 640, 640),
        defaults=yolo_defaults(),
        layer_groups=YOLO_BACKBONE_GROUPS,
        available=False,
        description="YOLOv5-style detector; use fasterrcnn_resnet50_fpn until it exists",
    )
