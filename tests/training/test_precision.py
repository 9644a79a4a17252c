"""advanced_settings.precision: validated at the boundary, resolved per device and model, and
what the training step and evaluation actually run in."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from automl_nb.errors import ConfigError
from automl_nb.models import create_model
from automl_nb.tasks import Task
from automl_nb.testing.configs import trial_config
from automl_nb.training import engine
from automl_nb.training._precision import autocast_dtype
from automl_nb.training._precision import cpu_has_native_bf16

CLASSIFICATION = Task.CLASSIFICATION
DETECTION = Task.OBJECT_DETECTION


def test_the_setting_defaults_to_auto_and_takes_the_dtype_names() -> None:
    assert trial_config().advanced_settings.precision == "auto"
    cfg = trial_config(advanced_settings={"precision": "BFloat16"})
    assert cfg.advanced_settings.precision == "bf16"
    assert cfg.to_dict()["advanced_settings"]["precision"] == "bf16"


def test_an_unknown_precision_is_a_config_error_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"precision.*one of: auto, fp32, bf16, fp16"):
        trial_config(advanced_settings={"precision": "int8"})


def test_auto_is_bf16_on_a_native_bf16_cpu_for_classifiers_and_yolo_only() -> None:
    native = torch.bfloat16 if cpu_has_native_bf16() else None
    assert autocast_dtype("auto", "cpu", task=CLASSIFICATION, family="timm") == native
    assert autocast_dtype("auto", "cpu", task=DETECTION, family="yolo") == native
    # torchvision's detectors decode boxes in the autocast dtype: they stay fp32.
    assert autocast_dtype("auto", "cpu", task=DETECTION, family="torchvision") is None
    assert autocast_dtype("auto", "cuda", task=DETECTION, family="torchvision") == torch.float16


def test_explicit_precisions_and_fp16_off_cuda() -> None:
    assert autocast_dtype("fp32", "cpu", task=CLASSIFICATION, family="timm") is None
    bf16 = autocast_dtype("bf16", "cpu", task=DETECTION, family="torchvision")
    assert bf16 == torch.bfloat16
    assert autocast_dtype("fp16", "cuda", task=CLASSIFICATION, family="timm") == torch.float16
    with pytest.raises(ConfigError, match="'fp16' needs a CUDA GPU"):
        autocast_dtype("fp16", "cpu", task=CLASSIFICATION, family="timm")


def _conv_output_dtypes(model: torch.nn.Module) -> list[torch.dtype]:
    seen: list[torch.dtype] = []
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    return seen


@pytest.mark.parametrize("precision", [None, torch.bfloat16])
def test_the_training_step_runs_in_the_precision_and_keeps_fp32_weights(
    precision: Any,
) -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()
    )
    seen = _conv_output_dtypes(model)
    before = [p.detach().clone() for p in model.parameters()]
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [(torch.rand(2, 3, 8, 8), torch.tensor([0, 3]))]
    result = engine.train_one_epoch(model, batches, optimizer, device="cpu", precision=precision)
    assert seen == [precision or torch.float32]
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert result.steps == 1


def test_yolov5_heads_give_fp32_outputs_and_losses_under_bf16() -> None:
    torch.manual_seed(0)
    model = create_model(
        "yolov5",
        task=DETECTION,
        num_classes=2,
        pretrained=False,
        model_size="small",
        img_size=64,
    )
    seen = _conv_output_dtypes(model)
    images = [torch.rand(3, 64, 64), torch.rand(3, 48, 64)]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        raw = model.network(torch.rand(2, 3, 64, 64))
        model.train()
        targets = [
            {"boxes": torch.tensor([[4.0, 6.0, 40.0, 50.0]]), "labels": torch.tensor([1])},
            {"boxes": torch.tensor([[10.0, 8.0, 30.0, 40.0]]), "labels": torch.tensor([2])},
        ]
        losses = model(images, targets)
        model.eval()
        detections = model(images)
    assert torch.bfloat16 in seen  # the convolutions ran in bf16...
    assert {level.dtype for level in raw} == {torch.float32}  # ...the outputs did not
    assert all(loss.dtype == torch.float32 and torch.isfinite(loss) for loss in losses.values())
    assert all(d["boxes"].dtype == torch.float32 for d in detections)
