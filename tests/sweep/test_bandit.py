from __future__ import annotations

import math

import optuna
import pytest

from automl_nb.config import BanditPolicy
from automl_nb.errors import ConfigError
from automl_nb.sweep import BanditPruner
from automl_nb.sweep import create_pruner
from automl_nb.testing.pruners import finish_trial
from automl_nb.testing.pruners import prune_decisions
from automl_nb.testing.pruners import pruned_at
from automl_nb.testing.pruners import pruner_study
from automl_nb.testing.pruners import study_of_histories

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _study(pruner):
    return pruner_study(pruner)


def test_a_trial_alone_is_never_pruned() -> None:
    study = _study(BanditPruner(slack_factor=0.0))
    assert prune_decisions(study, [0.1, 0.0, 0.05]) == [False, False, False]


@pytest.mark.parametrize(("value", "pruned"), [(0.90, True), (0.91, False), (1.2, False)])
def test_slack_factor_compares_with_best_over_one_plus_slack(value, pruned) -> None:
    study = _study(BanditPruner(slack_factor=0.1))
    finish_trial(study, [1.0])
    # 1.0 / 1.1 = 0.909...
    assert prune_decisions(study, [value]) == [pruned]


@pytest.mark.parametrize(("value", "pruned"), [(0.4375, True), (0.5, False), (0.5625, False)])
def test_slack_amount_compares_with_best_minus_amount(value, pruned) -> None:
    study = _study(BanditPruner(slack_amount=0.25))
    finish_trial(study, [0.75])
    # 0.75 - 0.25 = 0.5 exactly; equal is kept.
    assert prune_decisions(study, [value]) == [pruned]


def test_slack_amount_and_slack_factor_differ_on_the_same_history() -> None:
    # Best 0.5: slack_factor 0.5 allows down to 0.333, slack_amount 0.1 down to 0.4.
    by_factor = _study(BanditPruner(slack_factor=0.5))
    by_amount = _study(BanditPruner(slack_amount=0.1))
    for study in (by_factor, by_amount):
        finish_trial(study, [0.5])
    assert prune_decisions(by_factor, [0.35]) == [False]
    assert prune_decisions(by_amount, [0.35]) == [True]


def test_best_is_taken_at_the_same_step() -> None:
    study = _study(BanditPruner(slack_factor=0.1))
    finish_trial(study, [0.2, 0.9, 0.3])
    # Step 1: best 0.2, 0.19 is within slack. Step 2: best 0.9, own best 0.5 is not.
    assert prune_decisions(study, [0.19, 0.5]) == [False, True]


def test_a_shorter_trial_counts_with_its_latest_best() -> None:
    study = _study(BanditPruner(slack_factor=0.1))
    finish_trial(study, [0.5, 0.9])  # finished after two reports
    # There is no report at step 3 from the other trial; its best up to step 3 is 0.9.
    assert prune_decisions(study, [0.5, 0.85, 0.85]) == [False, False, False]
    assert prune_decisions(study, [0.5, 0.5, 0.8]) == [False, True, True]


def test_the_trial_is_judged_by_its_best_so_far() -> None:
    study = _study(BanditPruner(slack_factor=0.1))
    finish_trial(study, [0.9, 0.9, 0.9])
    # A dip to 0.5 at step 2 keeps the trial: its best (0.9) is within slack.
    assert prune_decisions(study, [0.9, 0.5, 0.5]) == [False, False, False]


def test_running_trials_count_too() -> None:
    study = _study(BanditPruner(slack_factor=0.1))
    leader = study.ask()
    leader.report(0.9, 1)
    follower = study.ask()
    follower.report(0.5, 1)
    assert follower.should_prune()
    assert not leader.should_prune()


@pytest.mark.parametrize(
    ("interval", "delay", "evaluated"),
    [
        (1, 0, [1, 2, 3, 4, 5, 6, 7]),
        (2, 0, [2, 4, 6]),
        (1, 3, [3, 4, 5, 6, 7]),
        (2, 3, [4, 6]),
        (3, 6, [6]),
        (0, 0, [1, 2, 3, 4, 5, 6, 7]),  # 0 (Azure SDK v2 default) means every report
    ],
)
def test_evaluation_interval_and_delay(interval, delay, evaluated) -> None:
    pruner = BanditPruner(slack_factor=0.1, evaluation_interval=interval, delay_evaluation=delay)
    study = _study(pruner)
    finish_trial(study, [1.0] * 7)
    decisions = prune_decisions(study, [0.1] * 7)
    assert [step for step, pruned in enumerate(decisions, start=1) if pruned] == evaluated


def test_nan_is_pruned_at_an_evaluation_and_ignored_in_others() -> None:
    study = _study(BanditPruner(slack_factor=0.1))
    finish_trial(study, [float("nan"), 0.5])
    assert prune_decisions(study, [0.1, float("nan")]) == [False, True]


def test_create_pruner_from_the_config_policy() -> None:
    policy = BanditPolicy(slack_amount=0.2, evaluation_interval=2, delay_evaluation=4)
    pruner = create_pruner(policy)
    assert isinstance(pruner, BanditPruner)
    assert (pruner.slack_amount, pruner.slack_factor) == (0.2, None)
    assert (pruner.evaluation_interval, pruner.delay_evaluation) == (2, 4)
    assert create_pruner({"type": "bandit", "slack_factor": 0.3}).slack_factor == 0.3


def test_bandit_needs_a_slack() -> None:
    with pytest.raises(ConfigError, match="slack_factor or slack_amount"):
        BanditPruner()
    with pytest.raises(ConfigError, match="slack_factor"):
        BanditPruner(slack_factor=-1.0)


def test_bandit_inside_optimize_prunes_the_bad_sub_space() -> None:
    study = _study(BanditPruner(slack_factor=0.2, delay_evaluation=2))

    def objective(trial):
        good = trial.suggest_categorical("model", ["good", "bad"]) == "good"
        for epoch in range(1, 6):
            value = (0.9 if good else 0.3) * (1 - math.exp(-epoch))
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    study.enqueue_trial({"model": "good"})
    study.optimize(objective, n_trials=8)
    for trial in study.trials:
        if trial.params["model"] == "bad":
            assert trial.state == optuna.trial.TrialState.PRUNED
            assert trial.last_step == 2
        else:
            assert trial.state == optuna.trial.TrialState.COMPLETE


HISTORIES = [{1: 0.5, 2: 0.8}, {1: 0.6}, {1: 0.3, 2: 0.4, 3: 0.9}]


@pytest.mark.parametrize(
    "pruner",
    [
        BanditPruner(slack_factor=0.25),
        BanditPruner(slack_amount=0.1),
        BanditPruner(slack_factor=0.5, slack_amount=0.05),
        BanditPruner(slack_amount=0.1, delay_evaluation=2),
    ],
)
@pytest.mark.parametrize("step", [1, 2, 3])
def test_cut_line_is_where_should_prune_flips(pruner, step) -> None:
    line = pruner.cut_line(study_of_histories(pruner, HISTORIES), step)
    if step < pruner.delay_evaluation:
        assert line is None
        assert not pruned_at(study_of_histories(pruner, HISTORIES), step, -100.0)
        return
    best = max(v for h in HISTORIES for s, v in h.items() if s <= step)
    assert line is not None and line < best
    assert pruned_at(study_of_histories(pruner, HISTORIES), step, line - 1e-6)
    assert not pruned_at(study_of_histories(pruner, HISTORIES), step, line + 1e-6)
    assert not pruned_at(study_of_histories(pruner, HISTORIES), step, line)  # equal is kept


def test_cut_line_of_a_trial_in_the_study_leaves_it_out() -> None:
    pruner = BanditPruner(slack_amount=0.1)
    study = study_of_histories(pruner, HISTORIES)
    running = study.get_trials()[-1]  # reported 0.3, 0.4, 0.9; the others' best by 2 is 0.8
    assert pruner.cut_line(study, 2, trial=running) == pytest.approx(0.7)
    assert pruner.cut_line(study, 2) == pytest.approx(0.7)
    assert pruner.cut_line(study, 3, trial=running) == pytest.approx(0.7)
    assert pruner.cut_line(study, 3) == pytest.approx(0.8)  # with its 0.9 at step 3
    assert pruner.prune(study, running) is False  # its best 0.9 is above 0.7
    assert pruner.cut_line(_study(pruner), 1) is None  # alone: nothing is cut
