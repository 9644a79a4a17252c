"""``median_stopping``: stop a trial whose best is below the median of running averages."""

from __future__ import annotations

import statistics
from typing import Any

from automl_nb.sweep._policy_base import PolicyPruner
from automl_nb.sweep._policy_base import register_policy


@register_policy("median_stopping")
class MedianStoppingPruner(PolicyPruner):
    """Azure's median stopping policy on a maximised metric.

    At an evaluation step ``s`` (see :class:`PolicyPruner`), each *other* trial with reports at
    steps ``<= s`` contributes its running average (the mean of those reports). The trial is
    pruned when its best value at steps ``<= s`` is strictly below the median of these
    averages. With no other trial reporting yet nothing is pruned.

    Example:
        .. testcode::

            import optuna
            from automl_nb.sweep import MedianStoppingPruner

            study = optuna.create_study(direction="maximize", pruner=MedianStoppingPruner())
            for value in (0.8, 0.6):
                done = study.ask()
                done.report(value, step=1)
                study.tell(done, value)
            trial = study.ask()
            trial.report(0.5, step=1)
            assert trial.should_prune()  # 0.5 < median(0.8, 0.6) = 0.7

    Args:
        evaluation_interval: Steps between evaluations.
        delay_evaluation: First step that may be evaluated.
    """

    def _cut_line(self, step: int, others: list[tuple[Any, dict[int, float]]]) -> float | None:
        averages = [
            statistics.fmean(upto)
            for upto in ([v for s, v in vals.items() if s <= step] for _, vals in others)
            if upto
        ]
        return statistics.median(averages) if averages else None

    def _should_prune(
        self, step: int, values: dict[int, float], others: list[tuple[Any, dict[int, float]]]
    ) -> bool:
        averages = []
        for _, vals in others:
            upto = [v for s, v in vals.items() if s <= step]
            if upto:
                averages.append(statistics.fmean(upto))
        if not averages:
            return False
        own_best = max(v for s, v in values.items() if s <= step)
        return own_best < statistics.median(averages)
