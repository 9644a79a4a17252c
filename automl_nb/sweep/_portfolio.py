"""AutoMode's portfolio: the candidate models, input sizes, batch sizes and learning rates
for a task, the machine and the data (before the budget decides how many of them run)."""

from __future__ import annotations

from typing import Any

from automl_nb.sweep._budget import DataProfile
from automl_nb.sweep._probe import Machine
from automl_nb.tasks import Task
from automl_nb.tasks import as_task

SCRATCH_SIZES = (32, 48, 64, 96, 128, 160)
# The portfolio's sizes start at 64 px; a budget too small for that starts lower.
SCRATCH_START = SCRATCH_SIZES.index(64)
# (model, index into the allowed sizes), in priority order.
_SCRATCH_CPU = (
    ("resnet18", 0),
    ("resnet18", 1),
    ("resnet34", 0),
    ("mobilenetv2", 1),
    ("resnet18", 2),
    ("resnet50", 0),
)
_SCRATCH_GPU = (
    ("resnet18", 1),
    ("resnet34", 1),
    ("resnet50", 2),
    ("resnet18", 3),
    ("seresnext", 2),
    ("mobilenetv2", 2),
)
_PRETRAINED_CPU = ("mobilenetv2", "resnet18", "resnet50", "vits16r224", "resnet34")
_PRETRAINED_GPU = ("vitb16r224", "vits16r224", "seresnext", "resnet50", "mobilenetv2")
_DETECTORS_CPU = ("yolov5", "fasterrcnn_resnet18_fpn", "fasterrcnn_resnet34_fpn")
_DETECTORS_GPU = ("yolov5", "fasterrcnn_resnet50_fpn", "retinanet_resnet50_fpn")
_SEGMENTERS = ("maskrcnn_resnet18_fpn", "maskrcnn_resnet34_fpn", "maskrcnn_resnet50_fpn")
DETECTION_SIZES_CPU = (320, 480, 600)
DETECTION_SIZES_GPU = (600, 800)


def _allowed_sizes(task: Task, machine: Machine, data: DataProfile) -> tuple[int, ...]:
    if task.is_detection:
        return DETECTION_SIZES_GPU if machine.gpu_count else DETECTION_SIZES_CPU
    sizes: tuple[int, ...] = SCRATCH_SIZES
    if data.short_side:
        # Upscaling far past the image adds cost, not detail.
        cap = max(64, 1.25 * data.short_side)
        sizes = tuple(s for s in sizes if s <= cap)
    return sizes


def _batch_size(task: Task, machine: Machine, data: DataProfile) -> int:
    if task.is_detection:
        return 2 if machine.gpu_count else 2
    if machine.gpu_count:
        return 32 if data.train_images < 2000 else 64
    # Small sets from scratch learn better from more, smaller steps.
    return 16 if data.train_images < 1000 else 32


def _scratch_lr(task: Task) -> float:
    if task.is_detection:
        return 0.01
    return 0.1 if task is Task.CLASSIFICATION_MULTILABEL else 0.05


# Optimizer steps of 64 images (YOLOv5's nominal batch) over yolov5's 30 default epochs below
# which a run counts as short.
_YOLO_SHORT_STEPS = 10_000


def _yolo_optimizer(data: DataProfile) -> dict[str, Any]:
    """AdamW at ``0.01 / (4 + classes)`` for short yolov5 runs, Azure's SGD otherwise.

    This is the rule Ultralytics' trainers use when left to choose. Measured here on the
    fridge detection set from scratch, 10 CPU minutes (benchmarks/bench_detectors.py):
    AdamW 0.00125 reached mAP@[.5:.95] 0.763 where SGD 0.01 reached 0.609.
    """
    steps = 30 * -(-max(1, data.train_images) // 64)
    if steps >= _YOLO_SHORT_STEPS:
        return {}
    return {"optimizer": "adamw", "learning_rate": round(0.01 / (4 + max(1, data.classes)), 6)}


def portfolio(
    task: Task | str,
    machine: Machine,
    data: DataProfile,
    *,
    pretrained: bool,
    smaller: int = 0,
) -> list[dict[str, Any]]:
    """The candidate hyperparameters, in priority order (the first is the preferred start).

    Every candidate pins ``model_name``, its input size and batch sizes; from-scratch
    classifiers also pin a learning rate. ``smaller`` shifts from-scratch classifiers that
    many sizes down (32 and 48 px for budgets too short for 64 px), or up when negative
    (96 px first for budgets long enough); candidates shifted past the allowed sizes drop out.
    """
    task = as_task(task)
    sizes = _allowed_sizes(task, machine, data)
    batch = _batch_size(task, machine, data)
    out: list[dict[str, Any]] = []
    if task.is_detection:
        models = (
            _SEGMENTERS
            if task is Task.INSTANCE_SEGMENTATION
            else (_DETECTORS_GPU if machine.gpu_count else _DETECTORS_CPU)
        )
        for i, model in enumerate(models):
            size = sizes[min(i, len(sizes) - 1)] if not machine.gpu_count else sizes[0]
            params: dict[str, Any] = {"model_name": model}
            if model == "yolov5":
                # YOLO sizes are multiples of its 32 px stride.
                params.update(image_size=32 * round(size / 32), model_size="small")
                params.update(training_batch_size=8 * batch, validation_batch_size=4 * batch)
                params.update(_yolo_optimizer(data))
            else:
                params.update(min_size=size, max_size=int(size * 1333 / 800))
                params.update(training_batch_size=batch, validation_batch_size=1)
                params["learning_rate"] = 0.005
            out.append(params)
        return out
    if pretrained:
        for model in _PRETRAINED_GPU if machine.gpu_count else _PRETRAINED_CPU:
            out.append(
                {
                    "model_name": model,
                    "training_crop_size": 224,
                    "validation_crop_size": 224,
                    "validation_resize_size": 256,
                    "training_batch_size": batch,
                    "validation_batch_size": 2 * batch,
                }
            )
        return out
    start = max(0, SCRATCH_START - smaller)
    for model, index in _SCRATCH_GPU if machine.gpu_count else _SCRATCH_CPU:
        if start + index >= len(sizes):
            continue
        size = sizes[start + index]
        out.append(
            {
                "model_name": model,
                "training_crop_size": size,
                "validation_crop_size": size,
                "validation_resize_size": int(round(size * 1.125)),
                "training_batch_size": batch,
                "validation_batch_size": 64,
                "learning_rate": _scratch_lr(task),
            }
        )
    return out
