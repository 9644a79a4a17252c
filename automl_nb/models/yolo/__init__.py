"""``yolov5``: a YOLOv5-style one-stage detector written for automl-nb.

A CSP-Darknet backbone (timm's ``cs3darknet_focus_*``), a PAN neck of C3 blocks and an
anchor-based head at strides 8/16/32, trained with the YOLOv5 recipe (anchor-ratio target
assignment with neighbour cells, CIoU box loss, BCE objectness and class losses). It speaks
torchvision's detector interface (see :mod:`automl_nb.models.yolo._model`), so training,
evaluation, prediction, tiling and the metrics treat it like any other detector.

Imports torch: only :func:`automl_nb.models.create_model` imports this package.
"""

from __future__ import annotations

from automl_nb.models.yolo._blocks import MODEL_SIZES
from automl_nb.models.yolo._model import ScriptableYOLOv5
from automl_nb.models.yolo._model import YOLOv5
from automl_nb.models.yolo._model import build_yolov5
from automl_nb.models.yolo._model import canonical_model_size

__all__ = ["MODEL_SIZES", "ScriptableYOLOv5", "YOLOv5", "build_yolov5", "canonical_model_size"]
