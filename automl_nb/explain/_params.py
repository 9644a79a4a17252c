"""Validation of the XAI request parameters (Azure names and defaults)."""

from __future__ import annotations

from typing import Any

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.registry import not_one_of
from automl_nb.registry import suggest

APPROXIMATION_METHODS: tuple[str, ...] = ("riemann_middle", "gausslegendre")

# Every algorithm accepts every parameter, as the Azure endpoint does, and ignores those it does
# not use: a viewer can switch algorithms without rebuilding its parameter set.
PARAMETER_DEFAULTS: dict[str, Any] = {
    "n_steps": 50,
    "xrai_fast": True,
    "approximation_method": "riemann_middle",
    # Not an Azure parameter: how many IG steps go through the model at once. 10 is the fastest
    # measured setting on CPU for a 224 px ResNet; all steps at once is ~1.7x slower.
    "internal_batch_size": 10,
}


def _problem(name: str, message: str, value: Any) -> ConfigError:
    return ConfigError(Problem(message, path=f"xai_parameters.{name}", value=repr(value)))


def resolve_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """The defaults overlaid with ``params``, validated.

    Args:
        params: XAI parameters by their Azure names (``n_steps``, ``xrai_fast``,
            ``approximation_method``) plus ``internal_batch_size``.

    Returns:
        A new dict holding every parameter.

    Raises:
        ConfigError: an unknown name (with the closest known one) or a bad value.
    """
    for name in params:
        if name not in PARAMETER_DEFAULTS:
            raise ConfigError(
                Problem(
                    f"unknown explanation parameter; expected one of "
                    f"{', '.join(PARAMETER_DEFAULTS)}",
                    path=f"xai_parameters.{name}",
                    suggestion=suggest(name, PARAMETER_DEFAULTS),
                )
            )
    resolved = {**PARAMETER_DEFAULTS, **{k: v for k, v in params.items() if v is not None}}
    n_steps = resolved["n_steps"]
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
        raise _problem("n_steps", "must be an integer >= 1", n_steps)
    if not isinstance(resolved["xrai_fast"], bool):
        raise _problem("xrai_fast", "must be true or false", resolved["xrai_fast"])
    method = resolved["approximation_method"]
    if method not in APPROXIMATION_METHODS:
        raise ConfigError(
            not_one_of(method, APPROXIMATION_METHODS, path="xai_parameters.approximation_method")
        )
    batch = resolved["internal_batch_size"]
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise _problem("internal_batch_size", "must be an integer >= 1", batch)
    return resolved


def check_threshold(value: Any) -> float:
    """``confidence_score_threshold_multilabel`` as a float from 0 to 1.

    Raises:
        ConfigError: not a number, not finite, or outside 0..1.
    """
    name = "confidence_score_threshold_multilabel"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise _problem(name, "must be a number from 0 to 1", value)
    return float(value)
