"""Fixtures: small classifiers trained for real on the fridge images (64 px, CPU, seconds)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

SIZE = 64
# A small ReLU ResNet: ~2.5x cheaper than resnet18 per step. (Hard-swish nets such as
# mobilenetv3 train faster but their kinked path integrand needs far more IG steps.)
ARCH = "resnet10t"
FRIDGE_LABELS = ["can", "carton", "milk_bottle", "water_bottle"]


@dataclass
class Trained:
    """A trained model with what it was trained on."""

    model: Any
    labels: list[str]
    task: str
    images: list[Path]
    accuracy: float


def _load(paths: list[Path]) -> Any:
    import torch
    from PIL import Image

    from automl_nb.explain._inputs import crop_image
    from automl_nb.explain._inputs import normalise

    batch = []
    for path in paths:
        with Image.open(path) as image:
            cropped = crop_image(image, resize_size=SIZE, crop_size=SIZE)
        batch.append(normalise(cropped, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)))
    return torch.cat(batch)


def train_classifier(
    paths: list[Path], targets: Any, num_classes: int, *, multilabel: bool, epochs: int
) -> tuple[Any, float]:
    """Train a from-scratch timm resnet10t with Adam; returns (model, training-set score)."""
    import torch

    torch.manual_seed(0)
    # One thread: on a busy 2-core machine two OpenMP threads per process are ~5x slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(paths, targets, num_classes, multilabel=multilabel, epochs=epochs)
    finally:
        torch.set_num_threads(threads)


def _train(
    paths: list[Path], targets: Any, num_classes: int, *, multilabel: bool, epochs: int
) -> tuple[Any, float]:
    import timm
    import torch

    inputs = _load(paths)
    model = timm.create_model(ARCH, pretrained=False, num_classes=num_classes)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = torch.nn.BCEWithLogitsLoss() if multilabel else torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(inputs), generator=generator)
        for start in range(0, len(order), 32):
            idx = order[start : start + 32]
            batch = inputs[idx]
            flip = torch.rand(len(idx), generator=generator) < 0.5
            batch = torch.where(flip.view(-1, 1, 1, 1), batch.flip(-1), batch)
            optimiser.zero_grad()
            loss_fn(model(batch), targets[idx]).backward()
            optimiser.step()
    model.eval()
    with torch.no_grad():
        logits = model(inputs)
    if multilabel:
        score = float(((logits > 0) == (targets > 0.5)).float().mean())
    else:
        score = float((logits.argmax(1) == targets).float().mean())
    return model, score


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One torch thread per test module: CI and dev machines here have 2 busy cores, where two
    OpenMP threads per process run ~5x slower than one."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def fridge_multiclass() -> Trained:
    """A CNN trained on the 134 fridge thumbnails (4 classes)."""
    import torch

    root = SHARED_DATA / "fridgeObjects" / "thumbnails_150"
    if not root.is_dir():
        pytest.skip("../shared/data/fridgeObjects is not present")
    paths = sorted(root.glob("*/*.jpg"))
    targets = torch.tensor([FRIDGE_LABELS.index(p.parent.name) for p in paths])
    model, accuracy = train_classifier(paths, targets, 4, multilabel=False, epochs=8)
    return Trained(model, FRIDGE_LABELS, "image_classification", paths, accuracy)


@pytest.fixture(scope="session")
def fridge_multilabel() -> Trained:
    """A CNN trained multi-label on the 128 odFridgeObjects images."""
    import torch

    root = SHARED_DATA / "odFridgeObjects"
    if not root.is_dir():
        pytest.skip("../shared/data/odFridgeObjects is not present")
    with open(root / "labels_multilabel_derived.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    paths = [root / "images" / row["filename"] for row in rows]
    targets = torch.zeros(len(rows), 4)
    for i, row in enumerate(rows):
        for name in row["labels"].split():
            targets[i, FRIDGE_LABELS.index(name)] = 1.0
    model, accuracy = train_classifier(paths, targets, 4, multilabel=True, epochs=6)
    return Trained(model, FRIDGE_LABELS, "image_classification_multilabel", paths, accuracy)


def to_numpy(value: Any) -> np.ndarray:
    """Nested lists (Azure JSON) -> array."""
    return np.asarray(value, dtype=np.float32)
