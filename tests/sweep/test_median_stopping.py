from __future__ import annotations

import statistics

import optuna
import pytest

from automl_nb.config import MedianStoppingPolicy
from automl_nb.sweep import MedianStoppingPruner
from automl_nb.sweep import create_pruner
from automl_nb.testing.pruners import finish_trial
from automl_nb.testing.pruners import prune_decisions
from automl_nb.testing.pruners import pruned_at
from automl_nb.testing.pruners import pruner_study
from automl_nb.testing.pruners import study_of_histories

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _study(pruner=None):
    return pruner_study(pruner or MedianStoppingPruner())


def test_a_trial_alone_is_never_pruned() -> None:
    assert prune_decisions(_study(), [0.0, 0.0]) == [False, False]


@pytest.mark.parametrize(
    ("own", "pruned_at_2"),
    [([0.6, 0.7], False), ([0.5, 0.6], True), ([0.65, 0.65], False), ([0.9, 0.1], False)],
)
def test_best_so_far_against_the_median_of_running_averages(own, pruned_at_2) -> None:
    study = _study(MedianStoppingPruner(delay_evaluation=2))
    finish_trial(study, [0.8, 0.8])  # running average at step 2: 0.8
    finish_trial(study, [0.4, 0.6])  # running average at step 2: 0.5
    # median(0.8, 0.5) = 0.65; equal is kept; a dip after a good best is kept.
    assert prune_decisions(study, own) == [False, pruned_at_2]


def test_running_averages_only_use_steps_up_to_the_evaluation() -> None:
    study = _study()
    finish_trial(study, [0.1, 1.0, 1.0])
    finish_trial(study, [0.3, 1.0, 1.0])
    # Step 1: median(0.1, 0.3) = 0.2. Step 2: median(0.55, 0.65) = 0.6.
    assert prune_decisions(study, [0.25, 0.5]) == [False, True]


def test_averages_are_running_means_not_last_values() -> None:
    study = _study(MedianStoppingPruner(delay_evaluation=3))
    finish_trial(study, [0.0, 0.0, 0.9])  # last 0.9, running average 0.3
    assert prune_decisions(study, [0.35, 0.35, 0.35]) == [False, False, False]


def test_pruned_and_running_trials_count() -> None:
    study = _study()
    finish_trial(study, [0.9], state=optuna.trial.TrialState.PRUNED)
    running = study.ask()
    running.report(0.7, 1)
    # median(0.9, 0.7) = 0.8
    assert prune_decisions(study, [0.75]) == [True]


@pytest.mark.parametrize(
    ("interval", "delay", "evaluated"),
    [(1, 0, [1, 2, 3, 4, 5, 6]), (2, 0, [2, 4, 6]), (1, 4, [4, 5, 6]), (4, 1, [4])],
)
def test_evaluation_interval_and_delay(interval, delay, evaluated) -> None:
    study = _study(MedianStoppingPruner(evaluation_interval=interval, delay_evaluation=delay))
    finish_trial(study, [1.0] * 6)
    decisions = prune_decisions(study, [0.0] * 6)
    assert [step for step, pruned in enumerate(decisions, start=1) if pruned] == evaluated


def test_create_pruner_from_the_config_policy() -> None:
    pruner = create_pruner(MedianStoppingPolicy(evaluation_interval=3, delay_evaluation=5))
    assert isinstance(pruner, MedianStoppingPruner)
    assert (pruner.evaluation_interval, pruner.delay_evaluation) == (3, 5)
    assert isinstance(create_pruner("median_stopping"), MedianStoppingPruner)


HISTORIES = [{1: 0.5, 2: 0.8, 3: 0.9}, {1: 0.6, 2: 0.6}, {1: 0.2}, {1: 0.7, 2: 0.1, 3: 0.4}]


@pytest.mark.parametrize(
    "pruner", [MedianStoppingPruner(), MedianStoppingPruner(evaluation_interval=2)]
)
@pytest.mark.parametrize("step", [1, 2, 3])
def test_cut_line_is_where_should_prune_flips(pruner, step) -> None:
    line = pruner.cut_line(study_of_histories(pruner, HISTORIES), step)
    if step % pruner.evaluation_interval:
        assert line is None
        assert not pruned_at(study_of_histories(pruner, HISTORIES), step, -100.0)
        return
    averages = [
        statistics.fmean(v for s, v in h.items() if s <= step)
        for h in HISTORIES
        if any(s <= step for s in h)
    ]
    assert line == pytest.approx(statistics.median(averages))
    assert pruned_at(study_of_histories(pruner, HISTORIES), step, line - 1e-6)
    assert not pruned_at(study_of_histories(pruner, HISTORIES), step, line + 1e-6)


def test_cut_line_of_a_trial_in_the_study_leaves_it_out() -> None:
    pruner = MedianStoppingPruner()
    study = study_of_histories(pruner, HISTORIES)
    running = study.get_trials()[-1]
    # The others' running averages at 2: 0.65, 0.6, 0.2 -> 0.6; the trial's best, 0.7, is above.
    assert pruner.cut_line(study, 2, trial=running) == pytest.approx(0.6)
    assert pruner.prune(study, running) is False
    assert pruner.cut_line(_study(pruner), 1) is None
