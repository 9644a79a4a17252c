"""Tiny saved model folders for tests of prediction, export, serving and the notebook verbs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


def tiny_model_folder(
    folder: str | os.PathLike[str],
    *,
    labels: Sequence[str] = ("can", "carton"),
    model_name: str = "resnet18",
    task: str = "image_classification",
    validation_resize_size: int = 40,
    validation_crop_size: int = 32,
) -> Path:
    """An untrained classifier saved as a model folder (random weights; imports torch).

    It loads with :func:`automl_nb.inference.load_model` like any trained one, so code that
    reads model folders can be tested in a second.

    Args:
        folder: Where the model folder goes (created).
        labels: Its class names.
        model_name: A registry or timm classifier name.
        task: ``image_classification`` or ``image_classification_multilabel``.
        validation_resize_size: ``valid_resize_size`` of its ``settings.json``.
        validation_crop_size: ``valid_crop_size`` of its ``settings.json``.
    """
    from automl_nb.inference import save_model_dir
    from automl_nb.models import create_model

    model = create_model(model_name, task=task, num_classes=len(labels), pretrained=False)
    return save_model_dir(
        Path(folder),
        model=model,
        model_name=model_name,
        task=task,
        labels=list(labels),
        hyperparameters={
            "validation_resize_size": validation_resize_size,
            "validation_crop_size": validation_crop_size,
        },
    )
