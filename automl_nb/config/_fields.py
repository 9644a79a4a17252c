"""Value parsers and the table of every ``training_parameters`` key (v2 names).

Each :class:`Field` knows how to turn a YAML/SDK value into its normalized Python value
(raising :class:`Invalid` with a plain message), how to write it back to YAML, and which tasks
take it. Ranges and allowed values come from the Azure hyperparameter reference.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from automl_nb.config._names import suggest
from automl_nb.tasks import Task


class Invalid(ValueError):
    """A value that does not fit its field; ``str(exc)`` says what is expected."""

    def __init__(self, message: str, suggestion: str | None = None):
        super().__init__(message)
        self.suggestion = suggestion


CLASSIFICATION = frozenset({Task.CLASSIFICATION, Task.CLASSIFICATION_MULTILABEL})
DETECTION = frozenset({Task.OBJECT_DETECTION, Task.INSTANCE_SEGMENTATION})
OBJECT_DETECTION = frozenset({Task.OBJECT_DETECTION})
SEGMENTATION = frozenset({Task.INSTANCE_SEGMENTATION})
ALL_TASKS = CLASSIFICATION | DETECTION

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def to_float(value: Any) -> float:
    """A float from a number or a numeric string (``"1e-4"``); bools are refused."""
    if isinstance(value, bool) or value is None:
        raise Invalid("must be a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise Invalid("must be a number")


def to_int(value: Any) -> int:
    """An int from an int, an integral float or a numeric string; bools are refused."""
    if isinstance(value, bool) or value is None:
        raise Invalid("must be an integer")
    if isinstance(value, int):
        return value
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise Invalid("must be an integer") from None
    if not number.is_integer():
        raise Invalid("must be an integer")
    return int(number)


def to_flag(value: Any) -> bool:
    """A bool from ``true``/``false``, ``1``/``0`` or the strings ``"True"``, ``"1"``, ..."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise Invalid("must be 0 or 1 (or true/false)")


def to_text(value: Any) -> str:
    """A non-empty string; numbers are turned into strings (``name: 2024``)."""
    if isinstance(value, bool) or value is None or isinstance(value, (Mapping, list, tuple)):
        raise Invalid("must be a string")
    text = str(value).strip()
    if not text:
        raise Invalid("must not be empty")
    return text


def integer(low: int | None = None, high: int | None = None) -> Callable[[Any], int]:
    """A parser of ints in ``[low, high]`` (either bound may be open-ended)."""

    def parse(value: Any) -> int:
        number = to_int(value)
        if (low is not None and number < low) or (high is not None and number > high):
            raise Invalid(_range_text(low, high, False, False))
        return number

    return parse


def real(
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> Callable[[Any], float]:
    """A parser of floats in the interval ``[low, high]`` (``low_open``/``high_open``: open)."""

    def parse(value: Any) -> float:
        number = to_float(value)
        if low is not None and (number < low or (low_open and number == low)):
            raise Invalid(_range_text(low, high, low_open, high_open))
        if high is not None and (number > high or (high_open and number == high)):
            raise Invalid(_range_text(low, high, low_open, high_open))
        return number

    return parse


def _range_text(low: Any, high: Any, low_open: bool, high_open: bool) -> str:
    low = f"{low:g}" if low is not None else None
    high = f"{high:g}" if high is not None else None
    if high is None:
        return f"must be {'>' if low_open else '>='} {low}"
    if low is None:
        return f"must be {'<' if high_open else '<='} {high}"
    return f"must be in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"


def one_of(*values: Any, aliases: Mapping[str, str] | None = None) -> Callable[[Any], Any]:
    """A parser of one of ``values`` (strings compared case-insensitively)."""
    aliases = dict(aliases or {})

    def parse(value: Any) -> Any:
        if isinstance(value, str):
            key = value.strip().lower()
            key = aliases.get(key, key)
            for allowed in values:
                if isinstance(allowed, str) and allowed == key:
                    return allowed
        elif not isinstance(value, bool):
            for allowed in values:
                if not isinstance(allowed, str) and allowed == value:
                    return allowed
        if all(not isinstance(v, str) for v in values) and isinstance(value, str):
            try:
                return parse(to_int(value))
            except Invalid:
                pass
        names = [str(v) for v in values]
        raise Invalid(f"must be one of: {', '.join(names)}", suggest(str(value), names))

    return parse


def tile_grid(value: Any) -> tuple[int, int]:
    """``'3x2'``, ``"(3, 2)"``, ``"3,2"`` or ``[3, 2]`` -> ``(3, 2)`` (columns, rows)."""
    parts: list[Any]
    if isinstance(value, str):
        parts = [p for p in re.split(r"[x,\s()\[\]]+", value.strip().lower()) if p]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = []
    try:
        numbers = tuple(to_int(p) for p in parts)
    except Invalid:
        numbers = ()
    if len(numbers) != 2 or min(numbers) < 1:
        raise Invalid("must be a grid like '3x2' (columns x rows, each >= 1)")
    return numbers  # type: ignore[return-value]


def dump_tile_grid(value: tuple[int, int]) -> str:
    """``(3, 2)`` -> ``'3x2'``, the form Azure documents."""
    return f"{value[0]}x{value[1]}"


ADVANCED_SETTINGS: dict[str, Callable[[Any], Any]] = {
    "apply_mosaic_for_yolo": to_flag,
    "apply_automl_train_augmentations": to_flag,
    "stream_image_files": to_flag,
    # automl-nb's own switch: train from scratch where pretrained weights cannot be had.
    "use_pretrained": to_flag,
}
"""Known ``advanced_settings`` keys; other keys pass through unchanged."""


def json_settings(value: Any) -> dict[str, Any]:
    """``advanced_settings``: a JSON object string (as Azure takes it) or a mapping."""
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            raise Invalid(
                f"must be a JSON object string ({exc.msg} at column {exc.pos + 1})"
            ) from None
    if not isinstance(value, Mapping):
        raise Invalid("must be a JSON object (a string like '{\"stream_image_files\": true}')")
    out: dict[str, Any] = {}
    for key, item in value.items():
        key = str(key)
        parse = ADVANCED_SETTINGS.get(key)
        if parse is None:
            # A near-miss of a known switch is a typo that would silently do nothing.
            close = suggest(key, ADVANCED_SETTINGS)
            if close is not None and _similar(key, close):
                raise Invalid(f"unknown advanced setting {key!r}", close)
            out[key] = item
            continue
        try:
            out[key] = parse(item)
        except Invalid as exc:
            raise Invalid(f"{key} {exc}") from None
    return out


def _similar(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


def dump_json_settings(value: dict[str, Any]) -> str:
    """Advanced settings back to the JSON string Azure expects."""
    return json.dumps(value, sort_keys=False)


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Field:
    """One ``training_parameters`` key.

    Attributes:
        name: The v2 name.
        parse: Turns an input value into the normalized value or raises :class:`Invalid`.
        kind: ``int``, ``float``, ``flag``, ``choice``, ``text``, ``grid`` or ``json``; which
            sweep distributions fit depends on it (numeric ones only for ``int``/``float``).
        tasks: The tasks that take this key.
        dump: Turns the normalized value back into its YAML form.
    """

    name: str
    parse: Callable[[Any], Any]
    kind: str
    tasks: frozenset[Task] = ALL_TASKS
    dump: Callable[[Any], Any] = _identity


_UNIT = real(0.0, 1.0)
_POSITIVE = integer(1)
_NON_NEGATIVE = integer(0)


def _f(name: str, parse: Callable[[Any], Any], kind: str, tasks=ALL_TASKS, dump=_identity):
    return Field(name, parse, kind, tasks, dump)


_FIELDS: list[Field] = [
    # model-agnostic
    _f("model_name", to_text, "text"),
    _f("number_of_epochs", _POSITIVE, "int"),
    _f("training_batch_size", _POSITIVE, "int"),
    _f("validation_batch_size", _POSITIVE, "int"),
    _f("gradient_accumulation_step", _POSITIVE, "int"),
    _f("early_stopping", to_flag, "flag"),
    _f("early_stopping_patience", _POSITIVE, "int"),
    _f("early_stopping_delay", _NON_NEGATIVE, "int"),
    _f("learning_rate", _UNIT, "float"),
    _f("learning_rate_scheduler", one_of("warmup_cosine", "step", "none"), "choice"),
    _f("step_lr_gamma", _UNIT, "float"),
    _f("step_lr_step_size", _POSITIVE, "int"),
    _f("warmup_cosine_lr_cycles", _UNIT, "float"),
    _f("warmup_cosine_lr_warmup_epochs", _NON_NEGATIVE, "int"),
    _f("optimizer", one_of("sgd", "adam", "adamw"), "choice"),
    _f("momentum", _UNIT, "float"),
    _f("weight_decay", _UNIT, "float"),
    _f("nesterov", to_flag, "flag"),
    _f("beta1", _UNIT, "float"),
    _f("beta2", _UNIT, "float"),
    _f("ams_gradient", to_flag, "flag"),
    _f("evaluation_frequency", _POSITIVE, "int"),
    _f("checkpoint_frequency", _POSITIVE, "int"),
    _f("checkpoint_run_id", to_text, "text"),
    _f("checkpoint_dataset_id", to_text, "text"),
    _f("checkpoint_filename", to_text, "text"),
    # automl-nb: incremental training from a local model file.
    _f("checkpoint_path", to_text, "text"),
    _f("layers_to_freeze", _NON_NEGATIVE, "int"),
    _f("distributed", to_flag, "flag"),
    _f("enable_onnx_normalization", to_flag, "flag"),
    _f("number_of_workers", _NON_NEGATIVE, "int"),
    _f("random_seed", _NON_NEGATIVE, "int"),
    _f("advanced_settings", json_settings, "json", dump=dump_json_settings),
    _f("augmentations", to_text, "text"),
    # classification
    _f("weighted_loss", one_of(0, 1, 2), "choice", CLASSIFICATION),
    _f("validation_resize_size", _POSITIVE, "int", CLASSIFICATION),
    _f("validation_crop_size", _POSITIVE, "int", CLASSIFICATION),
    _f("training_crop_size", _POSITIVE, "int", CLASSIFICATION),
    # object detection and instance segmentation
    _f("validation_metric_type", one_of("none", "coco", "voc", "coco_voc"), "choice", DETECTION),
    _f("validation_iou_threshold", real(0.1, 1.0), "float", DETECTION),
    _f("min_size", _POSITIVE, "int", DETECTION),
    _f("max_size", _POSITIVE, "int", DETECTION),
    _f("box_score_threshold", _UNIT, "float", DETECTION),
    _f("nms_iou_threshold", _UNIT, "float", DETECTION),
    _f("box_detections_per_image", _POSITIVE, "int", DETECTION),
    _f("tile_grid_size", tile_grid, "grid", DETECTION, dump_tile_grid),
    _f("tile_overlap_ratio", real(0.0, 1.0, high_open=True), "float", DETECTION),
    _f("tile_predictions_nms_threshold", _UNIT, "float", DETECTION),
    # yolov5
    _f("image_size", _POSITIVE, "int", OBJECT_DETECTION),
    _f(
        "model_size",
        one_of("small", "medium", "large", "extra_large", aliases={"xlarge": "extra_large"}),
        "choice",
        OBJECT_DETECTION,
    ),
    _f("multi_scale", to_flag, "flag", OBJECT_DETECTION),
    # Mask R-CNN inference
    _f("mask_pixel_score_threshold", _UNIT, "float", SEGMENTATION),
    _f("max_number_of_polygon_points", _POSITIVE, "int", SEGMENTATION),
    _f("export_as_image", to_flag, "flag", SEGMENTATION),
    _f("image_type", one_of("jpg", "png", "bmp"), "choice", SEGMENTATION),
]

TRAINING_FIELDS: dict[str, Field] = {f.name: f for f in _FIELDS}
"""Every ``training_parameters`` key (v2 name) -> its :class:`Field`."""


def fields_for(task: Task | None) -> dict[str, Field]:
    """The training fields a task takes (all of them when the task is not known yet)."""
    if task is None:
        return TRAINING_FIELDS
    return {name: f for name, f in TRAINING_FIELDS.items() if task in f.tasks}


DEFAULT_MODEL: dict[Task, str] = {
    Task.CLASSIFICATION: "vitb16r224",
    Task.CLASSIFICATION_MULTILABEL: "vitb16r224",
    Task.OBJECT_DETECTION: "yolov5",  # Azure's default
    Task.INSTANCE_SEGMENTATION: "maskrcnn_resnet50_fpn",
}
"""The model a task trains when ``model_name`` is not given."""

_COMMON_DEFAULTS: dict[str, Any] = {
    "number_of_epochs": 15,
    "gradient_accumulation_step": 1,
    "early_stopping": True,
    "early_stopping_patience": 5,
    "early_stopping_delay": 5,
    "learning_rate_scheduler": "warmup_cosine",
    "step_lr_gamma": 0.5,
    "step_lr_step_size": 5,
    "warmup_cosine_lr_cycles": 0.45,
    "warmup_cosine_lr_warmup_epochs": 2,
    "optimizer": "sgd",
    "momentum": 0.9,
    "weight_decay": 1e-4,
    "nesterov": True,
    "beta1": 0.9,
    "beta2": 0.999,
    "ams_gradient": False,
    "evaluation_frequency": 1,
    "layers_to_freeze": 0,
    "distributed": False,
    "enable_onnx_normalization": False,
}

_TASK_DEFAULTS: dict[frozenset[Task], dict[str, Any]] = {
    CLASSIFICATION: {"weighted_loss": 0},
    DETECTION: {
        "validation_metric_type": "voc",
        "validation_iou_threshold": 0.5,
        "nms_iou_threshold": 0.5,
        "box_detections_per_image": 100,
        "tile_overlap_ratio": 0.25,
        "tile_predictions_nms_threshold": 0.25,
    },
    SEGMENTATION: {
        "mask_pixel_score_threshold": 0.5,
        "max_number_of_polygon_points": 100,
        "export_as_image": False,
        "image_type": "jpg",
    },
}


def default_training_parameters(task: Task | str, model_name: str | None = None) -> dict:
    """Task-level training defaults of the Azure reference (v2 names).

    Only values that do not depend on the model family are here (epochs 15, ``sgd``,
    momentum 0.9, ...); batch sizes, learning rates, input sizes and score thresholds come
    from the model registry's per-model defaults.

    Args:
        task: The task (``Task`` or its name).
        model_name: The model; defaults to the task's default model.

    Returns:
        A new dict of v2 name -> default value, including ``model_name``.
    """
    from automl_nb.tasks import as_task

    task = as_task(task)
    out: dict[str, Any] = {"model_name": model_name or DEFAULT_MODEL[task]}
    out.update(_COMMON_DEFAULTS)
    for tasks, values in _TASK_DEFAULTS.items():
        if task in tasks:
            out.update(values)
    return out
