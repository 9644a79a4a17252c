"""Datasets and data loaders of a trial, built from its :class:`~automl_nb.config.TrialConfig`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from typing import Any

import torch
from torch.utils.data import DataLoader

from automl_nb.data._data_config import DataConfig
from automl_nb.data._data_config import resolve_data_config
from automl_nb.data._records import LabeledImages
from automl_nb.tasks import Task
from automl_nb.training._device import worker_init

if TYPE_CHECKING:
    from automl_nb.config import TrialConfig


def trial_data_config(cfg: TrialConfig, model_cfg: Any) -> DataConfig:
    """The preprocessing of a classification trial's images."""
    return resolve_data_config(
        model_cfg,
        training_crop_size=cfg.training_crop_size,
        validation_resize_size=cfg.validation_resize_size,
        validation_crop_size=cfg.validation_crop_size,
    )


def build_datasets(
    train: LabeledImages,
    valid: LabeledImages,
    *,
    cfg: TrialConfig,
    model_cfg: Any,
    labels: list[str],
) -> tuple[Any, Any]:
    """The training and validation ``Dataset`` of a trial.

    Args:
        train: Training images.
        valid: Validation images.
        cfg: The trial's settings (crop sizes, tiling, ``advanced_settings``).
        model_cfg: The model's cfg (mean, std, interpolation).
        labels: Class order shared by both sets.
    """
    from automl_nb.data._datasets import ClassificationDataset
    from automl_nb.data._datasets import DetectionDataset
    from automl_nb.data._transforms import data_config_transform
    from automl_nb.data._transforms import detection_transform

    train_ds: Any
    valid_ds: Any

    augment = cfg.advanced_settings.apply_automl_train_augmentations
    if cfg.task.is_classification:
        data = trial_data_config(cfg, model_cfg)
        train_ds = ClassificationDataset(
            train, data_config_transform(data, train=True, augment=augment), labels=labels
        )
        valid_ds = ClassificationDataset(
            valid, data_config_transform(data, train=False), labels=labels
        )
        return train_ds, valid_ds
    masks = cfg.task == Task.INSTANCE_SEGMENTATION
    if model_cfg.family == "yolo":  # mosaic / affine / HSV / flip (automl_nb.data._yolo_augment)
        from automl_nb.data._yolo_augment import yolo_datasets

        return yolo_datasets(train, valid, cfg=cfg, labels=labels, augment=augment)
    train_ds = DetectionDataset(
        train,
        detection_transform(train=True, augment=augment),
        labels=labels,
        masks=masks,
        train=True,
        tile_grid=cfg.tile_grid_size,
        tile_overlap_ratio=cfg.tile_overlap_ratio,
    )
    valid_ds = DetectionDataset(
        valid, detection_transform(train=False), labels=labels, masks=masks, train=False
    )
    return train_ds, valid_ds


def default_workers(device: torch.device) -> int:
    """``number_of_workers`` when not set: 0 on CPU (the CPU is busy training), else up to 4."""
    if device.type != "cuda":
        return 0
    return min(4, max(0, (os.cpu_count() or 1) - 1))


def build_loaders(
    train_ds: Any,
    valid_ds: Any,
    *,
    cfg: TrialConfig,
    device: torch.device,
    generator: torch.Generator,
) -> tuple[DataLoader, DataLoader]:
    """The training (shuffled) and validation ``DataLoader`` of a trial."""
    from automl_nb.data._datasets import detection_collate

    workers = default_workers(device) if cfg.number_of_workers is None else cfg.number_of_workers
    collate = None if cfg.task.is_classification else detection_collate
    batch = cfg.training_batch_size
    # A final batch of one breaks BatchNorm in train mode; drop the incomplete last batch
    # whenever there is more than one batch.
    drop_last = cfg.task.is_classification and len(train_ds) > batch
    common: dict[str, Any] = {
        "num_workers": workers,
        "collate_fn": collate,
        "pin_memory": device.type == "cuda",
        "persistent_workers": workers > 0,
        "worker_init_fn": worker_init if workers > 0 else None,
    }
    train_loader = DataLoader(
        train_ds,
        batch_size=batch,
        shuffle=True,
        drop_last=drop_last,
        generator=generator,
        **common,
    )
    valid_loader = DataLoader(
        valid_ds, batch_size=cfg.validation_batch_size, shuffle=False, **common
    )
    return train_loader, valid_loader


def build_train_eval_loader(
    train: LabeledImages,
    *,
    cfg: TrialConfig,
    model_cfg: Any,
    labels: list[str],
    device: torch.device,
) -> DataLoader:
    """The training images without augmentation, for ``log_training_metrics: enable``."""
    from automl_nb.data._datasets import ClassificationDataset
    from automl_nb.data._datasets import DetectionDataset
    from automl_nb.data._datasets import detection_collate
    from automl_nb.data._transforms import data_config_transform
    from automl_nb.data._transforms import detection_transform

    dataset: Any
    if cfg.task.is_classification:
        transform = data_config_transform(trial_data_config(cfg, model_cfg), train=False)
        dataset = ClassificationDataset(train, transform, labels=labels)
    else:
        masks = cfg.task == Task.INSTANCE_SEGMENTATION
        dataset = DetectionDataset(
            train, detection_transform(train=False), labels=labels, masks=masks, train=False
        )
    return DataLoader(
        dataset,
        batch_size=cfg.validation_batch_size,
        shuffle=False,
        collate_fn=None if cfg.task.is_classification else detection_collate,
        pin_memory=device.type == "cuda",
    )
