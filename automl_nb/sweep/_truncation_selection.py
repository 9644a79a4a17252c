"""``truncation_selection``: stop the lowest percentage of trials at each evaluation."""

from __future__ import annotations

import math
from typing import Any

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.sweep._policy_base import PolicyPruner
from automl_nb.sweep._policy_base import register_policy


@register_policy("truncation_selection")
class TruncationSelectionPruner(PolicyPruner):
    """Azure's truncation selection policy on a maximised metric.

    At an evaluation step ``s`` (see :class:`PolicyPruner`), the ranking holds the trial and
    every other trial with a report at exactly step ``s`` (running or finished; finished ones,
    i.e. completed, pruned or failed, are left out with ``exclude_finished_jobs``), compared by
    their value at ``s``. With ``n`` trials ranked, the lowest ``k = floor(n * p / 100)`` are
    cut (``p`` = ``truncation_percentage``; floor, so never more than ``p`` % are cut and a
    trial alone is never pruned). Ties favour the trial: it is pruned only when at least
    ``n - k`` ranked trials are strictly better than it.

    Example:
        .. testcode::

            import optuna
            from automl_nb.sweep import TruncationSelectionPruner

            pruner = TruncationSelectionPruner(truncation_percentage=50)
            study = optuna.create_study(direction="maximize", pruner=pruner)
            first = study.ask()
            first.report(0.9, step=1)
            second = study.ask()
            second.report(0.4, step=1)
            assert second.should_prune()  # n=2, k=1: the lower one is cut

    Args:
        truncation_percentage: Percentage of trials to cut at each evaluation, in (0, 100).
        evaluation_interval: Steps between evaluations.
        delay_evaluation: First step that may be evaluated.
        exclude_finished_jobs: Rank only trials that are still running.

    Raises:
        ConfigError: ``truncation_percentage`` outside (0, 100).
    """

    parameters = ("truncation_percentage", *PolicyPruner.parameters, "exclude_finished_jobs")

    def __init__(
        self,
        *,
        truncation_percentage: float = 5,
        evaluation_interval: int = 1,
        delay_evaluation: int = 0,
        exclude_finished_jobs: bool = False,
    ) -> None:
        super().__init__(
            evaluation_interval=evaluation_interval, delay_evaluation=delay_evaluation
        )
        if not 0 < truncation_percentage < 100:
            raise ConfigError(
                Problem(
                    "must be between 1 and 99",
                    path="sweep.early_termination.truncation_percentage",
                    value=repr(truncation_percentage),
                )
            )
        self.truncation_percentage = truncation_percentage
        self.exclude_finished_jobs = bool(exclude_finished_jobs)

    def _peers(self, step: int, others: list[tuple[Any, dict[int, float]]]) -> list[float]:
        return [
            vals[step]
            for trial, vals in others
            if step in vals and not (self.exclude_finished_jobs and trial.state.is_finished())
        ]

    def _cut_line(self, step: int, others: list[tuple[Any, dict[int, float]]]) -> float | None:
        # With the trial, n are ranked and k cut; it is cut when n - k peers beat it, i.e.
        # when it is below the (n - k)-th best peer.
        peers = sorted(self._peers(step, others), reverse=True)
        n = len(peers) + 1
        cut = math.floor(n * self.truncation_percentage / 100)
        return peers[n - cut - 1] if cut > 0 else None

    def _should_prune(
        self, step: int, values: dict[int, float], others: list[tuple[Any, dict[int, float]]]
    ) -> bool:
        own = values[step]
        peers = [
            vals[step]
            for trial, vals in others
            if step in vals and not (self.exclude_finished_jobs and trial.state.is_finished())
        ]
        n = len(peers) + 1
        cut = math.floor(n * self.truncation_percentage / 100)
        if cut == 0:
            return False
        better = sum(1 for v in peers if v > own)
        return better >= n - cut
