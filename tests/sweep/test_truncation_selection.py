from __future__ import annotations

import optuna
import pytest

from automl_nb.config import TruncationSelectionPolicy
from automl_nb.errors import ConfigError
from automl_nb.sweep import TruncationSelectionPruner
from automl_nb.sweep import create_pruner
from automl_nb.testing.pruners import finish_trial
from automl_nb.testing.pruners import prune_decisions
from automl_nb.testing.pruners import pruned_at
from automl_nb.testing.pruners import pruner_study
from automl_nb.testing.pruners import running_trial

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _study(percentage, **kwargs):
    return pruner_study(TruncationSelectionPruner(truncation_percentage=percentage, **kwargs))


def test_a_trial_alone_is_never_pruned() -> None:
    assert prune_decisions(_study(99), [0.0, 0.0]) == [False, False]


@pytest.mark.parametrize(("value", "pruned"), [(0.5, True), (0.75, False), (0.95, False)])
def test_the_lowest_percentage_at_the_step_is_cut(value, pruned) -> None:
    study = _study(25)
    for history in ([0.9], [0.8], [0.7]):
        finish_trial(study, history)
    # n = 4 ranked, floor(4 * 25 %) = 1 cut: only the lowest.
    assert prune_decisions(study, [value]) == [pruned]


def test_the_cut_is_rounded_down() -> None:
    study = _study(30)
    for history in ([0.9], [0.8]):
        finish_trial(study, history)
    # n = 3: floor(0.9) = 0, nothing is cut even for the worst.
    assert prune_decisions(study, [0.1]) == [False]
    # n = 4 (the trial above still runs): floor(1.2) = 1.
    assert prune_decisions(study, [0.05]) == [True]


def test_ties_favour_the_trial() -> None:
    study = _study(50)
    for _ in range(3):
        finish_trial(study, [0.5])
    assert prune_decisions(study, [0.5]) == [False]


def test_ranks_by_the_value_at_the_step_not_the_best() -> None:
    study = _study(50)
    finish_trial(study, [0.1, 0.6])
    # Step 1: 0.2 beats 0.1. Step 2: 0.3 is below 0.6.
    assert prune_decisions(study, [0.2, 0.3]) == [False, True]
    study2 = _study(50)
    finish_trial(study2, [0.1, 0.2])
    # A trial that drops below another at the step is cut even though its best is higher.
    assert prune_decisions(study2, [0.9, 0.15]) == [False, True]


def test_only_trials_that_reached_the_step_are_ranked() -> None:
    study = _study(50)
    finish_trial(study, [0.9])  # finished after one report: not ranked at step 2
    assert prune_decisions(study, [0.1, 0.1]) == [True, False]


def test_exclude_finished_jobs_ranks_running_trials_only() -> None:
    included = _study(50)
    excluded = _study(50, exclude_finished_jobs=True)
    for study in (included, excluded):
        for _ in range(3):
            finish_trial(study, [0.9])
    assert prune_decisions(included, [0.1]) == [True]
    assert prune_decisions(excluded, [0.1]) == [False]
    # A running, better trial is still ranked with exclude_finished_jobs.
    fresh = _study(50, exclude_finished_jobs=True)
    finish_trial(fresh, [0.1])
    running_trial(fresh, [0.9])
    assert prune_decisions(fresh, [0.5]) == [True]


@pytest.mark.parametrize(
    ("interval", "delay", "evaluated"), [(1, 0, [1, 2, 3, 4]), (2, 0, [2, 4]), (1, 3, [3, 4])]
)
def test_evaluation_interval_and_delay(interval, delay, evaluated) -> None:
    study = _study(50, evaluation_interval=interval, delay_evaluation=delay)
    finish_trial(study, [1.0] * 4)
    decisions = prune_decisions(study, [0.0] * 4)
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


def _study_of(pruner, histories):
    """A study of ``(values at steps 1, 2, ..., finished?)`` trials."""
    study = pruner_study(pruner)
    for values, finished in histories:
        (finish_trial if finished else running_trial)(study, values)
    return study


HISTORIES = [
    ([0.5, 0.8], True),
    ([0.6, 0.6], True),
    ([0.2], True),
    ([0.7, 0.3], False),
    ([0.1, 0.9, 0.4], False),
]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"truncation_percentage": 40},
        {"truncation_percentage": 25},
        {"truncation_percentage": 60, "exclude_finished_jobs": True},
        {"truncation_percentage": 34, "delay_evaluation": 2},
    ],
)
@pytest.mark.parametrize("step", [1, 2, 3])
def test_cut_line_is_where_should_prune_flips(kwargs, step) -> None:
    pruner = TruncationSelectionPruner(**kwargs)
    line = pruner.cut_line(_study_of(pruner, HISTORIES), step)
    if line is None:
        # Nothing is cut here: not even the lowest value.
        assert not pruned_at(_study_of(pruner, HISTORIES), step, -100.0)
        return
    assert pruned_at(_study_of(pruner, HISTORIES), step, line - 1e-6)
    assert not pruned_at(_study_of(pruner, HISTORIES), step, line + 1e-6)
    assert not pruned_at(_study_of(pruner, HISTORIES), step, line)  # ties favour the trial


def test_cut_line_values() -> None:
    pruner = TruncationSelectionPruner(truncation_percentage=40)
    study = _study_of(pruner, HISTORIES)
    # step 1: the trial and 5 peers, floor(6 * 0.4) = 2 cut: below the 4th best peer, 0.2.
    assert pruner.cut_line(study, 1) == pytest.approx(0.2)
    # step 2: 4 peers (0.9, 0.8, 0.6, 0.3), n = 5, 2 cut: below the 3rd best, 0.6.
    assert pruner.cut_line(study, 2) == pytest.approx(0.6)
    # step 3: one peer, n = 2, nothing cut.
    assert pruner.cut_line(study, 3) is None
    running = study.get_trials()[-1]  # 0.9 at step 2; ranked without itself: n = 4, 1 cut
    assert pruner.cut_line(study, 2, trial=running) == pytest.approx(0.3)
    excluding = TruncationSelectionPruner(truncation_percentage=60, exclude_finished_jobs=True)
    # Only the two running trials rank at step 2: n = 3, 1 cut: below the 2nd best, 0.3.
    assert excluding.cut_line(_study_of(excluding, HISTORIES), 2) == pytest.approx(0.3)
