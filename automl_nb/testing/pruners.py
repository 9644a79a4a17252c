"""Optuna studies for testing early-termination policies: trials that report a history.

Example:
    >>> from automl_nb.sweep import BanditPruner
    >>> study = pruner_study(BanditPruner(slack_factor=0.1))
    >>> finish_trial(study, [1.0])
    >>> prune_decisions(study, [0.95]), prune_decisions(study, [0.5])
    ([False], [True])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def pruner_study(pruner: Any = None, *, quiet: bool = True) -> Any:
    """An in-memory study that maximises, with ``pruner`` (Optuna's default when None)."""
    import optuna

    if quiet:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(direction="maximize", pruner=pruner)


def running_trial(study: Any, values: Sequence[float]) -> Any:
    """A new trial that reported ``values`` at steps 1, 2, ... and is still running."""
    trial = study.ask()
    for step, value in enumerate(values, start=1):
        trial.report(value, step)
    return trial


def finish_trial(study: Any, values: Sequence[float], state: Any = None) -> None:
    """A trial that reported ``values`` at steps 1, 2, ... and ended in ``state``
    (completed with its last value by default)."""
    import optuna

    state = state or optuna.trial.TrialState.COMPLETE
    trial = running_trial(study, values)
    complete = state == optuna.trial.TrialState.COMPLETE
    study.tell(trial, values[-1] if complete else None, state=state)


def prune_decisions(study: Any, values: Sequence[float]) -> list[bool]:
    """``should_prune()`` after each report of a new trial that goes on regardless."""
    trial = study.ask()
    out = []
    for step, value in enumerate(values, start=1):
        trial.report(value, step)
        out.append(trial.should_prune())
    return out


def study_of_histories(pruner: Any, histories: Sequence[dict[int, float]]) -> Any:
    """A study holding ``histories`` (``{step: value}`` each); the last one stays running,
    the others completed with their best value."""
    study = pruner_study(pruner)
    for number, history in enumerate(histories):
        trial = study.ask()
        for step, value in history.items():
            trial.report(value, step)
        if number < len(histories) - 1:
            study.tell(trial, max(history.values()))
    return study


def pruned_at(study: Any, step: int, value: float) -> bool:
    """Whether a new trial of ``study`` whose first report is ``value`` at ``step`` is
    pruned (for instance after :func:`study_of_histories`)."""
    trial = study.ask()
    trial.report(value, step)
    return bool(trial.should_prune())
