from __future__ import annotations

import optuna
import pytest

from automl_nb.config import TruncationSelectionPolicy
from automl_nb.errors import ConfigError
from automl_nb.sweep import TruncationSelectionPruner
from automl_nb.sweep import create_pruner

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _study(percentage, **kwargs):
    pruner = TruncationSelectionPruner(truncation_percentage=percentage, **kwargs)
    return optuna.create_study(direction="maximize", pruner=pruner)


def _finished(study, values):
    trial = study.ask()
    for step, value in enumerate(values, start=1):
        trial.report(value, step)
    study.tell(trial, values[-1])


def _running(study, values):
    trial = study.ask()
    for step, value in enumerate(values, start=1):
        trial.report(value, step)
    return trial


def _decisions(study, values):
    trial = study.ask()
    out = []
    for step, value in enumerate(values, start=1):
        trial.report(value, step)
        out.append(trial.should_prune())
    return out


def test_a_trial_alone_is_never_pruned() -> None:
    assert _decisions(_study(99), [0.0, 0.0]) == [False, False]


@pytest.mark.parametrize(("value", "pruned"), [(0.5, True), (0.75, False), (0.95, False)])
def test_the_lowest_percentage_at_the_step_is_cut(value, pruned) -> None:
    study = _study(25)
    for history in ([0.9], [0.8], [0.7]):
        _finished(study, history)
    # n = 4 ranked, floor(4 * 25 %) = 1 cut: only the lowest.
    assert _decisions(study, [value]) == [pruned]


def test_the_cut_is_rounded_down() -> None:
    study = _study(30)
    for history in ([0.9], [0.8]):
        _finished(study, history)
    # n = 3: floor(0.9) = 0, nothing is cut even for the worst.
    assert _decisions(study, [0.1]) == [False]
    # n = 4 (the trial above still runs): floor(1.2) = 1.
    assert _decisions(study, [0.05]) == [True]


def test_ties_favour_the_trial() -> None:
    study = _study(50)
    for _ in range(3):
        _finished(study, [0.5])
    assert _decisions(study, [0.5]) == [False]


def test_ranks_by_the_value_at_the_step_not_the_best() -> None:
    study = _study(50)
    _finished(study, [0.1, 0.6])
    # Step 1: 0.2 beats 0.1. Step 2: 0.3 is below 0.6.
    assert _decisions(study, [0.2, 0.3]) == [False, True]
    study2 = _study(50)
    _finished(study2, [0.1, 0.2])
    # A trial that drops below another at the step is cut even though its best is higher.
    assert _decisions(study2, [0.9, 0.15]) == [False, True]


def test_only_trials_that_reached_the_step_are_ranked() -> None:
    study = _study(50)
    _finished(study, [0.9])  # finished after one report: not ranked at step 2
    assert _decisions(study, [0.1, 0.1]) == [True, False]


def test_exclude_finished_jobs_ranks_running_trials_only() -> None:
    included = _study(50)
    excluded = _study(50, exclude_finished_jobs=True)
    for study in (included, excluded):
        for _ in range(3):
            _finished(study, [0.9])
    assert _decisions(included, [0.1]) == [True]
    assert _decisions(excluded, [0.1]) == [False]
    # A running, better trial is still ranked with exclude_finished_jobs.
    fresh = _study(50, exclude_finished_jobs=True)
    _finished(fresh, [0.1])
    _running(fresh, [0.9])
    assert _decisions(fresh, [0.5]) == [True]


@pytest.mark.parametrize(
    ("interval", "delay", "evaluated"), [(1, 0, [1, 2, 3, 4]), (2, 0, [2, 4]), (1, 3, [3, 4])]
)
def test_evaluation_interval_and_delay(interval, delay, evaluated) -> None:
    study = _study(50, evaluation_interval=interval, delay_evaluation=delay)
    _finished(study, [1.0] * 4)
    decisions = _decisions(study, [0.0] * 4)
    assert [step for step, pruned in enumerate(decisions, start=1) if pruned] == evaluated


def test_create_pruner_from_the_config_policy() -> None:
    policy = TruncationSelectionPolicy(
        truncation_percentage=20,
        evaluation_interval=1,
        delay_evaluation=5,
        exclude_finished_jobs=True,
    )
    pruner = create_pruner(policy)
    assert isinstance(pruner, TruncationSelectionPruner)
    assert pruner.truncation_percentage == 20 and pruner.exclude_finished_jobs
    assert pruner.delay_evaluation == 5


def test_percentage_bounds_and_unknown_policies() -> None:
    with pytest.raises(ConfigError, match="truncation_percentage"):
        TruncationSelectionPruner(truncation_percentage=100)
    with pytest.raises(ConfigError, match="did you mean 'truncation_selection'"):
        create_pruner({"type": "truncation"})
    assert isinstance(create_pruner(None), optuna.pruners.NopPruner)
