"""Training and validation transforms per task (torchvision ``transforms.v2``).

Imports torch: only :mod:`automl_nb.training` and :mod:`automl_nb.data._datasets` import this
module, never ``automl_nb.data``'s package ``__init__``.

Policies (the AutoML-for-Images ones):

* classification, training: random resized crop to ``training_crop_size``, horizontal flip,
  colour jitter, then the model's mean/std normalisation;
* classification, validation: resize the shorter side to ``validation_resize_size``, center crop
  ``validation_crop_size``, normalise;
* detection / instance segmentation, training: photometric distortion, expand (zoom out),
  random crop around the boxes (SSD IoU crop), horizontal flip; boxes and masks follow. The
  detector resizes to its own ``min_size``/``max_size`` and normalises inside its forward;
* detection, validation: no geometric change.

``apply_automl_train_augmentations: false`` keeps only the resize and normalisation.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

# Mean fill of "expand" (zoom out) in uint8 RGB, as the SSD references use.
_EXPAND_FILL = (124, 116, 104)


def _interpolation(name: str | None) -> v2.InterpolationMode:
    try:
        return v2.InterpolationMode((name or "bilinear").lower())
    except ValueError:
        return v2.InterpolationMode.BILINEAR


def classification_transform(
    *,
    train: bool,
    mean: Sequence[float],
    std: Sequence[float],
    training_crop_size: int = 224,
    validation_resize_size: int = 256,
    validation_crop_size: int = 224,
    interpolation: str | None = "bilinear",
    augment: bool = True,
) -> Callable[[Any], torch.Tensor]:
    """The transform from a PIL image to a normalised float tensor ``[3, crop, crop]``.

    Args:
        train: Training (augmented) or validation/inference pipeline.
        mean: Per-channel normalisation mean, from the model cfg.
        std: Per-channel normalisation std, from the model cfg.
        training_crop_size: Side of the training crop.
        validation_resize_size: Shorter side before the validation center crop.
        validation_crop_size: Side of the validation center crop.
        interpolation: Resize interpolation (``bilinear``, ``bicubic``, ...).
        augment: ``False`` keeps only resize + normalisation in training
            (``apply_automl_train_augmentations: false``).

    Returns:
        A callable taking a PIL image.
    """
    mode = _interpolation(interpolation)
    tail = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std)]
    if train and augment:
        head: list[Any] = [
            v2.RandomResizedCrop(training_crop_size, interpolation=mode, antialias=True),
            v2.RandomHorizontalFlip(),
            v2.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3),
        ]
    elif train:
        head = [
            v2.Resize(training_crop_size, interpolation=mode, antialias=True),
            v2.CenterCrop(training_crop_size),
        ]
    else:
        head = [
            v2.Resize(validation_resize_size, interpolation=mode, antialias=True),
            v2.CenterCrop(validation_crop_size),
        ]
    # Geometric ops on the PIL image first (cheaper), then tensor conversion.
    return v2.Compose([*head, *tail])


def _labels_and_crowd(sample: Any) -> tuple[torch.Tensor, ...]:
    target = sample[1]
    return tuple(target[k] for k in ("labels", "iscrowd") if k in target)


class _IoUCropIfBoxes(torch.nn.Module):
    """SSD random crop around the boxes; skipped for images without boxes (background images)."""

    def __init__(self) -> None:
        super().__init__()
        self.crop = v2.RandomIoUCrop()

    def forward(self, *sample: Any) -> Any:
        image, target = sample if len(sample) == 2 else sample[0]
        if target["boxes"].shape[0] == 0:
            return image, target
        return self.crop(image, target)


def detection_transform(*, train: bool, augment: bool = True) -> Callable[[Any, dict], Any]:
    """The transform of an ``(image, target)`` pair for detection and instance segmentation.

    ``image`` is a ``tv_tensors.Image`` (uint8) and ``target`` holds ``boxes``
    (``tv_tensors.BoundingBoxes`` XYXY pixels), ``labels`` and optionally ``masks``
    (``tv_tensors.Mask`` ``[N, H, W]``). The output image is float in [0, 1]; the detector
    normalises and resizes it itself.

    Args:
        train: Training (augmented) or validation pipeline.
        augment: ``False`` keeps only the dtype conversion in training.

    Returns:
        A callable ``(image, target) -> (image, target)``.
    """
    to_float = v2.ToDtype({tv_tensors.Image: torch.float32, "others": None}, scale=True)
    if not train:
        return v2.Compose([to_float])
    # Drops boxes that became degenerate (and their labels, crowd flags and masks): torchvision
    # detectors refuse boxes without positive width and height.
    sanitize = v2.SanitizeBoundingBoxes(min_size=1.0, labels_getter=_labels_and_crowd)
    if not augment:
        return v2.Compose([to_float, sanitize])
    return v2.Compose(
        [
            v2.RandomPhotometricDistort(p=0.5),
            v2.RandomZoomOut(
                fill={tv_tensors.Image: _EXPAND_FILL, "others": 0}, side_range=(1.0, 2.0), p=0.5
            ),
            _IoUCropIfBoxes(),
            v2.RandomHorizontalFlip(p=0.5),
            to_float,
            sanitize,
        ]
    )


def data_config_transform(
    config: Any, *, train: bool, augment: bool = True
) -> Callable[[Any], torch.Tensor]:
    """:func:`classification_transform` for a :class:`~automl_nb.data.DataConfig`."""
    return classification_transform(
        train=train,
        mean=config.mean,
        std=config.std,
        training_crop_size=config.training_crop_size,
        validation_resize_size=config.validation_resize_size,
        validation_crop_size=config.validation_crop_size,
        interpolation=config.interpolation,
        augment=augment,
    )
