"""Seeded train/validation split, stratified for classification."""

from __future__ import annotations

import random
from collections import Counter
from collections import defaultdict
from collections.abc import Hashable

from automl_nb.data._records import LabeledImages
from automl_nb.errors import DataError
from automl_nb.errors import Problem
from automl_nb.tasks import Task

# Used when the job sets no training_parameters.random_seed, so a job's split is the same on
# every run.
DEFAULT_SPLIT_SEED = 42


def _validation_count(n: int, size: float) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 < size < 1:
        raise DataError(
            Problem(
                "validation_data_size must be a fraction in (0, 1)",
                path="validation_data_size",
                value=repr(size),
            )
        )
    count = round(n * size)
    # At least one image each side.
    return min(max(count, 1), n - 1)


def _allocate(groups: dict[Hashable, list[int]], total: int) -> dict[Hashable, int]:
    """Validation images per group, proportional to group size (largest remainder).

    A group of one image stays in training, and every group keeps at least one training
    image, so validation never holds a class that training lacks.
    """
    n = sum(len(g) for g in groups.values())
    quotas = {key: len(g) * total / n for key, g in groups.items()}
    alloc = {key: min(int(q), len(groups[key]) - 1) for key, q in quotas.items()}
    order = sorted(groups, key=lambda k: (-(quotas[k] - int(quotas[k])), -len(groups[k]), str(k)))
    remaining = total - sum(alloc.values())
    while remaining > 0:
        progressed = False
        for key in order:
            if remaining and alloc[key] < len(groups[key]) - 1:
                alloc[key] += 1
                remaining -= 1
                progressed = True
        if not progressed:
            break
    return alloc


def _strata(data: LabeledImages) -> list[Hashable]:
    if data.task is Task.CLASSIFICATION:
        return [r.label for r in data.records]
    if data.task is Task.CLASSIFICATION_MULTILABEL:
        # Stratify by each image's rarest label: rare labels are the ones a random split
        # leaves out of one side.
        counts = data.label_counts()
        return [
            min(r.class_names, key=lambda name: (counts[name], name)) if r.class_names else ""
            for r in data.records
        ]
    return [0] * len(data.records)


def _repair(data: LabeledImages, train: set[int], valid: set[int]) -> None:
    """Move validation images whose classes are missing from training to training."""
    train_counts = Counter(name for i in train for name in data.records[i].class_names)
    for i in sorted(valid):
        names = data.records[i].class_names
        if any(train_counts[name] == 0 for name in names) and len(valid) > 1:
            valid.remove(i)
            train.add(i)
            train_counts.update(names)


def split_validation(
    data: LabeledImages, size: float = 0.2, *, seed: int | None = None
) -> tuple[LabeledImages, LabeledImages]:
    """Split ``data`` into training and validation sets.

    Multi-class data is stratified by class, multi-label data by each image's rarest label,
    detection data is split at random. A class is never only in validation: classes with a
    single image stay in training.

    Args:
        data: The labelled images (at least two).
        size: Fraction of images for validation, in (0, 1) (``validation_data_size``).
        seed: Random seed (``training_parameters.random_seed``); a fixed default when ``None``.

    Returns:
        ``(train, valid)``, each in the original record order, both with ``data.labels``.

    Raises:
        DataError: ``size`` is not in (0, 1) or there are fewer than two images.
    """
    n = len(data.records)
    if n < 2:
        raise DataError(
            Problem(f"cannot split {n} image(s) into training and validation", file=data.source)
        )
    total = _validation_count(n, size)
    rng = random.Random(DEFAULT_SPLIT_SEED if seed is None else seed)
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for index, key in enumerate(_strata(data)):
        groups[key].append(index)
    for key in sorted(groups, key=str):
        rng.shuffle(groups[key])
    alloc = _allocate(groups, total) if len(groups) > 1 else {k: total for k in groups}
    valid = {i for key, members in groups.items() for i in members[: alloc[key]]}
    train = set(range(n)) - valid
    _repair(data, train, valid)
    train_set = data.subset(sorted(train))
    valid_set = data.subset(sorted(valid))
    train_set.dropped = list(data.dropped)
    return train_set, valid_set
