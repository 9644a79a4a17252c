"""Datasets and data loaders of a trial, built from the resolved hyperparameters."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import DataLoader

from automl_nb.data._records import LabeledImages
from automl_nb.tasks import Task
from automl_nb.tasks import as_task
from automl_nb.training._device import worker_init

# ImageNet statistics, only for models whose cfg has none (should not happen for timm models).
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def build_datasets(
    train: LabeledImages,
    valid: LabeledImages,
    *,
    task: Task | str,
    hp: dict[str, Any],
    model_cfg: Any,
    labels: list[str],
) -> tuple[Any, Any]:
    """The training and validation ``Dataset`` of a trial.

    Args:
        train: Training images.
        valid: Validation images.
        task: The task.
        hp: Resolved hyperparameters (crop sizes, tiling, ``advanced_settings``).
        model_cfg: The model's cfg (mean, std, interpolation).
        labels: Class order shared by both sets.
    """
    from automl_nb.data._datasets import ClassificationDataset
    from automl_nb.data._datasets import DetectionDataset
    from automl_nb.data._tiling import parse_tile_grid_size
    from automl_nb.data._transforms import classification_transform
    from automl_nb.data._transforms import detection_transform

    task = as_task(task)
    augment = bool(hp["advanced_settings"].get("apply_automl_train_augmentations", True))
    if task.is_classification:
        common = {
            "mean": tuple(model_cfg.mean or _IMAGENET_MEAN),
            "std": tuple(model_cfg.std or _IMAGENET_STD),
            "training_crop_size": int(hp["training_crop_size"]),
            "validation_resize_size": int(hp["validation_resize_size"]),
            "validation_crop_size": int(hp["validation_crop_size"]),
            "interpolation": getattr(model_cfg, "interpolation", "bilinear"),
        }
        train_ds = ClassificationDataset(
            train, classification_transform(train=True, augment=augment, **common), labels=labels
        )
        valid_ds = ClassificationDataset(
            valid, classification_transform(train=False, **common), labels=labels
        )
        return train_ds, valid_ds
    masks = task == Task.INSTANCE_SEGMENTATION
    # --- yolov5: mosaic / affine / HSV / flip pipeline (automl_nb.data._yolo_augment) ---
    if getattr(model_cfg, "family", None) == "yolo":
        from automl_nb.data._yolo_augment import yolo_datasets

        return yolo_datasets(train, valid, hp=hp, labels=labels, augment=augment)
    train_ds = DetectionDataset(
        train,
        detection_transform(train=True, augment=augment),
        labels=labels,
        masks=masks,
        train=True,
        tile_grid=parse_tile_grid_size(hp.get("tile_grid_size")),
        tile_overlap_ratio=float(hp.get("tile_overlap_ratio") or 0.25),
    )
    valid_ds = DetectionDataset(
        valid, detection_transform(train=False), labels=labels, masks=masks, train=False
    )
    return train_ds, valid_ds


def default_workers(device: torch.device) -> int:
    """``number_of_workers`` when not set: 0 on CPU (the CPU is busy training), else up to 4."""
    if device.type != "cuda":
        return 0
    import os

    return min(4, max(0, (os.cpu_count() or 1) - 1))


def build_loaders(
    train_ds: Any,
    valid_ds: Any,
    *,
    task: Task | str,
    hp: dict[str, Any],
    device: torch.device,
    generator: torch.Generator,
) -> tuple[DataLoader, DataLoader]:
    """The training (shuffled) and validation ``DataLoader`` of a trial."""
    from automl_nb.data._datasets import detection_collate

    task = as_task(task)
    workers = hp.get("number_of_workers")
    workers = default_workers(device) if workers is None else int(workers)
    collate = None if task.is_classification else detection_collate
    batch = int(hp["training_batch_size"])
    # A final batch of one breaks BatchNorm in train mode; drop the incomplete last batch
    # whenever there is more than one batch.
    drop_last = task.is_classification and len(train_ds) > batch
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
        valid_ds, batch_size=int(hp["validation_batch_size"]), shuffle=False, **common
    )
    return train_loader, valid_loader
