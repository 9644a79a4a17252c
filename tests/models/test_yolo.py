"""yolov5: network shapes per model_size, the detector interface, letterbox round trip, loss."""

from __future__ import annotations

import pytest
import torch

from automl_nb.errors import ModelError
from automl_nb.models import create_model
from automl_nb.models import freeze_layers
from automl_nb.models import get_model_cfg
from automl_nb.models import list_models
from automl_nb.models.yolo._postprocess import letterbox
from automl_nb.models.yolo._postprocess import select_detections

TASK = "image_object_detection"
# P3/P4/P5 channels of each size (YOLOv5's widths).
CHANNELS = {
    "small": (128, 256, 512),
    "medium": (192, 384, 768),
    "large": (256, 512, 1024),
    "extra_large": (320, 640, 1280),
}


def _model(size: str = "small", num_classes: int = 3, **kwargs):
    torch.manual_seed(0)
    return create_model(
        "yolov5", task=TASK, num_classes=num_classes, pretrained=False, model_size=size, **kwargs
    )


def _targets():
    return [
        {"boxes": torch.tensor([[10.0, 12.0, 60.0, 70.0]]), "labels": torch.tensor([1])},
        {
            "boxes": torch.tensor([[5.0, 5.0, 40.0, 30.0], [50.0, 40.0, 90.0, 70.0]]),
            "labels": torch.tensor([2, 3]),
        },
    ]


def test_listed_with_azure_defaults():
    assert "yolov5" in list_models(TASK)
    cfg = get_model_cfg("yolov5", TASK)
    d = cfg.defaults
    assert (d["image_size"], d["model_size"], d["training_batch_size"]) == (640, "medium", 16)
    assert (d["learning_rate"], d["number_of_epochs"]) == (0.01, 30)
    assert (d["box_score_threshold"], d["nms_iou_threshold"]) == (0.1, 0.5)


@pytest.mark.parametrize("size", list(CHANNELS))
def test_head_shapes_per_model_size(size):
    model = _model(size, num_classes=4, img_size=64).eval()
    with torch.no_grad():
        raw = model.network(torch.rand(2, 3, 64, 96))
    assert [tuple(r.shape) for r in raw] == [
        (2, 3, 8, 12, 9),
        (2, 3, 4, 6, 9),
        (2, 3, 2, 3, 9),
    ]
    assert tuple(c.in_channels for c in model.head.convs) == CHANNELS[size]


def test_layers_to_freeze_map_names_the_ten_backbone_entries():
    model = _model()
    cfg = get_model_cfg("yolov5", TASK)
    names = [n for n, _ in model.named_parameters()]
    for (prefix,) in cfg.layer_groups:
        assert any(n.startswith(prefix) for n in names), prefix
    frozen = freeze_layers(model, cfg, 10)
    assert frozen and all(n.startswith("model.") for n in frozen)
    assert all(p.requires_grad for n, p in model.named_parameters() if n.startswith("neck."))


def test_train_mode_returns_finite_losses_and_needs_targets():
    model = _model(img_size=96).train()
    images = [torch.rand(3, 80, 100), torch.rand(3, 90, 70)]
    losses = model(images, _targets())
    assert set(losses) == {"loss_box", "loss_obj", "loss_cls"}
    total = sum(losses.values())
    assert torch.isfinite(total) and total > 0
    total.backward()
    assert model.head.convs[0].weight.grad is not None
    with pytest.raises(ValueError, match="targets"):
        model(images)


def test_images_without_boxes_train():
    model = _model(img_size=64).train()
    empty = {"boxes": torch.zeros((0, 4)), "labels": torch.zeros((0,), dtype=torch.int64)}
    losses = model([torch.rand(3, 64, 64)] * 2, [empty, empty])
    assert losses["loss_box"] == 0 and losses["loss_obj"] > 0


def test_eval_mode_speaks_the_torchvision_interface():
    model = _model(img_size=96, box_score_thresh=0.0).eval()
    images = [torch.rand(3, 80, 100), torch.rand(3, 150, 60)]
    with torch.no_grad():
        outputs = model(images)
    assert len(outputs) == 2
    for out, image in zip(outputs, images):
        assert set(out) == {"boxes", "labels", "scores"}
        n = len(out["scores"])
        assert 0 < n <= 100 and out["boxes"].shape == (n, 4)
        assert out["labels"].dtype == torch.int64
        assert int(out["labels"].min()) >= 1 and int(out["labels"].max()) <= 3
        assert bool((out["scores"] >= 0).all() and (out["scores"] <= 1).all())
        h, w = image.shape[-2:]
        assert float(out["boxes"][:, 2].max()) <= w and float(out["boxes"][:, 3].max()) <= h
    model.score_thresh = 1.0
    with torch.no_grad():
        assert all(len(o["boxes"]) == 0 for o in model(images))


def test_letterbox_pads_to_32_and_keeps_the_aspect_ratio():
    image = torch.rand(3, 100, 200)
    batch, scales = letterbox([image, torch.rand(3, 30, 60)], 160)
    assert tuple(batch.shape) == (2, 3, 96, 160)  # both 80 x 160, padded to 96 rows
    assert scales == pytest.approx([0.8, 160 / 60])
    assert torch.allclose(batch[0, :, 40, 100], image[:, 50, 125], atol=0.2)
    assert torch.allclose(batch[:, :, 80:, :], torch.full((2, 3, 16, 160), 114 / 255))


def test_boxes_map_back_to_input_coordinates():
    """A detection in letterbox pixels comes back in the input image's pixels."""
    image_box = torch.tensor([20.0, 30.0, 120.0, 90.0])
    scale = 0.8  # a 100 x 200 image letterboxed to 160
    decoded = torch.zeros(1, 2, 5 + 3)
    decoded[0, 0, :4] = image_box * scale
    decoded[0, 0, 4] = 0.9  # objectness
    decoded[0, 0, 5 + 2] = 0.5  # class 3
    decoded[0, 1, :4] = torch.tensor([150.0, 70.0, 400.0, 300.0])  # crosses the border
    decoded[0, 1, 4] = 0.8
    decoded[0, 1, 5] = 0.9
    (out,) = select_detections(decoded, [scale], [(100, 200)], 0.1, 0.5, 100)
    assert out["labels"].tolist() == [1, 3]
    assert torch.allclose(out["boxes"][1], image_box)
    assert out["scores"].tolist() == pytest.approx([0.72, 0.45])
    assert out["boxes"][0].tolist() == pytest.approx([187.5, 87.5, 200.0, 100.0])


def test_loss_decreases_on_a_tiny_set():
    model = _model(num_classes=3, img_size=96).train()
    images = [torch.rand(3, 96, 96) * 0.2 for _ in range(2)]
    targets = _targets()
    for image, target in zip(images, targets):
        for x0, y0, x1, y1 in target["boxes"].int().tolist():
            image[:, y0:y1, x0:x1] = 0.9
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    history = []
    for _ in range(12):
        loss = sum(model(images, targets).values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(float(loss.detach()))
    assert min(history[-3:]) < 0.6 * history[0]


def test_multi_scale_trains_at_other_sizes():
    model = _model(img_size=64, multi_scale=True).train()
    sizes = {model._train_size() for _ in range(40)}
    assert len(sizes) > 2 and all(s % 32 == 0 and 32 <= s <= 96 for s in sizes)


def test_bad_model_size_and_unknown_keyword():
    with pytest.raises(ModelError, match="did you mean 'small'"):
        _model("smal")
    with pytest.raises(ModelError, match="min_size"):
        _model(min_size=600)


def test_pretrained_weights_offline_give_the_usual_error(monkeypatch):
    from automl_nb.models._weights import hf_cache_dir

    if hf_cache_dir("timm/cs3darknet_focus_s.ra4_e3600_r256_in1k").exists():
        pytest.skip("the backbone weights are cached here")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="use_pretrained"):
        create_model("yolov5", task=TASK, num_classes=2, pretrained=True, model_size="small")
