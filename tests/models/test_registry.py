"""Every registered model builds from scratch and takes one forward and backward step."""

from __future__ import annotations

import pytest
import timm
import torch

from automl_nb.errors import ModelError
from automl_nb.models import ModelCfg
from automl_nb.models import create_model
from automl_nb.models import default_model
from automl_nb.models import get_model_cfg
from automl_nb.models import get_model_defaults
from automl_nb.models import is_model
from automl_nb.models import list_models
from automl_nb.models import registered_names
from automl_nb.models._registry import _REGISTRY
from automl_nb.tasks import Task

AZURE_NAMES = [
    "mobilenetv2",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnest50",
    "resnest101",
    "seresnext",
    "vits16r224",
    "vitb16r224",
    "vitl16r224",
    *(f"fasterrcnn_resnet{d}_fpn" for d in (18, 34, 50, 101, 152)),
    "retinanet_resnet50_fpn",
    *(f"maskrcnn_resnet{d}_fpn" for d in (18, 34, 50, 101, 152)),
    "yolov5",
]

# Size rule for the build test: more than 100 M parameters (ViT-L) or a ResNet-152 backbone
# (the depth-101 siblings run the same code) only get their cfg checked.
MAX_PARAMS = 100_000_000
# Models fast enough for the default run; the rest are marked slow.
FAST = {
    "mobilenetv2",
    "resnet18",
    "vits16r224",
    "fasterrcnn_resnet18_fpn",
    "retinanet_resnet50_fpn",
    "maskrcnn_resnet18_fpn",
}


def _param_count(cfg: ModelCfg) -> int:
    if cfg.family != "timm":
        return 0
    with torch.device("meta"):
        model = timm.create_model(cfg.arch, pretrained=False)
    return sum(p.numel() for p in model.parameters())


def _too_big(name: str, cfg: ModelCfg) -> bool:
    return "152" in name or _param_count(cfg) > MAX_PARAMS


def _build_cases() -> list:
    cases = []
    for name in registered_names(include_unavailable=False):
        marks = [] if name in FAST else [pytest.mark.slow]
        cases.append(pytest.param(name, marks=marks, id=name))
    return cases


def test_every_azure_name_is_registered_with_its_tasks() -> None:
    names = registered_names(include_unavailable=False)
    assert names == AZURE_NAMES
    assert list_models(Task.INSTANCE_SEGMENTATION) == [n for n in AZURE_NAMES if "mask" in n]
    detection = list_models(Task.OBJECT_DETECTION)
    assert detection == [
        n for n in AZURE_NAMES if "fasterrcnn" in n or "retinanet" in n or "yolo" in n
    ]
    assert list_models(Task.CLASSIFICATION)[:12] == AZURE_NAMES[:12]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", _build_cases())
def test_registered_model_forward_backward(name: str) -> None:
    task = _REGISTRY.get(name).tasks[0]
    cfg = get_model_cfg(name, task)
    assert cfg.name == name and cfg.task is task and cfg.available
    if _too_big(name, cfg):
        pytest.skip("above the size rule; cfg checked only")
    torch.manual_seed(0)
    if task.is_classification:
        kwargs = {"img_size": 32} if cfg.fixed_input_size else {}
        model = create_model(name, task=task, num_classes=3, pretrained=False, **kwargs)
        model.train()
        logits = model(torch.randn(2, 3, 32, 32))
        assert logits.shape == (2, 3) and torch.isfinite(logits).all()
        logits.logsumexp(1).mean().backward()
    else:
        sizes = {"img_size": 64} if cfg.family == "yolo" else {"min_size": 64, "max_size": 96}
        model = create_model(name, task=task, num_classes=2, pretrained=False, **sizes)
        model.train()
        target = {"boxes": torch.tensor([[4.0, 6.0, 40.0, 50.0]]), "labels": torch.tensor([2])}
        if task is Task.INSTANCE_SEGMENTATION:
            mask = torch.zeros(1, 64, 64, dtype=torch.uint8)
            mask[0, 6:50, 4:40] = 1
            target["masks"] = mask
        losses = model([torch.rand(3, 64, 64)], [target])
        loss = sum(losses.values())
        assert torch.isfinite(loss)
        loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("name", ["vitl16r224", "resnet152", "fasterrcnn_resnet152_fpn"])
def test_huge_models_resolve_their_cfg(name: str) -> None:
    task = _REGISTRY.get(name).tasks[0]
    cfg = get_model_cfg(name, task)
    assert cfg.layer_groups and cfg.defaults["training_batch_size"] >= 2
    assert cfg.to_dict()["name"] == name


def test_normalisation_comes_from_timm_pretrained_cfg() -> None:
    for name in list_models(Task.CLASSIFICATION):
        cfg = get_model_cfg(name, Task.CLASSIFICATION)
        pcfg = timm.models.get_pretrained_cfg(cfg.arch)
        assert cfg.mean == tuple(pcfg.mean) and cfg.std == tuple(pcfg.std)
        assert cfg.input_size == tuple(pcfg.input_size)
        assert cfg.interpolation == pcfg.interpolation
    vit = get_model_cfg("vitb16r224", Task.CLASSIFICATION)
    assert vit.mean == (0.5, 0.5, 0.5) and vit.std == (0.5, 0.5, 0.5)
    assert vit.fixed_input_size and vit.vit_tokens and vit.num_prefix_tokens == 1
    cnn = get_model_cfg("resnet50", Task.CLASSIFICATION)
    assert cnn.mean == pytest.approx((0.485, 0.456, 0.406))
    assert not cnn.fixed_input_size and cnn.gradcam_layer == "layer4"
    assert get_model_cfg("mobilenetv2", Task.CLASSIFICATION).arch == "mobilenetv2_100"
    assert get_model_cfg("resnest101", Task.CLASSIFICATION).arch == "resnest101e"


@pytest.mark.parametrize(
    ("name", "task", "batch", "valid_batch", "lr"),
    [
        ("seresnext", Task.CLASSIFICATION, 78, 78, 0.01),
        ("seresnext", Task.CLASSIFICATION_MULTILABEL, 78, 78, 0.035),
        ("vits16r224", Task.CLASSIFICATION, 128, 128, 0.0125),
        ("vitb16r224", Task.CLASSIFICATION_MULTILABEL, 48, 48, 0.025),
        ("vitl16r224", Task.CLASSIFICATION, 10, 10, 0.001),
        ("vitl16r224", Task.CLASSIFICATION_MULTILABEL, 10, 10, 0.002),
        ("fasterrcnn_resnet50_fpn", Task.OBJECT_DETECTION, 2, 1, 0.005),
        ("maskrcnn_resnet50_fpn", Task.INSTANCE_SEGMENTATION, 2, 1, 0.005),
    ],
)
def test_per_model_defaults_follow_the_reference(name, task, batch, valid_batch, lr) -> None:
    d = get_model_defaults(name, task)
    assert d["training_batch_size"] == batch
    assert d["validation_batch_size"] == valid_batch
    assert d["learning_rate"] == lr
    if task.is_classification:
        assert (d["validation_resize_size"], d["validation_crop_size"]) == (256, 224)
        assert d["training_crop_size"] == 224
    else:
        assert (d["min_size"], d["max_size"], d["box_score_threshold"]) == (600, 1333, 0.3)
        assert (d["nms_iou_threshold"], d["box_detections_per_image"]) == (0.5, 100)


def test_default_models() -> None:
    assert default_model("image_classification") == "vitb16r224"
    assert default_model(Task.CLASSIFICATION_MULTILABEL) == "vitb16r224"
    assert default_model(Task.OBJECT_DETECTION) == "yolov5"
    assert default_model(Task.INSTANCE_SEGMENTATION) == "maskrcnn_resnet50_fpn"


def test_yolov5_is_available_with_its_azure_thresholds() -> None:
    cfg = get_model_cfg("yolov5", Task.OBJECT_DETECTION)
    assert cfg.available and cfg.defaults["box_score_threshold"] == 0.1
    model = create_model("yolov5", task=Task.OBJECT_DETECTION, num_classes=2, pretrained=False)
    assert (model.img_size, model.score_thresh, model.nms_thresh) == (640, 0.1, 0.5)


@pytest.mark.parametrize(
    ("name", "task", "suggestion"),
    [
        ("resnet_50", Task.CLASSIFICATION, "resnet50"),
        ("vitb16r22", Task.CLASSIFICATION, "vitb16r224"),
        ("fasterrcnn_resnet50", Task.OBJECT_DETECTION, "fasterrcnn_resnet50_fpn"),
        ("mask_rcnn_resnet50_fpn", Task.INSTANCE_SEGMENTATION, "maskrcnn_resnet50_fpn"),
    ],
)
def test_unknown_name_lists_nearest_names(name, task, suggestion) -> None:
    with pytest.raises(ModelError, match="unknown model_name") as info:
        create_model(name, task=task, num_classes=2, pretrained=False)
    assert repr(suggestion) in str(info.value)
    assert not is_model(name)


def test_model_for_another_task_is_refused() -> None:
    with pytest.raises(ModelError, match="fasterrcnn_resnet50_fpn"):
        get_model_cfg("resnet50", Task.OBJECT_DETECTION)
    with pytest.raises(ModelError, match="not image_classification"):
        get_model_cfg("maskrcnn_resnet50_fpn", Task.CLASSIFICATION)


def test_any_timm_name_works_for_classification() -> None:
    name = "efficientnet_b0"
    assert is_model(name) and name not in registered_names()
    cfg = get_model_cfg(name, Task.CLASSIFICATION_MULTILABEL)
    pcfg = timm.models.get_pretrained_cfg(name)
    assert cfg.family == "timm" and cfg.mean == tuple(pcfg.mean)
    assert cfg.defaults["learning_rate"] == 0.035
    assert cfg.layer_groups[0] == ("conv_stem.", "bn1.")
    assert cfg.gradcam_layer == "blocks.6"
    model = create_model(name, task=Task.CLASSIFICATION, num_classes=5, pretrained=False)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 5)
    # A timm ViT gets the token reshape flag from its own attributes.
    deit = get_model_cfg("deit_tiny_patch16_224", Task.CLASSIFICATION)
    assert deit.vit_tokens and deit.num_prefix_tokens == 1


def test_list_models_pattern_puts_azure_names_first() -> None:
    names = list_models(Task.CLASSIFICATION, "resnet1*")
    assert names[:2] == ["resnet18", "resnet101"]
    assert "resnet10t" in names and len(names) == len(set(names))
    assert list_models(pattern="*rcnn_resnet50*") == [
        "fasterrcnn_resnet50_fpn",
        "maskrcnn_resnet50_fpn",
    ]
    assert list_models(Task.OBJECT_DETECTION, "resnet*") == []
