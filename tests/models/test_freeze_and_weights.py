"""layers_to_freeze maps, pretrained weights (offline, local files) and detector settings."""

from __future__ import annotations

import time

import pytest
import timm
import torch

from automl_nb.errors import ModelError
from automl_nb.models import create_model
from automl_nb.models import freeze_layers
from automl_nb.models import get_model_cfg
from automl_nb.models import resolve_layer
from automl_nb.tasks import Task


@pytest.fixture()
def empty_caches(tmp_path, monkeypatch):
    """Point the Hugging Face and torch.hub caches at an empty folder."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    return tmp_path


def _classifier(name: str, **kwargs):
    cfg = get_model_cfg(name, Task.CLASSIFICATION)
    return cfg, create_model(name, task=cfg.task, num_classes=3, pretrained=False, **kwargs)


def _check_groups_partition(model, cfg) -> None:
    """Every map entry matches parameters, entries are disjoint, only the head is left out."""
    names = [n for n, _ in model.named_parameters()]
    seen: set[str] = set()
    for group in cfg.layer_groups:
        hits = {n for n in names if n.startswith(group)}
        assert hits, f"{group} matches no parameter"
        assert not hits & seen, f"{group} overlaps an earlier entry"
        seen |= hits
    return set(names) - seen


def test_resnet_map_freezes_stem_then_stages() -> None:
    cfg, model = _classifier("resnet18")
    assert _check_groups_partition(model, cfg) == {"fc.weight", "fc.bias"}
    frozen = freeze_layers(model, cfg, 2)
    assert frozen[:3] == ["conv1.weight", "bn1.weight", "bn1.bias"]
    assert all(n.startswith(("conv1.", "bn1.", "layer1.")) for n in frozen)
    assert any(n.startswith("layer1.") for n in frozen)
    for name, p in model.named_parameters():
        assert p.requires_grad == (name not in frozen)


def test_mobilenetv2_map_uses_timm_module_names() -> None:
    cfg, model = _classifier("mobilenetv2")
    # Azure's features.0 .. features.18 are 19 entries.
    assert len(cfg.layer_groups) == 19
    assert cfg.layer_groups[0] == ("conv_stem.", "bn1.")
    assert cfg.layer_groups[-1] == ("conv_head.", "bn2.")
    left = _check_groups_partition(model, cfg)
    assert left == {"classifier.weight", "classifier.bias"}
    frozen = freeze_layers(model, cfg, 19)
    assert len(frozen) == len(list(model.parameters())) - 2
    assert cfg.gradcam_layer == "bn2" and isinstance(model.get_submodule("bn2"), torch.nn.Module)


@pytest.mark.parametrize("name", ["seresnext", "resnest50"])
def test_resnet_like_maps(name: str) -> None:
    cfg = get_model_cfg(name, Task.CLASSIFICATION)
    with torch.device("meta"):
        model = timm.create_model(cfg.arch, num_classes=3)
    assert _check_groups_partition(model, cfg) == {"fc.weight", "fc.bias"}


def test_vit_map_freezes_patch_embedding_and_blocks() -> None:
    cfg, model = _classifier("vits16r224", img_size=32)
    assert len(cfg.layer_groups) == 13
    left = _check_groups_partition(model, cfg)
    assert left == {"norm.weight", "norm.bias", "head.weight", "head.bias"}
    frozen = freeze_layers(model, cfg, 1)
    assert {"cls_token", "pos_embed", "patch_embed.proj.weight"} <= set(frozen)
    assert not any(n.startswith("blocks.") for n in frozen)
    assert cfg.gradcam_layer == "blocks.-1.norm1"
    assert isinstance(model.blocks[-1].norm1, torch.nn.LayerNorm)


def test_vit_large_map_has_all_24_blocks() -> None:
    cfg = get_model_cfg("vitl16r224", Task.CLASSIFICATION)
    assert cfg.layer_groups[-1] == ("blocks.23.",) and len(cfg.layer_groups) == 25


def test_detector_map_freezes_the_backbone_body_only() -> None:
    cfg = get_model_cfg("fasterrcnn_resnet18_fpn", Task.OBJECT_DETECTION)
    model = create_model(cfg.name, task=cfg.task, num_classes=2, pretrained=False)
    assert all(p.requires_grad for p in model.parameters())  # from scratch: all 5 stages train
    frozen = freeze_layers(model, cfg, 5)
    body = [n for n, _ in model.named_parameters() if n.startswith("backbone.body.")]
    assert sorted(frozen) == sorted(body)
    assert model.backbone.fpn.inner_blocks[0][0].weight.requires_grad
    with pytest.raises(ModelError, match=r"0\.\.5"):
        freeze_layers(model, cfg, 6)


def test_detector_from_scratch_uses_plain_batchnorm() -> None:
    model = create_model(
        "maskrcnn_resnet18_fpn", task=Task.INSTANCE_SEGMENTATION, num_classes=3, pretrained=False
    )
    assert isinstance(model.backbone.body.bn1, torch.nn.BatchNorm2d)
    assert model.roi_heads.box_predictor.cls_score.out_features == 4  # 3 classes + background
    assert model.roi_heads.mask_predictor.mask_fcn_logits.out_channels == 4


def test_detector_settings_defaults_and_aliases() -> None:
    model = create_model(
        "fasterrcnn_resnet18_fpn", task=Task.OBJECT_DETECTION, num_classes=2, pretrained=False
    )
    assert model.roi_heads.score_thresh == 0.3 and model.roi_heads.nms_thresh == 0.5
    assert model.roi_heads.detections_per_img == 100
    assert model.transform.min_size == (600,) and model.transform.max_size == 1333
    model = create_model(
        "fasterrcnn_resnet18_fpn",
        task=Task.OBJECT_DETECTION,
        num_classes=2,
        pretrained=False,
        min_size=320,
        box_score_threshold=0.6,
        nms_iou_thresh=0.4,
        box_detections_per_img=7,
        max_size=None,  # "not set" keeps the default
    )
    assert model.roi_heads.score_thresh == 0.6 and model.roi_heads.nms_thresh == 0.4
    assert model.roi_heads.detections_per_img == 7 and model.transform.min_size == (320,)
    assert model.transform.max_size == 1333
    retina = create_model(
        "retinanet_resnet50_fpn",
        task=Task.OBJECT_DETECTION,
        num_classes=2,
        pretrained=False,
        box_score_thresh=0.25,
        nms_iou_threshold=0.45,
        box_detections_per_image=9,
    )
    assert (retina.score_thresh, retina.nms_thresh, retina.detections_per_img) == (0.25, 0.45, 9)


@torch.no_grad()
def test_retinanet_labels_are_one_based() -> None:
    model = create_model(
        "retinanet_resnet50_fpn",
        task=Task.OBJECT_DETECTION,
        num_classes=2,
        pretrained=False,
        min_size=64,
        max_size=64,
    ).eval()
    head = model.head.classification_head
    assert head.num_classes == 3
    bias = head.cls_logits.bias
    # Make id 0 (the unused background slot) the most confident class everywhere: none of it
    # may come out.
    bias.copy_(torch.tensor([8.0, -8.0, -8.0]).repeat(bias.numel() // 3))
    out = model([torch.rand(3, 64, 64)])[0]
    assert out["labels"].numel() == 0
    bias.copy_(torch.tensor([-8.0, -8.0, 8.0]).repeat(bias.numel() // 3))
    out = model([torch.rand(3, 64, 64)])[0]
    assert out["labels"].numel() > 0 and set(out["labels"].tolist()) == {2}


def test_pretrained_timm_offline_fails_fast_and_says_how_to_go_on(empty_caches) -> None:
    start = time.perf_counter()
    with pytest.raises(ModelError) as info:
        create_model("resnet18", task=Task.CLASSIFICATION, num_classes=3, pretrained=True)
    assert time.perf_counter() - start < 10
    text = str(info.value)
    assert "could not be downloaded" in text and "resnet18.a1_in1k" in text
    assert '"use_pretrained": false' in text and "checkpoint_path" in text
    assert str(empty_caches / "hf") in text


def test_pretrained_detector_offline_fails_fast(empty_caches) -> None:
    start = time.perf_counter()
    with pytest.raises(ModelError, match="use_pretrained") as info:
        create_model(
            "fasterrcnn_resnet50_fpn", task=Task.OBJECT_DETECTION, num_classes=2, pretrained=True
        )
    assert time.perf_counter() - start < 10
    assert "COCO_V1" in str(info.value) and str(empty_caches / "torch") in str(info.value)
    with pytest.raises(ModelError, match="could not be downloaded"):
        create_model(
            "maskrcnn_resnet18_fpn",
            task=Task.INSTANCE_SEGMENTATION,
            num_classes=2,
            pretrained=True,
        )


def test_timm_weights_from_a_local_file(tmp_path) -> None:
    source = timm.create_model("resnet18", pretrained=False)
    path = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), path)
    model = create_model(
        "resnet18", task=Task.CLASSIFICATION, num_classes=3, checkpoint_path=str(path)
    )
    assert torch.equal(model.conv1.weight, source.conv1.weight)
    assert model.fc.out_features == 3
    via_overlay = create_model(
        "resnet18",
        task=Task.CLASSIFICATION,
        num_classes=3,
        pretrained_cfg_overlay={"file": str(path)},
    )
    assert torch.equal(via_overlay.layer4[0].conv1.weight, source.layer4[0].conv1.weight)
    with pytest.raises(ModelError, match="does not exist"):
        create_model(
            "resnet18", task=Task.CLASSIFICATION, num_classes=3, checkpoint_path="nope.pth"
        )


def test_detector_weights_from_a_local_file(tmp_path) -> None:
    task = Task.OBJECT_DETECTION
    source = create_model("fasterrcnn_resnet18_fpn", task=task, num_classes=5, pretrained=False)
    path = tmp_path / "model.pt"
    torch.save({"state_dict": source.state_dict()}, path)
    model = create_model(
        "fasterrcnn_resnet18_fpn", task=task, num_classes=2, checkpoint_path=str(path)
    )
    assert torch.equal(model.backbone.body.conv1.weight, source.backbone.body.conv1.weight)
    assert model.roi_heads.box_predictor.cls_score.out_features == 3  # head re-initialised
    # A plain ImageNet ResNet state dict loads into the backbone.
    import torchvision

    resnet = torchvision.models.resnet18()
    torch.save(resnet.state_dict(), path)
    model = create_model(
        "fasterrcnn_resnet18_fpn", task=task, num_classes=2, checkpoint_path=str(path)
    )
    assert torch.equal(model.backbone.body.layer1[0].conv1.weight, resnet.layer1[0].conv1.weight)


@pytest.mark.parametrize(
    "name", ["mobilenetv2", "resnet50", "seresnext", "vitl16r224", "convnext_tiny"]
)
def test_gradcam_layer_resolves_to_the_last_feature_block(name: str) -> None:
    cfg = get_model_cfg(name, Task.CLASSIFICATION)
    with torch.device("meta"):
        model = timm.create_model(cfg.arch, num_classes=3)
    layer = resolve_layer(model, cfg.gradcam_layer)
    assert isinstance(layer, torch.nn.Module)
    if cfg.vit_tokens:
        assert layer is model.blocks[-1].norm1 and cfg.num_prefix_tokens == 1
    with pytest.raises(ModelError, match="no layer"):
        resolve_layer(model, "no_such.layer")


def test_unreachable_hub_fails_fast_without_offline_flag(empty_caches, monkeypatch) -> None:
    import huggingface_hub.constants

    monkeypatch.delenv("HF_HUB_OFFLINE")
    # Nothing listens on 127.0.0.1:443 here, so the Hub counts as unreachable.
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "https://127.0.0.1")
    start = time.perf_counter()
    with pytest.raises(ModelError, match="use_pretrained.*127.0.0.1 cannot be reached"):
        create_model("resnet18", task=Task.CLASSIFICATION, num_classes=3, pretrained=True)
    assert time.perf_counter() - start < 10
