from __future__ import annotations

import optuna
import pytest

from automl_nb.config import load_job
from automl_nb.sweep import BanditPruner
from automl_nb.sweep import GridSearchSampler
from automl_nb.sweep import MedianStoppingPruner
from automl_nb.sweep import TruncationSelectionPruner
from automl_nb.sweep import create_study_components

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _job(**extra):
    job = {
        "task": "image_classification",
        "primary_metric": "accuracy",
        "target_column_name": "label",
        "training_data": {"path": "train.jsonl", "type": "uri_file"},
    }
    job.update(extra)
    return load_job(job)


def _study(plan):
    return optuna.create_study(direction=plan.direction, sampler=plan.sampler, pruner=plan.pruner)


def test_grid_job_plans_its_grid_and_policy() -> None:
    spec = _job(
        limits={"max_trials": 10, "max_concurrent_trials": 2},
        sweep={
            "sampling_algorithm": "grid",
            "early_termination": {"type": "bandit", "slack_factor": 0.1, "delay_evaluation": 2},
        },
        search_space=[
            {
                "model_name": {"type": "choice", "values": ["resnet18"]},
                "learning_rate": {"type": "choice", "values": [0.01, 0.001]},
            },
            {"model_name": "mobilenetv2", "learning_rate": {"type": "choice", "values": [0.01]}},
        ],
    )
    plan = create_study_components(spec)
    assert plan.direction == "maximize" and not plan.automode
    assert isinstance(plan.sampler, GridSearchSampler)
    assert plan.grid_size == 3 and plan.n_trials == 3  # max_trials 10 stops at the grid
    assert isinstance(plan.pruner, BanditPruner) and plan.pruner.delay_evaluation == 2
    assert plan.first_trial_params is None
    study = _study(plan)
    assert not plan.enqueue_first_trial(study)
    seen = []
    for _ in range(plan.n_trials):
        trial = study.ask()
        seen.append(plan.suggest(trial))
        study.tell(trial, 0.5)
    assert sorted((p["model_name"], p["learning_rate"]) for p in seen) == [
        ("mobilenetv2", 0.01),
        ("resnet18", 0.001),
        ("resnet18", 0.01),
    ]


def test_automode_job_runs_the_default_model_first() -> None:
    spec = _job(
        limits={"max_trials": 4},
        sweep={"sampling_algorithm": "random", "early_termination": {"type": "median_stopping"}},
    )
    plan = create_study_components(spec, seed=1)
    assert plan.automode and plan.sampling_algorithm == "random"
    assert len(plan.search_space) == 3  # max_trials - 1 sub-spaces
    assert isinstance(plan.pruner, MedianStoppingPruner)
    study = _study(plan)
    assert plan.enqueue_first_trial(study)
    assert not plan.enqueue_first_trial(study)  # resume-safe
    params = []
    for _ in range(4):
        trial = study.ask()
        params.append(plan.suggest(trial))
        study.tell(trial, 0.5)
    assert params[0] == {"model_name": "vitb16r224"}
    assert all("learning_rate" in p for p in params[1:])
    assert not plan.enqueue_first_trial(study)


def test_single_trial_job_samples_nothing() -> None:
    plan = create_study_components(_job())
    assert not plan.automode and plan.n_trials == 1 and plan.search_space == ()
    assert isinstance(plan.pruner, optuna.pruners.NopPruner)
    study = _study(plan)
    assert plan.suggest(study.ask()) == {}


def test_seed_defaults_to_the_training_random_seed() -> None:
    space = [
        {
            "model_name": "resnet18",
            "learning_rate": {"type": "uniform", "min_value": 0.001, "max_value": 0.1},
        }
    ]
    runs = []
    for _ in range(2):
        spec = _job(
            limits={"max_trials": 3},
            sweep={"sampling_algorithm": "random"},
            search_space=space,
            training_parameters={"random_seed": 5},
        )
        plan = create_study_components(spec)
        study = _study(plan)
        runs.append([plan.suggest(study.ask())["learning_rate"] for _ in range(3)])
    assert runs[0] == runs[1]


@pytest.mark.parametrize(
    "policy",
    [
        {"type": "bandit", "slack_factor": 0.2, "delay_evaluation": 2},
        {"type": "median_stopping", "delay_evaluation": 2},
        {"type": "truncation_selection", "truncation_percentage": 50, "delay_evaluation": 2},
    ],
)
def test_each_policy_prunes_a_deliberately_bad_sub_space(policy) -> None:
    spec = _job(
        limits={"max_trials": 8},
        sweep={"sampling_algorithm": "grid", "early_termination": policy},
        search_space=[
            {
                "model_name": "resnet18",
                "learning_rate": {"type": "choice", "values": [0.01, 0.02, 0.03, 0.04]},
            },
            {
                "model_name": "mobilenetv2",
                "learning_rate": {"type": "choice", "values": [0.5, 0.6, 0.7, 0.8]},
            },
        ],
    )
    plan = create_study_components(spec)
    assert isinstance(plan.pruner, (BanditPruner, MedianStoppingPruner, TruncationSelectionPruner))
    study = _study(plan)
    # Good trials first, as a sweep's early trials would establish the reference.
    states = {}
    for _ in range(plan.n_trials):
        trial = study.ask()
        params = plan.suggest(trial)
        good = params["model_name"] == "resnet18"
        for epoch in range(1, 6):
            value = (0.8 if good else 0.2) + 0.01 * epoch
            trial.report(value, epoch)
            if trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
        else:
            study.tell(trial, value)
        states[(params["model_name"], params["learning_rate"])] = study.trials[-1].state
    for (model, _), state in states.items():
        expected = "COMPLETE" if model == "resnet18" else "PRUNED"
        assert state.name == expected
