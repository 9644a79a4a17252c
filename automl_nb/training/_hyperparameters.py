"""Hyperparameter resolution: the one place where defaults, the job and the sweep meet.

Precedence, lowest first:

1. task defaults of the reference (:func:`automl_nb.config.default_training_parameters`);
2. the model's own defaults (:class:`automl_nb.models.ModelCfg` ``defaults``: batch sizes,
   learning rate, input sizes, detector sizes and thresholds);
3. the job's ``training_parameters``;
4. the sampled parameters of this trial (a sweep's configuration, or ``--set`` values).

Names are v2 names in the result; v1 aliases are accepted on input. ``advanced_settings`` is
merged key by key in the same order over :data:`ADVANCED_DEFAULTS`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.tasks import Task
from automl_nb.tasks import as_task

ADVANCED_DEFAULTS: dict[str, Any] = {
    "use_pretrained": True,
    "apply_automl_train_augmentations": True,
    "apply_mosaic_for_yolo": True,
    "stream_image_files": False,
}
"""``advanced_settings`` switches and their defaults."""

# Values the engine reads that the reference leaves unset (None = "not given").
_ENGINE_FALLBACKS: dict[str, Any] = {
    "checkpoint_frequency": None,
    "checkpoint_run_id": None,
    "checkpoint_path": None,
    "number_of_workers": None,
    "random_seed": None,
    "tile_grid_size": None,
}


def _parse_advanced(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.strip() else {}
        except json.JSONDecodeError as exc:
            raise ConfigError(
                Problem(f"must be a JSON object string ({exc.msg})", path=where, value=repr(value))
            ) from None
    if not isinstance(value, Mapping):
        raise ConfigError(Problem("must be a JSON object", path=where, value=repr(value)))
    return dict(value)


def _parse_value(name: str, value: Any) -> Any:
    """Validate and normalise one value with the job parser's field rules."""
    from automl_nb.config._fields import TRAINING_FIELDS
    from automl_nb.config._fields import Invalid

    field = TRAINING_FIELDS.get(name)
    if field is None or value is None:
        return value
    # Sweeps draw floats for integer keys (quniform); 600.0 means 600.
    if field.kind == "int" and isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        return field.parse(value)
    except Invalid as exc:
        raise ConfigError(
            Problem(
                str(exc),
                path=f"training_parameters.{name}",
                value=repr(value),
                suggestion=getattr(exc, "suggestion", None),
            )
        ) from None


def canonical_parameters(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Map v1/v2 names to v2 names and validate values.

    Raises:
        ConfigError: An unknown parameter (with the nearest valid name) or a bad value.
    """
    from automl_nb.config import canonical_parameter_name

    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        key = str(key)
        if key.startswith("training_parameters."):
            key = key[len("training_parameters.") :]
        name = canonical_parameter_name(key)
        if name == "advanced_settings":
            out[name] = _parse_advanced(value, "training_parameters.advanced_settings")
        else:
            out[name] = _parse_value(name, value)
    return out


def select_model_name(spec: Any, params: Mapping[str, Any] | None = None) -> str:
    """The model a trial trains: sampled ``model_name``, else the job's, else the task default."""
    from automl_nb.models import default_model

    sampled = canonical_parameters({k: v for k, v in (params or {}).items() if k == "model_name"})
    if sampled.get("model_name"):
        return str(sampled["model_name"])
    name = getattr(spec.training_parameters, "model_name", None)
    return str(name) if name else default_model(spec.task)


def resolve_hyperparameters(
    spec: Any, params: Mapping[str, Any] | None, model_cfg: Any
) -> dict[str, Any]:
    """Every hyperparameter a trial uses, with its source precedence applied.

    Args:
        spec: The :class:`~automl_nb.config.JobSpec`.
        params: This trial's sampled or overridden parameters (v1 or v2 names), or ``None``.
        model_cfg: The :class:`~automl_nb.models.ModelCfg` of the trial's model.

    Returns:
        A dict of v2 name -> value, including ``model_name`` and a merged
        ``advanced_settings`` dict.

    Raises:
        ConfigError: Unknown parameter name (naming the nearest valid one) or bad value.

    Example:
        >>> from automl_nb.config import load_job
        >>> from automl_nb.models import get_model_cfg
        >>> spec = load_job(
        ...     {
        ...         "task": "image_classification",
        ...         "target_column_name": "label",
        ...         "training_data": {"path": "train.jsonl", "type": "uri_file"},
        ...         "training_parameters": {"learning_rate": 0.02},
        ...     }
        ... )
        >>> hp = resolve_hyperparameters(
        ...     spec, {"number_of_epochs": 3}, get_model_cfg("resnet18", spec.task)
        ... )
        >>> hp["learning_rate"], hp["number_of_epochs"], hp["optimizer"]
        (0.02, 3, 'sgd')
    """
    from automl_nb.config import default_training_parameters

    task: Task = as_task(spec.task)
    sampled = canonical_parameters(params)
    job = canonical_parameters(spec.training_parameters.to_dict())
    resolved: dict[str, Any] = dict(_ENGINE_FALLBACKS)
    resolved.update(default_training_parameters(task, model_cfg.name))
    resolved.update({k: v for k, v in (model_cfg.defaults or {}).items() if v is not None})
    advanced = dict(ADVANCED_DEFAULTS)
    for layer in (job, sampled):
        for key, value in layer.items():
            if key == "advanced_settings":
                advanced.update(value)
            elif value is not None:
                resolved[key] = value
    resolved["advanced_settings"] = advanced
    resolved["model_name"] = model_cfg.name
    return resolved
