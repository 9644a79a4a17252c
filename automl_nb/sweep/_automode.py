"""AutoMode: the models and ranges tried when ``max_trials > 1`` and no ``search_space``.

The first trial is always the task's default model with its default hyperparameters
(:func:`automode_first_params`, queued with
:func:`~automl_nb.sweep.enqueue_hyperparameters`). The later trials are drawn at random from a
per-task portfolio of sub-spaces, one per model, chosen for the machine's GPU memory. The
portfolio is ordered by priority and, with ``max_trials``, cut to its first ``max_trials - 1``
sub-spaces, so a short sweep tries the most promising models for the machine.

Memory tiers (``gpu_memory_gb`` of the smallest visible GPU): ``cpu`` (``None`` or 0),
``small`` (< 12 GB: the reference default batch sizes are sized for 12 GB, so every sub-space
pins ``training_batch_size`` / ``validation_batch_size`` scaled by ``gpu_memory_gb / 12``),
``medium`` (12-40 GB) and ``large`` (>= 40 GB, which adds the largest backbones).
``learning_rate`` ranges are ``uniform`` around the reference defaults; CNN classifiers also
try ``layers_to_freeze`` 0 or 2, the ResNet-50 detectors ``min_size`` 600 or 800.

| task (default model) | tier | sub-spaces, in priority order |
|---|---|---|
| classification, multi-class and multi-label (`vitb16r224`) | cpu | mobilenetv2, resnet18, resnet34, resnet50, vits16r224 |
| | small | vits16r224, seresnext, resnet50, mobilenetv2, vitb16r224 |
| | medium | vitb16r224, vits16r224, seresnext, resnet50, mobilenetv2 |
| | large | medium + vitl16r224 |
| object detection (`fasterrcnn_resnet50_fpn`) | cpu | fasterrcnn_resnet18_fpn, fasterrcnn_resnet34_fpn, fasterrcnn_resnet50_fpn |
| | small | fasterrcnn_resnet34_fpn, fasterrcnn_resnet50_fpn, retinanet_resnet50_fpn |
| | medium | fasterrcnn_resnet50_fpn, retinanet_resnet50_fpn, fasterrcnn_resnet34_fpn |
| | large | medium + fasterrcnn_resnet101_fpn |
| instance segmentation (`maskrcnn_resnet50_fpn`) | cpu | maskrcnn_resnet18_fpn, maskrcnn_resnet34_fpn, maskrcnn_resnet50_fpn |
| | small | maskrcnn_resnet34_fpn, maskrcnn_resnet50_fpn, maskrcnn_resnet18_fpn |
| | medium | maskrcnn_resnet50_fpn, maskrcnn_resnet34_fpn, maskrcnn_resnet18_fpn |
| | large | medium + maskrcnn_resnet101_fpn |

`learning_rate`: multi-class `uniform(0.001, 0.02)` (vitl16r224 `uniform(0.0001, 0.002)`),
multi-label `uniform(0.005, 0.05)` (vitl16r224 `uniform(0.0005, 0.005)`), detection and
segmentation `uniform(0.001, 0.01)`.

Object detection starts from ``fasterrcnn_resnet50_fpn`` (the hyperparameter reference's
default; Azure's how-to names ``yolov5``, which automl-nb does not ship yet).
"""

from __future__ import annotations

import math
from typing import Any

from automl_nb.config._distributions import Choice
from automl_nb.config._distributions import Uniform
from automl_nb.config._parameters import DEFAULT_MODEL
from automl_nb.tasks import Task
from automl_nb.tasks import as_task

DEFAULT_MODELS: dict[Task, str] = dict(DEFAULT_MODEL)
"""The task's default model (the job spec's), AutoMode's first trial."""

_CLASSIFIERS = {
    "cpu": ("mobilenetv2", "resnet18", "resnet34", "resnet50", "vits16r224"),
    "small": ("vits16r224", "seresnext", "resnet50", "mobilenetv2", "vitb16r224"),
    "medium": ("vitb16r224", "vits16r224", "seresnext", "resnet50", "mobilenetv2"),
    "large": ("vitb16r224", "vits16r224", "seresnext", "resnet50", "mobilenetv2", "vitl16r224"),
}
_DETECTORS = {
    "cpu": ("fasterrcnn_resnet18_fpn", "fasterrcnn_resnet34_fpn", "fasterrcnn_resnet50_fpn"),
    "small": ("fasterrcnn_resnet34_fpn", "fasterrcnn_resnet50_fpn", "retinanet_resnet50_fpn"),
    "medium": ("fasterrcnn_resnet50_fpn", "retinanet_resnet50_fpn", "fasterrcnn_resnet34_fpn"),
    "large": (
        "fasterrcnn_resnet50_fpn",
        "retinanet_resnet50_fpn",
        "fasterrcnn_resnet34_fpn",
        "fasterrcnn_resnet101_fpn",
    ),
}
_SEGMENTERS = {
    "cpu": ("maskrcnn_resnet18_fpn", "maskrcnn_resnet34_fpn", "maskrcnn_resnet50_fpn"),
    "small": ("maskrcnn_resnet34_fpn", "maskrcnn_resnet50_fpn", "maskrcnn_resnet18_fpn"),
    "medium": ("maskrcnn_resnet50_fpn", "maskrcnn_resnet34_fpn", "maskrcnn_resnet18_fpn"),
    "large": (
        "maskrcnn_resnet50_fpn",
        "maskrcnn_resnet34_fpn",
        "maskrcnn_resnet18_fpn",
        "maskrcnn_resnet101_fpn",
    ),
}

# Reference default batch sizes (sized for a 12 GB GPU): (training, validation).
_BATCH_12GB = {"vits16r224": (128, 128), "vitb16r224": (48, 48), "vitl16r224": (10, 10)}
_CLASSIFIER_BATCH_12GB = (78, 78)
_DETECTOR_BATCH_12GB = (2, 1)


def memory_tier(gpu_memory_gb: float | None) -> str:
    """``"cpu"``, ``"small"`` (< 12 GB), ``"medium"`` (12-40 GB) or ``"large"`` (>= 40 GB)."""
    if not gpu_memory_gb or gpu_memory_gb <= 0:
        return "cpu"
    if gpu_memory_gb < 12:
        return "small"
    return "medium" if gpu_memory_gb < 40 else "large"


def automode_first_params(task: Task | str) -> dict[str, Any]:
    """The first AutoMode trial: the task's default model, all else at its defaults.

    Args:
        task: The task.

    Returns:
        ``{"model_name": <default model>}``; the training layer fills in the defaults.
    """
    return {"model_name": DEFAULT_MODELS[as_task(task)]}


def _subspace(task: Task, model: str, tier: str, gpu_memory_gb: float | None) -> dict[str, Any]:
    sub: dict[str, Any] = {"model_name": model}
    if task.is_classification:
        multilabel = task is Task.CLASSIFICATION_MULTILABEL
        if model == "vitl16r224":
            low, high = (0.0005, 0.005) if multilabel else (0.0001, 0.002)
        else:
            low, high = (0.005, 0.05) if multilabel else (0.001, 0.02)
        sub["learning_rate"] = Uniform(low, high)
        if not model.startswith("vit"):
            sub["layers_to_freeze"] = Choice((0, 2))
        batch = _BATCH_12GB.get(model, _CLASSIFIER_BATCH_12GB)
    else:
        sub["learning_rate"] = Uniform(0.001, 0.01)
        if model.endswith("rcnn_resnet50_fpn") and tier != "cpu":
            sub["min_size"] = Choice((600, 800))
        batch = _DETECTOR_BATCH_12GB
    if tier == "small":
        scale = float(gpu_memory_gb or 0) / 12.0
        sub["training_batch_size"] = max(1, math.floor(batch[0] * scale))
        sub["validation_batch_size"] = max(1, math.floor(batch[1] * scale))
    return sub


def automode_search_space(
    task: Task | str, *, gpu_memory_gb: float | None = None, max_trials: int | None = None
) -> tuple[dict[str, Any], ...]:
    """The AutoMode portfolio for a task and machine (see the module docstring's table).

    Example:
        .. testcode::

            from automl_nb.sweep import automode_search_space

            space = automode_search_space("image_classification", gpu_memory_gb=24)
            assert space[0]["model_name"] == "vitb16r224"

    Args:
        task: The task.
        gpu_memory_gb: Memory of the smallest GPU a trial runs on; ``None`` or 0 on CPU.
        max_trials: The job's ``max_trials``; the portfolio keeps its first
            ``max_trials - 1`` sub-spaces (at least one). ``None`` keeps all.

    Returns:
        A tuple of sub-space dicts, each pinning ``model_name``, in priority order.
    """
    task = as_task(task)
    tier = memory_tier(gpu_memory_gb)
    if task.is_classification:
        models = _CLASSIFIERS[tier]
    elif task is Task.OBJECT_DETECTION:
        models = _DETECTORS[tier]
    else:
        models = _SEGMENTERS[tier]
    if max_trials is not None:
        models = models[: max(1, int(max_trials) - 1)]
    return tuple(_subspace(task, m, tier, gpu_memory_gb) for m in models)


def visible_gpu_memory_gb() -> float | None:
    """Memory of the smallest visible CUDA GPU in GB, or ``None`` without one (imports torch)."""
    import torch

    if not torch.cuda.is_available() or torch.cuda.device_count() == 0:
        return None
    sizes = [
        torch.cuda.get_device_properties(i).total_memory for i in range(torch.cuda.device_count())
    ]
    return min(sizes) / 2**30
