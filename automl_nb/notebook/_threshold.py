"""Where the early-termination policy draws its line, for the dashboard's plot.

Pure functions of the per-epoch primary metric of every trial (maximised), mirroring the
pruners of :mod:`automl_nb.sweep` without importing Optuna.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from typing import Any

Curves = Mapping[int, Mapping[int, float]]


def is_evaluation_step(policy: Any, step: int) -> bool:
    """True when ``policy`` acts after epoch ``step``."""
    interval = max(1, int(getattr(policy, "evaluation_interval", 1) or 1))
    delay = max(0, int(getattr(policy, "delay_evaluation", 0) or 0))
    return step >= max(1, delay) and step % interval == 0


def threshold_at(policy: Any, step: int, curves: Curves) -> float | None:
    """The value a trial must reach at ``step`` to survive ``policy`` (None: no cut).

    - bandit: the best value so far over all trials, less the slack
      (``best / (1 + slack_factor)`` or ``best - slack_amount``);
    - median stopping: the median of the trials' running averages up to ``step``;
    - truncation selection: the highest value among the lowest ``truncation_percentage`` %
      of the values reported at exactly ``step``.
    """
    kind = getattr(policy, "type", None)
    upto = [[v for s, v in values.items() if s <= step] for values in curves.values()]
    upto = [vals for vals in upto if vals]
    if not upto:
        return None
    if kind == "bandit":
        best = max(max(vals) for vals in upto)
        lines = []
        if policy.slack_factor is not None:
            lines.append(best / (1.0 + policy.slack_factor))
        if policy.slack_amount is not None:
            lines.append(best - policy.slack_amount)
        return max(lines) if lines else None
    if kind == "median_stopping":
        return statistics.median(statistics.fmean(vals) for vals in upto)
    if kind == "truncation_selection":
        at_step = sorted(values[step] for values in curves.values() if step in values)
        cut = math.floor(len(at_step) * policy.truncation_percentage / 100)
        return at_step[cut - 1] if cut > 0 else None
    return None


def termination_threshold(policy: Any, curves: Curves) -> list[tuple[int, float]]:
    """``[(epoch, threshold), ...]`` at every evaluation step with trials reported.

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
    steps = sorted({s for values in curves.values() for s in values})
    points = []
    for step in steps:
        if not is_evaluation_step(policy, step):
            continue
        value = threshold_at(policy, step, curves)
        if value is not None:
            points.append((step, round(value, 12)))
    return points
