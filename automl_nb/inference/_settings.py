"""Inference settings: the ``settings.json`` names (Azure's v1 names), defaults and parsing.

A model folder's ``settings.json`` uses the v1 names Azure writes (``valid_crop_size``,
``box_score_thresh``, ...). Users may override any setting by its v1 or v2 name
(``box_score_threshold=0.5``); values given as strings (``--set box_score_thresh=0.5``) are
converted to the setting's type and checked.
"""

from __future__ import annotations

import ast
import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.tasks import Task
from automl_nb.tasks import as_task


def _setting_aliases() -> dict[str, str]:
    """v2 (job YAML) and older names -> the v1 name ``settings.json`` uses (from the table)."""
    from automl_nb.config._parameters import TRAINING_FIELDS

    out: dict[str, str] = {}
    for name, entry in TRAINING_FIELDS.items():
        if entry.settings_name:
            out[name] = entry.settings_name
            out.update({alias: entry.settings_name for alias in entry.aliases})
    return {k: v for k, v in out.items() if k != v}


# Model input sides past this would allocate tens of GB per image: a tampered file.
MAX_IMAGE_SIDE = 16384


@dataclass(frozen=True)
class _Setting:
    kind: str  # "int" | "float" | "bool" | "str" | "grid"
    low: float | None = None
    high: float | None = None
    high_open: bool = False
    choices: tuple[str, ...] = ()


_SPECS: dict[str, _Setting] = {
    "valid_resize_size": _Setting("int", 1, MAX_IMAGE_SIDE),
    "valid_crop_size": _Setting("int", 1, MAX_IMAGE_SIDE),
    "min_size": _Setting("int", 1, MAX_IMAGE_SIDE),
    "max_size": _Setting("int", 1, MAX_IMAGE_SIDE),
    "box_score_thresh": _Setting("float", 0.0, 1.0),
    "nms_iou_thresh": _Setting("float", 0.0, 1.0),
    "box_detections_per_img": _Setting("int", 1),
    "tile_grid_size": _Setting("grid"),
    "tile_overlap_ratio": _Setting("float", 0.0, 1.0, high_open=True),
    "tile_predictions_nms_thresh": _Setting("float", 0.0, 1.0),
    "img_size": _Setting("int", 1, MAX_IMAGE_SIDE),
    "model_size": _Setting("str", choices=("small", "medium", "large", "extra_large", "xlarge")),
    "mask_pixel_score_threshold": _Setting("float", 0.0, 1.0),
    "max_number_of_polygon_points": _Setting("int", 3),
    "export_as_image": _Setting("bool"),
    "image_type": _Setting("str", choices=("jpg", "png", "bmp")),
}

CLASSIFICATION_SETTINGS: tuple[str, ...] = ("valid_resize_size", "valid_crop_size")
# Every detector post-processes (and tiles) with the same settings.
_DETECTOR_SETTINGS: tuple[str, ...] = (
    "box_score_thresh",
    "nms_iou_thresh",
    "box_detections_per_img",
    "tile_grid_size",
    "tile_overlap_ratio",
    "tile_predictions_nms_thresh",
)
DETECTION_SETTINGS: tuple[str, ...] = ("min_size", "max_size", *_DETECTOR_SETTINGS)
YOLO_SETTINGS: tuple[str, ...] = ("img_size", "model_size", *_DETECTOR_SETTINGS)
MASK_SETTINGS: tuple[str, ...] = (
    "mask_pixel_score_threshold",
    "max_number_of_polygon_points",
    "export_as_image",
    "image_type",
)

SETTING_ALIASES: dict[str, str] = _setting_aliases()
"""v2 and other aliases -> the v1 name used in ``settings.json``."""


def _table_default(v1_name: str, task: Task, family: str) -> Any:
    """The parameter table's default of a setting (Azure's ``settings.json`` defaults)."""
    from automl_nb.config._parameters import TRAINING_FIELDS

    v2 = next(
        (k for k, v in SETTING_ALIASES.items() if v == v1_name and k in TRAINING_FIELDS), v1_name
    )
    value = TRAINING_FIELDS[v2].default_for(task, family)
    if isinstance(value, tuple):
        return _format_grid(value)
    return value


# Keys of settings.json that describe the model rather than tune inference.
IDENTITY_KEYS: tuple[str, ...] = ("model_name", "task")


def _is_yolo(model_name: str | None) -> bool:
    return bool(model_name) and str(model_name).lower().startswith("yolo")


def setting_names(task: Task | str, model_name: str | None = None) -> tuple[str, ...]:
    """The v1 inference-setting names that apply to ``task`` (and model family).

    Args:
        task: The task.
        model_name: The model name; YOLO models use ``img_size``/``model_size`` instead of
            ``min_size``/``max_size``.

    Returns:
        The setting names in ``settings.json`` order.
    """
    task = as_task(task)
    if task.is_classification:
        return CLASSIFICATION_SETTINGS
    names = YOLO_SETTINGS if _is_yolo(model_name) else DETECTION_SETTINGS
    if task is Task.INSTANCE_SEGMENTATION:
        names = names + MASK_SETTINGS
    return names


def canonical_setting_name(name: str) -> str:
    """The v1 ``settings.json`` name for a v1 or v2 setting name.

    Raises:
        ConfigError: ``name`` is not an inference setting (with the nearest valid name).
    """
    key = str(name).strip()
    key = SETTING_ALIASES.get(key, key)
    if key in _SPECS:
        return key
    known = sorted(set(_SPECS) | set(SETTING_ALIASES))
    close = difflib.get_close_matches(str(name), known, n=1)
    raise ConfigError(
        Problem(
            "is not an inference setting",
            path=str(name),
            suggestion=close[0] if close else None,
        )
    )


def parse_tile_grid_size(value: Any) -> tuple[int, int] | None:
    """Parse ``'3x2'``, ``'(3, 2)'``, ``[3, 2]`` or ``None`` into ``(columns, rows)``.

    Raises:
        ValueError: the value is not a grid of two positive integers.
    """
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
        return None
    if isinstance(value, str):
        text = value.strip()
        match = re.fullmatch(r"\s*(\d+)\s*[xX,]\s*(\d+)\s*", text.strip("()[] "))
        if not match:
            raise ValueError(f"expected a grid like '3x2', got {value!r}")
        grid = (int(match.group(1)), int(match.group(2)))
    else:
        try:
            cols, rows = value
            grid = (int(cols), int(rows))
        except (TypeError, ValueError):
            raise ValueError(f"expected a grid like '3x2', got {value!r}") from None
    if grid[0] < 1 or grid[1] < 1:
        raise ValueError(f"grid sizes must be >= 1, got {value!r}")
    return grid


def _format_grid(grid: tuple[int, int] | None) -> str | None:
    return None if grid is None else f"{grid[0]}x{grid[1]}"


def coerce_setting(name: str, value: Any) -> Any:
    """Convert ``value`` (maybe a string from the command line) to the type of setting ``name``.

    Args:
        name: A v1 or v2 setting name.
        value: The value.

    Returns:
        The converted value (``tile_grid_size`` as the string ``'CxR'`` or ``None``).

    Raises:
        ConfigError: unknown setting, or a value of the wrong type or out of range.
    """
    key = canonical_setting_name(name)
    spec = _SPECS[key]

    def bad(message: str) -> ConfigError:
        return ConfigError(Problem(message, path=key, value=repr(value)))

    if spec.kind == "grid":
        try:
            return _format_grid(parse_tile_grid_size(value))
        except ValueError as exc:
            raise bad(str(exc)) from None
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise bad("must be true or false")
    if spec.kind == "str":
        text = str(value).strip().lower()
        if spec.choices and text not in spec.choices:
            raise bad(f"must be one of {', '.join(spec.choices)}")
        return text
    if isinstance(value, str):
        try:
            value_num = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            raise bad(f"must be a number ({spec.kind})") from None
    else:
        value_num = value
    if isinstance(value_num, bool) or not isinstance(value_num, (int, float)):
        raise bad(f"must be a number ({spec.kind})")
    if not math.isfinite(value_num):
        raise bad("must be a finite number")
    if spec.kind == "int":
        if float(value_num) != int(value_num):
            raise bad("must be an integer")
        value_num = int(value_num)
    else:
        value_num = float(value_num)
    if spec.low is not None and value_num < spec.low:
        raise bad(f"must be >= {spec.low:g}")
    if spec.high is not None and (
        value_num > spec.high or (spec.high_open and value_num >= spec.high)
    ):
        raise bad(f"must be {'<' if spec.high_open else '<='} {spec.high:g}")
    return value_num


def _model_defaults(model_name: str | None, task: Task) -> dict[str, Any]:
    """Per-model defaults (v2 or v1 names) from the model registry, when it knows the model."""
    if not model_name:
        return {}
    try:
        from automl_nb.models import get_model_cfg
    except ImportError:  # pragma: no cover - the registry is part of the package
        return {}
    try:
        cfg = get_model_cfg(model_name, task.value)
    except Exception:  # noqa: BLE001 - unknown names are reported when the model is built
        return {}
    return dict(getattr(cfg, "defaults", {}) or {})


def default_inference_settings(
    task: Task | str,
    model_name: str | None = None,
    hyperparameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``settings.json`` content for a model: defaults, model defaults, then hyperparameters.

    Args:
        task: The task.
        model_name: The registry name of the model (its per-model defaults apply).
        hyperparameters: Resolved hyperparameters (v2 or v1 names); the inference settings
            among them win, the others are ignored.

    Returns:
        A dict with the v1 setting names for the task plus ``"model_name"`` and ``"task"``.
    """
    task = as_task(task)
    names = setting_names(task, model_name)
    family = "yolo" if _is_yolo(model_name) else ("cnn" if task.is_classification else "rcnn")
    settings: dict[str, Any] = {name: _table_default(name, task, family) for name in names}
    for source in (_model_defaults(model_name, task), dict(hyperparameters or {})):
        for key, value in source.items():
            canonical = SETTING_ALIASES.get(key, key)
            if canonical in settings and value is not None:
                settings[canonical] = coerce_setting(canonical, value)
    settings["model_name"] = model_name
    settings["task"] = task.value
    return settings


def merge_settings(
    base: Mapping[str, Any], overrides: Mapping[str, Any], task: Task | str
) -> dict[str, Any]:
    """``base`` with ``overrides`` (v1 or v2 names) applied and checked for ``task``.

    Raises:
        ConfigError: an override is unknown, does not apply to the task, or has a bad value.
    """
    task = as_task(task)
    merged = dict(base)
    allowed = set(setting_names(task, merged.get("model_name")))
    problems = []
    for name, value in overrides.items():
        try:
            key = canonical_setting_name(name)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if key not in allowed:
            problems.append(
                Problem(f"is not an inference setting for {task.value}", path=str(name))
            )
            continue
        try:
            merged[key] = coerce_setting(key, value)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems, header="invalid inference settings:")
    return merged


def apply_detector_settings(model: Any, settings: Mapping[str, Any]) -> None:
    """Push the resize bounds and box thresholds into a torchvision detector or yolov5."""
    if hasattr(model, "img_size") and hasattr(model, "score_thresh"):  # yolov5
        if "img_size" in settings:
            model.img_size = int(settings["img_size"])
        model.score_thresh = float(settings["box_score_thresh"])
        model.nms_thresh = float(settings["nms_iou_thresh"])
        model.detections_per_img = int(settings["box_detections_per_img"])
        return
    transform = getattr(model, "transform", None)
    if transform is not None and "min_size" in settings:
        transform.min_size = (int(settings["min_size"]),)
        transform.max_size = int(settings["max_size"])
    # Faster/Mask R-CNN keep the thresholds on roi_heads, RetinaNet (and FCOS) on the model.
    target = getattr(model, "roi_heads", model)
    if hasattr(target, "score_thresh"):
        target.score_thresh = float(settings["box_score_thresh"])
    if hasattr(target, "nms_thresh"):
        target.nms_thresh = float(settings["nms_iou_thresh"])
    if hasattr(target, "detections_per_img"):
        target.detections_per_img = int(settings["box_detections_per_img"])
