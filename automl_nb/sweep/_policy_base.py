"""The base of Azure's early-termination policies as Optuna pruners.

Steps are report indices: the trial reports its primary metric after epoch ``e`` as
``trial.report(value, step=e)``, ``e = 1, 2, ...``. As Azure documents ("the policy applies
every multiple of ``evaluation_interval`` that is greater than or equal to
``delay_evaluation``"), a policy acts at step ``s`` when ``s >= 1``,
``s % evaluation_interval == 0`` and ``s >= delay_evaluation``. The primary metric is
maximised; a NaN report is pruned at once (a diverged trial). Other trials' NaN reports are
ignored. Each policy compares the trial with the *other* trials of the study, in any state, so
a trial alone is never pruned.

Each policy also says where its line is (:meth:`PolicyPruner.cut_line`): the value below which
a trial reporting at a step is pruned, drawn by the dashboard.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable
from typing import Any

import optuna
from optuna.pruners import BasePruner

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.registry import Registry


def _unknown_policy(message: str) -> ConfigError:
    return ConfigError(Problem(message, path="sweep.early_termination.type"))


# The pruner classes, keyed by Azure's ``early_termination.type`` names.
POLICIES: Registry[type[PolicyPruner]] = Registry(
    "early termination policy", error=_unknown_policy
)


def register_policy(name: str) -> Callable[[type[PolicyPruner]], type[PolicyPruner]]:
    """Register a policy pruner class under its ``early_termination.type`` name."""

    def decorator(cls: type[PolicyPruner]) -> type[PolicyPruner]:
        cls.policy_type = name
        return POLICIES.add(name, cls)

    return decorator


class PolicyPruner(BasePruner):
    """Acts every ``evaluation_interval`` steps from ``delay_evaluation`` on (see module doc).

    Args:
        evaluation_interval: Steps between evaluations; ``0`` (Azure's SDK default) means 1.
        delay_evaluation: First step that may be evaluated.
    """

    policy_type = ""
    # The keys of its ``sweep.early_termination`` mapping (config attributes of the same name).
    parameters: tuple[str, ...] = ("evaluation_interval", "delay_evaluation")

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

    def cut_line(
        self,
        study: optuna.Study,
        step: int,
        *,
        trial: optuna.trial.FrozenTrial | None = None,
    ) -> float | None:
        """The value below which a trial reporting at ``step`` is pruned.

        The value compared is the one the policy judges by: the trial's best report up to
        ``step`` for ``bandit`` and ``median_stopping``, its report at ``step`` for
        ``truncation_selection`` (for a trial's first report, simply that report). A trial is
        pruned when it is strictly below the line; at the line it is kept.

        Args:
            study: The study whose trials draw the line.
            step: The report step.
            trial: The trial judged; it is left out of the comparison (default: a trial not
                in ``study`` yet, compared with all of its trials).

        Returns:
            The line, or None when nothing is pruned at ``step`` (not an evaluation step, no
            other trial reported, or nothing to cut).
        """
        if not self.is_evaluation_step(step):
            return None
        skip = None if trial is None else trial.number
        others = [t for t in study.get_trials(deepcopy=False) if t.number != skip]
        return self._cut_line(step, [(t, _finite(t)) for t in others])

    @abc.abstractmethod
    def _cut_line(self, step: int, others: list[tuple[Any, dict[int, float]]]) -> float | None:
        """The line at an evaluation ``step`` drawn by ``others`` (see :meth:`cut_line`)."""

    @abc.abstractmethod
    def _should_prune(
        self, step: int, values: dict[int, float], others: list[tuple[Any, dict[int, float]]]
    ) -> bool:
        """Decide at an evaluation ``step``; ``values`` are the trial's non-NaN reports and
        ``others`` pairs each other trial with its non-NaN reports."""


def _finite(trial: optuna.trial.FrozenTrial) -> dict[int, float]:
    return {s: v for s, v in trial.intermediate_values.items() if not math.isnan(v)}
