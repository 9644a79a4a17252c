"""Old (SDK v1) and new (SDK v2) names of the same settings.

Azure renamed many hyperparameters between SDK v1 and v2 (``box_score_thresh`` became
``box_score_threshold``), but the inference ``settings.json`` still uses the v1 names. Both are
accepted everywhere on input; job YAML output uses v2 names, ``settings.json`` v1 names.
"""

from __future__ import annotations

from automl_nb.config._parameters import TRAINING_ALIASES
from automl_nb.config._parameters import TRAINING_FIELDS
from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.registry import suggest

__all__ = ["TRAINING_ALIASES", "canonical_parameter_name", "settings_name", "suggest"]

JOB_ALIASES: dict[str, str] = {"split_ratio": "validation_data_size"}
"""v1 job-level name -> v2 name."""

LIMIT_ALIASES: dict[str, str] = {
    "iterations": "max_trials",
    "max_concurrent_iterations": "max_concurrent_trials",
    # NOTE the value is in hours; the limits parser converts it to minutes.
    "experiment_timeout_hours": "timeout_minutes",
}
"""v1 ``limits`` name -> v2 name."""

SWEEP_ALIASES: dict[str, str] = {
    "hyperparameter_sampling": "sampling_algorithm",
    "early_termination_policy": "early_termination",
}
"""v1 ``sweep`` name -> v2 name."""

SETTINGS_NAMES: dict[str, str] = {
    **{name: f.settings_name for name, f in TRAINING_FIELDS.items() if f.settings_name},
    "validation_data_size": "split_ratio",
}
"""v2 name -> the v1 name Azure writes into ``settings.json``."""


def settings_name(name: str) -> str:
    """The v1 (``settings.json``) name of a v2 parameter name; other names are unchanged.

    Args:
        name: A v2 (or already v1) parameter name.

    Returns:
        The v1 name, e.g. ``"box_score_thresh"`` for ``"box_score_threshold"``.
    """
    return SETTINGS_NAMES.get(name, name)


def canonical_parameter_name(name: str) -> str:
    """The v2 name of a training parameter given by its v1 or v2 name.

    ``split_ratio`` maps to the job-level ``validation_data_size``.

    Args:
        name: A parameter name such as ``"box_score_thresh"`` or ``"learning_rate"``.

    Returns:
        The v2 name (``"box_score_threshold"``, ``"learning_rate"``).

    Raises:
        ConfigError: ``name`` is no known parameter; the problem suggests the nearest one.
    """
    key = str(name).strip()
    if key in TRAINING_FIELDS or key == "validation_data_size":
        return key
    if key in TRAINING_ALIASES:
        return TRAINING_ALIASES[key]
    if key in JOB_ALIASES:
        return JOB_ALIASES[key]
    known = [*TRAINING_FIELDS, *TRAINING_ALIASES, *JOB_ALIASES, "validation_data_size"]
    raise ConfigError(
        Problem(
            "unknown training parameter",
            path=key,
            value=repr(name),
            suggestion=suggest(key, known),
        )
    )
