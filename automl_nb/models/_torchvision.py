"""Detectors from torchvision: Faster R-CNN, RetinaNet and Mask R-CNN over ResNet-FPN.

Every entry pins arguments of :func:`_detector_cfg`; :func:`build_detector` builds them all.

Label convention: ``num_classes`` is the number of real classes and the models predict label
ids ``1..num_classes`` (class ``i`` of the sorted label list is id ``i + 1``); id 0 is the
background. Faster/Mask R-CNN have a background logit by design. RetinaNet has none, so it is
built with ``num_classes + 1`` outputs as well, id 0 never appears in the targets, and its
post-processing drops any id-0 detection: all detectors speak the same ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from automl_nb.errors import ModelError
from automl_nb.models._cfg import DETECTION_TASKS
from automl_nb.models._cfg import SEGMENTATION_TASKS
from automl_nb.models._cfg import ModelCfg
from automl_nb.models._cfg import detection_defaults
from automl_nb.models._registry import register_model
from automl_nb.models._weights import host_reachable
from automl_nb.models._weights import is_offline
from automl_nb.models._weights import torch_hub_file
from automl_nb.models._weights import url_host
from automl_nb.models._weights import weights_unavailable
from automl_nb.tasks import Task

# Azure's resnet_backbone map for layers_to_freeze.
RESNET_BACKBONE_GROUPS: tuple[tuple[str, ...], ...] = (
    ("backbone.body.conv1.", "backbone.body.bn1."),
    ("backbone.body.layer1.",),
    ("backbone.body.layer2.",),
    ("backbone.body.layer3.",),
    ("backbone.body.layer4.",),
)

# Full COCO weights exist for the ResNet-50 detectors; other depths use ImageNet backbones.
_COCO_WEIGHTS = {
    "fasterrcnn": "FasterRCNN_ResNet50_FPN_Weights.COCO_V1",
    "maskrcnn": "MaskRCNN_ResNet50_FPN_Weights.COCO_V1",
    "retinanet": "RetinaNet_ResNet50_FPN_Weights.COCO_V1",
}
_KIND_TITLE = {"fasterrcnn": "Faster R-CNN", "maskrcnn": "Mask R-CNN", "retinanet": "RetinaNet"}


def _weights_name(kind: str, backbone: str) -> str:
    if backbone == "resnet50":
        return _COCO_WEIGHTS[kind]
    return f"ResNet{backbone[6:]}_Weights.IMAGENET1K_V1"


def _detector_cfg(name: str, kind: str, backbone: str, task: Task) -> ModelCfg:
    """The shared cfg builder of every torchvision entry."""
    weights = _weights_name(kind, backbone)
    tasks = SEGMENTATION_TASKS if kind == "maskrcnn" else DETECTION_TASKS
    what = "COCO-trained" if backbone == "resnet50" else "ImageNet backbone"
    return ModelCfg(
        name=name,
        task=task,
        tasks=tasks,
        family="torchvision",
        arch=kind,
        backbone=backbone,
        interpolation="bilinear",
        defaults=detection_defaults(task),
        layer_groups=RESNET_BACKBONE_GROUPS,
        gradcam_layer=None,
        weights=weights,
        weights_source=f"torchvision:{weights}",
        description=f"{_KIND_TITLE[kind]} with {backbone}-FPN (torchvision; {what} weights)",
    )


# --- Azure's curated detection and instance segmentation models ----------------------------


@register_model(tasks=DETECTION_TASKS, family="torchvision")
def fasterrcnn_resnet18_fpn(task: Task) -> ModelCfg:
    """Faster R-CNN over a ResNet-18 FPN backbone."""
    return _detector_cfg("fasterrcnn_resnet18_fpn", "fasterrcnn", "resnet18", task)


@register_model(tasks=DETECTION_TASKS, family="torchvision")
def fasterrcnn_resnet34_fpn(task: Task) -> ModelCfg:
    """Faster R-CNN over a ResNet-34 FPN backbone."""
    return _detector_cfg("fasterrcnn_resnet34_fpn", "fasterrcnn", "resnet34", task)


@register_model(tasks=DETECTION_TASKS, family="torchvision")
def fasterrcnn_resnet50_fpn(task: Task) -> ModelCfg:
    """Faster R-CNN over a ResNet-50 FPN backbone (torchvision's COCO weights)."""
    return _detector_cfg("fasterrcnn_resnet50_fpn", "fasterrcnn", "resnet50", task)


@register_model(tasks=DETECTION_TASKS, family="torchvision")
def fasterrcnn_resnet101_fpn(task: Task) -> ModelCfg:
    """Faster R-CNN over a ResNet-101 FPN backbone."""
    return _detector_cfg("fasterrcnn_resnet101_fpn", "fasterrcnn", "resnet101", task)


@register_model(tasks=DETECTION_TASKS, family="torchvision")
def fasterrcnn_resnet152_fpn(task: Task) -> ModelCfg:
    """Faster R-CNN over a ResNet-152 FPN backbone."""
    return _detector_cfg("fasterrcnn_resnet152_fpn", "fasterrcnn", "resnet152", task)


@register_model(tasks=DETECTION_TASKS, family="torchvision")
def retinanet_resnet50_fpn(task: Task) -> ModelCfg:
    """RetinaNet over a ResNet-50 FPN backbone (torchvision's COCO weights)."""
    return _detector_cfg("retinanet_resnet50_fpn", "retinanet", "resnet50", task)


@register_model(tasks=SEGMENTATION_TASKS, family="torchvision")
def maskrcnn_resnet18_fpn(task: Task) -> ModelCfg:
    """Mask R-CNN over a ResNet-18 FPN backbone."""
    return _detector_cfg("maskrcnn_resnet18_fpn", "maskrcnn", "resnet18", task)


@register_model(tasks=SEGMENTATION_TASKS, family="torchvision")
def maskrcnn_resnet34_fpn(task: Task) -> ModelCfg:
    """Mask R-CNN over a ResNet-34 FPN backbone."""
    return _detector_cfg("maskrcnn_resnet34_fpn", "maskrcnn", "resnet34", task)


@register_model(tasks=SEGMENTATION_TASKS, family="torchvision")
def maskrcnn_resnet50_fpn(task: Task) -> ModelCfg:
    """Mask R-CNN over a ResNet-50 FPN backbone (torchvision's COCO weights)."""
    return _detector_cfg("maskrcnn_resnet50_fpn", "maskrcnn", "resnet50", task)


@register_model(tasks=SEGMENTATION_TASKS, family="torchvision")
def maskrcnn_resnet101_fpn(task: Task) -> ModelCfg:
    """Mask R-CNN over a ResNet-101 FPN backbone."""
    return _detector_cfg("maskrcnn_resnet101_fpn", "maskrcnn", "resnet101", task)


@register_model(tasks=SEGMENTATION_TASKS, family="torchvision")
def maskrcnn_resnet152_fpn(task: Task) -> ModelCfg:
    """Mask R-CNN over a ResNet-152 FPN backbone."""
    return _detector_cfg("maskrcnn_resnet152_fpn", "maskrcnn", "resnet152", task)


# --- the shared builder -------------------------------------------------------------------

# Accepted spellings of the inference settings -> one canonical name.
_ALIASES = {
    "box_score_threshold": "box_score_thresh",
    "nms_iou_threshold": "nms_iou_thresh",
    "box_nms_thresh": "nms_iou_thresh",
    "box_detections_per_image": "box_detections_per_img",
}
# canonical name -> torchvision keyword, per detector kind.
_RCNN_KW = {
    "box_score_thresh": "box_score_thresh",
    "nms_iou_thresh": "box_nms_thresh",
    "box_detections_per_img": "box_detections_per_img",
}
_RETINANET_KW = {
    "box_score_thresh": "score_thresh",
    "nms_iou_thresh": "nms_thresh",
    "box_detections_per_img": "detections_per_img",
}


def _detector_kwargs(cfg: ModelCfg, kwargs: dict[str, Any]) -> dict[str, Any]:
    given = {_ALIASES.get(k, k): v for k, v in kwargs.items()}
    d = cfg.defaults
    settings = {
        "min_size": int(given.pop("min_size", d["min_size"])),
        "max_size": int(given.pop("max_size", d["max_size"])),
        "box_score_thresh": float(given.pop("box_score_thresh", d["box_score_threshold"])),
        "nms_iou_thresh": float(given.pop("nms_iou_thresh", d["nms_iou_threshold"])),
        "box_detections_per_img": int(
            given.pop("box_detections_per_img", d["box_detections_per_image"])
        ),
    }
    names = _RETINANET_KW if cfg.arch == "retinanet" else _RCNN_KW
    out = {names.get(k, k): v for k, v in settings.items()}
    out.update(given)  # any other torchvision keyword (rpn_*, anchor sizes, ...)
    return out


def _fetch_state_dict(cfg: ModelCfg, weights_name: str) -> dict[str, Any]:
    """Weights from torch.hub's cache, downloading once if allowed; a clear error otherwise."""
    from torchvision.models import get_weight

    weights = get_weight(weights_name)
    cached = torch_hub_file(weights.url)
    if not cached.is_file():
        if is_offline():
            raise weights_unavailable(cfg.name, weights_name, cached, "HF_HUB_OFFLINE is set")
        host = url_host(weights.url)
        if not host_reachable(host):
            raise weights_unavailable(cfg.name, weights_name, cached, f"{host} cannot be reached")
    try:
        return weights.get_state_dict(progress=False, check_hash=True)
    except (OSError, RuntimeError) as exc:  # URLError is an OSError; a bad hash a RuntimeError
        raise weights_unavailable(cfg.name, weights_name, cached, exc) from exc


def _read_checkpoint(cfg: ModelCfg, path_like: str) -> dict[str, Any]:
    import torch

    path = Path(path_like).expanduser()
    if not path.is_file():
        raise ModelError(f"checkpoint_path {str(path)!r} does not exist")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a user error
        raise ModelError(
            f"could not read weights for {cfg.name!r} from {str(path)!r}: {exc}"
        ) from exc
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict):
        raise ModelError(f"{str(path)!r} holds no state dict")
    return obj


def _load_matching(model: Any, state: dict[str, Any], cfg: ModelCfg, source: str) -> int:
    """Load the entries of ``state`` whose names and shapes fit; returns how many did.

    A plain ResNet state dict (``conv1.weight``, ...) is loaded into the backbone.
    """
    own = model.state_dict()

    def fitting(prefix: str) -> dict[str, Any]:
        return {
            prefix + k: v
            for k, v in state.items()
            if prefix + k in own and tuple(own[prefix + k].shape) == tuple(v.shape)
        }

    matched = fitting("") or fitting("backbone.body.")
    if not matched:
        raise ModelError(f"no weights in {source} fit {cfg.name!r}")
    model.load_state_dict(matched, strict=False)
    return len(matched)


def _retinanet_class() -> type:
    from torchvision.models.detection import RetinaNet

    class OneBasedRetinaNet(RetinaNet):
        """RetinaNet whose outputs never contain label 0 (background) - see module doc."""

        def postprocess_detections(self, head_outputs, anchors, image_shapes):
            results = super().postprocess_detections(head_outputs, anchors, image_shapes)
            for r in results:
                keep = r["labels"] > 0
                for k in ("boxes", "scores", "labels"):
                    r[k] = r[k][keep]
            return results

    return OneBasedRetinaNet


def _assemble(
    cfg: ModelCfg,
    num_outputs: int,
    *,
    trained: bool,
    trainable: int,
    backbone_weights: Any,
    kw: dict[str, Any],
) -> Any:
    from torch import nn
    from torchvision.models.detection import FasterRCNN
    from torchvision.models.detection import MaskRCNN
    from torchvision.models.detection.backbone_utils import resnet_fpn_backbone
    from torchvision.ops import FrozenBatchNorm2d
    from torchvision.ops.feature_pyramid_network import LastLevelP6P7

    # From scratch: plain BatchNorm and all 5 stages trainable (torchvision's defaults when no
    # weights are given; resnet_fpn_backbone itself would freeze BN and 2 stages).
    norm = FrozenBatchNorm2d if trained else nn.BatchNorm2d
    if cfg.arch == "retinanet":
        backbone = resnet_fpn_backbone(
            backbone_name=cfg.backbone,
            weights=backbone_weights,
            norm_layer=norm,
            trainable_layers=trainable,
            returned_layers=[2, 3, 4],
            extra_blocks=LastLevelP6P7(256, 256),
        )
        return _retinanet_class()(backbone, num_outputs, **kw)
    backbone = resnet_fpn_backbone(
        backbone_name=cfg.backbone,
        weights=backbone_weights,
        norm_layer=norm,
        trainable_layers=trainable,
    )
    builder = MaskRCNN if cfg.arch == "maskrcnn" else FasterRCNN
    return builder(backbone, num_outputs, **kw)


def _reset_heads(model: Any, cfg: ModelCfg, num_outputs: int) -> None:
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor
    from torchvision.models.detection.mask_rcnn import MaskRCNNPredictor
    from torchvision.models.detection.retinanet import RetinaNetClassificationHead

    if cfg.arch == "retinanet":
        old = model.head.classification_head
        if old.num_classes == num_outputs:
            return
        anchors = model.anchor_generator.num_anchors_per_location()[0]
        model.head.classification_head = RetinaNetClassificationHead(
            old.conv[0][0].in_channels, anchors, num_outputs
        )
        return
    box = model.roi_heads.box_predictor
    if box.cls_score.out_features != num_outputs:
        model.roi_heads.box_predictor = FastRCNNPredictor(box.cls_score.in_features, num_outputs)
    if cfg.arch == "maskrcnn":
        mask = model.roi_heads.mask_predictor
        if mask.mask_fcn_logits.out_channels != num_outputs:
            model.roi_heads.mask_predictor = MaskRCNNPredictor(
                mask.conv5_mask.in_channels, mask.conv5_mask.out_channels, num_outputs
            )


def build_detector(
    cfg: ModelCfg,
    *,
    num_classes: int,
    pretrained: bool,
    checkpoint_path: str | None = None,
    **kwargs: Any,
) -> Any:
    """Build any torchvision entry with ``num_classes`` real classes (ids ``1..num_classes``).

    With ``pretrained``, ResNet-50 detectors start from torchvision's COCO weights (heads
    re-initialised for ``num_classes``) and other depths from ImageNet backbone weights; the
    backbone then uses frozen BatchNorm and, by default, 3 trainable stages as in torchvision.
    From scratch, BatchNorm is trainable and all 5 stages train.
    """
    from torchvision.models import get_weight

    kw = _detector_kwargs(cfg, kwargs)
    trained = pretrained or checkpoint_path is not None
    trainable = int(kw.pop("trainable_backbone_layers", 3 if trained else 5))
    if not 0 <= trainable <= 5:
        raise ModelError(f"trainable_backbone_layers must be in 0..5 (got {trainable})")
    num_outputs = num_classes + 1  # + background (RetinaNet: an unused id 0, see module doc)

    full_state: dict[str, Any] | None = None
    backbone_weights = None
    if checkpoint_path is None and pretrained:
        assert cfg.weights is not None and cfg.backbone is not None
        state = _fetch_state_dict(cfg, cfg.weights)
        if cfg.weights.startswith("ResNet"):
            # resnet_fpn_backbone loads these from the cache it was just downloaded into.
            backbone_weights = get_weight(cfg.weights)
        else:
            full_state = state

    if full_state is not None:
        # Build the COCO-shaped model (91 ids) so every COCO weight loads, then swap the heads.
        coco = len(get_weight(str(cfg.weights)).meta["categories"])
        model = _assemble(
            cfg, coco, trained=True, trainable=trainable, backbone_weights=None, kw=kw
        )
        model.load_state_dict(full_state)
        from torchvision.ops import FrozenBatchNorm2d

        for module in model.modules():  # as torchvision does for its COCO_V1 weights
            if isinstance(module, FrozenBatchNorm2d):
                module.eps = 0.0
        _reset_heads(model, cfg, num_outputs)
    else:
        model = _assemble(
            cfg,
            num_outputs,
            trained=trained,
            trainable=trainable,
            backbone_weights=backbone_weights,
            kw=kw,
        )
    if checkpoint_path is not None:
        _load_matching(model, _read_checkpoint(cfg, checkpoint_path), cfg, str(checkpoint_path))
    return model
