"""How images are prepared for a model: one :class:`DataConfig` for training, evaluation,
inference, explanations and export.

Normalisation and interpolation come from the model's own cfg (timm ``pretrained_cfg``:
ViTs use mean/std 0.5, the CNNs ImageNet statistics); sizes from the trial's settings or a
model folder's ``settings.json``. Importing this module does not import torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Only for models whose cfg has no statistics (every timm and registry model has them).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class DataConfig:
    """Preprocessing of a classifier's input.

    Attributes:
        mean: Per-channel normalisation mean for 0-1 RGB input.
        std: Per-channel normalisation std.
        interpolation: Resize interpolation (``bilinear``, ``bicubic``, ...).
        training_crop_size: Side of the training random-resized crop.
        validation_resize_size: Shorter side before the evaluation centre crop.
        validation_crop_size: Side of the evaluation centre crop.
    """

    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    interpolation: str = "bilinear"
    training_crop_size: int = 224
    validation_resize_size: int = 256
    validation_crop_size: int = 224


def resolve_data_config(
    model_cfg: Any,
    *,
    training_crop_size: int | None = None,
    validation_resize_size: int | None = None,
    validation_crop_size: int | None = None,
) -> DataConfig:
    """The :class:`DataConfig` of a model (its cfg) at the given sizes.

    Args:
        model_cfg: The model's :class:`~automl_nb.models.ModelCfg` (``mean``, ``std``,
            ``interpolation``).
        training_crop_size: Training crop (a trial's ``training_crop_size``).
        validation_resize_size: ``validation_resize_size`` / ``valid_resize_size``.
        validation_crop_size: ``validation_crop_size`` / ``valid_crop_size``; defaults to the
            training crop.

    Example:
        >>> from types import SimpleNamespace
        >>> cfg = SimpleNamespace(
        ...     mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), interpolation="bicubic"
        ... )
        >>> resolve_data_config(cfg, validation_resize_size=72, validation_crop_size=64).std
        (0.5, 0.5, 0.5)
    """
    base = DataConfig()
    crop = int(training_crop_size or validation_crop_size or base.training_crop_size)
    return DataConfig(
        mean=tuple(getattr(model_cfg, "mean", None) or IMAGENET_MEAN),
        std=tuple(getattr(model_cfg, "std", None) or IMAGENET_STD),
        interpolation=str(getattr(model_cfg, "interpolation", None) or "bilinear"),
        training_crop_size=crop,
        validation_resize_size=int(validation_resize_size or base.validation_resize_size),
        validation_crop_size=int(validation_crop_size or crop),
    )
