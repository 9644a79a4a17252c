"""Where the early-termination policy draws its line, for the dashboard's plot.

The line is asked of the policy's own pruner (:meth:`automl_nb.sweep.PolicyPruner.cut_line`),
on an in-memory Optuna study holding the plotted curves, so the plot and the pruning decisions
cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Curves = Mapping[int, Mapping[int, float]]


def _study_of(pruner: Any, curves: Curves) -> Any:
    """An in-memory study with one running trial per curve."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    for _number, values in sorted(curves.items()):
        study.add_trial(
            optuna.trial.create_trial(
                state=optuna.trial.TrialState.RUNNING,
                intermediate_values={int(s): float(v) for s, v in values.items()},
            )
        )
    return study


def termination_threshold(policy: Any, curves: Curves) -> list[tuple[int, float]]:
    """``[(epoch, line), ...]``: at every evaluation step with trials reported, the value
    below which a trial reporting at that epoch is stopped (compared with every plotted trial).

    Args:
        policy: A :class:`~automl_nb.config.BanditPolicy`,
            :class:`~automl_nb.config.MedianStoppingPolicy`,
            :class:`~automl_nb.config.TruncationSelectionPolicy` or None (no line).
        curves: ``{trial number: {epoch: primary metric}}``.

    Example:
        >>> from automl_nb.config import BanditPolicy
        >>> termination_threshold(BanditPolicy(slack_amount=0.2), {0: {1: 0.5, 2: 0.9}})
        [(1, 0.3), (2, 0.7)]
    """
    if policy is None:
        return []
    from automl_nb.sweep import create_pruner

    pruner = create_pruner(policy)
    if not hasattr(pruner, "cut_line"):
        return []
    study = _study_of(pruner, curves)
    steps = sorted({int(s) for values in curves.values() for s in values})
    points = []
    for step in steps:
        value = pruner.cut_line(study, step)
        if value is not None:
            points.append((step, round(value, 12)))
    return points
