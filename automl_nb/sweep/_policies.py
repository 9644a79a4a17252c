"""``create_pruner``: the Optuna pruner for a job's ``sweep.early_termination``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import optuna

from automl_nb.sweep._bandit import BanditPruner
from automl_nb.sweep._median_stopping import MedianStoppingPruner
from automl_nb.sweep._policy_base import POLICIES
from automl_nb.sweep._policy_base import PolicyPruner
from automl_nb.sweep._truncation_selection import TruncationSelectionPruner

__all__ = ["BanditPruner", "MedianStoppingPruner", "TruncationSelectionPruner", "create_pruner"]


def list_policies() -> list[str]:
    """The registered ``early_termination`` type names."""
    return sorted(POLICIES.names())


def _policy_type(policy: Any) -> str:
    if isinstance(policy, str):
        return policy
    if isinstance(policy, Mapping):
        return str(policy.get("type", ""))
    declared = getattr(policy, "type", None)
    if isinstance(declared, str) and declared:
        return declared
    # BanditPolicy -> bandit, MedianStoppingPolicy -> median_stopping, ...
    stem = re.sub(r"Policy$", "", type(policy).__name__)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", stem).lower()


def create_pruner(policy: Any) -> optuna.pruners.BasePruner:
    """Create the Optuna pruner for an early-termination policy.

    Args:
        policy: ``None`` (no early termination: ``NopPruner``), a config policy object
            (``BanditPolicy``, ``MedianStoppingPolicy``, ``TruncationSelectionPolicy``, read
            by attribute name), a mapping in the YAML form (``{"type": "bandit", ...}``), or a
            bare type name for the defaults.

    Returns:
        An ``optuna.pruners.BasePruner``.

    Raises:
        ConfigError: Unknown policy type (with the closest name) or invalid parameters.
    """
    if policy is None:
        return optuna.pruners.NopPruner()
    name = _policy_type(policy).strip().lower()
    cls = POLICIES.get(name)  # an unknown name: ConfigError with the nearest names
    kwargs: dict[str, Any] = {}
    if not isinstance(policy, str):
        for key in cls.parameters:
            value = policy.get(key) if isinstance(policy, Mapping) else getattr(policy, key, None)
            if value is not None:
                kwargs[key] = value
    pruner: PolicyPruner = cls(**kwargs)
    return pruner
