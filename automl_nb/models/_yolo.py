"""``yolov5``: Azure's default object-detection model (see :mod:`automl_nb.models.yolo`)."""

from __future__ import annotations

from automl_nb.models._cfg import DETECTION_TASKS
from automl_nb.models._cfg import ModelCfg
from automl_nb.models._cfg import yolo_defaults
from automl_nb.models._registry import register_model
from automl_nb.tasks import Task

# Azure's yolov5_backbone map: the stem, the four stages (down-sampling conv and CSP blocks
# each) and SPPF, as the detector names them (see automl_nb.models.yolo._blocks).
YOLO_BACKBONE_GROUPS: tuple[tuple[str, ...], ...] = tuple((f"model.{i}.",) for i in range(10))


@register_model(tasks=DETECTION_TASKS, family="yolo")
def yolov5(task: Task) -> ModelCfg:
    """YOLOv5-style one-stage detector (``model_size`` small / medium / large / extra_large)."""
    return ModelCfg(
        name="yolov5",
        task=task,
        tasks=DETECTION_TASKS,
        family="yolo",
        arch="yolov5",
        backbone="cs3darknet_focus_m",
        input_size=(3, 640, 640),
        defaults=yolo_defaults(),
        layer_groups=YOLO_BACKBONE_GROUPS,
        weights="cs3darknet_focus_m.c2ns_in1k",
        weights_source="hf-hub:timm/cs3darknet_focus_m.c2ns_in1k",
        description="YOLOv5-style detector: CSP-Darknet (timm cs3darknet_focus), PAN, anchors",
    )
