"""The base of Azure's early-termination policies as Optuna pruners.

Steps are report indices: the trial reports its primary metric after epoch ``e`` as
``trial.report(value, step=e)``, ``e = 1, 2, ...``. As Azure documents ("the policy applies
every multiple of ``evaluation_interval`` that is greater than or equal to
``delay_evaluation``"), a policy acts at step ``s`` when ``s >= 1``,
``s % evaluation_interval == 0`` and ``s >= delay_evaluation``. The primary metric is
maximised; a NaN report is pruned at once (a diverged trial). Other trials' NaN reports are
ignored. Each policy compares the trial with the *other* trials of the study, in any state, so
a trial alone is never pruned.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable
from typing import Any

import optuna
from optuna.pruners import BasePruner

POLICIES: dict[str, type[PolicyPruner]] = {}


def register_policy(name: str) -> Callable[[type[PolicyPruner]], type[PolicyPruner]]:
    """Register a policy pruner class under its ``early_termination.type`` name."""

    def decorator(cls: type[PolicyPruner]) -> type[PolicyPruner]:
        cls.policy_type = name
        POLICIES[name] = cls
        return cls

    return decorator


class PolicyPruner(BasePruner):
    """Acts every ``evaluation_interval`` steps from ``delay_evaluation`` on (see module doc).

    Args:
        evaluation_interval: Steps between evaluations; ``0`` (Azure's SDK default) means 1.
        delay_evaluation: First step that may be evaluated.
    """

    policy_type = ""

    def __init__(self, *, evaluation_interval: int = 1, delay_evaluation: int = 0) -> None:
        self.evaluation_interval = max(1, int(evaluation_interval or 1))
        self.delay_evaluation = max(0, int(delay_evaluation or 0))

    def is_evaluation_step(self, step: int) -> bool:
        """True when the policy acts at report ``step``."""
        return step >= max(1, self.delay_evaluation) and step % self.evaluation_interval == 0

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        step = trial.last_step
        if step is None or not self.is_evaluation_step(step):
            return False
        if math.isnan(trial.intermediate_values[step]):
            return True
        others = [t for t in study.get_trials(deepcopy=False) if t.number != trial.number]
        return self._should_prune(step, _finite(trial), [(t, _finite(t)) for t in others])

    @abc.abstractmethod
    def _should_prune(
        self, step: int, values: dict[int, float], others: list[tuple[Any, dict[int, float]]]
    ) -> bool:
        """Decide at an evaluation ``step``; ``values`` are the trial's non-NaN reports and
        ``others`` pairs each other trial with its non-NaN reports."""


def _finite(trial: optuna.trial.FrozenTrial) -> dict[int, float]:
    return {s: v for s, v in trial.intermediate_values.items() if not math.isnan(v)}
