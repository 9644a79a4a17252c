"""``bandit``: stop a trial that falls outside the slack of the best trial."""

from __future__ import annotations

from typing import Any

from automl_nb.errors import ConfigError
from automl_nb.errors import Problem
from automl_nb.sweep._policy_base import PolicyPruner
from automl_nb.sweep._policy_base import register_policy


@register_policy("bandit")
class BanditPruner(PolicyPruner):
    """Azure's bandit policy on a maximised metric.

    At an evaluation step ``s`` (see :class:`PolicyPruner`), let ``own`` be the trial's best
    value reported at steps ``<= s`` and ``best`` the best value any *other* trial reported at
    steps ``<= s`` (its running best, so a trial that reported fewer steps still counts with
    its latest). The trial is pruned when ``own < best / (1 + slack_factor)`` or
    ``own < best - slack_amount`` (strictly: equal is kept). Azure's docs compare "the best
    metric" of the run, hence ``own`` is a running best too, so one noisy epoch does not stop
    a good trial. With no other reports yet nothing is pruned.

    Example:
        .. testcode::

            import optuna
            from automl_nb.sweep import BanditPruner

            study = optuna.create_study(direction="maximize", pruner=BanditPruner(slack_factor=0.1))
            good = study.ask()
            good.report(0.9, step=1)
            bad = study.ask()
            bad.report(0.5, step=1)
            assert bad.should_prune() and not good.should_prune()

    Args:
        slack_factor: Allowed ratio below the best (``0.1``: stop below ``best / 1.1``).
        slack_amount: Allowed absolute distance below the best. Give one of the two (both
            given: either rule stops the trial).
        evaluation_interval: Steps between evaluations.
        delay_evaluation: First step that may be evaluated.

    Raises:
        ConfigError: Neither slack is given, or one is negative.
    """

    parameters = ("slack_factor", "slack_amount", *PolicyPruner.parameters)

    def __init__(
        self,
        *,
        slack_factor: float | None = None,
        slack_amount: float | None = None,
        evaluation_interval: int = 1,
        delay_evaluation: int = 0,
    ) -> None:
        super().__init__(
            evaluation_interval=evaluation_interval, delay_evaluation=delay_evaluation
        )
        if slack_factor is None and slack_amount is None:
            raise ConfigError(
                Problem(
                    "bandit needs slack_factor or slack_amount", path="sweep.early_termination"
                )
            )
        for name, value in (("slack_factor", slack_factor), ("slack_amount", slack_amount)):
            if value is not None and value < 0:
                raise ConfigError(
                    Problem(
                        "must be >= 0", path=f"sweep.early_termination.{name}", value=repr(value)
                    )
                )
        self.slack_factor = slack_factor
        self.slack_amount = slack_amount

    def _cut_line(self, step: int, others: list[tuple[Any, dict[int, float]]]) -> float | None:
        best = max((v for _, vals in others for s, v in vals.items() if s <= step), default=None)
        if best is None:
            return None
        lines = []
        if self.slack_factor is not None:
            lines.append(best / (1.0 + self.slack_factor))
        if self.slack_amount is not None:
            lines.append(best - self.slack_amount)
        return max(lines)

    def _should_prune(
        self, step: int, values: dict[int, float], others: list[tuple[Any, dict[int, float]]]
    ) -> bool:
        own = max(v for s, v in values.items() if s <= step)
        best = max((v for _, vals in others for s, v in vals.items() if s <= step), default=None)
        if best is None:
            return False
        if self.slack_factor is not None and own < best / (1.0 + self.slack_factor):
            return True
        return self.slack_amount is not None and own < best - self.slack_amount
