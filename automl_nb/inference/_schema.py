"""A checker for the Azure AutoML-for-Images scoring output schema."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from automl_nb.tasks import Task
from automl_nb.tasks import as_task

_BOX_KEYS = ("topX", "topY", "bottomX", "bottomY")


class SchemaError(ValueError):
    """A prediction does not follow the Azure scoring output schema."""


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _unit(value: Any) -> bool:
    return _number(value) and 0.0 <= value <= 1.0


def _check_classification(pred: Mapping[str, Any], task: Task, errors: list[str]) -> None:
    extra = set(pred) - {"probs", "labels", "visualizations", "attributions"}
    if extra:
        errors.append(f"unexpected keys {sorted(extra)}")
    probs, labels = pred.get("probs"), pred.get("labels")
    if not isinstance(probs, list) or not isinstance(labels, list):
        errors.append("'probs' and 'labels' must be lists")
        return
    if len(probs) != len(labels):
        errors.append(f"{len(probs)} probs for {len(labels)} labels")
    if not all(isinstance(label, str) for label in labels):
        errors.append("labels must be strings")
    if len(set(labels)) != len(labels):
        errors.append("labels must be unique")
    if not all(_unit(p) for p in probs):
        errors.append("probs must be numbers in [0, 1]")
    elif task is Task.CLASSIFICATION and probs and abs(sum(probs) - 1.0) > 1e-3:
        errors.append(f"multi-class probs must sum to 1 (sum {sum(probs):.6f})")


def _check_polygon(polygon: Any, where: str, errors: list[str]) -> None:
    if not isinstance(polygon, list):
        errors.append(f"{where}.polygon must be a list of segments")
        return
    for j, segment in enumerate(polygon):
        if not isinstance(segment, list):
            errors.append(f"{where}.polygon[{j}] must be a list of numbers")
        elif len(segment) % 2 or len(segment) < 6:
            errors.append(f"{where}.polygon[{j}] needs an even number (>= 6) of values")
        elif not all(_unit(v) for v in segment):
            errors.append(f"{where}.polygon[{j}] values must be numbers in [0, 1]")


def _check_detection(pred: Mapping[str, Any], task: Task, errors: list[str]) -> None:
    extra = set(pred) - {"boxes"}
    if extra:
        errors.append(f"unexpected keys {sorted(extra)}")
    boxes = pred.get("boxes")
    if not isinstance(boxes, list):
        errors.append("'boxes' must be a list")
        return
    for i, entry in enumerate(boxes):
        where = f"boxes[{i}]"
        if not isinstance(entry, Mapping):
            errors.append(f"{where} must be an object")
            continue
        required = {"box", "label", "score"}
        if task is Task.INSTANCE_SEGMENTATION:
            required.add("polygon")
        missing = required - set(entry)
        if missing:
            errors.append(f"{where} misses {sorted(missing)}")
        allowed = required | ({"mask"} if task is Task.INSTANCE_SEGMENTATION else set())
        extra = set(entry) - allowed
        if extra:
            errors.append(f"{where} has unexpected keys {sorted(extra)}")
        box = entry.get("box")
        if isinstance(box, Mapping):
            if set(box) != set(_BOX_KEYS):
                errors.append(f"{where}.box keys must be {list(_BOX_KEYS)}")
            elif not all(_unit(box[k]) for k in _BOX_KEYS):
                errors.append(f"{where}.box coordinates must be numbers in [0, 1]")
            elif box["topX"] > box["bottomX"] or box["topY"] > box["bottomY"]:
                errors.append(f"{where}.box is inverted")
        elif "box" in entry:
            errors.append(f"{where}.box must be an object")
        if "label" in entry and not isinstance(entry["label"], str):
            errors.append(f"{where}.label must be a string")
        if "score" in entry and not _unit(entry["score"]):
            errors.append(f"{where}.score must be a number in [0, 1]")
        if "polygon" in entry:
            _check_polygon(entry["polygon"], where, errors)
        if "mask" in entry and not isinstance(entry["mask"], str):
            errors.append(f"{where}.mask must be a base64 string")


def prediction_problems(pred: Any, task: Task | str) -> list[str]:
    """Every way ``pred`` departs from the Azure output schema for ``task`` (empty when valid).

    Args:
        pred: One image's prediction (a dict), as ``predict`` returns per image.
        task: The task.

    Returns:
        Human-readable problems; an empty list means the prediction is valid.
    """
    task = as_task(task)
    errors: list[str] = []
    if not isinstance(pred, Mapping):
        return [f"a prediction must be an object, got {type(pred).__name__}"]
    if task.is_classification:
        _check_classification(pred, task, errors)
    else:
        _check_detection(pred, task, errors)
    return errors


def validate_prediction(pred: Any, task: Task | str) -> None:
    """Check one prediction (or a list of them) against the Azure output schema.

    Checks keys, types, ranges (probabilities, scores and coordinates in [0, 1]), that
    multi-class probabilities sum to 1, that boxes are not inverted and that polygon segments
    have an even number of values.

    Args:
        pred: One image's prediction dict, or a list of them.
        task: The task.

    Raises:
        SchemaError: listing every problem found.
    """
    preds = pred if isinstance(pred, list) else [pred]
    problems: list[str] = []
    for i, one in enumerate(preds):
        prefix = f"[{i}] " if isinstance(pred, list) else ""
        problems.extend(prefix + p for p in prediction_problems(one, task))
    if problems:
        raise SchemaError(
            "prediction does not follow the Azure schema:\n  " + "\n  ".join(problems)
        )
