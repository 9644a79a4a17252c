"""The training loop, torchvision-references style: one epoch of training, one evaluation.

Used alike by :func:`~automl_nb.training.run_trial`, the tests and the throughput benchmark.
Both functions return values and never print.

Batches are ``(images, targets)``: for classification a tensor ``[N, 3, H, W]`` and a tensor of
class indices (or multi-hot rows); for detection and instance segmentation lists of image
tensors and of target dicts (see :class:`automl_nb.data._datasets.DetectionDataset`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np
import torch

from automl_nb.errors import JobError
from automl_nb.tasks import Task
from automl_nb.tasks import as_task
from automl_nb.training._precision import autocast


class NonFiniteLossError(JobError):
    """The training loss became NaN or infinite; the trial cannot continue."""


@dataclass
class EpochMetrics:
    """What one training epoch did.

    Attributes:
        epoch: 1-based epoch number.
        loss: Mean training loss over the epoch's batches.
        learning_rate: Learning rate of the last optimizer step.
        images: Training images (samples) seen.
        seconds: Wall time of the epoch.
        images_per_second: ``images / seconds``.
        steps: Optimizer steps taken.
        loss_components: Mean of each detection loss term (``loss_classifier``, ...).
    """

    epoch: int
    loss: float
    learning_rate: float
    images: int
    seconds: float
    images_per_second: float
    steps: int
    loss_components: dict[str, float] = field(default_factory=dict)


def _to_device(batch: Any, device: torch.device, non_blocking: bool) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=non_blocking)
    if isinstance(batch, dict):
        return {k: _to_device(v, device, non_blocking) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [_to_device(v, device, non_blocking) for v in batch]
    return batch


def _forward_loss(
    model: torch.nn.Module, images: Any, targets: Any, detection: bool, loss_fn: Any
) -> tuple[torch.Tensor, dict[str, torch.Tensor] | None]:
    """The batch's loss (and a detector's loss terms)."""
    if detection:
        loss_dict = model(images, targets)
        return sum(loss_dict.values()), loss_dict
    return loss_fn(model(images), targets), None


def _optimizer_step(
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    schedule: Any,
    ema: Any = None,
    model: torch.nn.Module | None = None,
) -> None:
    """One optimizer step (through the scaler under mixed precision), then the schedule's and
    the weight average's."""
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    if schedule is not None:
        schedule.step_iteration()
    if ema is not None and model is not None:
        # DistributedDataParallel keeps the model itself as .module.
        ema.update(getattr(model, "module", model))


def train_one_epoch(
    model: torch.nn.Module,
    loader: Iterable[Any],
    optimizer: torch.optim.Optimizer,
    *,
    device: torch.device | str,
    task: Task | str = Task.CLASSIFICATION,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    schedule: Any = None,
    scaler: torch.amp.GradScaler | None = None,
    gradient_accumulation_step: int = 1,
    epoch: int = 1,
    on_batch_end: Callable[[int, int, float], None] | None = None,
    ema: Any = None,
    precision: torch.dtype | None = None,
) -> EpochMetrics:
    """Train ``model`` for one pass over ``loader``.

    Args:
        model: Classification model returning logits, or a torchvision detection model that
            returns a loss dict in train mode.
        loader: Batches ``(images, targets)``.
        optimizer: The optimizer.
        device: Where to run.
        task: Task (name); picks the classification or detection step.
        loss_fn: Classification loss ``loss_fn(logits, targets)`` (detection models compute
            their own). Defaults to cross-entropy.
        schedule: A :class:`~automl_nb.training._optim.Schedule`; its per-iteration step runs
            after every optimizer step. The per-epoch step is the caller's.
        scaler: A ``GradScaler`` to train in mixed precision (CUDA); ``None`` for fp32.
        gradient_accumulation_step: Batches whose gradients are summed before one step.
        epoch: Epoch number, for the result.
        on_batch_end: ``f(batch_index, num_batches, loss)`` after each batch (progress bars).
        ema: A :class:`~automl_nb.training._ema.ModelEma` updated after every optimizer step.
        precision: The autocast dtype of the forward pass (``None``: fp32, or fp16 when a
            ``scaler`` is given); see :mod:`automl_nb.training._precision`.

    Returns:
        The epoch's :class:`EpochMetrics`.

    Raises:
        NonFiniteLossError: A batch produced a NaN or infinite loss.
    """
    device = torch.device(device)
    detection = as_task(task).is_detection
    loss_fn = loss_fn or torch.nn.CrossEntropyLoss()
    accumulate = max(1, int(gradient_accumulation_step))
    non_blocking = device.type == "cuda"
    if precision is None and scaler is not None:
        precision = torch.float16
    model.train()
    optimizer.zero_grad(set_to_none=True)
    try:
        num_batches = len(loader)  # type: ignore[arg-type]
    except TypeError:
        num_batches = -1
    total_loss = 0.0
    components: dict[str, float] = {}
    images_seen = 0
    steps = 0
    batches = 0
    start = time.perf_counter()
    for index, (images, targets) in enumerate(loader):
        images = _to_device(images, device, non_blocking)
        targets = _to_device(targets, device, non_blocking)
        with autocast(device, precision):
            loss, loss_dict = _forward_loss(model, images, targets, detection, loss_fn)
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value):
            terms = (
                {k: float(v.detach()) for k, v in loss_dict.items()} if loss_dict else loss_value
            )
            raise NonFiniteLossError(
                f"training loss is {loss_value} at epoch {epoch}, batch {index + 1} ({terms}); "
                "lower learning_rate, or check the labels of this batch"
            )
        scaled = loss / accumulate
        if scaler is not None:
            scaler.scale(scaled).backward()
        else:
            scaled.backward()
        last_batch = num_batches > 0 and index + 1 == num_batches
        if (index + 1) % accumulate == 0 or last_batch:
            _optimizer_step(optimizer, scaler, schedule, ema, model)
            steps += 1
        batches += 1
        total_loss += loss_value
        if loss_dict:
            for k, v in loss_dict.items():
                components[k] = components.get(k, 0.0) + float(v.detach())
        images_seen += len(images)
        if on_batch_end is not None:
            on_batch_end(index, num_batches, loss_value)
    if num_batches < 0 and batches % accumulate:
        # Unsized loaders: flush the gradients of a trailing partial accumulation.
        _optimizer_step(optimizer, scaler, None, ema, model)
        steps += 1
    seconds = time.perf_counter() - start
    batches = max(batches, 1)
    return EpochMetrics(
        epoch=epoch,
        loss=total_loss / batches,
        learning_rate=float(optimizer.param_groups[0]["lr"]),
        images=images_seen,
        seconds=seconds,
        images_per_second=images_seen / seconds if seconds > 0 else 0.0,
        steps=steps,
        loss_components={k: v / batches for k, v in components.items()},
    )


@torch.inference_mode()
def predict_batches(
    model: torch.nn.Module,
    loader: Iterable[Any],
    *,
    device: torch.device | str,
    task: Task | str,
    precision: torch.dtype | None = None,
    mask_threshold: float = 0.5,
) -> tuple[Any, Any]:
    """Run the model in eval mode over ``loader`` and gather outputs and targets on the CPU.

    Returns:
        Classification: ``(probs [N, C] ndarray, targets ndarray)`` (softmax, or sigmoid for
        multi-label). Detection: ``(predictions, targets)`` lists of dicts of CPU tensors, masks
        as bool ``[N, H, W]`` (predictions thresholded at ``mask_threshold``).
    """
    device = torch.device(device)
    task = as_task(task)
    model.eval()
    outputs: list[Any] = []
    truths: list[Any] = []
    for images, targets in loader:
        images = _to_device(images, device, device.type == "cuda")
        with autocast(device, precision):
            result = model(images)
        if task.is_classification:
            logits = result.float()
            probs = (
                torch.sigmoid(logits)
                if task == Task.CLASSIFICATION_MULTILABEL
                else logits.softmax(1)
            )
            outputs.append(probs.cpu().numpy())
            truths.append(torch.as_tensor(targets).cpu().numpy())
            continue
        for prediction, target in zip(result, targets):
            pred = {
                k: v.detach().float().cpu() if k != "labels" else v.cpu()
                for k, v in prediction.items()
            }
            if "masks" in pred:
                masks = pred["masks"]
                pred["masks"] = (masks[:, 0] if masks.ndim == 4 else masks) >= mask_threshold
            truth = {k: v.cpu() for k, v in target.items()}
            if "masks" in truth:
                truth["masks"] = truth["masks"].bool()
            outputs.append(pred)
            truths.append(truth)
    if task.is_classification:
        if not outputs:
            return np.zeros((0, 0)), np.zeros((0,))
        return np.concatenate(outputs), np.concatenate(truths)
    return outputs, truths


@torch.no_grad()
def detection_validation_loss(
    model: torch.nn.Module, loader: Iterable[Any], *, device: torch.device | str
) -> float | None:
    """The mean detection loss of ``model`` over ``loader``, without training it.

    torchvision detectors return losses only in train mode, so the model runs in train mode
    with its normalisation and dropout layers in eval mode and no gradients: nothing it holds
    changes. ``None`` when the loader is empty.
    """
    device = torch.device(device)
    was_training = model.training
    model.train()
    for module in model.modules():
        if isinstance(module, (torch.nn.modules.batchnorm._BatchNorm, torch.nn.Dropout)):
            module.eval()
    total, batches = 0.0, 0
    try:
        for images, targets in loader:
            images = _to_device(images, device, device.type == "cuda")
            targets = _to_device(targets, device, device.type == "cuda")
            total += float(sum(model(images, targets).values()))
            batches += 1
    finally:
        model.train(was_training)
    return total / batches if batches else None


def evaluate(
    model: torch.nn.Module,
    loader: Iterable[Any],
    *,
    task: Task | str,
    labels: Sequence[str],
    device: torch.device | str,
    metric_type: str = "voc",
    iou_threshold: float = 0.5,
    mask_threshold: float = 0.5,
    precision: torch.dtype | None = None,
) -> dict[str, Any]:
    """Evaluate ``model`` on ``loader`` with :mod:`automl_nb.metrics`.

    Args:
        model: The model.
        loader: Validation batches.
        task: Task (name).
        labels: Class names in index order.
        device: Where to run.
        metric_type: Detection ``validation_metric_type`` (``voc``, ``coco``, ``coco_voc``,
            ``none``).
        iou_threshold: Detection ``validation_iou_threshold``.
        mask_threshold: Pixel score cut-off of predicted masks (instance segmentation).
        precision: The autocast dtype of inference (``None``: fp32).

    Returns:
        The metrics dict (``accuracy`` / ``iou`` / ``mean_average_precision`` plus per-class
        values, curves and matrices), JSON-safe.
    """
    from automl_nb import metrics

    task = as_task(task)
    outputs, truths = predict_batches(
        model, loader, device=device, task=task, precision=precision, mask_threshold=mask_threshold
    )
    if task.is_classification:
        return metrics.classification_metrics(
            outputs, truths, list(labels), multilabel=task == Task.CLASSIFICATION_MULTILABEL
        )
    return metrics.detection_metrics(
        outputs,
        truths,
        list(labels),
        metric_type=metric_type,
        iou_threshold=iou_threshold,
        segmentation=task == Task.INSTANCE_SEGMENTATION,
    )
