"""Small ``nn.Module`` wrappers that give exported models a plain-tensor interface.

This module imports torch; the format modules import it only when they export.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class NormalizedClassifier(nn.Module):
    """A classifier that takes unnormalised RGB input and normalises it itself.

    ``forward(x)`` computes ``model((x * scale - mean) / std)``: with ``scale = 1`` the input
    is 0-1 RGB (pixels / 255), with ``scale = 1 / 255`` it is 0-255 RGB.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        model: nn.Module,
        mean: Sequence[float],
        std: Sequence[float],
        scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.model = model
        self.scale = float(scale)
        self.register_buffer(
            "mean", torch.tensor(list(mean), dtype=torch.float32).view(1, -1, 1, 1)
        )
        self.register_buffer("std", torch.tensor(list(std), dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model((x * self.scale - self.mean) / self.std)


class BatchDetector(nn.Module):
    """A torchvision detector with a tensor interface: ``[N, 3, H, W]`` in, flat tuple out.

    The outputs are, for each image ``i`` of the batch in turn, ``boxes_i`` ``[n, 4]``
    (x0, y0, x1, y1 in input pixels), ``labels_i`` ``[n]`` (int64, 1-based class ids),
    ``scores_i`` ``[n]`` and, for Mask R-CNN, ``masks_i`` ``[n, 1, H, W]`` (0-1).
    """

    def __init__(self, model: nn.Module, batch_size: int, with_masks: bool) -> None:
        super().__init__()
        self.model = model
        self.batch_size = int(batch_size)
        self.with_masks = bool(with_masks)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        images = [x[i] for i in range(self.batch_size)]
        outputs = self.model(images)
        flat: list[torch.Tensor] = []
        for out in outputs:
            flat += [out["boxes"], out["labels"], out["scores"]]
            if self.with_masks:
                flat.append(out["masks"])
        return tuple(flat)


def detection_output_names(batch_size: int, with_masks: bool) -> list[str]:
    """The ONNX output names of :class:`BatchDetector`: ``boxes_0, labels_0, scores_0, ...``."""
    parts = ["boxes", "labels", "scores"] + (["masks"] if with_masks else [])
    return [f"{part}_{i}" for i in range(int(batch_size)) for part in parts]


class PositiveLabels(nn.Module):
    """A scriptable detector that drops detections of label 0 (the background).

    automl-nb's RetinaNet does this in an overridden ``postprocess_detections`` that calls
    ``super()``, which TorchScript cannot compile; the export scripts torchvision's own class
    inside this wrapper instead. Same input and output as a scripted torchvision detector.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, images: list[torch.Tensor]
    ) -> tuple[dict[str, torch.Tensor], list[dict[str, torch.Tensor]]]:
        losses, detections = self.model(images)
        kept: list[dict[str, torch.Tensor]] = []
        for detection in detections:
            keep = detection["labels"] > 0
            out: dict[str, torch.Tensor] = {}
            for key, value in detection.items():
                out[key] = value[keep]
            kept.append(out)
        return losses, kept


def scriptable_detector(model: nn.Module) -> nn.Module:
    """``model``, or a scriptable equivalent where its class cannot be scripted."""
    from torchvision.models.detection import RetinaNet

    from automl_nb.models.yolo import ScriptableYOLOv5
    from automl_nb.models.yolo import YOLOv5

    if isinstance(model, YOLOv5):  # yolov5: script its eval path only
        return ScriptableYOLOv5(model.eval())
    if isinstance(model, RetinaNet) and type(model) is not RetinaNet:
        model.__class__ = RetinaNet
        return PositiveLabels(model)
    return model
