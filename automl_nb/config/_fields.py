"""Value parsers and the table of every ``training_parameters`` key (v2 names).

Each :class:`Field` knows how to turn a YAML/SDK value into its normalized Python value
(raising :class:`Invalid` with a plain message), how to write it back to YAML, and which tasks
take it. Ranges and allowed values come from the Azure hyperparameter reference.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from automl_nb.registry import suggest
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


def as_number(value: Any) -> float | None:
    """A float from a number or a numeric string (``"1e-4"``), else None; bools are not
    numbers. NaN and infinities come back as they are."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def to_float(value: Any) -> float:
    """A float from a number or a numeric string (``"1e-4"``); bools are refused."""
    number = as_number(value)
    if number is None:
        raise Invalid("must be a number")
    # YAML reads .nan and .inf as floats; no parameter means anything with them.
    if not math.isfinite(number):
        raise Invalid("must be a finite number")
    return number


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
    return (numbers[0], numbers[1])


def dump_tile_grid(value: tuple[int, int]) -> str:
    """``(3, 2)`` -> ``'3x2'``, the form Azure documents."""
    return f"{value[0]}x{value[1]}"


ADVANCED_SETTINGS: dict[str, Callable[[Any], Any]] = {
    "apply_mosaic_for_yolo": to_flag,
    "apply_automl_train_augmentations": to_flag,
    "stream_image_files": to_flag,
    # automl-nb's own switch: train from scratch where pretrained weights cannot be had.
    "use_pretrained": to_flag,
    # automl-nb's own: run one trial on this many torchrun processes (GPUs, or CPU processes).
    "processes_per_trial": integer(1),
    # automl-nb's own: evaluate and publish an exponential moving average of the weights.
    "model_ema": to_flag,
    "model_ema_decay": real(0.0, 1.0, low_open=True, high_open=True),
    # automl-nb's own: the autocast dtype (automl_nb.training._precision).
    "precision": one_of(
        "auto",
        "fp32",
        "bf16",
        "fp16",
        aliases={"float32": "fp32", "bfloat16": "bf16", "float16": "fp16", "amp": "auto"},
    ),
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
            close = suggest(key, ADVANCED_SETTINGS, cutoff=0.8)
            if close is not None:
                raise Invalid(f"unknown advanced setting {key!r}", close)
            out[key] = item
            continue
        try:
            out[key] = parse(item)
        except Invalid as exc:
            raise Invalid(f"{key} {exc}") from None
    return out


def dump_json_settings(value: dict[str, Any]) -> str:
    """Advanced settings back to the JSON string Azure expects."""
    return json.dumps(value, sort_keys=False)


def _identity(value: Any) -> Any:
    return value


# Scopes a default can be given for, most specific first (see Field.default_for).
TASK_SCOPE: dict[Task, str] = {
    Task.CLASSIFICATION: "multiclass",
    Task.CLASSIFICATION_MULTILABEL: "multilabel",
    Task.OBJECT_DETECTION: "detection",
    Task.INSTANCE_SEGMENTATION: "segmentation",
}


def scopes(task: Task, family: str | None) -> tuple[str, ...]:
    """Default scopes of a task and model family, most specific first.

    ``family`` is a parameter family of :func:`parameter_family` (``vitb``, ``yolo``, ...).
    """
    group = "classification" if task.is_classification else "detectors"
    task_key = TASK_SCOPE[task]
    if family is None:
        return (task_key, group)
    return (f"{task_key}/{family}", family, task_key, group)


@dataclass(frozen=True)
class Field:
    """One ``training_parameters`` key: parsing, names, defaults and help in one place.

    Attributes:
        name: The v2 name.
        parse: Turns an input value into the normalized value or raises :class:`Invalid`.
        kind: ``int``, ``float``, ``flag``, ``choice``, ``text``, ``grid`` or ``json``; which
            sweep distributions fit depends on it (numeric ones only for ``int``/``float``).
        tasks: The tasks that take this key.
        dump: Turns the normalized value back into its YAML form.
        default: The value when neither the job, the sweep nor a scoped default sets it.
        scoped: Defaults per scope (``multiclass``, ``detection``, ``classification``,
            ``detectors``, a model family such as ``yolo``, or ``task/family`` such as
            ``multilabel/vitl``); the most specific scope wins.
        aliases: Other (SDK v1) names accepted on input.
        settings_name: The v1 name written to ``settings.json`` when it differs.
        local: ``None`` when automl-nb acts on the key; otherwise what it means here (``validate``
            reports it as a warning so nothing is silently ignored).
        help: One line for listings and widgets.
    """

    name: str
    parse: Callable[[Any], Any]
    kind: str
    tasks: frozenset[Task] = ALL_TASKS
    dump: Callable[[Any], Any] = _identity
    default: Any = None
    scoped: Mapping[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    settings_name: str | None = None
    local: str | None = None
    help: str = ""

    def default_for(self, task: Task, family: str | None = None) -> Any:
        """The default for ``task`` and model ``family``, most specific scope first."""
        for scope in scopes(task, family):
            if scope in self.scoped:
                return self.scoped[scope]
        return self.default


def parameter_family(model_name: str, builder_family: str) -> str:
    """The family whose defaults a model takes: ``vits``/``vitb``/``vitl`` (Azure's ViTs),
    ``yolo``, ``rcnn`` (torchvision detectors) or ``cnn`` (every other classifier)."""
    vit = {"vits16r224": "vits", "vitb16r224": "vitb", "vitl16r224": "vitl"}
    if model_name in vit:
        return vit[model_name]
    if builder_family == "yolo":
        return "yolo"
    if builder_family == "torchvision":
        return "rcnn"
    return "cnn"


UNIT = real(0.0, 1.0)
POSITIVE = integer(1)
NON_NEGATIVE = integer(0)
