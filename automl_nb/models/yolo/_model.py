"""The YOLOv5-style detector, speaking torchvision's detector interface.

* Train mode: ``model(images, targets)`` with a list of 0-1 ``[3, H, W]`` images and target
  dicts (``boxes`` XYXY in image pixels, ``labels`` ``1..C``) returns
  ``{"loss_box", "loss_obj", "loss_cls"}``.
* Eval mode: ``model(images)`` returns one ``{"boxes", "labels", "scores"}`` per image, boxes
  in that image's pixels, labels ``1..C`` (0, the background, is never predicted).

The model letterboxes the images itself (longest side to ``img_size``, padded to a multiple
of 32), like torchvision's ``GeneralizedRCNNTransform``, and normalises them with the
backbone's mean/std. With ``multi_scale`` each training batch uses a random size between
half and 1.5 times ``img_size`` (a multiple of 32).
"""

from __future__ import annotations

import random
from typing import Any

import torch
from torch import nn

from automl_nb.models.yolo._blocks import MODEL_SIZES
from automl_nb.models.yolo._blocks import SIZE_ALIASES
from automl_nb.models.yolo._blocks import STRIDES
from automl_nb.models.yolo._blocks import DetectHead
from automl_nb.models.yolo._blocks import PanNeck
from automl_nb.models.yolo._blocks import YoloNetwork
from automl_nb.models.yolo._blocks import backbone_entries
from automl_nb.models.yolo._blocks import yolo_batchnorm
from automl_nb.models.yolo._loss import YoloLoss
from automl_nb.models.yolo._postprocess import decode
from automl_nb.models.yolo._postprocess import letterbox
from automl_nb.models.yolo._postprocess import select_detections


def canonical_model_size(value: Any) -> str:
    """``small``/``medium``/``large``/``extra_large`` (v1 ``xlarge`` accepted)."""
    from automl_nb.errors import ModelError

    name = str(value).strip().lower()
    name = SIZE_ALIASES.get(name, name)
    if name not in MODEL_SIZES:
        from automl_nb.registry import did_you_mean

        raise ModelError(
            f"model_size {value!r} is not one of {', '.join(MODEL_SIZES)}"
            + did_you_mean(str(value), list(MODEL_SIZES))
        )
    return name


class YOLOv5(nn.Module):
    """YOLOv5-style one-stage detector (CSP-Darknet, PAN neck, anchor head at 8/16/32).

    Args:
        backbone: The ten backbone entries (``model.0`` .. ``model.9``).
        channels: Channels of P3, P4, P5.
        num_classes: Real classes.
        depth: Bottlenecks per neck C3 block.
        mean: Input normalisation mean (0-1 RGB), from the backbone's pretrained cfg.
        std: Input normalisation std.
        img_size: Longest side the images are letterboxed to.
        box_score_thresh: Detections below objectness x class probability are dropped.
        nms_iou_thresh: IoU of the class-wise NMS.
        box_detections_per_img: Detections kept per image.
        multi_scale: Train each batch at a random size in ``[0.5, 1.5] x img_size``.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        backbone: nn.ModuleList,
        channels: tuple[int, int, int],
        num_classes: int,
        *,
        depth: int,
        mean: tuple[float, ...],
        std: tuple[float, ...],
        img_size: int = 640,
        box_score_thresh: float = 0.1,
        nms_iou_thresh: float = 0.5,
        box_detections_per_img: int = 100,
        multi_scale: bool = False,
    ) -> None:
        super().__init__()
        self.model = backbone
        self.neck = PanNeck(channels, depth)
        self.head = DetectHead(channels, num_classes)
        self.num_classes = int(num_classes)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1))
        self.img_size = int(img_size)
        self.score_thresh = float(box_score_thresh)
        self.nms_thresh = float(nms_iou_thresh)
        self.detections_per_img = int(box_detections_per_img)
        self.multi_scale = bool(multi_scale)
        self.strides = list(STRIDES)
        self.loss = YoloLoss(num_classes, STRIDES)

    def network(self, batch: torch.Tensor) -> list[torch.Tensor]:
        """Raw head outputs ``[N, A, H, W, 5 + C]`` per level for a letterboxed 0-1 batch.

        The outputs are fp32 even under bf16/fp16 autocast: box coordinates and the losses
        need more than bf16's 8-bit mantissa (a 2-pixel step at 320 px).
        """
        raw = YoloNetwork.forward(self, (batch - self.mean) / self.std)  # type: ignore[arg-type]
        return [level.float() for level in raw]

    def _train_size(self) -> int:
        if not self.multi_scale:
            return self.img_size
        low, high = max(32, self.img_size // 2), self.img_size * 3 // 2
        return max(32, int(random.uniform(low, high + 32)) // 32 * 32)

    def forward(
        self,
        images: list[torch.Tensor],
        targets: list[dict[str, torch.Tensor]] | None = None,
    ) -> Any:
        """Losses in train mode, detections in eval mode (see the module docstring)."""
        if self.training:
            if targets is None:
                raise ValueError("in training mode the YOLOv5 model needs targets")
            size = self._train_size()
            batch, scales = letterbox(list(images), size)
            scaled = [
                {"boxes": t["boxes"] * scale, "labels": t["labels"]}
                for t, scale in zip(targets, scales)
            ]
            return self.loss(self.network(batch), self.head.anchors, scaled, size)
        sizes = [(int(im.shape[-2]), int(im.shape[-1])) for im in images]
        batch, scales = letterbox(list(images), self.img_size)
        anchors: torch.Tensor = self.head.anchors  # type: ignore[assignment]
        decoded = decode(self.network(batch), anchors, self.strides)
        return select_detections(
            decoded,
            scales,
            sizes,
            self.score_thresh,
            self.nms_thresh,
            self.detections_per_img,
        )


def _timm_backbone(arch: str, name: str, pretrained: bool) -> Any:
    """timm's backbone with ``features_only``; pretrained through the project's timm path."""
    if not pretrained:
        import timm

        return timm.create_model(arch, pretrained=False, features_only=True, out_indices=(2, 3, 4))
    from automl_nb.models._cfg import ModelCfg
    from automl_nb.models._timm import _pretrained_cfg
    from automl_nb.models._timm import _weights_fields
    from automl_nb.models._timm import build_timm_model
    from automl_nb.tasks import Task

    weights, source = _weights_fields(arch, _pretrained_cfg(arch))
    cfg = ModelCfg(
        name=name,
        task=Task.CLASSIFICATION,
        tasks=(Task.CLASSIFICATION,),
        family="timm",
        arch=arch,
        weights=weights,
        weights_source=source,
    )
    return build_timm_model(
        cfg, num_classes=0, pretrained=True, features_only=True, out_indices=(2, 3, 4)
    )


def build_yolov5(
    cfg: Any,
    *,
    num_classes: int,
    pretrained: bool,
    checkpoint_path: str | None = None,
    **kwargs: Any,
) -> YOLOv5:
    """Build ``yolov5`` for ``num_classes`` real classes (label ids ``1..num_classes``).

    Args:
        cfg: The registry's :class:`~automl_nb.models.ModelCfg`.
        num_classes: Real classes.
        pretrained: Start the backbone from timm's ImageNet weights (downloaded once into
            the Hugging Face cache); the neck and head always start from scratch.
        checkpoint_path: A local state dict of this model to start from instead.
        **kwargs: ``img_size`` (``image_size``), ``model_size``, ``box_score_thresh``
            (``box_score_threshold``), ``nms_iou_thresh`` (``nms_iou_threshold``),
            ``box_detections_per_img`` (``box_detections_per_image``), ``multi_scale``.

    Raises:
        ModelError: Unknown keyword or ``model_size``, or weights that cannot be had.
    """
    from automl_nb.errors import ModelError
    from automl_nb.models._torchvision import _load_matching
    from automl_nb.models._torchvision import _read_checkpoint

    given = _canonical_kwargs(cfg, kwargs)
    size = canonical_model_size(given.pop("model_size"))
    arch, depth = MODEL_SIZES[size]
    use_weights = pretrained and checkpoint_path is None
    backbone = _timm_backbone(arch, f"{cfg.name} (model_size {size})", use_weights)
    c3, c4, c5 = (int(c) for c in backbone.feature_info.channels())
    channels = (c3, c4, c5)
    pcfg = backbone.pretrained_cfg if hasattr(backbone, "pretrained_cfg") else {}
    mean = tuple(pcfg.get("mean", (0.485, 0.456, 0.406)))
    std = tuple(pcfg.get("std", (0.229, 0.224, 0.225)))
    entries = backbone_entries(backbone)
    unknown = set(given) - {
        "img_size",
        "box_score_thresh",
        "nms_iou_thresh",
        "box_detections_per_img",
        "multi_scale",
    }
    if unknown:
        raise ModelError(f"yolov5 does not take {', '.join(sorted(unknown))}")
    model = YOLOv5(entries, channels, num_classes, depth=depth, mean=mean, std=std, **given)
    if not pretrained or checkpoint_path is not None:
        yolo_batchnorm(model)
    model.head.init_biases(model.img_size)
    if checkpoint_path is not None:
        _load_matching(model, _read_checkpoint(cfg, checkpoint_path), cfg, str(checkpoint_path))
    return model


_ALIASES = {
    "image_size": "img_size",
    "box_score_threshold": "box_score_thresh",
    "nms_iou_threshold": "nms_iou_thresh",
    "box_nms_thresh": "nms_iou_thresh",
    "box_iou_thresh": "nms_iou_thresh",
    "box_detections_per_image": "box_detections_per_img",
}


def _canonical_kwargs(cfg: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    given = {_ALIASES.get(k, k): v for k, v in kwargs.items() if v is not None}
    d = cfg.defaults
    return {
        **given,
        "img_size": int(given.get("img_size", d["image_size"])),
        "model_size": given.get("model_size", d["model_size"]),
        "box_score_thresh": float(given.get("box_score_thresh", d["box_score_threshold"])),
        "nms_iou_thresh": float(given.get("nms_iou_thresh", d["nms_iou_threshold"])),
        "box_detections_per_img": int(given.get("box_detections_per_img", 100)),
        "multi_scale": bool(int(given.get("multi_scale", 0) or 0)),
    }


class ScriptableYOLOv5(nn.Module):
    """The eval path of a :class:`YOLOv5` in a form ``torch.jit.script`` compiles.

    Shares the detector's modules and runs the same letterbox, decoding and selection
    functions. Same input and output as a scripted torchvision detector: a list of 0-1
    ``[3, H, W]`` images in, ``(losses, detections)`` out, where ``losses`` is empty.
    """

    def __init__(self, model: YOLOv5) -> None:
        super().__init__()
        self.network = YoloNetwork(model.model, model.neck, model.head)
        self.register_buffer("mean", model.mean.detach().clone())
        self.register_buffer("std", model.std.detach().clone())
        self.register_buffer("anchors", model.head.anchors.detach().clone())  # type: ignore[operator]
        self.strides: list[int] = list(model.strides)
        self.img_size = int(model.img_size)
        self.score_thresh = float(model.score_thresh)
        self.nms_thresh = float(model.nms_thresh)
        self.detections_per_img = int(model.detections_per_img)

    def forward(
        self, images: list[torch.Tensor]
    ) -> tuple[dict[str, torch.Tensor], list[dict[str, torch.Tensor]]]:
        sizes: list[tuple[int, int]] = []
        for image in images:
            sizes.append((int(image.shape[-2]), int(image.shape[-1])))
        batch, scales = letterbox(images, self.img_size)
        decoded = decode(
            self.network((batch - self.mean) / self.std),  # type: ignore[operator]
            self.anchors,  # type: ignore[arg-type]
            self.strides,
        )
        detections = select_detections(
            decoded, scales, sizes, self.score_thresh, self.nms_thresh, self.detections_per_img
        )
        losses: dict[str, torch.Tensor] = {}
        return losses, detections
